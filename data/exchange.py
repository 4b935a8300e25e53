"""Export of a layer in a scope and Excel templates: files that QGIS, ArcGIS and Excel read right.

Formats: GeoJSON, GeoPackage, zipped Shapefile, CSV, XLSX. Systems (``geo.export_crs``): WGS84, CGCS2000,
GCJ-02, BD-09, CGCS2000 Gauss-Krüger zone 40 (EPSG:4528) and UTM 50N (EPSG:32650), each declared honestly —
GCJ-02/BD-09 have no EPSG code, so a GeoPackage or Shapefile gets a custom CRS named for them, a CSV/XLSX
names the system in its coordinate headers and the file name, and GeoJSON (which cannot declare them) is
refused for them.

Every format keeps numbers and dates typed (``geo.export_fields``: 户数 an Integer, 预算（万元） a Real,
开工日期 a Date, empty cells null — never "nan" or "2017.0") and puts the names of the units beside their
codes (所属社区名称, 所属街道名称, 所属网格名称 …; not fields, so a re-import reads the codes and ignores them).
CSV, XLSX and GeoJSON use the office's Chinese headers; GeoPackage and Shapefile use short field names
with the Chinese headers as aliases (``data.vector_files``). Every export imports again without mapping.
CSV and XLSX text cells that a spreadsheet could take for a formula are neutralised
(``data.export.safe_text``); CSV is UTF-8 with BOM so Excel opens it in Chinese.

The record layers (party organisations, volunteer teams, consultation days, community resources: no geometry)
export as CSV or XLSX only.

The disputes layer carries case details (address, summary): it is exported only to an account that may
see the scope's case details (``geo.access.may_see_case_details``, checked against the account as stored
now), and every such export — the layer here or the 矛盾纠纷 page's case list (``case_workbook``) — writes
an audit entry (action ``export``: who, scope, layer, format, rows). Everyone else is refused in Chinese.
"""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Engine, select

from data import schema
from data.accounts import verify
from data.export import safe_text, to_xlsx
from data.store import audit, read_layer, read_table
from data.vector_files import VectorLayer, geojson_bytes, gpkg_bytes, shapefile_zip
from geo.access import Account, require_case_details
from geo.errors import GuloError
from geo.export_crs import (
    EXPORT_SYSTEMS,
    SHIFTED_NOTE,
    SHORT_NAMES,
    SYSTEM_LABELS,
    check_system,
    coordinate_labels,
    decimals,
    is_shifted,
    to_system,
    wkt_label,
)
from geo.export_fields import field_aliases, name_tables, typed_frame
from geo.ingest_crs import WGS84
from geo.ingest_fields import (
    LAYER_LABELS,
    POINT_LAYERS,
    check_layer,
    has_geometry,
    template_columns,
)
from geo.scope import DISTRICT, Scope
from geo.vocab import DISTRICT_CODE

EXPORT_FORMATS: dict[str, tuple[str, str]] = {
    "geojson": (".geojson", "application/geo+json"),
    "gpkg": (".gpkg", "application/geopackage+sqlite3"),
    "shp": (".zip", "application/zip"),
    "csv": (".csv", "text/csv"),
    "xlsx": (".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}
"""Format key -> (file suffix, MIME type) for st.download_button."""
EXPORT_CRS = EXPORT_SYSTEMS
EXPORT_CRS_LABELS = SYSTEM_LABELS
RECORD_FORMATS = ("xlsx", "csv")
"""The formats of a layer without geometry."""
CASE_LAYER = "disputes"
"""The layer whose rows are cases with personal details: exported only within the account's scope, audited."""


def formats_of(layer: str, crs: str = WGS84) -> tuple[str, ...]:
    """The export formats of ``layer`` in ``crs``: xlsx and csv for a layer without geometry; every format
    otherwise, but GeoJSON only in a system it can declare (not GCJ-02/BD-09)."""
    if not has_geometry(check_layer(layer)):
        return RECORD_FORMATS
    return tuple(f for f in EXPORT_FORMATS if not (f == "geojson" and is_shifted(crs)))


def _check(fmt: str, crs: str, layer: str | None = None) -> None:
    if layer is not None and not has_geometry(layer) and fmt in EXPORT_FORMATS and fmt not in RECORD_FORMATS:
        raise GuloError(f"{LAYER_LABELS[layer]}没有地图位置，只能导出为 {'、'.join(RECORD_FORMATS)}，不能导出为“{fmt}”")
    if fmt not in EXPORT_FORMATS:
        raise GuloError(f"不支持的导出格式“{fmt}”，可选：{'、'.join(EXPORT_FORMATS)}")
    check_system(crs)
    if fmt == "geojson" and is_shifted(crs):
        raise GuloError(f"GeoJSON 文件无法声明 {SHORT_NAMES[crs]} 坐标系，GIS 软件会把它当作 WGS84（偏差数百米）："
                        "请导出为 GeoPackage（带自定义坐标系）、CSV 或 Excel")


def export_filename(layer: str, scope: Scope = DISTRICT, fmt: str = "geojson", crs: str = WGS84) -> str:
    """A file name such as ``老旧小区_350102004000_gcj02.gpkg`` (district scope: ``鼓楼区``; a layer without
    geometry names no coordinate system: ``党组织_鼓楼区.xlsx``; a Shapefile set: ``…_shp.zip``)."""
    where = scope.code or "鼓楼区"
    system = f"_{crs}" if has_geometry(check_layer(layer)) else ""
    kind = "_shp" if fmt == "shp" else ""
    return f"{LAYER_LABELS[layer]}_{where}{system}{kind}{EXPORT_FORMATS[fmt][0]}"


def unit_names(engine: Engine, layer: str) -> dict[str, dict[str, str]]:
    """Table -> code -> name for the units whose names stand beside ``layer``'s codes in an export."""
    return {table: _names(engine, table) for table in set(name_tables(layer).values())}


def _read(engine: Engine, layer: str, scope: Scope, crs: str) -> gpd.GeoDataFrame:
    """The stored rows of ``layer`` in ``scope``, moved into the export system ``crs``."""
    check_system(crs)
    return to_system(read_layer(engine, check_layer(layer), scope), crs, LAYER_LABELS[layer])


def export_frame(engine: Engine, layer: str, scope: Scope = DISTRICT, crs: str = WGS84) -> gpd.GeoDataFrame:
    """The rows of ``layer`` in ``scope`` as a person reads them (Chinese headers, typed, names beside codes) and
    the coordinates in ``crs`` as columns named with the system: x/y for points, WKT for polygons."""
    gdf = _read(engine, layer, scope, crs)
    out = typed_frame(gdf, layer, unit_names(engine, layer))
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    places = decimals(crs)
    if layer in POINT_LAYERS:
        x, y = coordinate_labels(crs)
        out[x] = np.round(shapely.get_x(geoms), places)
        out[y] = np.round(shapely.get_y(geoms), places)
    else:
        out[wkt_label(crs)] = shapely.to_wkt(geoms, rounding_precision=places)
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geoms, index=gdf.index), crs=gdf.crs)


