"""An alarm fires on what the function really emits: evaluated here, since the emulator never evaluates alarms.

moto stores CloudWatch alarms but does not evaluate them, and the service's record-level alarms watch its own EMF
metrics (printed to the log, turned into metrics by CloudWatch Logs on AWS). A test that only sees the metric
printed, or only sees the alarm defined, would stay green when the two drift apart (another metric name, another
namespace, one dimension more or less): the alarm would then never fire. So the failure is driven through the
deployed function (its handler in a fresh process with the environment Terraform gave it, against the applied
stack: a cold container), the EMF it printed is parsed as CloudWatch would, the alarm is read back as Terraform
applied it, and CloudWatch's rule is applied: same namespace, metric name and exact dimension set, the statistic
over one period against the threshold. (Run in-process instead, the handler printed the metric without the
``service`` dimension: the package's Powertools objects had been built from the test process's environment.)
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.infra.test_apply_local import _client
from tests.support.fake_scorer import closed_port_url
from tests.support.stack import DeployedStack
from tests.support.trigger_events import new_order, payment_event
from tools.devstack.lambda_runtime import FunctionInvoker
from tools.devstack.sqs_records import sqs_batch
from tools.devstack.stack import function_config

REGION = os.environ.get("AWS_REGION", "us-east-2")
ROOT = Path(__file__).resolve().parents[2]
PAYMENT_FUNCTION = "novamart-payment-handler"
SCORER_ALARM = "novamart-payments-record-risk-scorer-errors"


@dataclass(frozen=True)
class Datapoint:
    """One metric value as CloudWatch files it from an EMF line: namespace, name, one dimension set's values."""

    namespace: str
    metric: str
    dimensions: frozenset[tuple[str, str]]
    value: float


def emf_datapoints(lines: Iterable[str]) -> list[Datapoint]:
    """The metric values of the EMF lines among ``lines`` (the embedded metric format's rules: each metric is filed
    once per dimension set, each dimension's value taken from the line's top-level member of that name)."""
    found: list[Datapoint] = []
    for line in lines:
        if '"_aws"' not in line:
            continue
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        for directive in doc.get("_aws", {}).get("CloudWatchMetrics", []):
            for metric in directive["Metrics"]:
                raw = doc[metric["Name"]]
                values = raw if isinstance(raw, list) else [raw]
                for dimension_set in directive["Dimensions"]:
                    dims = frozenset((name, str(doc[name])) for name in dimension_set)
                    found.extend(Datapoint(directive["Namespace"], metric["Name"], dims, float(v)) for v in values)
    return found


_STATISTICS = {
    "Sum": sum,
    "Maximum": max,
    "Minimum": min,
    "SampleCount": len,
    "Average": lambda v: sum(v) / len(v),
}
_COMPARISONS = {
    "GreaterThanThreshold": lambda a, b: a > b,
    "GreaterThanOrEqualToThreshold": lambda a, b: a >= b,
    "LessThanThreshold": lambda a, b: a < b,
    "LessThanOrEqualToThreshold": lambda a, b: a <= b,
}


def alarm_state(alarm: dict[str, Any], datapoints: list[Datapoint]) -> str:
    """What CloudWatch would set the alarm to after one period holding ``datapoints`` (all emitted within it)."""
    assert alarm["EvaluationPeriods"] == 1 and alarm.get("DatapointsToAlarm", 1) == 1, alarm  # one period decides
    wanted = frozenset((d["Name"], d["Value"]) for d in alarm["Dimensions"])
    values = [
        p.value
        for p in datapoints
        if p.namespace == alarm["Namespace"] and p.metric == alarm["MetricName"] and p.dimensions == wanted
    ]
    if not values:
        return "ALARM" if alarm.get("TreatMissingData") == "breaching" else "OK"
    statistic = _STATISTICS[alarm["Statistic"]](values)
    return "ALARM" if _COMPARISONS[alarm["ComparisonOperator"]](statistic, alarm["Threshold"]) else "OK"


