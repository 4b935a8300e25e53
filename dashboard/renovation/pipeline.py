"""改造进度: compounds by status and type, by plan year, on a map, in a filterable table, one in detail."""
from __future__ import annotations

import folium
import pandas as pd
import streamlit as st

from dashboard.charts import stacked_bars
from dashboard.context import PageContext, go_to
from dashboard.foliumview import show_folium
from dashboard.mapunits import clicked_unit, count_units, outline_table
from dashboard.mapview import STATIC_PREFIX, reference_frames, serve_assets
from dashboard.quick import all_clear
from dashboard.tables import show_table
from dashboard.text import md_escape
from geo import formatting as fmt
from geo.access import case_detail_note, may_see_case_details, redact_case_details
from geo.briefing import Thresholds, year_elapsed
from geo.hierarchy import child_key
from geo.nearby import disputes_near, stations_within, twelve_months_before
from geo.renovation import lagging_compounds, year_plan_progress
from geo.rollup import renovation_pipeline
from geo.scope import DISTRICT
from geo.vocab import Level, RenovationStatus, RenovationType
from layers.assets import streamlit_mode
from layers.common import view_tolerance_m
from layers.mapbuild import add_layers, build_map

WALK_M, NEAR_M = 500, 300
OUTLINE = {Level.DISTRICT: "streets", Level.STREET: "communities", Level.COMMUNITY: "grids", Level.GRID: "grids"}


_SHARED = {"max_entries": 64, "show_spinner": False, "hash_funcs": {PageContext: lambda c: (
    c.settings.db_url, c.version, c.scope.code)}}
"""Built once per (database, data version, scope) and shared by every session (never modified by a caller)."""


@st.cache_resource(**_SHARED)
def ledger(ctx: PageContext) -> pd.DataFrame:
    """The compounds of the scope as a table with Chinese headers (also the Excel sheet)."""
    c = ctx.layer("compounds")
    names = ctx.units.names
    return pd.DataFrame({
        "编码": c["code"], "小区名称": c["name"], "所属街道": c["street_code"].map(names),
        "所属社区": c["community_code"].map(names), "建成年份": c["built_year"], "楼栋数": c["buildings"],
        "户数": c["households"], "物业管理": c["has_property_mgmt"].map({True: "有", False: "无"}),
        "改造状态": c["status"].map(RenovationStatus.labels()), "改造类型": c["reno_type"].map(RenovationType.labels()),
        "计划年度": c["plan_year"], "预算（万元）": c["budget_wan"],
        "开工日期": pd.to_datetime(c["started_on"]).dt.date, "完工日期": pd.to_datetime(c["completed_on"]).dt.date,
    })


def status_cards(table: pd.DataFrame) -> None:
    counts = table["改造状态"].value_counts()
    cols = st.columns(len(RenovationStatus) + 1)
    cols[0].metric("老旧小区", f"{len(table):,} 个", help=f"涉及 {int(table['户数'].sum()):,} 户")
    for col, s in zip(cols[1:], RenovationStatus):
        col.metric(s.label, f"{int(counts.get(s.label, 0)):,}")


