"""Renovation lifecycle rules on hand-built rows: allowed moves, required dates, sane numbers."""
from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from geo.lifecycle import (
    EDITABLE_FIELDS,
    allowed_next,
    can_move,
    changed_fields,
    compound_gaps,
    describe_change,
    normalise_changes,
    validate_compound_edit,
)
from geo.vocab import RenovationStatus as S

TODAY = date(2026, 11, 15)


def row(status: str = "planned", **kw) -> dict:
    """A stored compound row (only the fields the rules look at, plus a few they ignore)."""
    base = {"code": "350102004001C001", "name": "军门新村", "status": status, "reno_type": "basic",
            "plan_year": 2025, "budget_wan": 185.5, "started_on": None, "completed_on": None, "version": 1}
    return {**base, **kw}


STARTED = {"started_on": date(2026, 3, 1)}
DONE = {"started_on": date(2025, 3, 1), "completed_on": date(2025, 10, 1)}


@pytest.mark.parametrize("old, new, ok", [
    ("not_planned", "planned", True),
    ("planned", "under_way", True),
    ("under_way", "completed", True),
    ("completed", "managed", True),
    ("planned", "not_planned", True),
    ("managed", "managed", True),
    ("not_planned", "not_planned", True),
    ("completed", "planned", False),
    ("managed", "completed", False),
    ("under_way", "planned", False),
    ("under_way", "not_planned", False),
    ("completed", "not_planned", False),
    ("not_planned", "under_way", False),
    ("planned", "completed", False),
    ("not_planned", "managed", False),
])
def test_can_move(old, new, ok):
    assert can_move(old, new) is ok
    assert can_move(S(old).label, S(new).label) is ok


def test_allowed_next_lists_itself_first_then_lifecycle_order():
    assert allowed_next("planned") == [S.PLANNED, S.NOT_PLANNED, S.UNDER_WAY]
    assert allowed_next("长效管理") == [S.MANAGED]


def test_unknown_status_names_the_allowed_labels():
    with pytest.raises(ValueError, match="未纳入计划、已纳入计划、施工中、已完工、长效管理"):
        can_move("done", "planned")


@pytest.mark.parametrize("before, changes", [
    (row("not_planned", plan_year=None, budget_wan=None, reno_type=None), {"status": "planned", "plan_year": 2027}),
    (row("planned"), {"status": "under_way", **STARTED}),
    (row("under_way", **STARTED), {"status": "completed", "completed_on": date(2026, 9, 30)}),
    (row("completed", **DONE), {"status": "managed"}),
    (row("planned"), {"status": "not_planned", "plan_year": None}),
    (row("planned"), {"budget_wan": 0}),
    (row("planned"), {"plan_year": 2040, "reno_type": "提升类"}),
    (row("under_way", **STARTED), {"status": "已完工", "completed_on": TODAY}),
    (row("managed", **DONE), {"budget_wan": 300.0}),
])
def test_valid_edits_have_no_problems(before, changes):
    assert validate_compound_edit(before, changes, TODAY) == []


def test_backwards_move_names_both_statuses_in_chinese():
    problems = validate_compound_edit(row("completed", **DONE), {"status": "planned"}, TODAY)
    assert len(problems) == 1
    assert problems[0].startswith("改造状态：")
    assert "“已完工”" in problems[0] and "“已纳入计划”" in problems[0] and "长效管理" in problems[0]


@pytest.mark.parametrize("before, changes, expected", [
    (row("under_way", **STARTED), {"status": "completed"}, ["完工日期：状态为“已完工”时必须填写完工日期"]),
    (row("completed", **DONE), {"status": "managed", "completed_on": None},
     ["完工日期：状态为“长效管理”时必须填写完工日期"]),
    (row("planned"), {"status": "under_way"}, ["开工日期：状态为“施工中”时必须填写开工日期"]),
    (row("under_way", **STARTED), {"status": "completed", "completed_on": date(2026, 2, 1)},
     ["完工日期：2026-02-01 早于开工日期 2026-03-01"]),
    (row("under_way", **STARTED), {"status": "completed", "completed_on": date(2026, 11, 16)},
     ["完工日期：2026-11-16 晚于今天（2026-11-15），完工日期不能是将来的日期"]),
    (row("planned"), {"plan_year": 1999}, ["计划年度：应在 2000–2040 年之间，实为 1999"]),
    (row("planned"), {"plan_year": 2041}, ["计划年度：应在 2000–2040 年之间，实为 2041"]),
    (row("planned"), {"plan_year": None}, ["计划年度：状态为“已纳入计划”时必须填写计划年度"]),
    (row("under_way", **STARTED), {"plan_year": ""}, ["计划年度：状态为“施工中”时必须填写计划年度"]),
    (row("planned"), {"budget_wan": -5}, ["预算（万元）：不能为负数，实为 -5"]),
    (row("planned"), {"plan_year": "明年"}, ["计划年度：应为整数年份，实为“明年”"]),
    (row("planned"), {"budget_wan": "很多"}, ["预算（万元）：应为数字，实为“很多”"]),
    (row("planned"), {"started_on": "昨天"}, ["开工日期：应为日期（如 2026-05-01），实为“昨天”"]),
    (row("planned"), {"status": None}, ["改造状态：不能为空"]),
    (row("completed", **DONE), {"plan_year": 2026}, ["计划年度：2026 晚于完工年份 2025，计划年度不能晚于完工日期"]),
    (row("managed", **DONE), {"plan_year": 2025}, []),  # the completion year itself is fine
])
def test_each_rule_has_its_message(before, changes, expected):
    assert validate_compound_edit(before, changes, TODAY) == expected


