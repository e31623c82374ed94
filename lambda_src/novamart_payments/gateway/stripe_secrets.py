"""Stripe's secrets (the API key, the webhook signing secret, and the risk scorer's key) read from Secrets Manager
through Powertools Parameters, with a cache TTL: a rotated secret is picked up without a deploy, and no value is
ever logged.

A failed read is sorted by Secrets Manager's error code, never by the message's words: a code that says the
secret or its key is ours to fix (missing, access denied, not decryptable, a bad request) is our
misconfiguration (alarmed, never the customer's failure); anything else (throttling, a 5xx, the network) is
transient and retried.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from novamart_payments.gateway import GatewayMisconfigured, TransientGatewayError

#: Secrets Manager's error codes that no retry can fix (the secret, its policy or its KMS key is wrong). KMS's own
#: refusals reach Secrets Manager's caller as ``DecryptionFailure`` or ``AccessDeniedException``.
OUR_FAULT_CODES = frozenset(
    {
        "AccessDeniedException",
        "ResourceNotFoundException",
        "DecryptionFailure",
        "InvalidRequestException",
        "InvalidParameterException",
        "UnrecognizedClientException",
    }
)


@functools.cache
def _secrets_provider(timeout: float) -> Any:
    """Built from the process's one boto3 session: without one, Powertools makes a session of its own, which loads
    botocore's endpoint and partition data a second time on the first event (docs/performance.md, cold start)."""
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from botocore.config import Config as BotoConfig

    from novamart_payments import clients

    config = BotoConfig(connect_timeout=timeout, read_timeout=timeout)
    return SecretsProvider(boto3_session=clients.session(), boto_config=config)


def aws_error_code(err: BaseException) -> str | None:
    """The AWS error code behind ``err``: Powertools Parameters wraps the SDK's ``ClientError`` in its own
    ``GetParameterError`` (raised while handling it, so the original is the wrapper's cause or context)."""
    from botocore.exceptions import ClientError

    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, ClientError):
            return str(seen.response.get("Error", {}).get("Code") or "") or None
        seen = seen.__cause__ or seen.__context__
    return None


def secret_key_reader(
    secret_id: str,
    max_age_seconds: int,
    timeout: float,
    *,
    field: str = "api_key",
    prefixes: tuple[str, ...] = ("sk_", "rk_"),
) -> Callable[[], str]:
    """Read the key through Powertools Parameters (cached for ``max_age_seconds``). The secret may be the bare key
    or a JSON object with ``field``; anything else is our misconfiguration, reported without the value. The
    webhook function reads its signing secret (``whsec_``) the same way."""

    def read() -> str:
        try:
            raw = str(_secrets_provider(timeout).get(secret_id, max_age=max_age_seconds))
        except Exception as err:
            if aws_error_code(err) in OUR_FAULT_CODES:
                raise GatewayMisconfigured(f"cannot read the Stripe key secret: {aws_error_code(err)}") from None
            raise TransientGatewayError("Secrets Manager unavailable") from None
        value = raw.strip()
        if value.startswith("{"):
            value = str(json.loads(value).get(field, ""))
        if not value.startswith(prefixes):
            raise GatewayMisconfigured(f"the secret does not hold a Stripe {'/'.join(prefixes)} value")
        return value

    return read
