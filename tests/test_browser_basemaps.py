"""The office's own basemaps in the browser: tile services started here on loopback (generated PNG tiles), an
MBTiles file made here and served by the app, GCJ-02 alignment checked against a marker drawn into a tile, and a
stopped tile server that leaves the map working with one Chinese notice.

One app for the module, its BASEMAPS setting naming every basemap below (and one broken entry), BASEMAP=gis.
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from geo.crs import wgs84_to_gcj02
from tests.browser import ARTIFACTS, MAP_IFRAME, browser_app, browser_page, map_paths, screenshot, wait_idle
from tests.tilegen import TileServer, marker_tile, png_tile, tiles_covering, write_mbtiles

TOKEN = "tk-Secret-2026"
JUNMEN = "350102004001"
AREA = (119.18, 26.00, 119.40, 26.18)  # lon/lat degrees around the sample district
NOTICE = "底图“政务外网天地图”暂时无法加载（服务器无响应），地图其余内容正常显示。"
MBTILES_NAME = "测试影像（MBTiles）"
KVP = ("/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=cva&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
       "&tk={token}")
_TILES = """() => Array.from(document.querySelectorAll('img.leaflet-tile')).map(img => {
    const r = img.getBoundingClientRect();
    return {src: img.src, loaded: img.complete && img.naturalWidth === 256,
            left: r.left, top: r.top, width: r.width, height: r.height};
})"""


@pytest.fixture(scope="module")
def servers():
    servers = {"vec": TileServer(), "gcj": TileServer(fill=(236, 228, 210)), "down": TileServer()}
    for server in servers.values():
        server.start()
    yield servers
    for server in servers.values():
        server.stop()


def basemaps_setting(servers: dict[str, TileServer], mbtiles: Path) -> str:
    vec, gcj, down = servers["vec"].url, servers["gcj"].url, servers["down"].url
    return json.dumps([
        {"key": "loop", "name": "测试矢量底图", "url": vec + "/{z}/{x}/{y}.png", "attribution": "测试瓦片服务"},
        {"key": "loop_cva", "name": "测试注记", "kind": "overlay", "bases": ["loop"], "url": vec + KVP,
         "token": TOKEN},
        {"key": "loop_gcj", "name": "测试GCJ底图", "crs": "gcj02", "url": gcj + "/{z}/{x}/{y}.png"},
        {"key": "loop_plain", "name": "测试未换算底图", "url": gcj + "/{z}/{x}/{y}.png"},
        {"key": "down", "name": "政务外网天地图", "url": down + "/{z}/{x}/{y}.png"},
        {"key": "gis", "mbtiles": str(mbtiles)},
        {"key": "broken", "name": "写错的底图", "url": "ftp://10.0.0.1/{z}/{x}/{y}.png"},
    ], ensure_ascii=False)


@pytest.fixture(scope="module")
def app(servers, tmp_path_factory):
    """(base URL, database URL, app folder) of the app with the loopback basemaps."""
    folder = tmp_path_factory.mktemp("basemaps")
    tiles = {t: png_tile((205, 222, 240)) for t in tiles_covering(AREA, range(10, 16))}
    mbtiles = write_mbtiles(folder / "gulou.mbtiles", tiles, {
        "name": MBTILES_NAME, "format": "png", "minzoom": "10", "maxzoom": "15",
        "bounds": ",".join(map(str, AREA)), "attribution": "测试用生成瓦片"})
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BASEMAPS", basemaps_setting(servers, mbtiles))
        mp.setenv("BASEMAP", "gis")
        with browser_app(folder) as (url, db_url):
            yield url, db_url, folder


def open_situation(page, base: str, query: str = "", at_least: int = 10):
    page.goto(f"{base}/situation{query}", wait_until="domcontentloaded")
    wait_idle(page)
    return map_paths(page, at_least=at_least, timeout_ms=90_000)


def map_frame(page):
    """The st_folium iframe's frame (for evaluate)."""
    handle = page.locator(MAP_IFRAME).first.element_handle()
    return handle.content_frame()


