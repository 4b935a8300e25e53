"""大屏: the overview for a 1920×1080 meeting-room display — dark, large type, the map and the headline figures,
rotating through the themes.

Reached with ``?screen=big`` (plus ``scope``). ``rotate`` sets the seconds per theme (default 20),
``refresh`` how often (seconds, default 300) the data version is checked and the screen reloaded when
the data changed, ``theme`` pins one theme (party / grids / renovation / coverage / disputes). The 党建引领
theme comes first and shows its own figures in the tiles.
"""
from __future__ import annotations

import copy
import html
import time
from datetime import datetime

import folium
import streamlit as st
from streamlit_folium import st_folium

from dashboard.context import PageContext, engine
from dashboard.mapview import scope_map, serve_assets
from dashboard.overview.brief import make_briefing
from data.store import data_version
from geo.briefing import THEME_BY_KEY, THEMES, Briefing, Kpi, Theme, labelled
from geo.vocab import SAMPLE_NOTICE

SCREEN_PARAM, BIG = "screen", "big"
ROTATE = ("rotate", 20, 5, 600)  # query parameter, default, min, max (seconds)
REFRESH = ("refresh", 300, 30, 86_400)
TILE_KEYS = ("households", "grids", "vacancies", "renovated_share", "year_done", "disputes", "success_rate",
             "overdue")
