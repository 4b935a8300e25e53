"""Editing compounds on SQLite and PostGIS: validation, optimistic locking, audit trail, races."""
from __future__ import annotations

from datetime import date

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point
from sqlalchemy import func, select

from data import edits, schema
from data.accounts import create_account
from data.edits import compound_history, update_compound
from data.store import data_version, engine_for, migrate, read_layer, write_frames
from geo.access import Account, system_operator
from geo.errors import ConflictError, DataValidationError, GuloError
from geo.vocab import Role
from tests.concurrency import race
from tests.test_store import C1, ST, tiny_district

TODAY = date(2026, 11, 15)
PLANNED, DONE, BUILDING = C1 + "C001", C1 + "C002", C1 + "C003"
JIA, YI = Account("jia", Role.DISTRICT), Account("yi", Role.DISTRICT)
LIN = Account("lingong", Role.STREET, ST, display_name="东街街道 林工")


def district() -> dict[str, gpd.GeoDataFrame]:
    """The tiny district with three compounds: planned, completed, under way."""
    frames = tiny_district()
    first = frames["compounds"]
    more = pd.concat([first] * 2, ignore_index=True).assign(
        code=[DONE, BUILDING], name=["三坊新苑", "南营小区"], status=["completed", "under_way"],
        plan_year=[2024, 2026], started_on=[date(2024, 3, 1), date(2026, 4, 1)],
        completed_on=[date(2024, 10, 1), None],
    )
    more = gpd.GeoDataFrame(more, geometry=[Point(119.296, 26.086), Point(119.297, 26.087)], crs="EPSG:4326")
    frames["compounds"] = gpd.GeoDataFrame(pd.concat([first, more], ignore_index=True), crs="EPSG:4326")
    return frames


@pytest.fixture
def engine(db_url):
    eng = engine_for(db_url)
    migrate(eng)
    write_frames(eng, district(), actor="测试", action="insert")
    for acct in (JIA, YI, LIN):  # no password: these tests do not log in
        create_account(eng, system_operator("测试"), acct.username, acct.role, acct.scope_code)
    return eng


def version_of(engine, code: str) -> int:
    with engine.connect() as conn:
        return conn.execute(select(schema.compounds.c.version).where(schema.compounds.c.code == code)).scalar()


def audit_count(engine, code: str) -> int:
    t = schema.audit_log
    with engine.connect() as conn:
        return conn.execute(select(func.count()).where(t.c.record_code == code)).scalar()


def test_valid_edit_bumps_version_and_writes_one_audit_entry(engine):
    new = update_compound(engine, PLANNED, {"status": "施工中", "started_on": date(2026, 5, 1), "plan_year": 2027,
                                            "budget_wan": 200}, expected_version=1, account=LIN, today=TODAY)
    assert new["version"] == 2 and new["status"] == "under_way" and new["budget_wan"] == 200.0
    assert new["started_on"] == date(2026, 5, 1) and new["name"] == "<b>军门新村</b>"
    hist = compound_history(engine, PLANNED)
    assert len(hist) == 1
    entry = hist.iloc[0]
    assert entry["actor"] == "lingong" and entry["action"] == "update"
    assert entry["before"] == {"status": "planned", "budget_wan": 185.5, "started_on": None}
    assert entry["after"] == {"status": "under_way", "budget_wan": 200.0, "started_on": "2026-05-01"}
    assert entry["summary"] == "改造状态：已纳入计划 → 施工中；预算（万元）：185.5 → 200；开工日期：（空） → 2026-05-01"
    stored = read_layer(engine, "compounds").set_index("code").loc[PLANNED]
    assert stored["status"] == "under_way" and stored["version"] == 2


def test_history_is_newest_first(engine):
    update_compound(engine, PLANNED, {"budget_wan": 190}, 1, JIA, today=TODAY)
    update_compound(engine, PLANNED, {"budget_wan": 195}, 2, YI, today=TODAY)
    hist = compound_history(engine, PLANNED)
    assert hist["actor"].tolist() == ["yi", "jia"]
    assert [a["budget_wan"] for a in hist["after"]] == [195.0, 190.0]
    assert compound_history(engine, BUILDING).empty