def tiles_of(page, prefix: str, at_least: int = 4, timeout_s: float = 60) -> list[dict]:
    """The tile images whose src matches the regular expression ``prefix`` at its start, once at least
    ``at_least`` of them have loaded."""
    found: list[dict] = []
    for _ in range(int(timeout_s * 2)):
        found = [t for t in map_frame(page).evaluate(_TILES) if re.match(prefix, t["src"])]
        if sum(t["loaded"] for t in found) >= at_least:
            return found
        page.wait_for_timeout(500)
    raise AssertionError(f"fewer than {at_least} tiles from {prefix} loaded: {found[:3]}")


def show_map(page, name: str) -> Path:
    """A screenshot with the map scrolled into view."""
    page.locator(MAP_IFRAME).first.scroll_into_view_if_needed()
    page.wait_for_timeout(800)
    return screenshot(page, name)


def close_up(page, a: tuple[float, float], b: tuple[float, float], name: str) -> Path:
    """A square screenshot around the points ``a`` and ``b`` (pixels in the map frame, which must be in view)."""
    page.wait_for_timeout(500)
    box = page.locator(MAP_IFRAME).first.bounding_box()
    x, y = box["x"] + (a[0] + b[0]) / 2, box["y"] + (a[1] + b[1]) / 2
    half = max(90, math.dist(a, b) / 2 + 50)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), clip={"x": x - half, "y": y - half, "width": 2 * half,
                                                     "height": 2 * half})
    return ARTIFACTS / name


def choose_basemap(page, label: str) -> None:
    """Pick ``label`` in the sidebar's 底图 select box (opened again if a rerun closed it)."""
    box = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").filter(
        has=page.get_by_text("底图", exact=True)).first
    for _ in range(3):
        wait_idle(page)
        box.click()
        try:
            page.get_by_role("option", name=label, exact=True).click(timeout=10_000)
            break
        except Exception:  # noqa: BLE001 - the list closed under a rerun: open it again
            page.keyboard.press("Escape")
    wait_idle(page)


def test_the_mbtiles_file_is_served_by_the_app_drawn_and_nothing_leaves_the_app_host(app):
    base, _, folder = app
    with browser_page(1366, 768) as (page, external):
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        open_situation(page, base)
        tiles = tiles_of(page, re.escape(f"{base}/app/tiles/gis/"), at_least=6)
        assert all(re.fullmatch(rf"{re.escape(base)}/app/tiles/gis/\d+/\d+/\d+", t["src"]) for t in tiles)
        assert sum(t["loaded"] for t in tiles) >= 6
        assert {t["src"].split("/")[-3] for t in tiles} <= {str(z) for z in range(10, 16)}
        attribution = map_frame(page).locator(".leaflet-control-attribution").inner_text()
        assert attribution == "测试用生成瓦片"  # the file's metadata; no English prefix
        options = basemap_options(page)
        show_map(page, "basemap-mbtiles-1366x768.png")
        host = urlsplit(base).netloc
        web = [u for u in requests if u.startswith(("http:", "https:", "ws:", "wss:"))]
        assert web and {urlsplit(u).netloc for u in web} == {host}, sorted({urlsplit(u).netloc for u in web})
        assert external == []
    assert "写错的底图" not in options and {"测试矢量底图", "测试GCJ底图", MBTILES_NAME} <= set(options)
    assert "测试注记" not in options  # an overlay rides on its base
    log = (folder / "streamlit.log").read_text()
    assert log.count("底图设置第 7 项（broken）的“url”") == 1, log[-2000:]  # the app started; told once
    assert "Traceback" not in log and TOKEN not in log


