"""站点维护: service stations added, moved and closed on the map of the scope.

Add: click the map where the new station stands, then fill in kind, name, address, hours and capacity.
Move: choose a station, then click its new place on the map. Close: choose a station and the closing day
(the station is kept; roll-ups and coverage leave it out from that day). A click comes back through
streamlit-folium's ``last_clicked``; the chosen point is drawn over the cached map as a small extra layer
(``show_folium(feature_group=…)``), so the map keeps its zoom. Every save goes through
``data.station_edits`` (scope, version and values checked in the store) and moves the data version, so
服务覆盖 and every roll-up count the change at the next run.
"""
from __future__ import annotations

import html
from collections.abc import Callable

import folium
import pandas as pd
import shapely
import streamlit as st

from dashboard.auth import current_account
from dashboard.context import PageContext, engine
from dashboard.edit_ui import history_table, saved
from dashboard.foliumview import show_folium
from dashboard.mapunits import count_units, outline_table
from dashboard.mapview import STATIC_PREFIX, reference_frames, serve_assets
from dashboard.text import md_escape, md_format
from data.station_edits import add_station, close_station, move_station, station_history
from geo.access import Account, can_write
from geo.lifecycle import district_today
from geo.scope import DISTRICT
from geo.station_rules import FIELD_LABELS, placement, scope_problem
from geo.vocab import Level, Role, StationKind
from layers.assets import streamlit_mode
from layers.common import HeaderStyle, view_tolerance_m
from layers.mapbuild import build_map
from layers.registry import LAYERS

MODES = ("新增站点", "迁移站点", "关闭站点")
MODE_KEY, STATION_KEY = "se_mode", "se_station"
POINT_KEY, SEEN_KEY, FLASH_KEY, FORM_KEY = "se_point", "se_seen_click", "se_flash", "se_form"
MAP_HEIGHT = 480
NO_FOCUS_RING = ".leaflet-container path.leaflet-interactive:focus { outline: none; }"
"""A click that picks a place is no selection of the polygon under it: no browser focus ring around that."""
UNITS = {Level.DISTRICT: "communities", Level.STREET: "communities", Level.COMMUNITY: "grids", Level.GRID: "grids"}
HOURS = {StationKind.ELDERLY_CENTRE: "00:00-24:00", StationKind.CULTURE: "09:00-21:00"}
"""Suggested opening hours by kind (others: 08:30-17:30)."""


def station_edit_view(ctx: PageContext) -> None:
    """The 站点维护 view of the coverage workspace."""
    account = current_account()
    stations = ctx.layer("stations")
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash:
        st.success(flash)
    writer = _writes_here(account, ctx)
    mode = MODES[0]
    if writer:
        mode = st.segmented_control("操作", MODES, default=MODES[0], key=MODE_KEY, label_visibility="collapsed") \
            or MODES[0]
    chosen = _chosen_station(stations, mode, account) if writer else None  # above the map: choose, then click
    _station_map(ctx, chosen)
    if writer:
        _form(ctx, mode, chosen, account)
    else:
        _why_read_only(account, ctx)
    _closed_table(ctx)


def _writes_here(account: Account | None, ctx: PageContext) -> bool:
    """Whether the account may write somewhere inside the scope (its own scope inside it, or the other way round)."""
    if account is None or not account.active:
        return False
    if account.role is Role.DISTRICT:
        return True
    return can_write(account, ctx.scope.code) or account.scope_code.startswith(ctx.scope.code)


def _why_read_only(account: Account | None, ctx: PageContext) -> None:
    if account is None:
        st.info("登录后才能新增、迁移和关闭站点；每次修改都以登录账号记入审计日志。")
    else:
        st.warning(md_format("账号“{}”（{}）只能维护{}范围内的站点；请在左侧选择该范围后再操作。", account.username,
                             account.role.label, account.where))


# ---------------------------------------------------------------- the map and the clicked point


@st.cache_resource(max_entries=16, show_spinner=False, hash_funcs={PageContext: lambda c: (
    c.settings.db_url, c.version, c.scope.code, c.today)})
def _base_map(ctx: PageContext) -> tuple[folium.Map, list[tuple[str, str, list[tuple[str, str]]]]]:
    """The scope's units and open stations, built once per (data version, scope, day) and shared, and their legend
    as (title, shape, items). The legend is drawn under the map, not on it, so that no part of the scope is
    hidden where a station may have to be placed."""
    table = outline_table(ctx, UNITS[ctx.scope.level])
    units = ctx.layer(table)
    bounds = units.total_bounds
    m = build_map(bounds, asset_mode=streamlit_mode(ctx.settings.asset_mode), prefix=STATIC_PREFIX,
                  settings=ctx.settings)
    m.add_child(HeaderStyle("station_edit", NO_FOCUS_RING))
    options = {"level": ctx.scope.level.value, "units": count_units(ctx), "tolerance_m": view_tolerance_m(bounds)}
    legend = []
    for key, frame in (*reference_frames(ctx, bounds).items(), (table, units), ("stations", ctx.layer("stations"))):
        spec = LAYERS[key]
        m.add_child(spec.build(frame, **options))
        legend.append((spec.section_title(**options), spec.shape, list(spec.legend_items(frame, **options))))
    return m, legend


