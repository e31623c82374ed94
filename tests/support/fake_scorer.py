"""A fraud scorer on loopback for the tests (the shape vendors offer: POST the order, answer a score and a
decision). What it answers is set per test: a score, an HTTP status, a delay; it records what it was sent."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeScorer:
    def __init__(self) -> None:
        self.score = 10.0
        self.decision = "allow"
        self.status = 200
        self.delay_seconds = 0.0
        self.received: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        scorer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                scorer.received.append(body)
                scorer.headers.append(dict(self.headers))
                if scorer.delay_seconds:
                    time.sleep(scorer.delay_seconds)  # the slow vendor, not a wait in a test
                payload = json.dumps({"score": scorer.score, "decision": scorer.decision}).encode()
                try:
                    self.send_response(scorer.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (its timeout)
                    pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/score"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> FakeScorer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def fake_scorer() -> Iterator[FakeScorer]:
    scorer = FakeScorer().start()
    try:
        yield scorer
    finally:
        scorer.stop()


def closed_port_url() -> str:
    """A loopback URL nothing listens on: the scorer is down."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()
    return f"http://127.0.0.1:{port}/score"
