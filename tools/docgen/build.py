"""Generate the consumer-facing artefacts that derive from ``schemas/`` (the command line; see the package doc).

Render every generated file, then compare each with the committed one (``--check``) or write it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path

from novamart_payments import failure_codes

from tests.reliability import customer_waits
from tools.docgen.asyncapi import asyncapi_doc, dump_yaml
from tools.docgen.facts import Facts
from tools.docgen.pages import code_page, codes_index_page, event_page, index_page
from tools.docgen.paths import (
    ASYNCAPI,
    CHANGELOG,
    CODES_DIR,
    CONSUMER_DIR,
    DOCS_EVENTS,
    HAND_WRITTEN,
    OUTCOME_CODES,
    REGISTRY_DIR,
    REPO,
)
from tools.docgen.runbook import RUNBOOK, runbook_page
from tools.docgen.schemas import consumer_form, event_schema_files, outcome_codes_schema, registry_form, registry_name
from tools.docgen.versions import changelog_page, release

# ------------------------------------------------------------------------------------------------
# Driver


PERFORMANCE = REPO / "docs" / "performance.md"


def render_all() -> dict[Path, str]:
    """Every generated file and its exact content."""
    files = event_schema_files()
    out: dict[Path, str] = {
        OUTCOME_CODES: json.dumps(outcome_codes_schema(), indent=2) + "\n",
        DOCS_EVENTS / "index.md": index_page(files),
        CHANGELOG: changelog_page(files),
        CODES_DIR / "index.md": codes_index_page(),
    }
    for spec in failure_codes.OUTCOME_CODES:
        out[CODES_DIR / f"{spec.code.value}.md"] = code_page(spec)
    for dt, major, path in files:
        out[CONSUMER_DIR / dt / f"v{major}.json"] = json.dumps(consumer_form(path), indent=2) + "\n"
        # Only the newest major gets the catalogue page; older ones stay reachable via the registry.
        out[DOCS_EVENTS / f"{dt}.md"] = event_page(dt, major, path)
        out[REGISTRY_DIR / registry_name(dt, major)] = json.dumps(registry_form(path), indent=2) + "\n"
    out[ASYNCAPI] = dump_yaml(asyncapi_doc(files))
    out[REPO / RUNBOOK] = runbook_page()
    out.update(Facts().render())
    # What a customer waits and what a million payments cost, from the Terraform values of envs/aws.
    out[PERFORMANCE] = customer_waits.merged(PERFORMANCE.read_text(encoding="utf-8"), customer_waits.render())
    return out


def _owned_files() -> set[Path]:
    """Existing files in the directories this tool owns (so that removed events are cleaned up)."""
    generated_md = {p for p in DOCS_EVENTS.glob("*.md") if p.name not in HAND_WRITTEN}
    return (
        generated_md
        | set(CODES_DIR.glob("*.md"))
        | set(REGISTRY_DIR.glob("*.json"))
        | set(CONSUMER_DIR.glob("*/*.json"))
    )


def broken_links(pages: Iterable[Path]) -> list[str]:
    """Relative links in ``pages`` whose target file does not exist."""
    problems = []
    for page in pages:
        if not page.exists():
            continue
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if not (page.parent / target).exists():
                problems.append(f"broken link: {page.relative_to(REPO)} -> {target}")
    return problems


def check(rendered: dict[Path, str]) -> list[str]:
    problems = []
    for path, content in sorted(rendered.items()):
        rel = path.relative_to(REPO)
        if not path.exists():
            problems.append(f"missing: {rel}")
        elif path.read_text(encoding="utf-8") != content:
            problems.append(f"stale:   {rel}")
    for path in sorted(_owned_files() - set(rendered)):
        problems.append(f"orphan:  {path.relative_to(REPO)}")
    hand_written = [DOCS_EVENTS / name for name in HAND_WRITTEN]
    problems += [f"missing: {p.relative_to(REPO)} (written by hand)" for p in hand_written if not p.exists()]
    # The catalogue's pages; the hand-written pages that only carry generated facts keep their own links.
    catalogue = (p for p in rendered if p.suffix == ".md" and DOCS_EVENTS in p.parents)
    return problems + broken_links([*hand_written, *catalogue])


def write(rendered: dict[Path, str]) -> list[Path]:
    changed = []
    for path in sorted(_owned_files() - set(rendered)):
        path.unlink()
        changed.append(path)
    for path, content in sorted(rendered.items()):
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
            changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a generated file is stale")
    parser.add_argument("--release", action="store_true", help="snapshot schema versions not yet in schemas/released/")
    args = parser.parse_args(argv)
    if args.release:
        for path in release():
            print(f"released {path.relative_to(REPO)}")
        return 0
    rendered = render_all()
    if args.check:
        problems = check(rendered)
        if problems:
            print("Generated docs are out of date with schemas/ (run `make docs` and commit):", file=sys.stderr)
            for line in problems:
                print(f"  {line}", file=sys.stderr)
            return 1
        print(f"docs up to date ({len(rendered)} files)")
        return 0
    for path in write(rendered):
        print(f"wrote {path.relative_to(REPO)}")
    return 0
