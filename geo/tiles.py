"""Tile services (瓦片底图) from the settings: parsing, checking and URL templates, pure.

The ``basemaps`` setting (environment variable ``BASEMAPS``) is a JSON list; each entry is one tile
service or one MBTiles file::

    [{"key": "tdt_vec", "name": "政务外网天地图", "url": "http://10.1.2.3/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
      "&VERSION=1.0.0&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&tk={token}", "token": "…"},
     {"key": "tdt_cva", "name": "政务外网天地图注记", "kind": "overlay", "url": "…/cva_w/wmts?…", "token": "…"},
     {"key": "gis", "name": "区自然资源局影像", "mbtiles": "/srv/tiles/gulou.mbtiles"}]

Fields (``FIELDS``): ``key`` (1–32 of a–z 0–9 - _), ``name`` (Chinese, shown in the basemap selector),
``url`` (XYZ template with ``{z}/{x}/{y}`` or ``{-y}``, a WMTS REST template with ``{TileMatrix}/{TileRow}/
{TileCol}``, or a WMTS KVP address whose TILEMATRIX/TILEROW/TILECOL are filled in; ``{s}`` for subdomains,
``{token}`` for the token) or ``mbtiles`` (absolute path of a file), ``kind`` (base / overlay), ``crs``
(wgs84 / cgcs2000: drawn as they are; gcj02: the overlays are shifted as for 高德), ``subdomains``,
``attribution`` (plain text), ``min_zoom`` / ``max_zoom`` (the zoom levels the service has tiles for, 0–22),
``token`` (substituted into ``{token}``; never shown on a page or written to the log), ``bases`` (for an
overlay: the basemap keys it is drawn over; default every configured base in the same coordinate system)
and ``bounds`` ([min lon, min lat, max lon, max lat], degrees in the service's own system).

An entry with a problem is left out; ``parse_services`` returns the good ones and one Chinese line per
problem naming the entry and the field (never the value: it may hold a token). Only Web Mercator tiles
(EPSG:3857 / GoogleMapsCompatible, 天地图 ``_w``) line up with the map; geographic tile matrix sets are refused.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import quote

FIELDS = ("key", "name", "url", "mbtiles", "kind", "crs", "subdomains", "attribution", "min_zoom", "max_zoom",
          "token", "bases", "bounds")
KINDS = ("base", "overlay")
SYSTEMS = {"wgs84": "WGS84", "cgcs2000": "CGCS2000", "gcj02": "GCJ-02"}
"""Coordinate system of a service's tiles -> its Chinese-facing name; only gcj02 shifts the overlays."""
_SYSTEM_ALIASES = {"wgs84": "wgs84", "epsg4326": "wgs84", "cgcs2000": "cgcs2000", "epsg4490": "cgcs2000",
                   "gcj02": "gcj02"}
MAX_ZOOM_LEVEL = 22
DEFAULT_ZOOMS = (0, 18)
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
PLACEHOLDERS = ("z", "x", "y", "-y", "s", "r", "token")
_PLACEHOLDER = re.compile(r"\{ *([^{}]*?) *\}")
_WMTS_REST = {"tilematrix": "{z}", "tilerow": "{y}", "tilecol": "{x}"}
_GEOGRAPHIC_SETS = ("c", "epsg:4326", "epsg:4490", "cgcs2000")
TILE_FORMATS = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}
"""MBTiles raster formats (metadata ``format``) -> Content-Type."""


@dataclass(frozen=True)
class TileService:
    """One checked entry of the ``basemaps`` setting (see the module doc). ``url`` keeps ``{token}``
    (see :func:`tile_url`); for an MBTiles file ``url`` is empty and ``mbtiles`` the file's path, and
    ``crs`` / ``min_zoom`` / ``max_zoom`` / ``bounds`` / ``overlay`` may be None: taken from its metadata.
    ``format``: an MBTiles file's tile format (``TILE_FORMATS``). ``entry`` names the entry in messages
    (「底图设置第 2 项（gis）」)."""

    key: str
    name: str
    url: str = ""
    mbtiles: str = ""
    overlay: bool | None = False
    crs: str | None = "wgs84"
    subdomains: tuple[str, ...] = ()
    attribution: str = ""
    min_zoom: int | None = DEFAULT_ZOOMS[0]
    max_zoom: int | None = DEFAULT_ZOOMS[1]
    bounds: tuple[float, float, float, float] | None = None
    bases: tuple[str, ...] = ()
    token: str = field(default="", repr=False)
    format: str = ""
    entry: str = field(default="", compare=False)

    @property
    def gcj02(self) -> bool:
        """Whether the tiles are drawn in GCJ-02 (the overlays must then be shifted to line up)."""
        return self.crs == "gcj02"


