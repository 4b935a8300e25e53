"""The dispute-case lifecycle as pure rules (geo.case_lifecycle): steps, required fields, dates, the time limit."""
from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from geo.case_lifecycle import (
    STEPS,
    case_deadlines,
    days_left,
    deadline_text,
    describe_case_entry,
    is_overdue,
    next_steps,
    step_fields,
    step_of,
    validate_receipt,
    validate_step,
)
from geo.disputes import overdue_mask
from geo.rollup import Period, dispute_counts, open_on
from geo.vocab import CaseStep, DisputeStatus

TODAY = date(2026, 11, 25)
S = DisputeStatus


def case(status="received", **dates) -> dict:
    return {"status": status, "reported_on": date(2026, 11, 1), "mediating_on": None, "agreement_on": None,
            "closed_on": None, **dates}


@pytest.mark.parametrize("status, steps", [
    ("received", [CaseStep.MEDIATE, CaseStep.TRANSFER]),
    ("调解中", [CaseStep.RESOLVE, CaseStep.FAIL]),
    ("resolved", [CaseStep.CLOSE]),
    ("failed", [CaseStep.TRANSFER, CaseStep.CLOSE]),
    ("transferred", [CaseStep.CLOSE]),
])
def test_next_steps_follow_the_lifecycle(status, steps):
    assert next_steps(status) == steps
    assert next_steps(status, closed_on=date(2026, 11, 20)) == []  # 办结: nothing more


def test_each_step_asks_for_exactly_its_fields():
    assert step_fields(CaseStep.MEDIATE) == ("mediator", "mediating_on")
    assert step_fields("记为调解成功") == ("outcome", "agreement_on")
    assert step_fields("fail") == ("outcome",)
    assert step_fields(CaseStep.TRANSFER) == ("transferred_to",)
    assert step_fields(CaseStep.CLOSE) == ("closed_on",)
    assert {s.target for s in STEPS.values()} == {S.MEDIATING, S.RESOLVED, S.FAILED, S.TRANSFERRED, None}


def test_a_valid_step_gives_the_changes_to_store():
    changes, problems = validate_step(case(), CaseStep.MEDIATE, {"mediator": " 王调解 ", "mediating_on": "2026-11-03"},
                                      TODAY)
    assert problems == []
    assert changes == {"mediator": "王调解", "mediating_on": date(2026, 11, 3), "status": "mediating"}
    changes, problems = validate_step(case("resolved", agreement_on=date(2026, 11, 9)), CaseStep.CLOSE,
                                      {"closed_on": pd.Timestamp("2026-11-09")}, TODAY)
    assert problems == [] and changes == {"closed_on": date(2026, 11, 9)}  # 办结 keeps the status


@pytest.mark.parametrize("status, step", [
    ("received", CaseStep.RESOLVE), ("received", CaseStep.FAIL), ("received", CaseStep.CLOSE),
    ("mediating", CaseStep.MEDIATE), ("mediating", CaseStep.TRANSFER), ("mediating", CaseStep.CLOSE),
    ("resolved", CaseStep.TRANSFER), ("resolved", CaseStep.FAIL), ("transferred", CaseStep.MEDIATE),
])
def test_a_step_the_status_does_not_allow_is_refused_naming_the_allowed_ones(status, step):
    _, problems = validate_step(case(status), step, {}, TODAY)
    allowed = "、".join(s.label for s in next_steps(status))
    assert problems[0] == f"办理状态：“{S(status).label}”的案件不能“{step.label}”，可办理：{allowed}"


def test_a_closed_case_is_refused_every_step():
    _, problems = validate_step(case("failed", closed_on=date(2026, 11, 20)), CaseStep.TRANSFER,
                                {"transferred_to": "区信访局"}, TODAY)
    assert problems == ["办理状态：案件已于 2026-11-20 办结，不能再“转办”"]


@pytest.mark.parametrize("before, step, fields, expected", [
    (case(), CaseStep.MEDIATE, {"mediator": "王", "mediating_on": date(2026, 10, 31)},
     ["开始调解日期：2026-10-31 早于受理日期 2026-11-01，日期不能倒退"]),
    (case(), CaseStep.MEDIATE, {"mediator": "王", "mediating_on": TODAY + timedelta(days=1)},
     ["开始调解日期：2026-11-26 晚于今天（2026-11-25），不能是将来的日期"]),
    (case("mediating", mediating_on=date(2026, 11, 5)), CaseStep.RESOLVE, {"outcome": "好", "agreement_on": date(2026, 11, 4)},
     ["调解协议日期：2026-11-04 早于开始调解日期 2026-11-05，日期不能倒退"]),
    (case("resolved", mediating_on=date(2026, 11, 5), agreement_on=date(2026, 11, 8)), CaseStep.CLOSE,
     {"closed_on": date(2026, 11, 6)}, ["办结日期：2026-11-06 早于调解协议日期 2026-11-08，日期不能倒退"]),
    (case("transferred"), CaseStep.CLOSE, {"closed_on": date(2026, 10, 30)},
     ["办结日期：2026-10-30 早于受理日期 2026-11-01，日期不能倒退"]),
    (case("transferred"), CaseStep.CLOSE, {"closed_on": TODAY}, []),  # today itself is fine
    (case("transferred"), CaseStep.CLOSE, {"closed_on": date(2026, 11, 1)}, []),  # the same day as 受理
])
def test_dates_never_go_backwards_nor_lie_in_the_future(before, step, fields, expected):
    assert validate_step(before, step, fields, TODAY)[1] == expected


