"""Import of office data into the store: preview (read, map, convert, validate) then one transaction.

The 数据管理 page and ``python -m data.cli import`` both call:

- ``preview_import(engine, source, layer, filename, ...) -> ImportPreview``: reads the file,
  maps its columns, converts its coordinates to WGS84 and validates every row against the
  district in the store. Writes nothing. ``preview.problems`` is the report (行号/字段/值/问题).
- ``commit_import(engine, preview, actor, progress) -> ImportResult``: writes a preview without
  problems in ONE transaction (insert or update by code, in batches with a progress callback)
  and one audit-log entry (action ``import``: who, layer, file name, counts). Any failure rolls
  the whole import back; a preview with problems raises ``DataValidationError`` and writes nothing.
  While the database is busy the whole transaction is re-run (``data.faults``); a busy, unreachable or
  read-only database then raises ``DatabaseBusy`` / ``DatabaseUnavailable`` / ``DatabaseReadOnly``
  (nothing written). ConflictError, PermissionDenied and DataValidationError pass through unchanged.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd
from sqlalchemy import Connection, Engine, select

from data import schema
from data.accounts import authorise_units, record_refusal
from data.faults import database_errors
from data.ingest.read import SourceTable, read_source
from data.store import audit, read_layer, read_table
from geo.access import Account
from geo.errors import ConflictError, DataValidationError, PermissionDenied
from geo.ingest import Prepared, Reference, prepare, store_columns
from geo.ingest_crs import crs_label
from geo.ingest_fields import LAYER_LABELS, RECORD_LAYERS, check_layer, has_geometry, key_column
from geo.ingest_problems import ROW, problems_frame
from geo.ingest_records import UNCHANGED, unchanged_codes
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
    existing: gpd.GeoSeries | None = None
    """The stored geometry of the target layer by code (WGS84), as checked against."""
    unchanged: frozenset[str] = frozenset()
    """Record layers: codes of the rows equal to the stored record (not written: an export imports as a no-op)."""

    @property
    def ok(self) -> bool:
        """Whether the import may be written (no problems)."""
        return self.prepared.ok

    @property
    def problems(self) -> pd.DataFrame:
        """The report: 行号 (the user's row; 全表 for the whole file), 字段, 值, 问题."""
        return problems_frame(self.prepared.problems)

    @property
    def warnings(self) -> pd.DataFrame:
        """提示: gaps that do not stop the import (same columns as ``problems``); empty under ``strict``."""
        return problems_frame(self.prepared.warnings)

    @property
    def skipped(self) -> pd.DataFrame:
        """Rows of the file that are not records (totals, notes, blank rows …), each with why (same columns)."""
        return problems_frame(list(self.source.skipped))

    @property
    def notes(self) -> list[str]:
        """How the file was read, in Chinese (the sheet used, a rebuilt .shx …)."""
        return list(self.source.notes)

    @property
    def matched(self) -> int:
        """Rows without a code matched to a stored record by name (they update it)."""
        return self.prepared.count("name")

    @property
    def new_codes(self) -> int:
        """Rows without a code that match no stored record: each gets a new code on import."""
        return self.prepared.count("new")

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

    def row_states(self) -> gpd.GeoDataFrame:
        """One row per record of the file, for the preview map (EPSG:4326).

        Columns: ``_row`` (the user's row number), ``state`` (``new``, ``update`` or ``problem``),
        ``label`` (the record's name, else its code), ``reason`` (the row's problems joined by “；”,
        empty unless ``problem``), ``stored_geom`` (the stored geometry of the record it updates, or
        None), and the incoming geometry (None where the file gave none that could be read).
        """
        return row_states(self.prepared, self.existing)

    @property
    def summary(self) -> str:
        """One Chinese paragraph: file, rows, encoding, CRS, inserts/updates, problems."""
        p = self.prepared
        encoding = f"编码 {self.source.encoding}；" if self.source.encoding else ""
        crs = f"坐标系 {crs_label(p.crs_key)}（{p.crs_note}）" if has_geometry(self.layer) else "无坐标（不含地图位置）"
        head = f"{self.filename}：{LAYER_LABELS[self.layer]} {len(p.frame)} 行；{encoding}{crs}"
        same = f"，{UNCHANGED} {len(self.unchanged)} 条（不改动）" if self.unchanged else ""
        tail = (f"将新增 {self.inserts} 条、更新 {self.updates} 条{same}" if self.ok
                else f"发现 {len(p.problems)} 个问题，未写入任何数据")
        keyed = (f"；无编码的行按{KEYED_BY.get(self.layer, '社区和名称')}匹配到库中 {self.matched} 条，新编 {self.new_codes} 条"
                 if self.matched or self.new_codes else "")
        extra = "".join(f"；{text}" for n, text in ((len(p.warnings), f"提示 {len(p.warnings)} 条（不影响导入）"),
                                                    (len(self.skipped), f"跳过非数据行 {len(self.skipped)} 处"),
                                                    (len(p.repairs), f"修复几何 {len(p.repairs)} 处")) if n)
        return f"{head}；{tail}{keyed}{extra}"


@dataclass(frozen=True)
class ImportResult:
    """Rows written by ``commit_import`` and the audit-log entry's id."""

    layer: str
    inserted: int
    updated: int
    audit_id: int


KEYED_BY = {"disputes": "社区、受理日期、类别和地址", "consultation_days": "社区和月份"}
"""How rows without a code are matched to stored records, where not by community and name."""


def reference(engine: Engine, layer: str, today: date | None = None) -> Reference:
    """What the store holds to validate an import of ``layer`` against (hierarchy, existing rows; the compounds
    for disputes and party organisations, the case codes for consultation days)."""
    names = {"streets", "communities", "grids"} | ({layer} if has_geometry(layer) else set())
    names |= {"compounds"} if layer in ("disputes", "party_orgs") else set()
    frames = {name: read_layer(engine, name) for name in names}
    if not has_geometry(layer):
        frames[layer] = stored_records(engine, layer)
    ref = Reference.from_frames(frames, layer, today or district_today(), read_sequences(engine))
    return replace(ref, dispute_codes=_case_codes(engine)) if layer == "consultation_days" else ref


def stored_records(engine: Engine, layer: str) -> gpd.GeoDataFrame:
    """The stored rows of record layer ``layer`` as a GeoDataFrame without geometry, with ``code`` (for community
    resources: the community's code), as ``Reference.from_frames`` takes a target layer."""
    frame = read_table(engine, layer)
    if key_column(layer) != "code":
        frame["code"] = frame[key_column(layer)]
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([None] * len(frame), index=frame.index), crs="EPSG:4326")


