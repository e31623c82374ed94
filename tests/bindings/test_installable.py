"""The packages ``make bindings`` builds install into clean environments and judge every example as the schemas do.

``make test`` runs ``make bindings`` first; these tests take its wheel and npm tarball from build/bindings/dist,
install each into a new virtual environment / a new npm project (nothing of this repository on the path), and
ask the installed ``validate`` for its verdict on every example in schemas/examples. The expected verdict is the
consumer form's: every valid example passes, and every invalid one is refused unless its only defects are fields
the producer's closed schema does not name (consumers must ignore unknown fields, so their open schema accepts it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from novamart_payments.contracts import ContractViolation, validate_event

REPO = Path(__file__).resolve().parents[2]
DIST = REPO / "build" / "bindings" / "dist"
EXAMPLES = REPO / "schemas" / "examples"
CLOSED = "is not allowed: the contract is closed"


def _version() -> str:
    sys.path.insert(0, str(REPO / "tools"))
    try:
        from gen_bindings import package_version
    finally:
        sys.path.remove(str(REPO / "tools"))
    return str(package_version())


def _artefact(pattern: str) -> Path:
    found = sorted(DIST.glob(pattern))
    assert len(found) == 1, f"expected one {pattern} in {DIST} (run `make bindings`), found {found}"
    return found[0]


def expected_verdicts() -> dict[str, bool]:
    """example path -> whether the consumer form accepts it."""
    verdicts = {}
    for path in sorted(EXAMPLES.glob("*/v*/*/*.json")):
        if path.parent.name == "valid":
            verdicts[str(path)] = True
            continue
        try:
            validate_event(json.loads(path.read_text())["event"])
        except ContractViolation as violation:
            verdicts[str(path)] = all(v.message == CLOSED for v in violation.violations)
        else:  # invalid for the service for another reason (e.g. a card number in a text): not a schema verdict
            verdicts[str(path)] = True
    return verdicts


def _run(cmd: list[str], **kwargs: object) -> str:
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    assert result.returncode == 0, f"{' '.join(map(str, cmd[:4]))} failed:\n{result.stdout}\n{result.stderr}"
    return str(result.stdout)


PY_CHECK = """
import json, sys
import novamart_events
from novamart_events import EventInvalid, validate
assert "site-packages" in novamart_events.__file__, novamart_events.__file__
out = {}
for path in json.load(sys.stdin):
    event = json.load(open(path))
    if "/invalid/" in path:
        event = event["event"]  # {"description", "mustFailAt", "event"}
    try:
        validate(event)
    except EventInvalid:
        out[path] = False
        continue
    out[path] = True
    if "/valid/" in path:
        model = novamart_events.parse_event(event)
        back = model.model_dump(mode="json", by_alias=True, exclude_unset=True)
        assert back == event, f"{path} does not round-trip"
print(json.dumps(out))
"""

JS_CHECK = """
const fs = require("node:fs");
const { problems } = require("@novamart/payments-events");
const paths = JSON.parse(fs.readFileSync(0, "utf8"));
const out = {};
for (const p of paths) {
  const doc = JSON.parse(fs.readFileSync(p, "utf8"));
  out[p] = problems(p.includes("/invalid/") ? doc.event : doc).length === 0;
}
console.log(JSON.stringify(out));
"""


def test_the_packages_carry_the_version_computed_from_the_schemas() -> None:
    version = _version()
    assert _artefact("*.whl").name == f"novamart_events-{version}-py3-none-any.whl"
    assert _artefact("*.tgz").name == f"novamart-payments-events-{version}.tgz"


def test_the_expected_verdicts_cover_both_kinds() -> None:
    verdicts = expected_verdicts()
    accepted_invalid = [p for p, ok in verdicts.items() if ok and "/invalid/" in p]
    assert sum(verdicts.values()) - len(accepted_invalid) == len(list(EXAMPLES.glob("*/v*/valid/*.json")))
    assert list(verdicts.values()).count(False) > 40, "most invalid examples break more than a closed object"
    assert accepted_invalid, "some invalid examples only add a field, which the open consumer form accepts"


def test_the_wheel_installs_in_a_clean_venv_and_judges_every_example(tmp_path: Path) -> None:
    wheel = _artefact("*.whl")
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)])
    verdicts = expected_verdicts()
    out = _run([str(python), "-I", "-c", PY_CHECK], input=json.dumps(list(verdicts)), cwd=tmp_path)
    wrong = {p: v for p, v in json.loads(out).items() if v != verdicts[p]}
    assert wrong == {}, f"the installed wheel judged these examples wrongly (path: its verdict): {wrong}"


def test_the_npm_package_installs_in_a_clean_project_and_judges_every_example(tmp_path: Path) -> None:
    tarball = _artefact("*.tgz")
    (tmp_path / "package.json").write_text('{"name": "a-consumer", "version": "1.0.0", "private": true}\n')
    env = {**os.environ, "npm_config_fund": "false", "npm_config_audit": "false"}
    _run(["npm", "install", "--loglevel=error", str(tarball)], cwd=tmp_path, env=env)
    assert (tmp_path / "node_modules" / "@novamart" / "payments-events" / "index.d.ts").is_file()
    verdicts = expected_verdicts()
    out = _run(["node", "-e", JS_CHECK], input=json.dumps(list(verdicts)), cwd=tmp_path)
    wrong = {p: v for p, v in json.loads(out).items() if v != verdicts[p]}
    assert wrong == {}, f"the installed npm package judged these examples wrongly (path: its verdict): {wrong}"


@pytest.mark.parametrize("kind", ["whl", "tgz"])
def test_a_package_is_built(kind: str) -> None:
    assert _artefact(f"*.{kind}").stat().st_size > 10_000
