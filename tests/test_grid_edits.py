"""Saving grid boundaries (data.grid_edits) on SQLite and PostGIS: checked again, locked, audited, records moved.

A community C1 of 300 m × 100 m tiled by G1 | G2 | G3 (tests/test_grid_edit.py's rectangles), its compounds,
stations and disputes inside; a second community C2 beside it (another sub-district's account stays out).
"""
from __future__ import annotations

import json
from datetime import date

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import MultiPolygon, Point, box
from sqlalchemy import func, select

from data import schema
from data.accounts import create_account
from data.grid_edits import save_grid_geometry
from data.store import data_version, engine_for, migrate, read_audit, read_layer, write_frames
from geo.access import Account, system_operator
from geo.errors import ConflictError, DataValidationError, PermissionDenied
from geo.grid_edit import area_m2, changes_frame, move_boundary, propose_households, redraw_grid, split_grid
from geo.scope import Scope
from geo.vocab import Role
from tests.test_grid_edit import C1, G1, G2, G3, ST, X0, Y0, line, rect

C2 = "350102004002"
JIA = Account("jia", Role.DISTRICT)
LIN = Account("lingong", Role.STREET, ST)
SHE = Account("shegong", Role.COMMUNITY, C1)
WAI = Account("waigong", Role.STREET, "350102001000")


def metric(*b):
    return gpd.GeoSeries([MultiPolygon([box(X0 + b[0], Y0 + b[1], X0 + b[2], Y0 + b[3])])], crs=32650).to_crs(4326).iloc[0]


def point(x, y):
    return gpd.GeoSeries([Point(X0 + x, Y0 + y)], crs=32650).to_crs(4326).iloc[0]


def district() -> dict[str, gpd.GeoDataFrame]:
    crs = "EPSG:4326"
    streets = gpd.GeoDataFrame({"code": [ST, WAI.scope_code], "name": ["东街街道", "鼓东街道"], "kind": ["街道"] * 2},
                               geometry=[metric(0, 0, 600, 100), metric(0, 100, 600, 200)], crs=crs)
    comms = gpd.GeoDataFrame({"code": [C1, C2], "name": ["军门社区", "庆城社区"], "street_code": [ST, ST],
                              "centre_known": [True, True]}, geometry=[metric(0, 0, 300, 100), metric(300, 0, 600, 100)], crs=crs)
    codes = [G1, G2, G3, C2 + "001"]
    grids = gpd.GeoDataFrame({"code": codes, "name": ["网格01", "网格02", "网格03", "网格01"], "street_code": [ST] * 4,
                              "community_code": [C1, C1, C1, C2], "households": [500, 400, 600, 700],
                              "population": [1300, 1000, 1500, 1800], "worker": ["林小梅", "王芳", None, "陈"],
                              "assistants": [2, 1, 0, 1]},
                             geometry=[metric(0, 0, 100, 100), metric(100, 0, 200, 100), metric(200, 0, 300, 100),
                                       metric(300, 0, 600, 100)], crs=crs)
    compounds = gpd.GeoDataFrame({
        "code": [C1 + f"C00{i}" for i in range(1, 5)], "name": ["甲", "乙", "丙", "丁"], "street_code": [ST] * 4,
        "community_code": [C1] * 4, "grid_code": [G1, G2, G2, G3], "households": [300, 100, 300, 200],
        "has_property_mgmt": [False] * 4, "status": ["planned"] * 4},
        geometry=[point(50, 50), point(130, 50), point(170, 50), point(250, 50)], crs=crs)
    stations = gpd.GeoDataFrame({"code": ["S1"], "name": ["养老站"], "kind": ["elderly_home"], "street_code": [ST],
                                 "community_code": [C1], "grid_code": [G2]}, geometry=[point(120, 20)], crs=crs)
    disputes = gpd.GeoDataFrame({"code": ["JF1", "JF2"], "category": ["neighbour"] * 2, "source": ["patrol"] * 2,
                                 "status": ["received"] * 2, "reported_on": [date(2026, 11, 1)] * 2,
                                 "street_code": [ST] * 2, "community_code": [C1] * 2, "grid_code": [G2, G2],
                                 "address": ["一号", "二号"]}, geometry=[point(140, 80), point(190, 80)], crs=crs)
    return {"streets": streets, "communities": comms, "grids": grids, "compounds": compounds, "stations": stations,
            "disputes": disputes}


