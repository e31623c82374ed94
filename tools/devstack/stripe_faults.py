"""A fault-injecting HTTP layer in front of the local Stripe-compatible server.

Scenarios that need a gateway outage (a 5xx, a dropped connection) get it here, between the real SDK and the
real server, instead of from a simulator-only token: the adapter under test is the production one.

``fail_next("POST", r"/confirm$", times=2, status=503, order_id="ord-1")`` makes the next two matching requests
fail (for ``order_id``: only requests on that order's PaymentIntents, which the proxy learns from the create
answers it forwards); everything else is forwarded unchanged. Rules are consumed under a lock, so concurrent
requests see each failure exactly once. Other processes (the demo, the behaviour suite) add rules through
``POST /_faults`` with the same fields as JSON (``RemoteFaults``).

The proxy also counts every request it receives per order (``GET /_faults/requests?order=ord-1``): injected
failures included, since each is a request spent against Stripe's rate limit. Tests assert gateway requests per
order there, where a wasted request would show, whatever the service believes it sent.

Under load (``make load``) the proxy also behaves like Stripe as a whole: latency, a 429 rate limiter and a fraction
of transient 500s on every API request, with a log of each request's arrival, answer and order (``Traffic`` in
``stripe_traffic``; ``/_faults/traffic``, ``RemoteFaults.shape`` and ``.traffic``). All of it is off unless set.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
import urllib.request
from collections import defaultdict
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from tools.devstack.stripe_traffic import LoggedRequest, Traffic, TrafficSettings, error_body


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    times: int
    status: int  # 0: drop the connection without an answer
    order_id: str | None = None
    error_type: str = "api_error"  # Stripe's error type in the answer (e.g. idempotency_error)
    error_code: str | None = None  # Stripe's error code (e.g. charge_already_refunded)


_INTENT = re.compile(r"^/v1/payment_intents/(pi_[A-Za-z0-9]+)")
_REFUND = re.compile(r"^/v1/refunds/(re_[A-Za-z0-9]+)")


class _Rules:
    """``fail_next`` once, for the proxy itself and for its remote control: both only differ in ``_add``."""

    def fail_next(
        self,
        method: str,
        path: str,
        *,
        times: int = 1,
        status: int = 503,
        order_id: str | None = None,
        error_type: str = "api_error",
        error_code: str | None = None,
    ) -> None:
        rule = {"method": method, "path": path, "times": times, "status": status}
        self._add({**rule, "order_id": order_id, "error_type": error_type, "error_code": error_code})

    def _add(self, rule: dict[str, Any]) -> None:
        raise NotImplementedError


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # concurrency tests open 16+ connections at once; the default backlog is 5
    daemon_threads = True


class FaultProxy(_Rules):
    def __init__(self, upstream: str, host: str = "127.0.0.1", port: int = 0) -> None:
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._faults: list[Fault] = []
        self._orders: dict[str, str] = {}  # PaymentIntent / Refund id -> orderId, from the create answers
        self._lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []
        self._per_order: dict[str, list[tuple[str, str]]] = defaultdict(list)
        self.traffic = Traffic()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            _unlogged: LoggedRequest | None = None

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.path.startswith("/_faults"):
                    self._control(body)
                    return
                shaped = _shaped(self.path)
                arrived, verdict, latency = proxy.traffic.arrive() if shaped else (0.0, None, 0.0)
                # A request the limiter refuses or the traffic fails consumes no fault rule.
                fault = proxy._take(self.command, self.path) if verdict is None else None
                proxy.requests.append((self.command, self.path))
                order = proxy._count(self.command, self.path, body)
                path = self.path.split("?")[0]
                self._unlogged = LoggedRequest(arrived, self.command, path, 0, order) if shaped else None
                try:
                    if latency:
                        time.sleep(latency)
                    self._answer(fault, verdict, body)
                finally:
                    self._log(0)  # no answer (a dropped connection, an error): logged as status 0

            def _log(self, status: int) -> None:
                """Log the request with its answer before the answer goes out, so whoever got it finds it logged."""
                entry, self._unlogged = self._unlogged, None
                if entry is not None:
                    proxy.traffic.done(LoggedRequest(entry.at, entry.method, entry.path, status, entry.order))

            def _answer(self, fault: Fault | None, verdict: int | None, body: bytes) -> int:
                """Answer the request: an injected fault (a rule, then the traffic's 429/500) or localstripe's."""
                if verdict is not None:
                    self._send_json(verdict, error_body(verdict))
                    return verdict
                if fault is not None:
                    if fault.status == 0:
                        self.close_connection = True
                        self.connection.close()
                        return 0
                    error = {"type": fault.error_type, "code": fault.error_code, "message": "injected fault"}
                    self._send_json(fault.status, {"error": error})
                    return fault.status
                conn = http.client.HTTPConnection(*proxy._upstream, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request(self.command, self.path, body=body or None, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                self._log(answer.status)
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()
                if self.command == "POST" and self.path.split("?")[0] in ("/v1/payment_intents", "/v1/refunds"):
                    proxy._learn(data)
                return answer.status

            def _send_json(self, status: int, document: Any) -> None:
                self._log(status)
                payload = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _control(self, body: bytes) -> None:
                if self.path.split("?")[0] == "/_faults/traffic":
                    self._traffic(body)
                    return
                if self.command == "GET":
                    order = (parse_qs(urlsplit(self.path).query).get("order") or [""])[0]
                    if order:
                        payload = json.dumps(proxy.requests_for(order)).encode()
                    else:  # every request received, attributed to an order or not (e.g. a blocked order: none)
                        payload = json.dumps({"total": proxy.total()}).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                if self.command == "DELETE":
                    proxy.clear()
                else:
                    proxy._add(json.loads(body or b"{}"))
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _traffic(self, body: bytes) -> None:
                """GET: settings, peak in flight and the request log; POST: new settings; DELETE: empty the log."""
                if self.command == "GET":
                    self._send_json(200, proxy.traffic.snapshot())
                    return
                try:
                    if self.command == "POST":
                        proxy.traffic.configure(TrafficSettings.from_json(json.loads(body or b"{}")))
                    else:
                        proxy.traffic.reset_log()
                except (ValueError, TypeError) as err:
                    self._send_json(400, {"error": {"type": "invalid_request_error", "message": str(err)}})
                    return
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_DELETE = _any

        self._server = _Server((host, port), Handler)
        self.url = f"http://{host}:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _add(self, rule: dict[str, Any]) -> None:
        fault = Fault(
            rule.get("method", "POST"),
            re.compile(rule["path"]),
            int(rule.get("times", 1)),
            int(rule.get("status", 503)),
            rule.get("order_id"),
            rule.get("error_type") or "api_error",
            rule.get("error_code"),
        )
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> int:
        with self._lock:
            return sum(f.times for f in self._faults)

    def _learn(self, answer: bytes) -> None:
        try:
            intent = json.loads(answer)
            order = (intent.get("metadata") or {}).get("orderId")
        except (ValueError, AttributeError):
            return
        if order and str(intent.get("id", "")).startswith(("pi_", "re_")):
            with self._lock:
                self._orders[intent["id"]] = order

    def _count(self, method: str, path: str, body: bytes) -> str | None:
        """Attribute the request to its order: by the object in the path, the intent it names, or the create's
        metadata (a create that failed has no answer to learn from)."""
        parts = urlsplit(path)
        fields = {**parse_qs(parts.query), **parse_qs(body.decode("utf-8", "replace"))}
        named = _INTENT.match(parts.path) or _REFUND.match(parts.path)
        with self._lock:
            order = self._orders.get(named.group(1)) if named else None
            if order is None and fields.get("payment_intent"):
                order = self._orders.get(fields["payment_intent"][0])
            if order is None and fields.get("metadata[orderId]"):
                order = fields["metadata[orderId]"][0]
            if order is not None:
                self._per_order[order].append((method, parts.path))
        return order

    def requests_for(self, order_id: str) -> list[tuple[str, str]]:
        """Every request the proxy received about the order (method, path), in order of arrival."""
        with self._lock:
            return list(self._per_order.get(order_id, []))

    def total(self) -> int:
        """Every request the proxy received, whether or not it could tell the order."""
        with self._lock:
            return len(self.requests)

    def _take(self, method: str, path: str) -> Fault | None:
        path = path.split("?")[0]
        intent = _INTENT.match(path)
        with self._lock:
            order = self._orders.get(intent.group(1)) if intent else None
            for fault in self._faults:
                if fault.order_id is not None and fault.order_id != order:
                    continue
                if fault.times > 0 and fault.method == method and fault.path.search(path):
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


CONFIRM = r"/v1/payment_intents/[^/]+/confirm$"


def _shaped(path: str) -> bool:
    """An API request Stripe would count (not a test control such as ``/_authenticate``, nor ``/_config``)."""
    path = path.split("?")[0]
    return path.startswith("/v1/") and "/_" not in path


class RemoteFaults(_Rules):
    """Adds rules to a ``FaultProxy`` running in another process, through its ``/_faults`` endpoint."""

    def __init__(self, api_base: str) -> None:
        self.url = api_base.rstrip("/") + "/_faults"

    def _add(self, rule: dict[str, Any]) -> None:
        request = urllib.request.Request(self.url, data=json.dumps(rule).encode(), method="POST")
        with urllib.request.urlopen(request, timeout=5):
            pass

    def clear(self) -> None:
        with urllib.request.urlopen(urllib.request.Request(self.url, method="DELETE"), timeout=5):
            pass

    def requests_for(self, order_id: str) -> list[tuple[str, str]]:
        """Every gateway request the proxy received about the order (method, path)."""
        with urllib.request.urlopen(f"{self.url}/requests?order={quote(order_id)}", timeout=5) as answer:
            return [(str(m), str(p)) for m, p in json.loads(answer.read())]

    def total(self) -> int:
        """Every gateway request the proxy received so far, attributed to an order or not."""
        with urllib.request.urlopen(f"{self.url}/requests", timeout=5) as answer:
            return int(json.loads(answer.read())["total"])

    def shape(self, settings: TrafficSettings) -> None:
        """Latency, rate limiter and transient 5xx for every API request from now on (``stripe_traffic``)."""
        request = urllib.request.Request(f"{self.url}/traffic", data=json.dumps(asdict(settings)).encode())
        with urllib.request.urlopen(request, timeout=5):
            pass

    def traffic(self) -> dict[str, Any]:
        """The traffic settings, the most requests in flight at once and the request log (``Traffic.snapshot``)."""
        with urllib.request.urlopen(f"{self.url}/traffic", timeout=30) as answer:
            return dict(json.loads(answer.read()))

    def reset_traffic_log(self) -> None:
        with urllib.request.urlopen(urllib.request.Request(f"{self.url}/traffic", method="DELETE"), timeout=5):
            pass