@dataclass(frozen=True)
class MBTilesMeta:
    """What the ``metadata`` table of an MBTiles file says, checked; ``bounds`` in lon/lat degrees."""

    name: str
    format: str
    min_zoom: int
    max_zoom: int
    bounds: tuple[float, float, float, float]
    attribution: str = ""
    overlay: bool = False
    crs: str = "wgs84"


class _Problems(list):
    """The problems of one entry, each prefixed with where it is."""

    def __init__(self, where: str):
        super().__init__()
        self.where = where

    def add(self, name: str, reason: str) -> None:
        self.append(f"{self.where}的“{name}”{reason}")


def tile_url(service: TileService) -> str:
    """The Leaflet URL template of ``service`` with its token put in (URL-encoded)."""
    return service.url.replace("{token}", quote(service.token, safe=""))


def tms_row(z: int, y: int) -> int:
    """The TMS (MBTiles) row of XYZ tile row ``y`` at zoom ``z``: rows counted from the south."""
    return (1 << z) - 1 - y


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(min lon, min lat, max lon, max lat) in degrees of XYZ tile (z, x, y) in Web Mercator."""
    n = 1 << z

    def lat(row: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return x / n * 360 - 180, lat(y + 1), (x + 1) / n * 360 - 180, lat(y)


def parse_services(text: str, reserved: Collection[str] = ()) -> tuple[tuple[TileService, ...], tuple[str, ...]]:
    """The good entries of the ``basemaps`` setting ``text`` (a JSON list) and one Chinese line per problem.

    ``reserved``: keys already taken (the built-in basemaps). Never raises on bad input."""
    if not text.strip():
        return (), ()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return (), (f"底图设置（BASEMAPS）不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列），其中的底图均未启用",)
    if not isinstance(data, list):
        return (), ("底图设置（BASEMAPS）应为列表：[{…}, {…}]，其中的底图均未启用",)
    services: list[TileService] = []
    problems: list[str] = []
    keys: dict[str, int] = {}
    for i, entry in enumerate(data, 1):
        service, found = _entry(i, entry, reserved, keys)
        problems += found
        if service is not None:
            keys[service.key] = i
            services.append(service)
    return tuple(services), tuple(problems)


def _where(i: int, entry) -> str:
    key = entry.get("key") if isinstance(entry, dict) else None
    label = key if isinstance(key, str) and KEY_PATTERN.match(key) else None
    return f"底图设置第 {i} 项" + (f"（{label}）" if label else "")


def _entry(i: int, entry, reserved: Collection[str], keys: Mapping[str, int]):
    """(TileService or None, problems) of entry number ``i``."""
    where = _where(i, entry)
    if not isinstance(entry, dict):
        return None, [f"{where}应为一个 {{…}} 对象，该项未启用"]
    found = _Problems(where)
    for name in entry:
        if name not in FIELDS:
            found.add(str(name)[:40], f"不是可用的字段（可用：{'、'.join(FIELDS)}）")
    key = _key(entry, reserved, keys, found)
    mbtiles = _source(entry, found)
    values = {"key": key, "entry": where, "name": _name(entry, found, required=not mbtiles),
              "overlay": _kind(entry, found, default=None if mbtiles else False),
              "crs": _system(entry, found, default=None if mbtiles else "wgs84"),
              "attribution": _text(entry, "attribution", 200, found), "token": _token(entry, found),
              "bounds": _bounds(entry, found), "mbtiles": mbtiles or ""}
    values.update(_zooms(entry, found, from_file=bool(mbtiles)))
    values["bases"] = _bases(entry, values["overlay"], found)
    if not mbtiles and "url" in entry:
        values["subdomains"] = _subdomains(entry, found)
        values["url"] = _url(entry, values, found)
    if found:
        return None, [f"{p}，该项未启用" for p in found]
    return TileService(**values), []


def _key(entry: dict, reserved: Collection[str], keys: Mapping[str, int], found: _Problems) -> str:
    key = entry.get("key")
    if key is None:
        found.add("key", "缺少：请填写 1–32 个小写字母、数字、- 或 _")
    elif not isinstance(key, str) or not KEY_PATTERN.match(key):
        found.add("key", "应为 1–32 个小写字母、数字、- 或 _（以字母或数字开头）")
    elif key in reserved:
        found.add("key", f"与内置底图重名（内置：{'、'.join(reserved)}）")
    elif key in keys:
        found.add("key", f"与第 {keys[key]} 项重复")
    return key if isinstance(key, str) else ""


def _source(entry: dict, found: _Problems) -> str | None:
    """The MBTiles path, or None for a tile service (``url``); both or neither is a problem."""
    url, path = entry.get("url"), entry.get("mbtiles")
    if url is not None and path is not None:
        found.add("url", "和“mbtiles”只能填一个")
    elif url is None and path is None:
        found.add("url", "缺少：请填写瓦片服务网址（url）或 MBTiles 文件路径（mbtiles）")
    if path is None:
        return None
    if not isinstance(path, str) or not path.startswith("/") or "\0" in path:
        found.add("mbtiles", "应为 MBTiles 文件的绝对路径（以 / 开头）")
    return path if isinstance(path, str) else None


def _text(entry: dict, name: str, longest: int, found: _Problems) -> str:
    value = entry.get(name, "")
    if not isinstance(value, str) or len(value) > longest or any(c in value for c in "\r\n\0"):
        found.add(name, f"应为不超过 {longest} 个字的一行文字")
        return ""
    return value.strip()


def _name(entry: dict, found: _Problems, required: bool) -> str:
    name = _text(entry, "name", 40, found)
    if required and "name" not in entry:
        found.add("name", "缺少：请填写在底图选择中显示的中文名称")
    return name


def _kind(entry: dict, found: _Problems, default: bool | None) -> bool | None:
    kind = entry.get("kind")
    if kind is None:
        return default
    if kind not in KINDS:
        found.add("kind", "应为 base（底图：矢量、影像）或 overlay（叠加层：注记）")
        return default
    return kind == "overlay"


def _system(entry: dict, found: _Problems, default: str | None) -> str | None:
    raw = entry.get("crs")
    if raw is None:
        return default
    system = _SYSTEM_ALIASES.get(re.sub(r"[\s_:-]", "", str(raw)).lower()) if isinstance(raw, str) else None
    if system is None:
        found.add("crs", "应为 wgs84、cgcs2000 或 gcj02（百度 BD-09 瓦片不受支持）")
        return default
    return system


def _token(entry: dict, found: _Problems) -> str:
    token = entry.get("token", "")
    if not isinstance(token, str) or any(c.isspace() for c in token) or len(token) > 200:
        found.add("token", "应为不含空白的一段文字")
        return ""
    return token


def _zooms(entry: dict, found: _Problems, from_file: bool) -> dict[str, int | None]:
    zooms: dict[str, int | None] = {}
    for name, default in zip(("min_zoom", "max_zoom"), DEFAULT_ZOOMS):
        value = entry.get(name)
        if value is None:
            zooms[name] = None if from_file else default
        elif isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ZOOM_LEVEL:
            found.add(name, f"应为 0–{MAX_ZOOM_LEVEL} 的整数")
            zooms[name] = None if from_file else default
        else:
            zooms[name] = value
    low, high = zooms["min_zoom"], zooms["max_zoom"]
    if low is not None and high is not None and low > high:
        found.add("min_zoom", "不能大于“max_zoom”")
    return zooms


def _bounds(entry: dict, found: _Problems) -> tuple[float, float, float, float] | None:
    raw = entry.get("bounds")
    if raw is None:
        return None
    bounds = check_bounds(raw)
    if bounds is None:
        found.add("bounds", "应为 [最小经度, 最小纬度, 最大经度, 最大纬度]（度，最小值在前）")
    return bounds


def check_bounds(raw) -> tuple[float, float, float, float] | None:
    """(min lon, min lat, max lon, max lat) from a list of four numbers, or None when it is not one."""
    if not isinstance(raw, (list, tuple)) or len(raw) != 4 or any(isinstance(v, bool) for v in raw):
        return None
    try:
        w, s, e, n = (float(v) for v in raw)
    except (TypeError, ValueError):
        return None
    if not all(math.isfinite(v) for v in (w, s, e, n)) or not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        return None
    return w, s, e, n


def _bases(entry: dict, overlay: bool | None, found: _Problems) -> tuple[str, ...]:
    raw = entry.get("bases")
    if raw is None:
        return ()
    if overlay is False:
        found.add("bases", "只用于叠加层（kind 为 overlay）")
    if not isinstance(raw, list) or not all(isinstance(k, str) and KEY_PATTERN.match(k) for k in raw):
        found.add("bases", "应为底图 key 的列表，如 [\"tdt_vec\"]")
        return ()
    return tuple(raw)


def _subdomains(entry: dict, found: _Problems) -> tuple[str, ...]:
    raw = entry.get("subdomains", [])
    items = list(raw) if isinstance(raw, (str, list)) else None
    if items is None or len(items) > 16 or not all(isinstance(s, str) and re.fullmatch(r"[\w.-]{1,40}", s)
                                                   for s in items):
        found.add("subdomains", "应为子域名列表（如 [\"t0\", \"t1\"]）或字符组（如 \"1234\"）")
        return ()
    return tuple(items)


def _url(entry: dict, values: dict, found: _Problems) -> str:
    """The checked Leaflet template of ``entry['url']`` (WMTS placeholders made XYZ), or ''."""
    raw = entry.get("url")
    if not isinstance(raw, str) or not _is_address(raw):
        found.add("url", "应为 http:// 或 https:// 开头的瓦片服务网址，或本站以 / 开头的路径")
        return ""
    url = _wmts_kvp(_wmts_rest(raw.strip()), found)
    names = [m.group(1) for m in _PLACEHOLDER.finditer(url)]
    for name in dict.fromkeys(names):
        if name not in PLACEHOLDERS:
            found.add("url", f"中的 {{{name[:20]}}} 无法识别（可用：{{z}} {{x}} {{y}} {{-y}} {{s}} {{token}}）")
    for need, what in (("z", "缩放级别"), ("x", "瓦片列号")):
        if need not in names:
            found.add("url", f"缺少 {{{need}}}（{what}）")
    if "y" not in names and "-y" not in names:
        found.add("url", "缺少 {y} 或 {-y}（瓦片行号）")
    _pairs(names, values, found)
    return url


def _pairs(names: list[str], values: dict, found: _Problems) -> None:
    """{s} goes with subdomains and {token} with token: one without the other is a problem."""
    if ("s" in names) != bool(values.get("subdomains")):
        found.add("subdomains", "与网址中的 {s} 应同时填写" if "s" in names else "已填写，但网址中没有 {s}")
    if ("token" in names) != bool(values.get("token")):
        found.add("token", "缺少：网址中有 {token}" if "token" in names else "已填写，但网址中没有 {token}")


def _is_address(url: str) -> bool:
    url = url.strip()
    if any(c.isspace() or c in "\"'<>\\`" for c in url) or len(url) > 2000:
        return False
    if url.startswith("/"):
        return not url.startswith("//")
    return re.match(r"^https?://[^/?#]+", url, re.IGNORECASE) is not None


def _wmts_rest(url: str) -> str:
    """WMTS REST placeholders ({TileMatrix}, {TileRow}, {TileCol}, any case) as Leaflet's {z}, {y}, {x}."""
    return re.sub(r"\{ *(tilematrix|tilerow|tilecol) *\}", lambda m: _WMTS_REST[m.group(1).lower()], url,
                  flags=re.IGNORECASE)