def _legend(sections: list[tuple[str, str, list[tuple[str, str]]]]) -> None:
    """The map's legend as a line of colour chips per layer (labels from the vocabulary, escaped all the same)."""
    rows = []
    for title, shape, items in sections:
        radius = "50%" if shape == "circle" else "2px"
        chips = "".join(
            f'<span style="white-space:nowrap;margin-right:12px"><span style="display:inline-block;width:10px;'
            f'height:10px;border-radius:{radius};background:{html.escape(color)};margin-right:4px;'
            f'border:1px solid #263238"></span>{html.escape(label)}</span>' for label, color in items)
        rows.append(f'<div style="font-size:13px;line-height:1.9;color:#555"><b>{html.escape(title)}</b>：{chips}</div>')
    st.html("".join(rows))


def _marks(chosen: pd.Series | None) -> folium.FeatureGroup:
    """The clicked point (red ring) and the chosen station (blue ring), drawn over the cached map."""
    group = folium.FeatureGroup(name="所选位置")
    if chosen is not None:
        folium.CircleMarker([chosen["geometry"].y, chosen["geometry"].x], radius=13, color="#1565c0", weight=3, fill=False,
                            dash_array="4 3", tooltip="所选站点").add_to(group)
    point = st.session_state.get(POINT_KEY)
    if point is not None:
        folium.CircleMarker([point[1], point[0]], radius=9, color="#d50000", weight=3, fill=True, fill_color="#ffffff",
                            fill_opacity=0.7, tooltip="所选位置").add_to(group)
    return group


def _station_map(ctx: PageContext, chosen: pd.Series | None) -> None:
    serve_assets()
    st.caption("在地图上点击，选择新站点的位置（迁移时为站点的新位置）；红圈为所选位置，蓝色虚线圈为所选站点。")
    m, legend = _base_map(ctx)
    value = show_folium(m, key=f"se_map_{ctx.scope.code or 'district'}", height=MAP_HEIGHT,
                        returned_objects=["last_clicked"], feature_group=_marks(chosen))
    _legend(legend)
    clicked = (value or {}).get("last_clicked")
    if clicked and clicked != st.session_state.get(SEEN_KEY):
        st.session_state[SEEN_KEY] = clicked
        st.session_state[POINT_KEY] = (round(float(clicked["lng"]), 7), round(float(clicked["lat"]), 7))
        st.rerun()  # draw the red ring at once


def _picked(ctx: PageContext, account: Account) -> shapely.Point | None:
    """The clicked point, said in words (where it lies, whether the account may put a station there)."""
    point = st.session_state.get(POINT_KEY)
    if point is None:
        st.caption("尚未在地图上选择位置。")
        return None
    where = shapely.Point(point)
    units, problems = placement(where, ctx.layer("grids", DISTRICT))
    if problems:
        st.warning(md_escape(problems[0]))
        return where
    names = ctx.units.names
    place = f"{names.get(units['community_code'], '')} {names.get(units['grid_code'], '')}".strip()
    st.markdown(md_format("所选位置：经度 {:.6f}，纬度 {:.6f} · {}", where.x, where.y, place))
    problem = scope_problem(account, units, place)
    if problem:
        st.warning(md_escape(problem))
    return where


# ---------------------------------------------------------------- forms


def _chosen_station(stations: pd.DataFrame, mode: str, account: Account) -> pd.Series | None:
    """The open station of the scope chosen for moving or closing (only those the account may change)."""
    if mode == MODES[0]:
        return None
    stations = stations[[can_write(account, c) for c in stations["community_code"]]]
    if not len(stations):
        st.caption("所选范围内没有您可以维护的站点。")
        return None
    kinds = StationKind.labels()
    labels = {c: n if kinds.get(k, k) in n else f"{n}（{kinds.get(k, k)}）"
              for c, n, k in zip(stations["code"], stations["name"], stations["kind"])}
    code = st.selectbox("选择站点", list(labels), index=None, format_func=labels.get, key=STATION_KEY,
                        placeholder="输入站点名称搜索…")
    if code not in labels:
        return None
    row = stations.set_index("code").loc[code]
    st.session_state.setdefault(_version_key(code), int(row["version"]))
    return row.rename(code)


def _version_key(code: str) -> str:
    return f"station_version_{code}"


