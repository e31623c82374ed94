"""The functions no queue feeds, run locally as AWS runs them: a function URL served on loopback, and schedules.

moto stores a function's URL config and the schedule rules Terraform makes, but serves and fires neither. Like
``sam local start-api``, ``FunctionUrlServer`` listens on a loopback port and turns each HTTP request into the
function URL's event (payload format 2.0), runs the function in-process (``lambda_runtime.FunctionInvoker``) and
answers with what it returned. ``ScheduleRunner`` invokes a function each time its ``rate(...)`` comes round
(first one interval after it starts, as on AWS). ``invoke_once`` runs a function once now wherever it runs:
in-process with the stand-in, through the emulator's Invoke API where the emulator runs the functions.

``discover_urls_and_schedules`` reads what to serve from the emulator: each function's URL config and the schedule
rules' targets. Where the emulator serves the URL itself (MiniStack), ``emulator_url`` is its path-style address.
``serve_urls_and_schedules`` starts both for ``make dev`` and the behaviour suite.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from botocore.exceptions import ClientError

from tools.devstack.aws import LOG, client
from tools.devstack.lambda_runtime import FunctionInvoker
from tools.devstack.stack import FunctionConfig, StackInfo

MAX_BODY_BYTES = 6 * 1024 * 1024  # a function URL's request payload limit
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class FunctionUrl:
    function: FunctionConfig
    url: str  # the URL AWS (or the emulator) gave it
    url_id: str


@dataclass(frozen=True)
class Schedule:
    rule: str
    expression: str
    function: FunctionConfig

    @property
    def every_seconds(self) -> int | None:
        match = _RATE.match(self.expression)
        if not match:
            return None  # cron(...) schedules are not run locally
        return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


def discover_urls_and_schedules(
    endpoint_url: str, region: str, stack: StackInfo
) -> tuple[list[FunctionUrl], list[Schedule]]:
    lam, events = client("lambda", endpoint_url, region), client("events", endpoint_url, region)
    urls = []
    for fn in stack.functions.values():
        try:
            cfg = lam.get_function_url_config(FunctionName=fn.name)
        except ClientError:
            continue
        url = str(cfg["FunctionUrl"])
        urls.append(FunctionUrl(fn, url, url.split("://", 1)[1].split(".", 1)[0]))
    by_arn = {fn.arn: fn for fn in stack.functions.values()}
    schedules = []
    for rule in events.list_rules(EventBusName="default").get("Rules", []):
        if not rule.get("ScheduleExpression") or rule.get("State", "ENABLED") != "ENABLED":
            continue
        for target in events.list_targets_by_rule(Rule=rule["Name"])["Targets"]:
            if target["Arn"] in by_arn:
                schedules.append(Schedule(rule["Name"], rule["ScheduleExpression"], by_arn[target["Arn"]]))
    return urls, schedules


def emulator_url(endpoint_url: str, url: FunctionUrl) -> str:
    """The function URL as MiniStack serves it on its own port (path-style)."""
    return f"{endpoint_url.rstrip('/')}/_aws/lambda-url/{url.url_id}/"


def url_event(
    method: str, path: str, query: str, headers: Mapping[str, str], body: bytes, url_id: str
) -> dict[str, Any]:
    """The event a function URL hands its function (payload format 2.0); a JSON or text body stays text."""
    content_type = (headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    textual = content_type.startswith("text/") or content_type in ("application/json", "application/xml", "")
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {k.lower(): v for k, v in headers.items()},
        "requestContext": {
            "accountId": "anonymous",
            "apiId": url_id,
            "domainName": f"{url_id}.lambda-url.local",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"},
            "requestId": str(uuid.uuid4()),
            "timeEpoch": int(time.time() * 1000),
        },
        "isBase64Encoded": not textual,
    }
    if body:
        event["body"] = body.decode("utf-8", errors="replace") if textual else base64.b64encode(body).decode()
    return event


class FunctionUrlServer:
    """One function URL on loopback; ``url`` is where to send requests."""

    def __init__(self, invoker: FunctionInvoker, target: FunctionUrl, host: str = "127.0.0.1", port: int = 0) -> None:
        self.target = target
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # the function logs what matters
                pass

            def do_GET(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                if length > MAX_BODY_BYTES:
                    self.send_response(413)
                    self.end_headers()
                    return
                body = self.rfile.read(length)
                path, _, query = self.path.partition("?")
                event = url_event(self.command, path, query, dict(self.headers.items()), body, target.url_id)
                status, headers, payload = server.answer(invoker.invoke(target.function, event))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._http = ThreadingHTTPServer((host, port), Handler)
        self._http.daemon_threads = True
        self.url = f"http://{host}:{self._http.server_address[1]}/"
        self._thread = threading.Thread(
            target=self._http.serve_forever, name=f"url-{target.function.name}", daemon=True
        )

    @staticmethod
    def answer(outcome: Any) -> tuple[int, dict[str, str], bytes]:
        """A function URL's response from the handler's result (a dict with statusCode, or any JSON value)."""
        if outcome.error is not None:
            return 502, {"content-type": "application/json"}, json.dumps({"message": "Internal Server Error"}).encode()
        result = outcome.result
        if isinstance(result, dict) and "statusCode" in result:
            body = result.get("body") or ""
            raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
            return int(result["statusCode"]), dict(result.get("headers") or {}), raw
        return 200, {"content-type": "application/json"}, json.dumps(result).encode()

    def start(self) -> FunctionUrlServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()


def scheduled_event(schedule: Schedule, region: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [schedule.rule],
        "detail": {},
    }


class ScheduleRunner:
    """Invokes each schedule's function every time its rate comes round, on a daemon thread."""

    def __init__(self, invoker: FunctionInvoker, schedules: list[Schedule], region: str) -> None:
        self.schedules = [s for s in schedules if s.every_seconds]
        self._invoker, self._region = invoker, region
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="schedules", daemon=True)

    def _loop(self) -> None:
        started = time.monotonic()
        due = {s.rule: started + float(s.every_seconds or 0) for s in self.schedules}
        while not self._stop.wait(1.0):
            for schedule in self.schedules:
                if time.monotonic() >= due[schedule.rule]:
                    due[schedule.rule] += float(schedule.every_seconds or 0)
                    outcome = self._invoker.invoke(schedule.function, scheduled_event(schedule, self._region))
                    LOG.info("schedule %s ran %s: %s", schedule.rule, schedule.function.name, outcome.error or "ok")

    def start(self) -> ScheduleRunner:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def invoke_once(endpoint_url: str, region: str, fn: FunctionConfig, event: dict[str, Any], in_process: bool) -> Any:
    """Run a function once now and return what it answered (raises with the error it reported)."""
    if in_process:
        outcome = FunctionInvoker(endpoint_url, region).invoke(fn, event)
        if outcome.error is not None:
            raise RuntimeError(f"{fn.name} failed: {outcome.error}")
        return outcome.result
    lam = client("lambda", endpoint_url, region, timeout=max(60.0, fn.timeout_seconds + 10.0))
    answer = lam.invoke(FunctionName=fn.name, Payload=json.dumps(event).encode())
    payload = json.loads(answer["Payload"].read() or b"null")
    if answer.get("FunctionError"):
        raise RuntimeError(f"{fn.name} failed: {payload}")
    return payload


