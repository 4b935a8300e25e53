"""参考图层 in Chromium: 20,000 generated road segments drawn under the choropleth (their own pane, lower in the
stacking order, taking no clicks), no names at district zoom, place names at a community's zoom.

The reference layers are generated (tests.test_reference_layer) into the test database, never into the sample.
Screenshots: artifacts/reference_district_1366x768.png, reference_district_1920x1080.png,
reference_community_390x844.png.
"""
from __future__ import annotations

import pytest

from tests.browser import (
    CHROMIUM,
    MAP_IFRAME,
    browser_page,
    chromium_missing,
    map_paths,
    running_app,
    screenshot,
    wait_idle,
)
from tests.test_reference_layer import DISTRICT_BOUNDS, ZHONGSHAN, store_reference

CHOROPLETH_PATH = "path.leaflet-interactive[stroke='#ffffff'][fill-opacity='0.75']"
MAIN_ROAD_LAT = DISTRICT_BOUNDS[1] + 0.5 * (DISTRICT_BOUNDS[3] - DISTRICT_BOUNDS[1])  # grid line 50: a 主干路

_STACK = """([lat, lon, choropleth]) => {
  const map = window.map_div, ref = map.getPane("glBaseReference"), over = map.getPane("overlayPane");
  const names = map.getPane("glBaseReferenceNames");
  const p = map.latLngToContainerPoint([lat, lon]);
  const top = document.elementFromPoint(p.x, p.y);
  // let the reference paths be hit for a moment, to read the stacking order at the road's point
  ref.style.pointerEvents = "auto";
  ref.querySelectorAll("path").forEach(e => { e.style.pointerEvents = "visibleStroke"; });
  const stack = document.elementsFromPoint(p.x, p.y);
  ref.style.pointerEvents = "none";
  ref.querySelectorAll("path").forEach(e => { e.style.pointerEvents = ""; });
  const under = stack.findIndex(e => ref.contains(e) && e.tagName === "path");
  const unit = stack.findIndex(e => e.matches(choropleth));
  return {zoom: map.getZoom(), refZ: +getComputedStyle(ref).zIndex, overZ: +getComputedStyle(over).zIndex,
          namesZ: +getComputedStyle(names).zIndex, refPaths: ref.querySelectorAll("path").length,
          refInteractive: ref.querySelectorAll(".leaflet-interactive").length,
          topIsUnit: !!(top && top.matches(choropleth)), roadIndex: under, unitIndex: unit,
          names: names.querySelectorAll(".gl-ref-name").length, namesShown: getComputedStyle(names).display !== "none"};
}"""

_NAMES = """() => {  // the reference names shown inside the map, how many overlap, the map's zoom
  const map = window.map_div, box = map.getContainer().getBoundingClientRect();
  const shown = [...map.getPane("glBaseReferenceNames").querySelectorAll(".gl-ref-name span")]
    .filter(e => getComputedStyle(e).visibility !== "hidden")
    .map(e => e.getBoundingClientRect())
    .filter(r => r.width > 0 && r.right > box.left && r.left < box.right && r.bottom > box.top && r.top < box.bottom);
  let overlaps = 0;
  for (let i = 0; i < shown.length; i++) for (let j = 0; j < i; j++) {
    const a = shown[i], b = shown[j];
    if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) overlaps++;
  }
  return {zoom: map.getZoom(), shown: shown.length, overlaps: overlaps,
          fontPx: shown.length ? parseFloat(getComputedStyle(
            map.getPane("glBaseReferenceNames").querySelector(".gl-ref-name span")).fontSize) : 0};
}"""


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The app on the sample district with 20,200 generated road segments, a river, buildings and place names."""
    from data.store import open_store
    from geo.settings import Settings
    from tests.conftest import skip_or_fail

    why = chromium_missing()
    if why:
        skip_or_fail(why, "REQUIRE_BROWSER")
    db = tmp_path_factory.mktemp("reference") / "app.db"
    open_store(Settings.load({"database_url": f"sqlite:///{db}"}))
    store_reference(f"sqlite:///{db}", n_buildings=3000)
    with running_app(db, timeout=180) as base:
        yield base


def _shot(page, name: str) -> None:
    """The map scrolled into view, then the window as the reader sees it, to artifacts/``name``."""
    page.locator(MAP_IFRAME).first.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    screenshot(page, name)


def _situation(page, base: str, scope: str = ""):
    page.goto(f"{base}/situation" + (f"?scope={scope}" if scope else ""), wait_until="domcontentloaded")
    wait_idle(page, 120_000)
    frame = map_paths(page, at_least=5, timeout_ms=120_000)
    frame.locator(".leaflet-pane.leaflet-glBaseReference-pane path").first.wait_for(state="attached", timeout=60_000)
    page.wait_for_timeout(500)
    return page.locator(MAP_IFRAME).first.element_handle().content_frame()


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (1920, 1080)])
def test_district_roads_lie_under_the_choropleth_without_names(app, width, height):
    assert CHROMIUM
    with browser_page(width, height) as (page, external):
        frame = _situation(page, app)
        lon = (DISTRICT_BOUNDS[0] + DISTRICT_BOUNDS[2]) / 2
        info = frame.evaluate(_STACK, [MAIN_ROAD_LAT, lon, CHOROPLETH_PATH])
        _shot(page, f"reference_district_{width}x{height}.png")
        assert info["refZ"] < info["overZ"] < info["namesZ"], info  # the roads' pane below the overlays'
        assert info["refPaths"] >= 3 and info["refInteractive"] == 0, info  # water, buildings, roads; no clicks
        assert info["topIsUnit"], info  # a click on a road reaches the unit
        assert 0 <= info["unitIndex"] < info["roadIndex"], info  # the road is there, under the unit
        assert info["zoom"] < 15 and info["names"] == 0 and not info["namesShown"], info
        assert external == []


def test_a_community_shows_place_names_at_street_zoom(app):
    with browser_page(390, 844) as (page, external):
        frame = _situation(page, app, ZHONGSHAN)
        frame.locator(".gl-ref-name span").first.wait_for(state="attached", timeout=30_000)
        try:  # the pass that hides overlapping names runs just after every zoom, move or added layer
            frame.wait_for_function(f"(() => {{ const r = ({_NAMES})(); return r.shown >= 3 && !r.overlaps; }})",
                                    timeout=30_000)
        finally:
            names = frame.evaluate(_NAMES)
        _shot(page, "reference_community_390x844.png")
        assert names["zoom"] >= 15 and names["shown"] >= 3, names
        assert names["overlaps"] == 0 and 10 <= names["fontPx"] <= 12, names
        assert external == []
