"""The local Stripe: ``localstripe`` (a stateful, Stripe-compatible server) on loopback, and what the tools and
tests need from it.

    python -m tools.devstack stripe start [--host 127.0.0.1] [--port 8420] [--run-dir .run] [--timeout 30]
    python -m tools.devstack stripe stop  [--run-dir .run]

``start`` launches it detached (pid and log in the run dir) and polls until it answers. ``LocalStripe`` creates
test payment methods from Stripe's test card numbers (Stripe's ``pm_card_*`` test ids work too, see
``stripe_extensions``) and counts an order's money movements at the gateway: charges and refunds found through
the PaymentIntents carrying the order's id in their metadata, never through an idempotency key (localstripe
ignores those).
"""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.devstack.processes import (
    ROOT,
    devstack_command,
    pid_alive,
    read_pid,
    report_start,
    spawn_detached,
    stop_pid,
    wait_until,
)

PID_FILE = "localstripe.pid"
LOG_FILE = "localstripe.log"
DEFAULT_PORT = 8420
TEST_SECRET_KEY = "sk_test_novamart_local"  # localstripe accepts any sk_test_ key; this one is not a secret

# Stripe test cards and what localstripe does with them (measured, see docs/gateway.md).
CARDS = {
    "visa": "4242424242424242",
    "mastercard": "5555555555554444",
    "declined": "4000000000000341",  # declined when charged: card_declined
    "three_d_secure": "4000002760003184",  # requires_action
    # Added by stripe_extensions, as Stripe's test mode does them:
    "pending_refund": "4000000000007726",  # refunds start pending and settle later
    "disputed": "4000000000000259",  # the charge succeeds, then a dispute is opened
}


def is_healthy(api_base: str, timeout: float = 1.0) -> bool:
    """localstripe answers its Stripe routes; an unauthenticated list gives 401, which proves it is up."""
    try:
        with urllib.request.urlopen(api_base.rstrip("/") + "/v1/customers", timeout=timeout) as response:
            return response.status in (200, 401)
    except urllib.error.HTTPError as err:
        return err.code in (401, 403)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def command(host: str, port: int) -> list[str]:
    """``python -m tools.devstack stripe serve`` on ``host:port`` (run it from the repository root)."""
    return devstack_command("stripe", "serve", "--host", host, "--port", str(port))


def serve(host: str, port: int) -> None:
    """Serve the local Stripe on ``host:port``: the fault-injecting proxy (``stripe_faults.FaultProxy``) in front
    of localstripe, which listens on a private loopback port (its own launcher binds every interface), starts
    from an empty state and stays in memory.

    localstripe pickles its whole store to one fixed file in /tmp on every write: that costs O(store) per request
    and makes parallel instances overwrite each other, so it is switched off here.
    """
    import socket

    from aiohttp import web
    from localstripe import resources

    from tools.devstack.stripe_extensions import install
    from tools.devstack.stripe_faults import FaultProxy

    server = install()  # before localstripe.server binds its routes: see stripe_extensions
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        upstream_port = int(probe.getsockname()[1])
    FaultProxy(f"http://127.0.0.1:{upstream_port}", host, port)  # serves from its own thread
    resources.store.dump_to_disk = lambda: None  # type: ignore[method-assign]
    web.run_app(server.app, host="127.0.0.1", port=upstream_port, print=None)


def start_process(host: str, port: int, log_path: Path, timeout: float = 30.0) -> subprocess.Popen[bytes]:
    """Start localstripe as a child process and wait until it answers (raise with the log's tail if not)."""
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            command(host, port),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=str(ROOT),
        )
    api_base = f"http://{host}:{port}"
    deadline = time.monotonic() + timeout
    while not is_healthy(api_base):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            tail = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"localstripe did not start on {api_base}:\n{tail}")
        time.sleep(0.1)
    return process


