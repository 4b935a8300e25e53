"""Basemaps (底图): none (offline, the default), OpenStreetMap, Amap (GCJ-02), Tianditu, and the office's own
tile services and MBTiles files from the ``basemaps`` setting (see ``geo.tiles`` for its entries).

Only "none" works without a tile server. Amap tiles, and every configured service or MBTiles file whose
coordinate system is gcj02, are drawn in GCJ-02, so overlays drawn on them must be shifted with
:func:`geo.crs.to_gcj02` (:func:`needs_gcj02` says when; ``layers.mapbuild`` does it for maps built by
``build_map``). Tianditu (CGCS2000, equal to WGS84 at map scale) needs a token from the settings
(``tianditu_key``) and is offered only when one is set.

A configured base (kind base) is offered in the basemap selector under its Chinese name, with the
configured overlays (kind overlay: 注记) drawn over it — those that name it in ``bases``, or, naming none,
every configured base in their own coordinate system; an overlay also appears in the layer control. An
MBTiles file is served by the app itself at ``MBTILES_ROUTE``/<key>/{z}/{x}/{y} (``dashboard.tileserver``),
bounded and zoomed as its metadata says. A map with tiles gets :class:`TileNotice`: when a service's tiles
fail (an error for every tile of a view, or none arriving within ``NOTICE_WAIT_MS``) one Chinese notice on
the map names it, and the rest of the map works as before. An entry of the setting with a problem is left
out; :func:`basemap_problems` lists them and the log gets each line once.
"""
from __future__ import annotations

import html
import logging
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, urlsplit

import folium
from branca.element import MacroElement
from jinja2 import Template

from geo.errors import SettingsError
from geo.settings import Settings, get_settings
from geo.tiles import TileService, attached, parse_services, tile_url, with_metadata
from layers.mbtiles import read_metadata

log = logging.getLogger(__name__)
MBTILES_ROUTE = "/app/tiles"
"""Where the app serves the tiles of a configured MBTiles file: ``MBTILES_ROUTE/<key>/{z}/{x}/{y}``."""
MAP_MAX_ZOOM = 18
NOTICE_WAIT_MS = 15_000
"""How long a view may wait for its first tile of a service before the map says the service does not answer."""
_TDT = ("https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
        "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=")
_REPORTED: set[str] = set()


@dataclass(frozen=True)
class Tiles:
    """One tile layer: URL template (with any token in it: never logged), attribution (HTML), subdomains,
    its name in the layer control (HTML), whether it is an overlay, the zoom levels it has tiles for and
    the (min lon, min lat, max lon, max lat) it covers (None: everywhere); ``keyed``: the Tianditu key is
    appended to its URL."""

    url: str = field(repr=False)
    attribution: str
    subdomains: str | tuple[str, ...] = "abc"
    name: str = ""
    overlay: bool = False
    min_zoom: int = 0
    max_zoom: int = MAP_MAX_ZOOM
    bounds: tuple[float, float, float, float] | None = None
    keyed: bool = False


@dataclass(frozen=True)
class Basemap:
    """A basemap choice: key, Chinese label, its tile layers (the base first), whether overlays need
    GCJ-02, whether it needs the Tianditu key."""

    key: str
    label: str
    tiles: tuple[Tiles, ...] = ()
    gcj02: bool = False
    needs_key: bool = False


