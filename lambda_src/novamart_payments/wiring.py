"""How the functions' collaborators are built: once per container, from the one configuration object.

Construction is cheap and cached; nothing here runs at import time, so importing a handler never needs AWS.
"""

from __future__ import annotations

import functools
from datetime import timedelta

from novamart_payments.config import get_config
from novamart_payments.gateway import PaymentGateway
from novamart_payments.observability import TracedGateway
from novamart_payments.publisher import Publisher
from novamart_payments.repository import Repository
from novamart_payments.service import PaymentService


@functools.cache
def service() -> PaymentService:
    """Built on the first invocation and reused while the container is warm."""
    cfg = get_config()
    return PaymentService(
        Repository(cfg.payment_table_name, cfg.refund_table_name),
        Publisher(cfg.event_bus_name, windows=cfg.event_majors),
        TracedGateway(payment_gateway()),
        action_deadline=timedelta(seconds=cfg.action_deadline_seconds),
    )


def payment_gateway() -> PaymentGateway:
    """The adapter ``GATEWAY_MODE`` names; the stripe SDK is imported only when it is the one in use."""
    cfg = get_config()
    if cfg.gateway_mode == "simulated":
        from novamart_payments.gateway.simulated import gateway

        return gateway()
    from novamart_payments.gateway.stripe_gateway import StripeGateway, secret_key_reader

    return StripeGateway(
        secret_key_reader(cfg.stripe_secret_id, cfg.stripe_secret_max_age_seconds, cfg.aws_call_timeout_seconds),
        api_base=cfg.stripe_api_base,
        timeout_seconds=cfg.gateway_timeout_seconds,
        max_network_retries=cfg.gateway_max_retries,
        off_session=cfg.stripe_off_session,
    )
