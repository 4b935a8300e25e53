"""The app in a real browser: Debian's Chromium through Playwright, with every non-loopback request blocked."""
from __future__ import annotations

import pytest

from layers.boundaries import COMMUNITY_COLOR, STREET_COLOR
from tests.browser import browser_page, chromium_missing, map_paths, running_app, screenshot, wait_idle
from tests.conftest import skip_or_fail


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    why = chromium_missing()
    if why:
        skip_or_fail(why, "REQUIRE_BROWSER")
    with running_app(tmp_path_factory.mktemp("browser") / "app.db") as url:
        yield url


def test_district_map_draws_offline_with_all_communities(app_url):
    with browser_page(1600, 1000) as (page, external):
        page.goto(app_url, wait_until="domcontentloaded")
        wait_idle(page)
        frame = map_paths(page, at_least=69 + 10, timeout_ms=90_000)
        wait_idle(page)
        shot = screenshot(page, "situation-district.png")
        paths = frame.locator("path.leaflet-interactive")
        assert frame.locator(f"path.leaflet-interactive[stroke='{COMMUNITY_COLOR}']").count() == 69
        assert frame.locator(f"path.leaflet-interactive[stroke='{STREET_COLOR}']").count() == 10
        assert paths.count() >= 69 + 10 + 500  # and the grids
        assert external == [], f"requests to other hosts: {external[:5]}"
        assert page.get_by_text("鼓楼区社区治理态势图").first.is_visible()
        assert page.locator("[data-testid='stMetricValue']").filter(has_text="669,090").count() == 1
        assert not page.locator("[data-testid='stException']").count()
        assert shot.stat().st_size > 50_000