def webhook_secret(endpoint_url: str, region: str, fn: FunctionConfig) -> str:
    """The signing secret the deployed webhook function checks (what Terraform stored locally)."""
    secret_id = fn.environment["STRIPE_WEBHOOK_SECRET_ID"]
    value = str(client("secretsmanager", endpoint_url, region).get_secret_value(SecretId=secret_id)["SecretString"])
    return str(json.loads(value)["signing_secret"]) if value.startswith("{") else value


@dataclass
class UrlsAndSchedules:
    """The served URLs and the schedule runner of one local Lambda service; ``webhook_url`` is what Stripe calls."""

    servers: list[FunctionUrlServer]
    runner: ScheduleRunner | None
    webhook_url: str | None

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        if self.runner is not None:
            self.runner.stop()


def serve_urls_and_schedules(
    endpoint_url: str, region: str, invoker: FunctionInvoker, *, schedules: bool = True
) -> UrlsAndSchedules:
    """Serve every function URL on loopback, run the schedules, and point the local Stripe's webhooks at the URL."""
    from tools.devstack.stack import discover_stack

    stack = discover_stack(endpoint_url, region)
    urls, found = discover_urls_and_schedules(endpoint_url, region, stack)
    servers = [FunctionUrlServer(invoker, url).start() for url in urls]
    runner = ScheduleRunner(invoker, found, region).start() if schedules and found else None
    webhook = next((s for s in servers if "STRIPE_WEBHOOK_SECRET_ID" in s.target.function.environment), None)
    if webhook is not None:
        connect_webhooks(endpoint_url, region, webhook.target.function, webhook.url)
    for server in servers:
        LOG.info("function URL of %s served at %s", server.target.function.name, server.url)
    return UrlsAndSchedules(servers, runner, webhook.url if webhook is not None else None)


def webhook_endpoint(endpoint_url: str, region: str, stack: StackInfo) -> tuple[FunctionConfig, str] | None:
    """Where the emulator itself serves the webhook function's URL (MiniStack, LocalStack), and that function."""
    urls, _ = discover_urls_and_schedules(endpoint_url, region, stack)
    for url in urls:
        if "STRIPE_WEBHOOK_SECRET_ID" in url.function.environment:
            return url.function, emulator_url(endpoint_url, url)
    return None


def connect_webhooks(endpoint_url: str, region: str, fn: FunctionConfig, url: str) -> None:
    """Register ``url`` with the local Stripe the function talks to, signed with the secret the function checks."""
    from tools.devstack.stripe_local import LocalStripe

    api_base = fn.environment.get("STRIPE_API_BASE")
    if not api_base:
        return  # a real Stripe: the endpoint is registered in its Dashboard (docs/gateway.md)
    LocalStripe(api_base).register_webhook(url, webhook_secret(endpoint_url, region, fn))
