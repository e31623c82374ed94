"""The schema site ``make docs-site`` built (``make test`` builds it first): every schema at the path of its ``$id``,
the screenshot kept, and a browser check that fails on a broken link."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SITE = REPO / "build" / "site"
DOCS_PYTHON = REPO / ".venv-docs" / "bin" / "python"
ID_BASE = "https://schemas.novamart.example/"


def _built() -> None:
    assert (SITE / "index.html").is_file() and DOCS_PYTHON.is_file(), "run `make docs-site` first (make test does)"


def test_every_schema_is_served_at_the_path_of_its_id() -> None:
    _built()
    ids = {}
    for path in sorted((REPO / "schemas").glob("*/**/*.json")):
        schema_id = json.loads(path.read_text()).get("$id") if path.parent.name != "examples" else None
        if isinstance(schema_id, str):
            ids[schema_id] = path
    assert len(ids) > 25
    for schema_id, path in ids.items():
        assert schema_id.startswith(ID_BASE), schema_id
        served = SITE / schema_id[len(ID_BASE) :]
        assert served.is_file(), f"{schema_id} is not served by the site"
        assert json.loads(served.read_text()) == json.loads(path.read_text())


def test_the_index_screenshot_is_kept() -> None:
    _built()
    shot = REPO / "build" / "site-screenshot.png"
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_the_browser_check_fails_on_a_broken_link(tmp_path: Path) -> None:
    _built()
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text('<a href="ok.html">ok</a> <a href="payments/events/nope/v1.json">schema</a>')
    (site / "ok.html").write_text('<a href="missing.html">gone</a> <a href="index.html#no-such-anchor">anchor</a>')
    shot = tmp_path / "shot.png"
    result = subprocess.run(
        [str(DOCS_PYTHON), str(REPO / "tools" / "site_check.py"), "--site", str(site), "--screenshot", str(shot)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "ok.html -> missing.html: HTTP 404" in result.stderr
    assert "index.html -> payments/events/nope/v1.json: HTTP 404" in result.stderr
    assert "no such anchor" in result.stderr
    assert shot.is_file()
