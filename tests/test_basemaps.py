"""The office's own basemaps from the ``basemaps`` setting: parsing (bad entries → Chinese lines naming entry and
field), URL templates (XYZ, WMTS KVP/REST, token, subdomains), the catalogue (offered, overlays, GCJ-02), the
folium map they make (tiles, the one-notice script, payload), the app's tile route and the proxy's CSP."""
from __future__ import annotations

import asyncio
import json
import logging
import re
import sqlite3
from pathlib import Path

import folium
import numpy as np
import pytest
from starlette.routing import Router

from dashboard.tileserver import tile_routes
from deploy.stack import TEMPLATE, nginx_config
from geo.crs import wgs84_to_gcj02
from geo.errors import SettingsError
from geo.settings import Settings
from geo.tiles import parse_services, tile_url
from layers.basemaps import (
    MBTILES_ROUTE,
    TileNotice,
    available_basemaps,
    basemap_problems,
    catalogue,
    get_basemap,
    mbtiles_files,
    needs_gcj02,
    tile_origins,
)
from layers.mapbuild import add_layers, build_map
from tests.test_layers import features, hand_built_frames, outer_ring
from tests.tilegen import png_tile, write_mbtiles

BOUNDS = (119.29, 26.08, 119.32, 26.09)
TOKEN = "s3cr3t+Tok/en"
BUILT_IN = ("none", "osm", "amap", "tianditu")
XYZ = {"key": "vec", "name": "政务外网矢量", "url": "http://10.1.2.3:8080/vec/{z}/{x}/{y}.png"}
KVP = ("http://t{s}.tdt.gov.internal/cva_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=cva&STYLE=default"
       "&TILEMATRIXSET=w&FORMAT=tiles&tk={token}")


def settings_of(*entries, **more) -> Settings:
    return Settings(basemaps=json.dumps(list(entries), ensure_ascii=False), **more)


def one(entry) -> tuple:
    return parse_services(json.dumps([entry], ensure_ascii=False), reserved=BUILT_IN)


# ---------------------------------------------------------------- parsing: every bad entry named, with its field

@pytest.mark.parametrize("entry, field, reason", [
    ("vec", "", "应为一个 {…} 对象"),
    ({**XYZ, "colour": "red"}, "colour", "不是可用的字段"),
    ({k: v for k, v in XYZ.items() if k != "key"}, "key", "缺少"),
    ({**XYZ, "key": "Vec Map"}, "key", "小写字母"),
    ({**XYZ, "key": "amap"}, "key", "与内置底图重名"),
    ({k: v for k, v in XYZ.items() if k != "name"}, "name", "缺少"),
    ({**XYZ, "mbtiles": "/srv/a.mbtiles"}, "url", "只能填一个"),
    ({"key": "vec", "name": "矢量"}, "url", "缺少"),
    ({**XYZ, "url": "ftp://10.1.2.3/{z}/{x}/{y}.png"}, "url", "http://"),
    ({**XYZ, "url": "javascript:alert(1)//{z}{x}{y}"}, "url", "http://"),
    ({**XYZ, "url": "http://10.1.2.3/{x}/{y}.png"}, "url", "缺少 {z}"),
    ({**XYZ, "url": "http://10.1.2.3/{z}/{x}.png"}, "url", "缺少 {y} 或 {-y}"),
    ({**XYZ, "url": "http://10.1.2.3/{z}/{x}/{y}.png?key={apikey}"}, "url", "{apikey} 无法识别"),
    ({**XYZ, "url": "http://t{s}.host/{z}/{x}/{y}.png"}, "subdomains", "同时填写"),
    ({**XYZ, "subdomains": "123"}, "subdomains", "网址中没有 {s}"),
    ({**XYZ, "subdomains": [1, 2]}, "subdomains", "子域名列表"),
    ({**XYZ, "url": XYZ["url"] + "?tk={token}"}, "token", "缺少"),
    ({**XYZ, "token": TOKEN}, "token", "网址中没有 {token}"),
    ({**XYZ, "kind": "labels"}, "kind", "base"),
    ({**XYZ, "crs": "bd09"}, "crs", "BD-09"),
    ({**XYZ, "max_zoom": 25}, "max_zoom", "0–22"),
    ({**XYZ, "min_zoom": True}, "min_zoom", "0–22"),
    ({**XYZ, "min_zoom": 15, "max_zoom": 12}, "min_zoom", "不能大于"),
    ({**XYZ, "bounds": [119.4, 26.0, 119.2, 26.1]}, "bounds", "最小值在前"),
    ({**XYZ, "bases": ["osm"]}, "bases", "只用于叠加层"),
    ({**XYZ, "kind": "overlay", "bases": "osm"}, "bases", "列表"),
    ({**XYZ, "url": "http://h/wmts?SERVICE=WMTS&REQUEST=GetTile&TILEMATRIXSET=w"}, "url", "缺少 LAYER"),
    ({**XYZ, "url": "http://h/wmts?SERVICE=WMTS&LAYER=vec&TILEMATRIXSET=c"}, "url", "经纬度切片"),
    ({"key": "gis", "mbtiles": "tiles/gulou.mbtiles"}, "mbtiles", "绝对路径"),
])
def test_a_bad_entry_is_left_out_with_one_chinese_line_naming_it_and_its_field(entry, field, reason):
    services, problems = parse_services(json.dumps([XYZ | {"key": "ok"}, entry], ensure_ascii=False),
                                        reserved=BUILT_IN)
    assert [s.key for s in services] == ["ok"]  # the good entry stays: the app still starts with it
    assert len(problems) == 1, problems
    assert problems[0].startswith("底图设置第 2 项") and reason in problems[0], problems[0]
    assert (f"的“{field}”" in problems[0]) if field else "应为一个" in problems[0]
    assert problems[0].endswith("该项未启用")
    assert TOKEN not in problems[0] and "10.1.2.3" not in problems[0]  # never a value: it may hold a token


