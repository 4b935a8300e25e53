"""总览: the landing page for district leaders — headline KPIs with change, the children coloured by a chosen
indicator, rankings per theme, alerts linking to the page that explains them, and the briefing documents.
``?screen=big`` turns it into the meeting-room big screen."""
from __future__ import annotations

import streamlit as st

from dashboard.context import setup_page
from dashboard.kpi import kpi_cards
from dashboard.mapview import INDICATOR_LABELS, INDICATORS, REFERENCE, show_map
from dashboard.overview import bigscreen
from dashboard.overview.brief import make_briefing
from dashboard.overview.panels import alerts_panel, documents, party_cards, rankings_panel, trend
from dashboard.quick import question_links
from dashboard.scope_ui import breadcrumb, period_selector, selectors
from dashboard.text import md_escape

DEFAULT_INDICATOR = "renovated_share"


def _indicator() -> str:
    st.sidebar.subheader("地图")
    options = list(INDICATORS)
    return st.sidebar.selectbox("着色指标", options, index=options.index(DEFAULT_INDICATOR), key="ov_indicator",
                                format_func=INDICATOR_LABELS.get, help="下级单元按此指标分级着色（分位数分级）")


def render() -> None:
    ctx = setup_page()
    if bigscreen.requested():
        bigscreen.render(ctx)
        return
    selectors(ctx)
    period_selector(ctx)
    indicator = _indicator()
    b = make_briefing(ctx, indicator, ctx.sample)
    st.title(f"{md_escape(b.scope_name)} · 总览")
    breadcrumb(ctx)
    p = ctx.period
    st.caption(f"数据截至 {ctx.as_of:%Y年%m月%d日} · 统计周期 {p.start:%Y-%m-%d} 至 {p.end:%Y-%m-%d}（{p.days}天），"
               "变化量与前一等长周期比较 · 点击地图上的单元可逐级下钻")
    documents(b)
    question_links(ctx.scope.code, ctx.period_days)
    party_cards(b)
    st.markdown("**治理概况**")
    kpi_cards(b.kpis, per_row=6)
    map_col, alert_col = st.columns([3, 2], gap="medium")
    with map_col:
        st.markdown(f"**{b.indicator_label}分布**")
        show_map(ctx, [REFERENCE], indicator, ctx.settings.basemap)  # the reference layer when any is stored
    with alert_col:
        alerts_panel(ctx, b)
    child = ctx.scope.child_level
    if child is not None:
        rankings_panel(ctx, b, "各" + ("街道（镇）" if child.value == "street" else child.label))
    trend(b)
