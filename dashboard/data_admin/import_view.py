"""导入 view: choose a layer and a file, adjust the column mapping, read the preview and its map, then 确认导入.

Nothing is written before 确认导入; the button needs a clean preview and a logged-in account. The
store decides whether the account may write every row (refusals are audited and shown here).
"""
from __future__ import annotations

import copy

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from dashboard.context import PageContext, engine
from dashboard.data_admin import importing as imp
from dashboard.mapview import STATIC_PREFIX, serve_assets
from dashboard.tables import show_table
from dashboard.text import md_escape
from data.exchange import CASE_LAYER
from data.incidents import incident_message, record_incident
from data.ingest import ImportPreview, sheet_names
from geo.access import Account
from geo.errors import GuloError, PermissionDenied
from geo.ingest_crs import CRS_CHOICES, crs_label
from geo.ingest_fields import LAYER_LABELS, has_geometry
from geo.ingest_records import UNCHANGED
from geo.vocab import ImportRowState

NOTHING = "没有需要列出的记录。"
"""In place of a preview table without rows (each is drawn only when it has some)."""
UPLOAD_KEY = "data_admin_upload"
"""Session key of an injected upload ``(filename, bytes)``, read when the file widget is empty (tests)."""
RESULT_KEY = "data_admin_result"
FILE_TYPES = ["geojson", "json", "gpkg", "zip", "csv", "txt", "xlsx", "xlsm", "xls"]
AUTO_SHEET = "自动"
AUTO_CRS = ""
MAP_HEIGHT = 480


def uploaded(label: str, types, key: str, help_text: str, injected: str) -> tuple[str, bytes] | None:
    """(file name, bytes) of the file chosen in an uploader (``label``, ``types``, widget ``key``), or of one a
    test injected into ``st.session_state[injected]``."""
    file = st.file_uploader(label, type=types, key=key, help=help_text)
    if file is not None:
        return file.name, file.getvalue()
    return st.session_state.get(injected)


def _uploaded() -> tuple[str, bytes] | None:
    """(file name, bytes) of the uploaded file, or of an injected one."""
    return uploaded("选择文件（GeoJSON、GeoPackage、Shapefile 压缩包 .zip、CSV、Excel）", FILE_TYPES, "imp_file",
                    f"点击“选择文件”或把文件拖放到框内；单个文件不超过 {st.get_option('server.maxUploadSize')}MB。"
                    "先预览核对，确认后才写入数据库。", UPLOAD_KEY)


def _sheets(data: bytes, filename: str) -> list[str]:
    """Worksheet names of an Excel workbook (none when it cannot be opened: the preview then says why)."""
    try:
        return sheet_names(data, filename)
    except GuloError:
        return []


def _read_options(layer: str, filename: str, data: bytes) -> imp.ImportOptions:
    """Encoding, CRS, sheet and repair choices (the mapping comes later); a layer without geometry has no CRS or
    repair to choose."""
    c1, c2, c3 = st.columns([1, 2, 1])
    encoding = c1.selectbox("文件编码", imp.ENCODINGS, key="imp_encoding",
                            help="自动：按 UTF-8 / GBK / GB18030 检测；Shapefile 无 .cpg 时逐字节判断")
    spatial = has_geometry(layer)
    crs_keys = [AUTO_CRS, *CRS_CHOICES]
    crs = c2.selectbox("坐标系", crs_keys, key="imp_crs",
                       format_func=lambda k: CRS_CHOICES[k][1] if k else "自动识别") if spatial else AUTO_CRS
    sheet = None
    if filename.lower().endswith((".xlsx", ".xlsm", ".xls")):
        names = _sheets(data, filename)
        chosen = c3.selectbox("工作表", [AUTO_SHEET, *names], key="imp_sheet",
                              help="自动：使用表头与所选图层最相符的工作表") if len(names) > 1 else AUTO_SHEET
        sheet = None if chosen == AUTO_SHEET else chosen
    if not spatial:
        c2.caption(f"{LAYER_LABELS[layer]}没有地图位置：文件不需要经纬度，预览以表格列出每条记录。")
        return imp.ImportOptions(layer, None if encoding == imp.AUTO else encoding.lower(), None, sheet)
    c4, c5 = st.columns(2)
    repair = c4.checkbox("修复无效几何（make_valid）", key="imp_repair",
                         help="自相交等无效的面用 make_valid 修复，每处修复都列在预览中")
    strict = c5.checkbox("严格模式（提示也视为错误）", key="imp_strict",
                         help="默认：状态所需但缺失的开工日期、完工日期、计划年度只作提示，照常导入；勾选后这些行不能导入")
    return imp.ImportOptions(layer, None if encoding == imp.AUTO else encoding.lower(), crs or None, sheet, repair,
                             strict=strict)