def test_backwards_move_is_refused_and_writes_nothing(engine):
    v0 = data_version(engine)
    with pytest.raises(DataValidationError, match="改造状态：不能从“已完工”改为“已纳入计划”") as err:
        update_compound(engine, DONE, {"status": "planned"}, 1, JIA, today=TODAY)
    assert err.value.problems and err.value.problems[0][:2] == (DONE, "改造状态")
    assert version_of(engine, DONE) == 1 and audit_count(engine, DONE) == 0 and data_version(engine) == v0


def test_completed_without_completion_date_is_refused(engine):
    with pytest.raises(DataValidationError, match="完工日期：状态为“已完工”时必须填写完工日期"):
        update_compound(engine, BUILDING, {"status": "completed"}, 1, JIA, today=TODAY)
    assert version_of(engine, BUILDING) == 1 and audit_count(engine, BUILDING) == 0


def test_fields_outside_the_editable_ones_are_refused(engine):
    with pytest.raises(DataValidationError, match="字段“name”：不允许在此修改"):
        update_compound(engine, PLANNED, {"name": "新名字", "budget_wan": 1}, 1, JIA, today=TODAY)
    assert audit_count(engine, PLANNED) == 0


def test_stale_version_is_refused_with_conflict(engine):
    update_compound(engine, PLANNED, {"budget_wan": 190}, 1, JIA, today=TODAY)
    with pytest.raises(ConflictError, match=r"该小区已被他人修改（当前版本 2），请刷新后重试；您的修改未保存"):
        update_compound(engine, PLANNED, {"budget_wan": 999}, 1, YI, today=TODAY)
    assert version_of(engine, PLANNED) == 2 and audit_count(engine, PLANNED) == 1
    assert read_layer(engine, "compounds").set_index("code").loc[PLANNED, "budget_wan"] == 190.0


def test_conditional_update_catches_a_change_after_the_read(engine, monkeypatch):
    """Even when the read saw the expected version, the UPDATE's own version check refuses."""
    update_compound(engine, PLANNED, {"budget_wan": 190}, 1, JIA, today=TODAY)
    real = edits._read_row
    monkeypatch.setattr(edits, "_read_row", lambda conn, code: {**real(conn, code), "version": 1})
    with pytest.raises(ConflictError, match="当前版本 2"):
        update_compound(engine, PLANNED, {"budget_wan": 999}, 1, YI, today=TODAY)
    assert version_of(engine, PLANNED) == 2 and audit_count(engine, PLANNED) == 1


def test_edit_that_changes_nothing_writes_nothing(engine):
    row = update_compound(engine, PLANNED, {"status": "已纳入计划", "budget_wan": 185.5}, 1, JIA, today=TODAY)
    assert row["version"] == 1 and audit_count(engine, PLANNED) == 0


def test_unknown_compound(engine):
    with pytest.raises(GuloError, match="找不到小区“nope”"):
        update_compound(engine, "nope", {"budget_wan": 1}, 1, JIA, today=TODAY)


@pytest.mark.parametrize("round_", range(3))
def test_two_concurrent_edits_exactly_one_wins(engine, round_):
    outcomes = race([lambda seen, b=b: update_compound(engine, PLANNED, {"budget_wan": b}, seen, JIA, today=TODAY)
                     for b in (200.0, 300.0)], before=lambda: version_of(engine, PLANNED))
    winners = [o for o in outcomes if isinstance(o, dict)]
    losers = [o for o in outcomes if isinstance(o, ConflictError)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert "该小区已被他人修改（当前版本 2）" in str(losers[0])
    assert version_of(engine, PLANNED) == 2 and winners[0]["version"] == 2
    assert audit_count(engine, PLANNED) == 1
    stored = read_layer(engine, "compounds").set_index("code").loc[PLANNED, "budget_wan"]
    assert stored == winners[0]["budget_wan"]
    assert compound_history(engine, PLANNED).iloc[0]["after"] == {"budget_wan": stored}


def test_completion_in_the_future_is_refused_by_default(engine):
    from datetime import timedelta

    from geo.lifecycle import district_today

    future = district_today() + timedelta(days=2)
    with pytest.raises(DataValidationError, match="完工日期不能是将来的日期"):
        update_compound(engine, BUILDING, {"status": "completed", "completed_on": future}, 1, JIA)