def _applied_alarm(stack: DeployedStack, name: str) -> dict[str, Any]:
    [alarm] = _client(stack, "cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return alarm


# A cold container: a fresh interpreter with the function's environment set before anything is imported, as the
# Lambda runtime starts one. (In-process, the package's module-level Powertools objects were built long before, from
# the test process's environment: what they print is not what the function prints.)
_CONTAINER = """
import dataclasses, json, sys
from tools.devstack.lambda_runtime import LambdaContext, resolve_handler
from tools.devstack.stack import FunctionConfig
fn = FunctionConfig(**json.loads(sys.argv[1]))
result = resolve_handler(fn.handler)(json.loads(sys.stdin.read()), LambdaContext(fn, "cold"))
print("INVOCATION-RESULT " + json.dumps(result))
"""


def invoke_cold(stack: DeployedStack, function: str, event: dict[str, Any], extra_env: dict[str, str]) -> Invocation:
    """Invoke the deployed ``function`` once in a fresh process with its environment (plus ``extra_env``)."""
    fn = function_config(_client(stack, "lambda"), function)
    env = FunctionInvoker(stack.endpoint_url, REGION, extra_env=extra_env).environment(fn)
    env["PATH"] = os.environ.get("PATH", "")
    # The code under test (a mutant's copy when tools/mutants.py runs this), then the repository for tools.*.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), str(ROOT)) if p)
    done = subprocess.run(
        [sys.executable, "-c", _CONTAINER, json.dumps(dataclasses.asdict(fn))],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=fn.timeout_seconds,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    [result] = [json.loads(line.split(" ", 1)[1]) for line in lines if line.startswith("INVOCATION-RESULT ")]
    return Invocation(result, lines)


@dataclass(frozen=True)
class Invocation:
    result: Any
    stdout: list[str]


@pytest.mark.parametrize("policy", ["fail_closed", "fail_open"])
def test_the_scorer_down_fires_its_alarm(deployed_stack: DeployedStack, policy: str) -> None:
    # The deployed function as Terraform configured it, with a scorer configured and down (envs/local has none).
    down = {
        "RISK_SCORER_URL": closed_port_url(),
        "RISK_SCORER_FAILURE_POLICY": policy,
        "RISK_SCORER_TIMEOUT_SECONDS": "0.5",
    }
    ran = invoke_cold(deployed_stack, PAYMENT_FUNCTION, sqs_batch(payment_event(new_order())), down)
    assert ran.result == {"batchItemFailures": []}, ran
    emitted = emf_datapoints(ran.stdout)
    alarm = _applied_alarm(deployed_stack, SCORER_ALARM)
    watched = [p for p in emitted if p.metric == alarm["MetricName"]]
    assert watched, f"the function printed no {alarm['MetricName']} metric: {emitted}"
    assert alarm_state(alarm, emitted) == "ALARM", (alarm, watched)
    # And a healthy period leaves it quiet (the evaluation is not ALARM whatever it is given).
    assert alarm_state(alarm, [p for p in emitted if p.metric != alarm["MetricName"]]) == "OK"


def test_the_evaluation_wants_the_exact_dimension_set() -> None:
    alarm = {
        "Namespace": "NovaMart/Payments",
        "MetricName": "RiskScorerError",
        "Dimensions": [{"Name": "service", "Value": "novamart-payments"}],
        "Statistic": "Sum",
        "Threshold": 0.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "EvaluationPeriods": 1,
    }
    right = frozenset({("service", "novamart-payments")})
    assert alarm_state(alarm, [Datapoint("NovaMart/Payments", "RiskScorerError", right, 1.0)]) == "ALARM"
    extra = right | {("function_name", "f")}
    assert alarm_state(alarm, [Datapoint("NovaMart/Payments", "RiskScorerError", extra, 1.0)]) == "OK"
    assert alarm_state(alarm, [Datapoint("NovaMart/Other", "RiskScorerError", right, 1.0)]) == "OK"
    assert alarm_state(alarm, [Datapoint("NovaMart/Payments", "RiskScorerErrors", right, 1.0)]) == "OK"
    assert alarm_state(alarm, [Datapoint("NovaMart/Payments", "RiskScorerError", right, 0.0)]) == "OK"