def _mapping(options: imp.ImportOptions, filename: str, data: bytes) -> imp.ImportOptions:
    """The mapping editor (source column → field, prefilled with the guess); the options with its result."""
    columns = imp.cached_columns(data, filename, options, st.session_state)
    labels = imp.field_labels(options.layer)
    choices = [imp.SKIP, *labels.values()]
    by_label = {v: k for k, v in labels.items()}
    table = pd.DataFrame([(c, labels.get(f, imp.SKIP)) for c, f in imp.default_mapping(columns, options.layer)],
                         columns=["文件中的列", "对应字段"])
    with st.expander(f"列映射（{len(columns)} 列；* 为必填字段，“-” 表示不导入）", expanded=False):
        edited = st.data_editor(
            table, hide_index=True, width="stretch", disabled=["文件中的列"],
            key=f"imp_map_{options.layer}_{imp.digest(data)[:12]}",
            column_config={"对应字段": st.column_config.SelectboxColumn(options=choices, required=True)})
    pairs = tuple((str(c), by_label.get(f, imp.SKIP)) for c, f in zip(edited["文件中的列"], edited["对应字段"]))
    return imp.ImportOptions(options.layer, options.encoding, options.crs, options.sheet, options.repair, pairs,
                             options.strict)


def _use_crs(key: str) -> None:
    """Choose the coordinate system the shift check found (the next run re-validates with it)."""
    st.session_state["imp_crs"] = key


def _metrics(preview: ImportPreview) -> None:
    """新增 / 更新 / 问题 / 提示 / 跳过的行 counts in one row."""
    p = preview.prepared
    cols = st.columns(5)
    cols[0].metric(ImportRowState.NEW.label, f"{preview.inserts}")
    cols[1].metric(ImportRowState.UPDATE.label, f"{preview.updates}",
                   help=f"其中无编码、按社区和名称匹配到库中记录的 {preview.matched} 条" if preview.matched else None)
    cols[2].metric("问题", f"{len(p.problems)}")
    if has_geometry(preview.layer):
        cols[3].metric("提示", f"{len(p.warnings)}")
    else:
        cols[3].metric(UNCHANGED, f"{len(preview.unchanged)}", help="与库中记录完全相同的行，确认导入时不改动")
    cols[4].metric("跳过的行", f"{len(preview.skipped)}")


def _preview_map(ctx: PageContext, preview: ImportPreview) -> None:
    """地图预览: the file's records over the stored communities, coloured by what 确认导入 would do."""
    st.markdown("**地图预览**（确认导入前不会写入；灰色为库中社区界线）")
    try:
        pm = imp.cached_preview_map(preview, ctx.layer("communities"), ctx.settings, STATIC_PREFIX,
                                    ctx.scope.code, st.session_state)
    except GuloError as exc:
        st.error(f"无法绘制地图预览：{md_escape(exc)}")
        return
    if pm.drawable:
        serve_assets()
        # A fresh copy of the kept map each rerun keeps the component's key and payload stable.
        st_folium(copy.deepcopy(pm.map), height=MAP_HEIGHT, use_container_width=True, returned_objects=[],
                  key="imp_preview_map")
    st.caption(imp.map_caption(pm))
    for note in imp.map_notes(pm):
        st.warning(md_escape(note), icon=":material/wrong_location:")


def _record_table(preview: ImportPreview) -> None:
    """In place of the map for a layer without geometry: every record with what 确认导入 would do with it."""
    table = imp.record_preview(preview)
    st.markdown(f"**记录预览（{len(table)} 条；{md_escape(LAYER_LABELS[preview.layer])}没有地图位置，以表格代替地图）**")
    if not table.empty:
        show_table(table, NOTHING, hide_index=True, width="stretch", key="imp_records")


def _report_tables(preview: ImportPreview) -> None:
    """提示 (warnings), rows skipped as not records, and repaired geometries: each listed in full when present."""
    for frame, title, key in ((preview.warnings, "提示（不影响导入；之后编辑该记录时须补填）", "imp_warnings"),
                              (preview.skipped, "已跳过的非数据行（合计、说明、空行、重复表头等）", "imp_skipped"),
                              (preview.repairs, "已修复的几何", "imp_repairs")):
        if len(frame):
            st.markdown(f"**{title}：{len(frame)} 处**")
            show_table(frame, NOTHING, hide_index=True, width="stretch", key=key)


