"""Dispute statistics on a hand-built case table with known answers."""
from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from geo.disputes import (
    CASE_COLUMNS,
    DisputeFilter,
    apply_filter,
    case_table,
    cases_per_1000,
    compare,
    dispute_stats,
    overdue_mask,
    repeat_addresses,
    year_earlier,
)
from geo.errors import GuloError
from geo.rollup import Period
from geo.vocab import DisputeCategory, DisputeStatus

S1 = "350102001000"
C1, C2 = "350102001001", "350102001002"
G1, G2, G3, G4 = C1 + "001", C1 + "002", C2 + "001", C2 + "002"
A, B, C = "鼓屏路1号", "东街2号", "杨桥路3号"
NOV = Period(date(2026, 11, 1), date(2026, 11, 30))
AS_OF = date(2026, 11, 30)

# code, status, category, reported, closed, grid, address
CASES = [
    ("D01", "resolved", "neighbour", "2026-11-01", "2026-11-03", G1, A),      # 2 days
    ("D02", "resolved", "property_mgmt", "2026-11-02", "2026-11-06", G1, A),  # 4 days
    ("D03", "failed", "family", "2026-11-05", "2026-11-11", G2, B),           # 6 days
    ("D04", "resolved", "labour", "2026-11-10", "2026-11-18", G2, C),         # 8 days
    ("D05", "transferred", "other", "2026-11-12", "2026-11-22", G2, C),       # 10 days
    ("D06", "mediating", "neighbour", "2026-10-01", None, G3, "五一路6号"),    # open, 60 days: overdue
    ("D07", "received", "neighbour", "2026-11-20", None, G3, "五一路7号"),     # open, young
    ("D08", "received", "neighbour", "2026-10-31", None, G3, "五一路8号"),     # open, exactly 30 days
    ("D09", "resolved", "family", "2026-09-01", "2026-10-15", G1, "五一路9号"),  # closed last period
    ("D10", "resolved", "family", "2026-10-01", "2026-12-05", G4, "五一路10号"),  # open on 30 Nov
    ("D11", "resolved", "other", "2026-01-10", "2026-01-20", G1, A),
    ("D12", "resolved", "family", "2025-10-30", "2025-11-05", G2, B),         # 13 months old
    ("D13", "resolved", "family", "2026-06-01", "2026-06-03", G2, B),
]


@pytest.fixture
def disputes() -> pd.DataFrame:
    rows = []
    for code, status, category, reported, closed, grid, address in CASES:
        rows.append({
            "code": code, "category": category, "source": "patrol", "status": status,
            "reported_on": date.fromisoformat(reported),
            "closed_on": date.fromisoformat(closed) if closed else None,
            "street_code": S1, "community_code": grid[:12], "grid_code": grid,
            "compound_code": None, "address": address, "summary": f"案件{code}",
        })
    return pd.DataFrame(rows)


@pytest.fixture
def grids() -> pd.DataFrame:
    return pd.DataFrame({
        "code": [G1, G2, G3, G4], "street_code": [S1] * 4, "community_code": [C1, C1, C2, C2],
        "households": [500, 250, 1000, 1000],
    })


def test_period_statistics(disputes):
    before = disputes.copy()
    s = dispute_stats(disputes, NOV, overdue_days=30)
    assert s["received"] == 6
    assert s["closed"] == 5
    assert (s["resolved"], s["failed"]) == (3, 1)
    assert s["success_rate"] == pytest.approx(0.75)
    assert s["median_days"] == pytest.approx(6.0)
    assert s["p90_days"] == pytest.approx(9.2)
    assert s["overdue"] == 2  # D06 and D10 (closed only in December); D08 is exactly 30 days
    assert s["open_at_end"] == 4
    pd.testing.assert_frame_equal(disputes, before)


def test_nothing_closed_gives_none_rates(disputes):
    s = dispute_stats(disputes, Period(date(2024, 1, 1), date(2024, 1, 31)))
    assert s["received"] == s["closed"] == s["overdue"] == 0
    assert s["success_rate"] is None and s["median_days"] is None and s["p90_days"] is None


def test_overdue_mask(disputes):
    mask = overdue_mask(disputes, AS_OF, 30)
    assert list(disputes.loc[mask, "code"]) == ["D06", "D10"]
    assert overdue_mask(disputes, AS_OF, 90).sum() == 0


def test_compare_with_previous_and_last_year(disputes):
    table = compare(disputes, NOV, 30)
    assert list(table.index) == ["本期", "上期", "去年同期"]
    prev, last = table.loc["上期"], table.loc["去年同期"]
    assert (prev["start"], prev["end"]) == (date(2026, 10, 2), date(2026, 10, 31))
    assert (last["start"], last["end"]) == (date(2025, 11, 1), date(2025, 11, 30))
    assert prev["received"] == 1 and prev["closed"] == 1 and prev["success_rate"] == 1.0
    assert prev["median_days"] == 44.0
    assert prev["received_change"] == 5 and prev["received_pct"] == pytest.approx(5.0)
    assert prev["success_rate_change"] == pytest.approx(-0.25)
    assert last["received"] == 0 and last["closed"] == 1
    assert last["received_change"] == 6 and last["received_pct"] is None
    assert table.loc["本期", "received_change"] is None


