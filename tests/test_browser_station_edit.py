"""站点维护 in Chromium: a community supervisor places a new elderly-care station by clicking the map, saves it,
and 服务覆盖 counts fewer compounds beyond walking distance.

The click goes through streamlit-folium's ``last_clicked`` from the real Leaflet map; the red ring of the chosen
point is drawn over the cached map as a feature group. Every request to another host is blocked and listed;
there must be none.
"""
from __future__ import annotations

import re

from tests.browser import MAP_IFRAME, browser_app, browser_page, log_in, map_paths, screenshot, wait_idle

JUNMEN = "350102004001"
GAP_HEADER = re.compile(r"步行 300 米内缺少所选站点的老旧小区（(\d+) 个")
NAME = "军门社区居家养老服务站（二）"


def only_elderly_missing(db_url: str):
    """A compound of 军门社区 within 300 m of a children's and a culture station but of no elderly-care station."""
    from data.store import engine_for, read_layer
    from geo.coverage import compound_coverage
    from geo.scope import Scope

    engine = engine_for(db_url)
    compounds = read_layer(engine, "compounds", Scope(JUNMEN))
    cov = compound_coverage(compounds, read_layer(engine, "stations"), ["elderly_home", "children", "culture"], 300)
    codes = cov.loc[~cov["covered_elderly_home"] & cov["covered_children"] & cov["covered_culture"], "code"]
    assert len(codes), "the sample should leave a compound of 军门社区 missing only its elderly-care station"
    return compounds.set_index("code").loc[codes.iloc[0]]


def gap_count(page) -> int:
    page.get_by_text("服务覆盖", exact=True).first.click()
    header = page.get_by_text(GAP_HEADER).first
    header.wait_for(timeout=90_000)
    wait_idle(page)
    return int(GAP_HEADER.search(header.inner_text()).group(1))


def click_map_at(page, lon: float, lat: float) -> None:
    frame = map_paths(page, at_least=5)
    box = page.locator(MAP_IFRAME).first.bounding_box()
    x, y = frame.locator("body").evaluate(
        "(b, ll) => { const p = window.map_div.latLngToContainerPoint(ll); return [p.x, p.y]; }", [lat, lon])
    assert 0 < x < box["width"] and 0 < y < box["height"], "the compound lies outside the visible map"
    page.mouse.click(box["x"] + x, box["y"] + y)


def test_a_station_placed_on_the_map_closes_a_coverage_gap(tmp_path):
    with browser_app(tmp_path) as (url, db_url), browser_page(1366, 1300) as (page, external):
        page.goto(url + f"/coverage?scope={JUNMEN}", wait_until="domcontentloaded")
        page.get_by_role("heading", name="军门社区 · 网格与服务覆盖").wait_for(timeout=90_000)
        log_in(page, db_url, "junmen")
        before = gap_count(page)
        target = only_elderly_missing(db_url)

        page.get_by_text("站点维护", exact=True).first.click()
        page.get_by_text("在地图上点击，选择新站点").first.wait_for(timeout=60_000)
        click_map_at(page, target.geometry.x, target.geometry.y)
        page.get_by_text("所选位置：经度").first.wait_for(timeout=60_000)  # the click reached Python
        wait_idle(page)
        page.get_by_label("站点名称").fill(NAME)
        page.get_by_role("button", name="保存新站点").click()
        page.get_by_text(f"已新增站点“{NAME}”").first.wait_for(timeout=60_000)
        wait_idle(page)
        map_paths(page, at_least=5)
        shot = screenshot(page, "station-edit-added.png")

        after = gap_count(page)
        assert after < before, (before, after)
        screenshot(page, "station-edit-coverage-after.png")
        assert external == [], external
        assert shot.exists()