def _show_preview(ctx: PageContext, preview: ImportPreview, account: Account | None) -> None:
    """Summary, counts, the shift check, the map, problems (all of them), repairs and the first rows."""
    (st.success if preview.ok else st.error)(md_escape(preview.summary))
    for note in preview.notes:
        st.info(md_escape(note), icon=":material/info:")
    p = preview.prepared
    _metrics(preview)
    if p.shift is not None:
        st.warning(md_escape(p.shift.message), icon=":material/location_on:")
        st.button(f"改按 {crs_label(p.shift.key)} 重新校验", key="imp_use_shift", on_click=_use_crs, args=(p.shift.key,))
    if has_geometry(preview.layer):
        _preview_map(ctx, preview)
    else:
        _record_table(preview)
    if not preview.ok:
        st.markdown(f"**问题清单（共 {len(p.problems)} 个，全部列出；修改文件或映射后重新上传）**")
        show_table(preview.problems, NOTHING, hide_index=True, width="stretch", key="imp_problems")
    _report_tables(preview)
    outside = imp.scope_hint(preview, account)
    if outside:
        st.warning(f"提示：有 {len(outside)} 个区划不在您的辖区（{md_escape(account.where)}）内，确认导入时将被拒绝："
                   + md_escape("、".join(c or "（无区划）" for c in outside[:10])), icon=":material/lock:")
    head = imp.preview_table(preview) if has_geometry(preview.layer) else pd.DataFrame()
    if not head.empty:
        st.markdown(f"**前 {len(head)} 行预览（已换算为 WGS84）**")
        show_table(head, NOTHING, hide_index=True, width="stretch", key="imp_head")


def _confirm(ctx: PageContext, preview: ImportPreview, account: Account | None) -> None:
    """确认导入 (enabled for a clean preview and a logged-in account); writes with a progress bar."""
    if account is None:
        st.caption("确认导入需要登录：请在左侧边栏登录（预览和校验无需登录）。")
    if not preview.ok:
        st.caption("文件中还有问题，不能导入：请按问题清单修改文件（或调整列映射、编码、坐标系）后重新上传。")
    if not st.button("确认导入", type="primary", key="imp_confirm", disabled=not (preview.ok and account)):
        return
    bar = st.progress(0.0, text="正在写入…")

    def progress(done: int, total: int) -> None:
        bar.progress(done / total if total else 1.0, text=f"正在写入 {done}/{total} 行")

    try:
        result = imp.commit(engine(ctx), preview, account, progress)
    except PermissionDenied as exc:
        st.error(f"导入被拒绝，未写入任何数据：{md_escape(exc)}")
        return
    except GuloError as exc:
        st.error(f"导入未执行，未写入任何数据：{md_escape(exc)}")
        return
    except Exception as exc:  # noqa: BLE001 - anything else: a Chinese sentence and an incident id, never a traceback
        st.error(incident_message(record_incident(exc, "数据管理 确认导入"), "确认导入", outcome="未写入任何数据"))
        return
    imp.forget_preview(st.session_state)
    st.session_state[RESULT_KEY] = imp.result_message(result)
    st.rerun()


def import_view(ctx: PageContext, account: Account | None) -> None:
    """The whole 导入 view."""
    done = st.session_state.pop(RESULT_KEY, None)
    if done:
        st.success(done, icon=":material/check_circle:")
    layers = list(LAYER_LABELS)
    layer = st.selectbox("导入到图层", layers, index=layers.index("compounds"), format_func=LAYER_LABELS.get,
                         key="imp_layer")
    if layer == CASE_LAYER and account is None:  # a preview shows stored cases a file's codes match
        st.info("矛盾纠纷案件含地址和摘要（个人信息）：预览和导入需先登录（左侧边栏）。", icon="🔒")
        return
    upload = _uploaded()
    if upload is None:
        st.info("上传文件后先显示校验预览；确认导入前不会写入任何数据。可在“模板”中下载各图层的 Excel 模板。")
        return
    filename, data = upload
    try:
        options = _mapping(_read_options(layer, filename, data), filename, data)
        with st.spinner("正在读取并校验…"):
            preview = imp.cached_preview(engine(ctx), data, filename, options, ctx.version, st.session_state)
    except GuloError as exc:
        said = str(exc)
        st.error(md_escape(said if filename in said else f"无法读取“{filename}”：{said}"))
        return
    except Exception as exc:  # noqa: BLE001 - an unexpected failure on any file: no traceback reaches the page
        st.error(incident_message(record_incident(exc, f"数据管理 导入预览 {filename!r}"), "读取并校验文件",
                                  outcome="未写入任何数据"))
        return
    _show_preview(ctx, preview, account)
    _confirm(ctx, preview, account)
