"""矛盾纠纷 logged out, in Chromium (issue 15): no dispute address on the page or in the map, no case-list
download, and the map draws counts per grid instead of cases."""
from __future__ import annotations

import pytest

from layers.disputes import COUNT_COLOR
from tests.browser import MAP_IFRAME, browser_app, browser_page, map_paths, screenshot, wait_idle

JUNMEN = "350102004001"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with browser_app(tmp_path_factory.mktemp("privacy")) as (url, db_url):
        yield url, db_url


def test_disputes_page_logged_out_shows_counts_and_no_address(app):
    from data.store import engine_for, read_layer
    from geo.scope import Scope

    url, db_url = app
    with browser_page(1600, 1400) as (page, external):
        page.goto(url + f"/disputes?scope={JUNMEN}&period=365", wait_until="domcontentloaded")
        page.get_by_role("heading", name="军门社区 · 矛盾纠纷").wait_for(timeout=90_000)
        wait_idle(page)
        frame = map_paths(page, at_least=1, timeout_ms=90_000)
        wait_idle(page)
        screenshot(page, "disputes-junmen-logged-out.png")
        engine = engine_for(db_url)
        cases = read_layer(engine, "disputes", Scope(JUNMEN))
        public = " ".join(read_layer(engine, "compounds")["name"]) + " ".join(read_layer(engine, "stations")["name"])
        addresses = {a for a in cases["address"] if a not in public}
        text = page.locator("[data-testid='stApp']").inner_text()
        map_doc = page.locator(MAP_IFRAME).first.get_attribute("srcdoc") or ""
        map_doc += frame.locator("html").evaluate("e => e.outerHTML")
        assert "未登录，仅显示统计汇总" in text
        assert addresses and not [a for a in addresses if a in text or a in map_doc]
        assert not [s for s in set(cases["summary"].dropna()) if s in text or s in map_doc]
        assert "案件清单（" not in text and page.get_by_text("下载 Excel（案件清单）").count() == 0  # no list heading
        assert not page.locator("[data-testid='stDownloadButton']").count()
        circles = frame.locator(f"path.leaflet-interactive[fill='{COUNT_COLOR}']").count()
        grids = cases["grid_code"].nunique()
        assert 1 <= circles <= grids  # one count circle per grid with cases, no case points
        assert frame.locator(".marker-cluster").count() == 0
        frame.locator(f"path.leaflet-interactive[fill='{COUNT_COLOR}']").first.hover()
        tip = frame.locator(".leaflet-tooltip").first
        tip.wait_for(timeout=10_000)
        assert "纠纷" in tip.inner_text() and "件" in tip.inner_text()  # the count, not a case
        assert not [a for a in addresses if a in tip.inner_text()]
        assert not page.locator("[data-testid='stException']").count()
        assert external == [], f"requests to other hosts: {external[:5]}"
