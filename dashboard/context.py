"""The one shared setup every page calls: settings, database, scope, period and the data cut-off.

The scope (``?scope=<code>``) and the period (``?period=30``) live in ``st.query_params`` so that a
copied link reopens the same view.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

import geopandas as gpd
import pandas as pd
import streamlit as st

from dashboard.auth import auth_panel, current_account, demo_account_warning
from dashboard.chinese import chinese_frontend
from dashboard.faults import stale_banner, stale_version
from dashboard.login_hint import LOST, keep_marker, lost_login
from dashboard.style import apply_style
from dashboard.text import md_escape
from data.accounts import demo_accounts_present
from data.reference import read_reference, reference_counts
from data.staffing import read_grid_workers
from data.store import data_version, holds_sample, open_store, read_layer, read_table
from geo.access import Account
from geo.errors import GuloError
from geo.hierarchy import Hierarchy
from geo.lifecycle import district_today
from geo.rollup import Period, data_as_of
from geo.scope import DISTRICT, Scope
from geo.settings import Settings, get_settings
from geo.station_rules import open_on
from geo.vocab import SAMPLE_NOTICE

log = logging.getLogger(__name__)
SCOPE_PARAM, PERIOD_PARAM = "scope", "period"
APP_TITLE = "鼓楼区社区治理态势图"
PERIODS = {"30": "近30天", "90": "近90天", "365": "近12个月"}
LOST_KEY = "login_lost"


@st.cache_resource(show_spinner="正在准备数据库（首次运行会生成示例辖区数据）…")
def _open(url: str, _settings: Settings):
    engine = open_store(_settings)
    demo = demo_accounts_present(engine)
    if demo:  # told at startup, in the server's log
        log.warning("仍存在演示账号（密码已公开）：%s。正式使用前请停用或重置：python -m data.cli accounts …", "、".join(demo))
    return engine


@st.cache_resource(show_spinner=False, max_entries=256)
def _stored_layer(url: str, name: str, scope_code: str, version: int) -> gpd.GeoDataFrame:
    """The table as read, kept once per process (never handed out: callers get a copy)."""
    return read_layer(_open(url, get_settings()), name, Scope(scope_code))


def _layer(url: str, name: str, scope_code: str, version: int) -> gpd.GeoDataFrame:
    """Table ``name`` inside the scope at data ``version``: a private copy of the cached frame.

    Not ``st.cache_data``: that unpickles the frame on every call, and turning 60,000 WKB points
    back into shapely objects costs a third of a second at 10× the sample; a copy shares the
    (immutable) geometries and costs milliseconds."""
    return _stored_layer(url, name, scope_code, version).copy()


@st.cache_resource(show_spinner=False, max_entries=128)
def _stored_table(url: str, name: str, scope_code: str, version: int) -> pd.DataFrame:
    """Record table ``name`` (no geometry) as read, kept once per process (callers get a copy)."""
    return read_table(_open(url, get_settings()), name, Scope(scope_code))


@st.cache_resource(show_spinner=False, max_entries=32)
def _stored_reference(url: str, bbox: tuple[float, float, float, float], version: int) -> gpd.GeoDataFrame:
    """The reference features meeting ``bbox`` as read, kept once per process (callers get a copy)."""
    return read_reference(_open(url, get_settings()), bbox=bbox)


@st.cache_data(show_spinner=False, max_entries=8)
def _reference_counts(url: str, version: int) -> dict[str, int]:
    """Reference features per kind at data ``version`` (kinds without any left out)."""
    return reference_counts(_open(url, get_settings()))


@st.cache_resource(show_spinner=False, max_entries=8)
def _grid_periods(url: str, version: int) -> pd.DataFrame:
    """The ``grid_workers`` periods at data ``version``, kept once per process (callers get a copy)."""
    return read_grid_workers(_open(url, get_settings()))


@st.cache_data(show_spinner=False, max_entries=8)
def _as_of(url: str, version: int) -> date:
    """The data cut-off (newest dispute report) at data ``version``."""
    return data_as_of(_stored_layer(url, "disputes", "", version))


@st.cache_resource(show_spinner=False, max_entries=8)
def _hierarchy(url: str, version: int) -> Hierarchy:
    frames = [_stored_layer(url, name, "", version) for name in ("streets", "communities", "grids")]
    return Hierarchy.from_frames(*frames)


@dataclass(frozen=True)
class PageContext:
    """What a page needs: settings, data version (a cache key), scope, period, cut-off, unit names and the
    logged-in account (None: reading only)."""

    settings: Settings
    version: int
    scope: Scope
    as_of: date
    period_days: int
    units: Hierarchy
    account: Account | None = None
    sample: bool = False  # the database holds the illustrative sample district
    stale: bool = False  # the database is unavailable: drawn from the process's caches
    @property
    def period(self) -> Period:
        return Period.last_days(self.as_of, self.period_days)

    @property
    def today(self) -> date:
        """The day the state of grids and stations is shown for: the data cut-off, or today (Fuzhou) when the
        data runs behind the calendar, so a station opened or closed today counts at once."""
        return max(self.as_of, district_today())

    def layer(self, name: str, scope: Scope | None = None, on: date | None = None) -> gpd.GeoDataFrame:
        """Table ``name`` inside ``scope`` (default: the page's scope), cached per data version.

        Stations are those open on ``on`` (default ``today``): closed ones drop out of every roll-up and map
        from their closing day (``every_station`` has them all)."""
        s = self.scope if scope is None else scope
        frame = _layer(self.settings.db_url, name, s.code, self.version)
        return open_on(frame, on or self.today) if name == "stations" else frame

    def every_station(self, scope: Scope | None = None) -> gpd.GeoDataFrame:
        """Every station inside ``scope`` (default: the page's), closed ones included (exports, history)."""
        s = self.scope if scope is None else scope
        return _layer(self.settings.db_url, "stations", s.code, self.version)

    def table(self, name: str, scope: Scope | None = None) -> pd.DataFrame:
        """Record table ``name`` (``data.schema.RECORD_TABLES``: party organisations, volunteer teams, consultation
        days, community resources) inside ``scope`` (default: the page's), cached per data version."""
        s = self.scope if scope is None else scope
        return _stored_table(self.settings.db_url, name, s.code, self.version).copy()

    def has_reference(self) -> bool:
        """Whether any reference feature (道路, 建筑, 水系, 地名) is stored, per data version."""
        return bool(_reference_counts(self.settings.db_url, self.version))

    def reference(self, bounds) -> gpd.GeoDataFrame:
        """The reference features whose bounding box meets ``bounds`` (min lon, min lat, max lon, max lat; WGS84
        degrees), cached per data version and view; an empty frame when none are stored."""
        bbox = tuple(round(float(v), 6) for v in bounds)
        if not self.has_reference():
            return gpd.GeoDataFrame(columns=["kind", "name", "subtype", "geometry"], geometry="geometry",
                                    crs="EPSG:4326")
        return _stored_reference(self.settings.db_url, bbox, self.version).copy()

    def grid_periods(self) -> pd.DataFrame:
        """The grid workers' periods of the whole district (``data.staffing.read_grid_workers``), per data version."""
        return _grid_periods(self.settings.db_url, self.version).copy()


def engine(ctx: PageContext):
    """The database engine of the page (for writes; reads go through ``ctx.layer``)."""
    return _open(ctx.settings.db_url, ctx.settings)


def _scope_from_url(units: Hierarchy) -> Scope:
    """The scope named in the URL; an unknown or malformed code falls back to the district, with a message.

    Moving to another page drops the query string, so the session remembers the scope too and puts
    it back into the URL (``go_to`` keeps both in step)."""
    code = st.query_params.get(SCOPE_PARAM, st.session_state.get(SCOPE_PARAM, ""))
    st.session_state[SCOPE_PARAM] = code
    if code:
        st.query_params[SCOPE_PARAM] = code
    try:
        return units.check(Scope(code))
    except GuloError as exc:
        st.toast(md_escape(exc), icon="⚠️")  # the message echoes the URL
        st.query_params.pop(SCOPE_PARAM, None)
        st.session_state[SCOPE_PARAM] = ""
        return DISTRICT


def _period_days() -> int:
    raw = st.query_params.get(PERIOD_PARAM, st.session_state.get(PERIOD_PARAM, "30"))
    raw = raw if raw in PERIODS else "30"
    st.session_state[PERIOD_PARAM] = raw
    if raw != "30":
        st.query_params[PERIOD_PARAM] = raw
    return int(raw)


def go_to(scope: Scope) -> None:
    """Make ``scope`` the current one (the URL follows); the caller's rerun shows it."""
    st.session_state[SCOPE_PARAM] = scope.code
    if scope.code:
        st.query_params[SCOPE_PARAM] = scope.code
    else:
        st.query_params.pop(SCOPE_PARAM, None)


def setup_page() -> PageContext:
    """Open (on first run: fill) the database, read scope and period from the URL, label sample data.

    While the database is unavailable the data version last read is reused, so views already cached
    still draw under a "possibly stale" banner; anything not cached raises DatabaseUnavailable, which
    ``dashboard.faults.run_page`` turns into the retrying notice."""
    apply_style()
    chinese_frontend()  # Streamlit's own uploader / connection texts in Chinese, even while the server is away
    settings = get_settings()
    engine = _open(settings.db_url, settings)
    version, stale_since = stale_version(settings.db_url, lambda: data_version(engine))
    units = _hierarchy(settings.db_url, version)
    scope = _scope_from_url(units)
    as_of = _as_of(settings.db_url, version)
    st.sidebar.markdown(f"### {APP_TITLE}")
    if stale_since is not None:
        stale_banner(stale_since)
    sample = _holds_sample(settings.db_url, version)
    if sample:
        st.sidebar.warning(SAMPLE_NOTICE, icon="ℹ️")
    account = _login(engine, settings, stale=stale_since is not None)
    return PageContext(settings, version, scope, as_of, _period_days(), units, account, sample,
                       stale=stale_since is not None)


def engine_for_settings():
    """The configured database's engine (opened, migrated and filled once per process)."""
    settings = get_settings()
    return _open(settings.db_url, settings)


@st.cache_resource(show_spinner=False, max_entries=8)
def _holds_sample(url: str, version: int) -> bool:
    return holds_sample(_open(url, get_settings()))


def _login(engine, settings: Settings, stale: bool = False) -> Account | None:
    """The logged-in account (sidebar: who, 退出登录), or the login form: folded away in the sidebar while
    reading needs no login, alone on the page (which stops there) when it does. A login lost to a server
    restart is said so (see ``dashboard.login_hint``)."""
    logged_in = current_account() is not None
    if lost_login(logged_in):
        st.session_state[LOST_KEY] = True
    keep_marker(logged_in)
    return _login_panel(engine, settings, stale)


def _login_panel(engine, settings: Settings, stale: bool) -> Account | None:
    account = current_account()
    if account is not None:
        st.session_state.pop(LOST_KEY, None)
        _demo_notice(engine, account, stale)
        return auth_panel(engine)
    if st.session_state.get(LOST_KEY):
        st.sidebar.warning(LOST, icon=":material/lock_clock:")
    if settings.anonymous_read:
        with st.sidebar.expander("登录（修改数据需登录）", expanded=bool(st.session_state.get(LOST_KEY))):
            account = auth_panel(engine, where=st.container())
        return account
    st.title(APP_TITLE)
    st.info("请先登录。", icon="🔒")
    with st.columns([1, 2])[0]:
        auth_panel(engine, where=st.container())
    st.stop()


def _demo_notice(engine, account: Account, stale: bool = False) -> None:
    """While demo accounts with published passwords exist: a reminder in the sidebar for a district account
    (``demo_account_warning``; not asked while the database is away)."""
    if stale:
        return
    with st.sidebar:
        demo_account_warning(engine, account)
