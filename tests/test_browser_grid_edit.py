"""The grid boundary editor in Chromium: draw with Leaflet.draw (served by the app), check, see the refusal.

A sub-district account opens 军门社区's 网格边界编辑, picks 重绘网格 for one grid, draws a polygon over that
grid and its neighbour with the polygon tool (mouse clicks in the map iframe), presses 检查: the edit is
refused in Chinese and the overlap is drawn in red on the result map. Every request to another host is
blocked and listed; there must be none (Leaflet.draw comes from /app/static/vendor/leaflet-draw/).
"""
from __future__ import annotations

import time

import geopandas as gpd
import shapely

from geo.grid_edit import PROBLEM_KINDS
from tests.browser import MAP_IFRAME, browser_app, browser_page, log_in, map_paths, screenshot, wait_idle

JUNMEN = "350102004001"
OVERLAP = PROBLEM_KINDS["overlap"][1]


def over_grid_and_neighbour(grids: gpd.GeoDataFrame) -> tuple[str, list[tuple[float, float]]]:
    """A grid of the community and the (lon, lat) vertices of a polygon over it and a good part of a neighbour."""
    metric = grids.set_index("code").to_crs(32650).geometry
    a = metric.index[0]
    b = next(c for c in metric.index[1:] if metric[a].intersection(metric[c]).length > 50)
    shared = metric[a].intersection(metric[b])
    bite = shared.interpolate(0.5, normalized=True).buffer(80).intersection(metric[b])
    hull = shapely.union(metric[a], bite).convex_hull.simplify(15)
    ring = gpd.GeoSeries([hull], crs=32650).to_crs(4326).iloc[0].exterior.coords[:-1]
    return a, [(x, y) for x, y in ring]


def _draw_polygon(page, frame, vertices: list[tuple[float, float]]) -> None:
    """Leaflet.draw's polygon tool: click each vertex in the map iframe, then 完成."""
    frame.locator("a.leaflet-draw-draw-polygon").click()
    page.wait_for_timeout(300)
    box = page.locator(MAP_IFRAME).first.bounding_box()
    for lon, lat in vertices:
        x, y = frame.locator("body").evaluate(
            "(b, ll) => { const p = window.map_div.latLngToContainerPoint(ll); return [p.x, p.y]; }", [lat, lon])
        page.mouse.click(box["x"] + x, box["y"] + y)
        page.wait_for_timeout(250)
    frame.get_by_text("完成", exact=True).click()


def _assert_draw_assets_served_by_the_app(page, frame, url: str) -> None:
    """The map frame loaded Leaflet.draw's script and style from /app/static/vendor/leaflet-draw/, and the
    toolbar's sprite (named by that style) is served there too."""
    links = frame.locator("body").evaluate(
        "() => [...document.querySelectorAll('script[src], link[href]')].map(e => e.src || e.href)")
    draw = [u for u in links if "draw" in u.lower()]
    assert {u.rsplit("/", 1)[1] for u in draw} == {"leaflet.draw.js", "leaflet.draw.css"}
    assert all(u.startswith(f"{url}/app/static/vendor/leaflet-draw/") or u.startswith("data:") for u in draw), draw
    sprite = frame.locator("a.leaflet-draw-draw-polygon").evaluate("e => getComputedStyle(e).backgroundImage")
    assert "/app/static/vendor/leaflet-draw/images/spritesheet" in sprite or sprite.startswith('url("data:')
    assert page.request.get(f"{url}/app/static/vendor/leaflet-draw/images/spritesheet.svg").ok


def _wait_enabled(button, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while button.is_disabled() and time.monotonic() < deadline:
        time.sleep(0.3)
    assert button.is_enabled(), "the drawing never reached the app"


def test_polygon_over_the_neighbour_is_refused_and_the_overlap_drawn(tmp_path):
    from data.store import engine_for, read_layer
    from geo.scope import Scope

    with browser_app(tmp_path) as (url, db_url), browser_page(1366, 1400) as (page, external):
        page.goto(url + f"/coverage?scope={JUNMEN}", wait_until="domcontentloaded")
        page.get_by_role("heading", name="军门社区 · 网格与服务覆盖").wait_for(timeout=90_000)
        log_in(page, db_url, "dongjie")
        grids = read_layer(engine_for(db_url), "grids", Scope(JUNMEN))
        code, vertices = over_grid_and_neighbour(grids)
        page.get_by_text("网格边界编辑", exact=True).first.click()
        page.get_by_text("画出所选网格的完整新范围", exact=False).first.wait_for(timeout=60_000)
        wait_idle(page)
        assert grids["code"].iloc[0] == code  # the grid the editor picks first
        frame = map_paths(page, at_least=len(grids))
        assert frame.locator("a.leaflet-draw-draw-polygon").get_attribute("title") == "画多边形（网格新范围）"
        _assert_draw_assets_served_by_the_app(page, frame, url)
        _draw_polygon(page, frame, vertices)
        check = page.get_by_role("button", name="检查")
        _wait_enabled(check)
        check.click()
        page.get_by_text("检查未通过，不能保存").first.wait_for(timeout=60_000)
        wait_idle(page)
        result = page.frame_locator(MAP_IFRAME).nth(1)
        overlap = result.locator(f"path.leaflet-interactive[fill='{OVERLAP}']")
        overlap.first.wait_for(state="attached", timeout=60_000)
        page.locator(MAP_IFRAME).nth(1).scroll_into_view_if_needed()
        page.mouse.move(1, 1)
        page.wait_for_timeout(500)
        shot = screenshot(page, "grid-edit-refused.png")
        refusal = page.locator("[data-testid='stAlertContentError']").first.inner_text()
        assert "网格重叠" in refusal and "红色为网格重叠" in refusal
        assert overlap.count() >= 1
        assert page.get_by_role("button", name="保存").count() == 0
        assert not page.locator("[data-testid='stException']").count()
        assert external == [], f"requests to other hosts: {external[:5]}"
        assert shot.stat().st_size > 50_000