def _kvp(url: str, param: str) -> re.Match | None:
    return re.search(rf"([?&]){param}=([^&#]*)", url, re.IGNORECASE)


def _wmts_kvp(url: str, found: _Problems) -> str:
    """A WMTS KVP GetTile address (SERVICE=WMTS) with TILEMATRIX/TILEROW/TILECOL filled in where empty or
    missing; LAYER and TILEMATRIXSET must be given, and the tile matrix set must be Web Mercator."""
    service = _kvp(url, "service")
    if service is None or service.group(2).lower() != "wmts":
        return url
    for param in ("LAYER", "TILEMATRIXSET"):
        if not (_kvp(url, param) or [None, None, ""])[2]:
            found.add("url", f"是 WMTS 地址，但缺少 {param}=…")
    matrix_set = _kvp(url, "tilematrixset")
    if matrix_set and matrix_set.group(2).lower() in _GEOGRAPHIC_SETS:
        found.add("url", "的 TILEMATRIXSET 是经纬度切片；地图只能叠加 Web 墨卡托切片（天地图用 _w，EPSG:3857）")
    for param, holder in (("TILEMATRIX", "{z}"), ("TILEROW", "{y}"), ("TILECOL", "{x}")):
        match = _kvp(url, param)
        if match is None:
            url += f"&{param}={holder}"
        elif match.group(2) == "":
            url = url[:match.end()] + holder + url[match.end():]
    return url


