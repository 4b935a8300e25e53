"""Statistics of a scope, cached per (scope, period, data version): computed by geo.rollup and, for the 党建引领
indicators, geo.party."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import streamlit as st

from dashboard.context import PageContext
from geo.hierarchy import child_key
from geo.party import party_indicators, scorecard, with_party_ratios
from geo.rollup import (
    Period,
    monthly_disputes,
    renovation_pipeline,
    totals,
    unit_table,
    with_ratios,
)
from geo.scope import Scope
from geo.staffing import vacant_grids
from geo.vocab import Level

RECORDS = ("grids", "compounds", "stations", "disputes")
PARTY_TABLES = ("party_orgs", "volunteer_teams", "consultation_days", "community_resources")


@dataclass(frozen=True)
class ScopeStats:
    """Totals of the scope now and in the previous period (vacancies: on its last day, from the grid workers'
    periods), its children's table, and two series."""

    total: pd.Series
    previous: pd.Series
    children: pd.DataFrame
    monthly: pd.DataFrame
    pipeline: pd.DataFrame
    card: pd.DataFrame  # geo.party.scorecard of the scope's communities (a grid: its community)


def _table(ctx: PageContext, scope: Scope, key: str, period: Period) -> pd.DataFrame:
    grids, compounds, stations, disputes = (ctx.layer(n, scope) for n in RECORDS)
    # 一老一少一普 is a community's: a grid is judged on its community's stations, not on those inside the grid
    return unit_table(grids, compounds, stations, disputes, ctx.layer("communities", scope),
                      _community_stations(ctx, scope), key, period, ctx.settings.overdue_days)


def _community_stations(ctx: PageContext, scope: Scope) -> pd.DataFrame:
    """The open stations the standards of the scope's communities are judged on: a grid's community's, not the grid's."""
    return ctx.layer("stations", Scope(scope.community) if scope.level is Level.GRID else scope)


def _party(ctx: PageContext, scope: Scope, key: str) -> pd.DataFrame:
    """The 党建引领 indicators per unit ``key`` (geo.party; consultation days over the 12 months before the data's
    month). Integer columns, except volunteer_teams / volunteers: NaN at grid key (teams belong to communities)."""
    orgs, teams, days, resources = (ctx.table(n, scope) for n in PARTY_TABLES)
    stations = _community_stations(ctx, scope)
    if scope.level is Level.GRID:  # the grid's own volunteer stations; its community's for the standards
        stations = stations.assign(grid_code=stations["grid_code"].where(stations["grid_code"] == scope.grid))
    return party_indicators(ctx.layer("grids", scope), ctx.layer("compounds", scope), stations,
                            orgs, teams, days, resources, ctx.layer("communities", scope), key=key, as_of=ctx.as_of)


def _card(ctx: PageContext, scope: Scope) -> pd.DataFrame:
    """The standards scorecard of the scope's communities (``geo.party.scorecard``)."""
    return scorecard(ctx.layer("communities", scope), ctx.table("community_resources", scope),
                     _community_stations(ctx, scope), ctx.table("consultation_days", scope), ctx.as_of)


def _scope_total(ctx: PageContext, scope: Scope, period: Period, staffing_on: date | None = None,
                 party: pd.DataFrame | None = None) -> pd.Series:
    """The scope's totals over ``period``; with ``staffing_on``, the vacancies are those of that day, counted
    from the grid workers' periods (``geo.staffing.vacant_grids``) instead of the grids' current state.
    ``party``: the scope's 党建引领 indicators at the same key (they do not move with the period), when wanted."""
    key = "grid_code" if scope.level is Level.GRID else "street_code"
    total = totals(_table(ctx, scope, key, period))
    if staffing_on is not None:
        total["vacancies"] = len(vacant_grids(ctx.grid_periods(), ctx.layer("grids", scope), staffing_on))
    if party is not None:
        total = pd.concat([total, party.sum(min_count=1)])  # NaN stays NaN (teams at grid scope)
    return with_party_ratios(with_ratios(total.to_frame().T)).iloc[0]


@st.cache_data(show_spinner=False, max_entries=256, hash_funcs={PageContext: lambda c: (
    c.settings.db_url, c.version, c.scope.code, c.period_days, c.as_of, c.settings.overdue_days)})
def scope_stats(ctx: PageContext) -> ScopeStats:
    """Everything the statistics panels show for ``ctx.scope`` and ``ctx.period``."""
    period, scope = ctx.period, ctx.scope
    key = child_key(scope)
    children, party = pd.DataFrame(), None
    if key is not None:
        party = _party(ctx, scope, key)
        children = with_party_ratios(with_ratios(_table(ctx, scope, key, period).join(party)))
        children.insert(0, "name", [ctx.units.names.get(c, c) for c in children.index])
    if key in (None, "grid_code"):  # grid rows are not additive: the scope's own figures, counted once more
        party = _party(ctx, scope, "grid_code" if scope.level is Level.GRID else "street_code")
    return ScopeStats(
        total=_scope_total(ctx, scope, period, party=party),
        previous=_scope_total(ctx, scope, period.previous(), staffing_on=period.previous().end),
        children=children,
        monthly=monthly_disputes(ctx.layer("disputes"), end=ctx.as_of, months=12),
        pipeline=renovation_pipeline(ctx.layer("compounds")),
        card=_card(ctx, scope),
    )
