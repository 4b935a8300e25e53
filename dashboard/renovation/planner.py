"""改造计划: budget, year, optional per-sub-district cap and visible weights → an optimised batch."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.context import PageContext
from dashboard.kpi import metric
from dashboard.tables import show_table
from data.export import to_xlsx
from geo import formatting as fmt
from geo.renovation import (
    FACTOR_LABELS,
    FACTORS,
    METHODS,
    OBJECTIVE_NOTES,
    OBJECTIVES,
    Plan,
    PriorityWeights,
    plan_batch,
    score_compounds,
    size_distribution,
)
from geo.renovation import years_to_finish as finish_years
from geo.scope import DISTRICT
from geo.vocab import RenovationStatus

DEFAULT_BUDGET_WAN = 10_000.0  # 1 亿元: the district's yearly renovation budget


@st.cache_data(show_spinner="正在计算优先级…", max_entries=64, hash_funcs={PageContext: lambda c: (
    c.settings.db_url, c.version, c.scope.code, c.as_of)})
def scored_candidates(ctx: PageContext, weights: PriorityWeights) -> pd.DataFrame:
    """Candidate compounds of the scope with every factor and the score (geo.renovation).

    Stations and disputes come from the whole district: a compound near the edge of its community
    is served by, and troubled by, what lies across the boundary too."""
    stations, disputes = ctx.layer("stations", DISTRICT), ctx.layer("disputes", DISTRICT)
    return pd.DataFrame(score_compounds(ctx.layer("compounds"), stations, disputes, weights, ctx.as_of))


def weight_inputs() -> PriorityWeights:
    """One slider per factor; the defaults are the documented ones."""
    defaults = PriorityWeights().as_dict()
    st.markdown("**优先级权重**（各因素得分 = 权重占比 × 归一化值 × 100）")
    cols = st.columns(len(FACTORS))
    values = {f: cols[i].slider(FACTOR_LABELS[f], 0.0, 1.0, float(defaults[f]), 0.05, key=f"w_{f}")
              for i, f in enumerate(FACTORS)}
    if sum(values.values()) == 0:
        st.warning("所有权重均为 0：按默认权重计算。")
        return PriorityWeights()
    return PriorityWeights(**values)


def _batch_table(plan: Plan, year: int, names: dict[str, str]) -> pd.DataFrame:
    chosen = plan.chosen
    table = pd.DataFrame({
        "优先序": range(1, len(chosen) + 1), "小区名称": chosen["name"].to_numpy(),
        "所属街道": chosen["street_code"].map(names).to_numpy(), "所属社区": chosen["community_code"].map(names).to_numpy(),
        "户数": chosen["households"].to_numpy(), "建成年份": chosen["built_year"].to_numpy(),
        "预算（万元）": chosen["budget_wan"].round(1).to_numpy(),
        "预算为估算": chosen["budget_estimated"].map({True: "是", False: "否"}).to_numpy(),
        "计划年度": year, "优先级得分": chosen["score"].round(2).to_numpy(),
    })
    for f in FACTORS:
        table[f"{FACTOR_LABELS[f]}得分"] = chosen[f"{f}_points"].round(2).to_numpy()
    table["编码"] = chosen["code"].to_numpy()
    return table


def _plan_inputs(ctx: PageContext) -> tuple[float, int, float | None]:
    left, mid, right = st.columns(3)
    budget = left.number_input("年度预算（万元）", min_value=0.0, value=DEFAULT_BUDGET_WAN, step=500.0, key="plan_budget")
    year = mid.number_input("计划年度", min_value=2020, max_value=2040, value=ctx.as_of.year + 1, step=1, key="plan_year")
    cap = right.number_input("每个街道上限（万元，0 为不设）", min_value=0.0, value=0.0, step=500.0, key="plan_cap",
                             help="每个街道（镇）本批次可用预算的上限，避免资金过度集中")
    return float(budget), int(year), (float(cap) or None)


def objective_input() -> str:
    """The planning objective (geo.renovation.OBJECTIVES) with a line saying what it favours."""
    objective = st.radio("规划目标", list(OBJECTIVES), format_func=OBJECTIVES.get, key="plan_objective", horizontal=True,
                         help="三种目标都用整数规划精确求解，只是每个小区的“价值”不同：得分、户数或得分 × 户数") or "score"
    st.caption(OBJECTIVE_NOTES[objective])
    return objective


def planner(ctx: PageContext, pipeline: pd.DataFrame) -> None:
    """The planner tab: inputs, the objective, the optimised batch with its score breakdown, totals, its size
    distribution, years to finish, export."""
    st.caption("候选：未纳入计划与已纳入计划（尚未开工）的小区。批次用整数规划（精确求解，结果最优）在预算内"
               "使所选目标最大，并与“按每万元价值贪心”对比；无预算的小区按 25 万元 + 0.9 万元/户估算。")
    budget, year, cap = _plan_inputs(ctx)
    objective = objective_input()
    weights = weight_inputs()
    scored = scored_candidates(ctx, weights)
    if scored.empty:
        st.info("当前范围内没有待改造的小区。")
        return
    caps = {s: cap for s in scored["street_code"].unique()} if cap else None
    plan = plan_batch(scored, budget, street_caps=caps, method="milp", objective=objective)
    greedy = plan_batch(scored, budget, street_caps=caps, method="greedy", objective=objective)
    _totals(plan, greedy, scored, budget)
    _sizes(plan)
    table = _batch_table(plan, year, ctx.units.names)
    show_table(table, "预算内没有可以纳入本批次的小区（预算为 0 或每个小区都超出预算）。", hide_index=True,
               width="stretch", height=min(38 + 35 * len(table), 460),
               column_config={"优先级得分": st.column_config.ProgressColumn("优先级得分", min_value=0, max_value=100,
                                                                          format="%.1f")})
    workbook = to_xlsx({"改造批次建议": table, "改造项目台账": pipeline})
    st.download_button("下载 Excel（批次建议 + 项目台账）", workbook, file_name=f"老旧小区改造计划_{year}.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="plan_xlsx")


VALUE_CARDS = {"score": ("总优先级得分", "decimal"), "households": ("受益户数（目标）", "count"),
               "score_households": ("得分×户数", "count")}
"""The card of each objective's value: its label and its kind (``geo.formatting``)."""