def test_every_problem_of_an_entry_is_reported_at_once_and_duplicates_are_named():
    services, problems = parse_services(json.dumps([XYZ, {**XYZ, "key": "img", "kind": "labels", "max_zoom": 99}, XYZ]),
                                        reserved=BUILT_IN)
    assert [s.key for s in services] == ["vec"]
    assert len(problems) == 3
    assert any("“kind”" in p for p in problems) and any("“max_zoom”" in p for p in problems)
    assert "底图设置第 3 项（vec）的“key”与第 1 项重复，该项未启用" in problems


@pytest.mark.parametrize("text, reason", [("[{", "不是有效的 JSON（第 1 行第 3 列）"), ('{"key": "x"}', "应为列表")])
def test_a_setting_that_is_not_a_json_list_is_one_line_and_no_service(text, reason):
    services, problems = parse_services(text)
    assert services == () and len(problems) == 1 and reason in problems[0]


def test_an_empty_setting_is_no_service_and_no_problem():
    assert parse_services("") == ((), ()) and parse_services("   ") == ((), ())


# ---------------------------------------------------------------- URL templates

def test_xyz_template_with_subdomains_token_and_reversed_rows():
    (service,), problems = one({"key": "gs", "name": "GeoServer", "url": "https://gs{s}.gis.local/{z}/{x}/{-y}.png"
                                "?key={token}", "subdomains": ["1", "2"], "token": TOKEN})
    assert problems == ()
    assert service.subdomains == ("1", "2")
    assert tile_url(service) == "https://gs{s}.gis.local/{z}/{x}/{-y}.png?key=s3cr3t%2BTok%2Fen"
    assert TOKEN not in repr(service)


def test_wmts_kvp_gets_its_tile_matrix_row_and_column_filled_in():
    (service,), problems = one({"key": "cva", "name": "注记", "kind": "overlay", "url": KVP,
                                "subdomains": "01234567", "token": "abc"})
    assert problems == ()
    url = tile_url(service)
    assert url.endswith("&tk=abc&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}")
    assert service.overlay and service.subdomains == tuple("01234567")


def test_wmts_kvp_with_empty_parameters_and_a_geoserver_matrix_prefix():
    url = ("http://gs.local/geoserver/gwc/service/wmts?SERVICE=WMTS&REQUEST=GetTile&LAYER=gulou:dom"
           "&TILEMATRIXSET=EPSG:900913&TILEMATRIX=EPSG:900913:{z}&TILEROW=&tilecol=&FORMAT=image/png")
    (service,), problems = one({"key": "dom", "name": "影像", "url": url})
    assert problems == ()
    assert "TILEMATRIX=EPSG:900913:{z}&TILEROW={y}&tilecol={x}&FORMAT" in service.url


