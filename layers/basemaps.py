"""Basemaps (底图): none (offline, the default), OpenStreetMap, Amap (GCJ-02) and Tianditu.

Only "none" works without internet. Amap tiles are drawn in GCJ-02, so overlays drawn on them must
be shifted with :func:`geo.crs.to_gcj02` (:func:`needs_gcj02` says when; ``layers.mapbuild.add_layers``
does it for maps built by ``build_map``). Tianditu (CGCS2000, equal to WGS84 at map scale) needs a
token from the settings (``tianditu_key``) and is offered only when one is set.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import folium

from geo.errors import SettingsError
from geo.settings import Settings

_TDT = ("https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
        "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=")


@dataclass(frozen=True)
class Tiles:
    """One XYZ tile layer: URL template, attribution (HTML), subdomains."""

    url: str
    attribution: str
    subdomains: str = "abc"


@dataclass(frozen=True)
class Basemap:
    """A basemap choice: key, Chinese label, whether overlays need GCJ-02, whether it needs a key."""

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
        Tiles(_TDT.replace("{layer}", "vec", 2), "&copy; 天地图", "01234567"),
        Tiles(_TDT.replace("{layer}", "cva", 2), "&copy; 天地图", "01234567"),
    ), needs_key=True),
)}

DEFAULT_BASEMAP = "none"


def available_basemaps(settings: Settings | None = None) -> dict[str, str]:
    """{key: Chinese label} of the basemaps that can be offered (Tianditu only with a key)."""
    settings = settings or Settings()
    return {k: b.label for k, b in BASEMAPS.items() if not b.needs_key or settings.tianditu_key}


def _lookup(key: str) -> Basemap:
    if key not in BASEMAPS:
        choices = "、".join(f"{k}（{b.label}）" for k, b in BASEMAPS.items())
        raise SettingsError(f"未知的底图“{key}”，可选：{choices}")
    return BASEMAPS[key]


def get_basemap(key: str, settings: Settings | None = None) -> Basemap:
    """The Basemap of ``key``; SettingsError naming the choices, or saying the key is missing."""
    basemap = _lookup(key)
    if basemap.needs_key and not (settings or Settings()).tianditu_key:
        raise SettingsError(f"{basemap.label}需要密钥：请在设置中填写 tianditu_key（环境变量 TIANDITU_KEY）")
    return basemap


def needs_gcj02(key: str) -> bool:
    """Whether overlays must be shifted to GCJ-02 to line up with this basemap (Amap: yes)."""
    return _lookup(key).gcj02


def add_basemap(m: folium.Map, key: str, settings: Settings | None = None) -> folium.Map:
    """Add the tile layer(s) of basemap ``key`` to ``m`` (nothing for "none"); returns ``m``."""
    settings = settings or Settings()
    basemap = get_basemap(key, settings)
    token = quote(settings.tianditu_key, safe="") if basemap.needs_key else ""
    for i, tiles in enumerate(basemap.tiles):
        url = tiles.url + token if basemap.needs_key else tiles.url
        kwargs = {"subdomains": tiles.subdomains} if tiles.subdomains else {}
        folium.TileLayer(
            tiles=url, attr=tiles.attribution, name=basemap.label if i == 0 else f"{basemap.label}注记",
            overlay=i > 0, control=False, max_zoom=18, max_native_zoom=18, **kwargs,
        ).add_to(m)
    return m
