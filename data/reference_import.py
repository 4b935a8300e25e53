"""Import of reference layers (参考图层: 道路, 建筑, 水系, 地名) from the office's GIS files: preview, then replace.

- ``preview_reference(engine, source, filename, kind, …) -> ReferencePreview``: reads a GeoPackage (a layer
  by name; with several, the one whose name says the kind, else the first, with a note), a zipped Shapefile
  (GBK .dbf without .cpg, no .prj) or a GeoJSON through ``data.ingest.read_source``; finds the coordinate
  system (``geo.reference_fields.resolve_reference_crs`` over ``geo.ingest_crs``), converts to WGS84, guesses
  the name and class columns and checks every geometry for the kind. Writes nothing; every problem is
  listed with its row, field and reason in Chinese.
- ``commit_reference(engine, preview, account) -> int``: replaces every stored feature of the kind with the
  preview's features in one transaction (``data.reference.write_reference``, audited). Only the district
  role may (``geo.access.require_district``; ``system_operator`` for the command line); a refusal writes
  nothing but its own audit entry (``denied``) and says why in Chinese. A preview with problems writes nothing.
- ``clear_reference``: removes every feature of one kind (same rule); ``reference_status``: what is stored.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from sqlalchemy import Engine, func, select

from data import reference as ref
from data.accounts import record_refusal, verify
from data.faults import database_errors
from data.ingest import SourceTable, read_source
from data.ingest.read import bytes_of
from data.ingest.source import SQLITE_MAGIC, VECTOR_SUFFIXES, fail
from data.store import read_layer
from geo import ingest_crs as icrs
from geo import reference_fields as rf
from geo.access import Account, require_district
from geo.errors import CRSError, DataValidationError, PermissionDenied
from geo.ingest_problems import FILE_LEVEL, ROW, Problem, problems_frame
from geo.vocab import ReferenceKind

WHAT = "替换参考图层"
CLEARED = "（已清空）"
"""The ``source`` recorded when a kind is cleared."""


@dataclass
class ReferencePreview:
    """What replacing the stored features of ``kind`` with a file would do. ``frame`` (EPSG:4326) holds every
    feature of the file with ``_row``, ``name``, ``subtype`` and its checked geometry (None where a problem is)."""

    kind: ReferenceKind
    filename: str
    frame: gpd.GeoDataFrame
    crs_key: str = icrs.WGS84
    crs_note: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    """Field (``name``/``subtype``) -> the file's column it was taken from."""
    problems: list[Problem] = field(default_factory=list)
    repairs: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stored: int = 0
    """Features of ``kind`` stored now (all replaced on commit)."""
    encoding: str | None = None
    layer: str | None = None
    """The GeoPackage layer read (None for other files)."""
    layers: list[str] = field(default_factory=list)
    """Every layer of a GeoPackage, for the choice."""
    columns: list[str] = field(default_factory=list)
    """The file's attribute columns, for the mapping."""

    @property
    def ok(self) -> bool:
        """Whether the preview may be written: no problems and at least one feature."""
        return not self.problems and len(self.frame) > 0

    @property
    def problem_table(self) -> pd.DataFrame:
        """The problems as 行号/字段/值/问题 (全表 for the whole file first)."""
        return problems_frame(self.problems)

    @property
    def repair_table(self) -> pd.DataFrame:
        """Geometries repaired with make_valid or reduced to a point (same columns)."""
        return problems_frame(self.repairs)

    @property
    def counts(self) -> dict[str, int]:
        """Geometry type (Chinese word) -> number of features."""
        return rf.type_counts(self.frame.geometry)

    @property
    def source(self) -> str:
        """What the store records as the features' source: file name (and layer), at most 120 characters."""
        return (f"{self.filename}（图层 {self.layer}）" if self.layer else self.filename)[:120]

    @property
    def summary(self) -> str:
        """One Chinese sentence: file, kind, features by type, encoding, system, and what committing would do."""
        types = "、".join(f"{k} {v:,}" for k, v in self.counts.items())
        encoding = f"编码 {self.encoding}；" if self.encoding else ""
        head = f"{self.filename}：{self.kind.label} {len(self.frame):,} 个要素{f'（{types}）' if types else ''}；"
        crs = f"坐标系：{self.crs_note}；" if self.crs_note else ""
        tail = (f"将替换库中现有的 {self.stored:,} 个{self.kind.label}要素" if self.ok
                else f"发现 {len(self.problems):,} 个问题，未写入任何数据")
        fixed = f"；修复或改取代表点 {len(self.repairs):,} 处" if self.repairs else ""
        return f"{head}{encoding}{crs}{tail}{fixed}"


