"""Deploying ``terraform/envs/local`` into an emulator, once per test session.

``deploy_local(endpoint_url, state_dir)`` runs ``tools/tf.sh apply-local`` (offline provider mirror, state and
Terraform data dir inside ``state_dir``) and returns ``terraform output -json`` flattened to ``{name: value}``.
An apply costs about 80 s against moto (each SQS queue waits ~25 s in the provider), so the session fixtures
below do it once and every suite shares the result:

* ``moto_endpoint``: an in-process moto server on a free loopback port (``tests/support/emulator.py``);
* ``deployed_stack``: the applied stack in that server, a ``DeployedStack`` (a dict of the outputs that also
  carries ``state_dir``, ``endpoint_url``, ``log_path`` and ``apply_seconds``).

The apply streams its output to ``<state_dir>/terraform.log`` and reports progress on the terminal (even
without ``pytest -s``); it is killed after ``TF_APPLY_TIMEOUT`` seconds (default 600) and a failure quotes the
tail of the log.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.support.emulator import start_moto
from tools.devstack.aws import emulator_kind

ROOT = Path(__file__).resolve().parents[2]
TF_SH = ROOT / "tools" / "tf.sh"
LAMBDA_ZIP = ROOT / "build" / "lambda.zip"
LOCAL_ENV = ROOT / "terraform" / "envs" / "local"
STATE_FILE = "terraform-local.tfstate"
LOG_FILE = "terraform.log"
DEFAULT_TIMEOUT = float(os.environ.get("TF_APPLY_TIMEOUT", "600"))

__all__ = [
    "DeployError",
    "DeployedStack",
    "EarlyApply",
    "deploy_local",
    "deployed_stack",
    "moto_endpoint",
    "needs_deployed_stack",
    "plan_local",
    "pytest_progress",
    "run_tf",
    "stack_applied_ahead",
    "stderr_progress",
    "tf_env",
]


class DeployError(RuntimeError):
    """Terraform failed, timed out, or could not start; the message says why and where the log is."""


class DeployedStack(dict[str, Any]):
    """``terraform output -json`` of envs/local flattened to ``{name: value}``, plus where it came from."""

    def __init__(
        self, outputs: dict[str, Any], *, endpoint_url: str, state_dir: Path, log_path: Path, apply_seconds: float
    ) -> None:
        super().__init__(outputs)
        self.endpoint_url = endpoint_url
        self.state_dir = state_dir
        self.log_path = log_path
        self.apply_seconds = apply_seconds


Progress = Callable[[str], None]


def stderr_progress(message: str) -> None:
    """Default progress sink: the process's real stderr (unless TF_PROGRESS=0)."""
    if os.environ.get("TF_PROGRESS", "1") == "0" or sys.__stderr__ is None:
        return
    sys.__stderr__.write(f"[terraform] {message}\n")
    sys.__stderr__.flush()


def pytest_progress(config: pytest.Config) -> Progress:
    """A progress sink that reaches the terminal through pytest's output capture (no -s needed)."""
    capture = config.pluginmanager.getplugin("capturemanager")

    def say(message: str) -> None:
        if os.environ.get("TF_PROGRESS", "1") == "0":
            return
        if capture is None:
            stderr_progress(message)
            return
        with capture.global_and_fixture_disabled():
            sys.stderr.write(f"\n[terraform] {message}")
            sys.stderr.flush()

    return say