def basemap_options(page) -> list[str]:
    """The labels the sidebar's 底图 select box offers (opened again if a rerun closed it)."""
    box = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").filter(
        has=page.get_by_text("底图", exact=True)).first
    for attempt in range(3):
        wait_idle(page)
        box.scroll_into_view_if_needed()
        box.click()
        try:
            page.get_by_role("option").first.wait_for(timeout=10_000)
            break
        except Exception:  # noqa: BLE001 - the list closed under a rerun: open it again
            page.keyboard.press("Escape")
            if attempt == 2:
                raise
    options = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    return options


@pytest.mark.parametrize("width, height", [(390, 844)])
def test_the_loopback_basemap_on_a_phone(app, width, height):
    base, _, _ = app
    with browser_page(width, height) as (page, external):
        open_situation(page, base)
        tiles_of(page, re.escape(f"{base}/app/tiles/gis/"), at_least=2)
        shot = show_map(page, f"basemap-mbtiles-{width}x{height}.png")
        assert shot.stat().st_size > 30_000 and external == []
        assert not map_frame(page).locator(".gl-tile-notice").count()


def test_a_tile_service_and_its_labels_are_requested_and_drawn_with_the_token_kept_off_the_page(app, servers):
    base, _, _ = app
    vec = servers["vec"]
    with browser_page(1366, 768) as (page, external):
        open_situation(page, base)
        choose_basemap(page, "测试矢量底图")
        xyz = tiles_of(page, re.escape(vec.url) + r"/\d+/\d+/\d+\.png$", at_least=4)
        labels = tiles_of(page, re.escape(vec.url + "/wmts?"), at_least=4)
        assert all("LAYER=cva" in t["src"] and "TILEMATRIX=" in t["src"] for t in labels)
        asked = set(vec.requests)
        for tile in xyz + labels:  # every tile drawn was asked of the loopback server
            assert urlsplit(tile["src"])._replace(scheme="", netloc="").geturl() in asked
        assert {t for t in vec.tokens} == {TOKEN}  # the token reached the service …
        frame = map_frame(page)
        assert frame.locator(".leaflet-control-layers").get_by_text("测试注记").count() == 1
        assert frame.locator(".leaflet-control-attribution").get_by_text("测试瓦片服务").count() == 1
        texts = page.locator("body").inner_text() + frame.locator("body").inner_text()
        assert TOKEN not in texts  # … and no page shows it
        assert not frame.locator(".gl-tile-notice").count() and external == []
        show_map(page, "basemap-xyz-and-labels-1366x768.png")


_CIRCLE = """([lat, lon]) => {
    let best = null;
    window.map_div.eachLayer(l => {
        if (!(l instanceof L.CircleMarker) || !l._path) { return; }
        const p = l.getLatLng(), d = Math.abs(p.lat - lat) + Math.abs(p.lng - lon);
        if (d < 1e-6 && (!best || d < best.d)) { const r = l._path.getBoundingClientRect();
            best = {d: d, x: r.left + r.width / 2, y: r.top + r.height / 2}; }
    });
    return best;
}"""


def _marker_on_page(page, server: TileServer, lon: float, lat: float) -> tuple[float, float]:
    """Where the tile drawing the marker at lon/lat puts it on the page (in the map frame's pixels)."""
    for tile in tiles_of(page, re.escape(server.url), at_least=4):
        z, x, y = (int(v) for v in re.search(r"/(\d+)/(\d+)/(\d+)\.png$", tile["src"]).groups())
        mx, my, px, py = marker_tile(lon, lat, z)
        if (mx, my) == (x, y) and tile["loaded"]:
            return tile["left"] + px / 256 * tile["width"], tile["top"] + py / 256 * tile["height"]
    raise AssertionError("no loaded tile holds the marker")


def _compound_on_page(page, lon: float, lat: float) -> tuple[float, float]:
    for _ in range(60):
        found = map_frame(page).evaluate(_CIRCLE, [lat, lon])
        if found:
            return found["x"], found["y"]
        page.wait_for_timeout(500)
    raise AssertionError("the compound's circle is not on the map")