def vector_layers(source: bytes | str | Path, filename: str | None = None) -> list[str]:
    """The layer names of a GeoPackage (empty for other files); DataValidationError (Chinese) when unreadable."""
    name = filename or Path(str(source)).name
    if Path(name).suffix.lower() != ".gpkg":
        return []
    data = bytes_of(source, name)
    if not data.startswith(SQLITE_MAGIC):
        raise fail(f"文件“{name}”不是有效的 GeoPackage（可能已损坏或只是改了扩展名），请在 GIS 软件中重新导出 .gpkg 后再导入")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "layers.gpkg"
        path.write_bytes(data)
        try:
            return [str(n) for n in pyogrio.list_layers(path)[:, 0]]
        except (RuntimeError, ValueError, OSError) as exc:  # GDAL's text names the temporary folder
            raise fail(f"文件“{name}”无法作为 GeoPackage 读取（可能已损坏），请在 GIS 软件中重新导出后再导入") from exc


def _read(source, name: str, kind: ReferenceKind, encoding: str | None, sheet) -> tuple[SourceTable, str | None,
                                                                                          list[str], list[str]]:
    """(table as read, GeoPackage layer read, all its layers, notes) of a GIS file; DataValidationError otherwise."""
    suffix = Path(name).suffix.lower()
    if suffix not in VECTOR_SUFFIXES:
        raise fail(f"文件“{name}”不是 GIS 图层文件：参考图层只能从 GeoPackage（.gpkg）、压缩的 Shapefile（.zip）"
                   "或 GeoJSON 导入")
    layers = vector_layers(source, name)
    layer, notes = (str(sheet) if sheet not in (None, "") else None), []
    if layers and layer is None and len(layers) > 1:
        layer = rf.guess_layer(layers, kind)
        if layer is not None:
            notes.append(f"GeoPackage 含 {len(layers)} 个图层（{'、'.join(layers)}），按图层名选用了“{layer}”")
    if layers and layer is not None and layer.isdigit() and layer not in layers and int(layer) < len(layers):
        layer = layers[int(layer)]
    src = read_source(source, name, encoding=encoding, sheet=layer)
    return src, (layer or (layers[0] if layers else None)), layers, [*src.notes, *notes]


@database_errors("读取鼓楼区范围")
def district_polygon(engine: Engine):
    """The stored district (union of sub-districts, else communities; WGS84), or None when the store holds none."""
    for name in ("streets", "communities"):
        frame = read_layer(engine, name)
        if len(frame):
            return shapely.union_all(frame.geometry.values)
    return None


def _attributes(src: SourceTable, fields: dict[str, str]) -> tuple[pd.DataFrame, list[str]]:
    """``_row``, ``name`` and ``subtype`` of every feature, and a note per column whose text was cut."""
    out, notes = pd.DataFrame({ROW: src.table[ROW].astype(int).values}), []
    for fld, limit in ((rf.NAME, rf.NAME_CHARS), (rf.SUBTYPE, rf.SUBTYPE_CHARS)):
        column = fields.get(fld)
        values = [rf.clean_text(v, limit) for v in src.table[column]] if column else [(None, False)] * len(src.table)
        out[fld] = [v for v, _ in values]
        cut = sum(c for _, c in values)
        if cut:
            notes.append(f"列“{column}”有 {cut} 个值超过 {limit} 个字，只保留前 {limit} 个字")
    return out, notes


def _field_note(fields: dict[str, str], columns: list[str]) -> str:
    """Which columns give the name and the class, in Chinese (and what to do when none was recognised)."""
    said = [f"{rf.FIELD_LABELS[f]}取自列“{c}”" for f, c in fields.items()]
    if rf.NAME not in fields:
        shown = "、".join(columns[:12]) or "无属性列"
        said.append(f"没有识别出名称列（文件中的列：{shown}），要素将不带名称；可用列映射指定，如 列名=名称")
    return "；".join(said)


def _coordinates(src: SourceTable, crs: str | None, district) -> tuple[icrs.CRSGuess | None, list[Problem]]:
    """The system of the file's geometries, or a whole-file problem when none fits (a bad ``crs`` choice raises)."""
    if crs:
        icrs.parse_crs_key(crs)  # CRSError for a choice that names no system: the caller's mistake, not the file's
    try:
        return rf.resolve_reference_crs(src.geometry, src.declared_crs, crs, district), []
    except CRSError as exc:
        return None, [Problem(FILE_LEVEL, "坐标系", "", str(exc))]


