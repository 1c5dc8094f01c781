"""Screenshots of every page kind a night publishes, for the docs.

Opens each page of a published night (the `latest` folder of `make demo`'s
`demo/publish`, or any PUBLISH folder) in Debian's headless Chromium with the
network blocked, and writes one PNG per page kind into `docs/screenshots/`:
the analyst index, a person's timeline, the episodes list, the two back-test pages,
the prevention index, the combined hotspot map, a map with no hot spots (the
empty state, when a night has one) and the research codebook. Regenerate on
demand after a change to a page:

    make demo && .venv/bin/python docs/screenshots.py [--publish demo/publish]
        [--out docs/screenshots]

Requires /usr/bin/chromium (`make chromium`) and playwright (a dev dependency).
Exits non-zero with one line when a page kind is missing.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parent.parent
VIEWPORT = {"width": 1280, "height": 860}


def _latest(publish: Path) -> Path:
    """The `latest` night of a publish folder (or the folder itself)."""
    latest = publish / "latest"
    return latest.resolve() if latest.exists() else publish


def _first(folder: Path, pattern: str) -> Path | None:
    """The first file matching `pattern` under `folder`, in name order."""
    found = sorted(folder.glob(pattern))
    return found[0] if found else None


def _busiest_timeline(analyst: Path) -> Path | None:
    """The timeline page of the top-list's first person (the index links it first)."""
    index = analyst / "index.html"
    if not index.is_file():
        return None
    match = re.search(r'href="(timelines/[^"]+\.html)"', index.read_text("utf-8"))
    return analyst / match.group(1) if match else _first(analyst, "timelines/*.html")


def _empty_map(hotspots: Path) -> Path | None:
    """A hotspot map whose page says it has no significant hot spots, if any."""
    for page in sorted(hotspots.glob("*.html")):
        text = page.read_text("utf-8")
        if "gj-empty" in text or "Ingen signifikante brennpunkter" in text:
            return page
    return None


def page_kinds(night: Path) -> dict[str, Path | None]:
    """Each page kind's file in a published night (None where the night has none)."""
    analyst = night / "analyst"
    hotspots = night / "prevention" / "hotspots"
    return {
        "analyst-index": analyst / "index.html",
        "analyst-timeline": _busiest_timeline(analyst),
        "analyst-episodes": analyst / "episodes.html",
        "analyst-backtest": analyst / "backtest.html",
        "analyst-phase-backtest": analyst / "phase_backtest.html",
        "prevention-index": hotspots / "index.html",
        "prevention-map": _first(hotspots, "*all*.html")
        or _first(hotspots, "hotspots*.html"),
        "prevention-map-empty": _empty_map(hotspots),
        "research-codebook": night / "research" / "codebook.html",
    }


def shoot(pages: dict[str, Path | None], out: Path) -> list[str]:
    """Screenshot each existing page into `out/<kind>.png`; the kinds written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(viewport=VIEWPORT)
        context.route(lambda u: u.startswith(("http:", "https:")), lambda r: r.abort())
        for kind, path in pages.items():
            if path is None or not path.is_file():
                continue
            page = context.new_page()
            page.goto(path.resolve().as_uri(), wait_until="load")
            page.wait_for_timeout(1500)  # maps and charts draw after load
            page.screenshot(path=str(out / f"{kind}.png"), full_page=False)
            page.close()
            written.append(kind)
        browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--publish", type=Path, default=ROOT / "demo" / "publish")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    night = _latest(args.publish)
    if not (night / "analyst").is_dir():
        print(f"screenshots: no published night in {args.publish}", file=sys.stderr)
        return 2
    pages = page_kinds(night)
    written = shoot(pages, args.out)
    missing = [k for k, p in pages.items() if k not in written]
    for kind in written:
        print(f"{args.out / kind}.png")
    if missing:
        print(f"screenshots: no page for {', '.join(missing)}", file=sys.stderr)
    return 0 if written else 2


if __name__ == "__main__":
    sys.exit(main())
