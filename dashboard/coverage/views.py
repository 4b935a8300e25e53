"""Views of the coverage workspace: grid standard, topology, walking-distance coverage, new sites."""
from __future__ import annotations

from datetime import date

import folium
import pandas as pd
import streamlit as st

from dashboard.context import PageContext
from dashboard.foliumview import show_folium
from dashboard.mapunits import count_units, outline_table
from dashboard.mapview import STATIC_PREFIX, reference_frames, serve_assets
from dashboard.quick import all_clear
from data.export import to_xlsx
from geo.coverage import (
    BAND_LABELS,
    LIFE_CIRCLES,
    completeness,
    compound_coverage,
    coverage_rollup,
    gap_areas,
    grid_standard,
    propose_sites,
    stations_near,
    uncovered_compounds,
)
from geo.formatting import MISSING
from geo.scope import DISTRICT
from geo.topology import topology_report
from geo.vocab import ONE_OLD_ONE_YOUNG_ONE_GENERAL, Level, StationKind
from layers.assets import streamlit_mode
from layers.common import view_tolerance_m
from layers.mapbuild import add_layers, build_map

TOPOLOGY_HEADERS = {
    "grid_a": "网格A", "grid_b": "网格B", "community_a": "社区A", "community_b": "社区B", "code": "网格",
    "community_code": "社区", "community_name": "社区名称", "name": "名称", "area_m2": "面积（平方米）",
    "area_outside_m2": "界外面积（平方米）", "share_outside": "界外比例", "sliver": "碎片", "problem": "问题代码",
    "problem_label": "问题", "lon": "经度", "lat": "纬度",
}
GRID_ALL_CLEAR = {True: "所选范围内每个网格都有专职网格员。",
                  False: "所选范围内的网格户数都在标准范围内，且都有专职网格员。"}
"""What the grid list says when it is empty (key: only vacant grids asked for)."""
UNITS = {Level.DISTRICT: "communities", Level.STREET: "communities", Level.COMMUNITY: "grids", Level.GRID: "grids"}


def _unit_table(ctx: PageContext) -> str:
    """The units the maps are fitted to, outlined and split into gaps (sub-districts instead of very many
    communities, ``dashboard.mapunits``)."""
    return outline_table(ctx, UNITS[ctx.scope.level])


@st.cache_resource(max_entries=32, show_spinner=False, hash_funcs={PageContext: lambda c: (
    c.settings.db_url, c.version, c.scope.code)})
def _built_map(ctx: PageContext, key: str, inputs: tuple, _frames: dict, options: tuple) -> folium.Map:
    """The folium map of ``_frames``, cached per (data version, scope, map, ``inputs`` that made the frames);
    polygons simplified to the view, records counted per unit where there are many (``layers.aggregate``)."""
    bounds = ctx.layer(_unit_table(ctx)).total_bounds
    m = build_map(bounds, asset_mode=streamlit_mode(ctx.settings.asset_mode), prefix=STATIC_PREFIX,
                  settings=ctx.settings)
    frames = {**_frames, **reference_frames(ctx, bounds)}
    add_layers(m, frames, list(frames), level=ctx.scope.level.value, units=count_units(ctx),
               tolerance_m=view_tolerance_m(bounds), **dict(options))
    return m


def _map(ctx: PageContext, frames: dict, key: str, inputs: tuple = (), **options) -> None:
    """Draw ``frames`` (registry layers) on a map fitted to the scope's unit polygons; ``inputs`` are the
    choices the frames were computed from (the map is rebuilt only when they or the data change)."""
    serve_assets()
    m = _built_map(ctx, key, inputs, frames, tuple(sorted(options.items())))
    show_folium(m, height=560, key=f"{key}_{ctx.scope.code or 'district'}")


