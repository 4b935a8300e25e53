"""The gaps of a scope as lists, each with its Excel download, and the standards scorecard of its communities.

Every figure comes from ``geo.party`` (uncovered_compounds, scorecard, missed_months) on the page's cached
frames. Tables have Chinese headers; a missing figure shows 「—」 (the numbers stay numbers, so a click on a
column header sorts them as numbers).
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from dashboard.context import PageContext
from data.export import to_xlsx
from geo.party import CONSULTATION_TARGET, FUNDS_MIN_WAN, SPACE_MIN_M2, missed_months, scorecard, uncovered_compounds
from geo.scope import DISTRICT, Scope
from geo.vocab import ONE_OLD_ONE_YOUNG_ONE_GENERAL, Level, StandardState

MISSING = "—"
FUNDS = "工作经费（万元）"
SPACE = "办公服务用房（㎡）"
FUNDS_OK = f"经费≥{FUNDS_MIN_WAN:g}万元"
SPACE_OK = f"用房≥{SPACE_MIN_M2:g}㎡"
STATIONS_OK = "一老一少一普"
DAYS = "恳谈日（近12个月）"
DAYS_OK = f"恳谈日{CONSULTATION_TARGET}/{CONSULTATION_TARGET}"
ALL_OK = "综合达标"
REASONS = "未达标原因"
NUMBER_FORMATS = {FUNDS: "{:.1f}", SPACE: "{:,.0f}", "户数": "{:,.0f}", DAYS: "{:.0f}"}


@dataclass(frozen=True)
class Gaps:
    """The scope's lists, Chinese headers, one row per item."""

    uncovered: pd.DataFrame
    below_standard: pd.DataFrame
    missed: pd.DataFrame
    scorecard: pd.DataFrame


def _state(flags: pd.Series) -> pd.Series:
    return flags.map({True: StandardState.MET.label, False: StandardState.UNMET.label})


def scorecard_table(card: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """``geo.party.scorecard`` with Chinese headers: each standard 达标 / 未达标, the figures, the reasons."""
    return pd.DataFrame({
        "社区": card["name"].astype(str).to_numpy(),
        "所属街道": [names.get(str(s), str(s)) for s in card["street_code"]],
        FUNDS: card["funds_wan"].to_numpy(), FUNDS_OK: _state(card["funds_ok"]).to_numpy(),
        SPACE: card["space_m2"].to_numpy(), SPACE_OK: _state(card["space_ok"]).to_numpy(),
        STATIONS_OK: _state(card["stations_ok"]).to_numpy(),
        DAYS: card["consultation_days"].to_numpy(), DAYS_OK: _state(card["months_missed"].eq(0)).to_numpy(),
        ALL_OK: _state(card["all_ok"]).to_numpy(),
        REASONS: [r if r else MISSING for r in card["reasons"]],
        "社区编码": card.index.astype(str).to_numpy(),
    })


def community_scope(scope: Scope) -> Scope:
    """The scope whose communities' standards are shown: a grid shows its whole community (its stations, days)."""
    return scope.parent() if scope.level is Level.GRID else scope


def gap_tables(ctx: PageContext) -> Gaps:
    """The scope's uncovered compounds, communities below a standard (a grid: its community's), missed consultation
    months, scorecard. Organisations are those of the whole district: a joint one belongs to the community of its
    first compound."""
    names = ctx.units.names
    scope = community_scope(ctx.scope)
    communities, days = ctx.layer("communities", scope), ctx.table("consultation_days", scope)
    card = scorecard(communities, ctx.table("community_resources", scope), ctx.layer("stations", scope), days,
                     ctx.as_of)
    table = scorecard_table(card, names)
    below = table.loc[~card["all_ok"].to_numpy(), ["社区", "所属街道", REASONS, FUNDS, SPACE, "社区编码"]]
    missed = missed_months(days, communities, ctx.as_of)
    street = dict(zip(communities["code"].astype(str), communities["street_code"].astype(str)))
    missed_table = pd.DataFrame({"社区": missed["name"].astype(str).to_numpy(),
                                 "所属街道": [names.get(street.get(str(c), ""), MISSING) for c in missed["community_code"]],
                                 "月份": missed["month"].to_numpy(),
                                 "社区编码": missed["community_code"].astype(str).to_numpy()})
    return Gaps(_uncovered(ctx, names), below.reset_index(drop=True), missed_table, table)


def _uncovered(ctx: PageContext, names: dict[str, str]) -> pd.DataFrame:
    rows = uncovered_compounds(ctx.layer("compounds"), ctx.table("party_orgs", DISTRICT))
    return pd.DataFrame({"小区名称": rows["name"].astype(str).to_numpy(),
                         "所属社区": [names.get(str(c), MISSING) for c in rows["community_code"]],
                         "所属网格": [names.get(str(c), MISSING) for c in rows["grid_code"]],
                         "户数": rows["households"].to_numpy(), "小区编码": rows["code"].astype(str).to_numpy()})


def _styled(table: pd.DataFrame):
    """The table with numbers formatted, every missing value shown as 「—」 (values stay sortable numbers) and
    each 未达标 in red."""
    formats = {c: f for c, f in NUMBER_FORMATS.items() if c in table.columns}
    unmet = f"color: {StandardState.UNMET.color}; font-weight: bold"
    return table.style.format(formats, na_rep=MISSING).map(
        lambda v: unmet if v == StandardState.UNMET.label else "")


def _list(table: pd.DataFrame, key: str, sheet: str, scope_name: str, empty: str) -> None:
    """One list: the table (or a success line when empty), its row count and its Excel download."""
    if table.empty:
        st.success(empty)
    else:
        st.dataframe(_styled(table), hide_index=True, width="stretch", height=min(38 + 35 * len(table), 420), key=key,
                     placeholder=MISSING)  # a Styler's na_rep does not reach the canvas; this does
    st.caption(f"共 {len(table)} 条（点击列名排序）")
    st.download_button(f"下载 Excel（{sheet}）", to_xlsx({sheet: table}), file_name=f"{sheet}_{scope_name}.xlsx",
                       key=f"{key}_xlsx", on_click="ignore",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


LISTS = (  # attribute of Gaps, sheet / tab name, widget key, line when empty
    ("uncovered", "未覆盖党组织的小区", "party_uncovered", "范围内每个小区都有小区党组织（单独或联合设置）。"),
    ("below_standard", "未达标社区", "party_below", "范围内社区的工作经费、办公服务用房和一老一少一普站点均达标。"),
    ("missed", "未开展恳谈日的月份", "party_missed", "近12个月范围内每个社区每月都开展了居民恳谈日。"),
    ("scorecard", "社区达标评分表", "party_scorecard", "范围内没有社区。"),
)


def show_gaps(ctx: PageContext, gaps: Gaps, scope_name: str) -> None:
    """One tab per list (its row count in the tab's name), each with its Excel download."""
    tabs = st.tabs([f"{sheet}（{len(getattr(gaps, attr))}）" for attr, sheet, _, _ in LISTS])
    for tab, (attr, sheet, key, empty) in zip(tabs, LISTS):
        with tab:
            if attr == "scorecard":
                kinds = "、".join(k.label for k in ONE_OLD_ONE_YOUNG_ONE_GENERAL)
                st.caption(f"{ALL_OK}：{FUNDS_OK}、{SPACE_OK}、{STATIONS_OK}（{kinds}）三项均达标；"
                           f"{DAYS_OK}：近12个月每月都开展了居民恳谈日。")
            _list(getattr(gaps, attr), key, sheet, scope_name, empty)
