"""老旧小区改造: the renovation workspace of a sub-district office — pipeline, planner, editing."""
from __future__ import annotations

import streamlit as st

from dashboard.context import setup_page
from dashboard.quick import quick_questions
from dashboard.renovation.editor import editor
from dashboard.renovation.pipeline import (
    LAG_HELP,
    by_type_and_year,
    detail,
    filtered,
    ledger,
    plan_lag,
    show_compounds_map,
    status_cards,
)
from dashboard.renovation.planner import planner
from dashboard.scope_ui import breadcrumb, selectors
from dashboard.tables import show_table
from dashboard.text import md_escape

VIEWS = ("改造进度", "改造计划", "台账编辑")  # only the chosen view is computed


def render() -> None:
    ctx = setup_page()
    selectors(ctx)
    st.title(f"{md_escape(ctx.units.name(ctx.scope))} · 老旧小区改造")
    breadcrumb(ctx)
    table = ledger(ctx)
    quick_questions("renovation")  # sets the view and its inputs, so before them
    st.session_state.setdefault("reno_view", VIEWS[0])
    view = st.segmented_control("视图", VIEWS, key="reno_view", label_visibility="collapsed") or VIEWS[0]
    if view == VIEWS[0]:
        status_cards(table)
        if st.toggle("显示本年计划滞后", key="reno_lagging", help=LAG_HELP):
            plan_lag(ctx)
        by_type_and_year(ctx)
        show_compounds_map(ctx)  # the page's width: room for the legend beside the scope, the table below
        shown = filtered(table)
        show_table(shown, "所选范围内没有符合条件的小区。", hide_index=True, width="stretch", height=420,
                   column_config={"编码": None, "预算（万元）": st.column_config.NumberColumn(format="%.1f")})
        st.caption(f"共 {len(shown)} 个小区（点击列名排序）")
        code = _compound_picker(table, "detail_compound", "查看小区详情")
        if code:
            detail(ctx, code)
    elif view == VIEWS[1]:
        planner(ctx, table)
    else:
        code = _compound_picker(table, "edit_compound", "选择要编辑的小区")
        if code:
            editor(ctx, code)


def _compound_picker(table, key: str, label: str) -> str | None:
    options = table["编码"].tolist()
    names = dict(zip(table["编码"], table["小区名称"] + "（" + table["所属社区"] + "）"))
    return st.selectbox(label, options, index=None, format_func=names.get, key=key, placeholder="输入小区名称搜索…")
