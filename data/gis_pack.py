"""The GIS data pack (GIS 数据包): every map layer of a scope in one file that QGIS opens looking like the app.

Layers (``data.exchange.vector_layer``: typed fields, Chinese aliases, names beside codes, the system declared
honestly), in drawing order, bottom first:

- the scope's child units filled by the overview's indicator (communities at district and sub-district scope,
  grids below), then the other unit layers as outlines: grids, communities, sub-districts (at a sub-district
  scope or below: the one it lies in). Every unit layer carries the choropleth's indicators (``PACK_INDICATORS``)
  from the same roll-ups as the app (``geo.rollup.unit_table`` + ``with_ratios``) over the pages' default period;
- the cases (``disputes``) — only for an account that may see the scope's case details
  (``geo.access.may_see_case_details``), checked against the account as stored and audited like the disputes
  export — otherwise ``dispute_stats``: per grid, cases received, closed, open, overdue and the mediation success
  rate (``geo.disputes.dispute_stats``), with no address, summary or case number;
- compounds and service stations (closed stations too, as in the station export).

Styles (``geo.pack_styles`` → ``geo.qgis_style``): in the GeoPackage the table ``layer_styles`` exactly as QGIS
creates it, one default style per layer; in the zipped Shapefile set a ``<layer>.qml`` beside each layer (QGIS
loads it on opening) written with the Shapefile's short field names.
"""
from __future__ import annotations

import re
import sqlite3
import tempfile
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import pandas as pd
from sqlalchemy import Engine, select

from data import schema
from data.exchange import authorise_case_export, record_case_export, vector_layer
from data.store import read_layer
from data.vector_files import VectorLayer, shapefile_zip, shp_names, write_gpkg
from geo.access import Account, may_see_case_details
from geo.disputes import STAT_LABELS, dispute_stats
from geo.errors import GuloError
from geo.export_crs import check_system
from geo.ingest_crs import WGS84
from geo.ingest_fields import LAYER_LABELS
from geo.lifecycle import district_today
from geo.map_classes import DEFAULT_INDICATOR, DEFAULT_PERIOD_DAYS, INDICATOR_LABELS, INDICATORS
from geo.pack_styles import choropleth_style, outline_style, point_style, stats_style
from geo.qgis_style import LayerStyle, style_qml
from geo.rollup import Period, data_as_of, unit_table, with_ratios
from geo.scope import DISTRICT, Scope
from geo.settings import Settings
from geo.station_rules import open_on
from geo.vocab import DISTRICT_NAME, Level

PACK_FORMATS: dict[str, tuple[str, str]] = {
    "gpkg": (".gpkg", "application/geopackage+sqlite3"),
    "shp": ("_shp.zip", "application/zip"),
}
"""Format key -> (file name ending, MIME type)."""
PACK_NAME = "GIS数据包"
CASES, STATS = "disputes", "dispute_stats"
PACK_INDICATORS: dict[str, str] = {
    "disputes_per_1000": "disp_1000", "renovated_share": "reno_share", "vacancy_rate": "vacancy",
    "households_per_grid": "hh_grid", "station_completeness": "stn_full",
}
"""Choropleth indicator -> its field in the unit layers (at most 10 characters: the same name in a Shapefile)."""
STAT_FIELDS: dict[str, str] = {"received": "received", "closed": "closed", "open_at_end": "open",
                               "overdue": "overdue", "success_rate": "success"}
"""``geo.disputes.dispute_stats`` key -> its field in ``dispute_stats``."""
_UNIT_KEYS = {"streets": "street_code", "communities": "community_code", "grids": "grid_code"}
_UNIT_TABLES = {Level.STREET: "streets", Level.COMMUNITY: "communities", Level.GRID: "grids"}
_PLACE_COLUMNS = ("code", "name", "community_code", "community_name", "street_code", "street_name")
_INVALID_NAME = re.compile(r'[\\/:*?"<>|\s\x00-\x1f]+')
STYLES_DDL = (
    'CREATE TABLE IF NOT EXISTS "layer_styles" ( "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, '
    '"f_table_catalog" TEXT(256), "f_table_schema" TEXT(256), "f_table_name" TEXT(256), '
    '"f_geometry_column" TEXT(256), "styleName" TEXT(30), "styleQML" TEXT, "styleSLD" TEXT, '
    '"useAsDefault" BOOLEAN, "description" TEXT, "owner" TEXT(30), "ui" TEXT(30), '
    '"update_time" DATETIME DEFAULT (strftime(\'%Y-%m-%dT%H:%M:%fZ\',\'now\')))')
