"""A fault-injecting HTTP layer in front of the local Stripe-compatible server.

Scenarios that need a gateway outage (a 5xx, a dropped connection, a slow answer) get it here, between the real
SDK and the real server, instead of from a simulator-only token: the adapter under test is the production one.

``FaultProxy(upstream).fail_next("POST", r"/confirm$", times=2, status=503)`` makes the next two matching requests
fail; everything else is forwarded unchanged. Rules are consumed in order, under a lock, so concurrent requests
see each failure exactly once.
"""

from __future__ import annotations

import http.client
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    times: int
    status: int  # 0: drop the connection without an answer
    delay: float = 0.0


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # concurrency tests open 16+ connections at once; the default backlog is 5
    daemon_threads = True


class FaultProxy:
    def __init__(self, upstream: str, host: str = "127.0.0.1") -> None:
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fault = proxy._take(self.command, self.path)
                proxy.requests.append((self.command, self.path))
                if fault is not None:
                    if fault.delay:
                        time.sleep(fault.delay)  # the injected slowness itself, not a wait in a test
                    if fault.status == 0:
                        self.close_connection = True
                        self.connection.close()
                        return
                    payload = b'{"error": {"type": "api_error", "message": "injected fault"}}'
                    self.send_response(fault.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                conn = http.client.HTTPConnection(*proxy._upstream, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request(self.command, self.path, body=body or None, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = do_DELETE = _any

        self._server = _Server((host, 0), Handler)
        self.url = f"http://{host}:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def fail_next(self, method: str, path: str, *, times: int = 1, status: int = 503, delay: float = 0.0) -> None:
        with self._lock:
            self._faults.append(Fault(method, re.compile(path), times, status, delay))

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> int:
        with self._lock:
            return sum(f.times for f in self._faults)

    def _take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.times > 0 and fault.method == method and fault.path.search(path.split("?")[0]):
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
