"""Each function's role, as Terraform applied it into the emulator, allows exactly what the function's code calls.

Runs last (tests/support/run_order.py says so) so that everything the integration, behaviour and reliability suites
made the handlers do in this session is in the record; it also walks both functions through every path itself
(``exercised``), so run alone it is just as complete. The evaluator and the three findings are described in
``tests/support/iam_check.py``; the self-tests below prove each finding turns the check red, and that the role of
before issue 11 was red.
"""

from __future__ import annotations

import contextlib
import copy
import json
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from novamart_payments import clients, config, domain
from novamart_payments.gateway import GatewayResult, Outcome, stripe_secrets
from novamart_payments.handlers import _batch, webhooks
from novamart_payments.handlers.payment import handler as payment_handler
from novamart_payments.handlers.reconcile import handler as reconcile_handler
from novamart_payments.handlers.refund import handler as refund_handler

from tests.support import iam_check
from tests.support.aws_calls import RECORDER, IamRequest, ResourceRef
from tests.support.gateway import StripeStack
from tests.support.handler_calls import Context, invoke
from tests.support.iam_check import DeployedFunction, Probe, check, permitted, read_deployed
from tests.support.stack import DeployedStack
from tests.support.trigger_events import payment_event, refund_event
from tools.devstack.sqs_records import sqs_batch
from tools.devstack.stripe_extensions import EARLY_FRAUD_WARNING_CARD
from tools.devstack.stripe_faults import CONFIRM

BEFORE_ISSUE_11 = Path(__file__).with_name("policy_before_issue_11.json")


def _reset() -> None:
    """A cold start: configuration, clients, the service and the Stripe key's Parameters cache all rebuilt, so
    each function's first record makes the calls a fresh container makes (the key read included)."""
    config.get_config.cache_clear()
    clients.reset()
    _batch.service.cache_clear()
    stripe_secrets._secrets_provider.cache_clear()
    webhooks._signing_secret.cache_clear()
    webhooks._log.cache_clear()


@pytest.fixture(scope="module")
def deployed(deployed_stack: DeployedStack) -> dict[str, DeployedFunction]:
    functions = {**deployed_stack["functions"], **deployed_stack["later_functions"]}
    return read_deployed(deployed_stack.endpoint_url, "us-east-2", functions)


