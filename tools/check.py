#!/usr/bin/env python3
"""Print the payment and refund records of the local stack as readable tables (``make check``).

    tools/check.py [--order ORDER_ID] [--limit N]

Tables are found through the deployed functions' environment (PAYMENT_TABLE_NAME / REFUND_TABLE_NAME) in the
emulator at ``AWS_ENDPOINT_URL``. Amounts are shown in major units of their currency (USD 4999 -> 49.99 USD,
JPY 5400 -> 5400 JPY, KWD 12345 -> 12.345 KWD). Newest records last.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from botocore.exceptions import BotoCoreError, ClientError  # noqa: E402
from localsvc_lib import (  # noqa: E402
    client,
    discover_stack,
    endpoint_from_env,
    format_money,
    format_table,
    records_for_order,
    region_from_env,
    scan_table,
)

PAYMENT_COLUMNS = ["orderId", "status", "amount", "refunded", "code", "transactionId", "published", "updatedAt"]
REFUND_COLUMNS = ["orderId", "status", "amount", "code", "reason", "transactionId", "published", "updatedAt"]


def payment_rows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for item in sorted(items, key=lambda i: str(i.get("createdAt", ""))):
        currency = str(item.get("currency", ""))
        refunded = item.get("refundedAmount", item.get("refundedMinorUnits"))
        rows.append(
            {
                "orderId": item.get("orderId"),
                "status": item.get("status"),
                "amount": format_money(int(item["amount"]), currency) if "amount" in item else None,
                "refunded": format_money(int(refunded), currency) if refunded and currency else None,
                "code": item.get("failureCode"),
                "transactionId": item.get("transactionId"),
                "published": item.get("published"),
                "updatedAt": item.get("updatedAt"),
            }
        )
    return rows


def refund_rows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for item in sorted(items, key=lambda i: str(i.get("createdAt", ""))):
        rows.append(
            {
                "orderId": item.get("orderId"),
                "status": item.get("status"),
                "amount": format_money(int(item["amount"]), str(item["currency"])) if "amount" in item else None,
                "code": item.get("failureCode"),
                "reason": item.get("reason"),
                "transactionId": item.get("transactionId"),
                "published": item.get("published"),
                "updatedAt": item.get("updatedAt"),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--order", action="append", help="only this order id (repeatable)")
    parser.add_argument("--limit", type=int, default=50, help="show the newest N records of each table")
    args = parser.parse_args(argv)
    endpoint, region = endpoint_from_env(), region_from_env()
    try:
        stack = discover_stack(endpoint, region)
        if not stack.payment_table or not stack.refund_table:
            print(f"error: no deployed payment functions at {endpoint}; run make deploy-local", file=sys.stderr)
            return 1
        ddb = client("dynamodb", endpoint, region)
        if args.order:
            payments = [i for o in args.order for i in records_for_order(ddb, stack.payment_table, o)]
            refunds = [i for o in args.order for i in records_for_order(ddb, stack.refund_table, o)]
        else:
            payments = scan_table(ddb, stack.payment_table)
            refunds = scan_table(ddb, stack.refund_table)
    except (BotoCoreError, ClientError) as exc:
        print(
            f"error: cannot read the tables at {endpoint}: {exc}\n  Is the emulator up? make emulator", file=sys.stderr
        )
        return 1
    print(f"Payments ({stack.payment_table}, {len(payments)} records)")
    print(format_table(payment_rows(payments)[-args.limit :], PAYMENT_COLUMNS))
    print()
    print(f"Refunds ({stack.refund_table}, {len(refunds)} records)")
    print(format_table(refund_rows(refunds)[-args.limit :], REFUND_COLUMNS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
