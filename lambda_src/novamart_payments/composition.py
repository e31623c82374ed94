"""The composition root: the one place the concrete adapters are built and plugged into the service's ports,
once per container, from the one configuration object.

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
from novamart_payments.risk import FirstBlock, RiskCheck
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
        risk=risk_check(),
    )


def risk_check() -> RiskCheck | None:
    """The risk checks the configuration names, composed (the first block decides): the rules document (and its
    counters), then the external scorer; None when neither is configured."""
    cfg = get_config()
    checks: list[RiskCheck] = []
    if cfg.risk_rules_parameter:
        from novamart_payments.risk.adapters import RulesCheck, RulesSource, ssm_fetch
        from novamart_payments.risk.counters import Counters

        name = cfg.risk_rules_parameter
        source = RulesSource(ssm_fetch(name, cfg.risk_rules_max_age_seconds), name)
        checks.append(RulesCheck(source, Counters(cfg.risk_table_name)))
    if cfg.risk_scorer_url:
        from novamart_payments.risk.scorer import ScorerCheck

        key = None
        if cfg.risk_scorer_secret_id:
            from novamart_payments.gateway.stripe_secrets import secret_key_reader

            key = secret_key_reader(
                cfg.risk_scorer_secret_id,
                cfg.stripe_secret_max_age_seconds,
                cfg.aws_call_timeout_seconds,
                prefixes=("",),
            )
        scorer = ScorerCheck(
            cfg.risk_scorer_url,
            timeout_seconds=cfg.risk_scorer_timeout_seconds,
            block_score=cfg.risk_scorer_block_score,
            fail_closed=cfg.risk_scorer_fail_closed,
            api_key=key,
        )
        checks.append(scorer)
    if not checks:
        return None
    return checks[0] if len(checks) == 1 else FirstBlock(*checks)


def payment_gateway() -> PaymentGateway:
    """The adapter ``GATEWAY_MODE`` names; the stripe SDK is imported only when it is the one in use."""
    cfg = get_config()
    if cfg.gateway_mode == "simulated":
        from novamart_payments.gateway.simulated import gateway

        return gateway()
    from novamart_payments.gateway.stripe_gateway import StripeGateway
    from novamart_payments.gateway.stripe_secrets import secret_key_reader

    budget = None
    if cfg.gateway_budget_table_name:
        from novamart_payments import clients
        from novamart_payments.budget import RequestBudget

        budget = RequestBudget(
            cfg.gateway_budget_table_name,
            cfg.gateway_budget_per_second,
            clients.budget_dynamodb,
            max_wait=cfg.gateway_budget_max_wait_seconds,
        )
    return StripeGateway(
        secret_key_reader(cfg.stripe_secret_id, cfg.stripe_secret_max_age_seconds, cfg.aws_call_timeout_seconds),
        api_base=cfg.stripe_api_base,
        timeout_seconds=cfg.gateway_timeout_seconds,
        max_network_retries=cfg.gateway_max_retries,
        off_session=cfg.stripe_off_session,
        before_request=budget.take if budget is not None else None,
    )
