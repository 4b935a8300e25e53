"""Dispute cases taken in and through mediation on SQLite and PostGIS: scope per role, lifecycle rules,
optimistic locking, never-reused codes and the audit trail (data.cases)."""
from __future__ import annotations

import json
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from data import schema
from data.accounts import create_account
from data.cases import advance_case, case_history, get_case, my_cases, receive_case
from data.store import data_version, engine_for, migrate, read_layer, write_frames
from geo.access import Account, system_operator
from geo.case_lifecycle import STEPS
from geo.errors import ConflictError, DataValidationError, GuloError, PermissionDenied
from geo.vocab import CaseStep, DisputeStatus, Role
from tests.concurrency import race
from tests.test_store import C1, G1, ST, tiny_district

TODAY = date(2026, 11, 25)
IN_G1, IN_G2, OUTSIDE = (119.295, 26.085), (119.305, 26.085), (119.40, 26.20)
COMPOUND = C1 + "C001"
OPEN_G2 = "JF0000002"  # received 2026-11-20 in 大根社区 (C2)

QU = Account("quji", Role.DISTRICT)
LIN = Account("lingong", Role.STREET, ST)
MEI = Account("meigong", Role.COMMUNITY, C1)  # 军门社区: G1 only
ROLES = {"district": QU, "street": LIN, "community": MEI}


@pytest.fixture
def engine(db_url):
    eng = engine_for(db_url)
    migrate(eng)
    write_frames(eng, tiny_district(), actor="测试", action="insert")
    for acct in ROLES.values():  # no password: these tests do not log in
        create_account(eng, system_operator("测试"), acct.username, acct.role, acct.scope_code)
    return eng


def receipt(**changes) -> dict:
    fields = {"category": "邻里纠纷", "source": "来访", "reported_on": date(2026, 11, 1), "address": "军门新村2座",
              "parties": "张某（楼上）与李某（楼下）", "summary": "卫生间渗水", "location": IN_G1}
    fields.update(changes)
    return {k: v for k, v in fields.items() if v is not None}


def count(engine, **where) -> int:
    t = schema.audit_log
    with engine.connect() as conn:
        return conn.execute(select(func.count()).where(*(t.c[k] == v for k, v in where.items()))).scalar()


def entries(engine, code: str) -> list[dict]:
    t = schema.audit_log
    with engine.connect() as conn:
        rows = conn.execute(select(t).where(t.c.record_code == code).order_by(t.c.id)).mappings().all()
    return [{**r, "before": json.loads(r["before"] or "null"), "after": json.loads(r["after"] or "null")} for r in rows]


def n_cases(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(schema.disputes)).scalar()


def row(engine, code: str) -> dict:
    t = schema.disputes
    with engine.connect() as conn:
        return dict(conn.execute(select(*[c for c in t.c if c.name != "geom"]).where(t.c.code == code)).mappings().one())


# ---------------------------------------------------------------- 受理


def test_a_case_taken_in_on_the_map_lands_in_the_grid_of_its_point_with_a_new_code(engine):
    v0 = data_version(engine)
    case = receive_case(engine, receipt(), MEI, today=TODAY)
    assert case["code"] == "JF2600001" and case["status"] == "received" and case["version"] == 1
    assert (case["grid_code"], case["community_code"], case["street_code"]) == (G1, C1, ST)
    assert case["closed_on"] is None and case["reported_on"] == date(2026, 11, 1)
    assert case["parties"] == "张某（楼上）与李某（楼下）" and case["compound_code"] is None
    stored = read_layer(engine, "disputes").set_index("code").loc["JF2600001"]
    assert (round(stored.geometry.x, 6), round(stored.geometry.y, 6)) == IN_G1
    (entry,) = entries(engine, "JF2600001")
    assert (entry["action"], entry["actor"], entry["before"]) == ("create", "meigong", None)
    assert entry["after"]["address"] == "军门新村2座" and entry["after"]["grid_code"] == G1
    assert data_version(engine) > v0  # every cached figure is rebuilt
    with engine.connect() as conn:
        seq = conn.execute(select(schema.code_sequences.c.last).where(schema.code_sequences.c.prefix == "JF26")).scalar()
    assert seq == 1