@pytest.fixture
def engine(db_url):
    eng = engine_for(db_url)
    migrate(eng)
    write_frames(eng, district(), actor="测试", action="insert")
    for acct in (JIA, LIN, SHE, WAI):
        create_account(eng, system_operator("测试"), acct.username, acct.role, acct.scope_code)
    return eng


def community_grids(engine) -> gpd.GeoDataFrame:
    return read_layer(engine, "grids", Scope(C1))


def edit(engine, make) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """(changes to save, expected versions) for the edit ``make(before)``, households as proposed."""
    before = community_grids(engine)
    after = make(before)
    table = propose_households(before, after, read_layer(engine, "compounds", Scope(C1)))
    versions = dict(zip(before["code"], before["version"].astype(int)))
    return changes_frame(after, table), {c: versions[c] for c in table["code"] if c in versions}


def grid_audit(engine) -> pd.DataFrame:
    log = read_audit(engine)
    return log[(log["table_name"] == "grids") & log["record_code"].notna()]  # not the initial bulk insert


def count_rows(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def test_moved_boundary_is_saved_with_audit_and_records_follow(engine):
    v0 = data_version(engine)
    changes, expected = edit(engine, lambda g: move_boundary(g, G1, G2, rect(0, 0, 150, 100)))
    result = save_grid_geometry(engine, changes, expected, LIN)
    assert result.versions == {G1: 2, G2: 2}
    assert result.moved == {"compounds": 1, "stations": 1, "disputes": 1}
    stored = community_grids(engine).set_index("code")
    assert stored.loc[[G1, G2, G3], "version"].tolist() == [2, 2, 1]
    assert stored.loc[[G1, G2], "households"].tolist() == [600, 300]
    assert area_m2(stored.geometry) == pytest.approx([15_000, 5_000, 10_000], rel=1e-6)
    entries = grid_audit(engine).set_index("record_code")
    assert set(entries.index) == {G1, G2} and set(entries["actor"]) == {"lingong"} and set(entries["action"]) == {"update"}
    before, after = json.loads(entries.loc[G2, "before"]), json.loads(entries.loc[G2, "after"])
    assert before == {"area_m2": pytest.approx(10_000, rel=1e-4), "households": 400, "population": 1000}
    assert after == {"area_m2": pytest.approx(5_000, rel=1e-4), "households": 300, "population": 750}
    moved = read_layer(engine, "compounds").set_index("code")["grid_code"].to_dict()
    assert moved == {C1 + "C001": G1, C1 + "C002": G1, C1 + "C003": G2, C1 + "C004": G3}
    assert read_layer(engine, "stations")["grid_code"].tolist() == [G1]
    assert read_layer(engine, "disputes").set_index("code")["grid_code"].to_dict() == {"JF1": G1, "JF2": G2}
    log = read_audit(engine, C1 + "C002")
    assert json.loads(log["before"].iloc[0]) == {"grid_code": G2} and json.loads(log["after"].iloc[0]) == {"grid_code": G1}
    assert data_version(engine) > v0


def test_split_inserts_a_new_grid_at_version_one(engine):
    changes, expected = edit(engine, lambda g: split_grid(g, G2, line((160, -10), (160, 110))))
    assert expected == {G2: 1}
    result = save_grid_geometry(engine, changes, expected, JIA)
    new = C1 + "004"
    assert result.versions == {G2: 2, new: 1}
    stored = community_grids(engine).set_index("code")
    assert stored.loc[new, "name"] == "网格04" and pd.isna(stored.loc[new, "worker"])
    assert stored.loc[[G2, new], "households"].tolist() == [100, 300]
    assert read_layer(engine, "compounds").set_index("code").loc[C1 + "C003", "grid_code"] == new
    entries = grid_audit(engine).set_index("record_code")
    assert entries.loc[new, "action"] == "insert" and json.loads(entries.loc[new, "after"])["name"] == "网格04"


def test_overlap_is_refused_and_nothing_is_written(engine):
    v0, audit0 = data_version(engine), count_rows(engine, schema.audit_log)
    changes, expected = edit(engine, lambda g: redraw_grid(g, G1, rect(0, 0, 150, 100)))
    with pytest.raises(DataValidationError, match="网格边界未保存：网格重叠：“网格01”与“网格02”重叠约 5,000 平方米") as err:
        save_grid_geometry(engine, changes, expected, JIA)
    assert err.value.problems[0][1] == "网格边界"
    stored = community_grids(engine)
    assert stored["version"].tolist() == [1, 1, 1]
    assert area_m2(stored.geometry) == pytest.approx([10_000] * 3, rel=1e-6)
    assert data_version(engine) == v0 and count_rows(engine, schema.audit_log) == audit0


def test_households_that_do_not_add_up_are_refused(engine):
    changes, expected = edit(engine, lambda g: move_boundary(g, G1, G2, rect(0, 0, 150, 100)))
    changes.loc[0, "households"] += 5
    with pytest.raises(DataValidationError, match="户数：各网格合计 905，应等于调整前的合计 900"):
        save_grid_geometry(engine, changes, expected, JIA)
    assert community_grids(engine)["version"].tolist() == [1, 1, 1]


@pytest.mark.parametrize("account, message", [
    (SHE, "网格边界须由街道办或区级管理员调整"),
    (WAI, "只能调整鼓东街道范围内的网格"),
    (None, "未登录"),
])
def test_accounts_outside_the_rule_are_refused_and_audited(engine, account, message):
    v0 = data_version(engine)
    changes, expected = edit(engine, lambda g: move_boundary(g, G1, G2, rect(0, 0, 150, 100)))
    with pytest.raises(PermissionDenied, match=message):
        save_grid_geometry(engine, changes, expected, account)
    denied = read_audit(engine)
    denied = denied[denied["action"] == "denied"]
    assert len(denied) == 1 and denied["table_name"].iloc[0] == "grids"
    assert denied["actor"].iloc[0] == (account.username if account else "（未登录）")
    assert message in json.loads(denied["after"].iloc[0])["reason"]
    assert community_grids(engine)["version"].tolist() == [1, 1, 1] and data_version(engine) == v0


def test_stale_version_is_a_conflict(engine):
    first, expected = edit(engine, lambda g: move_boundary(g, G1, G2, rect(0, 0, 150, 100)))
    second = first.copy()
    save_grid_geometry(engine, first, expected, JIA)
    with pytest.raises(ConflictError, match="已被他人修改（当前版本 2），请刷新后重试；您的修改未保存"):
        save_grid_geometry(engine, second, expected, LIN)
    assert community_grids(engine)["version"].tolist() == [2, 2, 1]
    assert len(grid_audit(engine)) == 2


def test_a_new_code_taken_meanwhile_is_a_conflict(engine):
    changes, expected = edit(engine, lambda g: split_grid(g, G2, line((160, -10), (160, 110))))
    other, other_expected = edit(engine, lambda g: split_grid(g, G3, line((260, -10), (260, 110))))
    save_grid_geometry(engine, other, other_expected, JIA)
    with pytest.raises(ConflictError, match="已被使用"):
        save_grid_geometry(engine, changes, expected, JIA)


def test_grids_of_two_communities_at_once_are_refused(engine):
    changes, expected = edit(engine, lambda g: move_boundary(g, G1, G2, rect(0, 0, 150, 100)))
    stray = gpd.GeoDataFrame({"code": [C2 + "001"], "name": ["网格01"], "households": [700], "population": [1800]},
                             geometry=[metric(300, 0, 600, 100)], crs="EPSG:4326")
    both = gpd.GeoDataFrame(pd.concat([changes, stray], ignore_index=True), crs="EPSG:4326")
    with pytest.raises(DataValidationError, match="同一个社区"):
        save_grid_geometry(engine, both, {**expected, C2 + "001": 1}, JIA)