def _objective_card(col, plan: Plan, greedy: Plan) -> None:
    """The objective's value of the batch and its change against greedy (「与贪心法持平」 when equal)."""
    label, kind = VALUE_CARDS[plan.objective]
    metric(col, label, fmt.figure(plan.total_value, kind), plan.total_value - greedy.total_value, kind, "较贪心法",
           help=f"规划目标：{OBJECTIVES[plan.objective]}；贪心法（按每万元价值）为 {fmt.figure(greedy.total_value, kind)}")


def _totals(plan: Plan, greedy: Plan, scored: pd.DataFrame, budget: float) -> None:
    t = plan.totals()
    cols = st.columns(5)
    cols[0].metric("建议改造小区", f"{t['compounds']} 个", help=f"方法：{METHODS[plan.method]}"
                   + ("（已证明最优）" if plan.proven_optimal else "") + f"；平均每个小区 {fmt.decimal(plan.mean_households)} 户")
    cols[1].metric("受益户数", f"{int(t['households']):,}")
    cols[2].metric("使用预算", fmt.decimal(t["budget_used_wan"], unit="万元"),
                   help=f"剩余 {fmt.decimal(t['budget_left_wan'], unit='万元')}")
    _objective_card(cols[3], plan, greedy)
    years = finish_years(scored, budget, objective=plan.objective)
    unplanned = int((scored["status"] == RenovationStatus.NOT_PLANNED.value).sum())
    cols[4].metric("全部完成需", "无法完成" if years is None else f"{years} 年",
                   help=f"按此年度预算逐年规划，{len(scored)} 个待改造小区（其中 {unplanned} 个尚未纳入计划）全部完成所需年数；"
                        "预算为 0 或单个小区超出年度预算时无法完成")


def size_table(sizes: pd.DataFrame) -> pd.DataFrame:
    """``geo.renovation.size_distribution`` with Chinese headers and counts as text with thousands separators
    (「9,687」; ``geo.formatting.count``): five bands in order, not a table to sort."""
    return pd.DataFrame({"每个小区户数": sizes["band"], "小区数": sizes["compounds"].map(fmt.count),
                         "户数": sizes["households"].map(fmt.count)})


def _sizes(plan: Plan) -> None:
    """The batch's size distribution: compounds and households per households-per-compound band."""
    sizes = size_distribution(plan.chosen)
    st.markdown(f"**批次规模分布**（{plan.compounds} 个小区，平均每个小区 {fmt.decimal(plan.mean_households)} 户）")
    left, right = st.columns([2, 3])
    with left:
        right_aligned = st.column_config.TextColumn(alignment="right")
        show_table(size_table(sizes), "本批次没有小区。", hide_index=True, width="stretch",
                   column_config={"小区数": right_aligned, "户数": right_aligned})
    right.bar_chart(sizes.set_index("band")["compounds"].rename("小区数"), x_label="每个小区户数", y_label="小区数",
                    height=190, color="#c62828")