@database_errors("读取案件编号")
def _case_codes(engine: Engine) -> frozenset[str]:
    with engine.connect() as conn:
        return frozenset(str(c) for c in conn.execute(select(schema.disputes.c.code)).scalars())


@database_errors("读取编码序列")
def read_sequences(engine: Engine) -> dict[str, int]:
    """Code prefix -> the highest number issued under it (see ``geo.ingest_match``)."""
    t = schema.code_sequences
    with engine.connect() as conn:
        return {p: int(n) for p, n in conn.execute(select(t.c.prefix, t.c.last))}


def preview_import(engine: Engine, source: bytes | str | Path, layer: str, filename: str | None = None, *,
                   mapping: dict[str, str] | None = None, encoding: str | None = None, crs: str | None = None,
                   sheet: str | int | None = None, repair: bool = False, check_shift: bool = True,
                   strict: bool = False, today: date | None = None) -> ImportPreview:
    """Read and validate ``source`` as ``layer``; nothing is written.

    ``source``: file bytes (then ``filename`` gives the type) or a path. ``mapping``: source
    column -> field, overriding the guess (``geo.ingest_fields.guess_mapping``). ``encoding``:
    e.g. ``gbk`` (default: detected). ``crs``: a key of ``geo.ingest_crs.CRS_CHOICES`` or
    ``EPSG:NNNN`` (default: detected). ``repair``: fix invalid polygons with make_valid.
    ``check_shift``: report GCJ-02/BD-09 coordinates declared as WGS84. ``strict``: the warnings
    (a missing 开工日期/完工日期/计划年度 that the status wants) are problems too. ``today``: the date rules
    are checked against (default: today in Fuzhou). Raises DataValidationError only for a file
    that cannot be read at all; every other problem is in ``preview.problems``.
    """
    check_layer(layer)
    src = read_source(source, filename, layer, encoding=encoding, sheet=sheet)
    ref = reference(engine, layer, today)
    prepared = prepare(src.table, layer, ref, geometry=src.geometry, declared_crs=src.declared_crs,
                       mapping=mapping, crs=crs, repair=repair, check_shift=check_shift, strict=strict)
    codes = set(prepared.frame["code"].dropna().astype(str)) if "code" in prepared.frame else set()
    same = (unchanged_codes(prepared.frame, ref.records, store_columns(prepared.frame, layer), layer)
            if layer in RECORD_LAYERS else frozenset())
    updates = len(codes & set(ref.existing.index)) - len(same)
    return ImportPreview(layer, src.filename, src, prepared, len(codes) - updates - len(same), updates, ref.existing,
                         same)


