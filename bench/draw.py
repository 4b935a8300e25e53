"""Chromium draw times: the app's map in the running app, and a saved naive map file (no internet).

The app is started with ``streamlit run`` on the benchmark's database; the page is opened once to
fill the server's caches, then again to measure. The draw time is from the moment the map's iframe
is in the page until Leaflet has drawn the first interactive shape in it; "to map" is from the
start of navigation. The naive map is a saved file with Leaflet inlined, measured from navigation
until it has loaded and shows a marker (a file is the naive map's best case: no Streamlit at all).
"""
from __future__ import annotations

import time
from pathlib import Path

from tests.browser import CHROME_ARGS, CHROMIUM, MAP_IFRAME, app_server, browser_page

SHAPE = "path.leaflet-interactive"
TIMEOUT_MS = 180_000


def _open_map(page, url: str) -> tuple[float, float]:
    """Navigate to ``url``; (seconds until the map iframe is attached, seconds until it shows a shape)."""
    start = time.perf_counter()
    page.goto(url, wait_until="commit", timeout=TIMEOUT_MS)
    iframe = page.wait_for_selector(MAP_IFRAME, state="attached", timeout=TIMEOUT_MS)
    attached = time.perf_counter() - start
    iframe.content_frame().wait_for_selector(SHAPE, state="attached", timeout=TIMEOUT_MS)
    return attached, time.perf_counter() - start


def app_draw(db_url: str, workdir: Path, scope: str = "") -> dict:
    """Draw seconds and page-to-map seconds of the situation page's map on a warm server."""
    query = f"?scope={scope}" if scope else ""
    with app_server(db_url, workdir, timeout=300) as (base, _pid), browser_page() as (page, external):
        _open_map(page, f"{base}/situation{query}")  # fills the server's caches
        attached, shown = _open_map(page, f"{base}/situation{query}")
    if external:
        raise RuntimeError(f"the app asked the internet for {external[:3]}")
    return {"draw_s": shown - attached, "to_map_s": shown}


def file_draw(path: Path, selector: str = ".leaflet-marker-icon") -> float:
    """Seconds from navigating to the saved map ``path`` until it has loaded and ``selector`` exists."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROME_ARGS)
        try:
            ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
            ctx.route("**/*", lambda r: r.abort() if r.request.url.startswith(("http:", "https:")) else r.continue_())
            page = ctx.new_page()
            start = time.perf_counter()
            page.goto(path.as_uri(), wait_until="load", timeout=TIMEOUT_MS)
            page.wait_for_selector(selector, state="attached", timeout=TIMEOUT_MS)
            page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            return time.perf_counter() - start
        finally:
            browser.close()