def test_a_gcj02_service_lines_up_with_the_compounds_and_an_unshifted_one_does_not(app, servers):
    from data.store import engine_for, read_layer
    from geo.scope import Scope

    base, db_url, _ = app
    gcj = servers["gcj"]
    with browser_page(1366, 1400) as (page, external):  # the whole map in view, for the close-ups
        open_situation(page, base, f"?scope={JUNMEN}")
        compounds = read_layer(engine_for(db_url), "compounds", Scope(JUNMEN))
        minx, miny, maxx, maxy = compounds.total_bounds  # the one nearest the north-west quarter: the shift
        aim = (minx + (maxx - minx) / 4, maxy - (maxy - miny) / 4)  # (east and south) keeps its marker in view
        point = min(compounds.geometry, key=lambda g: math.dist((g.x, g.y), aim))
        glon, glat = (float(v) for v in wgs84_to_gcj02(point.x, point.y))
        gcj.marker = (glon, glat)  # the service draws the compound where GCJ-02 puts it
        for label, on in (("矛盾纠纷", False), ("老旧小区", True)):
            toggle = page.locator("[data-testid='stSidebar'] [data-testid='stCheckbox']").filter(
                has=page.get_by_text(label, exact=True)).first
            if toggle.locator("input").is_checked() != on:
                toggle.locator("label").click()
                wait_idle(page)
        choose_basemap(page, "测试GCJ底图")
        drawn = _marker_on_page(page, gcj, glon, glat)
        circle = _compound_on_page(page, glon, glat)  # overlays shifted: the circle sits at the GCJ-02 point
        aligned = math.dist(drawn, circle)
        close_up(page, drawn, circle, "basemap-gcj02-aligned-closeup.png")
        choose_basemap(page, "测试未换算底图")
        drawn = _marker_on_page(page, gcj, glon, glat)
        circle = _compound_on_page(page, point.x, point.y)  # not shifted: the circle sits at WGS84
        apart = math.dist(drawn, circle)
        close_up(page, drawn, circle, "basemap-gcj02-unshifted-closeup.png")
        assert external == []
    print(f"GCJ-02 service: compound {aligned:.1f} px from its marker; unshifted service: {apart:.1f} px")
    assert aligned <= 3.0, f"the compound is {aligned:.1f} px from its marker in the GCJ-02 tile"
    assert apart > 30, f"without the shift the compound is only {apart:.1f} px from the marker"


def test_a_stopped_tile_server_leaves_the_map_working_with_one_chinese_notice(app, servers):
    base, _, _ = app
    down = servers["down"]
    with browser_page(1366, 768) as (page, external):
        frame = open_situation(page, base)
        drawn = frame.locator("path.leaflet-interactive").count()
        down.stop()  # the service was there when the app started; now it is not
        choose_basemap(page, "政务外网天地图")
        frame = page.frame_locator(MAP_IFRAME).first
        notice = frame.locator(".gl-tile-notice")
        notice.wait_for(timeout=30_000)
        page.wait_for_timeout(1500)  # every tile of the view has failed by now
        failed = [t for t in map_frame(page).evaluate(_TILES) if t["src"].startswith(down.url)]
        assert len(failed) >= 4 and not any(t["loaded"] for t in failed)
        assert notice.count() == 1 and notice.inner_text() == NOTICE  # one notice, not one per tile
        assert notice.is_visible()
        assert frame.locator("path.leaflet-interactive").count() == drawn  # the overlays are all still there
        assert not page.locator("[data-testid='stException']").count() and external == []
        show_map(page, "basemap-notice-1366x768.png")
        page.set_viewport_size({"width": 390, "height": 844})  # the same notice on a phone: wrapped, not cut
        page.wait_for_timeout(1500)
        box, frame_box = notice.bounding_box(), page.locator(MAP_IFRAME).first.bounding_box()
        assert notice.count() == 1 and box["width"] <= frame_box["width"] - 100
        assert notice.evaluate("n => n.scrollHeight <= n.clientHeight && n.scrollWidth <= n.clientWidth")
        show_map(page, "basemap-notice-390x844.png")
