"""The import's plain logic, without widgets: options, the preview cache, the scope hint and the commit.

The page passes the uploaded bytes here; tests call these functions directly. A preview is kept in a
mapping (the page uses ``st.session_state``) under a key made of the file's SHA-256, the options
and the data version, so a rerun never parses the same file twice and a write makes it stale.
"""
from __future__ import annotations

import hashlib
from collections.abc import MutableMapping
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Engine

from data.ingest import ImportPreview, ImportResult, Progress, commit_import, preview_import
from data.ingest_read import read_source
from geo.access import Account, outside_scope
from geo.ingest_fields import LAYER_FIELDS, display_frame, guess_mapping

SKIP = "-"
"""The mapping target that leaves a source column out."""
AUTO = "自动"
ENCODINGS = (AUTO, "UTF-8", "GBK", "GB18030")
CACHE_KEY = "data_admin_preview"
COLUMNS_KEY = "data_admin_columns"
PREVIEW_ROWS = 20


@dataclass(frozen=True)
class ImportOptions:
    """How to read a file. ``encoding``/``crs``/``sheet`` None: detect. ``mapping``: (source column, field or
    ``-``) pairs for every column, or empty for the automatic guess."""

    layer: str
    encoding: str | None = None
    crs: str | None = None
    sheet: str | None = None
    repair: bool = False
    mapping: tuple[tuple[str, str], ...] = field(default=())

    def mapping_dict(self) -> dict[str, str] | None:
        """Source column -> field without skipped columns; None for the automatic guess."""
        if not self.mapping:
            return None
        return {c: f for c, f in self.mapping if f and f != SKIP}


def digest(data: bytes) -> str:
    """SHA-256 of the file's bytes (hex)."""
    return hashlib.sha256(data).hexdigest()


def cache_key(data: bytes, filename: str, options: ImportOptions, version: int) -> str:
    """What identifies a preview: file bytes and name, every option, and the data version it was checked at."""
    return f"{digest(data)}|{filename}|{options!r}|{version}"


def source_columns(data: bytes, filename: str, options: ImportOptions) -> list[str]:
    """The file's column headers as read with ``options`` (DataValidationError when unreadable)."""
    src = read_source(data, filename, options.layer, encoding=options.encoding, sheet=options.sheet)
    return [str(c) for c in src.columns]


def cached_columns(data: bytes, filename: str, options: ImportOptions, cache: MutableMapping) -> list[str]:
    """``source_columns``, kept for the latest file and reading options (an Excel file is not re-opened per rerun)."""
    key = f"{digest(data)}|{filename}|{options.layer}|{options.encoding}|{options.sheet}"
    held = cache.get(COLUMNS_KEY)
    if held is None or held[0] != key:
        held = (key, source_columns(data, filename, options))
        cache[COLUMNS_KEY] = held
    return list(held[1])


def default_mapping(columns: list[str], layer: str) -> list[tuple[str, str]]:
    """Every column with its guessed field (``-`` where none fits), for the mapping editor."""
    guess = guess_mapping(columns, layer)
    return [(c, guess.get(c, SKIP)) for c in columns]


def field_labels(layer: str) -> dict[str, str]:
    """Field name -> ``label`` with ``*`` on required fields, for the mapping editor's choices."""
    return {s.name: s.label + ("*" if s.required else "") for s in LAYER_FIELDS[layer]}


def make_preview(engine: Engine, data: bytes, filename: str, options: ImportOptions) -> ImportPreview:
    """``preview_import`` of the bytes with ``options``; nothing is written."""
    return preview_import(engine, data, options.layer, filename, mapping=options.mapping_dict(),
                          encoding=options.encoding, crs=options.crs, sheet=options.sheet, repair=options.repair)


def cached_preview(engine: Engine, data: bytes, filename: str, options: ImportOptions, version: int,
                   cache: MutableMapping) -> ImportPreview:
    """The preview from ``cache`` when the same file, options and data version were checked last; else a new one.

    Only the latest preview is kept, so the session never holds more than one parsed file."""
    key = cache_key(data, filename, options, version)
    held = cache.get(CACHE_KEY)
    if held is not None and held[0] == key:
        return held[1]
    preview = make_preview(engine, data, filename, options)
    cache[CACHE_KEY] = (key, preview)
    return preview


def forget_preview(cache: MutableMapping) -> None:
    """Drop the cached preview (after a write it no longer tells inserts from updates)."""
    cache.pop(CACHE_KEY, None)


def unit_column(layer: str) -> str | None:
    """The column naming a row's unit: none for sub-districts, the code for communities, else its community."""
    return None if layer == "streets" else "code" if layer == "communities" else "community_code"


def scope_hint(preview: ImportPreview, account: Account | None) -> list[str]:
    """Units of the preview's rows outside ``account``'s scope (a hint only: the store decides on commit)."""
    if account is None:
        return []
    column = unit_column(preview.layer)
    if column is None:
        return [] if outside_scope(account, [""]) == [] else ["（街道只能由区级管理员导入）"]
    frame = preview.frame
    return outside_scope(account, frame[column]) if column in frame else []


def preview_table(preview: ImportPreview, rows: int = PREVIEW_ROWS) -> pd.DataFrame:
    """The first ``rows`` clean rows with Chinese headers (points with 经度/纬度, WGS84)."""
    head = preview.frame.head(rows)
    if head.empty:
        return pd.DataFrame()
    shown = display_frame(head, preview.layer, coordinates="lonlat" if head.geom_type.eq("Point").all() else "none")
    table = pd.DataFrame(shown.drop(columns=shown.geometry.name))
    for col in table.columns:  # blank text cells read better than None
        if not pd.api.types.is_numeric_dtype(table[col]) and table[col].dropna().map(type).eq(str).all():
            table[col] = table[col].astype(object).where(table[col].notna(), "")
    return table


def commit(engine: Engine, preview: ImportPreview, account: Account | None,
           progress: Progress | None = None) -> ImportResult:
    """Write the preview as ``account`` (see ``data.ingest.commit_import``; its errors pass through)."""
    return commit_import(engine, preview, account, progress)


def result_message(result: ImportResult) -> str:
    """The success line: counts and the audit entry."""
    return f"导入完成：新增 {result.inserted} 条、更新 {result.updated} 条（操作日志编号 {result.audit_id}）"
