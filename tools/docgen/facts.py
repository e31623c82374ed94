"""Facts written once: read from the code and the Terraform, generated into the README, ``docs/`` and one README per
Terraform module, so ``make docs-check`` fails when a default, a timeout or the function list changes without
the docs being regenerated.

Hand-written pages carry the facts between markers, and only the text between them is generated:

    four AWS Lambda functions          ->   <!-- fact:function-count -->four<!-- /fact --> AWS Lambda functions
    a table or paragraph               ->   <!-- facts:NAME --> ... <!-- /facts:NAME -->  (on lines of their own)

``FACTS`` names every fact; ``PAGES`` the pages that carry markers. Each ``terraform/modules/<m>/README.md`` is
generated whole (what the module makes, its inputs and its outputs).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hcl2
from novamart_payments.config import RECORD_MAX_AWS_CALLS, RECORD_MAX_GATEWAY_CALLS, Config, receives_for_horizon

from tests.reliability.terraform_values import Module
from tools.deploy.steps import MIN_UNRESERVED as MIN_UNRESERVED_CONCURRENCY
from tools.docgen.paths import REPO

#: Hand-written pages that carry fact markers (relative to the repository).
PAGES = (
    "README.md",
    "docs/design.md",
    "docs/gateway.md",
    "docs/go-live.md",
    "docs/local-dev.md",
    "docs/localstack.md",
    "terraform/README.md",
)
_NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_INLINE = re.compile(r"<!-- fact:([a-z0-9-]+) -->(.*?)<!-- /fact -->", re.S)
_BLOCK = re.compile(r"(<!-- facts:([a-z0-9:/_-]+) -->\n)(.*?)(<!-- /facts:\2 -->)", re.S)


class Facts:
    """Everything the pages state, computed from one checkout (``root``)."""

    def __init__(self, root: Path = REPO) -> None:
        self.root = root
        self.config = (root / "lambda_src" / "novamart_payments" / "config.py").read_text(encoding="utf-8")
        self._services: dict[str, Module] = {}
        self._routings: dict[str, Module] = {}
        self.service = self._service("aws")

    def _service(self, env: str) -> Module:
        """The service module as the environment calls it (parsed once: python-hcl2 is slow)."""
        if env not in self._services:
            self._services[env] = Module(self.root / "terraform" / "envs" / env).child("service")
        return self._services[env]

    def _routing(self, env: str) -> Module:
        if env not in self._routings:
            self._routings[env] = self._service(env).child("routing")
        return self._routings[env]

    # --- the functions -------------------------------------------------------------------------------------

    def functions(self) -> list[tuple[str, str, str, str]]:
        """(key, function name, handler, description) of every function, queue-fed first."""
        out = []
        for key, body in {**self.service.locals["functions"], **self.service.locals["later_functions"]}.items():
            name = self.service.evaluate(body["function_name"])
            out.append((key, str(name), _text(body["handler"]), _text(body["description"])))
        return out

    # --- the code's defaults -------------------------------------------------------------------------------

    def env_settings(self) -> list[tuple[str, str]]:
        """(variable, default) of every setting ``Config.from_env`` reads, in its order."""
        gateway = re.search(r'env\.get\("GATEWAY_MODE", "(\w+)"\)', self.config)
        rows = [("GATEWAY_MODE", gateway.group(1) if gateway else "?")]
        for kind, name, args in re.findall(r'_(number|required|optional|flag)\(env, "([A-Z_]+)"([^)]*)\)', self.config):
            named = re.search(r"default=([^,)]+)", args)
            first = args.strip(", ").split(",")[0].strip()
            if named:
                value = named.group(1).strip().strip('"')
            elif kind == "number" and first[0].isdigit():
                value = first.replace("_", "")
            elif kind == "number":
                value = str(self.code_default(name)).removesuffix(".0")
            else:
                value = "(required)" if kind == "required" else "(unset)"
            rows.append((name, value))
        return rows

    def code_default(self, variable: str) -> float:
        match = re.search(rf'"{variable}", ([0-9_.]+|[A-Z_]+)', self.config)
        if match is None:
            raise ValueError(f"config.py no longer reads {variable} with a default")
        if match.group(1)[0].isdigit():
            return float(match.group(1).replace("_", ""))
        # A named constant (one definition shared with the code that uses it): the field's default is its value.
        return float(Config.__dataclass_fields__[variable.lower()].default)  # type: ignore[arg-type]

    def _budget_constants(self) -> tuple[int, int]:
        return RECORD_MAX_AWS_CALLS, RECORD_MAX_GATEWAY_CALLS

    def record_budget(self, overrides: dict[str, float] | None = None) -> tuple[float, float, float]:
        """(AWS share, gateway share, total) of one record's worst case, asked of ``Config`` itself (with the
        Terraform variables of ``overrides`` as the environment the functions would get), so the docs can never
        carry another formula than the code's."""
        env = {"PAYMENT_TABLE_NAME": "payments", "REFUND_TABLE_NAME": "refunds", "AWS_REGION": "us-east-2"}
        env.update({_TF_TO_ENV[k]: str(v) for k, v in (overrides or {}).items() if k in _TF_TO_ENV})
        config = Config.from_env(env)
        aws = RECORD_MAX_AWS_CALLS * config.aws_call_seconds
        gateway = RECORD_MAX_GATEWAY_CALLS * config.gateway_call_seconds
        return aws, gateway, config.record_budget_seconds

    # --- Terraform values ----------------------------------------------------------------------------------

    def env_value(self, env: str, variable: str) -> Any:
        """A value as the environment resolves it: the service module's variable, or its routing module's."""
        try:
            return self._service(env).var(variable)
        except KeyError:
            return self._routing(env).var(variable)

    def visibility_timeout(self, env: str) -> float:
        return float(self.env_value(env, "lambda_timeout_seconds")) * float(
            self._routing(env).var("visibility_timeout_multiplier")
        )

    def max_receive_count(self, env: str) -> int:
        """The queues' maxReceiveCount, which the service module derives from the retry horizon and schedule with
        the code's formula (``config.receives_for_horizon``)."""
        service = self._service(env)
        schedule = tuple(int(s) for s in service.var("retry_schedule_seconds"))
        return receives_for_horizon(schedule, int(service.var("retry_horizon_seconds")))

    def concurrency(self, env: str = "aws") -> dict[str, float]:
        """The mapping concurrency as the service module sizes it from the gateway budget (its locals, evaluated
        with the environment's values), and each function's reservation."""
        service = self._service(env)
        local = {
            name: float(service.evaluate(service.locals[name]))
            for name in (
                "gateway_requests_per_payment",
                "payments_per_second_at_budget",
                "gateway_seconds_per_payment",
                "maximum_concurrency",
                "reserved_concurrency",
            )
        }
        local["budget"] = float(service.var("gateway_budget_per_second"))
        local["latency_ms"] = float(service.var("gateway_request_latency_ms"))
        local["quota"] = len(self.functions()) * local["reserved_concurrency"] + MIN_UNRESERVED_CONCURRENCY
        return local

    def fast_redelivery(self) -> dict[str, float]:
        path = self.root / "terraform" / "envs" / "local" / "fast-redelivery.tfvars"
        with path.open(encoding="utf-8") as fh:
            return {k: float(v) for k, v in hcl2.load(fh).items() if isinstance(v, int | float)}

    # --- rendered facts ------------------------------------------------------------------------------------

    def inline(self) -> dict[str, str]:
        n = len(self.functions())
        fast = self.fast_redelivery()
        fast_aws, fast_gateway, fast_budget = self.record_budget(fast)
        # default-<variable>: the code's default of each setting Config.from_env reads (numbers as numbers).
        defaults = {
            f"default-{name.lower().replace('_', '-')}": _num(value) if _is_number(value) else value.lower()
            for name, value in self.env_settings()
        }
        multiplier = self.visibility_timeout("aws") / float(self.env_value("aws", "lambda_timeout_seconds"))
        concurrency = self.concurrency("aws")
        return {
            **defaults,
            "fast-aws-share": f"{_num(fast_aws)} s",
            "fast-gateway-share": f"{_num(fast_gateway)} s",
            "fast-record-budget": f"{_num(fast_budget)} s",
            "function-count": _NUMBER_WORDS[n] if n < len(_NUMBER_WORDS) else str(n),
            "lambda-timeout": f"{_num(self.env_value('aws', 'lambda_timeout_seconds'))} s",
            "visibility-timeout": f"{_num(self.visibility_timeout('aws'))} s",
            "visibility-multiplier": _num(multiplier),
            "batch-size": _num(self.env_value("aws", "batch_size")),
            "maximum-concurrency": _num(concurrency["maximum_concurrency"]),
            "reserved-concurrency": _num(concurrency["reserved_concurrency"]),
            "lambda-quota": _num(concurrency["quota"]),
            "local-maximum-concurrency": _num(self.concurrency("local")["maximum_concurrency"]),
            "max-receive-count": _num(self.max_receive_count("aws")),
            "record-budget": f"{_num(self.record_budget()[2])} s",
            "code-call-limits": " / ".join(
                _num(self.code_default(v))
                for v in ("AWS_CALL_TIMEOUT_SECONDS", "AWS_MAX_ATTEMPTS", "STRIPE_TIMEOUT_SECONDS")
            ),
            "fast-redelivery": (
                f"Lambda {_num(fast['lambda_timeout_seconds'])} s, visibility "
                f"{_num(fast['lambda_timeout_seconds'] * multiplier)} s, "
                f"batch {_num(fast['batch_size'])}, AWS calls "
                f"{_num(fast['aws_call_timeout_seconds'])} s x {_num(fast['aws_max_attempts'])} attempt, "
                f"Stripe {_num(fast['stripe_timeout_seconds'])} s"
            ),
        }

    def blocks(self) -> dict[str, Callable[[], str]]:
        return {
            "functions": self._functions_table,
            "time-budget": self._time_budget,
            "concurrency": self._concurrency,
            "environment": self._environment_table,
            "terraform-inputs:envs/local": lambda: _inputs_table(self.root / "terraform" / "envs" / "local"),
            "terraform-inputs:envs/aws": lambda: _inputs_table(self.root / "terraform" / "envs" / "aws"),
            "terraform-outputs:envs/aws": lambda: _outputs_table(self.root / "terraform" / "envs" / "aws"),
        }

    def _functions_table(self) -> str:
        rows = ["| function | handler | what it does |", "|---|---|---|"]
        rows += [f"| `{name}` | `{handler}` | {what} |" for _, name, handler, what in self.functions()]
        return "\n".join(rows) + "\n"

    def _time_budget(self) -> str:
        aws_calls, gateway_calls = self._budget_constants()
        aws, gateway, budget = self.record_budget()
        batch = int(self.env_value("aws", "batch_size"))
        timeout = float(self.env_value("aws", "lambda_timeout_seconds"))
        visibility = self.visibility_timeout("aws")
        margin = (timeout - batch * budget) / timeout
        return (
            f"One record at its worst: {aws_calls} AWS calls x {_num(self.code_default('AWS_MAX_ATTEMPTS'))} "
            f"attempts x {_num(self.code_default('AWS_CALL_TIMEOUT_SECONDS'))} s (connect + read) with botocore's "
            f"backoffs = {_num(aws)} s, plus {gateway_calls} gateway requests x "
            f"{_num(gateway / gateway_calls)} s ({_num(1 + self.code_default('STRIPE_MAX_NETWORK_RETRIES'))} "
            f"attempts of {_num(self.code_default('STRIPE_TIMEOUT_SECONDS'))} s, each after the request budget's "
            f"call and longest wait, and the SDK's backoff between them) = {_num(gateway)} s: "
            f"**{_num(budget)} s** (`Config.record_budget_seconds`). A batch is {batch} record(s) "
            f"({_num(batch * budget)} s), the Lambda timeout is {_num(timeout)} s ({margin:.0%} margin) and each "
            f"source queue's visibility timeout is {_num(visibility / timeout)} x that ({_num(visibility)} s). "
            "(envs/aws defaults; generated from `config.py` and the Terraform.)\n"
        )

    def _concurrency(self) -> str:
        c = self.concurrency("aws")
        n = len(self.functions())
        return (
            f"Each queue's event-source mapping runs at most **{_num(c['maximum_concurrency'])}** invocations at once, "
            "sized in Terraform from the budget (`modules/service`, the `maximum_concurrency` local; "
            "`maximum_concurrency = null` in `envs/aws`): "
            f"{_num(c['budget'])} requests/s / {_num(c['gateway_requests_per_payment'])} requests per new payment "
            f"(create, confirm) = {_num(c['payments_per_second_at_budget'])} payments/s, each holding its invocation "
            f"for {_num(c['gateway_requests_per_payment'])} x {_num(c['latency_ms'])} ms "
            f"(`gateway_request_latency_ms`, Stripe's p50, the one latency assumption) = "
            f"{_num(c['gateway_seconds_per_payment'])} s: {_num(c['payments_per_second_at_budget'])} x "
            f"{_num(c['gateway_seconds_per_payment'])} = **{_num(c['maximum_concurrency'])}** (rounded up; at least "
            "2, the SQS minimum). The AWS calls and the budget's own counter lengthen each invocation a little, so "
            "that concurrency carries about the budget's sustained rate; the counter, not the concurrency, holds the "
            "limit when Stripe answers faster. Each mapping is sized alone to the whole budget (payments dominate; "
            "when refunds run beside them the shared counter splits it). Each function reserves "
            f"{_num(c['reserved_concurrency'])} (`reserved_concurrency = null`: the mapping concurrency; set, it must "
            "be at least the mapping's, or the plan stops), so the account's Lambda quota must be at least "
            f"{n} x {_num(c['reserved_concurrency'])} + {MIN_UNRESERVED_CONCURRENCY} = **{_num(c['quota'])}** "
            "(docs/go-live.md). `terraform/envs/aws/tests/protections.tftest.hcl` checks the derivation. "
            "(envs/aws defaults; generated from the Terraform.)\n"
        )

    def _environment_table(self) -> str:
        rows = ["| variable | default in the code |", "|---|---|"]
        rows += [f"| `{name}` | `{default}` |" for name, default in self.env_settings()]
        return "\n".join(rows) + "\n"

    # --- pages ---------------------------------------------------------------------------------------------

    def page(self, text: str, where: str, values: dict[str, str], blocks: dict[str, str]) -> str:

        def inline(match: re.Match[str]) -> str:
            if match.group(1) not in values:
                raise ValueError(f"{where}: unknown fact {match.group(1)!r}")
            return f"<!-- fact:{match.group(1)} -->{values[match.group(1)]}<!-- /fact -->"

        def block(match: re.Match[str]) -> str:
            if match.group(2) not in blocks:
                raise ValueError(f"{where}: unknown facts block {match.group(2)!r}")
            return f"{match.group(1)}{blocks[match.group(2)]}{match.group(4)}"

        return _BLOCK.sub(block, _INLINE.sub(inline, text))

    def render(self) -> dict[Path, str]:
        out: dict[Path, str] = {}
        values, blocks = self.inline(), {name: make() for name, make in self.blocks().items()}
        for rel in PAGES:
            path = self.root / rel
            if path.exists():
                out[path] = self.page(path.read_text(encoding="utf-8"), rel, values, blocks)
        for module in sorted((self.root / "terraform" / "modules").iterdir()):
            if (module / "variables.tf").exists():
                out[module / "README.md"] = _module_readme(module)
        return out


