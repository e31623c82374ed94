#!/usr/bin/env python3
"""The schema site in a real browser: headless Chromium (the Debian package) opens the index, follows every
internal link, and keeps a screenshot of the index (``make docs-site``).

Every page is served over HTTP from the built site on loopback and opened by Chromium through Playwright; every
``<a href>`` that stays on the site is followed: an HTML page must load (2xx) and is crawled in turn, any other file
(a schema, the AsyncAPI document) must answer 2xx, and a ``#fragment`` must name an element of its page. A broken
link fails with the page it is on. Runs with the interpreter of ``.venv-docs`` (Playwright lives there).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import sys
import threading
from collections import deque
from pathlib import Path
from urllib.parse import urldefrag, urljoin

REPO = Path(__file__).resolve().parents[1]


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise SystemExit("chromium is not installed: `apt-get install -y chromium` (make docs-site does it)")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the browser moving on before a download ends (a broken pipe) is not the site's fault


def crawl(site: Path, screenshot: Path) -> tuple[list[str], int]:
    """(broken links, pages opened) of the site at ``site``; writes the index's screenshot to ``screenshot``."""
    from playwright.sync_api import sync_playwright

    server = _Server(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    root = f"http://127.0.0.1:{server.server_address[1]}/"
    broken: list[str] = []
    seen: set[str] = set()
    pages = 0
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            # The site must stand on its own: anything fetched from elsewhere (a CDN the theme names) is refused at
            # once instead of waiting for a network this check does not need.
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(root) else route.abort())
            queue: deque[tuple[str, str]] = deque([(root + "index.html", "(start)")])
            fragments: list[tuple[str, str, str]] = []
            anchors: dict[str, set[str]] = {}  # page -> the ids and names a fragment may point at
            while queue:
                url, origin = queue.popleft()
                if url in seen:
                    continue
                seen.add(url)
                if not url.endswith(".html"):
                    response = page.request.get(url)
                    if not response.ok:
                        broken.append(f"{origin} -> {url[len(root) :]}: HTTP {response.status}")
                    continue
                response = page.goto(url, wait_until="domcontentloaded")
                if response is None or not response.ok:
                    broken.append(f"{origin} -> {url[len(root) :]}: HTTP {response.status if response else '?'}")
                    continue
                pages += 1
                anchors[url] = set(page.eval_on_selector_all("[id], a[name]", "els => els.map(e => e.id || e.name)"))
                if pages == 1:
                    screenshot.parent.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(screenshot), full_page=True)
                for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
                    target, fragment = urldefrag(urljoin(url, href))
                    if not target.startswith(root):
                        continue  # another site: not ours to check
                    if fragment:
                        fragments.append((url[len(root) :], target, fragment))
                    queue.append((target, url[len(root) :]))
            for origin, target, fragment in fragments:
                if target in anchors and fragment not in anchors[target]:
                    broken.append(f"{origin} -> {target[len(root) :]}#{fragment}: no such anchor")
            browser.close()
    finally:
        server.shutdown()
    return broken, pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--site", type=Path, default=REPO / "build" / "site")
    parser.add_argument("--screenshot", type=Path, default=REPO / "build" / "site-screenshot.png")
    args = parser.parse_args(argv)
    if not (args.site / "index.html").is_file():
        raise SystemExit(f"{args.site}/index.html is missing: run `make docs-site`")
    broken, pages = crawl(args.site.resolve(), args.screenshot.resolve())
    if broken:
        print(f"{len(broken)} broken link(s):", *broken, sep="\n  ", file=sys.stderr)
        return 1
    print(f"browser check: {pages} pages opened in Chromium, every internal link followed, none broken;")
    print(f"  screenshot of the index: {args.screenshot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
