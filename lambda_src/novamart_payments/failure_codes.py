"""The one table of failure codes the service publishes.

Consuming teams branch on ``code`` in ``payment.failed`` and ``refund.failed``, so the set of codes is part of
the contract. It is written down once, here: the code enums in the event schemas
(``schemas/common/outcome-codes.json``), the per-code pages in ``docs/events/codes/`` and the contract tests
are generated from or checked against this table, and the service takes its codes from the enums below, so
a code cannot appear in an event without first appearing here.

Codes that a later change will emit are listed now and marked ``RESERVED``: adding a value to a published
enum widens the contract and would need a new major version, while a reserved value costs nothing today.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class PaymentFailureCode(enum.StrEnum):
    """``payment.failed`` codes."""

    CARD_DECLINED = "card_declined"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    EXPIRED_CARD = "expired_card"
    INCORRECT_CVC = "incorrect_cvc"
    INCORRECT_NUMBER = "incorrect_number"
    PROCESSING_ERROR = "processing_error"
    AUTHENTICATION_REQUIRED = "authentication_required"
    INVALID_PAYMENT_METHOD = "invalid_payment_method"
    ORDER_CANCELLED = "order_cancelled"
    AUTHENTICATION_EXPIRED = "authentication_expired"
    GATEWAY_UNAVAILABLE = "gateway_unavailable"
    PAYMENT_CANCELED = "payment_canceled"
    # payment.failed 2.0 (issue 20): the risk check and Stripe Radar.
    FRAUD_SUSPECTED = "fraud_suspected"
    RISK_LIMIT_EXCEEDED = "risk_limit_exceeded"
    RADAR_BLOCKED = "radar_blocked"


class RefundFailureCode(enum.StrEnum):
    """``refund.failed`` codes."""

    NO_PAYMENT = "no_payment"
    PAYMENT_NOT_CAPTURED = "payment_not_captured"
    NOTHING_TO_REFUND = "nothing_to_refund"
    CURRENCY_MISMATCH = "currency_mismatch"
    EXCEEDS_REFUNDABLE = "exceeds_refundable"
    CHARGE_NOT_FOUND = "charge_not_found"
    AMOUNT_TOO_LARGE = "amount_too_large"
    REFUND_DECLINED = "refund_declined"
    CHARGE_ALREADY_REFUNDED = "charge_already_refunded"
    CHARGE_DISPUTED = "charge_disputed"


class Origin(enum.StrEnum):
    """Who decides that a code is emitted; the contract tests prove reachability per origin."""

    SERVICE = "service"  # a decision of domain.py / service.py / repository.py
    GATEWAY = "gateway"  # any gateway adapter (the simulated one included) answers with it
    STRIPE = "stripe"  # only the Stripe adapter answers with it (Stripe error codes passed through)
    RESERVED = "reserved"  # not emitted yet; kept in the enum so the change that emits it needs no new major


class Action(enum.StrEnum):
    """What a consumer should do, in one word; the code page says it in full."""

    ASK_CUSTOMER = "ask the customer for another payment method"
    RETRY_LATER = "the customer may retry later; nothing was charged"
    AUTHENTICATE = "ask the customer to authenticate (3-D Secure) and place the payment again"
    CLOSE_ORDER = "close the order; nothing was charged"
    NOTHING = "nothing to do; no money moved"
    FIX_REQUEST = "fix the request (amount or currency) and send a new one"
    INVESTIGATE = "investigate with finance; money may have moved outside this service"
    CANCEL_FRAUD = "cancel the order and never retry it with the same card; nothing was charged"


@dataclass(frozen=True, slots=True)
class CodeSpec:
    """One row of the table: the code, the event it appears in, who emits it, what it means, what to do."""

    code: PaymentFailureCode | RefundFailureCode
    origin: Origin
    meaning: str
    action: Action
    note: str = ""
    #: The first major of its event whose ``code`` enum carries it; an older major in its window carries
    #: ``older_code`` instead (majors.py derives the old edition from this table).
    since_major: int = 1
    older_code: PaymentFailureCode | RefundFailureCode | None = None

    @property
    def event(self) -> str:
        return "payment.failed" if isinstance(self.code, PaymentFailureCode) else "refund.failed"


P, R = PaymentFailureCode, RefundFailureCode

OUTCOME_CODES: tuple[CodeSpec, ...] = (
    CodeSpec(
        P.CARD_DECLINED,
        Origin.GATEWAY,
        "The issuer declined the card.",
        Action.ASK_CUSTOMER,
        "The Stripe adapter maps every Stripe decline code without its own entry here to this code.",
    ),
    CodeSpec(P.INSUFFICIENT_FUNDS, Origin.GATEWAY, "The card has insufficient funds.", Action.ASK_CUSTOMER),
    CodeSpec(P.EXPIRED_CARD, Origin.GATEWAY, "The card has expired.", Action.ASK_CUSTOMER),
    CodeSpec(P.INCORRECT_CVC, Origin.STRIPE, "The card's security code is wrong.", Action.ASK_CUSTOMER),
    CodeSpec(P.INCORRECT_NUMBER, Origin.STRIPE, "The card number is wrong.", Action.ASK_CUSTOMER),
    CodeSpec(P.PROCESSING_ERROR, Origin.GATEWAY, "The gateway could not process the card.", Action.RETRY_LATER),
    CodeSpec(
        P.AUTHENTICATION_REQUIRED, Origin.GATEWAY, "The issuer requires 3-D Secure authentication.", Action.AUTHENTICATE
    ),
    CodeSpec(
        P.INVALID_PAYMENT_METHOD,
        Origin.GATEWAY,
        "The gateway does not know the payment method token.",
        Action.ASK_CUSTOMER,
    ),
    CodeSpec(
        P.ORDER_CANCELLED,
        Origin.SERVICE,
        "The order was cancelled before it was paid, so the payment "
        "trigger was declined without contacting the gateway.",
        Action.CLOSE_ORDER,
    ),
    CodeSpec(
        P.AUTHENTICATION_EXPIRED,
        Origin.SERVICE,
        "The customer did not complete 3-D Secure in time.",
        Action.AUTHENTICATE,
        "Emitted by reconciliation: a payment still REQUIRES_ACTION (payment.action_required) past its expiresAt "
        "has its payment intent cancelled at the gateway, so nothing is charged, and then fails with this code.",
    ),
    CodeSpec(
        P.GATEWAY_UNAVAILABLE,
        Origin.SERVICE,
        "The gateway stayed unreachable beyond the retry budget.",
        Action.RETRY_LATER,
        "Emitted by reconciliation for a payment whose trigger exhausted its redeliveries while the gateway was "
        "unreachable, and only once the gateway confirms that nothing was charged.",
    ),
    CodeSpec(
        P.PAYMENT_CANCELED,
        Origin.STRIPE,
        "The payment was canceled at the gateway before capture.",
        Action.CLOSE_ORDER,
        "The Stripe adapter answers with it for a PaymentIntent found canceled; gateway webhooks (issue 10) too.",
    ),
    CodeSpec(
        P.FRAUD_SUSPECTED,
        Origin.SERVICE,
        "The service's risk check blocked the order before any gateway request: a block list or the external "
        "fraud scorer.",
        Action.CANCEL_FRAUD,
        "The payment.failed names the rule in failureReason. payment.failed 1.x (in its window) carries "
        "card_declined instead, what a Radar block looked like before.",
        since_major=2,
        older_code=P.CARD_DECLINED,
    ),
    CodeSpec(
        P.RISK_LIMIT_EXCEEDED,
        Origin.SERVICE,
        "The order went over a risk limit (orders or amount per customer and window, customers per card and day, "
        "amount per order) before any gateway request.",
        Action.CANCEL_FRAUD,
        "Limits are in docs/risk.md. payment.failed 1.x (in its window) carries card_declined instead.",
        since_major=2,
        older_code=P.CARD_DECLINED,
    ),
    CodeSpec(
        P.RADAR_BLOCKED,
        Origin.STRIPE,
        "Stripe Radar blocked the charge as likely fraud.",
        Action.CANCEL_FRAUD,
        "The Stripe adapter answers with it for a charge whose outcome type is 'blocked'. payment.failed 1.x (in "
        "its window) carries card_declined instead, as before this code existed.",
        since_major=2,
        older_code=P.CARD_DECLINED,
    ),
    CodeSpec(
        R.NO_PAYMENT,
        Origin.SERVICE,
        "No payment existed when the refund trigger arrived; the order is "
        "marked cancelled and a later payment trigger is declined with order_cancelled.",
        Action.NOTHING,
    ),
    CodeSpec(
        R.PAYMENT_NOT_CAPTURED, Origin.SERVICE, "The order's payment failed, so nothing was captured.", Action.NOTHING
    ),
    CodeSpec(R.NOTHING_TO_REFUND, Origin.SERVICE, "The payment is already fully refunded.", Action.NOTHING),
    CodeSpec(
        R.CURRENCY_MISMATCH,
        Origin.SERVICE,
        "The requested refund's currency differs from the payment's.",
        Action.FIX_REQUEST,
        "The service checks it before any gateway call.",
    ),
    CodeSpec(
        R.EXCEEDS_REFUNDABLE,
        Origin.SERVICE,
        "The requested amount exceeds what remains refundable.",
        Action.FIX_REQUEST,
    ),
    CodeSpec(
        R.CHARGE_NOT_FOUND, Origin.GATEWAY, "The gateway has no record of the captured charge.", Action.INVESTIGATE
    ),
    CodeSpec(
        R.AMOUNT_TOO_LARGE,
        Origin.STRIPE,
        "The gateway refused an amount above the charge's remainder.",
        Action.INVESTIGATE,
    ),
    CodeSpec(
        R.REFUND_DECLINED,
        Origin.SERVICE,
        "The gateway declined or canceled the refund.",
        Action.INVESTIGATE,
        "The service's code for a gateway refusal without a code of its own; the Stripe adapter uses it "
        "for refunds that fail or are canceled at Stripe.",
    ),
    CodeSpec(
        R.CHARGE_ALREADY_REFUNDED,
        Origin.STRIPE,
        "Stripe says the charge is already fully refunded.",
        Action.INVESTIGATE,
    ),
    CodeSpec(
        R.CHARGE_DISPUTED,
        Origin.STRIPE,
        "The charge is disputed; Stripe refuses refunds during a dispute.",
        Action.INVESTIGATE,
    ),
)

#: Code a failed payment carries when the gateway declined without a code of its own.
DEFAULT_PAYMENT_FAILURE = PaymentFailureCode.CARD_DECLINED
#: Code a failed refund carries when the gateway declined without a code of its own.
DEFAULT_REFUND_FAILURE = RefundFailureCode.REFUND_DECLINED


class RefundReason(enum.StrEnum):
    """Why the service itself refunds (``refundReason`` of refund.succeeded), besides the consumed events' reasons."""

    #: An early fraud warning from the card network (Radar) or a review closed as fraud: refunded before a dispute.
    FRAUDULENT = "fraudulent"


def codes_for(event: str, major: int | None = None) -> tuple[str, ...]:
    """The enum of ``event``'s ``code`` field in ``major`` (default: the newest), in table order."""
    return tuple(
        spec.code.value
        for spec in OUTCOME_CODES
        if spec.event == event and (major is None or spec.since_major <= major)
    )


def older_code(code: str, major: int) -> str:
    """The code an edition of ``major`` carries for ``code``: itself, or its stand-in if ``major`` predates it."""
    for spec in OUTCOME_CODES:
        if spec.code.value == code and spec.since_major > major and spec.older_code is not None:
            return spec.older_code.value
    return code