# The Terraform variables (fast-redelivery.tfvars) that reach the functions as these settings.
_TF_TO_ENV = {
    "aws_call_timeout_seconds": "AWS_CALL_TIMEOUT_SECONDS",
    "aws_max_attempts": "AWS_MAX_ATTEMPTS",
    "stripe_timeout_seconds": "STRIPE_TIMEOUT_SECONDS",
    "stripe_max_network_retries": "STRIPE_MAX_NETWORK_RETRIES",
    "gateway_budget_max_wait_seconds": "GATEWAY_BUDGET_MAX_WAIT_SECONDS",
}


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _text(value: Any) -> str:
    return str(value).strip('"')


def _num(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else f"{number:g}"


def _load(directory: Path, name: str) -> list[tuple[str, dict[str, Any]]]:
    path = directory / name
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as fh:
        blocks = hcl2.load(fh).get(name.removesuffix("s.tf"), [])
    return [(_text(k), v) for block in blocks for k, v in block.items()]


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _default(body: dict[str, Any]) -> str:
    if "default" not in body:
        return "required"
    value = body["default"]
    if value is None:
        return "`null`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, int | float):
        return f"`{_num(value)}`"
    return f"`{_cell(_text(value) if isinstance(value, str) else value)}`"


def _inputs_table(directory: Path) -> str:
    rows = ["| variable | default | description |", "|---|---|---|"]
    for name, body in _load(directory, "variables.tf"):
        rows.append(f"| `{name}` | {_default(body)} | {_cell(_text(body.get('description', '')))} |")
    return "\n".join(rows) + "\n"


def _outputs_table(directory: Path) -> str:
    rows = ["| output | description |", "|---|---|"]
    rows += [f"| `{n}` | {_cell(_text(b.get('description', '')))} |" for n, b in _load(directory, "outputs.tf")]
    return "\n".join(rows) + "\n"


def _module_readme(module: Path) -> str:
    main = (module / "main.tf").read_text(encoding="utf-8")
    intro = []
    for line in main.splitlines():
        if not line.startswith("#"):
            break
        intro.append(line.lstrip("# ").rstrip())
    lines = [
        f"# Terraform module `{module.name}`",
        "",
        f"<!-- Generated by tools/gen_docs.py from terraform/modules/{module.name}/*.tf; run `make docs`. -->",
        "",
    ]
    if intro:
        lines += [" ".join(intro), ""]
    lines += ["## Inputs", "", _inputs_table(module), "## Outputs", "", _outputs_table(module)]
    return "\n".join(lines)