def test_wmts_rest_template_placeholders_become_xyz():
    (service,), _ = one({"key": "rest", "name": "REST", "url": "http://h/wmts/vec/default/w/{TileMatrix}/{TileRow}/"
                         "{TileCol}.png"})
    assert service.url == "http://h/wmts/vec/default/w/{z}/{y}/{x}.png"


def test_a_path_of_this_server_is_a_valid_url_and_needs_no_csp_origin():
    (service,), problems = one({"key": "px", "name": "代理瓦片", "url": "/tiles/vec/{z}/{x}/{y}.png"})
    assert problems == () and service.url.startswith("/tiles/")
    assert tile_origins(settings_of({"key": "px", "name": "代理瓦片", "url": "/tiles/vec/{z}/{x}/{y}.png"})) == ()


# ---------------------------------------------------------------- the catalogue

def test_configured_bases_are_offered_by_their_chinese_names_after_the_built_in_ones():
    settings = settings_of(XYZ, {"key": "img", "name": "政务外网影像", "url": "http://10.1.2.3:8080/img/{z}/{x}/{y}.jpg"},
                           {"key": "cva", "name": "政务外网注记", "kind": "overlay", "url": KVP,
                            "subdomains": "0123", "token": TOKEN})
    choices = available_basemaps(settings)
    assert list(choices) == ["none", "osm", "amap", "vec", "img"]  # the overlay rides on the bases
    assert choices["vec"] == "政务外网矢量"
    vec = get_basemap("vec", settings)
    assert [t.overlay for t in vec.tiles] == [False, True]  # several at once: vector map + labels
    assert get_basemap("img", settings).tiles[1].name == "政务外网注记"
    assert len(get_basemap("osm", settings).tiles) == 1  # an overlay naming no base stays off the built-in ones


def test_an_overlay_goes_over_the_bases_it_names_in_the_same_coordinate_system_only():
    settings = settings_of(XYZ, {"key": "gcj", "name": "GCJ 底图", "crs": "gcj02", "url": "http://h/{z}/{x}/{y}"},
                           {"key": "lab", "name": "注记", "kind": "overlay", "bases": ["none", "vec", "gcj", "nope"],
                            "url": "http://h/lab/{z}/{x}/{y}"})
    assert [t.name for t in get_basemap("none", settings).tiles] == ["注记"]  # labels over the offline map
    assert len(get_basemap("vec", settings).tiles) == 2 and len(get_basemap("gcj", settings).tiles) == 1
    problems = basemap_problems(settings)
    assert len(problems) == 2
    assert "底图设置第 3 项（lab）的“bases”中的 gcj 与它的坐标系不同" in problems[0]
    assert "nope 不是可用的底图" in problems[1]


def test_a_gcj02_service_shifts_the_overlays_exactly_as_amap():
    settings = settings_of({"key": "gcj", "name": "GCJ 底图", "crs": "GCJ-02", "url": "http://h/{z}/{x}/{y}.png"})
    assert needs_gcj02("gcj", settings) and not needs_gcj02("vec", settings_of(XYZ))
    frames = hand_built_frames()  # tiny hand-built frames, EPSG:4326
    maps = {k: build_map(BOUNDS, basemap=k, settings=settings) for k in ("gcj", "amap", "none")}
    assert maps["gcj"].location == maps["amap"].location != maps["none"].location  # the view shifted like Amap's
    rings = {}
    for key, m in maps.items():
        add_layers(m, {"streets": frames["streets"]}, level="district")
        rings[key] = np.array(outer_ring(features(m)[0]))
    assert np.allclose(rings["gcj"], rings["amap"])
    x, y = wgs84_to_gcj02(rings["none"][:, 0], rings["none"][:, 1])
    assert np.allclose(rings["gcj"], np.c_[x, y], atol=1e-5) and not np.allclose(rings["gcj"], rings["none"], atol=1e-3)


def test_an_unknown_key_names_the_configured_choices_too():
    with pytest.raises(SettingsError, match="vec（政务外网矢量）"):
        get_basemap("google", settings_of(XYZ))