def tf_env(endpoint_url: str, state_dir: Path, variables: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for tools/tf.sh: emulator endpoint, dummy credentials, state and data dir in state_dir, and
    Terraform variables as ``TF_VAR_<name>``."""
    env = dict(os.environ)
    env.update({f"TF_VAR_{name}": value for name, value in (variables or {}).items()})
    env.update(
        AWS_ENDPOINT_URL=endpoint_url,
        TF_LOCAL_STATE=str(Path(state_dir) / STATE_FILE),
        AWS_ACCESS_KEY_ID=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        AWS_SECRET_ACCESS_KEY=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        AWS_REGION=os.environ.get("AWS_REGION", "us-east-2"),
        AWS_DEFAULT_REGION=os.environ.get("AWS_DEFAULT_REGION", os.environ.get("AWS_REGION", "us-east-2")),
    )
    # Never let a profile or a real session token leak into a run against the emulator.
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        env.pop(name, None)
    return env


VARS_FILE = "tf-vars.json"


def _variables(state_dir: Path) -> dict[str, str]:
    """The Terraform variables ``deploy_local`` applied with: every later run on the same state uses them too."""
    path = state_dir / VARS_FILE
    return dict(json.loads(path.read_text())) if path.is_file() else {}


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def run_tf(
    args: Sequence[str],
    *,
    endpoint_url: str,
    state_dir: Path,
    timeout: float = DEFAULT_TIMEOUT,
    label: str | None = None,
    ok_codes: Sequence[int] = (0,),
    progress: Progress = stderr_progress,
) -> tuple[int, str]:
    """Run ``tools/tf.sh <args>``; append its output to ``<state_dir>/terraform.log``; return (code, stdout).

    stdout is returned apart (for ``output -json`` / ``show -json``); stderr and, unless ``label`` is None,
    stdout lines also go to the log. A run longer than ``timeout`` is killed with its whole process group.
    """
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    log_path = state_dir / LOG_FILE
    merge_stderr = label is not None
    label = label or " ".join(args)
    started = time.monotonic()
    with log_path.open("a") as log:
        log.write(f"\n===== tools/tf.sh {' '.join(args)}\n")
        log.flush()
        try:
            process = subprocess.Popen(
                [str(TF_SH), *args],
                cwd=ROOT,
                env=tf_env(endpoint_url, state_dir, _variables(state_dir)),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT if merge_stderr else log,
                text=True,
                start_new_session=True,
            )
        except OSError as exc:
            raise DeployError(f"cannot run {TF_SH}: {exc}") from exc
        out_lines: list[str] = []
        done = 0

        def pump() -> None:
            nonlocal done
            assert process.stdout is not None
            for line in process.stdout:
                out_lines.append(line)
                log.write(line)
                log.flush()
                if "Creation complete" in line or "Modifications complete" in line:
                    done += 1

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        last_report = started
        while True:
            try:
                code = process.wait(timeout=1)
                break
            except subprocess.TimeoutExpired:
                now = time.monotonic()
                if now - started > timeout:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
                    reader.join(5)
                    raise DeployError(
                        f"tools/tf.sh {label} timed out after {timeout:.0f} s (killed); log {log_path}; "
                        f"last lines:\n{_tail(log_path)}"
                    ) from None
                if now - last_report >= 15:
                    progress(f"{label}: {now - started:.0f} s, {done} resources done")
                    last_report = now
        reader.join(10)
        log.write(f"===== exit {code} after {time.monotonic() - started:.1f} s\n")
    if code not in ok_codes:
        raise DeployError(
            f"tools/tf.sh {label} failed with exit code {code}; log {log_path}; last lines:\n{_tail(log_path)}"
        )
    return code, "".join(out_lines)


def _json_from(stdout: str) -> Any:
    """The JSON document in tf.sh's stdout (progress lines of the wrapper go to stderr, but be tolerant)."""
    start = min((i for i in (stdout.find("{"), stdout.find("[")) if i >= 0), default=-1)
    if start < 0:
        raise DeployError(f"no JSON in terraform output: {stdout[:500]!r}")
    return json.loads(stdout[start:])


def deploy_local(
    endpoint_url: str,
    state_dir: Path | str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    progress: Progress = stderr_progress,
    variables: dict[str, str] | None = None,
) -> DeployedStack:
    """Apply terraform/envs/local into the emulator at ``endpoint_url``; return the outputs, flattened.

    ``state_dir`` holds the state, Terraform's data dir and ``terraform.log``. Applying twice into the same
    emulator with the same ``state_dir`` is a no-op apart from the documented emulator gaps. ``variables``
    (e.g. where the local Stripe listens) are kept in ``state_dir`` for every later run on that state.
    """
    if not LAMBDA_ZIP.is_file():
        raise DeployError(f"{LAMBDA_ZIP.relative_to(ROOT)} is missing: run make package")
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / VARS_FILE).write_text(json.dumps(variables or {}))
    log_path = state_dir / LOG_FILE
    progress(f"applying terraform/envs/local into {endpoint_url} (about 2 minutes); log {log_path}")
    started = time.monotonic()
    run_tf(
        ["apply-local"],
        endpoint_url=endpoint_url,
        state_dir=state_dir,
        timeout=timeout,
        label="apply-local",
        progress=progress,
    )
    seconds = time.monotonic() - started
    _, stdout = run_tf(["output-local"], endpoint_url=endpoint_url, state_dir=state_dir, timeout=120, label=None)
    outputs = {name: item["value"] for name, item in _json_from(stdout).items()}
    progress(f"applied in {seconds:.0f} s\n")
    return DeployedStack(
        outputs, endpoint_url=endpoint_url, state_dir=state_dir, log_path=log_path, apply_seconds=seconds
    )


