"""How the local Stripe behaves under load: latency, a rate limiter, transient 5xx, and a log of every request.

localstripe answers in a millisecond, never refuses a request and never fails; Stripe takes hundreds of
milliseconds, answers 429 above the account's rate and now and then a 500. The fault proxy (``stripe_faults``)
consults a ``Traffic`` before it forwards an API request (``/v1/...``), so a load run (``make load``) meets a
gateway that behaves like Stripe:

* **latency**: every API request waits ``latency_ms`` (uniform within +/- ``jitter`` of it) before its answer;
* **rate limiter**: a token bucket, as Stripe's request rate limiter is (Stripe's engineering blog, "Scaling your
  API with rate limiters"): ``rate_limit`` tokens a second, at most one second's worth (one token at least) saved
  up; a request that finds no token is answered 429 ``rate_limit`` as Stripe does (no ``Stripe-Should-Retry``
  header) and not forwarded, and spends nothing;
* **transient faults**: a ``fault_fraction`` of the admitted requests is answered 500 ``api_error`` without being
  forwarded (nothing happens at Stripe, as when Stripe fails before acting).

All three are off by default (the proxy then only forwards). Every API request is logged with its arrival time,
answer and order (``LoggedRequest``): the load driver computes the achieved rate per 1 s window, the 429s and the
gateway requests per payment from that log, where a request is counted whatever the service believes it sent.
The log also keeps the most requests in flight at once, which shows whether the functions really ran concurrently.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class TrafficSettings:
    latency_ms: float = 0.0
    jitter: float = 0.3  # the latency is uniform in [1 - jitter, 1 + jitter] x latency_ms
    rate_limit: float = 0.0  # requests per second (the bucket holds one second's worth); 0: no limiter
    fault_fraction: float = 0.0  # share of admitted requests answered 500
    seed: int | None = None

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> TrafficSettings:
        known = {f.name for f in fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise ValueError(f"unknown traffic settings: {sorted(unknown)}")
        settings = cls(**raw)
        if settings.latency_ms < 0 or not 0 <= settings.jitter < 1:
            raise ValueError("latency_ms must be >= 0 and jitter in [0, 1)")
        if settings.rate_limit < 0 or not 0 <= settings.fault_fraction < 1:
            raise ValueError("rate_limit must be >= 0 and fault_fraction in [0, 1)")
        return settings


@dataclass(frozen=True)
class LoggedRequest:
    at: float  # arrival, epoch seconds
    method: str
    path: str
    status: int  # the answer: injected (429, 500) or localstripe's
    order: str | None


@dataclass
class Traffic:
    """The shaping rules and the request log of one proxy; thread-safe (the proxy serves a thread per request)."""

    settings: TrafficSettings = field(default_factory=TrafficSettings)
    log: list[LoggedRequest] = field(default_factory=list)
    in_flight: int = 0
    peak_in_flight: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens = max(self.settings.rate_limit, 1.0)
        self._refilled = time.time()
        self._rng = random.Random(self.settings.seed)

    def configure(self, settings: TrafficSettings) -> None:
        with self._lock:
            self.settings = settings
            self._rng = random.Random(settings.seed)
            self._tokens, self._refilled = max(settings.rate_limit, 1.0), time.time()  # a full bucket

    def reset_log(self) -> None:
        with self._lock:
            self.log = []
            self.peak_in_flight = self.in_flight

    def arrive(self) -> tuple[float, int | None, float]:
        """A request arrived: (arrival time, the status to answer without forwarding or None, the latency in s)."""
        now = time.time()
        with self._lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            s = self.settings
            latency = s.latency_ms / 1000 * self._rng.uniform(1 - s.jitter, 1 + s.jitter)
            if s.rate_limit > 0:
                self._tokens = min(max(s.rate_limit, 1.0), self._tokens + (now - self._refilled) * s.rate_limit)
                self._refilled = now
                if self._tokens < 1:
                    return now, 429, latency
                self._tokens -= 1
            if s.fault_fraction > 0 and self._rng.random() < s.fault_fraction:
                return now, 500, latency
        return now, None, latency

    def done(self, entry: LoggedRequest) -> None:
        with self._lock:
            self.in_flight -= 1
            self.log.append(entry)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "settings": asdict(self.settings),
                "peak_in_flight": self.peak_in_flight,
                "requests": [[r.at, r.method, r.path, r.status, r.order] for r in self.log],
            }


def error_body(status: int) -> dict[str, Any]:
    """Stripe's answer for an injected 429 or 500 (https://docs.stripe.com/rate-limits, error types)."""
    if status == 429:
        message = "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits."
        return {"error": {"type": "invalid_request_error", "code": "rate_limit", "message": message}}
    return {"error": {"type": "api_error", "message": "injected transient fault (load run)"}}


def requests_from(snapshot: dict[str, Any]) -> list[LoggedRequest]:
    return [LoggedRequest(float(a), str(m), str(p), int(s), o) for a, m, p, s, o in snapshot["requests"]]