def vector_layer(engine: Engine, layer: str, scope: Scope = DISTRICT, crs: str = WGS84) -> VectorLayer:
    """``layer`` in ``scope`` for a GIS file: short field names with Chinese aliases, typed, names beside codes,
    geometry in ``crs`` declared honestly (``geo.export_crs``)."""
    gdf = _read(engine, layer, scope, crs)
    out = typed_frame(gdf, layer, unit_names(engine, layer), labels=False)
    frame = gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(gdf.geometry.values, index=gdf.index), crs=gdf.crs)
    return VectorLayer(layer, frame, field_aliases(layer, out.columns), LAYER_LABELS[layer],
                       layer_note(LAYER_LABELS[layer], scope, crs, len(frame)))


def layer_note(what: str, scope: Scope, crs: str, rows: int) -> str:
    """The Chinese note written into a file: what, where, how many, which system (and how to use a shifted one)."""
    where = scope.code or DISTRICT_CODE
    note = f"{what}（范围代码 {where}，{rows} 条），坐标系：{SYSTEM_LABELS[crs]}。"
    return note + (SHIFTED_NOTE[crs] if is_shifted(crs) else "")


def record_frame(engine: Engine, layer: str, scope: Scope = DISTRICT) -> pd.DataFrame:
    """The rows of record layer ``layer`` in ``scope`` as the office sees them: Chinese headers and labels, typed
    (``geo.export_fields``), the names of its community, street and compounds beside the codes."""
    return typed_frame(read_table(engine, layer, scope), layer, unit_names(engine, layer))


def _names(engine: Engine, table_name: str) -> dict[str, str]:
    """Code -> name of every row of ``table_name`` (streets, communities, grids or compounds)."""
    table = schema.GEO_TABLES[table_name]
    with engine.connect() as conn:
        return {str(c): str(n) for c, n in conn.execute(select(table.c.code, table.c.name))}