def row_states(prepared: Prepared, existing: gpd.GeoSeries | None) -> gpd.GeoDataFrame:
    """See ``ImportPreview.row_states``."""
    frame = prepared.frame
    reasons: dict[int, list[str]] = {}
    for p in prepared.problems:
        if p.row is not None:
            reasons.setdefault(int(p.row), []).append(f"{p.field}：{p.reason}" if p.field else p.reason)
    stored = existing[~existing.index.duplicated()] if existing is not None else pd.Series(dtype=object)
    codes = frame["code"] if "code" in frame else pd.Series([None] * len(frame), index=frame.index)
    labels = frame["name"] if "name" in frame else codes
    rows, states, why, before = [], [], [], []
    for row, code in zip(frame[ROW], codes):
        row = int(row)
        known = code is not None and code in stored.index
        rows.append(row)
        states.append("problem" if row in reasons else "update" if known else "new")
        why.append("；".join(reasons.get(row, [])))
        before.append(stored[code] if known else None)
    out = pd.DataFrame({ROW: rows, "state": states, "label": [_label(v, c) for v, c in zip(labels, codes)],
                        "reason": why, "stored_geom": pd.Series(before, dtype=object)})
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(frame.geometry.values), crs=frame.crs)


def _label(name, code) -> str:
    for value in (name, code):
        if value is not None and value == value and str(value).strip():
            return str(value)
    return ""


# ---------------------------------------------------------------- writing


def table_of(layer: str):
    """The stored table of ``layer``: a layer with geometry, or a record table (``schema.RECORD_TABLES``)."""
    return schema.GEO_TABLES.get(layer) if has_geometry(layer) else schema.RECORD_TABLES[layer]


def _key(table):
    """The column that identifies a row of ``table`` (``code``; a community's resources: ``community_code``)."""
    return table.c.code if "code" in table.c else table.c[key_column(table.name)]


def _rows(frame: gpd.GeoDataFrame, columns: list[str], spatial: bool = True) -> list[dict]:
    """Plain dicts for the insert: Python values, None for missing, geometry under ``geom`` (``spatial`` tables)."""
    plain = pd.DataFrame(frame[columns]).astype(object)
    plain = plain.where(plain.notna(), None)
    rows = plain.to_dict("records")
    for row, geom in zip(rows, frame.geometry.values if spatial else []):
        row["geom"] = geom
    return rows


