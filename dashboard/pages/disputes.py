"""矛盾纠纷: cases, mediation statistics, hotspots and trends for the scope and period.

Case details — addresses, summaries, the case list and its Excel — only for an account that may see the
scope's cases (``geo.access.may_see_case_details``); everyone else sees the aggregates and one line why.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import streamlit as st

from dashboard.charts import stacked_bars
from dashboard.context import PageContext, engine, setup_page
from dashboard.foliumview import show_folium
from dashboard.kpi import COUNT_FORMAT, metric
from dashboard.mapunits import count_units
from dashboard.mapview import STATIC_PREFIX, reference_frames, serve_assets
from dashboard.nav import pages
from dashboard.quick import PAGE_QUESTIONS, all_clear, ask_from_url, quick_questions
from dashboard.scope_ui import breadcrumb, period_selector, selectors
from dashboard.tables import missing_help, show_table
from dashboard.text import md_escape
from data.exchange import case_workbook
from geo import formatting as fmt
from geo.access import case_detail_note, may_see_case_details, strip_case_details
from geo.disputes import (
    STAT_LABELS,
    DisputeFilter,
    apply_filter,
    case_table,
    cases_per_1000,
    compare,
    overdue_mask,
    repeat_addresses,
)
from geo.hierarchy import child_key
from geo.rollup import monthly_disputes, open_on
from geo.vocab import DisputeCategory, DisputeSource, DisputeStatus, Level
from layers.assets import streamlit_mode
from layers.common import view_tolerance_m
from layers.mapbuild import add_layers, build_map

NO_LATE = "所选范围内没有超期未结案件。"
COMPARE_CONFIG = {"调解成功率": st.column_config.NumberColumn(format="percent", help=missing_help("no_closed")),
                  **{label: st.column_config.NumberColumn(format="%.0f 天", help=missing_help("no_closed"))
                     for label in ("办结天数中位数", "办结天数90分位")}}
"""The comparison table's rates and days: a period without 办结 cases shows 「—」 and says why."""
OUTLINE = {Level.DISTRICT: "streets", Level.STREET: "communities", Level.COMMUNITY: "grids", Level.GRID: "grids"}


def _filters() -> DisputeFilter:
    st.sidebar.subheader("筛选")
    pick = {}
    for name, enum, label in (("categories", DisputeCategory, "类别"), ("sources", DisputeSource, "来源"),
                              ("statuses", DisputeStatus, "状态")):
        pick[name] = tuple(st.sidebar.multiselect(label, [m.value for m in enum], format_func=lambda v, e=enum: e(v).label,
                                                  key=f"dispute_{name}", placeholder="全部"))
    st.sidebar.toggle("列出超期未结案件", key="dispute_overdue_only", help="在统计卡片下方列出超期未结的案件（按所选筛选）")
    return DisputeFilter(**pick)


def _overdue(ctx: PageContext, in_period: pd.DataFrame, details: bool) -> None:
    """超期未结: the open cases past the time limit, counted per child unit (for everyone) and listed (only with
    ``details``); said in words when there are none."""
    late = in_period[overdue_mask(in_period, ctx.as_of, ctx.settings.overdue_days).to_numpy()]
    st.markdown(f"**超期未结案件：{len(late)} 件**（受理超过 {ctx.settings.overdue_days} 天仍未办结，截至 {ctx.as_of:%Y-%m-%d}）")
    if late.empty:
        all_clear(NO_LATE)
        return
    key = child_key(ctx.scope) or "grid_code"
    counts = late.groupby(key).size().sort_values(ascending=False)
    left, right = st.columns([1, 2] if details else [1, 1])
    with left:
        show_table(pd.DataFrame({"单元": counts.index.map(lambda c: ctx.units.names.get(c, c)),
                                 "超期件数": counts.to_numpy()}), NO_LATE, hide_index=True, width="stretch",
                   height=min(38 + 35 * len(counts), 300))
    if details:
        table = case_table(late, ctx.units.names, ctx.as_of, ctx.settings.overdue_days)
        with right:
            show_table(table[["编号", "受理日期", "类别", "状态", "社区", "网格", "地址", "办理天数"]], NO_LATE,
                       hide_index=True, width="stretch", height=min(38 + 35 * len(table), 300))