BASEMAPS: dict[str, Basemap] = {b.key: b for b in (
    Basemap("none", "无底图（离线）"),
    Basemap("osm", "OpenStreetMap", (Tiles(
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> 贡献者', ""),)),
    Basemap("amap", "高德地图", (Tiles(
        "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
        "&copy; 高德地图", "1234"),), gcj02=True),
    Basemap("tianditu", "天地图", (
        Tiles(_TDT.replace("{layer}", "vec", 2), "&copy; 天地图", "01234567", keyed=True),
        Tiles(_TDT.replace("{layer}", "cva", 2), "&copy; 天地图", "01234567", overlay=True, keyed=True),
    ), needs_key=True),
)}
"""The built-in basemaps."""

DEFAULT_BASEMAP = "none"


@dataclass(frozen=True)
class Catalogue:
    """Every basemap of the settings (built-in first, then the configured bases in their order), the
    configured services by key (MBTiles completed from their metadata) and the problems found."""

    basemaps: dict[str, Basemap]
    services: dict[str, TileService]
    problems: tuple[str, ...]


def _settings_text(raw: str) -> tuple[str, tuple[str, ...]]:
    """The JSON text of the ``basemaps`` setting: itself, or the file it names."""
    if not raw.strip() or raw.lstrip().startswith(("[", "{")):
        return raw, ()
    try:
        return Path(raw.strip()).read_text(encoding="utf-8"), ()
    except (OSError, UnicodeDecodeError):
        return "", ("底图设置文件（BASEMAPS 所指的 .json 文件）无法读取，其中的底图均未启用",)


@lru_cache(maxsize=8)
def _parsed(raw: str) -> tuple[tuple[TileService, ...], tuple[str, ...]]:
    text, problems = _settings_text(raw)
    services, found = parse_services(text, reserved=tuple(BASEMAPS))
    return services, problems + found


@lru_cache(maxsize=64)
def _metadata(path: str, _stamp: tuple[int, int]):
    """The metadata of an MBTiles file, or the Chinese reason it cannot be used (cached per file version)."""
    try:
        return read_metadata(path)
    except SettingsError as exc:
        return str(exc)


def _with_file(service: TileService) -> TileService | str:
    """An MBTiles service completed from its file's metadata, or the problem."""
    try:
        stat = os.stat(service.mbtiles)
    except OSError:
        return f"{service.entry}的“mbtiles”：文件不存在或无法读取，该项未启用"
    meta = _metadata(service.mbtiles, (stat.st_mtime_ns, stat.st_size))
    if isinstance(meta, str):
        return f"{service.entry}的“mbtiles”：{meta}，该项未启用"
    return with_metadata(service, meta)


def _source_url(service: TileService) -> str:
    return f"{MBTILES_ROUTE}/{service.key}/{{z}}/{{x}}/{{y}}" if service.mbtiles else tile_url(service)


def _tiles(service: TileService) -> Tiles:
    name = html.escape(service.name)
    return Tiles(_source_url(service), html.escape(service.attribution) or name, service.subdomains or "", name,
                 bool(service.overlay), service.min_zoom or 0, min(service.max_zoom or MAP_MAX_ZOOM, MAP_MAX_ZOOM),
                 service.bounds)


def _overlays_of(base: Basemap, custom: bool, overlays: list[TileService]) -> tuple[Tiles, ...]:
    return tuple(_tiles(o) for o in overlays if attached(o, base.key, base.gcj02, custom) and o.gcj02 == base.gcj02)


def _overlay_problems(overlays: list[TileService], known: dict[str, Basemap]) -> list[str]:
    problems = []
    for overlay in overlays:
        for key in overlay.bases:
            if key not in known:
                problems.append(f"{overlay.entry}的“bases”中的 {key} 不是可用的底图")
            elif known[key].gcj02 != overlay.gcj02:
                problems.append(f"{overlay.entry}的“bases”中的 {key} 与它的坐标系不同，不会叠加在该底图上")
    return problems


def catalogue(settings: Settings | None = None) -> Catalogue:
    """The basemaps of ``settings`` (default: the environment's); new problems go to the log once."""
    settings = settings or get_settings()
    parsed, problems = _parsed(settings.basemaps)
    services, problems = {}, list(problems)
    for service in parsed:
        done = _with_file(service) if service.mbtiles else service
        if isinstance(done, str):
            problems.append(done)
        else:
            services[done.key] = done
    overlays = [s for s in services.values() if s.overlay]
    bases = {k: Basemap(k, s.name, (_tiles(s),), s.gcj02) for k, s in services.items() if not s.overlay}
    problems += _overlay_problems(overlays, {**BASEMAPS, **bases})
    basemaps = {k: Basemap(b.key, b.label, b.tiles + _overlays_of(b, k in bases, overlays), b.gcj02, b.needs_key)
                for k, b in {**BASEMAPS, **bases}.items()}
    if settings.basemap not in basemaps:
        problems.append(f"默认底图（BASEMAP）{settings.basemap[:40]} 不可用，地图改用“{BASEMAPS[DEFAULT_BASEMAP].label}”")
    _report(problems)
    return Catalogue(basemaps, services, tuple(problems))


def _report(problems: list[str]) -> None:
    for problem in problems:
        if problem not in _REPORTED:
            _REPORTED.add(problem)
            log.warning("底图设置有误：%s", problem)


def basemap_problems(settings: Settings | None = None) -> tuple[str, ...]:
    """One Chinese line per problem of the ``basemaps`` setting (entry and field named, never a value)."""
    return catalogue(settings).problems


def available_basemaps(settings: Settings | None = None) -> dict[str, str]:
    """{key: Chinese label} of the basemaps that can be offered (Tianditu only with a key), built-in first."""
    settings = settings or get_settings()
    return {k: b.label for k, b in catalogue(settings).basemaps.items() if not b.needs_key or settings.tianditu_key}


def mbtiles_files(settings: Settings | None = None) -> dict[str, str]:
    """{key: path} of the MBTiles files the app serves (only these, by key: nothing else can be asked for)."""
    return {k: s.mbtiles for k, s in catalogue(settings).services.items() if s.mbtiles}


def tile_origins(settings: Settings | None = None) -> tuple[str, ...]:
    """The origins (scheme://host[:port]) the browser fetches configured tiles from, for the proxy's
    Content-Security-Policy ``img-src`` (MBTiles and relative URLs come from the app itself)."""
    origins = set()
    for service in catalogue(settings).services.values():
        parts = urlsplit(service.url)
        if parts.scheme and parts.netloc:
            for sub in service.subdomains or ("",):
                origins.add(f"{parts.scheme}://{parts.netloc.replace('{s}', sub)}".lower())
    return tuple(sorted(origins))


def _lookup(key: str, settings: Settings) -> Basemap:
    """The basemap ``key``; the configured default (``settings.basemap``) falls back to none when it is not
    available (told in the problems), any other unknown key is a SettingsError naming the choices."""
    basemaps = catalogue(settings).basemaps
    if key not in basemaps and key == settings.basemap:
        return basemaps[DEFAULT_BASEMAP]
    if key not in basemaps:
        choices = "、".join(f"{k}（{b.label}）" for k, b in basemaps.items())
        raise SettingsError(f"未知的底图“{key}”，可选：{choices}")
    return basemaps[key]


def get_basemap(key: str, settings: Settings | None = None) -> Basemap:
    """The Basemap of ``key``; SettingsError naming the choices, or saying the key is missing."""
    settings = settings or get_settings()
    basemap = _lookup(key, settings)
    if basemap.needs_key and not settings.tianditu_key:
        raise SettingsError(f"{basemap.label}需要密钥：请在设置中填写 tianditu_key（环境变量 TIANDITU_KEY）")
    return basemap


def needs_gcj02(key: str, settings: Settings | None = None) -> bool:
    """Whether overlays must be shifted to GCJ-02 to line up with this basemap (Amap, gcj02 services: yes)."""
    return _lookup(key, settings or get_settings()).gcj02


class TileNotice(MacroElement):
    """One Chinese notice on the map for tile layers whose tiles fail: a view where every tile of a layer
    failed, or none arrived within ``wait_ms``. Names each failing layer once, in one box (not one per
    tile); a layer whose tiles arrive again is taken off it. ``layers``: (TileLayer, Chinese name) pairs. Also
    drops Leaflet's own English prefix (「Leaflet |」) from the attribution line, which then names only the sources."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }}, failed = [], box = null;
            if (map.attributionControl) { map.attributionControl.setPrefix(false); }
            function render() {
                if (!failed.length) { if (box) { box.remove(); box = null; } return; }
                if (!box) {
                    box = L.DomUtil.create("div", "gl-tile-notice", map.getContainer());
                    box.setAttribute("role", "status");
                    box.style.cssText = "position:absolute;z-index:1000;top:10px;left:50%;transform:translateX(-50%);" +
                        "max-width:calc(100% - 120px);box-sizing:border-box;padding:6px 10px;border-radius:4px;" +
                        "background:rgba(255,248,225,.95);border:1px solid #e0b252;color:#5d4037;" +
                        "font:13px/1.5 'Noto Sans CJK SC','Microsoft YaHei',sans-serif;pointer-events:none;";
                }
                box.textContent = "底图" + failed.map(function (n) { return "“" + n + "”"; }).join("") +
                    "暂时无法加载（服务器无响应），地图其余内容正常显示。";
            }
            function mark(name, bad) {
                var at = failed.indexOf(name);
                if (bad && at < 0) { failed.push(name); render(); }
                if (!bad && at >= 0) { failed.splice(at, 1); render(); }
            }
            {%- for layer, name in this.layers %}
            (function (layer, name) {
                var ok = 0, bad = 0, timer = null;
                layer.on("loading", function () {
                    ok = 0; bad = 0; clearTimeout(timer);
                    timer = setTimeout(function () { if (!ok) { mark(name, true); } }, {{ this.wait_ms }});
                });
                layer.on("tileload", function () { ok += 1; });
                layer.on("tileerror", function () { bad += 1; });
                layer.on("load", function () { clearTimeout(timer); mark(name, bad > 0 && ok === 0); });
            })({{ layer.get_name() }}, {{ name|tojson }});
            {%- endfor %}
        })();
        {% endmacro %}
    """)

    def __init__(self, layers: list[tuple[folium.TileLayer, str]], wait_ms: int = NOTICE_WAIT_MS):
        super().__init__()
        self._name = "TileNotice"
        self.layers = layers
        self.wait_ms = int(wait_ms)


def _tile_layer(tiles: Tiles, url: str, label: str) -> folium.TileLayer:
    kwargs = {"subdomains": list(tiles.subdomains) if isinstance(tiles.subdomains, tuple) else tiles.subdomains}
    if not kwargs["subdomains"]:
        kwargs = {}
    if tiles.bounds:
        w, s, e, n = tiles.bounds
        kwargs["bounds"] = [[s, w], [n, e]]
    if tiles.min_zoom:
        kwargs["min_native_zoom"] = tiles.min_zoom
    return folium.TileLayer(
        tiles=url, attr=tiles.attribution, name=tiles.name or label, overlay=tiles.overlay,
        control=tiles.overlay and bool(tiles.name), max_zoom=MAP_MAX_ZOOM, max_native_zoom=tiles.max_zoom, **kwargs)


def add_basemap(m: folium.Map, key: str, settings: Settings | None = None) -> folium.Map:
    """Add the tile layer(s) of basemap ``key`` to ``m`` (nothing for "none"), and the notice for failing
    tiles; returns ``m``."""
    settings = settings or get_settings()
    basemap = get_basemap(key, settings)
    token = quote(settings.tianditu_key, safe="") if basemap.needs_key else ""
    added = []
    for i, tiles in enumerate(basemap.tiles):
        label = basemap.label if i == 0 else f"{basemap.label}注记"
        layer = _tile_layer(tiles, tiles.url + token if tiles.keyed else tiles.url, label)
        layer.add_to(m)
        added.append((layer, html.unescape(tiles.name) or label))
    if added:
        m.add_child(TileNotice(added), name="tile_notice")
    return m
