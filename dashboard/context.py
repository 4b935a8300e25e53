"""The one shared setup every page calls: settings, database, scope and the data cut-off."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import geopandas as gpd
import streamlit as st

from data.store import data_version, holds_sample, open_store, read_layer
from geo.rollup import data_as_of
from geo.scope import DISTRICT, Scope
from geo.settings import Settings, get_settings
from geo.vocab import SAMPLE_NOTICE


@st.cache_resource(show_spinner="正在准备数据库（首次运行会生成示例辖区数据）…")
def _open(url: str, _settings: Settings):
    return open_store(_settings)


@st.cache_data(show_spinner=False, max_entries=128)
def _layer(url: str, name: str, scope_code: str, version: int) -> gpd.GeoDataFrame:
    return read_layer(_open(url, get_settings()), name, Scope(scope_code))


@dataclass(frozen=True)
class PageContext:
    """What a page needs: settings, the data version (a cache key), the scope and the data cut-off."""

    settings: Settings
    version: int
    scope: Scope
    as_of: date

    def layer(self, name: str, scope: Scope | None = None) -> gpd.GeoDataFrame:
        """Table ``name`` inside ``scope`` (default: the page's scope), cached per data version."""
        s = self.scope if scope is None else scope
        return _layer(self.settings.db_url, name, s.code, self.version)


def setup_page() -> PageContext:
    """Open (and on first run fill) the database, and say plainly that sample data is illustrative."""
    settings = get_settings()
    engine = _open(settings.db_url, settings)
    version = data_version(engine)
    ctx = PageContext(settings, version, DISTRICT, date.today())
    as_of = data_as_of(ctx.layer("disputes", DISTRICT))
    if holds_sample(engine):
        st.sidebar.warning(SAMPLE_NOTICE, icon="ℹ️")
    return PageContext(settings, version, DISTRICT, as_of)