def _client(service: str, stack: DeployedStack) -> Any:
    return boto3.client(
        service,
        endpoint_url=stack.endpoint_url,
        region_name="us-east-2",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


@pytest.fixture(scope="module")
def lookup_secret(deployed_stack: DeployedStack) -> Any:
    sm = _client("secretsmanager", deployed_stack)

    def lookup(name_or_arn: str) -> tuple[str, str | None]:
        described = sm.describe_secret(SecretId=name_or_arn)
        return described["ARN"], described.get("KmsKeyId")

    return lookup


@pytest.fixture(autouse=True)
def _secrets_can_be_looked_up(lookup_secret: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The functions read the Stripe key: every check here resolves secrets through the emulator."""
    real = iam_check.check
    monkeypatch.setattr(
        sys.modules[__name__],
        "check",
        lambda deployed, recorded, lookup=None: real(deployed, recorded, lookup or lookup_secret),
    )


class _Http:
    status_code = 200


@contextlib.contextmanager
def deployed_environment(stack: DeployedStack, fn: DeployedFunction) -> Iterator[pytest.MonkeyPatch]:
    """The process environment of the deployed function (its variables, the emulator), handler caches reset."""
    mp = pytest.MonkeyPatch()
    env = fn.environment | {
        "AWS_ENDPOINT_URL": stack.endpoint_url,
        "AWS_REGION": "us-east-2",
        "AWS_DEFAULT_REGION": "us-east-2",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    }
    for name, value in env.items():
        mp.setenv(name, value)
    _reset()
    try:
        yield mp
    finally:
        mp.undo()
        _reset()


@pytest.fixture(scope="module")
def exercised(deployed_stack: DeployedStack, deployed: dict[str, DeployedFunction], local_stripe: StripeStack) -> None:
    """Every function through every path, with the deployed functions' own environment (the Stripe gateway)."""
    with deployed_environment(deployed_stack, deployed["payment"]) as mp:
        _walk_every_path(mp, local_stripe, deployed["payment"].queue_arn)
    with deployed_environment(deployed_stack, deployed["payment"]):
        later = _start_later_outcomes(local_stripe)
    with deployed_environment(deployed_stack, deployed["webhooks"]):
        _walk_webhooks(later, local_stripe)
    for name, status in (("recon_refund_ok", "succeeded"), ("recon_refund_fail", "failed")):
        (refund,) = [str(r.id) for r in local_stripe.stripe.refunds(later[name])]
        local_stripe.stripe.settle_refund(refund, status)  # its webhook is lost: reconciliation settles it
    with deployed_environment(deployed_stack, deployed["reconciler"]) as mp:
        mp.setenv("RECONCILE_PENDING_AFTER_SECONDS", "0")  # a pass by hand: every unfinished payment and refund
        mp.setenv("RECONCILE_ACTION_AFTER_SECONDS", "0")
        assert reconcile_handler({"source": "aws.events"}, None)


def _start_later_outcomes(stripe: StripeStack) -> dict[str, str]:
    """Payments whose outcomes arrive later, made by the payment and refund functions: waiting for 3-D Secure, a
    refund that settles later, a dispute, an outage, two deliveries whose confirm reached Stripe unanswered (one
    then needing 3-D Secure), and an order cancelled just after its customer authenticated."""
    names = (
        "3ds",
        "pending_refund",
        "disputed",
        "outage",
        "abandoned",
        "crash_3ds",
        "crash_3ds_r",
        "crash_paid",
        "late",
        "waiting_cancel",
        "3ds_fail",
        "pending_refund_ok",
        "recon_refund_ok",
        "recon_refund_fail",
        "fraud_warned",
        "fraud_reviewed",
    )
    orders = {name: _order() for name in names}
    cards = {"3ds": "three_d_secure", "pending_refund": "pending_refund", "disputed": "disputed"}
    cards |= {"abandoned": "three_d_secure", "late": "three_d_secure", "waiting_cancel": "three_d_secure"}
    cards |= {"3ds_fail": "three_d_secure", "pending_refund_ok": "pending_refund"}
    cards |= {"recon_refund_ok": "pending_refund", "recon_refund_fail": "pending_refund"}
    cards |= {"fraud_warned": EARLY_FRAUD_WARNING_CARD, "fraud_reviewed": EARLY_FRAUD_WARNING_CARD}
    for name, card in cards.items():
        assert invoke(payment_handler, payment_event(orders[name], token=stripe.stripe.payment_method(card))) == []
    stripe.faults.fail_next("POST", CONFIRM, times=_attempts(), order_id=orders["outage"])
    assert len(invoke(payment_handler, payment_event(orders["outage"]))) == 1
    for name, card in (("crash_3ds", "three_d_secure"), ("crash_3ds_r", "three_d_secure"), ("crash_paid", "visa")):
        stripe.faults.fail_next("POST", CONFIRM, times=_attempts(), order_id=orders[name])
        assert len(invoke(payment_handler, payment_event(orders[name], token=stripe.stripe.payment_method(card)))) == 1
        stripe.stripe.client().v1.payment_intents.confirm(_intent_of(orders[name]))  # it had reached Stripe
    _reset()
    assert invoke(refund_handler, refund_event(orders["pending_refund"])) == []
    assert invoke(refund_handler, refund_event(orders["pending_refund_ok"])) == []
    for name in ("recon_refund_ok", "recon_refund_fail"):  # left PENDING for reconciliation
        assert invoke(refund_handler, refund_event(orders[name])) == []
    assert invoke(refund_handler, refund_event(orders["waiting_cancel"])) == []  # cancels the waiting payment
    stripe.stripe.authenticate(_intent_of(orders["late"]), success=True)  # just before the order is cancelled
    assert invoke(refund_handler, refund_event(orders["late"])) == []
    return orders


def _intent_of(order_id: str) -> str:
    record = _batch.service().repository.get_payment(domain.payment_id_for(order_id))
    assert record is not None and record.intent_id is not None
    return record.intent_id


def _intent_event(stripe: StripeStack, intent_id: str, kind: str) -> dict[str, Any]:
    intent = stripe.stripe.client().v1.payment_intents.retrieve(intent_id).to_dict()
    return {"id": f"evt_{uuid.uuid4().hex[:16]}", "object": "event", "type": kind, "data": {"object": intent}}


def _walk_webhooks(orders: dict[str, str], stripe: StripeStack) -> None:
    """Stripe's events reach the webhook function: a 3-D Secure success (then replayed, then forged), a pending
    refund that fails, a dispute, Radar's early fraud warning (refunded) and a review Stripe closed by refunding."""
    from tests.integration import test_later_outcomes as later

    repo = _batch.service().repository
    intents = {name: repo.get_payment(domain.payment_id_for(order)) for name, order in orders.items()}
    three_ds = str(intents["3ds"].intent_id)  # type: ignore[union-attr]
    stripe.stripe.authenticate(three_ds, success=True)
    succeeded = later.event_about(three_ds, "payment_intent.succeeded", stripe)
    assert later.deliver(succeeded)[0] == 200
    assert later.deliver(succeeded) == (200, "replayed")
    assert later.deliver(succeeded, secret="whsec_wrong")[0] == 400
    for name, status in (("pending_refund", "failed"), ("pending_refund_ok", "succeeded")):
        (refund,) = [str(r.id) for r in stripe.stripe.refunds(orders[name])]
        stripe.stripe.settle_refund(refund, status)
        assert later.deliver(later.event_about(refund, "refund.updated", stripe))[0] == 200
    failing = _intent_of(orders["3ds_fail"])
    stripe.stripe.authenticate(failing, success=False)
    assert later.deliver(later.event_about(failing, "payment_intent.payment_failed", stripe)) == (200, "charged:failed")
    disputed = str(intents["disputed"].intent_id)  # type: ignore[union-attr]
    assert later.deliver(later.event_about(disputed, "charge.dispute.created", stripe)) == (200, "disputed")
    warned = _intent_of(orders["fraud_warned"])
    warning = later.event_about(warned, "radar.early_fraud_warning.created", stripe)
    assert later.deliver(warning) == (200, "fraud_refund:refunded:succeeded")
    reviewed = _intent_of(orders["fraud_reviewed"])
    stripe.stripe.close_review_as_fraud(reviewed)  # Stripe refunds the charge itself: the service adopts it
    review = {"id": f"prv_{uuid.uuid4().hex[:12]}", "object": "review", "payment_intent": reviewed, "open": False}
    closed = {"id": f"evt_{uuid.uuid4().hex[:16]}", "object": "event", "type": "review.closed"}
    closed["data"] = {"object": {**review, "reason": "refunded_as_fraud"}}
    assert later.deliver(closed) == (200, "review_refund:refunded:succeeded")
    # A delivery the gateway cannot answer gives its claim back (Stripe retries), then the retry settles it.
    crashed = _intent_event(stripe, _intent_of(orders["crash_3ds"]), "payment_intent.requires_action")
    stripe.faults.fail_next("GET", r"/v1/payment_intents/[^/]+$", times=_attempts(), order_id=orders["crash_3ds"])
    assert later.deliver(crashed)[0] == 503
    assert later.deliver(crashed) == (200, "requires_action")


def _rate_limited_on_the_last_receive(stripe: StripeStack, queue_arn: str) -> None:
    """A 429 on the message's last receive: queued again on the function's own queue (SendMessage), not dead-
    lettered; the transient failure above set its message's backoff (ChangeMessageVisibility)."""
    limited = _order()
    cfg = config.get_config()
    batch = sqs_batch(payment_event(limited))
    record = batch["Records"][0]
    record["attributes"]["ApproximateReceiveCount"] = str(cfg.max_receive_count)
    record["eventSourceARN"] = queue_arn  # the deployed queue: the message really is queued again there
    stripe.faults.fail_next("POST", CONFIRM, order_id=limited, status=429, error_type="rate_limit_error")
    assert payment_handler(batch, Context())["batchItemFailures"] == []


def _attempts() -> int:
    """HTTP attempts of one gateway request as the deployed function makes them (the SDK retries 5xx)."""
    return 1 + config.get_config().gateway_max_retries


def _order() -> str:
    return f"ord-iam-{uuid.uuid4().hex[:12]}"


def _walk_every_path(mp: pytest.MonkeyPatch, stripe: StripeStack, queue_arn: str | None) -> None:
    paid = _order()
    assert invoke(payment_handler, payment_event(paid)) == []  # new payment
    assert invoke(payment_handler, payment_event(paid)) == []  # duplicate
    assert invoke(payment_handler, payment_event(paid, minor_units=1)) == []  # mismatch
    _reset()  # the refund function runs in a container of its own
    assert invoke(refund_handler, refund_event(paid, 1000, request_id="rma-1")) == []  # partial refund
    assert invoke(refund_handler, refund_event(paid)) == []  # the rest
    assert invoke(refund_handler, refund_event(paid, 500, request_id="rma-2")) == []  # nothing left
    declined = _order()
    assert invoke(payment_handler, payment_event(declined, token=stripe.stripe.payment_method("declined"))) == []
    assert invoke(refund_handler, refund_event(declined)) == []
    transient_order = _order()
    transient = payment_event(transient_order)
    stripe.faults.fail_next("POST", CONFIRM, times=_attempts(), order_id=transient_order)
    assert len(invoke(payment_handler, transient)) == 1
    assert invoke(payment_handler, transient) == []
    assert queue_arn is not None
    _rate_limited_on_the_last_receive(stripe, queue_arn)
    cancelled = _order()
    assert invoke(refund_handler, refund_event(cancelled)) == []  # cancel before payment
    assert invoke(payment_handler, payment_event(cancelled)) == []  # blocked payment
    # a refund the gateway declines: the reserved amount is given back
    refused = _order()
    assert invoke(payment_handler, payment_event(refused)) == []
    gateway = _batch.service()._gateway
    mp.setattr(gateway, "refund", lambda _request: GatewayResult(Outcome.DECLINED, None, "refund_declined", "declined"))
    assert invoke(refund_handler, refund_event(refused)) == []
    mp.undo()
    # BatchGetItem throttled: the fallback reads each record on its own
    throttled = _order()
    clients.dynamodb().meta.events.register(
        "before-call.dynamodb.BatchGetItem", lambda **_: (_Http(), {"Responses": {}, "UnprocessedKeys": {"x": {}}})
    )
    assert invoke(refund_handler, refund_event(throttled)) == []


def test_each_role_allows_exactly_what_its_function_calls(
    exercised: None, deployed: dict[str, DeployedFunction], lookup_secret: Any
) -> None:
    recorded = RECORDER.requests()
    actions = {r.action for r in recorded}
    assert {"dynamodb:BatchGetItem", "dynamodb:PutItem", "events:PutEvents"} <= actions, actions
    findings = check(deployed, recorded, lookup_secret)
    assert not findings.all(), "\n".join(findings.all())


# --- the check can fail ---------------------------------------------------------------------------------------


def _request(function: str, action: str, kind: str, name: str, **conditions: str) -> IamRequest:
    return IamRequest(function, action, ResourceRef(kind, name), "us-east-2", tuple(sorted(conditions.items())), "x")


def _with_policies(deployed: dict[str, DeployedFunction], key: str, policies: list[Any]) -> dict[str, Any]:
    changed = copy.deepcopy(deployed)
    changed[key].policies = policies
    return changed


def _needs(deployed: dict[str, DeployedFunction]) -> set[IamRequest]:
    """What the code of the present handlers asks for: recorded in this session, or at least this walk."""
    return RECORDER.requests()


def test_a_call_the_role_does_not_allow_is_missing(exercised: None, deployed: dict[str, DeployedFunction]) -> None:
    table = deployed["payment"].environment["PAYMENT_TABLE_NAME"]
    extra = _request("payment", "dynamodb:DeleteItem", "table", table)
    findings = check(deployed, _needs(deployed) | {extra})
    assert any("payment: dynamodb:DeleteItem on" in m for m in findings.missing), findings.all()


def test_reading_an_encrypted_secret_needs_both_grants(
    exercised: None, deployed: dict[str, DeployedFunction], deployed_stack: DeployedStack, lookup_secret: Any
) -> None:
    """Another secret than the Stripe key: its GetSecretValue is missing until the role grants that one ARN."""
    sm = _client("secretsmanager", deployed_stack)
    name = f"iam-check-{uuid.uuid4().hex[:8]}"
    key = deployed["payment"].environment_key_arn
    sm.create_secret(Name=name, SecretString="sk_test_x", **({"KmsKeyId": key} if key else {}))
    extra = _request("shared", "secretsmanager:GetSecretValue", "secret", name)
    findings = check(deployed, _needs(deployed) | {extra}, lookup_secret)
    missing = "\n".join(findings.missing)
    for fn in ("payment", "refund"):
        assert f"{fn}: secretsmanager:GetSecretValue on arn:aws:secretsmanager:" in missing, missing
        # kms:Decrypt through Secrets Manager on the service key is already granted (the Stripe key secret is
        # encrypted with it), so only the secret itself is missing.
        assert "kms:Decrypt" not in missing, missing


def _without_statement(deployed: dict[str, DeployedFunction], sid: str) -> dict[str, DeployedFunction]:
    changed = copy.deepcopy(deployed)
    for fn in changed.values():
        fn.policies = [p | {"Statement": [s for s in p["Statement"] if s.get("Sid") != sid]} for p in fn.policies]
    return changed


def test_every_role_needs_the_table_key_through_dynamodb(
    exercised: None, deployed: dict[str, DeployedFunction]
) -> None:
    """The tables are encrypted with the service key: the roles as they were before issue 25 (the key through
    SQS, Lambda and Secrets Manager only) are red, for every function, on reads and on writes."""
    key = deployed["payment"].environment_key_arn
    assert key and all(fn.table_keys for fn in deployed.values()), "the stack's tables must be read back encrypted"
    assert set(deployed["payment"].table_keys.values()) == {key}, deployed["payment"].table_keys
    missing = "\n".join(check(_without_statement(deployed, "ServiceKeyThroughDynamoDB"), _needs(deployed)).missing)
    via = "[kms:ViaService=dynamodb.us-east-2.amazonaws.com]"
    for fn in deployed:
        for action in ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"):
            assert f"{fn}: {action} on {key} {via}" in missing, missing


def test_the_table_key_only_through_another_service_is_missing(
    exercised: None, deployed: dict[str, DeployedFunction]
) -> None:
    """The same actions granted through SQS instead of DynamoDB do not count: the condition is the point."""
    changed = copy.deepcopy(deployed)
    for fn in changed.values():
        for policy in fn.policies:
            for statement in policy["Statement"]:
                if statement.get("Sid") == "ServiceKeyThroughDynamoDB":
                    statement["Condition"] = {"StringEquals": {"kms:ViaService": ["sqs.us-east-2.amazonaws.com"]}}
    findings = check(changed, _needs(deployed))
    assert any("payment: kms:Encrypt on" in m and "dynamodb.us-east-2" in m for m in findings.missing), findings.all()


def test_an_unknown_operation_cannot_pass(exercised: None, deployed: dict[str, DeployedFunction]) -> None:
    extra = IamRequest("refund", "dynamodb:unknown:ExecuteStatement", None, "us-east-2")
    assert any("ExecuteStatement has no IAM rule" in r for r in check(deployed, _needs(deployed) | {extra}).refused)


def test_a_grant_no_call_uses_is_reported(exercised: None, deployed: dict[str, DeployedFunction]) -> None:
    policies = copy.deepcopy(deployed["payment"].policies)
    policies[0]["Statement"].append(
        {"Sid": "Extra", "Effect": "Allow", "Action": ["sqs:PurgeQueue"], "Resource": [deployed["payment"].queue_arn]}
    )
    findings = check(_with_policies(deployed, "payment", policies), _needs(deployed))
    assert any("Extra grants sqs:PurgeQueue" in u for u in findings.unused), findings.all()


def test_a_grant_only_the_other_function_needs_is_too_broad(
    exercised: None, deployed: dict[str, DeployedFunction]
) -> None:
    """The payment role given the refund role's statements (tables and detail-types) is reported."""
    policies = copy.deepcopy(deployed["payment"].policies) + copy.deepcopy(deployed["refund"].policies)
    findings = check(_with_policies(deployed, "payment", policies), _needs(deployed))
    broad = "\n".join(findings.too_broad)
    assert "payment: allows dynamodb:BatchGetItem" in broad, findings.all()
    assert "[events:detail-type=refund.succeeded]" in broad, findings.all()


def test_the_roles_of_before_issue_11_are_red(exercised: None, deployed: dict[str, DeployedFunction]) -> None:
    """The policy both roles had (one template, rendered for each function): refunds lacked BatchGetItem, both
    roles had Query on the GSI, kms:Encrypt/GenerateDataKey, ChangeMessageVisibility and no detail-type limit."""
    template = BEFORE_ISSUE_11.read_text()
    old = copy.deepcopy(deployed)
    old = {k: fn for k, fn in old.items() if k in ("payment", "refund")}  # the two functions of then
    for fn in old.values():
        text = template.replace("{function}", fn.name).replace("{account}", fn.account)
        fn.policies = [
            json.loads(text.replace("{queue_arn}", fn.queue_arn or "").replace("{key_arn}", fn.queue_key_arn or ""))
        ]
    findings = check(old, _needs(deployed))
    text = "\n".join(findings.all())
    assert "missing: refund: dynamodb:BatchGetItem" in text, text
    for unused in ("dynamodb:Query",):
        assert f"grants {unused}" in text, text
    # Its unconditioned kms:Encrypt / GenerateDataKey are used now (writes to the encrypted tables need them through
    # DynamoDB), but it never had kms:DescribeKey, which every call on an encrypted table needs. Its
    # ChangeMessageVisibility is used since issue 19's per-message backoff; SendMessage (a 429's requeue) it lacked.
    assert "missing: payment: kms:DescribeKey on" in text and "dynamodb.us-east-2.amazonaws.com" in text, text
    assert "missing: payment: sqs:SendMessage" in text, text
    assert "too broad: payment: allows events:PutEvents" in text, text


def test_an_allow_counts_even_when_an_earlier_statement_conditions_the_action_away() -> None:
    """Two kms:Decrypt statements through different services: moto's evaluator alone answers DENIED for the
    whole policy at the first failing condition; AWS allows when any statement allows, and so does the check."""
    key = "arn:aws:kms:us-east-2:123456789012:key/k"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ViaSqs",
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": [key],
                "Condition": {"StringEquals": {"kms:ViaService": ["sqs.us-east-2.amazonaws.com"]}},
            },
            {
                "Sid": "ViaDynamoDB",
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": [key],
                "Condition": {"StringEquals": {"kms:ViaService": ["dynamodb.us-east-2.amazonaws.com"]}},
            },
        ],
    }
    assert permitted([policy], Probe("kms:Decrypt", key, (("kms:ViaService", "dynamodb.us-east-2.amazonaws.com"),)))
    assert permitted([policy], Probe("kms:Decrypt", key, (("kms:ViaService", "sqs.us-east-2.amazonaws.com"),)))
    assert not permitted([policy], Probe("kms:Decrypt", key, (("kms:ViaService", "lambda.us-east-2.amazonaws.com"),)))