def grid_view(ctx: PageContext) -> pd.DataFrame:
    """Households per grid against the standard; over/under/vacant lists; map of the grids."""
    c1, c2 = st.columns(2)
    target = c1.number_input("网格标准户数", 100, 2000, ctx.settings.grid_target_households, 50, key="grid_target")
    tol = c2.slider("允许偏差", 0.05, 0.5, 0.2, 0.05, key="grid_tol", format="%.2f",
                    help="户数超出 标准×(1+偏差) 为“超出标准”，低于 标准×(1−偏差) 为“低于标准”；地图按 ±20% 着色")
    table = grid_standard(ctx.layer("grids"), target=target, tolerance=tol)
    cols = st.columns(4)
    cols[0].metric("网格", f"{len(table)}")
    cols[1].metric(BAND_LABELS["over"], f"{int((table['band'] == 'over').sum())}")
    cols[2].metric(BAND_LABELS["under"], f"{int((table['band'] == 'under').sum())}")
    cols[3].metric("专职网格员空缺", f"{int(table['vacant'].sum())}")
    only_vacant = st.toggle("只看专职网格员空缺的网格", key="grid_only_vacant")
    listed = table[table["vacant"]] if only_vacant else table[(table["band"] != "ok") | table["vacant"]]
    shown = pd.DataFrame({"网格": listed["code"].map(ctx.units.names), "所属社区": listed["community_code"].map(ctx.units.names),
                          "户数": listed["households"], "偏离标准": listed["deviation"], "情况": listed["band_label"],
                          "专职网格员": listed["vacant"].map({True: "空缺", False: "在岗"}), "协管员": listed["assistants"]})
    left, right = st.columns([1, 1])
    with left:
        outline = outline_table(ctx, "communities")
        _map(ctx, {"grids": ctx.layer("grids"), outline: ctx.layer(outline)}, "grid_map", target_households=target)
    with right:
        st.markdown(f"**{'专职网格员空缺' if only_vacant else '需关注'}的网格（{len(shown)} 个）**")
        if shown.empty:
            all_clear(GRID_ALL_CLEAR[only_vacant])
        else:
            st.dataframe(shown, hide_index=True, width="stretch", height=min(38 + 35 * len(shown), 520),
                         column_config={"偏离标准": st.column_config.NumberColumn(format="percent")})
    return shown


def topology_view(ctx: PageContext) -> None:
    """Gaps, overlaps, crossings and slivers of the grids, in m² (EPSG:32650)."""
    report = topology_report(ctx.layer("grids"), ctx.layer("communities"))
    names = {"gaps": "未被网格覆盖的空隙", "overlaps": "网格重叠", "crossings": "跨越社区边界的网格", "slivers": "碎片"}
    cols = st.columns(4)
    for col, (key, label) in zip(cols, names.items()):
        col.metric(label, f"{len(report[key])} 处")
    if not any(len(report[k]) for k in names):
        st.success("网格完整覆盖各社区：没有空隙、重叠或跨界（面积按米制投影坐标 EPSG:32650 计算，阈值 0.01 m²）。")
    for key, label in names.items():
        if len(report[key]):
            st.markdown(f"**{label}**")
            shown = pd.DataFrame(report[key].drop(columns="geometry")).rename(columns=TOPOLOGY_HEADERS).round(
                {"面积（平方米）": 1, "界外面积（平方米）": 1, "界外比例": 3, "经度": 6, "纬度": 6})
            for col in ("网格A", "网格B", "网格", "社区", "社区A", "社区B"):
                if col in shown:
                    shown[col] = shown[col].map(lambda c: ctx.units.names.get(c, c))
            st.dataframe(shown, hide_index=True, width="stretch", placeholder=MISSING)  # 「—」: not applicable


def coverage_inputs() -> tuple[list[str], int, float]:
    c1, c2, c3 = st.columns([3, 2, 1])
    st.session_state.setdefault("cov_kinds", [k.value for k in ONE_OLD_ONE_YOUNG_ONE_GENERAL])  # 常用问题 may set it
    kinds = c1.multiselect("站点类型", [k.value for k in StationKind], format_func=lambda v: StationKind(v).label,
                           key="cov_kinds")
    circle = c2.selectbox("步行范围（社区生活圈）", list(LIFE_CIRCLES), index=0, key="cov_circle",
                          format_func=lambda k: f"{k}生活圈 · {LIFE_CIRCLES[k]} 米",
                          help="GB 50180-2018《城市居住区规划设计标准》：5 / 10 / 15 分钟生活圈约 300 / 500 / 1,000 米")
    detour = c3.number_input("绕行系数", 1.0, 2.0, 1.0, 0.1, key="cov_detour",
                             help="直线距离 × 绕行系数 ≤ 步行范围 视为覆盖；1.0 即按直线距离")
    return kinds, LIFE_CIRCLES[circle], float(detour)


def covered_text(kinds: list[str], metres: int) -> str:
    """The empty answer of the coverage list: every compound of the scope is covered."""
    names = "、".join(StationKind(k).label for k in kinds)
    return f"所选范围内全部覆盖：每个老旧小区步行 {metres} 米内都有{names}。"


def coverage_day(ctx: PageContext) -> date:
    """按日期查看: the day whose open stations are counted (default: today's state), so coverage before and
    after a station opened or closed can be compared."""
    day = st.columns([1, 3])[0].date_input("按日期查看", value=ctx.today, min_value=date(2000, 1, 1),
                                           max_value=ctx.today, key="cov_day", format="YYYY-MM-DD",
                                           help="按所选日期当天运营的站点计算覆盖（已关闭的站点从关闭之日起不再计入）")
    if day != ctx.today:
        st.caption(f"按 {day.isoformat()} 当天运营的站点计算；今天的情况请把日期改回 {ctx.today.isoformat()}。")
    return day


