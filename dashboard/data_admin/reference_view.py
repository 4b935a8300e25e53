"""参考图层 view: the roads, buildings, water and place names drawn as a light basemap under the overlays.

Everyone sees what is stored per kind (features, when, from which file). The district role uploads a GIS file
(GeoPackage, zipped Shapefile, GeoJSON), chooses the kind, reads the preview (features by type, the coordinate
system and how it was found, every problem by feature and reason) and presses 「替换」, which replaces every
stored feature of that kind in one transaction (``data.reference_import``); it may also clear a kind. Other roles
read a sentence saying why they cannot change them. The store checks the role again on every write.
"""
from __future__ import annotations

import hashlib
from collections.abc import MutableMapping
from dataclasses import dataclass

import pandas as pd
import shapely
import streamlit as st

from dashboard.context import PageContext, engine
from dashboard.data_admin.import_view import uploaded
from dashboard.tables import show_table
from dashboard.text import md_escape
from data.audit_query import beijing_text
from data.incidents import incident_message, record_incident
from data.reference_import import (
    ReferencePreview,
    clear_reference,
    commit_reference,
    preview_reference,
    reference_status,
    vector_layers,
)
from geo.access import Account
from geo.errors import GuloError, PermissionDenied
from geo.ingest_crs import CRS_CHOICES
from geo.reference_fields import FIELD_LABELS, NAME, SUBTYPE, type_word
from geo.vocab import ReferenceKind, Role

UPLOAD_KEY = "data_admin_reference_upload"
"""Session key of an injected upload ``(filename, bytes)``, read when the file widget is empty (tests)."""
RESULT_KEY = "data_admin_reference_result"
CACHE_KEY = "data_admin_reference_preview"
ROUND_KEY = "data_admin_reference_round"
"""Counts replacements: part of the uploader's key, so a written file leaves the uploader empty."""
FILE_TYPES = ["gpkg", "zip", "geojson", "json"]
ENCODINGS = ("自动", "UTF-8", "GBK", "GB18030")
NONE = "（不使用）"
PREVIEW_ROWS = 20
NOTHING = "没有需要列出的内容。"
WHY_NOT = (f"参考图层是全区共用的底图，只有{Role.DISTRICT.label}可以导入、替换或清空；"
           f"如需更新，请把单位的 GIS 文件（GeoPackage、Shapefile 或 GeoJSON）交给{Role.DISTRICT.label}。")


@dataclass(frozen=True)
class Options:
    """How to read the file: kind, encoding / system / GeoPackage layer (None: detect), and the column mapping
    (file column -> ``name``/``subtype``/``-`` for every column; None: the guess)."""

    kind: str
    encoding: str | None = None
    crs: str | None = None
    layer: str | None = None
    mapping: tuple[tuple[str, str], ...] | None = None


def may_change(account: Account | None) -> bool:
    """Whether the view offers the upload and 清空 (the store decides on every write)."""
    return account is not None and account.active and account.role is Role.DISTRICT


def status_table(status: pd.DataFrame) -> pd.DataFrame:
    """``reference_status`` with Chinese headers: 图层, 要素数, 导入时间（北京）, 来源文件 (None where empty)."""
    return pd.DataFrame({
        "图层": status["label"], "要素数": status["count"].astype(int),
        "导入时间（北京）": [beijing_text(t) or None if n else None for t, n in zip(status["imported_at"], status["count"])],
        "来源文件": [s if n else None for s, n in zip(status["source"], status["count"])]})


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def cached_preview(eng, data: bytes, filename: str, options: Options, version: int,
                   cache: MutableMapping) -> ReferencePreview:
    """The preview of the latest file, options and data version (one kept); a new one otherwise."""
    key = f"{digest(data)}|{filename}|{options!r}|{version}"
    held = cache.get(CACHE_KEY)
    if held is not None and held[0] == key:
        return held[1]
    mapping = dict(options.mapping) if options.mapping else None
    preview = preview_reference(eng, data, filename, options.kind, crs=options.crs, encoding=options.encoding,
                                sheet=options.layer, mapping=mapping)
    cache[CACHE_KEY] = (key, preview)
    return preview


def full_mapping(columns: list[str], name: str | None, subtype: str | None) -> tuple[tuple[str, str], ...]:
    """Every column with its field: the chosen name and class columns, ``-`` for the others."""
    return tuple((c, NAME if c == name else SUBTYPE if c == subtype else "-") for c in columns)


def head_table(preview: ReferencePreview, rows: int = PREVIEW_ROWS) -> pd.DataFrame:
    """The first ``rows`` features: 序号, 名称, 类别, 几何, 经度, 纬度 (a point on it, WGS84)."""
    head = preview.frame.head(rows)
    points = [None if g is None else shapely.point_on_surface(g) for g in head.geometry.values]
    return pd.DataFrame({"序号": head["_row"].astype(int).values, FIELD_LABELS[NAME]: head[NAME].values,
                         FIELD_LABELS[SUBTYPE]: head[SUBTYPE].values,
                         "几何": [None if g is None else type_word(g.geom_type) for g in head.geometry.values],
                         "经度": [None if p is None else round(p.x, 6) for p in points],
                         "纬度": [None if p is None else round(p.y, 6) for p in points]})