def test_a_default_basemap_that_is_not_available_falls_back_to_none_and_says_so():
    settings = settings_of({**XYZ, "url": "ftp://x/{z}/{x}/{y}"}, basemap="vec")
    assert get_basemap("vec", settings).key == "none" and not needs_gcj02("vec", settings)
    assert "L.tileLayer" not in build_map(BOUNDS, basemap=settings.basemap, asset_mode="url", prefix="/v",
                                          settings=settings).get_root().render()
    assert basemap_problems(settings)[-1] == "默认底图（BASEMAP）vec 不可用，地图改用“无底图（离线）”"
    with pytest.raises(SettingsError, match="未知的底图“img”"):
        get_basemap("img", settings)  # any other unknown key is still an error


def test_problems_go_to_the_log_once_without_a_token(caplog):
    settings = settings_of({**XYZ, "key": "once-only", "token": TOKEN})
    with caplog.at_level(logging.WARNING, logger="layers.basemaps"):
        for _ in range(3):
            catalogue(settings)
            available_basemaps(settings)
    lines = [r.getMessage() for r in caplog.records if "once-only" in r.getMessage()]
    assert len(lines) == 1 and "网址中没有 {token}" in lines[0] and TOKEN not in caplog.text


def test_settings_read_the_list_from_the_environment_or_a_json_file(tmp_path):
    path = tmp_path / "basemaps.json"
    path.write_text(json.dumps([XYZ], ensure_ascii=False), encoding="utf-8")
    from_file = Settings.load(environ={"BASEMAPS": str(path)})
    assert available_basemaps(from_file)["vec"] == "政务外网矢量"
    inline = Settings.load(environ={"BASEMAPS": json.dumps([XYZ])})
    assert "vec" in available_basemaps(inline)
    missing = Settings.load(environ={"BASEMAPS": str(tmp_path / "gone.json")})
    assert basemap_problems(missing) == ("底图设置文件（BASEMAPS 所指的 .json 文件）无法读取，其中的底图均未启用",)
    assert list(available_basemaps(missing)) == ["none", "osm", "amap"]


# ---------------------------------------------------------------- the folium map

def test_the_map_draws_the_service_with_its_token_bounds_and_zooms_and_one_notice_script():
    settings = settings_of({**XYZ, "url": XYZ["url"] + "?tk={token}", "token": TOKEN, "min_zoom": 10,
                            "max_zoom": 20, "bounds": [119.1, 25.9, 119.5, 26.3], "attribution": "<b>区测绘院</b>"},
                           {"key": "cva", "name": "注记<i>", "kind": "overlay", "url": KVP, "subdomains": "01",
                            "token": TOKEN})
    m = build_map(BOUNDS, basemap="vec", asset_mode="url", prefix="/v", settings=settings)
    layers = [c for c in m._children.values() if isinstance(c, folium.TileLayer)]
    assert [layer.options.get("min_native_zoom") for layer in layers] == [10, None]
    assert layers[0].options["max_native_zoom"] == 18 and layers[0].options["bounds"] == [[25.9, 119.1], [26.3, 119.5]]
    assert layers[0].tiles.endswith("?tk=s3cr3t%2BTok%2Fen") and layers[1].options["subdomains"] == ["0", "1"]
    assert layers[0].options["attribution"] == "&lt;b&gt;区测绘院&lt;/b&gt;"  # Leaflet sets it as HTML
    assert layers[1].control and layers[1].layer_name == "注记&lt;i&gt;" and not layers[0].control
    notices = [c for c in m._children.values() if isinstance(c, TileNotice)]
    assert len(notices) == 1 and [name for _, name in notices[0].layers] == ["政务外网矢量", "注记<i>"]
    html = m.get_root().render()
    assert html.count('on("tileerror"') == 2 and html.count("暂时无法加载（服务器无响应），地图其余内容正常显示。") == 1


def test_the_default_basemap_adds_nothing_that_loads_and_the_notice_is_small():
    plain = build_map(BOUNDS, asset_mode="url", prefix="/v", settings=settings_of(XYZ))
    html = plain.get_root().render()
    assert "gl-tile-notice" not in html and "tileLayer" not in html
    assert not re.search(r"https?://(?!www\.w3\.org)", html.replace("http-equiv", ""))
    with_tiles = build_map(BOUNDS, basemap="vec", asset_mode="url", prefix="/v", settings=settings_of(XYZ))
    script = TileNotice([(next(c for c in with_tiles._children.values() if isinstance(c, folium.TileLayer)), "x")])
    with_tiles.add_child(script)
    rendered = with_tiles.get_root().render()
    notice_bytes = len(rendered) - len(rendered.replace(script._template.module.script(script, {}), ""))
    assert 0 < notice_bytes < 2500  # the one-notice script for one layer, in bytes