@pytest.mark.parametrize("step, fields, expected", [
    (CaseStep.MEDIATE, {}, ["调解员或调解室：“开始调解”时必须填写", "开始调解日期：“开始调解”时必须填写"]),
    (CaseStep.MEDIATE, {"mediator": "王", "mediating_on": "十一月三日"},
     ["开始调解日期：应为日期（如 2026-05-01），实为“十一月三日”"]),
    (CaseStep.TRANSFER, {"transferred_to": "局" * 61}, ["转办单位：不能超过 60 个字，实为 61 个字"]),
    (CaseStep.TRANSFER, {"transferred_to": "区信访局", "closed_on": TODAY},
     ["字段“办结日期”：“转办”不填写此项，只填写：转办单位"]),
    ("跳过", {}, ["办理步骤：“跳过”不是有效的办理步骤，可选：开始调解、记为调解成功、记为调解不成、转办、办结"]),
])
def test_each_problem_is_one_sentence_naming_the_field(step, fields, expected):
    assert validate_step(case(), step, fields, TODAY)[1] == expected


def test_a_receipt_is_checked_whole():
    clean, problems = validate_receipt({"category": "邻里纠纷", "source": "来访", "reported_on": "2026-11-25",
                                        "address": " 东街1号 ", "location": (119.3, 26.08)}, TODAY)
    assert problems == [] and clean["address"] == "东街1号" and clean["category"] == "neighbour"
    assert clean["location"] == (119.3, 26.08) and clean["reported_on"] == TODAY
    _, problems = validate_receipt({"source": "微博", "reported_on": TODAY + timedelta(days=1), "location": ("a", 1),
                                    "mood": "急"}, TODAY)
    assert problems == [
        "字段“mood”：受理时不填写此项，可填写：纠纷类别、来源、受理日期、地址、位置、所属小区、当事人情况、简要情况",
        "来源：“微博”不是有效的来源，可选：网格员巡查、来访、12345热线、信访",
        "位置：应为经纬度（经度, 纬度），实为“('a', 1)”",
        "纠纷类别：受理时必须填写",
        "地址：受理时必须填写",
        "受理日期：2026-11-26 晚于今天（2026-11-25），不能是将来的日期",
    ]
    _, problems = validate_receipt({"category": "邻里纠纷", "source": "来访", "reported_on": TODAY,
                                    "compound_code": "350102004001C001"}, TODAY)
    assert problems == []  # at a known compound the address may stay empty (the store takes its name)


# ---------------------------------------------------------------- the 30-day limit


@pytest.mark.parametrize("age, left, text, overdue", [
    (0, 30, "剩余 30 天", False), (29, 1, "剩余 1 天", False), (30, 0, "今天到期", False), (31, -1, "超期 1 天", True),
])
def test_the_limit_counts_from_receipt_and_day_30_is_due_not_overdue(age, left, text, overdue):
    reported = TODAY - timedelta(days=age)
    assert days_left(reported, TODAY, 30) == left and deadline_text(left) == text
    assert is_overdue(reported, None, TODAY, 30) is overdue
    frame = pd.DataFrame({"reported_on": [reported], "closed_on": [None], "status": ["mediating"],
                          "grid_code": ["G"]})
    assert case_deadlines(frame, TODAY, 30).iloc[0].tolist() == [left, overdue]
    # the same rule as the statistics everywhere (geo.disputes, geo.rollup)
    assert bool(overdue_mask(frame, TODAY, 30).iloc[0]) is overdue
    assert int(dispute_counts(frame, "grid_code", Period.last_days(TODAY, 30), 30)["overdue"].sum()) == int(overdue)


def test_open_means_no_close_date_whatever_the_status():
    frame = pd.DataFrame({
        "status": ["resolved", "resolved", "mediating", "transferred"],
        "reported_on": [date(2026, 9, 1)] * 4,
        "closed_on": [None, date(2026, 11, 20), None, date(2026, 11, 26)],
        "grid_code": ["G"] * 4,
    })
    assert open_on(frame, TODAY).tolist() == [True, False, True, True]  # closed after the day: still open then
    assert case_deadlines(frame, TODAY, 30)["overdue"].tolist() == [True, False, True, True]
    assert is_overdue(date(2026, 9, 1), date(2026, 11, 20), TODAY) is False


# ---------------------------------------------------------------- history lines


def test_history_lines_name_the_step():
    assert step_of({"status": "received"}, {"status": "mediating", "mediator": "王"}) is CaseStep.MEDIATE
    assert step_of({"closed_on": None}, {"closed_on": "2026-11-20"}) is CaseStep.CLOSE
    assert describe_case_entry("update", {"status": "mediating", "outcome": None},
                               {"status": "failed", "outcome": "分歧大"}) == "记为调解不成：调解结果 分歧大"
    assert describe_case_entry("create", None, {"category": "family", "source": "hotline",
                                                "reported_on": "2026-11-02"}) == \
        "受理：家庭婚姻纠纷，来源 12345热线，受理日期 2026-11-02"
    assert describe_case_entry("update", {"address": "旧"}, {"address": "新"}) == "地址：旧 → 新"
