"""Print the payment and refund records of the local stack as readable tables (``make check``).

    python -m tools.devstack check [--order ORDER_ID] [--limit N]

Tables are found through the deployed functions' environment (PAYMENT_TABLE_NAME / REFUND_TABLE_NAME) in the
emulator at ``AWS_ENDPOINT_URL``. Amounts are shown in major units of their currency (USD 4999 -> 49.99 USD,
JPY 5400 -> 5400 JPY, KWD 12345 -> 12.345 KWD). Newest records last.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tools.devstack.aws import client, endpoint_from_env, region_from_env
from tools.devstack.output import format_money, format_table
from tools.devstack.stack import discover_stack
from tools.devstack.tables import records_for_order, scan_table

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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--order", action="append", help="only this order id (repeatable)")
    parser.add_argument("--limit", type=int, default=50, help="show the newest N records of each table")


def execute(args: argparse.Namespace) -> int:
    endpoint, region = endpoint_from_env(), region_from_env()
    try:
        stack = discover_stack(endpoint, region)
        if not stack.payment_table or not stack.refund_table:
            print(f"error: no deployed payment functions at {endpoint}; start the stack with make dev", file=sys.stderr)
            return 1
        ddb = client("dynamodb", endpoint, region)
        if args.order:
            payments = [i for o in args.order for i in records_for_order(ddb, stack.payment_table, o)]
            refunds = [i for o in args.order for i in records_for_order(ddb, stack.refund_table, o)]
        else:
            payments = scan_table(ddb, stack.payment_table)
            refunds = scan_table(ddb, stack.refund_table)
    except (BotoCoreError, ClientError) as exc:
        print(f"error: cannot read the tables at {endpoint}: {exc}\n  Start the stack with make dev", file=sys.stderr)
        return 1
    print(f"Payments ({stack.payment_table}, {len(payments)} records)")
    print(format_table(payment_rows(payments)[-args.limit :], PAYMENT_COLUMNS))
    print()
    print(f"Refunds ({stack.refund_table}, {len(refunds)} records)")
    print(format_table(refund_rows(refunds)[-args.limit :], REFUND_COLUMNS))
    return 0