PARTY = "party"  # the theme whose tiles are its own figures
MAP_HEIGHT = 860
STYLE = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
[data-testid="stToolbar"], [data-testid="stSidebarNav"], [data-testid="stDecoration"] { display: none !important; }
.stApp, [data-testid="stAppViewContainer"], [data-testid="stMain"] { background: #07111f !important; color: #e6edf5; }
[data-testid="stMainBlockContainer"], .block-container { padding: 18px 28px 8px 28px !important; max-width: 100% !important; }
.bs-head { display: flex; justify-content: space-between; align-items: flex-end; border-bottom: 2px solid #1d3a5f;
           padding-bottom: 8px; margin-bottom: 6px; }
.bs-title { font-size: 44px; font-weight: 700; color: #ffffff; letter-spacing: 3px; }
.bs-sub, .bs-note { font-size: 20px; color: #8fa3bf; }
.bs-note { font-size: 15px; margin-top: 6px; }
.bs-tiles { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
.bs-tile { background: #0e2035; border: 1px solid #1f3b5c; border-radius: 10px; padding: 10px 14px;
           min-height: clamp(118px, 9.3vw, 178px); }
.bs-tile .l { font-size: clamp(14px, 1.05vw, 20px); color: #8fa3bf; }
.bs-tile .v { font-size: clamp(26px, 2.2vw, 42px); font-weight: 700; color: #ffffff; line-height: 1.2; margin-top: 6px; }
.bs-tile .d { font-size: 18px; color: #8fa3bf; }
.bs-tile .v .u { font-size: 0.5em; font-weight: 400; color: #c9d6e6; white-space: nowrap; }
.bs-tile .bad { color: #ff7b72; } .bs-tile .good { color: #56d364; }
.bs-theme { font-size: 34px; font-weight: 700; color: #ffd166; margin: 4px 0 8px 0; }
.bs-dots span { display: inline-block; margin-left: 14px; font-size: 20px; color: #4a607d; }
.bs-dots span.on { color: #ffd166; font-weight: 700; }
.bs-rank-box { overflow-x: auto; }
table.bs-rank { width: 100%; border-collapse: collapse; font-size: clamp(13px, 1.05vw, 20px); color: #e6edf5; }
table.bs-rank th { font-size: clamp(11px, 0.8vw, 15px); color: #8fa3bf; font-weight: 400; text-align: right;
                   border-bottom: 1px solid #1f3b5c;
                   padding: 4px 2px 4px clamp(4px, 0.5vw, 10px); }
table.bs-rank td { padding: 5px 2px 5px clamp(4px, 0.5vw, 10px); text-align: right;
                   border-bottom: 1px solid #132a44; white-space: nowrap; }
table.bs-rank td:nth-child(2), table.bs-rank th:nth-child(2) { text-align: left; }
.bs-alert { font-size: 19px; color: #ffb4a9; margin: 4px 0; }
</style>"""
MAP_STYLE = ("<style>.leaflet-container { background: #0b1a2c !important; } .gl-legend { font-size: 15px !important; }"
             " .leaflet-control-layers { display: none; }</style>")


def requested() -> bool:
    """Whether the URL asks for the big screen (``?screen=big``)."""
    return st.query_params.get(SCREEN_PARAM) == BIG


def _seconds(spec: tuple[str, int, int, int]) -> int:
    name, default, lo, hi = spec
    raw = st.query_params.get(name, "")
    return min(max(int(raw), lo), hi) if raw.isdigit() else default


def current_theme(rotate: int, now: float | None = None) -> Theme:
    """The theme on screen: pinned with ``?theme=``, else the next one every ``rotate`` seconds."""
    pinned = st.query_params.get("theme", "")
    if pinned in THEME_BY_KEY:
        return THEME_BY_KEY[pinned]
    return THEMES[int((time.time() if now is None else now) // rotate) % len(THEMES)]


def _tile(k: Kpi) -> str:
    change = ""
    if k.change_text:
        worse = k.direction > 0 if k.lower_is_better else k.direction < 0
        tone = "" if k.direction == 0 else "bad" if worse else "good"
        change = f'<div class="d {tone}">{html.escape(k.change_text)}</div>'
    figure, unit = html.escape(k.text), html.escape(k.unit)
    if unit and figure.endswith(unit):  # "63/69 个社区": the unit smaller, so the figure stays on one line
        figure = f'{figure.removesuffix(unit).rstrip()} <span class="u">{unit}</span>'
    return (f'<div class="bs-tile"><div class="l">{html.escape(k.label)}</div>'
            f'<div class="v">{figure}</div>{change}</div>')


def _header(ctx: PageContext, b: Briefing, theme: Theme) -> None:
    dots = "".join(f'<span class="{"on" if t.key == theme.key else ""}">● {t.label}</span>' for t in THEMES)
    st.html(f'<div class="bs-head"><div><div class="bs-title">{html.escape(b.scope_name)} · 社区治理态势</div>'
            f'<div class="bs-sub">数据截至 {ctx.as_of:%Y年%m月%d日} · {html.escape(b.period_label)} · '
            f'刷新于 {datetime.now():%H:%M:%S}</div></div><div class="bs-dots">{dots}</div></div>')


def _tiles(b: Briefing, theme: Theme) -> None:
    """The headline figures; on the 党建引领 theme its own (at most as many tiles as the others)."""
    if theme.key == PARTY and b.party_kpis:
        kpis = b.party_kpis[:len(TILE_KEYS)]
    else:
        by_key = {k.key: k for k in b.kpis}
        kpis = [by_key[key] for key in TILE_KEYS if key in by_key]
    st.html('<div class="bs-tiles">' + "".join(_tile(k) for k in kpis) + "</div>")


def _map(ctx: PageContext, theme: Theme) -> None:
    serve_assets()
    m = copy.deepcopy(scope_map(ctx, (), theme.indicator, ctx.settings.basemap, details=False))  # a public wall
    m.get_root().header.add_child(folium.Element(MAP_STYLE))
    st_folium(m, height=MAP_HEIGHT, use_container_width=True, returned_objects=[], key=f"bigmap_{theme.key}")


def _theme_panel(b: Briefing, theme: Theme) -> None:
    st.html(f'<div class="bs-theme">{html.escape(theme.label)}</div>')
    if theme.key in b.rankings:
        table = labelled(b.rankings[theme.key], as_text=True).head(10)
        head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
                       for row in table.itertuples(index=False))
        st.html(f'<div class="bs-rank-box"><table class="bs-rank"><tr>{head}</tr>{body}</table></div>')
    alerts = b.alerts[b.alerts["theme"] == theme.key]
    lines = "".join(f'<div class="bs-alert">⚠ {html.escape(r.name)}：{html.escape(r.message)}</div>'
                    for r in alerts.head(4).itertuples())
    st.html(f'<div class="bs-sub" style="margin-top:14px">预警 {len(alerts)} 条</div>{lines}')


def _reload_if_changed(ctx: PageContext, refresh: int) -> None:
    """Every ``refresh`` seconds, look at the data version; reload the whole screen when it moved."""
    last = st.session_state.setdefault("bs_checked", time.time())
    if time.time() - last < refresh:
        return
    st.session_state["bs_checked"] = time.time()
    if data_version(engine(ctx)) != ctx.version:
        st.rerun(scope="app")


def render(ctx: PageContext) -> None:
    """The whole big screen; the theme part reruns on its own every ``rotate`` seconds."""
    rotate, refresh = _seconds(ROTATE), _seconds(REFRESH)
    sample = ctx.sample
    st.html(STYLE)

    @st.fragment(run_every=rotate)
    def rotating() -> None:
        _reload_if_changed(ctx, refresh)
        theme = current_theme(rotate)
        b = make_briefing(ctx, theme.indicator, sample)
        _header(ctx, b, theme)
        left, middle, right = st.columns([3.4, 5.2, 3.4], gap="medium")
        with left:
            _tiles(b, theme)
        with middle:
            _map(ctx, theme)
        with right:
            _theme_panel(b, theme)
        if sample:
            st.html(f'<div class="bs-note">{html.escape(SAMPLE_NOTICE)}</div>')

    rotating()