def _safe_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text cell neutralised against formula injection; numbers and dates untouched."""
    out = pd.DataFrame(frame).copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(lambda v: safe_text(v) if isinstance(v, str) else v)
    out.columns = [safe_text(str(c)) for c in out.columns]
    return out


def authorise_case_export(engine: Engine, account: Account | None, scope: Scope) -> Account:
    """The account as stored now, when it may export the case details of ``scope``; PermissionDenied otherwise."""
    require_case_details(account, scope)
    with engine.connect() as conn:
        return require_case_details(verify(conn, account), scope)


def record_case_export(engine: Engine, account: Account | None, scope: Scope, rows: int, fmt: str,
                       what: str = LAYER_LABELS[CASE_LAYER]) -> None:
    """Check once more and write the audit entry of an export of case details (action ``export``)."""
    require_case_details(account, scope)
    with engine.begin() as conn:
        actor = require_case_details(verify(conn, account), scope)
        audit(conn, actor.username, "export", CASE_LAYER, None, None,
              {"layer": CASE_LAYER, "what": what, "scope": scope.code or DISTRICT_CODE, "format": fmt, "rows": rows})


def export_layer(engine: Engine, layer: str, scope: Scope = DISTRICT, fmt: str = "geojson", crs: str = WGS84,
                 account: Account | None = None) -> bytes:
    """``layer`` in ``scope`` as file bytes in ``fmt`` (geojson, gpkg, shp, csv, xlsx) and system ``crs``
    (``geo.export_crs.EXPORT_SYSTEMS``).

    GeoJSON/GeoPackage/Shapefile keep the geometry with the system declared honestly (GCJ-02/BD-09: a custom
    CRS without EPSG id; no GeoJSON for them); CSV/XLSX carry x/y (points) or WKT (polygons) columns named
    with the system. Every format keeps numbers and dates typed and names beside codes. A record layer (no
    geometry) is CSV or XLSX only (GuloError otherwise), ``crs`` ignored. The disputes layer needs an
    ``account`` that may see the scope's case details (PermissionDenied otherwise) and is audited.
    """
    _check(fmt, crs, check_layer(layer))
    if not has_geometry(layer):
        return _table_bytes(record_frame(engine, layer, scope), layer, fmt)
    cases = layer == CASE_LAYER
    if cases:
        authorise_case_export(engine, account, scope)
    data, rows = _spatial_bytes(engine, layer, scope, fmt, crs)
    if cases:
        record_case_export(engine, account, scope, rows, fmt)
    return data


def _spatial_bytes(engine: Engine, layer: str, scope: Scope, fmt: str, crs: str) -> tuple[bytes, int]:
    """(file bytes, rows) of a layer with geometry in ``fmt``."""
    if fmt in ("gpkg", "shp"):
        vector = vector_layer(engine, layer, scope, crs)
        data = gpkg_bytes([vector], crs) if fmt == "gpkg" else shapefile_zip([vector], crs)
        return data, len(vector.frame)
    frame = export_frame(engine, layer, scope, crs)
    if fmt == "geojson":
        columns = [c for c in frame.columns if c not in (*coordinate_labels(crs), wkt_label(crs))]
        return geojson_bytes(VectorLayer(layer, frame[columns], title=LAYER_LABELS[layer])), len(frame)
    return _table_bytes(pd.DataFrame(frame.drop(columns=frame.geometry.name)), layer, fmt), len(frame)


def _table_bytes(plain: pd.DataFrame, layer: str, fmt: str) -> bytes:
    if fmt == "csv":
        return _safe_table(plain).to_csv(index=False).encode("utf-8-sig")
    return to_xlsx({LAYER_LABELS[layer]: plain})


def case_workbook(engine: Engine, account: Account | None, scope: Scope, sheets: dict[str, pd.DataFrame]) -> bytes:
    """The 矛盾纠纷 page's case list (the first of ``sheets``) and its other tables as one Excel workbook,
    for an account that may see the case details of ``scope`` (PermissionDenied otherwise); audited."""
    authorise_case_export(engine, account, scope)
    data = to_xlsx(sheets)
    first = next(iter(sheets))
    record_case_export(engine, account, scope, len(sheets[first]), "xlsx", what=first)
    return data


def template_frame(layer: str) -> pd.DataFrame:
    """The template's one example row under the expected Chinese headers (points: 经度/纬度)."""
    specs = template_columns(layer)
    return pd.DataFrame([[s.example for s in specs]], columns=[s.label for s in specs])


def template_notes(layer: str) -> pd.DataFrame:
    """One row per template column: header, required or not, accepted values, other accepted headers."""
    rows = []
    for s in template_columns(layer):
        allowed = "、".join(s.vocab.labels().values()) if s.vocab is not None else _kind_text(s)
        allowed += f"；{s.note}" if s.note else ""
        rows.append({"列名": s.label, "是否必填": "必填" if s.required else "选填", "填写说明": allowed,
                     "也可识别的列名": "、".join(s.aliases)})
    return pd.DataFrame(rows)


def _kind_text(spec) -> str:
    text = {"int": "整数", "float": "数字", "bool": "是/否", "date": "日期，如 2026-05-01",
            "code": "代码（社区、网格也可填全称）", "text": "文字"}[spec.kind]
    if spec.lo is not None or spec.hi is not None:
        text += f"，范围 {'' if spec.lo is None else f'{spec.lo:g}'}–{'' if spec.hi is None else f'{spec.hi:g}'}"
    if spec.not_future:
        text += "，不晚于今天"
    if spec.max_len:
        text += f"，不超过 {spec.max_len} 字"
    if spec.name in ("lon", "lat"):
        text += "；WGS84、CGCS2000、高德（GCJ-02）、百度（BD-09）经纬度或 UTM/高斯投影米制坐标均可，导入时换算"
    return text


def template_xlsx(layer: str) -> bytes:
    """An Excel template for ``layer``: sheet 1 the headers and an example row, sheet 2 the notes."""
    check_layer(layer)
    return to_xlsx({LAYER_LABELS[layer]: template_frame(layer), "填写说明": template_notes(layer)})
