"""The 党建与自治 KPI cards of a scope, from its totals (``dashboard.stats.scope_stats(ctx).total``, which holds
the ``geo.party`` columns and ratios)."""
from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from geo import formatting as fmt
from geo.party import CONSULTATION_TARGET, FUNDS_MIN_WAN, PARTY_RATIOS, SPACE_MIN_M2

MISSING = fmt.MISSING
PER_ROW = 5


def _num(total: pd.Series, key: str) -> float | None:
    value = total.get(key)
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else value


def _share(total: pd.Series, key: str) -> str:
    v = _num(total, key)
    return fmt.percent(v)


def _decimal(total: pd.Series, key: str) -> str:
    v = _num(total, key)
    return fmt.decimal(v)


def _count(total: pd.Series, key: str) -> str:
    v = _num(total, key)
    return fmt.count(v)


def _with_unit(figure: str, unit: str) -> str:
    return figure if figure == MISSING else f"{figure} {unit}"


def party_cards(total: pd.Series, grid: bool = False) -> list[tuple[str, str, str]]:
    """(label, figure, help) of each card, in reading order; "—" where a figure is unknown (no denominator).
    ``grid``: the scope is a grid (its party members are those of its grid-level organisations; volunteer teams
    belong to communities, so a grid has none of its own)."""
    members = "网格党组织党员" if grid else "社区党组织党员"
    c = lambda key: _count(total, key)  # noqa: E731 - a short alias keeps the table below readable
    return [
        (PARTY_RATIOS["org_coverage"], _share(total, "org_coverage"),
         f"有小区党组织（单独或联合设置）的小区 {c('covered_compounds')} 个，共 {c('compounds')} 个小区"),
        (PARTY_RATIOS["building_coverage"], _share(total, "building_coverage"),
         f"建有楼栋党小组的楼栋 {c('party_buildings')} 栋，共 {c('buildings')} 栋"),
        (PARTY_RATIOS["members_per_100"], _decimal(total, "members_per_100"),
         f"{members} {c('party_members')} 人，{c('households')} 户"),
        ("志愿服务队", _with_unit(c("volunteer_teams"), "支"),
         f"{PARTY_RATIOS['teams_per_1000']} {_decimal(total, 'teams_per_1000')}；志愿者 {c('volunteers')} 人"),
        (PARTY_RATIOS["volunteers_per_1000"], _decimal(total, "volunteers_per_1000"),
         f"志愿者 {c('volunteers')} 人，常住人口 {c('population')} 人"),
        (PARTY_RATIOS["assisted_share"], _share(total, "assisted_share"),
         f"有网格协管员的网格 {c('assisted_grids')} 个，共 {c('grids')} 个网格"),
        (PARTY_RATIOS["consultation_rate"], _share(total, "consultation_rate"),
         f"近12个月开展居民恳谈日 {c('consultation_days')} 次，目标每社区每年 {CONSULTATION_TARGET} 次"),
        (PARTY_RATIOS["issue_resolution"], _share(total, "issue_resolution"),
         f"恳谈日收集问题 {c('issues_raised')} 个，已解决 {c('issues_resolved')} 个（近12个月）"),
        ("社区达标", f"{c('standards_ok')}/{c('communities')}",
         f"工作经费≥{FUNDS_MIN_WAN:g}万元、办公服务用房≥{SPACE_MIN_M2:g}㎡、一老一少一普站点齐全，三项均达标的社区数"),
        ("示范站点 / 示范社区", f"{c('model_stations')} / {c('model_communities')}",
         "省级、市级示范志愿服务站点数 / 市级志愿服务示范社区数"),
    ]


def show_cards(total: pd.Series, grid: bool = False) -> None:
    """The cards, PER_ROW to a row."""
    cards = party_cards(total, grid)
    for first in range(0, len(cards), PER_ROW):
        for col, (label, figure, help_text) in zip(st.columns(PER_ROW), cards[first:first + PER_ROW]):
            col.metric(label, figure, help=help_text)
