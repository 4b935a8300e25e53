"""The coverage workspace's 网格边界编辑 view in AppTest on the sample district.

AppTest cannot draw: ``show_folium`` is replaced by a stand-in that returns a drawing for the drawing map
(as streamlit-folium's ``all_drawings`` would) and nothing for the result map.
"""
from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import create_engine, text
from streamlit.testing.v1 import AppTest

from data.store import data_version, engine_for, read_audit, read_layer
from geo.scope import Scope

JUNMEN = "350102004001"
VIEW = "网格边界编辑"


def _coverage_page():
    from dashboard.pages import coverage

    coverage.render()


@pytest.fixture
def sample_db(filled_sample_db, tmp_path) -> str:
    """A private copy of the sample database (these tests write)."""
    copy = tmp_path / "copy.db"
    with sqlite3.connect(filled_sample_db.removeprefix("sqlite:///")) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    return f"sqlite:///{copy}"


def drawing_stand_in(monkeypatch, shape: shapely.Geometry | None) -> list[str]:
    """Make the drawing map return ``shape`` (lon/lat) as its only drawing; returns the keys of the maps shown."""
    from dashboard.coverage import grid_edit

    shown: list[str] = []

    def fake(m, *, key, height, returned_objects=(), **kwargs):
        shown.append(key)
        if "all_drawings" in returned_objects and shape is not None:
            feature = {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(shape)}
            return {"all_drawings": [json.loads(json.dumps(feature))]}
        return {}

    monkeypatch.setattr(grid_edit, "show_folium", fake)
    return shown


def open_view(url: str, monkeypatch, username: str | None, scope: str = JUNMEN) -> AppTest:
    from dashboard.auth import AUTH_KEY, LOGIN_AT_KEY
    from data.accounts import get_account
    from tests.demo_accounts import clear_forced_change

    monkeypatch.setenv("DATABASE_URL", url)
    at = AppTest.from_function(_coverage_page, default_timeout=180)
    if scope:
        at.query_params["scope"] = scope
    at.session_state["cov_view"] = VIEW
    if username:
        clear_forced_change(url, [username])
        at.session_state[AUTH_KEY] = get_account(engine_for(url), username)
        at.session_state[LOGIN_AT_KEY] = datetime.now(UTC)
    return at.run()


def texts(at: AppTest) -> str:
    return " ".join(str(e.value) for kind in ("info", "warning", "error", "success", "caption", "markdown")
                    for e in getattr(at, kind))


def junmen_grids(url: str) -> gpd.GeoDataFrame:
    return read_layer(engine_for(url), "grids", Scope(JUNMEN))


def bite(grids: gpd.GeoDataFrame, a: str, b: str, metres: float = 20.0) -> shapely.Geometry:
    """Grid a plus a bite of its neighbour b around the middle of their shared boundary (lon/lat)."""
    metric = grids.set_index("code").to_crs(32650).geometry
    shared = metric[a].intersection(metric[b])
    disk = shared.interpolate(0.5, normalized=True).buffer(metres)
    shape = metric[a].union(disk.intersection(metric[b]))
    return gpd.GeoSeries([shape], crs=32650).to_crs(4326).iloc[0]


def neighbours(grids: gpd.GeoDataFrame) -> tuple[str, str]:
    metric = grids.set_index("code").to_crs(32650).geometry
    a = metric.index[0]
    b = next(c for c in metric.index[1:] if metric[a].intersection(metric[c]).length > 50)
    return a, b


@pytest.mark.parametrize("username, scope, expect", [
    (None, JUNMEN, "登录后才能编辑网格边界"),
    ("junmen", JUNMEN, "网格边界须由街道办或区级管理员调整"),
    ("dongjie", "", "网格边界按社区编辑"),
])
def test_who_gets_no_editor_and_why(filled_sample_db, monkeypatch, username, scope, expect):
    shown = drawing_stand_in(monkeypatch, None)
    at = open_view(filled_sample_db, monkeypatch, username, scope)
    assert not at.exception, [e.message for e in at.exception]
    assert expect in texts(at) and not shown
    assert not [b for b in at.button if b.label == "检查"]


def test_a_redraw_over_the_neighbour_is_refused_with_the_overlap_named(sample_db, monkeypatch):
    grids = junmen_grids(sample_db)
    a, b = neighbours(grids)
    shape = shapely.union(*grids.set_index("code").geometry[[a, b]])
    drawing_stand_in(monkeypatch, shape.convex_hull)
    at = open_view(sample_db, monkeypatch, "dongjie")
    assert not at.exception, [e.message for e in at.exception]
    at.selectbox(key="grid_edit_a").set_value(a).run()
    next(x for x in at.button if x.label == "检查").click().run()
    assert not at.exception, [e.message for e in at.exception]
    refusal = " ".join(e.value for e in at.error)
    assert "检查未通过，不能保存" in refusal and "网格重叠" in refusal and "红色为网格重叠" in refusal
    assert not [x for x in at.button if x.label == "保存"]
    assert junmen_grids(sample_db)["version"].tolist() == grids["version"].tolist()


def test_a_moved_boundary_is_checked_confirmed_and_saved(sample_db, monkeypatch):
    grids = junmen_grids(sample_db)
    a, b = neighbours(grids)
    drawing_stand_in(monkeypatch, bite(grids, a, b))
    v0 = data_version(engine_for(sample_db))
    at = open_view(sample_db, monkeypatch, "dongjie")
    at.radio(key="grid_edit_op").set_value("move_boundary").run()
    at.selectbox(key="grid_edit_a").set_value(a).run()
    at.selectbox(key="grid_edit_b").set_value(b).run()
    next(x for x in at.button if x.label == "检查").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert "检查通过" in texts(at)
    table = next(df.value for df in at.dataframe if "户数" in df.value.columns)
    assert table["户数"].sum() == grids.set_index("code").loc[[a, b], "households"].sum()
    next(x for x in at.button if x.label == "保存").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert "已保存" in texts(at)
    after = junmen_grids(sample_db).set_index("code")
    assert after.loc[[a, b], "version"].tolist() == [2, 2]
    log = read_audit(engine_for(sample_db), a)
    assert log["actor"].iloc[0] == "dongjie" and "area_m2" in json.loads(log["after"].iloc[0])
    assert data_version(engine_for(sample_db)) > v0
    with create_engine(sample_db).connect() as conn:  # the figures every page shows are read again
        total = conn.execute(text("SELECT sum(households) FROM grids WHERE community_code = :c"), {"c": JUNMEN}).scalar()
    assert total == grids["households"].sum()