"""The table of layer styles as QGIS 3.22 creates it in a GeoPackage (through GDAL)."""


@dataclass(frozen=True)
class Figures:
    """What the indicators are computed from: the stored frames of the scope (WGS84), the period and its days."""

    scope: Scope
    frames: dict[str, gpd.GeoDataFrame]
    community_stations: pd.DataFrame
    period: Period
    overdue_days: int


@dataclass(frozen=True)
class PackLayer:
    """One layer of the pack and the QGIS style it opens with."""

    layer: VectorLayer
    style: LayerStyle


def unit_name(engine: Engine, scope: Scope) -> str:
    """The name of the scope's unit (鼓楼区 for the district); GuloError when no unit has its code."""
    if scope.level is Level.DISTRICT:
        return DISTRICT_NAME
    table = schema.GEO_TABLES[_UNIT_TABLES[scope.level]]
    with engine.connect() as conn:
        name = conn.execute(select(table.c.name).where(table.c.code == scope.code)).scalar()
    if name is None:
        raise GuloError(f"范围代码“{scope.code}”不存在：请填写街道、社区（12位）或网格（15位）代码")
    return str(name)


def filled_layer(scope: Scope) -> str:
    """The unit layer filled by the indicator: the scope's child units (communities at district level too)."""
    return "grids" if scope.level in (Level.COMMUNITY, Level.GRID) else "communities"


def pack_period(engine: Engine, days: int = DEFAULT_PERIOD_DAYS) -> Period:
    """The pages' default period: the ``days`` days up to the data cut-off (the newest dispute report)."""
    return Period.last_days(data_as_of(read_layer(engine, CASES)), days)


def _figures(engine: Engine, scope: Scope, overdue_days: int) -> Figures:
    """The scope's frames for the roll-ups; stations open on the pages' day (cut-off, or today when later)."""
    period = pack_period(engine)
    today = max(period.end, district_today())
    frames = {n: read_layer(engine, n, scope) for n in ("grids", "compounds", "disputes", "communities")}
    frames["stations"] = open_on(read_layer(engine, "stations", scope), today)
    community = Scope(scope.community) if scope.level is Level.GRID else scope
    judged = frames["stations"] if community == scope else open_on(read_layer(engine, "stations", community), today)
    return Figures(scope, frames, judged, period, overdue_days)


def indicator_columns(fig: Figures, layer: str) -> pd.DataFrame:
    """Per unit of ``layer`` (index: code): the ``PACK_INDICATORS`` as Float64 under their pack field names."""
    f = fig.frames
    table = unit_table(f["grids"], f["compounds"], f["stations"], f["disputes"], f["communities"],
                       fig.community_stations, _UNIT_KEYS[layer], fig.period, fig.overdue_days)
    ratios = with_ratios(table)[list(PACK_INDICATORS)].rename(columns=PACK_INDICATORS)
    return ratios.astype("Float64")


def _period_text(period: Period) -> str:
    return f"{period.start:%Y-%m-%d} 至 {period.end:%Y-%m-%d}（近{period.days}天）"


def _indicator_aliases(period: Period) -> dict[str, str]:
    """Field -> Chinese alias: the indicator's name, shares marked 0–1, figures of the period marked with it."""
    out = {}
    for key, field in PACK_INDICATORS.items():
        alias = INDICATOR_LABELS[key] + ("（比例 0–1）" if "%" in INDICATORS[key][0] else "")
        out[field] = alias + (f"（近{period.days}天）" if key == "disputes_per_1000" else "")
    return out


