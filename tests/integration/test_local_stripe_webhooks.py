"""The local Stripe retries a webhook delivery not answered 2xx, as Stripe does (devstack/stripe_webhook_retries.py).

The webhook function answers 409 while another delivery settles the same object and 5xx when it could not settle,
counting on that retry; a local Stripe that sends once would lose those events. The endpoint here is a small HTTP
server of the test's own, registered beside the session's webhook for ``customer.created`` only.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stripe

from tests.support.gateway import StripeStack
from tools.devstack.stripe_webhook_retries import RETRY_SECONDS

SECRET = "whsec_retry_probe"  # the probe endpoint's own signing secret, not a real one


@dataclass
class Delivery:
    at: float
    body: bytes
    signature: str


@dataclass
class Endpoint:
    """Answers each delivery with the next status of ``answers`` (200 once they are used up)."""

    url: str = ""
    answers: list[int] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def about(self, object_id: str) -> list[Delivery]:
        with self.lock:
            return [d for d in self.deliveries if object_id.encode() in d.body]


@pytest.fixture
def endpoint(local_stripe: StripeStack) -> Iterator[Endpoint]:
    probe = Endpoint()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with probe.lock:
                probe.deliveries.append(Delivery(time.time(), body, self.headers.get("Stripe-Signature", "")))
                status = probe.answers.pop(0) if probe.answers else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    probe.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks"
    name = f"retry-probe-{uuid.uuid4().hex[:8]}"
    local_stripe.stripe.register_webhook(probe.url, SECRET, name=name, events=["customer.created"])
    try:
        yield probe
    finally:
        # localstripe cannot remove an endpoint: this one now listens to an event kind nobody sends.
        local_stripe.stripe.register_webhook(probe.url, SECRET, name=name, events=["novamart.never_sent"])
        server.shutdown()
        server.server_close()


def _customer(local_stripe: StripeStack) -> str:
    return str(local_stripe.stripe.client().v1.customers.create(params={"description": "retry probe"}).id)


def _wait_for(endpoint: Endpoint, object_id: str, count: int, seconds: float) -> list[Delivery]:
    deadline = time.monotonic() + seconds
    while len(got := endpoint.about(object_id)) < count:
        assert time.monotonic() < deadline, f"{len(got)} deliveries about {object_id} after {seconds} s, want {count}"
        time.sleep(0.05)
    return got


def test_a_delivery_not_answered_2xx_is_retried_signed_anew_until_answered(
    local_stripe: StripeStack, endpoint: Endpoint
) -> None:
    endpoint.answers[:] = [503, 409]
    customer = _customer(local_stripe)
    # The first attempt 1 s after the fact, then RETRY_SECONDS[0] and [1] later: a generous bound on a busy machine.
    first, second, third = _wait_for(endpoint, customer, 3, 1 + RETRY_SECONDS[0] + RETRY_SECONDS[1] + 20)
    assert first.body == second.body == third.body, "a retry sends the same event"
    for delivery in (first, second, third):
        event = stripe.Webhook.construct_event(delivery.body, delivery.signature, SECRET, tolerance=300)
        assert event["type"] == "customer.created" and event["data"]["object"]["id"] == customer
    stamps = [d.signature.split(",")[0] for d in (first, second, third)]
    assert second.at - first.at >= RETRY_SECONDS[0] * 0.9 and third.at - second.at >= RETRY_SECONDS[1] * 0.9
    assert stamps[0] != stamps[2], "each attempt is signed anew, with its own time"
    # Answered 200 on the third attempt: no fourth, which would come RETRY_SECONDS[2] after it.
    quiet_until = third.at + RETRY_SECONDS[2] + 1.5
    while time.time() < quiet_until:
        assert len(endpoint.about(customer)) == 3, "a delivery answered 200 was sent again"
        time.sleep(0.1)


def test_a_delivery_answered_2xx_is_sent_once(local_stripe: StripeStack, endpoint: Endpoint) -> None:
    customer = _customer(local_stripe)
    (only,) = _wait_for(endpoint, customer, 1, 20)
    quiet_until = only.at + RETRY_SECONDS[0] + 1.5
    while time.time() < quiet_until:
        assert len(endpoint.about(customer)) == 1, "a delivery answered 200 was sent again"
        time.sleep(0.1)
