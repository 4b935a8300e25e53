"""Basemaps behind the proxy of deploy/ (issue 13): two app processes on PostGIS behind nginx. Each process serves
the MBTiles tiles itself; the proxy's Content-Security-Policy lets the browser fetch the configured tile service
(deploy/stack.py adds its origin from BASEMAPS) and still nothing else.

Needs nginx, PostGIS and Chromium: each skips with the reason, or fails where REQUIRE_NGINX / REQUIRE_POSTGIS /
REQUIRE_BROWSER says it must run.
"""
from __future__ import annotations

import json
import re
import uuid

from deploy.stack import running_stack
from tests.browser import MAP_IFRAME, browser_page, chromium_missing, map_paths, screenshot, wait_idle
from tests.conftest import skip_or_fail
from tests.test_deploy import VIOLATIONS, filled_postgis, get, upstream_of  # noqa: F401 - a fixture, used below
from tests.tilegen import png_tile, tile_server, tiles_covering, write_mbtiles

AREA = (119.18, 26.00, 119.40, 26.18)
TILE = (13, 6811, 3479)  # an XYZ tile inside AREA
_SRCS = "() => Array.from(document.querySelectorAll('img.leaflet-tile')).filter(i => i.complete && i.naturalWidth)" \
        ".map(i => i.src)"


def test_tiles_through_the_proxy_from_every_process_and_a_csp_that_admits_the_tile_service(
        filled_postgis, tmp_path, monkeypatch):  # noqa: F811 - the fixture imported above
    why = chromium_missing()
    if why:
        skip_or_fail(why, "REQUIRE_BROWSER")
    tiles = {t: png_tile((205, 222, 240)) for t in tiles_covering(AREA, range(11, 14))}
    mbtiles = write_mbtiles(tmp_path / "gulou.mbtiles", tiles, {"name": "代理测试影像", "format": "png",
                                                                "bounds": ",".join(map(str, AREA))})
    with tile_server() as vec:
        monkeypatch.setenv("BASEMAPS", json.dumps([
            {"key": "loop", "name": "测试矢量底图", "url": vec.url + "/{z}/{x}/{y}.png"},
            {"key": "gis", "mbtiles": str(mbtiles)}], ensure_ascii=False))
        monkeypatch.setenv("BASEMAP", "loop")
        with running_stack(2, filled_postgis, tmp_path / "run") as stack:
            served = set()
            for _ in range(30):  # browsers (route cookies) spread over the processes: each serves the file
                route = uuid.uuid4().hex
                status, headers, body = get(f"{stack.url}/app/tiles/gis/{'/'.join(map(str, TILE))}?r={route}", route)
                assert status == 200 and headers["Content-Type"] == "image/png" and body == tiles[TILE]
                served.add(upstream_of(stack, f"r={route}"))
            assert served == set(stack.apps)
            status, headers, body = get(f"{stack.url}/app/tiles/gis/13/0/0", "x")
            assert status == 404 and body.decode() == "没有这个瓦片"
            csp = dict(d.strip().split(" ", 1) for d in headers["Content-Security-Policy"].split(";"))
            assert csp["img-src"] == f"'self' data: {vec.url}" and csp["connect-src"] == "'self'"
            _browser(stack, vec)


def _browser(stack, vec) -> None:
    with browser_page(1366, 900) as (page, external):
        page.context.add_init_script(VIOLATIONS)
        console: list[str] = []
        page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(f"{stack.url}/situation", wait_until="domcontentloaded")
        wait_idle(page)
        map_paths(page, at_least=10, timeout_ms=120_000)
        frame = page.locator(MAP_IFRAME).first.element_handle().content_frame()
        for _ in range(120):
            srcs = frame.evaluate(_SRCS)
            if len([s for s in srcs if s.startswith(vec.url)]) >= 4:
                break
            page.wait_for_timeout(500)
        assert len([s for s in srcs if re.match(re.escape(vec.url) + r"/\d+/\d+/\d+\.png$", s)]) >= 4, srcs[:4]
        assert page.evaluate("window.__csp || []") == [] and console == []
        assert not frame.locator(".gl-tile-notice").count() and external == []
        page.locator(MAP_IFRAME).first.scroll_into_view_if_needed()
        screenshot(page, "basemap-through-proxy-1366x900.png")