def _upsert(conn: Connection, table, columns: list[str]):
    """INSERT … ON CONFLICT (key) DO UPDATE of ``columns`` (a record's version goes up by one)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table)
    key = _key(table)
    set_ = {c: stmt.excluded[c] for c in columns if c != key.name}
    if "version" in table.c:
        set_["version"] = table.c.version + 1
    return stmt.on_conflict_do_update(index_elements=[key], set_=set_)


def _existing_codes(conn: Connection, table, codes: list[str]) -> set[str]:
    return set(_existing(conn, table, codes, _key(table)))


def _existing(conn: Connection, table, codes: list[str], column) -> list:
    """``column`` of the stored rows whose key is in ``codes``."""
    found: list = []
    for i in range(0, len(codes), BATCH_ROWS):
        chunk = codes[i:i + BATCH_ROWS]
        found += conn.execute(select(column).where(_key(table).in_(chunk))).scalars().all()
    return found


@database_errors("确认导入", writing=True)
def commit_import(engine: Engine, preview: ImportPreview, account: Account | None, progress: Progress | None = None,
                  batch_rows: int = BATCH_ROWS) -> ImportResult:
    """Write ``preview`` in one transaction (all rows or none) with one audit entry; see the module doc.

    ``account`` is the acting account (``geo.access.system_operator`` for the command line): it must be
    logged in and may write every row's unit (sub-districts: district role only); otherwise
    PermissionDenied, nothing written and the refusal audited. Raises DataValidationError (writing
    nothing) when the preview has problems. A busy database re-runs the whole write (``progress`` then
    starts again from 0); ``DatabaseBusy`` / ``DatabaseUnavailable`` / ``DatabaseReadOnly`` when it cannot
    be written (nothing written).
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
    table, spatial = table_of(preview.layer), has_geometry(preview.layer)
    frame = preview.frame
    if preview.unchanged:  # rows equal to the stored record are not rewritten (their version stays)
        frame = frame[~frame["code"].astype(str).isin(preview.unchanged)]
    columns = store_columns(frame, preview.layer)
    rows = _rows(frame, columns, spatial)
    total = len(rows)
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        actor = _authorise(conn, account, preview).username
        _claim_codes(conn, table, preview)
        before = _existing_codes(conn, table, [r[_key(table).name] for r in rows])
        stmt = _upsert(conn, table, columns + (["geom"] if spatial else []))
        if progress:
            progress(0, total)
        for i in range(0, total, batch_rows):
            conn.execute(stmt, rows[i:i + batch_rows])
            if progress:
                progress(min(i + batch_rows, total), total)
        updated = len(before)
        after = {"file": preview.filename, "layer": preview.layer, "rows": total, "inserted": total - updated,
                 "updated": updated, "encoding": preview.source.encoding, "crs": preview.prepared.crs_key,
                 "repaired": len(preview.prepared.repairs), "unchanged": len(preview.unchanged)}
        audit(conn, actor, "import", preview.layer, None, None, after)
        audit_id = conn.execute(select(schema.audit_log.c.id).order_by(schema.audit_log.c.id.desc()).limit(1)).scalar()
    return ImportResult(preview.layer, total - updated, updated, int(audit_id))


def _claim_codes(conn: Connection, table, preview: ImportPreview) -> None:
    """Check that the codes issued in the preview are still free, and record them in the sequence table.

    ConflictError (nothing written) when another import took one of them after the preview."""
    matches = preview.prepared.matches
    if matches is None or not matches.issued:
        return
    issued = [str(c) for c, how in zip(matches.codes, matches.how) if how == "new"]
    taken = _existing_codes(conn, table, issued)
    seq = schema.code_sequences
    held = dict(conn.execute(select(seq.c.prefix, seq.c.last).where(seq.c.prefix.in_(list(matches.issued)))).all())
    overtaken = [p for p, n in matches.issued.items() if held.get(p, 0) >= n]
    if taken or overtaken:
        raise ConflictError(f"预览之后库中数据已有变化（编码 {'、'.join(sorted(taken)[:3] or overtaken[:3])} 已被占用），"
                            "未写入任何数据：请重新上传或重新预览后再确认导入")
    for prefix, number in matches.issued.items():
        if prefix in held:
            conn.execute(seq.update().where(seq.c.prefix == prefix).values(last=number))
        else:
            conn.execute(seq.insert().values(prefix=prefix, last=number))


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
    table = table_of(preview.layer)
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


@database_errors("读取导入记录")
def import_log(engine: Engine, limit: int = 200) -> pd.DataFrame:
    """The audit log's import entries, newest first (columns of ``audit_log``)."""
    t = schema.audit_log
    stmt = select(t).where(t.c.action == "import").order_by(t.c.id.desc()).limit(limit)
    with engine.connect() as conn:
        result = conn.execute(stmt)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


__all__ = ["ImportPreview", "ImportResult", "Progress", "ROW", "commit_import", "import_file", "import_log",
           "preview_import", "reference"]