def _form(ctx: PageContext, mode: str, chosen: pd.Series | None, account: Account) -> None:
    if mode == MODES[0]:
        point = _picked(ctx, account)
        fields = _add_form()
        if fields is not None:
            _save(None, lambda _v: add_station(engine(ctx), fields, point, account),
                  lambda new: f"已新增站点“{new['name']}”（编码 {new['code']}）", point_needed=point is None)
        return
    if chosen is None:
        st.caption("请选择站点。" + ("选择后在地图上点击它的新位置。" if mode == MODES[1] else ""))
        return
    code = str(chosen.name)
    if mode == MODES[1]:
        st.info("请在地图上点击该站点的新位置，再点“保存迁移”。", icon=":material/touch_app:")
        point = _picked(ctx, account)
        if st.button("保存迁移", type="primary", key="se_move"):
            _save(code, lambda v: move_station(engine(ctx), code, point, v, account),
                  lambda new: f"已迁移站点“{new['name']}”", point_needed=point is None)
    else:
        today = district_today()
        day = st.date_input(FIELD_LABELS["closed_on"], value=today, max_value=today, key="se_close_day",
                            format="YYYY-MM-DD", help="关闭当天起该站点不再计入覆盖和统计，记录保留")
        if st.button("确认关闭", type="primary", key="se_close"):
            _save(code, lambda v: close_station(engine(ctx), code, day, v, account),
                  lambda new: f"已关闭站点“{new['name']}”（{day.isoformat()} 起不再计入）")
    _history(ctx, code)


def _add_form() -> dict | None:
    """The new station's fields when the form is submitted. A saved station gives a fresh, empty form (a new
    form number); a refused save keeps what was typed."""
    today, n = district_today(), st.session_state.get(FORM_KEY, 0)
    with st.form(f"se_add_{n}"):
        top = st.columns([1, 2])
        kind = top[0].selectbox(FIELD_LABELS["kind"], [k.value for k in StationKind],
                                format_func=lambda v: StationKind(v).label, key=f"se_kind_{n}")
        name = top[1].text_input(FIELD_LABELS["name"], max_chars=60, placeholder="如：军门社区居家养老服务站（二）",
                                 key=f"se_name_{n}")
        cols = st.columns([2, 1, 1, 1])
        address = cols[0].text_input(FIELD_LABELS["address"], max_chars=120, placeholder="如：五四路100号",
                                     key=f"se_address_{n}")
        hours = cols[1].text_input(FIELD_LABELS["opening_hours"], max_chars=40, placeholder="08:30-17:30",
                                   key=f"se_hours_{n}")
        capacity = cols[2].number_input(FIELD_LABELS["capacity"], 0, 100_000, value=None, step=1, placeholder="可不填",
                                        key=f"se_capacity_{n}")
        opened = cols[3].date_input(FIELD_LABELS["opened_on"], value=today, max_value=today, format="YYYY-MM-DD",
                                    key=f"se_opened_{n}")
        if not st.form_submit_button("保存新站点", type="primary"):
            return None
    return {"kind": kind, "name": name, "address": address,
            "opening_hours": hours or HOURS.get(StationKind(kind), "08:30-17:30"), "capacity": capacity,
            "opened_on": opened}


def _save(code: str | None, write: Callable[[int | None], dict], done: Callable[[dict], str],
          point_needed: bool = False) -> None:
    """Run ``write(expected_version)``; on success forget the clicked point and rerun, else say why in Chinese."""
    if point_needed:
        st.error("请先在地图上点击选择位置。")
        return
    new = saved(write, None if code is None else _version_key(code))
    if new is None:
        return
    if code is not None:
        st.session_state[_version_key(code)] = int(new["version"])
    else:  # a new station: the next one starts from an empty form
        st.session_state[FORM_KEY] = st.session_state.get(FORM_KEY, 0) + 1
    st.session_state.pop(POINT_KEY, None)
    st.session_state[FLASH_KEY] = done(new)
    st.rerun()


def _history(ctx: PageContext, code: str) -> None:
    history_table(station_history(engine(ctx), code))



def _closed_table(ctx: PageContext) -> None:
    every = ctx.every_station()
    closed = every[every["closed_on"].notna()]
    if not len(closed):
        return
    with st.expander(f"已关闭的站点（{len(closed)} 个，记录保留，不计入覆盖和统计）"):
        st.dataframe(pd.DataFrame({
            "站点名称": closed["name"], FIELD_LABELS["kind"]: closed["kind"].map(StationKind.labels()),
            "所属社区": closed["community_code"].map(ctx.units.names),
            "启用日期": pd.to_datetime(closed["opened_on"]).dt.strftime("%Y-%m-%d").fillna("—"),
            "关闭日期": pd.to_datetime(closed["closed_on"]).dt.strftime("%Y-%m-%d"),
        }), hide_index=True, width="stretch")
