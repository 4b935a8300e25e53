"""Stations opened, moved and closed in the app: the pure rules (geo.station_rules) and the store's saves
(data.station_edits) on SQLite and PostGIS."""
from __future__ import annotations

from datetime import date

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point
from sqlalchemy import insert, select

from data import schema
from data.accounts import create_account
from data.exchange import export_frame
from data.station_edits import add_station, close_station, move_station, station_history
from data.store import data_version, engine_for, migrate, read_layer, write_frames
from geo.access import Account, system_operator
from geo.errors import ConflictError, DataValidationError, GuloError, PermissionDenied
from geo.station_rules import check_close, check_fields, open_on, placement, scope_problem
from geo.vocab import Role
from tests.concurrency import race
from tests.test_store import C1, C2, G1, G2, ST, tiny_district

TODAY = date(2026, 11, 30)
S1, S2 = C1 + "S001", C2 + "S001"
IN_C1, ALSO_C1, IN_C2, OUTSIDE = Point(119.293, 26.083), Point(119.296, 26.087), Point(119.305, 26.082), Point(119.5, 26.5)
JM = Account("jm_duty", Role.COMMUNITY, C1)
LIN = Account("lingong", Role.STREET, ST)
ADMIN = Account("qu_admin", Role.DISTRICT)
NEW = {"kind": "居家养老服务站", "name": "军门社区居家养老服务站（二）", "address": "五四路100号",
       "opening_hours": "08:30-17:30", "capacity": 30}


def district() -> dict[str, gpd.GeoDataFrame]:
    """The tiny district with one station per community (opened 2020-05-01)."""
    frames = tiny_district()
    frames["stations"] = gpd.GeoDataFrame({
        "code": [S1, S2], "name": ["军门社区文化普及服务站", "大根社区居家养老服务站"], "kind": ["culture", "elderly_home"],
        "street_code": [ST, ST], "community_code": [C1, C2], "grid_code": [G1, G2], "address": ["东街1号", "东街2号"],
        "capacity": [80, 40], "opening_hours": ["09:00-21:00", "08:30-17:30"], "stars": [None, None],
        "opened_on": [date(2020, 5, 1)] * 2, "closed_on": [None, None], "version": [1, 1],
    }, geometry=[Point(119.291, 26.081), Point(119.306, 26.086)], crs="EPSG:4326")
    return frames


# ---------------------------------------------------------------- the pure rules


def test_new_station_fields():
    clean, problems = check_fields(NEW, TODAY)
    assert problems == [] and clean["kind"] == "elderly_home" and clean["opened_on"] == TODAY and clean["capacity"] == 30
    _, problems = check_fields({"kind": "养猪场", "name": " ", "capacity": -3, "opened_on": date(2026, 12, 24),
                                "stars": 5}, TODAY)
    assert problems[0].startswith("站点类型：“养猪场”不是有效的站点类型，可选：居家养老服务站、")
    assert problems[1:] == ["站点名称：不能为空", "容量（人）：不能为负数，实为 -3",
                            "字段“stars”：不允许在此填写，可填写的字段为：站点类型、站点名称、地址、开放时间、容量（人）、启用日期",
                            "启用日期：2026-12-24 晚于今天（2026-11-30），不能登记将来启用的站点"]
    assert check_fields({"name": "x"}, TODAY)[1] == ["站点类型：不能为空"]


@pytest.mark.parametrize(("station", "day", "problem"), [
    ({"opened_on": date(2020, 5, 1)}, date(2020, 4, 30), "关闭日期：2020-04-30 早于启用日期 2020-05-01"),
    ({"opened_on": date(2020, 5, 1)}, date(2026, 12, 1), "关闭日期：2026-12-01 晚于今天（2026-11-30），不能登记将来的关闭"),
    ({"opened_on": None}, None, "关闭日期：不能为空"),
    ({"opened_on": None, "closed_on": date(2026, 1, 1)}, date(2026, 2, 1), "关闭日期：该站点已于 2026-01-01 关闭"),
])
def test_closing_rules(station, day, problem):
    assert problem in check_close(station, day, TODAY)[1]


def test_closing_on_the_opening_day_is_allowed():
    assert check_close({"opened_on": pd.Timestamp("2026-11-30")}, TODAY, TODAY) == (TODAY, [])