# ---------------------------------------------------------------- widgets


def _uploaded() -> tuple[str, bytes] | None:
    return uploaded("选择 GIS 文件（GeoPackage .gpkg、Shapefile 压缩包 .zip、GeoJSON）", FILE_TYPES,
                    f"ref_file_{st.session_state.get(ROUND_KEY, 0)}",
                    "Shapefile 请把 .shp、.shx、.dbf、.prj（如有）一起压缩成 .zip；先预览核对，按「替换」后才写入数据库。",
                    UPLOAD_KEY)


def _layers(data: bytes, filename: str) -> list[str]:
    try:
        return vector_layers(data, filename)
    except GuloError:
        return []  # the preview says why the file cannot be read


def _options(kind: str, filename: str, data: bytes) -> Options:
    """Encoding, system, GeoPackage layer and, once a preview showed the columns, the chosen name/class columns."""
    c1, c2, c3 = st.columns([1, 2, 1])
    encoding = c1.selectbox("文件编码", ENCODINGS, key="ref_encoding", help="自动：Shapefile 无 .cpg 时逐字节判断 UTF-8 或 GBK")
    crs = c2.selectbox("坐标系", ["", *CRS_CHOICES], key="ref_crs", format_func=lambda k: CRS_CHOICES[k][1] if k else
                       "自动识别（文件声明的，否则按坐标范围）")
    layers = _layers(data, filename)
    layer = c3.selectbox("GeoPackage 图层", ["", *layers], key=f"ref_layer_{digest(data)[:12]}",
                         format_func=lambda n: n or "自动（按图层名）") if len(layers) > 1 else ""
    token = _token(kind, data, layer)
    mapping = None
    held = st.session_state.get(CACHE_KEY)
    chosen = [st.session_state.get(f"ref_{w}_{token}") for w in (NAME, SUBTYPE)]
    if held is not None and None not in chosen and all(c == NONE or c in held[1].columns for c in chosen):
        mapping = full_mapping(held[1].columns, *[None if c == NONE else c for c in chosen])
    return Options(kind, None if encoding == ENCODINGS[0] else encoding.lower(), crs or None, layer or None, mapping)


def _token(kind: str, data: bytes, layer: str | None) -> str:
    """What the column choices belong to: the file, its kind and layer."""
    return f"{kind}_{digest(data)[:12]}_{digest((layer or '').encode())[:6]}"


def _columns(preview: ReferencePreview, data: bytes, layer: str | None) -> None:
    """The name and class column choices, set to what the preview used (a change re-checks the file)."""
    token = _token(preview.kind.value, data, layer)
    choices = [NONE, *preview.columns]
    c1, c2 = st.columns(2)
    for col, fld in ((c1, NAME), (c2, SUBTYPE)):
        used = preview.fields.get(fld, NONE)
        col.selectbox(f"{FIELD_LABELS[fld]}列", choices, index=choices.index(used) if used in choices else 0,
                      key=f"ref_{fld}_{token}", help="按列名自动识别；可改选文件中的其他列，或不使用")


REPORT_COLUMNS = {"行号": st.column_config.TextColumn(width="small"), "字段": st.column_config.TextColumn(width="small"),
                  "值": st.column_config.TextColumn(width="medium"), "问题": st.column_config.TextColumn(width="large")}


def _show(preview: ReferencePreview) -> None:
    (st.success if preview.ok else st.error)(md_escape(preview.summary))
    for note in preview.notes:
        st.info(md_escape(note), icon=":material/info:")
    cols = st.columns(4)
    cols[0].metric("要素数", f"{len(preview.frame):,}")
    cols[1].metric("问题", f"{len(preview.problems):,}")
    cols[2].metric("修复", f"{len(preview.repairs):,}", help="用 make_valid 修复的几何，以及地名由面改取的代表点")
    cols[3].metric(f"库中现有{preview.kind.label}", f"{preview.stored:,}", help="按「替换」后全部由本文件的要素代替")
    if preview.problems:
        st.markdown(f"**问题清单（共 {len(preview.problems):,} 个，全部列出；修改文件后重新上传）**")
        show_table(preview.problem_table, NOTHING, hide_index=True, width="stretch", key="ref_problems",
                   column_config=REPORT_COLUMNS)
    if preview.repairs:
        st.markdown(f"**已修复或改取代表点的几何：{len(preview.repairs):,} 处**")
        show_table(preview.repair_table, NOTHING, hide_index=True, width="stretch", key="ref_repairs",
                   column_config=REPORT_COLUMNS)
    st.markdown(f"**前 {min(PREVIEW_ROWS, len(preview.frame))} 个要素（已换算为 WGS84）**")
    show_table(head_table(preview), "文件中没有要素。", hide_index=True, width="stretch", key="ref_head",
               column_config={c: st.column_config.NumberColumn(format="%.5f") for c in ("经度", "纬度")})