def parse_metadata(rows: Mapping[str, str], zooms: tuple[int, int] | None = None,
                   bounds: tuple[float, float, float, float] | None = None) -> MBTilesMeta:
    """The checked metadata of an MBTiles file from its ``metadata`` rows (name -> value); ``zooms`` /
    ``bounds``: what its ``tiles`` table holds, used where the metadata is silent. ValueError in Chinese
    when the file cannot be drawn (vector tiles, no zoom levels)."""
    fmt = rows.get("format", "png").strip().lower()
    if fmt not in TILE_FORMATS:
        raise ValueError(f"瓦片格式 {fmt[:10]} 不受支持（只支持 PNG、JPEG、WebP 栅格瓦片）")
    low, high = _meta_int(rows.get("minzoom")), _meta_int(rows.get("maxzoom"))
    if (low is None or high is None) and zooms is None:
        raise ValueError("文件中没有瓦片")
    low = zooms[0] if low is None else low
    high = zooms[1] if high is None else high
    box = check_bounds(rows.get("bounds", "").split(",")) if rows.get("bounds") else None
    system = _SYSTEM_ALIASES.get(re.sub(r"[\s_:-]", "", rows.get("crs", "wgs84")).lower(), "wgs84")
    return MBTilesMeta(name=rows.get("name", "").strip()[:40], format=fmt, min_zoom=low, max_zoom=high,
                       bounds=box or bounds or (-180.0, -85.05, 180.0, 85.05),
                       attribution=rows.get("attribution", "").strip()[:200],
                       overlay=rows.get("type", "").strip().lower() == "overlay", crs=system)


def _meta_int(raw: str | None) -> int | None:
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        return None
    return value if 0 <= value <= MAX_ZOOM_LEVEL else None


def with_metadata(service: TileService, meta: MBTilesMeta) -> TileService:
    """An MBTiles service with what its settings left open taken from the file's metadata."""
    return replace(
        service, name=service.name or meta.name or service.key,
        overlay=meta.overlay if service.overlay is None else service.overlay,
        crs=service.crs or meta.crs, attribution=service.attribution or meta.attribution,
        min_zoom=meta.min_zoom if service.min_zoom is None else service.min_zoom,
        max_zoom=meta.max_zoom if service.max_zoom is None else service.max_zoom,
        bounds=service.bounds or meta.bounds, format=meta.format)


def attached(overlay: TileService, base_key: str, base_gcj02: bool, custom_base: bool) -> bool:
    """Whether ``overlay`` is drawn over basemap ``base_key``: the bases it names, or (naming none) every
    configured base in its own coordinate system."""
    if overlay.bases:
        return base_key in overlay.bases
    return custom_base and base_gcj02 == overlay.gcj02