@dataclass
class LocalStripe:
    """A client of the local Stripe for tools and tests (the service itself goes through its gateway adapter)."""

    api_base: str
    api_key: str = TEST_SECRET_KEY

    def client(self) -> Any:
        import stripe

        return stripe.StripeClient(self.api_key, base_addresses={"api": self.api_base}, max_network_retries=0)

    def payment_method(self, card: str) -> str:
        """A PaymentMethod id for a test card (``CARDS`` name or number): the token the events carry."""
        number = CARDS.get(card, card)
        pm = self.client().v1.payment_methods.create(
            params={"type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"}}
        )
        return str(pm.id)

    def intents(self, order_id: str) -> list[Any]:
        """Every PaymentIntent made for the order (by its metadata), whatever key or handle it came with."""
        found = []
        for intent in self.client().v1.payment_intents.list(params={"limit": 100}).auto_paging_iter():
            if intent.to_dict().get("metadata", {}).get("orderId") == order_id:
                found.append(intent)
        return found

    def charges(self, order_id: str) -> list[Any]:
        """Money taken from the customer for the order: the succeeded intents (one charge each)."""
        return [i for i in self.intents(order_id) if i.status == "succeeded"]

    def refunds(self, order_id: str) -> list[Any]:
        """Money given back for the order: every refund on any of its charged intents."""
        client = self.client()
        found: list[Any] = []
        for intent in self.charges(order_id):
            found.extend(client.v1.refunds.list(params={"payment_intent": intent.id, "limit": 100}).data)
        return found

    # ---- the test controls (what the customer or the card network does at Stripe) -----------------------------

    def _control(self, path: str) -> None:
        request = urllib.request.Request(self.api_base.rstrip("/") + path, data=b"", method="POST")
        request.add_header("Authorization", f"Bearer {self.api_key}")
        urllib.request.urlopen(request, timeout=10).close()

    def authenticate(self, intent_id: str, *, success: bool) -> None:
        """The customer completing (or failing) 3-D Secure. The storefront would hand Stripe.js the client secret,
        read from Stripe with its own key; here the test key reads it (it never travels through our events)."""
        secret = self.client().v1.payment_intents.retrieve(intent_id).client_secret
        flag = "true" if success else "false"
        self._control(f"/v1/payment_intents/{intent_id}/_authenticate?success={flag}&client_secret={secret}")

    def settle_refund(self, refund_id: str, status: str) -> None:
        """A pending refund settling (``succeeded`` or ``failed``): tools/devstack/stripe_extensions.py."""
        self._control(f"/v1/refunds/{refund_id}/_settle?status={status}")

    def close_review_as_fraud(self, intent_id: str) -> None:
        """The merchant closing the charge's Radar review as refunded as fraud: Stripe refunds the rest of the
        charge itself and sends ``review.closed`` (tools/devstack/stripe_extensions.py)."""
        self._control(f"/v1/payment_intents/{intent_id}/_close_review_as_fraud")

    def register_webhook(
        self, url: str, secret: str, name: str = "novamart", events: Sequence[str] | None = None
    ) -> None:
        """Where localstripe posts its signed events (every kind, or only ``events``), and the signing secret it
        uses. Registering ``name`` again replaces the endpoint."""
        from urllib.parse import urlencode

        fields = [("url", url), ("secret", secret), *((f"events[{i}]", kind) for i, kind in enumerate(events or ()))]
        body = urlencode(fields).encode()
        request = urllib.request.Request(f"{self.api_base.rstrip('/')}/_config/webhooks/{name}", data=body)
        request.add_header("Authorization", f"Bearer {self.api_key}")
        urllib.request.urlopen(request, timeout=10).close()


def stripe_base_of(functions: Any) -> str | None:
    """STRIPE_API_BASE of the deployed payment function when it runs on the Stripe gateway (else None)."""
    for config in functions.values():
        env = config.environment
        if env.get("GATEWAY_MODE") == "stripe" and env.get("STRIPE_API_BASE"):
            return str(env["STRIPE_API_BASE"])
    return None


def prepare_trigger(event: dict[str, Any], api_base: str) -> dict[str, Any]:
    """Make a payment trigger that carries a simulator-only token work against the local Stripe: for
    ``pm_sim_transient<N>_<base>``, an outage of N confirm attempts on that order at the fault proxy and Stripe's
    ``pm_card_<base>``. Stripe's own test ids (``pm_card_chargeDeclined``, ...) need nothing: the local Stripe
    answers them as Stripe's test mode does (``stripe_extensions``). Other events are returned as they are."""
    from tools.devstack.stripe_faults import CONFIRM, RemoteFaults

    data = (event.get("detail") or {}).get("data") or {}
    method = data.get("paymentMethod") or {}
    token = str(method.get("token", ""))
    if not token:
        return event
    if token.startswith("pm_sim_transient"):
        head, _, base = token.removeprefix("pm_sim_transient").partition("_")
        RemoteFaults(api_base).fail_next("POST", CONFIRM, times=int(head or 1), order_id=data.get("orderId"))
        token = f"pm_card_{base}"
        method["token"] = token
    return event


def start(host: str, port: int, run_dir: Path, timeout: float) -> int:
    api_base = f"http://{host}:{port}"
    run_dir.mkdir(parents=True, exist_ok=True)
    pid = read_pid(run_dir, PID_FILE)
    if pid is not None and pid_alive(pid) and is_healthy(api_base):
        print(f"localstripe already running (pid {pid}) at {api_base}")
        return 0
    log_path = run_dir / LOG_FILE
    process = spawn_detached(command(host, port)[1:], run_dir, PID_FILE, log_path)
    state = wait_until(process, lambda: is_healthy(api_base), timeout, run_dir / PID_FILE)
    return report_start("localstripe", process, state, log_path, timeout, where=lambda: f"at {api_base}")


def stop(run_dir: Path) -> int:
    pid = read_pid(run_dir, PID_FILE)
    if pid is not None and pid_alive(pid):
        stop_pid(pid)
        print(f"localstripe (pid {pid}) stopped")
    (run_dir / PID_FILE).unlink(missing_ok=True)
    return 0