def unit_layer(engine: Engine, layer: str, fig: Figures, crs: str) -> VectorLayer:
    """A unit layer of the scope with the indicator columns joined by code (null where a unit has no value)."""
    base = vector_layer(engine, layer, fig.scope, crs)
    values = indicator_columns(fig, layer)
    frame = base.frame.copy()
    for field in values.columns:
        frame[field] = pd.array(frame["code"].map(values[field]), dtype="Float64")
    frame = frame[[c for c in frame.columns if c != frame.geometry.name] + [frame.geometry.name]]
    note = f"{base.description}指标统计期：{_period_text(fig.period)}。"
    return replace(base, frame=frame, aliases={**base.aliases, **_indicator_aliases(fig.period)}, description=note)


def stats_layer(grids: VectorLayer, fig: Figures) -> VectorLayer:
    """``dispute_stats``: the grids' outlines (in the grids layer's system) with each grid's dispute figures over
    the period (``geo.disputes.dispute_stats``; grids without cases: zeros and no success rate)."""
    frame = grids.frame[[c for c in _PLACE_COLUMNS if c in grids.frame.columns] + [grids.frame.geometry.name]]
    cases = fig.frames["disputes"]
    rows = {code: dispute_stats(group, fig.period, fig.overdue_days) for code, group in cases.groupby("grid_code")}
    empty = dispute_stats(cases.iloc[:0], fig.period, fig.overdue_days)
    out = frame.copy()
    for key, field in STAT_FIELDS.items():
        values = out["code"].map(lambda c, k=key: rows.get(c, empty)[k])
        out[field] = pd.array(values, dtype="Float64" if key == "success_rate" else "Int32")
    suffix = f"（近{fig.period.days}天）"
    aliases = {c: grids.aliases[c] for c in frame.columns if c in grids.aliases}
    aliases.update({f: STAT_LABELS[k] + ("" if k in ("overdue", "open_at_end") else suffix)
                    for k, f in STAT_FIELDS.items()})
    note = (f"矛盾纠纷按网格统计（{len(out)} 个网格），统计期 {_period_text(fig.period)}；超期指受理超过 "
            f"{fig.overdue_days} 天仍未办结。不含案件地址、摘要等个人信息。")
    return VectorLayer(STATS, out, aliases, "矛盾纠纷统计（按网格）", note)


def _styled_units(engine: Engine, fig: Figures, crs: str) -> list[PackLayer]:
    """The unit layers, the filled one first (bottom), then grids, communities and sub-districts as outlines."""
    filled = filled_layer(fig.scope)
    order = [filled] + [n for n in ("grids", "communities", "streets") if n != filled]
    out = []
    for name in order:
        layer = unit_layer(engine, name, fig, crs)
        if name == filled:
            values = layer.frame[PACK_INDICATORS[DEFAULT_INDICATOR]]
            style = choropleth_style(values, PACK_INDICATORS[DEFAULT_INDICATOR], layer.aliases)
        else:
            style = outline_style(name, layer.aliases, labelled=name != "grids")
        out.append(PackLayer(layer, style))
    return out


def packed(engine: Engine, scope: Scope, crs: str, account: Account | None,
           overdue_days: int | None = None) -> list[PackLayer]:
    """Every layer of the pack with its style, bottom first (see the module doc). The case points only when
    ``account`` may see the scope's case details (as stored now: PermissionDenied for an account since
    deactivated); the caller that writes them out audits the export (``record_case_export``)."""
    check_system(crs)
    unit_name(engine, scope)
    if may_see_case_details(account, scope):
        authorise_case_export(engine, account, scope)
    days = Settings.load().overdue_days if overdue_days is None else overdue_days
    fig = _figures(engine, scope, days)
    units = _styled_units(engine, fig, crs)
    if may_see_case_details(account, scope):
        cases = vector_layer(engine, CASES, scope, crs)
        disputes = PackLayer(cases, point_style(CASES, cases.aliases))
    else:
        grids = next(p.layer for p in units if p.layer.name == "grids")
        stats = stats_layer(grids, fig)
        disputes = PackLayer(stats, stats_style(stats.frame[STAT_FIELDS["received"]], STAT_FIELDS["received"],
                                                stats.aliases))
    points = [vector_layer(engine, n, scope, crs) for n in ("compounds", "stations")]
    return [*units, disputes, *(PackLayer(p, point_style(p.name, p.aliases)) for p in points)]


def pack_layers(engine: Engine, scope: Scope, crs: str, account: Account | None) -> list[VectorLayer]:
    """Every map layer of ``scope`` in system ``crs`` for ``account`` (see ``packed``), bottom first."""
    return [p.layer for p in packed(engine, scope, crs, account)]