def _replace(ctx: PageContext, preview: ReferencePreview, account: Account) -> None:
    """「替换」: enabled for a clean preview; replaces the kind in one transaction."""
    if not preview.ok:
        st.caption("文件中还有问题，不能替换：请按问题清单修改文件（或改选坐标系、编码、图层）后重新上传。")
    st.caption(f"按「替换」将删除库中全部 {preview.stored:,} 个{preview.kind.label}要素，"
               f"换为本文件的 {len(preview.frame):,} 个；其他类型的参考图层不受影响。")
    if not st.button("替换", type="primary", key="ref_replace", disabled=not preview.ok):
        return
    try:
        with st.spinner("正在写入…"):
            written = commit_reference(engine(ctx), preview, account)
    except PermissionDenied as exc:
        st.error(f"替换被拒绝，未写入任何数据：{md_escape(exc)}")
        return
    except GuloError as exc:
        st.error(f"未替换，未写入任何数据：{md_escape(exc)}")
        return
    except Exception as exc:  # noqa: BLE001 - anything else: a Chinese sentence and an incident id, never a traceback
        st.error(incident_message(record_incident(exc, "数据管理 替换参考图层"), "替换参考图层", outcome="未写入任何数据"))
        return
    for key in (CACHE_KEY, UPLOAD_KEY):
        st.session_state.pop(key, None)
    st.session_state[ROUND_KEY] = st.session_state.get(ROUND_KEY, 0) + 1
    st.session_state[RESULT_KEY] = f"已替换{preview.kind.label}图层：原有 {preview.stored:,} 个要素，现有 {written:,} 个"
    st.rerun()


def _clear(ctx: PageContext, status: pd.DataFrame, account: Account) -> None:
    """清空: one kind at a time, after ticking the confirmation."""
    held = [k for k, n in zip(status["kind"], status["count"]) if n]
    if not held:
        return
    with st.expander("清空某类参考图层", icon=":material/delete:"):
        kind = st.selectbox("图层", held, key="ref_clear_kind", format_func=lambda k: ReferenceKind(k).label)
        sure = st.checkbox(f"确认删除库中全部{ReferenceKind(kind).label}要素", key="ref_clear_sure")
        if not st.button("清空", key="ref_clear", disabled=not sure):
            return
        try:
            removed = clear_reference(engine(ctx), kind, account)
        except GuloError as exc:
            st.error(f"未清空：{md_escape(exc)}")
            return
        st.session_state[RESULT_KEY] = f"已清空{ReferenceKind(kind).label}图层：删除 {removed:,} 个要素"
        st.rerun()


def _upload(ctx: PageContext, account: Account) -> None:
    """Kind, file, options, preview and 「替换」."""
    kinds = [k.value for k in ReferenceKind]
    kind = st.selectbox("图层类型", kinds, key="ref_kind", format_func=lambda k: ReferenceKind(k).label)
    upload = _uploaded()
    if upload is None:
        st.info("上传文件后先显示校验预览；按「替换」前不会写入任何数据。")
        return
    filename, data = upload
    try:
        options = _options(kind, filename, data)
        with st.spinner("正在读取并校验…"):
            preview = cached_preview(engine(ctx), data, filename, options, ctx.version, st.session_state)
    except GuloError as exc:
        said = str(exc)
        st.error(md_escape(said if filename in said else f"无法读取“{filename}”：{said}"))
        return
    except Exception as exc:  # noqa: BLE001 - an unexpected failure on any file: no traceback reaches the page
        st.error(incident_message(record_incident(exc, f"数据管理 参考图层预览 {filename!r}"), "读取并校验文件",
                                  outcome="未写入任何数据"))
        return
    if preview.columns:
        _columns(preview, data, options.layer)
    _show(preview)
    _replace(ctx, preview, account)


def reference_view(ctx: PageContext, account: Account | None) -> None:
    """The whole 参考图层 view."""
    done = st.session_state.pop(RESULT_KEY, None)
    if done:
        st.success(md_escape(done), icon=":material/check_circle:")
    st.caption("道路、建筑、水系、地名画在地图最底层作浅色底图，便于在内网无在线底图时辨认位置。"
               "示例数据不含参考图层：请导入本单位的 GIS 数据。")
    status = reference_status(engine(ctx))
    show_table(status_table(status), NOTHING, hide_index=True, width="stretch", key="ref_status")
    if not may_change(account):
        st.info(WHY_NOT + ("" if account is not None else "（请先在左侧边栏登录）"), icon=":material/lock:")
        return
    _clear(ctx, status, account)
    st.markdown("**导入并替换**")
    _upload(ctx, account)