def test_a_point_takes_the_units_of_its_grid():
    grids = tiny_district()["grids"]
    assert placement(IN_C2, grids) == ({"grid_code": G2, "community_code": C2, "street_code": ST}, [])
    assert placement(OUTSIDE, grids) == (None, ["位置：（119.500000, 26.500000）不在鼓楼区的网格内"])
    assert placement(None, grids) == (None, ["位置：请在地图上点选站点位置"])
    assert scope_problem(JM, {"community_code": C1}) is None
    assert scope_problem(JM, {"community_code": C2}, "大根社区") == \
        "位置：该位置（大根社区）不在账号“jm_duty”的辖区（350102004001）内"


def test_open_on_a_day():
    stations = district()["stations"].assign(opened_on=[date(2020, 5, 1), date(2026, 11, 1)],
                                             closed_on=[date(2026, 11, 20), None])
    assert open_on(stations, date(2026, 11, 19))["code"].tolist() == [S1, S2]
    assert open_on(stations, date(2026, 11, 20))["code"].tolist() == [S2]  # closed from its closing day
    assert open_on(stations, date(2026, 10, 31))["code"].tolist() == [S1]  # not yet opened
    assert open_on(stations.drop(columns=["opened_on", "closed_on"]), TODAY)["code"].tolist() == [S1, S2]


# ---------------------------------------------------------------- the store, on both backends


@pytest.fixture
def engine(db_url):
    eng = engine_for(db_url)
    migrate(eng)
    write_frames(eng, district(), actor="测试", action="insert")
    for acct in (JM, LIN, ADMIN):
        create_account(eng, system_operator("测试"), acct.username, acct.role, acct.scope_code)
    return eng


def stored(engine, code: str) -> pd.Series:
    return read_layer(engine, "stations").set_index("code").loc[code]


def denied(engine) -> list[dict]:
    t = schema.audit_log
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(t).where(t.c.action == "denied", t.c.table_name == "stations"))
                .mappings()]


def test_add_issues_the_next_code_and_takes_the_units_of_the_point(engine):
    v0 = data_version(engine)
    row = add_station(engine, NEW, IN_C1, JM, today=TODAY)
    assert row["code"] == C1 + "S002" and (row["grid_code"], row["community_code"], row["street_code"]) == (G1, C1, ST)
    assert (row["kind"], row["version"], row["opened_on"], row["closed_on"]) == ("elderly_home", 1, TODAY, None)
    assert (row["lon"], row["lat"]) == (119.293, 26.083) and data_version(engine) > v0
    again = add_station(engine, {**NEW, "name": "第三站"}, ALSO_C1, JM, today=TODAY)
    assert again["code"] == C1 + "S003"
    entry = station_history(engine, row["code"]).iloc[0]
    assert entry["action"] == "insert" and entry["actor"] == "jm_duty" and entry["before"] is None
    assert entry["after"]["community_code"] == C1 and entry["after"]["name"] == NEW["name"]
    assert "站点类型：（空） → 居家养老服务站" in entry["summary"]


def test_a_code_is_never_issued_twice(engine):
    with engine.begin() as conn:  # an import issued up to S007 (its records since gone)
        conn.execute(insert(schema.code_sequences).values(prefix=C1 + "S", last=7))
    assert add_station(engine, NEW, IN_C1, ADMIN, today=TODAY)["code"] == C1 + "S008"
    with engine.connect() as conn:
        seq = conn.execute(select(schema.code_sequences.c.last).where(schema.code_sequences.c.prefix == C1 + "S")).scalar()
    assert seq == 8


@pytest.mark.parametrize(("fields", "point", "match"), [
    (NEW, OUTSIDE, "不在鼓楼区的网格内"),
    (NEW, None, "请在地图上点选站点位置"),
    ({**NEW, "capacity": -1}, IN_C1, "容量（人）：不能为负数"),
    ({**NEW, "opened_on": date(2026, 12, 25)}, IN_C1, "不能登记将来启用的站点"),
])
def test_invalid_new_stations_write_nothing(engine, fields, point, match):
    v0 = data_version(engine)
    with pytest.raises(DataValidationError, match=match):
        add_station(engine, fields, point, JM, today=TODAY)
    assert data_version(engine) == v0 and len(read_layer(engine, "stations")) == 2


@pytest.mark.parametrize(("account", "point", "allowed"), [
    (JM, IN_C1, True), (JM, IN_C2, False), (LIN, IN_C2, True), (ADMIN, IN_C2, True), (None, IN_C1, False),
])
def test_add_checks_the_scope_of_the_point(engine, account, point, allowed):
    if allowed:
        assert add_station(engine, NEW, point, account, today=TODAY)["version"] == 1
        return
    with pytest.raises(PermissionDenied, match="未登录|只能修改"):
        add_station(engine, NEW, point, account, today=TODAY)
    assert len(read_layer(engine, "stations")) == 2
    assert denied(engine)[-1]["actor"] == (account.username if account else "（未登录）")