CARDS = (  # label, column, kind, unit, lower is better (None: neither, drawn grey)
    ("受理", "received", "count", "", True), ("办结", "closed", "count", "", None),
    ("调解成功率", "success_rate", "percent", "", False), ("办结天数中位数", "median_days", "count", "天", True),
    ("90%办结天数", "p90_days", "count", "天", True), ("超期未结", "overdue", "count", "", True),
)


def _cards(stats: pd.DataFrame) -> None:
    """This period's figures with their change against the previous one (zero: 与上期持平, grey, no arrow)."""
    now, before, last_year = (stats.iloc[i] for i in range(3))
    for col, (label, key, kind, unit, lower) in zip(st.columns(len(CARDS)), CARDS):
        diff = None if fmt.is_missing(now[key]) or fmt.is_missing(before[key]) else now[key] - before[key]
        about = f"上期 {fmt.figure(before[key], kind, unit=unit)} · 去年同期 {fmt.figure(last_year[key], kind, unit=unit)}"
        metric(col, label, fmt.figure(now[key], kind, unit=unit), diff * 100 if kind == "percent" and diff is not None
               else diff, kind, lower_is_better=bool(lower), neutral=lower is None,
               help=fmt.help_with_reason(about, now[key], "no_closed"))


@st.cache_resource(max_entries=32, show_spinner=False, hash_funcs={PageContext: lambda c: (
    c.settings.db_url, c.version, c.scope.code, c.as_of, c.settings.overdue_days)})
def _map(ctx: PageContext, _cases: pd.DataFrame, cases_key: tuple, details: bool):
    """The map of ``_cases`` (keyed by ``cases_key``): individual cases when drilled in only with ``details``."""
    outline = OUTLINE[ctx.scope.level]
    frames = {outline: ctx.layer(outline), "disputes": _cases}
    bounds = frames[outline].total_bounds
    frames |= reference_frames(ctx, bounds)
    m = build_map(bounds, asset_mode=streamlit_mode(ctx.settings.asset_mode),
                  prefix=STATIC_PREFIX, settings=ctx.settings)
    add_layers(m, frames, list(frames), level=ctx.scope.level.value, today=ctx.as_of, case_details=details,
               overdue_days=ctx.settings.overdue_days, units=count_units(ctx), tolerance_m=view_tolerance_m(bounds))
    return m


@dataclass(frozen=True)
class Figures:
    """What the page shows for one (scope, period, filter, details): built once, shared by every session."""

    stats: pd.DataFrame  # this period, the one before, a year before
    in_period: pd.DataFrame  # reported in the period, or still open
    monthly: pd.DataFrame
    rank: pd.DataFrame
    repeats: pd.DataFrame  # repeat_addresses of the filtered cases


@st.cache_resource(max_entries=64, show_spinner=False, hash_funcs={PageContext: lambda c: (
    c.settings.db_url, c.version, c.scope.code, c.period_days, c.as_of, c.settings.overdue_days)})
def _figures(ctx: PageContext, flt: DisputeFilter, details: bool) -> Figures:
    p = ctx.period
    filtered = apply_filter(ctx.layer("disputes"), flt)
    cases = filtered if details else strip_case_details(filtered)
    reported = pd.to_datetime(cases["reported_on"])
    in_period = cases[reported.between(pd.Timestamp(p.start), pd.Timestamp(p.end)) | open_on(cases, p.end)]
    key = child_key(ctx.scope) or "grid_code"
    return Figures(compare(cases, p, ctx.settings.overdue_days), in_period,
                   monthly_disputes(cases, end=ctx.as_of), cases_per_1000(cases, ctx.layer("grids"), key, p),
                   repeat_addresses(filtered, ctx.as_of))


def _repeats(ctx: PageContext, found: pd.DataFrame, details: bool) -> pd.DataFrame:
    """Addresses with three or more cases in twelve months: the table with ``details``, else their number only."""
    st.markdown(f"**重复发生地址（近12个月 3 件及以上）：{len(found)} 处**")
    if not details:
        return pd.DataFrame()
    repeats = pd.DataFrame({"地址": found["address"], "件数": found["cases"], "首次": found["first"], "最近": found["last"],
                            "类别": found["categories"], "社区": found["community_code"].map(ctx.units.names)})
    if len(repeats):
        show_table(repeats, "", hide_index=True, width="stretch", height=min(38 + 35 * len(repeats), 300))
    return repeats


