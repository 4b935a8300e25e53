"""网格与服务覆盖: the grid supervisors' workspace — grid standard, topology, coverage, new sites, and the grid
staffing and stations recorded where they change."""
from __future__ import annotations

import streamlit as st

from dashboard.context import setup_page
from dashboard.coverage.grid_edit import grid_edit_view
from dashboard.coverage.staffing import staffing_view
from dashboard.coverage.station_edit import station_edit_view
from dashboard.coverage.views import coverage_view, export_button, grid_view, sites_view, topology_view
from dashboard.quick import quick_questions
from dashboard.scope_ui import breadcrumb, selectors
from dashboard.text import md_escape

EDIT_VIEWS = {"网格人员": staffing_view, "站点维护": station_edit_view, "网格边界编辑": grid_edit_view}
"""Views where grid staffing, stations and grid boundaries are edited (forms for accounts with write scope)."""
VIEWS = ("网格标准", "拓扑检查", "服务覆盖", "新增站点选址", *EDIT_VIEWS)  # only the chosen view is computed


def render() -> None:
    ctx = setup_page()
    selectors(ctx)
    st.title(f"{md_escape(ctx.units.name(ctx.scope))} · 网格与服务覆盖")
    breadcrumb(ctx)
    quick_questions("coverage")  # sets the view and its inputs, so before them
    st.session_state.setdefault("cov_view", VIEWS[0])
    view = st.segmented_control("视图", VIEWS, key="cov_view", label_visibility="collapsed") or VIEWS[0]
    if view in EDIT_VIEWS:
        EDIT_VIEWS[view](ctx)
        return
    if view == VIEWS[0]:
        export_button({"需关注网格": grid_view(ctx)}, ctx.units.name(ctx.scope))
    elif view == VIEWS[1]:
        topology_view(ctx)
    elif view == VIEWS[2]:
        export_button({"覆盖缺口小区": coverage_view(ctx)}, ctx.units.name(ctx.scope))
    else:
        sites_view(ctx)