def test_every_problem_is_reported_at_once():
    problems = validate_compound_edit(
        row("planned"), {"status": "completed", "plan_year": 1990, "budget_wan": -1, "name": "新名字"}, TODAY)
    fields = [p.split("：", 1)[0] for p in problems]
    assert fields == ["字段“name”", "改造状态", "完工日期", "计划年度", "预算（万元）"]
    assert "不允许在此修改" in problems[0] and "计划年度（plan_year）" in problems[0]


def test_unknown_status_value_is_a_problem_not_a_crash():
    problems = validate_compound_edit(row("planned"), {"status": "done", "reno_type": "豪华类"}, TODAY)
    assert problems == [
        "改造状态：“done”不是有效的改造状态，可选：未纳入计划、已纳入计划、施工中、已完工、长效管理",
        "改造类型：“豪华类”不是有效的改造类型，可选：基础类、完善类、提升类",
    ]


def test_rules_apply_to_the_state_after_the_edit():
    """An old gap (managed without a completion date) blocks other edits until it is filled in."""
    broken = row("managed", started_on=date(2020, 3, 1), plan_year=2020)
    assert validate_compound_edit(broken, {"budget_wan": 10}, TODAY) == ["完工日期：状态为“长效管理”时必须填写完工日期"]
    assert validate_compound_edit(broken, {"completed_on": date(2020, 9, 1)}, TODAY) == []


def test_pandas_values_from_a_frame_row_are_understood():
    before = dict(pd.Series(row("under_way", started_on=pd.Timestamp("2026-03-01"), plan_year=2026.0,
                                completed_on=pd.NaT)))
    changes = {"status": "completed", "completed_on": pd.Timestamp("2026-10-01"), "budget_wan": float("nan")}
    assert validate_compound_edit(before, changes, TODAY) == []


def test_normalise_changes_gives_stored_forms():
    clean, problems = normalise_changes({"status": "施工中", "reno_type": "完善类",
                                         "plan_year": 2026.0, "budget_wan": "12.5",
                                         "started_on": datetime(2026, 3, 1, 8, 0), "completed_on": "2026-10-01"})
    assert problems == []
    assert clean == {"status": "under_way", "reno_type": "improved", "plan_year": 2026, "budget_wan": 12.5,
                     "started_on": date(2026, 3, 1), "completed_on": date(2026, 10, 1)}
    assert type(clean["status"]) is str and type(clean["plan_year"]) is int


def test_changed_fields_keeps_only_real_differences():
    clean, _ = normalise_changes({"status": "planned", "plan_year": 2025, "budget_wan": 200})
    assert changed_fields(row("planned"), clean) == {"budget_wan": (185.5, 200.0)}


def test_describe_change_reads_like_a_sentence():
    assert describe_change({"status": "planned", "started_on": None}, {"status": "under_way", "started_on": "2026-05-01"}) \
        == "改造状态：已纳入计划 → 施工中；开工日期：（空） → 2026-05-01"
    assert describe_change(None, {"budget_wan": 12.5}) == "预算（万元）：（空） → 12.5"


def test_editable_fields():
    assert EDITABLE_FIELDS == ("status", "plan_year", "budget_wan", "started_on", "completed_on", "reno_type")


def test_district_today_is_fuzhou_time():
    from datetime import UTC, timedelta

    from geo.lifecycle import district_today

    assert district_today() in {(datetime.now(UTC) + timedelta(hours=8)).date(), date.today()}


@pytest.mark.parametrize("changes, expected", [
    ({"status": "under_way", "plan_year": 2026}, ["开工日期：状态为“施工中”时必须填写开工日期"]),
    ({"status": "completed", "plan_year": 2024, "started_on": date(2024, 3, 1)},
     ["完工日期：状态为“已完工”时必须填写完工日期"]),
    ({"status": "planned"}, ["计划年度：状态为“已纳入计划”时必须填写计划年度"]),
    ({"status": "not_planned"}, []),
])
def test_gaps_are_the_missing_fields_the_status_wants_and_can_be_left_out(changes, expected):
    assert compound_gaps(changes) == expected
    everything = validate_compound_edit({}, changes, TODAY)
    assert set(expected) <= set(everything)
    assert validate_compound_edit({}, changes, TODAY, gaps=False) == [p for p in everything if p not in expected]
