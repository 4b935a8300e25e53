"""导出 and 模板 views: a layer of the page's scope as a file, and the Excel import templates."""
from __future__ import annotations

from collections.abc import Callable

import streamlit as st
from sqlalchemy import Engine

from dashboard.context import PageContext, engine
from dashboard.text import md_escape
from data.exchange import (
    CASE_LAYER,
    EXPORT_CRS,
    EXPORT_CRS_LABELS,
    EXPORT_FORMATS,
    export_filename,
    export_layer,
    formats_of,
    template_notes,
    template_xlsx,
)
from geo.access import Account, case_detail_note, may_see_case_details
from geo.export_crs import SHIFTED_NOTE, is_projected, is_shifted
from geo.ingest_crs import WGS84
from geo.ingest_fields import LAYER_LABELS, has_geometry
from geo.scope import Scope

FORMAT_LABELS = {"geojson": "GeoJSON", "gpkg": "GeoPackage", "shp": "Shapefile（.zip）",
                 "csv": "CSV（Excel 可打开）", "xlsx": "Excel（.xlsx）"}
XLSX_MIME = EXPORT_FORMATS["xlsx"][1]


def exporter(eng: Engine, layer: str, scope: Scope, fmt: str, crs: str,
             account: Account | None = None) -> Callable[[], bytes]:
    """A callable making the file only when the download is clicked (deferred data), as ``account``
    (the disputes layer: checked against the scope and audited then)."""
    return lambda: export_layer(eng, layer, scope, fmt, crs, account=account)


def export_view(ctx: PageContext) -> None:
    """Layer, format and CRS for the current scope, and one download button."""
    where = md_escape(ctx.units.name(ctx.scope))  # shown in Markdown only
    st.markdown(f"导出范围：**{where}**（在左侧边栏“范围”中切换）")
    c1, c2, c3 = st.columns([1, 2, 1])
    layers = list(LAYER_LABELS)
    layer = c1.selectbox("图层", layers, index=layers.index("compounds"), format_func=LAYER_LABELS.get, key="exp_layer")
    spatial = has_geometry(layer)
    if spatial:
        crs = c2.selectbox("坐标系", list(EXPORT_CRS), format_func=EXPORT_CRS_LABELS.get, key="exp_crs")
    else:
        crs = WGS84
        c2.caption(f"{LAYER_LABELS[layer]}没有地图位置；导出的表在代码旁附社区、街道名称（重新导入时按代码读取）。")
    fmt = c3.selectbox("格式", list(formats_of(layer, crs)), format_func=FORMAT_LABELS.get,
                       key=f"exp_format_{'shifted' if is_shifted(crs) else 'spatial'}" if spatial else "exp_format_table")
    name = export_filename(layer, ctx.scope, fmt, crs)
    rows = (ctx.table(layer) if not spatial  # an export keeps closed stations
            else ctx.every_station() if layer == "stations" else ctx.layer(layer))
    st.caption(f"{where}共有{LAYER_LABELS[layer]} {len(rows)} 条。")
    if layer == CASE_LAYER and not may_see_case_details(ctx.account, ctx.scope):
        st.info("矛盾纠纷案件含地址和摘要（个人信息），只能由辖区内的登录账号导出。"
                + md_escape(case_detail_note(ctx.account, ctx.scope)), icon="🔒")
        return
    if layer == CASE_LAYER:
        st.caption("导出的案件明细将记入操作日志（操作人、范围、行数）。")
    data = exporter(engine(ctx), layer, ctx.scope, fmt, crs, ctx.account)
    st.download_button(f"下载 {name}", data, file_name=name, mime=EXPORT_FORMATS[fmt][1],
                       key="exp_download", type="primary", icon=":material/download:", on_click="ignore")
    st.caption(export_note(spatial, crs))


def export_note(spatial: bool, crs: str) -> str:
    """What a person should know about the file: headers and aliases, types, names beside codes, the system."""
    note = ("数字、日期按类型保存（GIS 软件可按数值筛选、分级设色）；代码旁附社区、街道、网格名称。"
            "CSV、Excel、GeoJSON 的表头为中文；GeoPackage、Shapefile 的字段名为简短英文名，中文名作为别名。"
            "导出的文件可直接重新导入；CSV/Excel 中可能被当作公式的文字已做防护。")
    if spatial and is_shifted(crs):
        note += SHIFTED_NOTE[crs] + "GeoJSON 无法声明该坐标系，故不提供。"
    elif spatial and is_projected(crs):
        note += "投影坐标单位为米，CSV/Excel 中为 X、Y 两列（点）或 WKT（面）。"
    return note


def templates_view() -> None:
    """One template download per layer, with its expected columns (required ones marked)."""
    st.markdown("每个模板含表头和一行示例，第二张工作表为填写说明。列名也可使用“也可识别的列名”。")
    for layer, label in LAYER_LABELS.items():
        with st.container(border=True):
            left, right = st.columns([1, 3], vertical_alignment="top")
            left.markdown(f"**{label}**")
            left.download_button(f"下载{label}模板", lambda layer=layer: template_xlsx(layer), file_name=f"{label}_导入模板.xlsx",
                                 mime=XLSX_MIME, key=f"tpl_{layer}", icon=":material/download:", on_click="ignore")
            notes = template_notes(layer)
            right.dataframe(notes[["列名", "是否必填", "填写说明"]], hide_index=True, width="stretch",
                            key=f"tpl_notes_{layer}")
