"""Roll-ups on hand-built frames: totals agree at every level, and known answers come out."""
from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from geo.rollup import (
    Period,
    data_as_of,
    indicators,
    monthly_disputes,
    renovation_pipeline,
    station_completeness,
    success_rate,
    totals,
    with_ratios,
)

S1, S2 = "350102001000", "350102002000"
C11, C12, C21 = "350102001001", "350102001002", "350102002001"


@pytest.fixture
def frames():
    grids = pd.DataFrame({
        "code": [C11 + "001", C11 + "002", C12 + "001", C21 + "001"],
        "street_code": [S1, S1, S1, S2], "community_code": [C11, C11, C12, C21],
        "households": [500, 620, 480, 300], "population": [1300, 1600, 1250, 800],
        "worker": ["甲", None, "丙", None], "assistants": [1, 2, 0, 3],
    })
    compounds = pd.DataFrame({
        "street_code": [S1, S1, S2], "community_code": [C11, C12, C21],
        "grid_code": [C11 + "001", C12 + "001", C21 + "001"],
        "status": ["completed", "managed", "not_planned"],
    })
    stations = pd.DataFrame({
        "street_code": [S1, S2, S2], "community_code": [C11, C21, C21],
        "grid_code": [C11 + "002", C21 + "001", C21 + "001"],
        "kind": ["elderly_home", "children", "culture"],
    })
    d = lambda s: pd.Timestamp(s)  # noqa: E731
    disputes = pd.DataFrame({
        "street_code": [S1, S1, S1, S2, S2],
        "community_code": [C11, C11, C12, C21, C21],
        "grid_code": [C11 + "001", C11 + "002", C12 + "001", C21 + "001", C21 + "001"],
        "status": ["resolved", "failed", "received", "mediating", "transferred"],
        "category": ["neighbour", "property_mgmt", "property_mgmt", "family", "other"],
        "reported_on": [d("2026-11-05"), d("2026-11-10"), d("2026-11-25"), d("2026-09-01"), d("2026-10-20")],
        "closed_on": [d("2026-11-08"), d("2026-11-20"), pd.NaT, pd.NaT, d("2026-11-02")],
    })
    return grids, compounds, stations, disputes


PERIOD = Period(date(2026, 11, 1), date(2026, 11, 30))


@pytest.mark.parametrize("key", ["street_code", "community_code", "grid_code"])
def test_every_level_sums_to_the_same_district_totals(frames, key):
    district = totals(indicators(*frames, key="street_code", period=PERIOD))
    level = totals(indicators(*frames, key=key, period=PERIOD))
    pd.testing.assert_series_equal(district, level)


def test_known_answers(frames):
    t = indicators(*frames, key="community_code", period=PERIOD)
    assert t.loc[C11, "households"] == 1120 and t.loc[C11, "grids"] == 2 and t.loc[C11, "vacancies"] == 1
    assert t.loc[C21, "children"] == 1 and t.loc[C21, "not_planned"] == 1
    assert t.loc[C11, ["disputes", "resolved", "failed"]].tolist() == [2, 1, 1]
    assert t.loc[C12, "disputes"] == 1 and t.loc[C12, "overdue"] == 0  # open 5 days: not overdue
    assert t.loc[C21, "overdue"] == 1  # open since 1 September
    assert t.loc[C21, "disputes"] == 0  # reported before the period
    d = totals(t)
    assert d["households"] == 1900 and d["population"] == 4950 and d["vacancies"] == 2
    assert success_rate(d["resolved"], d["failed"]) == 0.5


def test_previous_period_and_empty_inputs(frames):
    prev = PERIOD.previous()
    assert prev == Period(date(2026, 10, 2), date(2026, 10, 31))
    t = totals(indicators(*frames, key="street_code", period=prev))
    assert t["disputes"] == 1 and t["resolved"] == 0 and success_rate(0, 0) is None
    grids, compounds, stations, disputes = frames
    empty = indicators(grids, compounds.iloc[:0], stations.iloc[:0], disputes.iloc[:0],
                       key="grid_code", period=PERIOD)
    assert len(empty) == 4 and empty["disputes"].sum() == 0 and empty["compounds"].sum() == 0


def test_arguments_are_checked(frames):
    with pytest.raises(ValueError, match="street_code"):
        indicators(*frames, key="province", period=PERIOD)
    with pytest.raises(ValueError):
        Period.last_days(date(2026, 11, 30), 0)


def test_data_as_of_is_the_newest_report(frames):
    assert data_as_of(frames[3]) == date(2026, 11, 25)
    assert data_as_of(frames[3].iloc[:0], fallback=date(2026, 1, 1)) == date(2026, 1, 1)


def communities_frame():
    return pd.DataFrame({"code": [C11, C12, C21], "street_code": [S1, S1, S2]})


def test_station_completeness_counts_communities_with_all_three(frames):
    grids, _, stations, _ = frames
    # C21 has children + culture but no elderly station; C11 only elderly: none complete
    by_street = station_completeness(stations, communities_frame(), "street_code")
    assert by_street.loc[S1].tolist() == [2, 0] and by_street.loc[S2].tolist() == [1, 0]
    full = pd.concat([stations, pd.DataFrame({"street_code": [S2], "community_code": [C21],
                                              "grid_code": [C21 + "001"], "kind": ["elderly_home"]})])
    by_comm = station_completeness(full, communities_frame(), "community_code")
    assert by_comm.loc[C21, "complete_communities"] == 1 and by_comm["complete_communities"].sum() == 1
    by_grid = station_completeness(full, communities_frame(), "grid_code", grids)
    assert by_grid.loc[C21 + "001", "complete_communities"] == 1 and len(by_grid) == 4


def test_ratios(frames):
    grids, compounds, stations, disputes = frames
    t = indicators(*frames, key="street_code", period=PERIOD)
    t = with_ratios(t.join(station_completeness(stations, communities_frame(), "street_code")))
    assert t.loc[S1, "households_per_grid"] == pytest.approx(1600 / 3)
    assert t.loc[S2, "vacancy_rate"] == 1.0
    assert t.loc[S1, "renovated_share"] == 1.0 and t.loc[S2, "renovated_share"] == 0.0
    assert t.loc[S1, "disputes_per_1000"] == pytest.approx(3 * 1000 / 1600)
    assert t.loc[S1, "success_rate"] == 0.5 and pd.isna(t.loc[S2, "success_rate"])
    assert t.loc[S1, "station_completeness"] == 0.0


def test_monthly_disputes_and_pipeline(frames):
    _, compounds, _, disputes = frames
    m = monthly_disputes(disputes, end=date(2026, 11, 30), months=3)
    assert m.index.tolist() == ["2026-09", "2026-10", "2026-11"]
    assert m.sum().sum() == 5 and m.loc["2026-09"].sum() == 1 and m.loc["2026-11"].sum() == 3
    assert m.loc["2026-11", "物业纠纷"] == 2
    assert monthly_disputes(disputes.iloc[:0], end=date(2026, 11, 30), months=2).to_numpy().sum() == 0
    p = renovation_pipeline(compounds.assign(plan_year=[2021, 2022, None]))
    assert p.loc["2021", "已完工"] == 1 and p.loc["未定", "未纳入计划"] == 1 and p.to_numpy().sum() == 3