def test_a_condition_whose_key_the_request_lacks_does_not_match() -> None:
    """moto would let it pass; AWS does not, and neither does the check."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "events:PutEvents",
                "Resource": "*",
                "Condition": {"StringEquals": {"events:detail-type": "payment.succeeded"}},
            }
        ],
    }
    assert permitted([policy], Probe("events:PutEvents", "x", (("events:detail-type", "payment.succeeded"),)))
    assert not permitted([policy], Probe("events:PutEvents", "x"))
    assert not permitted([policy], Probe("events:PutEvents", "x", (("events:detail-type", "refund.failed"),)))


def test_a_new_call_in_the_code_without_its_permission_turns_the_check_red(
    exercised: None, deployed_stack: DeployedStack, deployed: dict[str, DeployedFunction]
) -> None:
    """End to end: the payment path also reads the refunds table (as a careless change might); the hooks record
    it during a real invocation and the check names it. What it recorded is forgotten afterwards."""
    before = RECORDER.requests()
    with deployed_environment(deployed_stack, deployed["payment"]) as mp:
        repo = _batch.service()._repo
        real = repo.claim_payment

        def claim_and_peek(*args: Any, **kwargs: Any) -> Any:
            repo.get_refund("peek")  # GetItem on the refunds table: never granted to the payment role
            return real(*args, **kwargs)

        mp.setattr(repo, "claim_payment", claim_and_peek)
        assert invoke(payment_handler, payment_event(_order())) == []
    added = RECORDER.requests() - before
    try:
        refunds = deployed["payment"].environment["REFUND_TABLE_NAME"]
        assert [(r.function, r.action, r.resource.name if r.resource else None) for r in added] == [
            ("payment", "dynamodb:GetItem", refunds)
        ]
        missing = check(deployed, before | added).missing
        assert [m for m in missing if "GetItem" in m] == [
            f"payment: dynamodb:GetItem on arn:aws:dynamodb:us-east-2:{deployed['payment'].account}:table/{refunds}"
            " (code: GetItem)"
        ], missing
    finally:
        RECORDER.forget(added)


def test_the_backoff_call_without_its_permission_turns_the_check_red(
    exercised: None, deployed: dict[str, DeployedFunction]
) -> None:
    """Issue 19: the failed record's backoff (ChangeMessageVisibility on its own queue) is a call the check sees;
    the payment role without it is reported missing."""
    policies = copy.deepcopy(deployed["payment"].policies)
    for statement in policies[0]["Statement"]:
        if statement.get("Sid") == "OwnMessageBackoff":
            statement["Action"] = ["sqs:SendMessage"]
    findings = check(_with_policies(deployed, "payment", policies), _needs(deployed))
    assert any(
        m.startswith(f"payment: sqs:ChangeMessageVisibility on {deployed['payment'].queue_arn}")
        for m in findings.missing
    ), findings.all()
