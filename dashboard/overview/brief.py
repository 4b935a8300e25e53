"""The briefing of the page's scope and period, assembled once from the cached roll-ups (geo.briefing)."""
from __future__ import annotations

from datetime import datetime

import geopandas as gpd
import pandas as pd
import streamlit as st

from dashboard.context import PERIODS, PageContext
from dashboard.mapview import INDICATOR_LABELS, INDICATORS, children_frame
from dashboard.stats import scope_stats
from geo.briefing import THEMES, Briefing, find_alerts, headline_kpis, party_kpis, plan_kpi, ranking, year_plan
from geo.hierarchy import child_key
from geo.reference_view import view_features
from geo.vocab import DISTRICT_NAME
from layers.choropleth import unit_fills
from layers.common import view_tolerance_m

SOURCE = f"{DISTRICT_NAME}社区治理态势图"


def _year_plan(ctx: PageContext, key: str) -> pd.DataFrame:
    return year_plan(ctx.layer("compounds"), key, ctx.as_of.year)


def unit_table(ctx: PageContext) -> pd.DataFrame:
    """The units the overview ranks and checks: the scope's children, or the scope itself at grid level."""
    stats = scope_stats(ctx)
    key = child_key(ctx.scope)
    if key is None:
        table = stats.total.to_frame(ctx.scope.code).T.assign(name=ctx.units.name(ctx.scope))
        plan = _year_plan(ctx, "grid_code").reindex([ctx.scope.code])
    else:
        table, plan = stats.children, _year_plan(ctx, key)
    return table.join(plan, how="left").fillna({"year_planned": 0, "year_done": 0})


def _scope_total(ctx: PageContext) -> pd.Series:
    key = "grid_code" if child_key(ctx.scope) is None else "street_code"
    plan = _year_plan(ctx, key).sum()
    return pd.concat([scope_stats(ctx).total, plan.reindex(["year_planned", "year_done"]).fillna(0)])


@st.cache_data(show_spinner="正在汇总简报…", max_entries=64, hash_funcs={PageContext: lambda c: (
    c.settings.db_url, c.version, c.scope.code, c.period_days, c.as_of, c.settings.overdue_days)})
def make_briefing(ctx: PageContext, indicator: str, sample: bool) -> Briefing:
    """Everything the overview, the big screen, the PDF and the workbook show for the scope and period."""
    stats = scope_stats(ctx)
    label = PERIODS[str(ctx.period_days)]
    kpis = headline_kpis(stats.total, stats.previous, label, ctx.settings.overdue_days)
    kpis.insert(6, plan_kpi(_scope_total(ctx), ctx.as_of.year))
    units = unit_table(ctx)
    fmt, palette = INDICATORS[indicator]
    frame = children_frame(ctx, indicator)
    fills, legend = unit_fills(frame, value_label=INDICATOR_LABELS[indicator], value_format=fmt, palette=palette)
    trail = " › ".join(name for _, name in ctx.units.trail(ctx.scope))
    return Briefing(
        scope_code=ctx.scope.code, scope_name=ctx.units.name(ctx.scope), trail=trail, as_of=ctx.as_of,
        period=ctx.period, period_label=label, kpis=kpis,
        units=frame[["code", "name", "value", "geometry"]].assign(fill=fills),
        indicator_label=INDICATOR_LABELS[indicator], legend=legend,
        rankings={t.key: ranking(units, t) for t in THEMES} if child_key(ctx.scope) else {},
        monthly=stats.monthly, alerts=find_alerts(units, ctx.as_of, card=stats.card), sample=sample, source=SOURCE,
        generated=datetime(ctx.as_of.year, ctx.as_of.month, ctx.as_of.day),
        party_kpis=party_kpis(stats.total), card=stats.card, reference=_reference(ctx, frame.total_bounds),
    )


def _reference(ctx: PageContext, bounds) -> gpd.GeoDataFrame | None:
    """The reference features of the map's view as the screen map draws them (merged and simplified: small to
    keep in the cache), for the PDF's map to simplify further for the page; None when none are stored there."""
    frame = ctx.reference(bounds)
    return view_features(frame, ctx.scope.level, view_tolerance_m(bounds))[0] if len(frame) else None
