"""底图设置 for the district role: the office's own tile services and MBTiles files, and what is wrong in the setting.

Names, kinds and coordinate systems only: never an address, a token or a file path.
"""
from __future__ import annotations

import streamlit as st

from dashboard.context import PageContext
from dashboard.text import md_escape
from geo.access import Account
from geo.tiles import SYSTEMS, TileService
from geo.vocab import Role
from layers.basemaps import catalogue


def _line(service: TileService) -> str:
    kind = "叠加层（注记）" if service.overlay else "底图"
    source = "本机 MBTiles 文件（由本系统提供瓦片）" if service.mbtiles else "瓦片服务"
    zooms = f"{service.min_zoom}–{service.max_zoom} 级"
    return f"- **{md_escape(service.name)}**：{kind}，{source}，{SYSTEMS.get(service.crs or '', '')} 坐标，{zooms}"


def basemap_panel(ctx: PageContext, account: Account | None) -> None:
    """For a district account, when the ``basemaps`` setting is used: its basemaps and its problems."""
    if account is None or account.role is not Role.DISTRICT:
        return
    found = catalogue(ctx.settings)
    if not found.services and not found.problems:
        return
    title = "底图设置：正常" if not found.problems else f"底图设置：{len(found.problems)} 处问题"
    with st.expander(title, expanded=bool(found.problems), icon=":material/map:"):
        if found.services:
            st.markdown("\n".join(_line(s) for s in found.services.values()))
        for problem in found.problems:
            st.error(md_escape(problem))
        st.caption("底图在设置项 BASEMAPS 中配置（见使用说明“底图”一节），修改后重启应用生效；"
                   "有问题的项不会出现在底图选择中，其余底图照常可用。")