def test_compare_with_an_empty_previous_period(disputes):
    recent = disputes[pd.to_datetime(disputes["reported_on"]) >= pd.Timestamp("2026-11-01")]
    prev = compare(recent, NOV, 30).loc["上期"]
    for col in ("received", "closed", "resolved", "failed", "overdue", "open_at_end"):
        assert prev[col] == 0
        assert prev[f"{col}_pct"] is None
    assert prev["success_rate"] is None and prev["median_days"] is None and prev["p90_days"] is None
    assert prev["success_rate_change"] is None


def test_same_period_last_year_handles_29_february():
    assert year_earlier(date(2028, 2, 29)) == date(2027, 2, 28)
    assert year_earlier(date(2027, 3, 1)) == date(2026, 3, 1)
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in ("status", "reported_on", "closed_on")})
    table = compare(empty, Period(date(2028, 2, 1), date(2028, 2, 29)), 30)
    assert table.loc["去年同期", "end"] == date(2027, 2, 28)
    assert table.loc["本期", "received"] == 0


def test_repeat_addresses(disputes):
    table = repeat_addresses(disputes, AS_OF)
    assert list(table["address"]) == [A]  # B has 2 in the window (+1 13 months old), C has 2
    row = table.iloc[0]
    assert row["cases"] == 3
    assert (row["first"], row["last"]) == (date(2026, 1, 10), date(2026, 11, 2))
    assert row["categories"] == "邻里纠纷、物业纠纷、其他纠纷"
    assert row["community_code"] == C1
    two = repeat_addresses(disputes, AS_OF, min_cases=2).set_index("address")["cases"]
    assert two.to_dict() == {A: 3, B: 2, C: 2}
    assert repeat_addresses(disputes, date(2020, 1, 1)).empty


def test_cases_per_1000_ranking(disputes, grids):
    by_grid = cases_per_1000(disputes, grids, "grid_code", NOV)
    assert list(by_grid["grid_code"]) == [G2, G1, G3, G4]
    assert list(by_grid["per_1000"]) == pytest.approx([12.0, 4.0, 1.0, 0.0])
    assert list(by_grid["rank"]) == [1, 2, 3, 4]
    by_community = cases_per_1000(disputes, grids, "community_code", NOV).set_index("community_code")
    assert by_community.loc[C1, "cases"] == 5 and by_community.loc[C1, "households"] == 750
    assert by_community["per_1000"].to_dict() == pytest.approx({C1: 5000 / 750, C2: 0.5})
    with pytest.raises(GuloError, match="可选"):
        cases_per_1000(disputes, grids, "compound_code", NOV)


def test_filter(disputes):
    resolved = apply_filter(disputes, DisputeFilter(statuses=(DisputeStatus.RESOLVED,)))
    assert set(resolved["code"]) == {"D01", "D02", "D04", "D09", "D10", "D11", "D12", "D13"}
    family = apply_filter(disputes, DisputeFilter(categories=("family",), statuses=("resolved",)))
    assert set(family["code"]) == {"D09", "D10", "D12", "D13"}
    assert len(apply_filter(disputes, DisputeFilter())) == len(disputes)
    assert apply_filter(disputes, DisputeFilter(sources=("hotline",))).empty
    assert DisputeFilter(categories=(DisputeCategory.LABOUR,)).categories == ("labour",)


@pytest.mark.parametrize("kwargs", [{"categories": ("fight",)}, {"sources": ("tv",)},
                                    {"statuses": ("closed",)}])
def test_filter_rejects_unknown_values_in_chinese(kwargs):
    with pytest.raises(GuloError, match="可选"):
        DisputeFilter(**kwargs)


@pytest.mark.parametrize("call", [
    lambda d: dispute_stats(d, Period(date(2026, 12, 1), date(2026, 11, 1))),
    lambda d: dispute_stats(d, NOV, overdue_days=-1),
    lambda d: repeat_addresses(d, AS_OF, months=0),
    lambda d: dispute_stats(d.drop(columns="closed_on"), NOV),
])
def test_bad_arguments_raise_chinese_errors(disputes, call):
    with pytest.raises(GuloError) as err:
        call(disputes)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(err.value))


def test_case_table(disputes):
    names = {C1: "军门社区", G1: "军门第一网格"}
    table = case_table(disputes, names, AS_OF, 30)
    assert tuple(table.columns) == CASE_COLUMNS
    assert table.iloc[0]["编号"] == "D07"  # newest first
    rows = table.set_index("编号")
    assert rows.loc["D01", "办理天数"] == 2 and rows.loc["D06", "办理天数"] == 60
    assert rows.loc["D01", "类别"] == "邻里纠纷" and rows.loc["D01", "状态"] == "调解成功"
    assert rows.loc["D01", "社区"] == "军门社区" and rows.loc["D01", "网格"] == "军门第一网格"
    assert rows.loc["D06", "网格"] == G3  # no name: the code
    assert rows.loc["D06", "是否超期"] == "是" and rows.loc["D08", "是否超期"] == "否"
    assert rows.loc["D06", "办结日期"] is None
    assert case_table(disputes.iloc[0:0], names, AS_OF).empty
