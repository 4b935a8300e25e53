"""The 党建与自治 page in Chromium (every non-loopback request blocked): its map draws the 党建引领 layers and its
KPI cards show whole, with no text cut by an ellipsis."""
from __future__ import annotations

import pytest

from geo.vocab import GridAssistants, StationKind
from tests.browser import browser_app, browser_page, map_paths, screenshot, wait_idle

CARDS = 10
CUT_TEXT = """() => Array.from(document.querySelectorAll(
    "[data-testid='stMetric'] *, [data-testid='stTab'] *, [data-testid='stHeading'] *"))
  .filter(e => getComputedStyle(e).textOverflow === "ellipsis" && e.scrollWidth > e.clientWidth + 1)
  .map(e => e.textContent)"""
"""The texts of the cards, tabs and title that are wider than their box and shown with "…"."""


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    with browser_app(tmp_path_factory.mktemp("party_browser")) as (url, _db):
        yield url


def open_party(page, url: str, query: str = ""):
    page.goto(url + "/party" + query, wait_until="domcontentloaded")
    wait_idle(page, 120_000)
    frame = map_paths(page, at_least=20, timeout_ms=120_000)
    wait_idle(page)
    return frame


def test_the_page_draws_its_map_and_whole_cards_at_1366(app_url):
    with browser_page(1366, 768) as (page, external):
        frame = open_party(page, app_url)
        shot = screenshot(page, "party_1366x768.png")
        gaps = frame.locator(f"path.leaflet-interactive[fill='{GridAssistants.NONE.color}']").count()
        centres = frame.locator(f"path.leaflet-interactive[fill='{StationKind.PARTY.color}']").count()
        badges = frame.locator(".gl-badge").count()
        legend = frame.locator(".gl-legend").inner_text()
        cards = page.locator("[data-testid='stMetric']")
        assert cards.count() == CARDS
        values = [v.strip() for v in page.locator("[data-testid='stMetricValue']").all_inner_texts()]
        cut = page.evaluate(CUT_TEXT)
        # the district view leaves grids to the 网格协管员配备率 colouring; a sub-district shows those without one
        assert gaps == 0 and centres > 0 and badges == 12, (gaps, centres, badges)
        assert "小区党组织覆盖" in legend and "党群服务阵地" in legend and "省级示范站点" in legend
        assert cut == [], cut
        assert all(v and v not in ("None", "nan") for v in values), values
        assert page.get_by_text("社区达标评分表").first.is_visible()
        assert not page.locator("[data-testid='stException']").count()
        assert external == [], external[:5]
        assert shot.stat().st_size > 50_000
        frame = open_party(page, app_url, "?scope=350102004000")
        assert frame.locator(f"path.leaflet-interactive[fill='{GridAssistants.NONE.color}']").count() > 0


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (390, 844)])
def test_screenshots_at_other_sizes(app_url, width, height):
    with browser_page(width, height) as (page, _external):
        open_party(page, app_url)
        assert page.locator("[data-testid='stMetric']").count() == CARDS
        assert screenshot(page, f"party_{width}x{height}.png").stat().st_size > 30_000