def preview_reference(engine: Engine, source: bytes | str | Path, filename: str | None, kind, crs: str | None = None,
                      encoding: str | None = None, sheet: str | int | None = None,
                      mapping: dict[str, str] | None = None) -> ReferencePreview:
    """Read and check ``source`` (bytes, then ``filename`` gives the type; or a path) as reference features of
    ``kind`` (``ReferenceKind`` value or label). ``crs``: a key of ``geo.ingest_crs.CRS_CHOICES`` or
    ``EPSG:NNNN`` (default: declared, else detected); ``encoding``: of a Shapefile's .dbf or a GeoJSON (default:
    detected); ``sheet``: a GeoPackage layer (name or 0-based index); ``mapping``: file column -> ``name``/``名称``,
    ``subtype``/``类别`` or ``-``. Writes nothing. DataValidationError (Chinese) only for an unreadable file,
    GuloError for an unknown kind or system; every other problem is in ``preview.problems``."""
    kind = rf.check_kind(kind)
    name = filename or Path(str(source)).name
    src, layer, layers, notes = _read(source, name, kind, encoding, sheet)
    fields, problems = rf.apply_mapping(src.columns, kind, mapping)
    attrs, cut = _attributes(src, fields)
    district = district_polygon(engine)
    guess, crs_problems = _coordinates(src, crs, district)
    problems += crs_problems
    repairs: list[Problem] = []
    geoms = gpd.GeoSeries([None] * len(attrs), crs=icrs.gcrs.WGS84_EPSG)
    if guess is not None and len(attrs):
        wgs = icrs.to_wgs84(gpd.GeoSeries(src.geometry.values), guess.key)
        geoms, found, repairs = rf.check_reference_geometry(wgs, attrs[ROW], kind, district)
        problems += found
    if not len(attrs):
        problems.append(Problem(FILE_LEVEL, "几何", "", f"文件中没有任何要素，未导入；如要清空{kind.label}图层请使用“清空”"))
    frame = gpd.GeoDataFrame(attrs, geometry=gpd.GeoSeries(geoms.values, index=attrs.index), crs=icrs.gcrs.WGS84_EPSG)
    notes = [*notes, _field_note(fields, src.columns), *cut]
    stored = ref.reference_counts(engine).get(kind.value, 0)
    return ReferencePreview(kind, name, frame, guess.key if guess else icrs.WGS84, guess.note if guess else "", fields,
                            problems, repairs, notes, stored, src.encoding, layer, layers, [str(c) for c in src.columns])


# ---------------------------------------------------------------- writing


def _store_frame(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(frame[[rf.NAME, rf.SUBTYPE]], geometry=frame.geometry, crs=frame.crs)


@database_errors(WHAT, writing=True)
def _replace(engine: Engine, kind: str, frame: gpd.GeoDataFrame, source: str, account: Account | None) -> int:
    """(features written) in one transaction, when the account as stored now is of the district role."""
    with engine.begin() as conn:
        actor = require_district(verify(conn, account), WHAT).username
        return ref.write_reference(conn, kind, frame, source, actor)


def _refused(engine: Engine, account: Account | None, kind: str, exc: PermissionDenied) -> None:
    """Record a refusal (its own transaction; the refused write rolled back)."""
    record_refusal(engine, account, ref.TABLE.name, kind, str(exc))


def commit_reference(engine: Engine, preview: ReferencePreview, actor: Account | None) -> int:
    """Replace every stored feature of ``preview.kind`` with the preview's features; the number written.

    DataValidationError (nothing written) when the preview has problems; PermissionDenied (nothing written, the
    refusal audited) unless ``actor`` is a logged-in, active district account or a system operator;
    ``DatabaseBusy`` / ``DatabaseUnavailable`` / ``DatabaseReadOnly`` when the database cannot be written."""
    if not preview.ok:
        raise DataValidationError(f"未写入任何数据：发现 {len(preview.problems)} 个问题",
                                  [tuple(p) for p in preview.problems])
    frame = _store_frame(preview.frame)
    kind = ref.checked(preview.kind.value, frame)
    try:
        return _replace(engine, kind, frame, preview.source, actor)
    except PermissionDenied as exc:
        _refused(engine, actor, kind, exc)
        raise


def clear_reference(engine: Engine, kind, actor: Account | None) -> int:
    """Remove every stored feature of ``kind`` (audited; district role only, as ``commit_reference``); how many
    there were."""
    kind = rf.check_kind(kind).value
    before = ref.reference_counts(engine).get(kind, 0)
    empty = gpd.GeoDataFrame({rf.NAME: [], rf.SUBTYPE: []}, geometry=gpd.GeoSeries([]), crs=icrs.gcrs.WGS84_EPSG)
    try:
        _replace(engine, kind, empty, CLEARED, actor)
    except PermissionDenied as exc:
        _refused(engine, actor, kind, exc)
        raise
    return before


@database_errors("读取参考图层状态")
def reference_status(engine: Engine) -> pd.DataFrame:
    """One row per ``ReferenceKind`` (declaration order): ``kind``, ``label``, ``count``, ``imported_at`` (UTC, None
    when empty) and ``source`` (the file it came from)."""
    t = ref.TABLE
    stmt = select(t.c.kind, func.count(), func.max(t.c.imported_at), func.max(t.c.source)).group_by(t.c.kind)
    with engine.connect() as conn:
        held = {str(k): (int(n), at, src) for k, n, at, src in conn.execute(stmt)}
    rows = [(k.value, k.label, *held.get(k.value, (0, None, None))) for k in ReferenceKind]
    frame = pd.DataFrame(rows, columns=["kind", "label", "count", "imported_at", "source"]).astype(object)
    return frame.where(frame.notna(), None)


__all__ = ["ReferencePreview", "clear_reference", "commit_reference", "district_polygon", "preview_reference",
           "reference_status", "vector_layers"]
