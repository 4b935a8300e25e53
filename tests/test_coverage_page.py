"""The coverage workspace in AppTest on the sample district, checked against a brute-force computation."""
from __future__ import annotations

import geopandas as gpd
import pytest
from streamlit.testing.v1 import AppTest

from data.store import engine_for, read_layer
from geo.scope import Scope

JUNMEN = "350102004001"
KINDS = ("elderly_home", "children", "culture")


def _coverage_page():
    from dashboard.pages import coverage

    coverage.render()


def open_view(url: str, monkeypatch, view: str, scope: str = "") -> AppTest:
    """The coverage workspace on database ``url``, showing ``view`` for ``scope``."""
    monkeypatch.setenv("DATABASE_URL", url)
    at = AppTest.from_function(_coverage_page, default_timeout=120)
    if scope:
        at.query_params["scope"] = scope
    at.session_state["cov_view"] = view
    return at.run()


def brute_force_uncovered(url: str, community: str, metres: float) -> dict[str, int]:
    """Compounds of the community with no station of one of 一老一少一普 within ``metres`` (every pair measured)."""
    engine = engine_for(url)
    compounds = read_layer(engine, "compounds", Scope(community)).to_crs(32650)
    stations = read_layer(engine, "stations").to_crs(32650)
    out = {}
    for row in compounds.itertuples():
        for kind in KINDS:
            points = stations[stations["kind"] == kind].geometry
            if gpd.GeoSeries(points).distance(row.geometry).min() > metres:
                out[row.name] = row.households
                break
    return out


def test_community_workspace_lists_its_uncovered_compounds(filled_sample_db, monkeypatch):
    at = open_view(filled_sample_db, monkeypatch, "服务覆盖", JUNMEN)
    assert not at.exception, [e.message for e in at.exception]
    table = next(df.value for df in at.dataframe if "缺少的站点" in df.value.columns)
    expected = brute_force_uncovered(filled_sample_db, JUNMEN, 300)
    assert expected, "the sample should leave some compound of 军门社区 beyond 300 m"
    assert dict(zip(table["小区名称"], table["户数"])) == expected
    assert set(table["所属社区"]) == {"军门社区"}


def test_a_longer_walk_covers_more(filled_sample_db, monkeypatch):
    at = open_view(filled_sample_db, monkeypatch, "服务覆盖", JUNMEN)
    at.selectbox(key="cov_circle").set_value("15分钟").run()
    assert not at.exception, [e.message for e in at.exception]
    table = next((df.value for df in at.dataframe if "缺少的站点" in df.value.columns), None)
    expected = brute_force_uncovered(filled_sample_db, JUNMEN, 1000)
    if expected:
        assert dict(zip(table["小区名称"], table["户数"])) == expected
    else:  # every compound covered: said in words, no empty table (dashboard.quick.all_clear)
        assert table is None and any(s.value.startswith("所选范围内全部覆盖") for s in at.success)


@pytest.mark.parametrize("view", ["网格标准", "拓扑检查", "新增站点选址"])
def test_every_view_renders(filled_sample_db, monkeypatch, view):
    at = open_view(filled_sample_db, monkeypatch, view)
    assert not at.exception, [e.message for e in at.exception]


def test_a_grid_drawn_too_large_shows_up_in_the_topology_check(filled_sample_db, tmp_path, monkeypatch):
    import sqlite3

    import shapely
    from sqlalchemy import create_engine, text

    broken = tmp_path / "broken.db"
    with sqlite3.connect(filled_sample_db.removeprefix("sqlite:///")) as src, sqlite3.connect(broken) as dst:
        src.backup(dst)  # a consistent copy, write-ahead log included
    url = f"sqlite:///{broken}"
    with create_engine(url).begin() as conn:
        code, wkb = conn.execute(text(
            "SELECT code, geom FROM grids WHERE community_code = :c ORDER BY code LIMIT 1"), {"c": JUNMEN}).one()
        grown = shapely.MultiPolygon([shapely.from_wkb(wkb).buffer(0.0005)])
        conn.execute(text("UPDATE grids SET geom = :g WHERE code = :c"), {"g": shapely.to_wkb(grown), "c": code})
    at = open_view(url, monkeypatch, "拓扑检查", JUNMEN)
    assert not at.exception, [e.message for e in at.exception]
    shown = {m.label: m.value for m in at.metric}
    assert shown["网格重叠"] != "0 处" and shown["跨越社区边界的网格"] == "1 处"
    overlaps = next(df.value for df in at.dataframe if "网格B" in df.value.columns)
    assert (overlaps["网格A"] == "网格01").all() and (overlaps["面积（平方米）"] > 1000).all()
