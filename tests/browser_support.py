"""Reusable headless-Chromium helpers for offline page tests (Playwright, Python).

`open_offline(path, screenshot=...)` opens a local HTML file from file:// in the
Debian Chromium with every http(s):// request aborted, waits for the page, and
returns a `PageReport` (console errors, page errors, blocked requests, and the
values of JavaScript expressions asked for). Tests fail, naming the fix, when
Chromium is missing (`make chromium`); they are never skipped silently.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@dataclass
class PageReport:
    """What happened while a page was open."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    screenshot: Path | None = None

    @property
    def errors(self) -> list[str]:
        return self.console_errors + self.page_errors


def require_browser() -> None:
    """Fail the calling test, with the fix, when /usr/bin/chromium is missing.

    The offline pages are a required feature, so their browser tests never skip
    silently: `make chromium` installs Debian's Chromium (`make test` does it
    first); `-m "not browser"` deselects these tests on purpose.
    """
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        pytest.fail(
            "chromium not installed at /usr/bin/chromium: run `make chromium`,"
            ' or deselect the browser tests with -m "not browser"',
            pytrace=False,
        )


@contextmanager
def offline_browser():
    """A Chromium browser (headless, no sandbox) whose contexts abort network."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_offline(
    path: str | Path,
    *,
    evaluate: Iterable[str] = (),
    screenshot: str | Path | None = None,
    wait_for: str | None = "() => window.L !== undefined",
    actions: Callable[[Any], None] | None = None,
    viewport: tuple[int, int] = (1200, 800),
    settle_ms: int = 500,
    allow_hosts: Iterable[str] = (),
) -> PageReport:
    """Open `path` from file:// with http(s) blocked and report what happened.

    `evaluate` are JS expressions (e.g. "typeof window.L") whose values land in
    `report.values`; `actions(page)` may click things before the screenshot.
    `allow_hosts` (e.g. `("127.0.0.1",)`, for a test's own local tile server) are
    the only hosts requests may reach; their URLs land in `report.allowed`.
    """
    report = PageReport()
    url = Path(path).resolve().as_uri()
    with offline_browser() as browser:
        context = browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]}
        )

        allowed_hosts = set(allow_hosts)

        def block(route: Any) -> None:
            if urlsplit(route.request.url).hostname in allowed_hosts:
                report.allowed.append(route.request.url)
                route.continue_()
                return
            report.blocked.append(route.request.url)
            route.abort()

        context.route("http://**/*", block)
        context.route("https://**/*", block)
        context.route(lambda u: u.startswith(("http:", "https:")), block)
        page = context.new_page()
        page.on(
            "console",
            lambda msg: (
                report.console_errors.append(msg.text) if msg.type == "error" else None
            ),
        )
        page.on("pageerror", lambda exc: report.page_errors.append(str(exc)))
        page.goto(url, wait_until="load")
        if wait_for:
            page.wait_for_function(wait_for, timeout=10_000)
        page.wait_for_timeout(settle_ms)
        if actions:
            actions(page)
        for expr in evaluate:
            report.values[expr] = page.evaluate(expr)
        if screenshot is not None:
            report.screenshot = Path(screenshot)
            report.screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(report.screenshot), full_page=False)
        context.close()
    return report


def layer_control_labels(page: Any) -> list[str]:
    """Labels of the Leaflet layer control (base layers and overlays), in order."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll(
               '.leaflet-control-layers-list label'))
             .map(s => s.textContent.trim()).filter(Boolean)"""
    )
