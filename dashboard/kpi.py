"""KPI cards for a scope, drawn from the roll-up totals (geo.rollup)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.rollup import Period, success_rate
from geo.vocab import RenovationStatus, StationKind


def _fmt(n: float) -> str:
    return f"{int(n):,}"


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.1%}"


def hierarchy_cards(cols, t: pd.Series, communities: int) -> None:
    """Communities, grids, households, residents and grid-worker vacancies, into five columns."""
    cols[0].metric("社区", _fmt(communities))
    cols[1].metric("网格", _fmt(t["grids"]))
    cols[2].metric("户数", _fmt(t["households"]))
    cols[3].metric("常住人口", _fmt(t["population"]))
    cols[4].metric("网格员空缺", _fmt(t["vacancies"]), help="没有专职网格员的网格数")


def dispute_cards(cols, t: pd.Series, prev: pd.Series, period: Period, overdue_days: int) -> None:
    """Disputes reported in the period (change against the previous one), success rate, overdue cases."""
    rate, prev_rate = success_rate(t["resolved"], t["failed"]), success_rate(prev["resolved"], prev["failed"])
    cols[0].metric(f"近{period.days}天受理纠纷", _fmt(t["disputes"]),
                   delta=f"{int(t['disputes'] - prev['disputes']):+d} 较上期", delta_color="inverse")
    delta = None if rate is None or prev_rate is None else f"{(rate - prev_rate) * 100:+.1f} 个百分点"
    cols[1].metric("调解成功率", _pct(rate), delta=delta,
                   help="期内办结案件中调解成功的比例（成功 ÷ (成功 + 不成)，转办不计）")
    cols[2].metric("超期未结", _fmt(t["overdue"]), help=f"截至期末仍在受理或调解中、且受理已超过 {overdue_days} 天的案件")


def renovation_frame(t: pd.Series) -> pd.DataFrame:
    """Compounds per renovation status, in lifecycle order, for a bar chart."""
    return pd.DataFrame({"改造状态": [s.label for s in RenovationStatus],
                         "小区数": [int(t.get(s.value, 0)) for s in RenovationStatus]})


def station_frame(t: pd.Series) -> pd.DataFrame:
    """Stations per kind."""
    return pd.DataFrame({"站点类型": [k.label for k in StationKind],
                         "数量": [int(t.get(k.value, 0)) for k in StationKind]})


def compound_and_station_cards(t: pd.Series) -> None:
    """Renovation status counts (lifecycle order) and station counts, one above the other."""
    st.markdown(f"**老旧小区改造 · 共 {_fmt(t['compounds'])} 个**")
    st.bar_chart(renovation_frame(t), x="改造状态", y="小区数", horizontal=True, sort=False, height=210,
                 color="#00695c", x_label="小区数", y_label="")
    st.markdown(f"**服务站点 · 共 {_fmt(station_frame(t)['数量'].sum())} 个**")
    st.dataframe(station_frame(t), hide_index=True, height=320, width="stretch")
