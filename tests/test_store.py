"""Store round trips on SQLite and PostGIS with a tiny hand-built district."""
from __future__ import annotations

from datetime import date

import geopandas as gpd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from shapely.geometry import MultiPolygon, Point, box
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from data import schema
from data.store import current_revision, data_version, engine_for, is_empty, migrate, read_layer, write_frames
from geo.scope import Scope

ST, C1, C2 = "350102004000", "350102004001", "350102004003"
G1, G2 = C1 + "001", C2 + "001"


def mp(*b):
    return MultiPolygon([box(*b)])


def tiny_district() -> dict[str, gpd.GeoDataFrame]:
    crs = "EPSG:4326"
    streets = gpd.GeoDataFrame({"code": [ST], "name": ["东街街道"], "kind": ["街道"]},
                               geometry=[mp(119.29, 26.08, 119.31, 26.09)], crs=crs)
    comms = gpd.GeoDataFrame({"code": [C1, C2], "name": ["军门社区", "大根社区"], "street_code": [ST, ST],
                              "centre_known": [True, False]},
                             geometry=[mp(119.29, 26.08, 119.30, 26.09), mp(119.30, 26.08, 119.31, 26.09)], crs=crs)
    grids = gpd.GeoDataFrame({"code": [G1, G2], "name": ["网格01", "网格01"], "street_code": [ST, ST],
                              "community_code": [C1, C2], "households": [480, 530], "population": [1250, 1400],
                              "worker": ["林小梅", None], "assistants": [2, 0]},
                             geometry=[comms.geometry[0], comms.geometry[1]], crs=crs)
    compounds = gpd.GeoDataFrame({"code": [C1 + "C001"], "name": ["<b>军门新村</b>"], "street_code": [ST],
                                  "community_code": [C1], "grid_code": [G1], "address": ["五四路1号"],
                                  "built_year": [1988], "buildings": [6], "households": [240],
                                  "has_property_mgmt": [False], "status": ["planned"], "reno_type": ["basic"],
                                  "plan_year": [2027], "budget_wan": [185.5], "started_on": [None],
                                  "completed_on": [None], "version": [1]},
                                 geometry=[Point(119.295, 26.085)], crs=crs)
    disputes = gpd.GeoDataFrame({"code": ["JF0000001", "JF0000002"], "category": ["neighbour", "property_mgmt"],
                                 "source": ["patrol", "hotline"], "status": ["resolved", "received"],
                                 "reported_on": [date(2026, 10, 1), date(2026, 11, 20)],
                                 "closed_on": [date(2026, 10, 9), None], "street_code": [ST, ST],
                                 "community_code": [C1, C2], "grid_code": [G1, G2], "compound_code": [C1 + "C001", None],
                                 "address": ["军门新村3座", "东街100号"], "summary": ["噪音", "漏水"]},
                                geometry=[Point(119.2951, 26.0851), Point(119.305, 26.085)], crs=crs)
    return {"streets": streets, "communities": comms, "grids": grids, "compounds": compounds, "disputes": disputes}


@pytest.fixture
def engine(db_url):
    eng = engine_for(db_url)
    migrate(eng)
    return eng


def test_migration_creates_exactly_the_schema(engine):
    assert current_revision(engine) == "0007"
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_name": _ours})
        diff = compare_metadata(ctx, schema.metadata)
    assert diff == []


def _ours(name, type_, parent_names) -> bool:
    """Compare only the project's tables (PostGIS brings spatial_ref_sys and friends).

    The GiST indexes exist only on PostGIS and are checked by their own test."""
    if type_ == "index":
        return not name.endswith("_geom")
    return type_ != "table" or name in schema.metadata.tables


def test_migrate_twice_keeps_data(engine):
    write_frames(engine, tiny_district(), actor="测试", action="insert")
    migrate(engine)
    assert len(read_layer(engine, "grids")) == 2


def test_round_trip_every_table(engine):
    frames = tiny_district()
    assert is_empty(engine)
    counts = write_frames(engine, frames, actor="测试", action="insert")
    assert counts == {k: len(v) for k, v in frames.items()}
    for name, original in frames.items():
        back = read_layer(engine, name)
        assert back.crs == "EPSG:4326"
        assert list(back.columns[:-1]) == [c.name for c in schema.GEO_TABLES[name].c if c.name != "geom"]
        assert back.geometry.geom_equals_exact(original.geometry.set_axis(back.index), tolerance=1e-9).all()
        assert back["code"].tolist() == original["code"].tolist()
    comp = read_layer(engine, "compounds").iloc[0]
    assert comp["name"] == "<b>军门新村</b>" and comp["budget_wan"] == 185.5 and not comp["has_property_mgmt"]
    d = read_layer(engine, "disputes")
    assert d["reported_on"].iloc[0].date() == date(2026, 10, 1) and d["closed_on"].isna().iloc[1]
    assert read_layer(engine, "grids")["worker"].isna().tolist() == [False, True]


@pytest.mark.parametrize("code, expect", [
    ("", {"communities": 2, "grids": 2, "disputes": 2, "streets": 1}),
    (ST, {"communities": 2, "grids": 2, "disputes": 2, "streets": 1}),
    (C1, {"communities": 1, "grids": 1, "disputes": 1, "streets": 1}),
    (G2, {"communities": 1, "grids": 1, "disputes": 1, "compounds": 0}),
    ("350102001000", {"communities": 0, "grids": 0, "disputes": 0, "streets": 0}),
])
def test_scope_filters(engine, code, expect):
    write_frames(engine, tiny_district(), actor="测试", action="insert")
    for name, n in expect.items():
        assert len(read_layer(engine, name, Scope(code))) == n, name


def test_every_write_moves_the_data_version(engine):
    v0 = data_version(engine)
    write_frames(engine, {"streets": tiny_district()["streets"]}, actor="测试", action="insert")
    assert data_version(engine) > v0


def test_failed_write_leaves_nothing(engine):
    frames = tiny_district()
    frames["disputes"] = frames["disputes"].assign(code=["JF1", "JF1"])  # duplicate key fails the insert
    with pytest.raises(IntegrityError):
        write_frames(engine, frames, actor="测试", action="insert")
    assert is_empty(engine) and data_version(engine) == 0


def test_postgis_geometry_is_real_and_indexed(postgis_url):
    eng = engine_for(postgis_url)
    migrate(eng)
    write_frames(eng, tiny_district(), actor="测试", action="insert")
    with eng.connect() as conn:
        kind = conn.execute(text("SELECT type, srid FROM geometry_columns WHERE f_table_name='disputes'")).one()
        inside = conn.execute(text(
            "SELECT count(*) FROM disputes d JOIN communities c ON ST_Contains(c.geom, d.geom) "
            "WHERE c.code = :c"), {"c": C1}).scalar()
    assert tuple(kind) == ("POINT", 4326)
    assert inside == 1
    gist = [i for i in inspect(eng).get_indexes("disputes") if i["column_names"] == ["geom"]]
    assert gist, "disputes.geom has no spatial index"