def coverage_view(ctx: PageContext) -> pd.DataFrame:
    """Households within walking distance per kind; uncovered compounds; a map of the gaps."""
    kinds, metres, detour = coverage_inputs()
    if not kinds:
        st.info("请选择至少一种站点类型。")
        return pd.DataFrame()
    day = coverage_day(ctx)
    compounds, stations = ctx.layer("compounds"), ctx.layer("stations", DISTRICT, on=day)
    coverage = compound_coverage(compounds, stations, kinds, metres, detour)
    total = coverage_rollup(coverage, compounds, "street_code").groupby("kind_label").sum(
        numeric_only=True)
    cols = st.columns(len(kinds))
    for col, (label, row) in zip(cols, total.iterrows()):
        share = row["covered_households"] / row["households"] if row["households"] else float("nan")
        col.metric(f"{label} 覆盖户数", f"{int(row['covered_households']):,}", help=f"占老旧小区户数 {share:.1%}")
    missing = uncovered_compounds(coverage, compounds, kinds)
    listed = pd.DataFrame({"小区名称": missing["name"], "所属社区": missing["community_code"].map(ctx.units.names),
                           "户数": missing["households"], "缺少的站点": missing["missing_label"]})
    left, right = st.columns([1, 1])
    with left:
        gap_kind = st.selectbox("地图显示缺口的站点类型", kinds, format_func=lambda v: StationKind(v).label, key="gap_kind")
        table = _unit_table(ctx)
        units = ctx.layer(table)
        gaps = gap_areas(units, stations, gap_kind, metres, detour)
        shown = stations_near(stations[stations["kind"] == gap_kind], units, metres)  # those that can serve the units
        _map(ctx, {"gaps": gaps, table: units, "stations": shown}, "gap_map", inputs=(gap_kind, metres, detour, day))
    with right:
        st.markdown(f"**步行 {metres} 米内缺少所选站点的老旧小区（{len(listed)} 个，{int(listed['户数'].sum()):,} 户）**")
        if listed.empty:
            all_clear(covered_text(kinds, metres))
        else:
            st.dataframe(listed, hide_index=True, width="stretch", height=min(38 + 35 * len(listed), 520))
    _completeness_table(ctx, day)
    return listed


def _completeness_table(ctx: PageContext, day: date) -> None:
    table = completeness(ctx.layer("stations", on=day), ctx.layer("communities"))
    st.markdown(f"**一老一少一普完备情况：{int(table['complete'].sum())}/{len(table)} 个社区完备**")
    yes = {True: "有", False: "无"}
    st.dataframe(pd.DataFrame({"社区": table["name"],
                               **{k.label: table[f"has_{k.value}"].map(yes) for k in ONE_OLD_ONE_YOUNG_ONE_GENERAL},
                               "缺少": table["missing_label"]}), hide_index=True, width="stretch")


def sites_view(ctx: PageContext) -> None:
    """Where to add a station: the k sites (compound locations) that reach the most uncovered households."""
    c1, c2, c3 = st.columns(3)
    kind = c1.selectbox("站点类型", [k.value for k in StationKind], format_func=lambda v: StationKind(v).label, key="site_kind")
    metres = c2.number_input("服务半径（米）", 100, 2000, 300, 50, key="site_radius")
    k = c3.number_input("建议新增站点数", 1, 10, 3, 1, key="site_k")
    sites = propose_sites(ctx.layer("compounds"), ctx.layer("stations", DISTRICT), kind, metres, k=int(k))
    st.caption("最大覆盖选址（贪心法）：候选点为各老旧小区位置，每一步选取新增覆盖未覆盖户数最多的点。")
    if not len(sites):
        st.success("所选范围内的老旧小区都已在服务半径内。")
        return
    st.dataframe(pd.DataFrame({"序号": sites["rank"], "建议位置（小区）": sites["name"],
                               "所属社区": sites["community_code"].map(ctx.units.names),
                               "新增覆盖户数": sites["households_added"], "新增覆盖小区": sites["compounds_added"],
                               "累计新增户数": sites["cumulative_households"]}), hide_index=True, width="stretch")


def export_button(sheets: dict[str, pd.DataFrame], scope_name: str) -> None:
    st.download_button(f"下载 Excel（{'、'.join(sheets)}）", lambda: to_xlsx(sheets),  # made when clicked
                       file_name=f"网格与服务覆盖_{scope_name}.xlsx", key="cov_xlsx", on_click="ignore",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