# ---------------------------------------------------------------- MBTiles through the catalogue and the route

@pytest.fixture
def mbtiles(tmp_path) -> Path:
    tiles = {(12, 3405, 1739): png_tile((10, 20, 30)), (13, 6810, 3479): png_tile((40, 50, 60), fmt="JPEG")}
    return write_mbtiles(tmp_path / "gulou.mbtiles", tiles, {
        "name": "区自然资源局影像", "format": "jpg", "minzoom": "12", "maxzoom": "13", "type": "baselayer",
        "bounds": "119.25,26.03,119.36,26.14", "attribution": "鼓楼区自然资源局"})


def test_an_mbtiles_file_is_a_basemap_served_by_the_app_bounded_and_zoomed_by_its_metadata(mbtiles):
    settings = settings_of({"key": "gis", "mbtiles": str(mbtiles)})
    assert available_basemaps(settings)["gis"] == "区自然资源局影像"  # the name from the metadata
    (tiles,) = get_basemap("gis", settings).tiles
    assert tiles.url == f"{MBTILES_ROUTE}/gis/{{z}}/{{x}}/{{y}}"
    assert (tiles.min_zoom, tiles.max_zoom, tiles.bounds) == (12, 13, (119.25, 26.03, 119.36, 26.14))
    assert tiles.attribution == "鼓楼区自然资源局"
    assert mbtiles_files(settings) == {"gis": str(mbtiles)} and tile_origins(settings) == ()


def test_gcj02_mbtiles_from_its_metadata_or_the_setting(tmp_path):
    meta = {"format": "png", "minzoom": "12", "maxzoom": "12", "bounds": "119.2,26.0,119.4,26.2"}
    tagged = write_mbtiles(tmp_path / "a.mbtiles", {(12, 3405, 1739): png_tile()}, {**meta, "crs": "GCJ-02"})
    plain = write_mbtiles(tmp_path / "b.mbtiles", {(12, 3405, 1739): png_tile()}, meta)
    settings = settings_of({"key": "a", "mbtiles": str(tagged)}, {"key": "b", "mbtiles": str(plain)},
                           {"key": "c", "mbtiles": str(plain), "crs": "gcj02"})
    assert [needs_gcj02(k, settings) for k in "abc"] == [True, False, True]


def test_a_missing_or_broken_mbtiles_file_is_a_problem_without_its_path(tmp_path):
    (tmp_path / "junk.mbtiles").write_bytes(b"not sqlite at all" * 100)
    vector = write_mbtiles(tmp_path / "v.mbtiles", {(1, 0, 0): b"\x1a"}, {"format": "pbf"})
    settings = settings_of({"key": "gone", "mbtiles": str(tmp_path / "gone.mbtiles")},
                           {"key": "junk", "mbtiles": str(tmp_path / "junk.mbtiles")},
                           {"key": "vector", "mbtiles": str(vector)})
    problems = basemap_problems(settings)
    assert problems == (
        "底图设置第 1 项（gone）的“mbtiles”：文件不存在或无法读取，该项未启用",
        "底图设置第 2 项（junk）的“mbtiles”：文件不存在、无法读取或不是 MBTiles 文件，该项未启用",
        "底图设置第 3 项（vector）的“mbtiles”：瓦片格式 pbf 不受支持（只支持 PNG、JPEG、WebP 栅格瓦片），该项未启用")
    assert list(available_basemaps(settings)) == ["none", "osm", "amap"]
    assert not any(str(tmp_path) in p for p in problems)


