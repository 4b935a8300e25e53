"""态势图: the district on one map (four overlays, toggleable) with its KPIs beside it."""
from __future__ import annotations

import streamlit as st

from dashboard.context import setup_page
from dashboard.kpi import compound_and_station_cards, dispute_cards, hierarchy_cards
from dashboard.mapview import layer_controls, show_map
from geo.rollup import Period, indicators, totals


def render() -> None:
    ctx = setup_page()
    st.title("鼓楼区社区治理态势图")
    period = Period.last_days(ctx.as_of, ctx.settings.recent_days)
    st.caption(f"数据截至 {ctx.as_of:%Y年%m月%d日} · 统计周期 {period.start:%m月%d日}—{period.end:%m月%d日}")
    keys, basemap = layer_controls(ctx)
    frames = {name: ctx.layer(name) for name in ("grids", "compounds", "stations", "disputes")}
    args = (frames["grids"], frames["compounds"], frames["stations"], frames["disputes"])
    now = totals(indicators(*args, key="street_code", period=period, overdue_days=ctx.settings.overdue_days))
    before = totals(indicators(*args, key="street_code", period=period.previous(),
                               overdue_days=ctx.settings.overdue_days))
    cols = st.columns(8)
    hierarchy_cards(cols[:5], now, communities=len(ctx.layer("communities")))
    dispute_cards(cols[5:], now, before, period, ctx.settings.overdue_days)
    map_col, side_col = st.columns([7, 3], gap="medium")
    with map_col:
        show_map(ctx, keys, basemap, period)
    with side_col:
        compound_and_station_cards(now)
