"""Statistics of a scope, cached per (scope, period, data version): all computed by geo.rollup."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import streamlit as st

from dashboard.context import PageContext
from geo.hierarchy import child_key
from geo.rollup import (
    Period,
    indicators,
    monthly_disputes,
    renovation_pipeline,
    station_completeness,
    totals,
    with_ratios,
)
from geo.scope import Scope
from geo.staffing import vacant_grids
from geo.vocab import Level

RECORDS = ("grids", "compounds", "stations", "disputes")


@dataclass(frozen=True)
class ScopeStats:
    """Totals of the scope now and in the previous period (vacancies: on its last day, from the grid workers'
    periods), its children's table, and two series."""

    total: pd.Series
    previous: pd.Series
    children: pd.DataFrame
    monthly: pd.DataFrame
    pipeline: pd.DataFrame


def _table(ctx: PageContext, scope: Scope, key: str, period: Period) -> pd.DataFrame:
    grids, compounds, stations, disputes = (ctx.layer(n, scope) for n in RECORDS)
    table = indicators(grids, compounds, stations, disputes, key=key, period=period,
                       overdue_days=ctx.settings.overdue_days)
    complete = station_completeness(stations, ctx.layer("communities", scope), key, grids=grids)
    return table.join(complete, how="left").fillna(0).astype(int)


def _scope_total(ctx: PageContext, scope: Scope, period: Period, staffing_on: date | None = None) -> pd.Series:
    """The scope's totals over ``period``; with ``staffing_on``, the vacancies are those of that day, counted
    from the grid workers' periods (``geo.staffing.vacant_grids``) instead of the grids' current state."""
    key = "grid_code" if scope.level is Level.GRID else "street_code"
    total = totals(_table(ctx, scope, key, period))
    if staffing_on is not None:
        total["vacancies"] = len(vacant_grids(ctx.grid_periods(), ctx.layer("grids", scope), staffing_on))
    return with_ratios(total.to_frame().T).iloc[0]


@st.cache_data(show_spinner=False, max_entries=256, hash_funcs={PageContext: lambda c: (
    c.settings.db_url, c.version, c.scope.code, c.period_days, c.as_of, c.settings.overdue_days)})
def scope_stats(ctx: PageContext) -> ScopeStats:
    """Everything the statistics panels show for ``ctx.scope`` and ``ctx.period``."""
    period, scope = ctx.period, ctx.scope
    key = child_key(scope)
    children = pd.DataFrame()
    if key is not None:
        children = with_ratios(_table(ctx, scope, key, period))
        children.insert(0, "name", [ctx.units.names.get(c, c) for c in children.index])
    return ScopeStats(
        total=_scope_total(ctx, scope, period),
        previous=_scope_total(ctx, scope, period.previous(), staffing_on=period.previous().end),
        children=children,
        monthly=monthly_disputes(ctx.layer("disputes"), end=ctx.as_of, months=12),
        pipeline=renovation_pipeline(ctx.layer("compounds")),
    )