def _cases_in(layers: list[PackLayer]) -> int | None:
    """How many case points the pack holds (None: none, it holds ``dispute_stats``)."""
    return next((len(p.layer.frame) for p in layers if p.layer.name == CASES), None)


def _audit(engine: Engine, account: Account | None, scope: Scope, layers: list[PackLayer], fmt: str) -> None:
    rows = _cases_in(layers)
    if rows is not None:
        record_case_export(engine, account, scope, rows, fmt, what=f"{PACK_NAME}·{LAYER_LABELS[CASES]}")


def gis_pack_gpkg(engine: Engine, scope: Scope, crs: str, account: Account | None,
                  overdue_days: int | None = None) -> bytes:
    """The pack as one GeoPackage (1.2) with a default QGIS style per layer in ``layer_styles``; a pack with case
    points is audited (action ``export``, format gpkg)."""
    layers = packed(engine, scope, crs, account, overdue_days)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pack.gpkg"
        write_gpkg(path, [p.layer for p in layers], crs)
        add_layer_styles(path, layers)
        data = path.read_bytes()
    _audit(engine, account, scope, layers, "gpkg")
    return data


def gis_pack_shp(engine: Engine, scope: Scope, crs: str, account: Account | None,
                 overdue_days: int | None = None) -> bytes:
    """The pack as a zip of Shapefile sets (.shp/.shx/.dbf/.prj/.cpg) with a ``<layer>.qml`` beside each, written
    with the Shapefile's short field names; a pack with case points is audited (format shp)."""
    layers = packed(engine, scope, crs, account, overdue_days)
    qml = {f"{p.layer.name}.qml": style_qml(p.style, shp_names(p.layer.frame.columns)).encode("utf-8")
           for p in layers}
    data = shapefile_zip([p.layer for p in layers], crs, extras=qml)
    _audit(engine, account, scope, layers, "shp")
    return data


def add_layer_styles(path: Path, layers: list[PackLayer]) -> None:
    """Create ``layer_styles`` in the GeoPackage at ``path`` as QGIS does (an attributes table registered in
    gpkg_contents) and store each layer's style as its default (useAsDefault = 1)."""
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(STYLES_DDL)
        conn.execute("INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, identifier, description, "
                     "last_change) VALUES ('layer_styles', 'attributes', 'layer_styles', '', "
                     "strftime('%Y-%m-%dT%H:%M:%fZ','now'))")
        geometry = dict(conn.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
        for p in layers:
            conn.execute(
                'INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, '
                '"styleName", "styleQML", "styleSLD", "useAsDefault", description, owner) '
                "VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '')",
                (p.layer.name, geometry[p.layer.name], p.layer.name, style_qml(p.style),
                 f"{p.layer.title}：与态势图一致的默认样式"))
        _count_styles(conn, len(layers))


def _count_styles(conn: sqlite3.Connection, rows: int) -> None:
    """GDAL's feature count of ``layer_styles`` (gpkg_ogr_contents), when the file keeps one."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'gpkg_ogr_contents'").fetchone():
        conn.execute("INSERT OR REPLACE INTO gpkg_ogr_contents (table_name, feature_count) VALUES ('layer_styles', ?)",
                     (rows,))


def pack_filename(scope: Scope = DISTRICT, crs: str = WGS84, fmt: str = "gpkg", place: str = "") -> str:
    """A file name such as ``GIS数据包_东街街道_350102004000_wgs84.gpkg`` (district: ``GIS数据包_鼓楼区_wgs84.gpkg``;
    Shapefiles: ``…_shp.zip``). ``place`` is the unit's name (characters a file name cannot hold are dropped)."""
    if fmt not in PACK_FORMATS:
        raise GuloError(f"不支持的数据包格式“{fmt}”，可选：{'、'.join(PACK_FORMATS)}")
    check_system(crs)
    name = _INVALID_NAME.sub("", place) or (DISTRICT_NAME if not scope.code else "")
    parts = [PACK_NAME, name, scope.code, crs]
    return "_".join(p for p in parts if p) + PACK_FORMATS[fmt][0]
