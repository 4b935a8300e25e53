"""The edges of a period and of the 30-day limit, for every function that counts them (roll-ups per unit,
the disputes page's statistics, the overdue mask): the first and the last day belong to the period, a case
received exactly 30 days before the period's end is due that day, not overdue; 31 days is overdue."""
from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from geo.disputes import dispute_stats, overdue_mask
from geo.rollup import Period, dispute_counts

END = date(2026, 11, 28)
PERIOD = Period.last_days(END, 30)  # 2026-10-30 … 2026-11-28


def cases(*rows: tuple[str, date, date | None]) -> pd.DataFrame:
    """(status, reported_on, closed_on) rows of one grid."""
    return pd.DataFrame([{"grid_code": "G", "status": s, "reported_on": r, "closed_on": c} for s, r, c in rows])


@pytest.mark.parametrize("day, counted", [
    (PERIOD.start - timedelta(days=1), False),
    (PERIOD.start, True),
    (END, True),
    (END + timedelta(days=1), False),
])
def test_a_case_received_on_the_first_or_last_day_is_in_the_period(day, counted):
    frame = cases(("received", day, None))
    assert dispute_stats(frame, PERIOD)["received"] == int(counted)
    assert int(dispute_counts(frame, "grid_code", PERIOD, 30)["disputes"].sum()) == int(counted)


@pytest.mark.parametrize("closed, counted", [(END, True), (PERIOD.start, True), (END + timedelta(days=1), False)])
def test_a_case_closed_on_the_last_day_counts_as_closed_in_the_period(closed, counted):
    frame = cases(("resolved", PERIOD.start - timedelta(days=5), closed))
    assert dispute_stats(frame, PERIOD)["resolved"] == int(counted)
    assert int(dispute_counts(frame, "grid_code", PERIOD, 30)["resolved"].sum()) == int(counted)


@pytest.mark.parametrize("age_days, overdue", [(29, False), (30, False), (31, True), (365, True)])
def test_exactly_30_days_is_due_today_and_31_is_overdue_in_every_count(age_days, overdue):
    frame = cases(("mediating", END - timedelta(days=age_days), None))
    assert bool(overdue_mask(frame, END, 30).iloc[0]) is overdue
    assert dispute_stats(frame, PERIOD, 30)["overdue"] == int(overdue)
    assert int(dispute_counts(frame, "grid_code", PERIOD, 30)["overdue"].sum()) == int(overdue)


def test_a_case_closed_on_the_last_day_is_neither_open_nor_overdue_at_the_end():
    frame = cases(("resolved", END - timedelta(days=90), END))
    stats = dispute_stats(frame, PERIOD, 30)
    assert (stats["open_at_end"], stats["overdue"]) == (0, 0)
    assert int(dispute_counts(frame, "grid_code", PERIOD, 30)["overdue"].sum()) == 0