@st.cache_resource(**_SHARED)
def _by_type_and_year(ctx: PageContext) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Compounds by status × type (statuses in lifecycle order) and by plan year × status."""
    table = ledger(ctx)
    cross = pd.crosstab(table["改造状态"], table["改造类型"].fillna("未定"))
    order = [s.label for s in RenovationStatus if s.label in cross.index]
    return cross.reindex(order), renovation_pipeline(ctx.layer("compounds"))


def by_type_and_year(ctx: PageContext) -> None:
    cross, per_year = _by_type_and_year(ctx)
    left, right = st.columns([2, 3])
    with left:
        st.markdown("**按状态与改造类型**")
        st.dataframe(cross, width="stretch")
    with right:
        st.markdown("**按计划年度**")
        stacked_bars(per_year, [s.color for s in RenovationStatus], x_label="计划年度", y_label="小区数",
                     series_label="改造状态", height=260)


@st.cache_resource(max_entries=32, show_spinner=False, hash_funcs={PageContext: lambda c: (
    c.settings.db_url, c.version, c.scope.code)})
def compounds_map(ctx: PageContext) -> folium.Map:
    """The scope's outline and its compounds: pies by renovation status per community (district level) or
    grid (sub-district level), single compounds from community level down."""
    outline = outline_table(ctx, OUTLINE[ctx.scope.level])
    frames = {outline: ctx.layer(outline), "compounds": ctx.layer("compounds")}
    bounds = frames[outline].total_bounds
    frames |= reference_frames(ctx, bounds)
    m = build_map(bounds, asset_mode=streamlit_mode(ctx.settings.asset_mode),
                  prefix=STATIC_PREFIX, settings=ctx.settings)
    add_layers(m, frames, list(frames), level=ctx.scope.level.value, units=count_units(ctx),
               tolerance_m=view_tolerance_m(bounds))
    return m


def show_compounds_map(ctx: PageContext) -> None:
    """The compounds map; a click on a unit (its pie or outline) drills down to it."""
    serve_assets()
    value = show_folium(compounds_map(ctx), height=520, returned_objects=["last_active_drawing"],
                        key=f"reno_map_{ctx.scope.code or 'district'}")
    target = clicked_unit(ctx, value)
    if target is not None:
        go_to(target)
        st.rerun()


def filtered(table: pd.DataFrame) -> pd.DataFrame:
    """Filters above the table: status, type, property management, name."""
    cols = st.columns([3, 3, 2, 3])
    statuses = cols[0].multiselect("改造状态", [s.label for s in RenovationStatus], key="f_status", placeholder="全部")
    types = cols[1].multiselect("改造类型", [t.label for t in RenovationType], key="f_type", placeholder="全部")
    pm = cols[2].selectbox("物业管理", ["全部", "有", "无"], key="f_pm")
    text = cols[3].text_input("小区名称包含", key="f_name")
    keep = pd.Series(True, index=table.index)
    if statuses:
        keep &= table["改造状态"].isin(statuses)
    if types:
        keep &= table["改造类型"].isin(types)
    if pm != "全部":
        keep &= table["物业管理"] == pm
    if text:
        keep &= table["小区名称"].str.contains(text, regex=False, na=False)
    return table[keep]


def detail(ctx: PageContext, code: str) -> None:
    """One compound: its record, stations within walking distance, disputes nearby in the last 12 months."""
    row = ctx.layer("compounds").set_index("code").loc[[code]]
    point = row.geometry.iloc[0]
    stations = stations_within(point, ctx.layer("stations", DISTRICT), WALK_M)
    disputes = disputes_near(point, ctx.layer("disputes", DISTRICT), NEAR_M, since=twelve_months_before(ctx.as_of),
                             until=ctx.as_of)
    left, right = st.columns(2)
    with left:
        st.markdown(f"**{WALK_M} 米步行范围内的服务站点（{len(stations)} 个）**")
        show_table(pd.DataFrame({"站点": stations["name"], "类型": stations["kind_label"],
                                 "距离（米）": stations["distance_m"].round(0)}),
                   f"{WALK_M} 米步行范围内没有服务站点。", hide_index=True, width="stretch")
    with right:
        nearby_disputes(ctx, disputes)


def nearby_disputes(ctx: PageContext, disputes: pd.DataFrame) -> None:
    """The cases near a compound: listed (addresses only of cases inside the account's own scope) for an account
    that may see the scope's case details, else counted by category and status (``geo.access``)."""
    st.markdown(f"**周边 {NEAR_M} 米近 12 个月矛盾纠纷（{len(disputes)} 件）**")
    if not may_see_case_details(ctx.account, ctx.scope):
        st.caption(md_escape(case_detail_note(ctx.account, ctx.scope)))  # names the account and its scope
        counts = disputes.groupby(["category_label", "status_label"]).size().rename("件数").reset_index()
        show_table(counts.rename(columns={"category_label": "类别", "status_label": "状态"}), NO_NEARBY,
                   hide_index=True, width="stretch")
        return
    shown = redact_case_details(ctx.account, disputes)
    show_table(pd.DataFrame({"受理日期": pd.to_datetime(shown["reported_on"]).dt.date,
                             "类别": shown["category_label"], "状态": shown["status_label"],
                             "地址": shown["address"].fillna("（辖区外，不显示）"),
                             "距离（米）": shown["distance_m"].round(0)}), NO_NEARBY, hide_index=True, width="stretch")


NO_NEARBY = f"周边 {NEAR_M} 米近 12 个月没有矛盾纠纷。"
LAG_HELP = f"本年度计划完工比例落后于时间进度超过 {Thresholds().plan_lag:.0%} 的单元（与总览预警同一规则）"


def plan_lag(ctx: PageContext) -> None:
    """本年计划滞后: the child units whose plan for this year trails the share of the year passed by more than
    the overview's alert threshold, and their compounds of this year's plan not yet done; said in words when none."""
    compounds, year, key = ctx.layer("compounds"), ctx.as_of.year, child_key(ctx.scope) or "grid_code"
    progress = year_plan_progress(compounds, ctx.as_of, key)
    behind = progress[progress["lagging"]]
    st.markdown(f"**本年计划滞后（{year}年计划，截至 {ctx.as_of:%m月%d日} 时间进度 {year_elapsed(ctx.as_of):.0%}）："
                f"{len(behind)} 个单元**")
    if progress.empty:
        all_clear(f"所选范围内没有计划年度为 {year} 年的小区。")
        return
    if behind.empty:
        all_clear(f"所选范围内本年计划均按时间进度推进（{len(progress)} 个单元有 {year} 年计划）。")
        return
    names = ctx.units.names
    st.dataframe(pd.DataFrame({"单元": behind.index.map(lambda c: names.get(c, c)), "计划小区": behind["planned"],
                               "已完工": behind["done"], "完工比例": behind["done_share"].map(fmt.percent),
                               "时间进度": behind["elapsed"].map(fmt.percent)}),
                 hide_index=True, width="stretch")
    late = lagging_compounds(compounds, ctx.as_of, key)
    st.markdown(f"**其中尚未完工的小区（{len(late)} 个）**")
    show_table(pd.DataFrame({"小区名称": late["name"], "所属社区": late["community_code"].map(names),
                             "改造状态": late["status"].map(RenovationStatus.labels()), "户数": late["households"],
                             "开工日期": pd.to_datetime(late["started_on"]).dt.date}),
               "滞后单元的本年计划小区均已完工。", hide_index=True, width="stretch",
               height=min(38 + 35 * len(late), 360))
