"""The import's plain logic, without widgets: options, the preview cache, the scope hint and the commit.

The page passes the uploaded bytes here; tests call these functions directly. A preview is kept in a
mapping (the page uses ``st.session_state``) under a key made of the file's SHA-256, the options
and the data version, so a rerun never parses the same file twice and a write makes it stale. The
preview's map (``layers.import_preview``) is kept beside it under the same key.
"""
from __future__ import annotations

import hashlib
from collections.abc import MutableMapping
from dataclasses import dataclass, field

import folium
import geopandas as gpd
import pandas as pd
from sqlalchemy import Engine

from data.ingest import ImportPreview, ImportResult, Progress, commit_import, preview_import, read_source
from geo.access import Account, outside_scope
from geo.ingest_fields import LAYER_FIELDS, display_frame, display_records, guess_mapping
from geo.ingest_problems import ROW
from geo.ingest_records import UNCHANGED
from geo.settings import Settings
from geo.vocab import ImportRowState
from layers.assets import streamlit_mode
from layers.import_preview import (
    COLOUR_WORDS,
    MOVED_M,
    moved_updates,
    outside_view,
    preview_map,
    state_counts,
    without_geometry,
)

SKIP = "-"
"""The mapping target that leaves a source column out."""
AUTO = "自动"
ENCODINGS = (AUTO, "UTF-8", "GBK", "GB18030")
CACHE_KEY = "data_admin_preview"
COLUMNS_KEY = "data_admin_columns"
MAP_KEY = "data_admin_preview_map"
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
    strict: bool = False

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
                          encoding=options.encoding, crs=options.crs, sheet=options.sheet, repair=options.repair,
                          strict=options.strict)


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
    """Drop the cached preview and its map (after a write it no longer tells inserts from updates)."""
    cache.pop(CACHE_KEY, None)
    cache.pop(MAP_KEY, None)


@dataclass(frozen=True)
class PreviewMap:
    """The map of a preview's records over the stored units, and the counts its caption gives."""

    map: folium.Map
    counts: dict[ImportRowState, int]
    moved: int
    """Updates whose position moved more than ``MOVED_M`` metres from the stored record."""
    outside: int
    """Records with a position outside the map's view (lon/lat swapped, another city …)."""
    missing: int
    """Records without a geometry to draw."""

    @property
    def drawable(self) -> int:
        """Records with a geometry (inside the view or not)."""
        return sum(self.counts.values()) - self.missing


def build_preview_map(preview: ImportPreview, units: gpd.GeoDataFrame, settings: Settings,
                      prefix: str) -> PreviewMap:
    """The preview's map (``layers.import_preview.preview_map``; assets served under ``prefix``) and its counts."""
    rows = preview.row_states()
    m = preview_map(rows, units, asset_mode=streamlit_mode(settings.asset_mode), prefix=prefix, settings=settings)
    return PreviewMap(m, state_counts(rows), len(moved_updates(rows)), outside_view(rows, units),
                      without_geometry(rows))


def cached_preview_map(preview: ImportPreview, units: gpd.GeoDataFrame, settings: Settings, prefix: str,
                       scope: str, cache: MutableMapping) -> PreviewMap:
    """``build_preview_map``, kept beside the cached preview (same file, options, data version) per ``scope``.

    A preview that is not the cached one (``cached_preview`` was not used) is mapped without keeping it."""
    held = cache.get(CACHE_KEY)
    if held is None or held[1] is not preview:
        return build_preview_map(preview, units, settings, prefix)
    key = f"{held[0]}|{scope}|{settings.basemap}"
    kept = cache.get(MAP_KEY)
    if kept is None or kept[0] != key:
        kept = (key, build_preview_map(preview, units, settings, prefix))
        cache[MAP_KEY] = kept
    return kept[1]


def map_caption(pm: PreviewMap) -> str:
    """One line: records per colour, and how many updates moved."""
    parts = [f"{s.label}（{COLOUR_WORDS[s]}）{n} 条" for s, n in pm.counts.items()]
    line = "地图：" + " · ".join(parts)
    if pm.moved:
        line += f"；{pm.moved} 条更新与库中位置相距超过 {MOVED_M:.0f} 米（灰色虚线由库中位置指向文件位置）"
    return line


def map_notes(pm: PreviewMap) -> list[str]:
    """Warnings under the map: records outside its view, records without a geometry."""
    notes = []
    if pm.outside:
        notes.append(f"{pm.outside} 条记录位于地图范围以外（见问题清单）")
    if pm.missing:
        notes.append(f"{pm.missing} 条记录没有可用的坐标或几何，未画在地图上（见问题清单）")
    return notes


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


def _readable(table: pd.DataFrame) -> pd.DataFrame:
    """Blank text cells as "" (reads better than None)."""
    for col in table.columns:
        if not pd.api.types.is_numeric_dtype(table[col]) and table[col].dropna().map(type).eq(str).all():
            table[col] = table[col].astype(object).where(table[col].notna(), "")
    return table


RESULT_COLUMN = "导入结果"


def record_preview(preview: ImportPreview) -> pd.DataFrame:
    """Every record of a file of a layer without geometry, in place of the preview map: 行号, 导入结果 (新增, 更新,
    与库中相同 or 有问题), 问题 (that row's problems), then its fields with Chinese headers (dates as dates)."""
    frame = preview.frame
    if frame.empty:
        return pd.DataFrame()
    states = preview.row_states()
    codes = frame["code"].astype(object) if "code" in frame else pd.Series([None] * len(frame), index=frame.index)
    result = [UNCHANGED if s == ImportRowState.UPDATE.value and str(c) in preview.unchanged
              else ImportRowState(s).label for s, c in zip(states["state"], codes)]
    shown = display_records(pd.DataFrame(frame.drop(columns=frame.geometry.name)), preview.layer)
    for spec in LAYER_FIELDS[preview.layer]:
        if spec.kind == "date" and spec.label in shown:
            shown[spec.label] = [None if pd.isna(v) else v.date() for v in shown[spec.label]]
    head = pd.DataFrame({"行号": states[ROW].values, RESULT_COLUMN: result, "问题": states["reason"].values})
    return _readable(pd.concat([head, shown.reset_index(drop=True)], axis=1))


def commit(engine: Engine, preview: ImportPreview, account: Account | None,
           progress: Progress | None = None) -> ImportResult:
    """Write the preview as ``account`` (see ``data.ingest.commit_import``; its errors pass through)."""
    return commit_import(engine, preview, account, progress)


def result_message(result: ImportResult) -> str:
    """The success line: counts and the audit entry."""
    return f"导入完成：新增 {result.inserted} 条、更新 {result.updated} 条（操作日志编号 {result.audit_id}）"
