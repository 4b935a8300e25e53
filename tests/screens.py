"""The screenshot sweep: every page of the app in Chromium at office and phone sizes, full page, for a person
to look at. Not a test (no ``test_`` prefix, pytest does not collect it); run it from the checkout:

    .venv/bin/python -m tests.screens                      # every page at every size
    .venv/bin/python -m tests.screens --pages situation cases --sizes 390x844

It starts the app on a fresh sample SQLite database in a temporary folder (tests.browser.browser_app) and
writes artifacts/i19_sweep_<page>_<width>x<height>.png (``--prefix`` changes ``i19_sweep``). 案件办理 and
数据管理 are seen logged in as the district administrator (the demo account ``admin``). Prints one line per
screenshot: the file, the page's full height in pixels and the seconds it took.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from tests.browser import ARTIFACTS, browser_app, browser_page, log_in, wait_idle

PAGES = (  # url path ("" = the landing page), file name, text that shows the page has drawn, needs admin
    ("", "overview", "治理概况", False),
    ("situation", "situation", "态势图", False),
    ("party", "party", "党建", False),
    ("renovation", "renovation", "改造", False),
    ("coverage", "coverage", "覆盖", False),
    ("disputes", "disputes", "调解", False),
    ("cases", "cases", "案件", True),
    ("data", "data", "数据", True),
)
SIZES = ((1366, 768), (1920, 1080), (390, 844))
MAP_IFRAME = "iframe[title='streamlit_folium.st_folium']"
_SIDEBAR_OPEN = "[data-testid=stSidebarCollapsedControl] button, [data-testid=stExpandSidebarButton]"
_SIDEBAR_CLOSE = "[data-testid=stSidebar] [data-testid=stSidebarCollapseButton] button"
_CONTENT_HEIGHT = """() => Math.max(document.documentElement.scrollHeight,
    ...[...document.querySelectorAll('[data-testid=stMain], [data-testid=stAppViewContainer], section.main')]
        .map(e => e.scrollHeight))"""


def _open_sidebar(page) -> None:
    """On a phone the sidebar starts folded away: open it (the login form is there)."""
    opener = page.locator(_SIDEBAR_OPEN).first
    if opener.count() and opener.is_visible():
        opener.click()
        page.wait_for_timeout(500)


def _close_sidebar(page) -> None:
    closer = page.locator(_SIDEBAR_CLOSE).first
    if closer.count() and closer.is_visible():
        closer.click()
        page.wait_for_timeout(500)


def _settle(page) -> None:
    """Until Streamlit is idle and any map frame holds its drawing (or 20 s have passed)."""
    wait_idle(page)
    if page.locator(MAP_IFRAME).count():
        frame = page.frame_locator(MAP_IFRAME).first
        try:
            frame.locator(".leaflet-container").first.wait_for(state="attached", timeout=20_000)
        except Exception:  # noqa: BLE001 - a map that never draws shows in the screenshot; the sweep goes on
            pass
        page.wait_for_timeout(1500)
    wait_idle(page)


def _full_page(page, out: Path, width: int, height: int) -> int:
    """A screenshot of the whole page: Streamlit scrolls inside its main area, so the viewport is made as tall
    as the content for the shot, then set back. Returns the content height in pixels."""
    tall = max(height, int(page.evaluate(_CONTENT_HEIGHT)))
    if tall > height:
        page.set_viewport_size({"width": width, "height": min(tall, 12_000)})
        page.wait_for_timeout(800)
        tall = max(tall, int(page.evaluate(_CONTENT_HEIGHT)))
    page.screenshot(path=str(out), full_page=True)
    page.set_viewport_size({"width": width, "height": height})
    return tall


def shoot(base: str, db_url: str, path: str, name: str, marker: str, admin: bool, size: tuple[int, int],
          prefix: str) -> tuple[Path, int]:
    """One page at one size in a fresh browser; (screenshot path, content height in pixels)."""
    width, height = size
    out = ARTIFACTS / f"{prefix}_{name}_{width}x{height}.png"
    with browser_page(width, height) as (page, _external):
        page.goto(f"{base}/{path}", wait_until="domcontentloaded")
        page.get_by_text(marker).first.wait_for(timeout=180_000)
        wait_idle(page)
        if admin:
            _open_sidebar(page)
            log_in(page, db_url, "admin")
            wait_idle(page)
            if width < 640:
                _close_sidebar(page)
        _settle(page)
        return out, _full_page(page, out, width, height)


def _size(text: str) -> tuple[int, int]:
    w, h = text.lower().split("x")
    return int(w), int(h)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Screenshots of every page at every size.")
    parser.add_argument("--pages", nargs="*", default=[p[1] for p in PAGES], help="file names of pages")
    parser.add_argument("--sizes", nargs="*", default=[f"{w}x{h}" for w, h in SIZES], help="WIDTHxHEIGHT")
    parser.add_argument("--prefix", default="i19_sweep")
    args = parser.parse_args(argv)
    chosen = [p for p in PAGES if p[1] in args.pages]
    ARTIFACTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, browser_app(Path(tmp)) as (base, db_url):
        for path, name, marker, admin in chosen:
            for size in map(_size, args.sizes):
                start = time.monotonic()
                out, tall = shoot(base, db_url, path, name, marker, admin, size, args.prefix)
                print(f"{out}  height {tall}px  {time.monotonic() - start:.1f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