def test_a_case_taken_in_at_a_known_compound_takes_its_point_and_name(engine):
    case = receive_case(engine, receipt(location=None, address="", compound_code=COMPOUND), MEI, today=TODAY)
    assert case["compound_code"] == COMPOUND and case["address"] == "<b>军门新村</b>" and case["grid_code"] == G1
    point = read_layer(engine, "disputes").set_index("code").loc[case["code"]].geometry
    assert (point.x, point.y) == (119.295, 26.085)


def test_codes_are_never_issued_twice(engine):
    with engine.begin() as conn:  # an import issued up to 7 under JF26; a stored case holds number 12
        conn.execute(schema.code_sequences.insert().values(prefix="JF26", last=7))
    assert receive_case(engine, receipt(), QU, today=TODAY)["code"] == "JF2600008"
    frames = tiny_district()
    frames = {"disputes": frames["disputes"].iloc[:1].assign(code="JF2600012")}
    write_frames(engine, frames, actor="测试", action="insert")
    assert receive_case(engine, receipt(), QU, today=TODAY)["code"] == "JF2600013"
    assert receive_case(engine, receipt(reported_on=date(2025, 12, 31)), QU, today=TODAY)["code"] == "JF2500001"


def test_two_cases_taken_in_at_once_get_two_codes(engine):
    barrier, codes = threading.Barrier(2), []

    def take_in():
        barrier.wait(timeout=30)
        codes.append(receive_case(engine, receipt(), QU, today=TODAY)["code"])

    threads = [threading.Thread(target=take_in) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(codes) == ["JF2600001", "JF2600002"]


@pytest.mark.parametrize("role, point, allowed", [
    ("district", IN_G2, True), ("street", IN_G2, True), ("community", IN_G1, True),
    ("community", IN_G2, False),  # 大根社区 is outside 军门社区
])
def test_who_may_take_in_a_case_where(engine, role, point, allowed):
    account = ROLES[role]
    if allowed:
        assert receive_case(engine, receipt(location=point), account, today=TODAY)["code"] == "JF2600001"
        return
    n = n_cases(engine)
    with pytest.raises(PermissionDenied, match="只能修改军门社区范围内的数据|只能修改350102004001范围内的数据"):
        receive_case(engine, receipt(location=point), account, today=TODAY)
    assert n_cases(engine) == n and count(engine, action="denied", actor=account.username) == 1


def test_logged_out_cannot_take_in_a_case_and_the_refusal_is_audited(engine):
    n, v0 = n_cases(engine), data_version(engine)
    with pytest.raises(PermissionDenied, match="未登录"):
        receive_case(engine, receipt(), None, today=TODAY)
    assert n_cases(engine) == n and count(engine, action="denied", actor="（未登录）") == 1
    assert data_version(engine) == v0  # a refusal changes no figure


def test_a_deactivated_account_is_refused_inside_the_transaction(engine):
    from data.accounts import deactivate

    deactivate(engine, system_operator("测试"), "meigong")
    with pytest.raises(PermissionDenied, match="已停用"):
        receive_case(engine, receipt(), MEI, today=TODAY)  # the session still holds the old account


def test_a_point_outside_the_district_is_refused(engine):
    n = n_cases(engine)
    with pytest.raises(DataValidationError, match="位置：经度 119.400000、纬度 26.200000 不在本区任何网格内"):
        receive_case(engine, receipt(location=OUTSIDE), QU, today=TODAY)
    assert n_cases(engine) == n


@pytest.mark.parametrize("changes, message", [
    ({"category": None}, "纠纷类别：受理时必须填写"),
    ({"category": "打架"}, "纠纷类别：“打架”不是有效的纠纷类别"),
    ({"address": " "}, "地址：受理时必须填写"),
    ({"address": "长" * 121}, "地址：不能超过 120 个字"),
    ({"reported_on": date(2026, 11, 26)}, "受理日期：2026-11-26 晚于今天（2026-11-25），不能是将来的日期"),
    ({"location": None}, "位置：请在地图上点选案件发生地，或选择已登记的小区"),
    ({"compound_code": "C-NONE", "location": None}, "所属小区：找不到小区“C-NONE”"),
])
def test_a_bad_receipt_names_the_field_and_saves_nothing(engine, changes, message):
    n = n_cases(engine)
    with pytest.raises(DataValidationError, match=message):
        receive_case(engine, receipt(**changes), QU, today=TODAY)
    assert n_cases(engine) == n and count(engine, action="create") == 0


# ---------------------------------------------------------------- the steps


def taken_in(engine, account=MEI, **changes) -> str:
    return receive_case(engine, receipt(**changes), account, today=TODAY)["code"]


def test_the_whole_way_received_mediating_resolved_closed_with_one_audit_entry_per_step(engine):
    code = taken_in(engine)
    v = data_version(engine)
    case = advance_case(engine, code, CaseStep.MEDIATE, {"mediator": " 军门社区人民调解室 ", "mediating_on": date(2026, 11, 3)},
                        1, MEI, today=TODAY)
    assert (case["status"], case["mediator"], case["version"]) == ("mediating", "军门社区人民调解室", 2)
    assert data_version(engine) > v
    case = advance_case(engine, code, "记为调解成功", {"outcome": "楼上维修防水，赔偿800元", "agreement_on": "2026-11-10"},
                        2, MEI, today=TODAY)
    assert (case["status"], case["agreement_on"], case["closed_on"]) == ("resolved", date(2026, 11, 10), None)
    assert code in set(my_cases(engine, MEI, TODAY)["code"])  # 调解成功 awaiting 办结: still open
    case = advance_case(engine, code, CaseStep.CLOSE, {"closed_on": date(2026, 11, 12)}, 3, MEI, today=TODAY)
    assert (case["status"], case["closed_on"], case["version"]) == ("resolved", date(2026, 11, 12), 4)
    assert code not in set(my_cases(engine, MEI, TODAY)["code"])
    log = entries(engine, code)
    assert [e["action"] for e in log] == ["create", "update", "update", "update"]
    assert log[1]["before"] == {"status": "received", "mediator": None, "mediating_on": None}
    assert log[1]["after"] == {"status": "mediating", "mediator": "军门社区人民调解室", "mediating_on": "2026-11-03"}
    assert log[3]["before"] == {"closed_on": None} and log[3]["after"] == {"closed_on": "2026-11-12"}
    history = case_history(engine, code)
    assert history["summary"].tolist() == [
        "办结：办结日期 2026-11-12",
        "记为调解成功：调解结果 楼上维修防水，赔偿800元；调解协议日期 2026-11-10",
        "开始调解：调解员或调解室 军门社区人民调解室；开始调解日期 2026-11-03",
        "受理：邻里纠纷，来源 来访，受理日期 2026-11-01",
    ]
    assert set(history["actor"]) == {"meigong"}


def test_failed_mediation_is_transferred_then_closed(engine):
    code = taken_in(engine)
    advance_case(engine, code, CaseStep.MEDIATE, {"mediator": "王调解", "mediating_on": date(2026, 11, 2)}, 1, MEI,
                 today=TODAY)
    advance_case(engine, code, CaseStep.FAIL, {"outcome": "双方分歧较大"}, 2, MEI, today=TODAY)
    case = advance_case(engine, code, CaseStep.TRANSFER, {"transferred_to": "鼓楼区住建局"}, 3, MEI, today=TODAY)
    assert (case["status"], case["transferred_to"]) == ("transferred", "鼓楼区住建局")
    case = advance_case(engine, code, CaseStep.CLOSE, {"closed_on": TODAY}, 4, MEI, today=TODAY)
    assert case["closed_on"] == TODAY


def _case_in(engine, status: str, closed: bool = False) -> str:
    """A case of 军门社区 brought to ``status`` (and 办结 with ``closed``) along the allowed steps."""
    code = taken_in(engine)
    path = {"received": [], "mediating": [CaseStep.MEDIATE], "resolved": [CaseStep.MEDIATE, CaseStep.RESOLVE],
            "failed": [CaseStep.MEDIATE, CaseStep.FAIL], "transferred": [CaseStep.TRANSFER]}[status]
    fields = {"mediator": "王调解", "mediating_on": date(2026, 11, 2), "outcome": "结果", "agreement_on": date(2026, 11, 3),
              "transferred_to": "区信访局", "closed_on": date(2026, 11, 4)}
    for version, step in enumerate(path + ([CaseStep.CLOSE] if closed else []), start=1):
        advance_case(engine, code, step, {f: fields[f] for f in STEPS[step].fields}, version, QU, today=TODAY)
    return code


TRANSITIONS = [(status, step) for status in ("received", "mediating", "resolved", "failed", "transferred")
               for step in CaseStep]


@pytest.mark.parametrize("status, step", TRANSITIONS, ids=[f"{a}-{b.value}" for a, b in TRANSITIONS])
def test_each_transition_is_allowed_or_refused_as_the_lifecycle_says(engine, status, step):
    code = _case_in(engine, status)
    before = row(engine, code)
    fields = {"mediator": "李调解", "mediating_on": date(2026, 11, 5), "outcome": "已协商", "agreement_on": date(2026, 11, 6),
              "transferred_to": "区人社局", "closed_on": date(2026, 11, 7)}
    allowed = DisputeStatus(status) in STEPS[step].sources
    if allowed:
        case = advance_case(engine, code, step, {f: fields[f] for f in STEPS[step].fields}, before["version"], QU,
                            today=TODAY)
        assert case["status"] == (STEPS[step].target or DisputeStatus(status)).value
        assert case["version"] == before["version"] + 1
        return
    with pytest.raises(DataValidationError, match=f"办理状态：“{DisputeStatus(status).label}”的案件不能“{step.label}”"):
        advance_case(engine, code, step, {f: fields[f] for f in STEPS[step].fields}, before["version"], QU, today=TODAY)
    assert row(engine, code) == before


def test_a_closed_case_takes_no_further_step(engine):
    code = _case_in(engine, "failed", closed=True)
    with pytest.raises(DataValidationError, match="案件已于 2026-11-04 办结，不能再“转办”"):
        advance_case(engine, code, CaseStep.TRANSFER, {"transferred_to": "区信访局"}, 4, QU, today=TODAY)


@pytest.mark.parametrize("status, step, fields, message", [
    ("received", CaseStep.MEDIATE, {"mediator": "王", "mediating_on": date(2026, 10, 31)},
     "开始调解日期：2026-10-31 早于受理日期 2026-11-01，日期不能倒退"),
    ("received", CaseStep.MEDIATE, {"mediator": "王", "mediating_on": date(2026, 11, 26)},
     "开始调解日期：2026-11-26 晚于今天（2026-11-25），不能是将来的日期"),
    ("mediating", CaseStep.RESOLVE, {"outcome": "好", "agreement_on": date(2026, 11, 1)},
     "调解协议日期：2026-11-01 早于开始调解日期 2026-11-02，日期不能倒退"),
    ("resolved", CaseStep.CLOSE, {"closed_on": date(2026, 11, 2)},
     "办结日期：2026-11-02 早于调解协议日期 2026-11-03，日期不能倒退"),
    ("transferred", CaseStep.CLOSE, {"closed_on": date(2026, 12, 1)},
     "办结日期：2026-12-01 晚于今天（2026-11-25），不能是将来的日期"),
    ("received", CaseStep.MEDIATE, {"mediating_on": date(2026, 11, 2)}, "调解员或调解室：“开始调解”时必须填写"),
    ("mediating", CaseStep.FAIL, {"outcome": "  "}, "调解结果：“记为调解不成”时必须填写"),
    ("received", CaseStep.TRANSFER, {"transferred_to": "区信访局", "outcome": "x"},
     "字段“调解结果”：“转办”不填写此项，只填写：转办单位"),
    ("received", "跳过", {}, "办理步骤：“跳过”不是有效的办理步骤"),
])
def test_dates_never_go_backwards_nor_into_the_future_and_each_step_wants_its_fields(engine, status, step, fields,
                                                                                       message):
    code = _case_in(engine, status)
    before = row(engine, code)
    with pytest.raises(DataValidationError, match=message) as err:
        advance_case(engine, code, step, fields, before["version"], QU, today=TODAY)
    assert err.value.problems and err.value.problems[0][0] == code
    assert row(engine, code) == before and count(engine, record_code=code, action="update") == len(entries(engine, code)) - 1


@pytest.mark.parametrize("role, case_grid, allowed", [
    ("district", "G2", True), ("street", "G2", True), ("community", "G1", True), ("community", "G2", False),
])
def test_who_may_take_a_case_a_step(engine, role, case_grid, allowed):
    code = taken_in(engine, QU, location=IN_G1 if case_grid == "G1" else IN_G2)
    account = ROLES[role]
    step = {"mediator": "王调解", "mediating_on": date(2026, 11, 2)}
    if allowed:
        assert advance_case(engine, code, CaseStep.MEDIATE, step, 1, account, today=TODAY)["status"] == "mediating"
        return
    before = row(engine, code)
    with pytest.raises(PermissionDenied, match="无权修改“案件JF2600001”"):
        advance_case(engine, code, CaseStep.MEDIATE, step, 1, account, today=TODAY)
    assert row(engine, code) == before
    (denied,) = [e for e in entries(engine, code) if e["action"] == "denied"]
    assert denied["actor"] == "meigong" and "只能修改" in denied["after"]["reason"]


def test_logged_out_cannot_take_a_step_and_the_refusal_is_audited(engine):
    code = taken_in(engine)
    before = row(engine, code)
    with pytest.raises(PermissionDenied, match="未登录"):
        advance_case(engine, code, CaseStep.TRANSFER, {"transferred_to": "区信访局"}, 1, None, today=TODAY)
    assert row(engine, code) == before
    assert [(e["action"], e["actor"]) for e in entries(engine, code)][-1] == ("denied", "（未登录）")


def test_unknown_case(engine):
    with pytest.raises(GuloError, match="找不到案件“JF9900001”"):
        advance_case(engine, "JF9900001", CaseStep.TRANSFER, {"transferred_to": "区信访局"}, 1, QU, today=TODAY)


def test_a_save_on_a_stale_version_is_refused_and_stores_nothing(engine):
    code = taken_in(engine)
    advance_case(engine, code, CaseStep.MEDIATE, {"mediator": "王调解", "mediating_on": date(2026, 11, 2)}, 1, MEI,
                 today=TODAY)
    before = row(engine, code)
    with pytest.raises(ConflictError, match=r"该案件已被他人办理或修改（当前版本 2），请刷新后重试；您的修改未保存"):
        advance_case(engine, code, CaseStep.TRANSFER, {"transferred_to": "区信访局"}, 1, QU, today=TODAY)
    assert row(engine, code) == before and len(entries(engine, code)) == 2


def steps_at_once(engine, code: str, steps: list[tuple]) -> list:
    """Each thread reads the case's version, waits for the other, then saves its step; returns outcomes."""
    return race([lambda seen, s=s: advance_case(engine, code, s[0], s[1], seen, QU, today=TODAY) for s in steps],
                before=lambda: row(engine, code)["version"])


@pytest.mark.parametrize("round_", range(3))
def test_two_concurrent_steps_on_one_case_exactly_one_wins(engine, round_):
    code = taken_in(engine)
    outcomes = steps_at_once(engine, code, [(CaseStep.MEDIATE, {"mediator": "甲调解员", "mediating_on": date(2026, 11, 2)}),
                                   (CaseStep.TRANSFER, {"transferred_to": "区信访局"})])
    winners = [o for o in outcomes if isinstance(o, dict)]
    losers = [o for o in outcomes if isinstance(o, ConflictError)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    stored = row(engine, code)
    assert stored["version"] == 2 and stored["status"] == winners[0]["status"]
    assert (stored["mediator"] is None) == (stored["status"] == "transferred")  # nothing of the loser stored
    assert (stored["transferred_to"] is None) == (stored["status"] == "mediating")
    assert [e["action"] for e in entries(engine, code)] == ["create", "update"]


# ---------------------------------------------------------------- reading


def test_my_cases_are_the_open_ones_in_scope_overdue_first(engine):
    old = taken_in(engine, reported_on=date(2026, 10, 20))  # 36 days: overdue by 6
    due = taken_in(engine, reported_on=date(2026, 10, 26))  # 30 days: due today
    fresh = taken_in(engine, reported_on=date(2026, 11, 20))
    _case_in(engine, "resolved", closed=True)
    mine = my_cases(engine, MEI, TODAY)
    assert mine["code"].tolist() == [old, due, fresh]
    assert mine["days_left"].tolist() == [-6, 0, 25] and mine["overdue"].tolist() == [True, False, False]
    district = my_cases(engine, QU, TODAY)
    assert set(district["code"]) == {old, due, fresh, OPEN_G2}  # and the open case of 大根社区
    assert district["code"].iloc[0] == old
    with pytest.raises(PermissionDenied, match="未登录"):
        my_cases(engine, None, TODAY)


def test_a_case_is_read_in_detail_only_inside_the_scope(engine):
    assert get_case(engine, OPEN_G2, LIN)["address"] == "东街100号"
    assert get_case(engine, OPEN_G2, LIN)["lon"] == 119.305
    with pytest.raises(PermissionDenied, match="只能查看军门社区范围内的案件|只能查看350102004001范围内的案件"):
        get_case(engine, OPEN_G2, MEI)
    with pytest.raises(PermissionDenied, match="未登录"):
        get_case(engine, OPEN_G2, None)


def test_the_sample_keeps_its_figures_with_open_meaning_no_close_date():
    """Every closed status in the sample has a 办结日期 and no open one has: both notions give the same figures."""
    from data.sample import build_sample

    d = build_sample()["disputes"]
    closed_status = d["status"].isin([s.value for s in (DisputeStatus.RESOLVED, DisputeStatus.FAILED,
                                                        DisputeStatus.TRANSFERRED)])
    assert (closed_status == d["closed_on"].notna()).all()
    assert d["version"].eq(1).all() and d["mediator"].isna().all()


def test_history_of_a_case_without_entries_is_empty(engine):
    assert case_history(engine, OPEN_G2).empty
    assert list(case_history(engine, OPEN_G2).columns) == ["id", "at", "actor", "action", "before", "after", "summary"]


def test_days_are_counted_from_today_in_the_district(engine):
    from geo.lifecycle import district_today

    code = receive_case(engine, receipt(reported_on=district_today()), QU)["code"]  # default today: Fuzhou's
    mine = my_cases(engine, QU).set_index("code")
    assert mine.loc[code, "days_left"] == 30
    with pytest.raises(DataValidationError, match="不能是将来的日期"):
        receive_case(engine, receipt(reported_on=district_today() + timedelta(days=1)), QU)