def test_move_recomputes_the_units_and_is_audited(engine):
    row = move_station(engine, S1, ALSO_C1, 1, JM)
    assert (row["lon"], row["lat"], row["version"], row["community_code"]) == (119.296, 26.087, 2, C1)
    entry = station_history(engine, S1).iloc[0]
    assert entry["before"] == {"lon": 119.291, "lat": 26.081} and entry["after"] == {"lon": 119.296, "lat": 26.087}
    row = move_station(engine, S1, IN_C2, 2, LIN)  # the sub-district may move it into the next community
    assert (row["grid_code"], row["community_code"]) == (G2, C2)
    assert station_history(engine, S1).iloc[0]["after"] == {"lon": 119.305, "lat": 26.082, "grid_code": G2,
                                                            "community_code": C2}


@pytest.mark.parametrize(("account", "code", "point"), [
    (JM, S1, IN_C2),      # out of its community: must stay in scope
    (JM, S2, IN_C1),      # a station of another community
    (None, S1, ALSO_C1),  # logged out
])
def test_move_outside_the_scope_is_refused_and_audited(engine, account, code, point):
    with pytest.raises(PermissionDenied):
        move_station(engine, code, point, 1, account)
    assert stored(engine, code)["version"] == 1 and denied(engine)[-1]["record_code"] == code


def test_move_out_of_the_district_is_refused(engine):
    with pytest.raises(DataValidationError, match="不在鼓楼区的网格内"):
        move_station(engine, S1, OUTSIDE, 1, ADMIN)


def test_close_keeps_the_row_and_drops_it_from_the_open_stations(engine):
    v0 = data_version(engine)
    row = close_station(engine, S1, date(2026, 11, 20), 1, JM, today=TODAY)
    assert row["closed_on"] == date(2026, 11, 20) and row["version"] == 2 and data_version(engine) > v0
    every = read_layer(engine, "stations")
    assert every["code"].tolist() == [S1, S2]  # kept
    assert open_on(every, TODAY)["code"].tolist() == [S2]
    assert len(export_frame(engine, "stations")) == 2  # exports keep every station
    assert station_history(engine, S1).iloc[0]["summary"] == "关闭日期：（空） → 2026-11-20"
    with pytest.raises(DataValidationError, match="该站点已于 2026-11-20 关闭"):
        close_station(engine, S1, TODAY, 2, JM, today=TODAY)
    with pytest.raises(DataValidationError, match="不能迁移"):
        move_station(engine, S1, ALSO_C1, 2, JM)


@pytest.mark.parametrize(("day", "match"), [
    (date(2019, 1, 1), "早于启用日期 2020-05-01"), (date(2026, 12, 1), "不能登记将来的关闭"),
])
def test_bad_closing_dates(engine, day, match):
    with pytest.raises(DataValidationError, match=match):
        close_station(engine, S1, day, 1, JM, today=TODAY)
    assert pd.isna(stored(engine, S1)["closed_on"])


def test_close_outside_the_scope_and_stale_versions(engine):
    with pytest.raises(PermissionDenied, match="只能修改"):
        close_station(engine, S2, TODAY, 1, JM, today=TODAY)
    move_station(engine, S1, ALSO_C1, 1, ADMIN)
    with pytest.raises(ConflictError, match="该站点已被他人修改（当前版本 2）"):
        close_station(engine, S1, TODAY, 1, JM, today=TODAY)
    with pytest.raises(GuloError, match="找不到站点“nope”"):
        close_station(engine, "nope", TODAY, 1, ADMIN, today=TODAY)


@pytest.mark.parametrize("round_", range(2))
def test_a_move_and_a_close_of_one_station_at_once_exactly_one_wins(engine, round_):
    outcomes = race([lambda: move_station(engine, S1, ALSO_C1, 1, JM),
                     lambda: close_station(engine, S1, TODAY, 1, LIN, today=TODAY)])
    winners = [o for o in outcomes if isinstance(o, dict)]
    losers = [o for o in outcomes if isinstance(o, ConflictError)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert stored(engine, S1)["version"] == 2 and len(station_history(engine, S1)) == 1


def test_two_new_stations_in_one_community_at_once_get_two_codes(engine):
    outcomes = race([lambda: add_station(engine, NEW, IN_C1, JM, today=TODAY),
                     lambda: add_station(engine, {**NEW, "name": "另一站"}, ALSO_C1, LIN, today=TODAY)])
    assert all(isinstance(o, dict) for o in outcomes), outcomes
    assert sorted(o["code"] for o in outcomes) == [C1 + "S002", C1 + "S003"]