def get(path: str, env: dict) -> tuple[int, dict, bytes]:
    """GET ``path`` from the app's tile routes (a Starlette router, ASGI called directly) with ``env`` set."""
    router, sent = Router(routes=tile_routes()), []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": [], "root_path": "", "scheme": "http", "server": ("127.0.0.1", 80)}
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        asyncio.run(router(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body


def test_the_tile_route_serves_configured_files_by_key_only(mbtiles, tmp_path):
    env = {"BASEMAPS": json.dumps([{"key": "gis", "mbtiles": str(mbtiles)}])}
    status, headers, body = get("/app/tiles/gis/13/6810/3479", env)
    assert status == 200 and headers["content-type"] == "image/jpeg" and body[:3] == b"\xff\xd8\xff"
    assert headers["cache-control"] == "public, max-age=3600" and headers["x-content-type-options"] == "nosniff"
    status, headers, body = get("/app/tiles/gis/12/3405/1739", env)
    assert status == 200 and body.startswith(b"\x89PNG")  # stored as PNG: the bytes as they are
    other = write_mbtiles(tmp_path / "other.mbtiles", {(1, 0, 0): png_tile()}, {"format": "png"})
    for path in ("/app/tiles/gis/13/6810/3478", "/app/tiles/gis/13/99999/0", "/app/tiles/other/1/0/0",
                 f"/app/tiles/{other}/1/0/0", "/app/tiles/gis/13/6810/-1", "/app/tiles/gis/a/b/c",
                 "/app/tiles/gis/13/6810/3479/extra", "/app/tiles/..%2f..%2fetc%2fpasswd/1/0/0"):
        status, headers, body = get(path, env)
        assert status == 404, path
        assert headers["content-type"] == "text/plain; charset=utf-8" and body.decode() in ("没有这个瓦片", "没有这个底图")


def test_a_file_that_cannot_be_read_answers_503_in_chinese_logged_once_and_a_broken_one_is_dropped(
        mbtiles, monkeypatch, caplog):
    monkeypatch.setenv("BASEMAPS", json.dumps([{"key": "gis", "mbtiles": str(mbtiles)}]))
    import dashboard.tileserver as ts

    def failing(*_args):
        raise sqlite3.OperationalError(f"disk I/O error reading {mbtiles}")

    monkeypatch.setattr(ts, "read_tile", failing)
    with caplog.at_level(logging.ERROR, logger="dashboard.tileserver"):
        answers = [ts.tile_response("gis", 12, 3405, 1739) for _ in range(3)]
    assert {(a.status_code, a.body.decode()) for a in answers} == {(503, "底图文件暂时无法读取")}
    assert len(caplog.records) == 1 and "disk I/O error" in caplog.text  # the reason for the administrator, once
    monkeypatch.undo()
    mbtiles.write_bytes(mbtiles.read_bytes()[:100])  # truncated in place: the catalogue reads it again and drops it
    env = {"BASEMAPS": json.dumps([{"key": "gis", "mbtiles": str(mbtiles)}])}
    assert get("/app/tiles/gis/12/3405/1739", env)[:3:2] == (404, "没有这个底图".encode())
    assert "不是 MBTiles 文件" in basemap_problems(Settings.load(environ=env))[0]


# ---------------------------------------------------------------- the proxy's Content-Security-Policy

def test_the_proxy_lets_the_browser_fetch_configured_tile_hosts_and_nothing_else(tmp_path):
    settings = settings_of({**XYZ, "url": "http://t{s}.tdt.internal:8080/{z}/{x}/{y}.png", "subdomains": "01"},
                           {"key": "img", "name": "影像", "url": "https://GIS.local/img/{z}/{x}/{y}.jpg"})
    origins = tile_origins(settings)
    assert origins == ("http://t0.tdt.internal:8080", "http://t1.tdt.internal:8080", "https://gis.local")
    site = TEMPLATE.read_text(encoding="utf-8")
    conf = nginx_config(site, ["127.0.0.1:8501"], 8080, tmp_path, origins)
    (csp,) = [line for line in conf.splitlines() if "Content-Security-Policy" in line]
    assert "img-src 'self' data: http://t0.tdt.internal:8080 http://t1.tdt.internal:8080 https://gis.local;" in csp
    assert "default-src 'self';" in csp and "connect-src 'self';" in csp
    assert nginx_config(site, ["127.0.0.1:8501"], 8080, tmp_path) == nginx_config(site, ["127.0.0.1:8501"], 8080,
                                                                                   tmp_path, ())
    assert "img-src 'self' data:;" in nginx_config(site, ["127.0.0.1:8501"], 8080, tmp_path)
