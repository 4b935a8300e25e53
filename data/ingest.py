"""Import of office data into the store: preview (read, map, convert, validate) then one transaction.

The 数据管理 page and ``python -m data.cli import`` both call:

- ``preview_import(engine, source, layer, filename, ...) -> ImportPreview``: reads the file,
  maps its columns, converts its coordinates to WGS84 and validates every row against the
  district in the store. Writes nothing. ``preview.problems`` is the report (行号/字段/值/问题).
- ``commit_import(engine, preview, actor, progress) -> ImportResult``: writes a preview without
  problems in ONE transaction (insert or update by code, in batches with a progress callback)
  and one audit-log entry (action ``import``: who, layer, file name, counts). Any failure rolls
  the whole import back; a preview with problems raises ``DataValidationError`` and writes nothing.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd
from sqlalchemy import Connection, Engine, select

from data import schema
from data.accounts import authorise_units, record_refusal
from data.ingest_read import SourceTable, read_source
from data.store import audit, read_layer
from geo.access import Account
from geo.errors import DataValidationError, PermissionDenied
from geo.ingest import ROW, Prepared, Reference, prepare, problems_frame, store_columns
from geo.ingest_crs import crs_label
from geo.ingest_fields import LAYER_LABELS, check_layer
from geo.lifecycle import district_today

Progress = Callable[[int, int], None]
"""progress(rows written so far, rows in total); called before the first batch and after each one."""
BATCH_ROWS = 500


@dataclass
class ImportPreview:
    """What an import would do. ``frame`` (EPSG:4326) holds the clean rows with ``_row``."""

    layer: str
    filename: str
    source: SourceTable
    prepared: Prepared
    inserts: int
    updates: int

    @property
    def ok(self) -> bool:
        """Whether the import may be written (no problems)."""
        return self.prepared.ok

    @property
    def problems(self) -> pd.DataFrame:
        """The report: 行号 (the user's row; 全表 for the whole file), 字段, 值, 问题."""
        return problems_frame(self.prepared.problems)

    @property
    def repairs(self) -> pd.DataFrame:
        """Geometries repaired with make_valid (same columns as ``problems``)."""
        return problems_frame(self.prepared.repairs)

    @property
    def frame(self) -> gpd.GeoDataFrame:
        return self.prepared.frame

    @property
    def mapping(self) -> dict[str, str]:
        """Source column -> field, as used (guessed unless given)."""
        return self.prepared.mapping

    @property
    def summary(self) -> str:
        """One Chinese paragraph: file, rows, encoding, CRS, inserts/updates, problems."""
        p = self.prepared
        head = (f"{self.filename}：{LAYER_LABELS[self.layer]} {len(p.frame)} 行；编码 {self.source.encoding or '—'}；"
                f"坐标系 {crs_label(p.crs_key)}（{p.crs_note}）")
        tail = (f"将新增 {self.inserts} 条、更新 {self.updates} 条" if self.ok
                else f"发现 {len(p.problems)} 个问题，未写入任何数据")
        repaired = f"；修复几何 {len(p.repairs)} 处" if p.repairs else ""
        return f"{head}；{tail}{repaired}"


@dataclass(frozen=True)
class ImportResult:
    """Rows written by ``commit_import`` and the audit-log entry's id."""

    layer: str
    inserted: int
    updated: int
    audit_id: int


def reference(engine: Engine, layer: str, today: date | None = None) -> Reference:
    """What the store holds to validate an import of ``layer`` against (hierarchy, existing rows)."""
    names = {"streets", "communities", "grids", layer} | ({"compounds"} if layer == "disputes" else set())
    frames = {name: read_layer(engine, name) for name in names}
    return Reference.from_frames(frames, layer, today or district_today())


def preview_import(engine: Engine, source: bytes | str | Path, layer: str, filename: str | None = None, *,
                   mapping: dict[str, str] | None = None, encoding: str | None = None, crs: str | None = None,
                   sheet: str | int | None = None, repair: bool = False, check_shift: bool = True,
                   today: date | None = None) -> ImportPreview:
    """Read and validate ``source`` as ``layer``; nothing is written.

    ``source``: file bytes (then ``filename`` gives the type) or a path. ``mapping``: source
    column -> field, overriding the guess (``geo.ingest_fields.guess_mapping``). ``encoding``:
    e.g. ``gbk`` (default: detected). ``crs``: a key of ``geo.ingest_crs.CRS_CHOICES`` or
    ``EPSG:NNNN`` (default: detected). ``repair``: fix invalid polygons with make_valid.
    ``check_shift``: report GCJ-02/BD-09 coordinates declared as WGS84. ``today``: the date rules
    are checked against (default: today in Fuzhou). Raises DataValidationError only for a file
    that cannot be read at all; every other problem is in ``preview.problems``.
    """
    check_layer(layer)
    src = read_source(source, filename, layer, encoding=encoding, sheet=sheet)
    ref = reference(engine, layer, today)
    prepared = prepare(src.table, layer, ref, geometry=src.geometry, declared_crs=src.declared_crs,
                       mapping=mapping, crs=crs, repair=repair, check_shift=check_shift)
    codes = set(prepared.frame["code"].dropna().astype(str)) if "code" in prepared.frame else set()
    updates = len(codes & set(ref.existing.index))
    return ImportPreview(layer, src.filename, src, prepared, len(codes) - updates, updates)


# ---------------------------------------------------------------- writing


def _rows(frame: gpd.GeoDataFrame, columns: list[str]) -> list[dict]:
    """Plain dicts for the insert: Python values, None for missing, geometry under ``geom``."""
    plain = pd.DataFrame(frame[columns]).astype(object)
    plain = plain.where(plain.notna(), None)
    rows = plain.to_dict("records")
    for row, geom in zip(rows, frame.geometry.values):
        row["geom"] = geom
    return rows


def _upsert(conn: Connection, table, columns: list[str]):
    """INSERT … ON CONFLICT (code) DO UPDATE of ``columns`` (a compound's version goes up by one)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table)
    set_ = {c: stmt.excluded[c] for c in columns if c != "code"}
    if "version" in table.c:
        set_["version"] = table.c.version + 1
    return stmt.on_conflict_do_update(index_elements=[table.c.code], set_=set_)


def _existing_codes(conn: Connection, table, codes: list[str]) -> set[str]:
    return set(_existing(conn, table, codes, table.c.code))


def _existing(conn: Connection, table, codes: list[str], column) -> list:
    """``column`` of the stored rows whose code is in ``codes``."""
    found: list = []
    for i in range(0, len(codes), BATCH_ROWS):
        chunk = codes[i:i + BATCH_ROWS]
        found += conn.execute(select(column).where(table.c.code.in_(chunk))).scalars().all()
    return found


def commit_import(engine: Engine, preview: ImportPreview, account: Account | None, progress: Progress | None = None,
                  batch_rows: int = BATCH_ROWS) -> ImportResult:
    """Write ``preview`` in one transaction (all rows or none) with one audit entry; see the module doc.

    ``account`` is the acting account (``geo.access.system_operator`` for the command line): it must be
    logged in and may write every row's unit (sub-districts: district role only); otherwise
    PermissionDenied, nothing written and the refusal audited. Raises DataValidationError (writing
    nothing) when the preview has problems.
    """
    if not preview.ok:
        raise DataValidationError(f"导入未执行：发现 {len(preview.prepared.problems)} 个问题",
                                  [tuple(p) for p in preview.prepared.problems])
    try:
        return _write(engine, preview, account, progress, batch_rows)
    except PermissionDenied as exc:  # rolled back; the refusal is recorded on its own
        record_refusal(engine, account, preview.layer, None, str(exc))
        raise


def _write(engine: Engine, preview: ImportPreview, account: Account | None, progress: Progress | None,
           batch_rows: int) -> ImportResult:
    table = schema.GEO_TABLES[preview.layer]
    frame = preview.frame
    columns = store_columns(frame, preview.layer)
    rows = _rows(frame, columns)
    total = len(rows)
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        actor = _authorise(conn, account, preview).username
        before = _existing_codes(conn, table, [r["code"] for r in rows])
        stmt = _upsert(conn, table, columns + ["geom"])
        if progress:
            progress(0, total)
        for i in range(0, total, batch_rows):
            conn.execute(stmt, rows[i:i + batch_rows])
            if progress:
                progress(min(i + batch_rows, total), total)
        updated = len(before)
        after = {"file": preview.filename, "layer": preview.layer, "rows": total, "inserted": total - updated,
                 "updated": updated, "encoding": preview.source.encoding, "crs": preview.prepared.crs_key,
                 "repaired": len(preview.prepared.repairs)}
        audit(conn, actor, "import", preview.layer, None, None, after)
        audit_id = conn.execute(select(schema.audit_log.c.id).order_by(schema.audit_log.c.id.desc()).limit(1)).scalar()
    return ImportResult(preview.layer, total - updated, updated, int(audit_id))


def _unit_column(layer: str) -> str | None:
    """The column naming a record's unit for the scope check: none for sub-districts (district role
    only), a community's own code, every other record's community."""
    return None if layer == "streets" else "code" if layer == "communities" else "community_code"


def _unit_codes(conn: Connection, preview: ImportPreview) -> list[str]:
    """The units of every imported row and of every stored row it would overwrite (so a record cannot be
    moved in from a unit outside the account's scope)."""
    frame, column = preview.frame, _unit_column(preview.layer)
    if column is None:
        return [""] * len(frame)
    table = schema.GEO_TABLES[preview.layer]
    stored = _existing(conn, table, [str(c) for c in frame["code"]], table.c[column])
    return [str(c) if c is not None else "" for c in [*frame.get(column, [""] * len(frame)), *stored]]


def _authorise(conn: Connection, account: Account | None, preview: ImportPreview) -> Account:
    """The acting account as stored now, when it may write every row; PermissionDenied otherwise."""
    return authorise_units(conn, account, _unit_codes(conn, preview), f"“{preview.filename or preview.layer}”")


def import_file(engine: Engine, source: bytes | str | Path, layer: str, actor: Account | None, filename: str | None = None, *,
                progress: Progress | None = None, **options) -> tuple[ImportPreview, ImportResult | None]:
    """``preview_import`` then, when it found no problems, ``commit_import``; the result is None otherwise."""
    preview = preview_import(engine, source, layer, filename, **options)
    return preview, (commit_import(engine, preview, actor, progress) if preview.ok else None)


def import_log(engine: Engine, limit: int = 200) -> pd.DataFrame:
    """The audit log's import entries, newest first (columns of ``audit_log``)."""
    t = schema.audit_log
    stmt = select(t).where(t.c.action == "import").order_by(t.c.id.desc()).limit(limit)
    with engine.connect() as conn:
        result = conn.execute(stmt)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


__all__ = ["ImportPreview", "ImportResult", "Progress", "ROW", "commit_import", "import_file", "import_log",
           "preview_import", "reference"]
