"""Export of a layer in a scope (GeoJSON, GeoPackage, CSV, XLSX; WGS84 or GCJ-02) and Excel templates.

Exports use the office's Chinese headers and labels (``geo.ingest_fields.display_frame``), so an
exported file imports again without any mapping. CSV and XLSX text cells that a spreadsheet could
take for a formula are neutralised (``data.export.safe_text``); CSV is UTF-8 with BOM so Excel
opens it in Chinese. GCJ-02 output is for Amap-based tools only: never import it back as WGS84.

The record layers (party organisations, volunteer teams, consultation days, community resources: no geometry)
export as CSV or XLSX only, with the names beside the codes (所属社区名称, 所属街道名称, 覆盖小区名称); those
name columns are not fields, so a re-import reads the codes and ignores them.

The disputes layer carries case details (address, summary): it is exported only to an account that may
see the scope's case details (``geo.access.may_see_case_details``, checked against the account as stored
now), and every such export — the layer here or the 矛盾纠纷 page's case list (``case_workbook``) — writes
an audit entry (action ``export``: who, scope, layer, format, rows). Everyone else is refused in Chinese.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
from sqlalchemy import Engine, select

from data import schema
from data.accounts import verify
from data.export import safe_text, to_xlsx
from data.store import audit, read_layer, read_table
from geo.access import Account, require_case_details
from geo.crs import to_gcj02
from geo.errors import GuloError
from geo.ingest_crs import GCJ02, WGS84
from geo.ingest_fields import (
    LAYER_FIELDS,
    LAYER_LABELS,
    check_layer,
    display_frame,
    display_records,
    has_geometry,
    template_columns,
)
from geo.scope import DISTRICT, Scope
from geo.vocab import DISTRICT_CODE

EXPORT_FORMATS: dict[str, tuple[str, str]] = {
    "geojson": (".geojson", "application/geo+json"),
    "gpkg": (".gpkg", "application/geopackage+sqlite3"),
    "csv": (".csv", "text/csv"),
    "xlsx": (".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}
"""Format key -> (file suffix, MIME type) for st.download_button."""
EXPORT_CRS = (WGS84, GCJ02)
RECORD_FORMATS = ("xlsx", "csv")
"""The formats of a layer without geometry."""
NAME_COLUMNS = {"community_code": ("所属社区名称", "communities"), "street_code": ("所属街道名称", "streets"),
                "compound_codes": ("覆盖小区名称", "compounds")}
"""Code field -> (the column of names put beside it in a record layer's export, the table the names come from)."""
CASE_LAYER = "disputes"
"""The layer whose rows are cases with personal details: exported only within the account's scope, audited."""


def formats_of(layer: str) -> tuple[str, ...]:
    """The export formats of ``layer``: every format, or only xlsx and csv for a layer without geometry."""
    return tuple(EXPORT_FORMATS) if has_geometry(check_layer(layer)) else RECORD_FORMATS


def _check(fmt: str, crs: str, layer: str | None = None) -> None:
    if layer is not None and fmt in EXPORT_FORMATS and fmt not in formats_of(layer):
        raise GuloError(f"{LAYER_LABELS[layer]}没有地图位置，只能导出为 {'、'.join(formats_of(layer))}，不能导出为“{fmt}”")
    if fmt not in EXPORT_FORMATS:
        raise GuloError(f"不支持的导出格式“{fmt}”，可选：{'、'.join(EXPORT_FORMATS)}")
    if crs not in EXPORT_CRS:
        raise GuloError(f"不支持的导出坐标系“{crs}”，可选：{'、'.join(EXPORT_CRS)}")


def export_filename(layer: str, scope: Scope = DISTRICT, fmt: str = "geojson", crs: str = WGS84) -> str:
    """A file name such as ``老旧小区_350102004000_gcj02.gpkg`` (district scope: ``鼓楼区``; a layer without
    geometry names no coordinate system: ``党组织_鼓楼区.xlsx``)."""
    where = scope.code or "鼓楼区"
    system = f"_{crs}" if has_geometry(check_layer(layer)) else ""
    return f"{LAYER_LABELS[layer]}_{where}{system}{EXPORT_FORMATS[fmt][0]}"


def export_frame(engine: Engine, layer: str, scope: Scope = DISTRICT, crs: str = WGS84) -> gpd.GeoDataFrame:
    """The rows of ``layer`` in ``scope`` with Chinese headers (see ``display_frame``), in WGS84 or GCJ-02."""
    _check("geojson", crs)
    gdf = read_layer(engine, check_layer(layer), scope)
    if crs == GCJ02:
        gdf = to_gcj02(gdf, LAYER_LABELS[layer])
    return display_frame(gdf, layer)


def record_frame(engine: Engine, layer: str, scope: Scope = DISTRICT) -> pd.DataFrame:
    """The rows of record layer ``layer`` in ``scope`` as the office sees them (``display_records``: Chinese headers
    and labels), whole numbers as integers, and the names of its community, street and compounds beside the codes."""
    stored = read_table(engine, layer, scope)
    out = display_records(stored, layer)
    for spec in LAYER_FIELDS[layer]:
        if spec.kind == "int" and spec.label in out:
            out[spec.label] = out[spec.label].map(lambda v: None if pd.isna(v) else int(v)).astype(object)
    for field, (label, table) in NAME_COLUMNS.items():
        spec = next((s for s in LAYER_FIELDS[layer] if s.name == field), None)
        if spec is None or field not in stored:
            continue
        names = _names(engine, table)
        shown = stored[field].map(lambda v, n=names: "、".join(n.get(c, c) for c in v.split(",")) if isinstance(v, str)
                                  else None)
        out.insert(out.columns.get_loc(spec.label) + 1, label, shown.values)
    return out


def _names(engine: Engine, table_name: str) -> dict[str, str]:
    """Code -> name of every row of ``table_name`` (streets, communities or compounds)."""
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


def _vector_bytes(frame: gpd.GeoDataFrame, layer: str, fmt: str) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{layer}{EXPORT_FORMATS[fmt][0]}"
        driver = "GPKG" if fmt == "gpkg" else "GeoJSON"
        pyogrio.write_dataframe(frame, path, driver=driver, layer=layer)
        return path.read_bytes()


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
    """``layer`` in ``scope`` as file bytes in ``fmt`` (geojson, gpkg, csv, xlsx) and ``crs`` (wgs84, gcj02).

    GeoJSON/GeoPackage keep the geometry (labelled EPSG:4326 even when shifted to GCJ-02) plus the
    attribute columns; CSV/XLSX carry 经度/纬度 (points) or 几何(WKT) (polygons) instead. A record layer
    (no geometry) is CSV or XLSX only (GuloError otherwise), ``crs`` ignored, names beside codes. The disputes
    layer needs an ``account`` that may see the scope's case details (PermissionDenied otherwise) and is audited.
    """
    _check(fmt, crs, check_layer(layer))
    if not has_geometry(layer):
        return _frame_bytes(record_frame(engine, layer, scope), layer, fmt)
    cases = layer == CASE_LAYER
    if cases:
        authorise_case_export(engine, account, scope)
    frame = export_frame(engine, layer, scope, crs)
    data = _frame_bytes(frame, layer, fmt)
    if cases:
        record_case_export(engine, account, scope, len(frame), fmt)
    return data


def _frame_bytes(frame: pd.DataFrame, layer: str, fmt: str) -> bytes:
    if fmt in ("geojson", "gpkg"):
        return _vector_bytes(frame, layer, fmt)
    plain = pd.DataFrame(frame.drop(columns=frame.geometry.name)) if isinstance(frame, gpd.GeoDataFrame) else frame
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