def plan_local(endpoint_url: str, state_dir: Path | str, *, timeout: float = DEFAULT_TIMEOUT) -> tuple[int, Any]:
    """``terraform plan -detailed-exitcode`` of envs/local against its state; returns (exit code, plan JSON).

    Exit code 0: no changes, 2: changes (inspect ``resource_changes`` of the JSON).
    """
    state_dir = Path(state_dir)
    plan_file = state_dir / "second.tfplan"
    code, _ = run_tf(
        ["plan-local", "-detailed-exitcode", f"-out={plan_file}"],
        endpoint_url=endpoint_url,
        state_dir=state_dir,
        timeout=timeout,
        label="plan-local",
        ok_codes=(0, 2),
    )
    _, stdout = run_tf(
        ["show-local", "-json", str(plan_file)], endpoint_url=endpoint_url, state_dir=state_dir, timeout=120
    )
    return code, _json_from(stdout)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """Endpoint URL of the session's in-process moto server (free loopback port)."""
    server, endpoint_url = start_moto("127.0.0.1")
    try:
        yield endpoint_url
    finally:
        server.stop()


def needs_deployed_stack(items: Sequence[pytest.Item]) -> bool:
    """Whether a collected test uses the applied stack: directly, or through the behaviour suite's ``world`` on
    moto (it asks for ``deployed_stack`` only at run time)."""
    return any(
        "deployed_stack" in item.fixturenames or ("world" in item.fixturenames and emulator_kind() == "moto")
        for item in items
    )


class EarlyApply:
    """terraform/envs/local being applied in a thread from the session's first test on.

    Why: the apply is ~100 s of waiting (the provider polls each new SQS queue) and used to block the first
    behaviour test while both cores idled; started at once, it overlaps the unit and contract suites, which
    ``tests/conftest.py`` orders first and which send nothing to the emulator's buses. The thread cannot write to
    the terminal (pytest captures the test that is running), so its progress is queued and shown by ``wait``.
    """

    def __init__(self, endpoint_url: str, state_dir: Path, variables: dict[str, str]) -> None:
        self._messages: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._result: DeployedStack | None = None
        self._error: BaseException | None = None
        self.started = time.monotonic()
        self._thread = threading.Thread(
            target=self._apply, args=(endpoint_url, state_dir, variables), name="apply-envs-local", daemon=True
        )
        self._thread.start()

    def _apply(self, endpoint_url: str, state_dir: Path, variables: dict[str, str]) -> None:
        try:
            self._result = deploy_local(endpoint_url, state_dir, progress=self._messages.put, variables=variables)
        except BaseException as exc:  # handed to the waiting fixture, which reports it
            self._error = exc

    def wait(self, progress: Progress) -> DeployedStack:
        """Block until the apply ends, relaying its progress; its result, or its error raised here."""
        waited = time.monotonic()
        while self._thread.is_alive():
            self._thread.join(1)
            self._relay(progress)
        self._relay(progress)
        if waited - self.started > 1:  # only worth saying when the apply ran beside other tests
            ahead, waited_for = waited - self.started, time.monotonic() - waited
            progress(f"(started {ahead:.0f} s before a test needed it, which then waited {waited_for:.0f} s)\n")
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    def _relay(self, progress: Progress) -> None:
        while True:
            try:
                progress(self._messages.get_nowait())
            except queue.Empty:
                return


_EARLY = pytest.StashKey[EarlyApply]()


def _start_apply(
    config: pytest.Config, endpoint_url: str, stripe_api_base: str, factory: pytest.TempPathFactory
) -> EarlyApply:
    early = config.stash.get(_EARLY, None)
    if early is None:
        variables = {"gateway_mode": "stripe", "stripe_api_base": stripe_api_base}
        early = EarlyApply(endpoint_url, factory.mktemp("tf-local"), variables)
        config.stash[_EARLY] = early
    return early


@pytest.fixture(scope="session", autouse=True)
def stack_applied_ahead(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Start applying the stack with the session's first test when any collected test will need it."""
    if needs_deployed_stack(request.session.items):
        endpoint_url = request.getfixturevalue("moto_endpoint")
        stripe = request.getfixturevalue("local_stripe")
        _start_apply(request.config, endpoint_url, stripe.api_base, tmp_path_factory)


@pytest.fixture(scope="session")
def deployed_stack(
    moto_endpoint: str, local_stripe: Any, tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> DeployedStack:
    """terraform/envs/local applied once into the session's moto server, its functions on the Stripe gateway
    against the session's localstripe (through the fault proxy); the flattened outputs. Usually the apply began
    with the session's first test (``stack_applied_ahead``) and is done or nearly so."""
    early = _start_apply(pytestconfig, moto_endpoint, local_stripe.api_base, tmp_path_factory)
    try:
        return early.wait(pytest_progress(pytestconfig))
    except DeployError as exc:
        pytest.fail(f"deploying terraform/envs/local failed: {exc}", pytrace=False)
