"""党建与自治: the party network, volunteers, grid assistants, consultation days and each community's standards
for the scope — KPI cards, the 党建引领 map (click a unit to drill down), the gaps as lists with Excel, and the
standards scorecard of every community."""
from __future__ import annotations

import streamlit as st

from dashboard.context import setup_page
from dashboard.party.cards import show_cards
from dashboard.party.gaps import gap_tables, show_gaps
from dashboard.party.partymap import indicator_selector, show_party_map
from dashboard.scope_ui import breadcrumb, selectors
from dashboard.stats import scope_stats
from dashboard.text import md_escape
from geo.party import consultation_window
from geo.vocab import Level

TITLE = "党建与自治"


def render() -> None:
    ctx = setup_page()
    selectors(ctx)
    name = ctx.units.name(ctx.scope)
    st.title(f"{md_escape(name)} · {TITLE}")
    breadcrumb(ctx)
    start, end = consultation_window(ctx.as_of)
    st.caption(f"数据截至 {ctx.as_of:%Y年%m月%d日} · 居民恳谈日按近12个完整月份统计（{start:%Y-%m-%d} 至 {end:%Y-%m-%d}）"
               " · 点击地图上的单元可逐级下钻")
    show_cards(scope_stats(ctx).total, grid=ctx.scope.level is Level.GRID)
    indicator = indicator_selector()
    show_party_map(ctx, indicator)
    show_gaps(ctx, gap_tables(ctx), name)
