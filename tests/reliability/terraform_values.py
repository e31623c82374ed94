"""Numbers the retry-budget check needs, read from the committed Terraform with python-hcl2.

Values are resolved the way Terraform would for these simple cases: a module argument (or the variable's default
when the caller passes none), where an expression may be a number, ``var.x``, ``local.x`` or products and sums of
those. Anything else raises, naming the expression, rather than guessing.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2
from novamart_payments.config import receives_for_horizon

REPO = Path(__file__).resolve().parents[2]
TERRAFORM = REPO / "terraform"


def _unquote(name: str) -> str:
    return name.strip('"')


def _load(directory: Path) -> dict[str, list[Any]]:
    merged: dict[str, list[Any]] = {}
    for path in sorted(directory.glob("*.tf")):
        with path.open(encoding="utf-8") as fh:
            for key, blocks in hcl2.load(fh).items():
                merged.setdefault(key, []).extend(blocks)
    return merged


class Module:
    def __init__(self, directory: Path, args: dict[str, Any] | None = None, caller: Module | None = None) -> None:
        self.directory = directory
        self.doc = _load(directory)
        self._args = args or {}
        self._caller = caller
        self._defaults: dict[str, Any] = {}
        for block in self.doc.get("variable", []):
            for name, body in block.items():
                self._defaults[_unquote(name)] = body.get("default")
        self.locals: dict[str, Any] = {}
        for block in self.doc.get("locals", []):
            self.locals.update({k: v for k, v in block.items() if not k.startswith("__")})

    def var(self, name: str) -> Any:
        """The variable's value: the caller's argument if it passes one, else the default (evaluated lazily)."""
        if name in self._args and self._caller is not None:
            return self._caller.evaluate(self._args[name])
        if name not in self._defaults:
            raise KeyError(f"{self.directory}: no variable {name!r}")
        return self.evaluate(self._defaults[name])

    def module_call(self, name: str) -> dict[str, Any]:
        for block in self.doc.get("module", []):
            for call, body in block.items():
                if _unquote(call) == name:
                    return dict(body)
        raise KeyError(f"{self.directory}: no module {name!r}")

    def child(self, name: str) -> Module:
        args = self.module_call(name)
        source = self.directory / _unquote(args["source"])
        return Module(source.resolve(), args, self)

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for block in self.doc.get("resource", []):
            for rtype, named in block.items():
                if _unquote(rtype) == kind:
                    out.update({_unquote(n): body for n, body in named.items()})
        return out

    def evaluate(self, expr: Any) -> Any:
        if not isinstance(expr, str):
            return expr
        text = expr.strip()
        if text.startswith("${") and text.endswith("}"):
            text = text[2:-1].strip()
        elif text.startswith('"'):
            return text.strip('"')
        alone = re.fullmatch(r"(var|local)\.(\w+)", text)
        if alone:  # a reference on its own may be of any type (a name, a flag)
            return self.var(alone.group(2)) if alone.group(1) == "var" else self.evaluate(self.locals[alone.group(2)])
        if not re.fullmatch(r"[\w.\s*+/(),-]+", text):
            raise ValueError(f"{self.directory}: cannot evaluate {expr!r}")

        def ref(match: re.Match[str]) -> str:
            scope, name = match.group(1), match.group(2)
            value = self.var(name) if scope == "var" else self.evaluate(self.locals[name])
            if value is not None and not isinstance(value, int | float):
                raise ValueError(f"{self.directory}: {scope}.{name} = {value!r} is not a number")
            return repr(value)  # None only passes inside coalesce()

        return _arith(re.sub(r"\b(var|local)\.(\w+)", ref, text))


_OPS = {ast.Mult: operator.mul, ast.Add: operator.add, ast.Sub: operator.sub, ast.Div: operator.truediv}
# Terraform's numeric functions the modules use (coalesce: the first argument that is not null).
_CALLS: dict[str, Any] = {
    "ceil": math.ceil,
    "floor": math.floor,
    "max": max,
    "min": min,
    "coalesce": lambda *args: next(a for a in args if a is not None),
}


def _arith(text: str) -> float:
    def ev(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _CALLS:
            if node.func.id == "coalesce":
                args = [None if isinstance(a, ast.Constant) and a.value is None else ev(a) for a in node.args]
            else:
                args = [ev(a) for a in node.args]
            return _CALLS[node.func.id](*args)
        raise ValueError(f"unsupported expression {text!r}")

    value = ev(ast.parse(text, mode="eval"))
    if not isinstance(value, int | float):
        raise ValueError(f"{text!r} is not a number")
    return value


@dataclass(frozen=True)
class FunctionLimits:
    env: str
    lambda_timeout_seconds: float
    visibility_timeout_seconds: float
    batch_size: int
    max_receive_count: int
    environment_overrides: dict[str, str]


def function_limits(env: str = "local", terraform: Path = TERRAFORM) -> FunctionLimits:
    root = Module(terraform / "envs" / env)
    service = root.child("service")
    function = service.child("function")
    routing = service.child("routing")
    [lambda_fn] = function.resources("aws_lambda_function").values()
    queues = routing.resources("aws_sqs_queue")
    source_queue = next(q for q in queues.values() if "redrive_policy" in q)
    mapping = next(iter(routing.resources("aws_lambda_event_source_mapping").values()))
    # Settings the functions' environment could override (AWS and gateway timeouts and attempts), looked for
    # in the service module's environment and in whatever the environment passes as extra_environment.
    text = repr(service.locals.get("environment")) + repr(root.module_call("service").get("extra_environment", ""))
    settings = (
        "AWS_CALL_TIMEOUT_SECONDS|AWS_MAX_ATTEMPTS|STRIPE_TIMEOUT_SECONDS|STRIPE_MAX_NETWORK_RETRIES"
        "|GATEWAY_BUDGET_MAX_WAIT_SECONDS"
    )
    overrides = dict(re.findall(rf"({settings})\s*=\s*\"?([0-9.]+)", text))
    # The queues' maxReceiveCount is derived from the retry horizon and schedule (modules/service, the formula of
    # config.receives_for_horizon; the Terraform test of envs/local checks the two agree on one value).
    schedule = tuple(int(s) for s in service.var("retry_schedule_seconds"))
    receives = receives_for_horizon(schedule, int(service.var("retry_horizon_seconds")))
    if re.search(r"QUEUE_MAX_RECEIVE_COUNT\W+[^,}]*local\.max_receive_count", text):
        # The functions learn the queues' maxReceiveCount from the same local the queues use.
        overrides["QUEUE_MAX_RECEIVE_COUNT"] = str(receives)
    overrides["RETRY_SCHEDULE_SECONDS"] = ",".join(map(str, schedule))
    overrides["RETRY_HORIZON_SECONDS"] = str(int(service.var("retry_horizon_seconds")))
    return FunctionLimits(
        env=env,
        lambda_timeout_seconds=float(function.evaluate(lambda_fn["timeout"])),
        visibility_timeout_seconds=float(routing.evaluate(source_queue["visibility_timeout_seconds"])),
        batch_size=int(routing.evaluate(mapping["batch_size"])),
        max_receive_count=receives,
        environment_overrides=overrides,
    )
