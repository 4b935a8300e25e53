"""「GIS 数据包」 in the 导出 view: every layer of the scope in one file, styled for QGIS like the app (data.gis_pack)."""
from __future__ import annotations

from collections.abc import Callable

import streamlit as st
from sqlalchemy import Engine

from dashboard.context import PageContext, engine
from dashboard.text import md_escape
from data.exchange import EXPORT_CRS, EXPORT_CRS_LABELS
from data.gis_pack import PACK_FORMATS, gis_pack_gpkg, gis_pack_shp, pack_filename
from geo.access import Account, case_detail_note, may_see_case_details
from geo.export_crs import SHIFTED_NAMES, SHIFTED_NOTE, is_shifted
from geo.map_classes import DEFAULT_INDICATOR, DEFAULT_PERIOD_DAYS, INDICATOR_LABELS
from geo.scope import Scope

PACK_FORMAT_LABELS = {"gpkg": "GeoPackage（一个文件，样式内置，推荐）", "shp": "Shapefile（.zip，每层附 .qml 样式，旧版软件）"}


def packer(eng: Engine, scope: Scope, crs: str, fmt: str, account: Account | None,
           overdue_days: int) -> Callable[[], bytes]:
    """A callable making the pack only when the download is clicked (deferred data), as ``account`` (case points:
    checked against the scope and audited then)."""
    make = gis_pack_gpkg if fmt == "gpkg" else gis_pack_shp
    return lambda: make(eng, scope, crs, account, overdue_days)


def _contents_note(ctx: PageContext) -> str:
    """What the pack holds for this account and scope (Markdown, escaped): layers, styles, figures, cases."""
    indicator = INDICATOR_LABELS[DEFAULT_INDICATOR]
    lines = [
        "图层：街道、社区、网格、老旧小区、服务站点、矛盾纠纷；字段有中文别名。",
        f"样式：与态势图一致，在 QGIS 中打开即按改造状态、站点类型着色，社区（社区、网格范围内为网格）按“{indicator}”"
        "分级着色，分级与图例同态势图。",
        f"指标：各级单元附{indicator}、改造完成率、网格员空缺率等（近{DEFAULT_PERIOD_DAYS}天，截至 {ctx.as_of:%Y-%m-%d}）。",
    ]
    if may_see_case_details(ctx.account, ctx.scope):
        lines.append("矛盾纠纷：含本辖区案件明细（地址、摘要），下载将记入操作日志（操作人、范围、件数）。")
    else:
        lines.append("矛盾纠纷：按网格汇总（受理、办结、在办、超期件数和调解成功率），不含案件地址和摘要。"
                     + md_escape(case_detail_note(ctx.account, ctx.scope)))
    return "  \n".join(lines)


def pack_view(ctx: PageContext) -> None:
    """System and format for the scope's GIS data pack, what it holds, and one deferred download button."""
    st.subheader("GIS 数据包", divider="gray", anchor=False)
    where = md_escape(ctx.units.name(ctx.scope))
    st.markdown(f"**{where}**的全部图层打包下载，供 QGIS、ArcGIS 等 GIS 软件使用。")
    c1, c2 = st.columns([3, 2])
    crs = c1.selectbox("坐标系", list(EXPORT_CRS), format_func=EXPORT_CRS_LABELS.get, key="pack_crs")
    fmt = c2.selectbox("格式", list(PACK_FORMATS), format_func=PACK_FORMAT_LABELS.get, key="pack_format")
    st.caption(_contents_note(ctx))
    if is_shifted(crs):
        st.info(f"{SHIFTED_NOTE[crs]}文件中的坐标系名为“{SHIFTED_NAMES[crs]}”，不带 EPSG 代码；"
                "若软件询问坐标系，请勿选择 WGS84。", icon=":material/explore:")
    name = pack_filename(ctx.scope, crs, fmt, ctx.units.name(ctx.scope))
    data = packer(engine(ctx), ctx.scope, crs, fmt, ctx.account, ctx.settings.overdue_days)
    st.download_button(f"下载 {name}", data, file_name=name, mime=PACK_FORMATS[fmt][1], key="pack_download",
                       type="primary", icon=":material/download:", on_click="ignore")