def _case_list(ctx: PageContext, in_period: pd.DataFrame, repeats: pd.DataFrame) -> None:
    """The case list and its Excel download (made, checked and audited when clicked)."""
    table = case_table(in_period, ctx.units.names, ctx.as_of, ctx.settings.overdue_days)
    st.markdown(f"**案件清单（{len(table)} 件，本期受理及仍在办理的案件；选中一行可到“案件办理”办理）**")
    shown = table.assign(办结日期=[d.isoformat() if isinstance(d, date) else "未办结" for d in table["办结日期"]])
    picked = show_table(shown, "所选范围和周期内没有案件。", hide_index=True, width="stretch",
                        height=min(38 + 35 * len(table), 420), on_select="rerun", selection_mode="single-row",
                        key="dispute_case_list")
    rows = picked.selection.rows if picked else []
    if rows and rows[0] < len(table):
        code = str(table["编号"].iloc[rows[0]])
        st.page_link(pages()["cases"], label=f"在案件办理中打开 {md_escape(code)} →", query_params={"case": code})
    eng, account, scope = engine(ctx), ctx.account, ctx.scope
    st.download_button("下载 Excel（案件清单）",
                       lambda: case_workbook(eng, account, scope, {"案件清单": table, "重复发生地址": repeats}),
                       file_name=f"矛盾纠纷_{ctx.units.name(ctx.scope)}.xlsx", key="dispute_xlsx", on_click="ignore",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")  # made when clicked


def render() -> None:
    ctx = setup_page()
    ask_from_url(PAGE_QUESTIONS["disputes"])  # before the filters it sets
    selectors(ctx)
    period_selector(ctx)
    flt = _filters()
    st.title(f"{md_escape(ctx.units.name(ctx.scope))} · 矛盾纠纷")
    breadcrumb(ctx)
    quick_questions("disputes")
    p = ctx.period
    st.caption(f"统计周期 {p.start:%Y-%m-%d} 至 {p.end:%Y-%m-%d}（{p.days}天），与上期及去年同期比较；"
               f"超期：受理超过 {ctx.settings.overdue_days} 天仍未办结")
    details = may_see_case_details(ctx.account, ctx.scope)
    if not details:
        st.info(md_escape(case_detail_note(ctx.account, ctx.scope)), icon="🔒")
    f = _figures(ctx, flt, details)
    _cards(f.stats)
    if st.session_state.get("dispute_overdue_only"):
        _overdue(ctx, f.in_period, details)
    with st.expander("本期、上期与去年同期对比"):
        table = f.stats[["start", "end", *STAT_LABELS]].rename(columns={"start": "起", "end": "止", **STAT_LABELS})
        show_table(table, "所选范围内没有矛盾纠纷记录。", width="stretch", column_config=COMPARE_CONFIG)
    left, right = st.columns([3, 2], gap="medium")
    with left:
        serve_assets()
        m = _map(ctx, f.in_period, (flt, ctx.period_days), details)
        show_folium(m, height=560, key=f"dispute_map_{ctx.scope.code or 'district'}")
    with right:
        st.markdown("**近12个月（按类别）**")
        stacked_bars(f.monthly, [c.color for c in DisputeCategory], x_label="月份", y_label="件数", series_label="类别",
                     height=260)
        key = child_key(ctx.scope) or "grid_code"
        st.markdown("**每千户纠纷数排名**")
        shown = pd.DataFrame({"名称": f.rank[key].map(ctx.units.names), "受理件数": f.rank["cases"],
                              "户数": f.rank["households"], "每千户件数": f.rank["per_1000"].round(2),
                              "名次": f.rank["rank"]})
        counts = {c: st.column_config.NumberColumn(format=COUNT_FORMAT) for c in ("受理件数", "户数")}
        show_table(shown, "所选范围内没有可排名的单元。", hide_index=True, width="stretch", height=240,
                   column_config={**counts, "每千户件数": st.column_config.NumberColumn(format="%.2f")})
    repeats = _repeats(ctx, f.repeats, details)  # without details only their number is shown
    if details:
        _case_list(ctx, f.in_period, repeats)
    else:
        st.caption("重复发生地址的明细和案件清单仅对辖区内的登录账号显示。")
