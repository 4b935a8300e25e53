"""Briefing logic on hand-built tables: KPI texts and changes, rankings, alerts and their thresholds."""
from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from geo.briefing import (
    THEME_BY_KEY,
    Kpi,
    Thresholds,
    cell_text,
    find_alerts,
    headline_kpis,
    labelled,
    ranking,
    year_elapsed,
    year_plan,
)
from geo.rollup import with_ratios
from geo.vocab import RenovationStatus, StationKind


def unit_table(**overrides) -> pd.DataFrame:
    """Three communities with every column ``indicators`` + ``station_completeness`` produce."""
    base = {
        "households": [1000, 1500, 500], "population": [2600, 3900, 1300], "grids": [2, 3, 1],
        "vacancies": [0, 2, 0], "assistants": [2, 3, 1], "compounds": [4, 5, 0],
        "disputes": [10, 3, 0], "resolved": [8, 3, 0], "failed": [2, 0, 0], "overdue": [0, 4, 0],
        "communities": [1, 1, 1], "complete_communities": [1, 0, 1],
        "year_planned": [2, 4, 0], "year_done": [2, 0, 0],
    }
    statuses = {RenovationStatus.COMPLETED.value: [2, 1, 0], RenovationStatus.MANAGED.value: [1, 0, 0]}
    for s in RenovationStatus:
        base.setdefault(s.value, statuses.get(s.value, [0, 0, 0]))
    for k in StationKind:
        base[k.value] = [1, 0, 2]
    base.update(overrides)
    table = with_ratios(pd.DataFrame(base, index=pd.Index(["c1", "c2", "c3"], name="community_code")))
    return table.assign(name=["甲社区", "乙社区", "丙社区"])


def test_kpi_texts_and_changes():
    assert Kpi("x", "户数", 12345.0).text == "12,345"
    assert Kpi("x", "率", 0.9634, 0.95, kind="percent").text == "96.3%"
    assert Kpi("x", "率", 0.9634, 0.95, kind="percent").change_text == "+1.3 个百分点"
    assert Kpi("x", "件", 7.0, 14.0).change_text == "-7 较上期"
    assert Kpi("x", "件", 7.0).change_text is None
    assert Kpi("x", "件", 3.0, 3.0, change_suffix="较上期末").change_text == "与上期末持平"
    assert Kpi("x", "率", 0.95, 0.9502, kind="percent").change_text == "与上期持平"
    assert Kpi("complete_communities", "完备", 4.0, kind="fraction", of=5.0).text == "4/5 个社区"
    assert Kpi("x", "每千户", float("nan"), kind="decimal").text == "—"


def test_headline_kpis_come_from_the_totals():
    t = unit_table()
    total = with_ratios(t.drop(columns="name").sum().to_frame().T).iloc[0]
    previous = total.copy()
    previous["disputes"], previous["overdue"] = 20, 1
    kpis = {k.key: k for k in headline_kpis(total, previous, "近30天", 30)}
    assert kpis["households"].text == "3,000"
    assert kpis["disputes"].label == "近30天受理纠纷" and kpis["disputes"].change_text == "-7 较上期"
    assert kpis["overdue"].change_text == "+3 较上期末"
    assert kpis["success_rate"].text == "84.6%"  # 11 of 13 closed
    assert kpis["complete_communities"].text == "2/3 个社区"
    assert kpis["renovated_share"].text == f"{4 / 9:.1%}"


def test_ranking_orders_best_first_with_ties_and_missing_values_last():
    t = unit_table()
    by_share = ranking(t, THEME_BY_KEY["renovation"])  # c1 3/4, c2 1/5, c3 no compounds
    assert by_share.index.tolist() == ["c1", "c2", "c3"] and by_share["rank"].tolist() == [1, 2, 3]
    by_vacancy = ranking(t, THEME_BY_KEY["grids"])  # lower is better: c1 and c3 tie at 0
    assert by_vacancy["rank"].tolist() == [1, 1, 3] and by_vacancy.index[-1] == "c2"
    assert by_share.loc["c1", "renovated"] == 3
    disputes = ranking(t, THEME_BY_KEY["disputes"])
    assert disputes.index.tolist() == ["c3", "c2", "c1"]  # 0, 2, 10 per 1,000 households


def test_labelled_rankings_read_as_on_the_page():
    shown = labelled(ranking(unit_table(), THEME_BY_KEY["renovation"]), as_text=True)
    assert list(shown.columns) == ["排名", "名称", "老旧小区", "已改造", "改造完成率", "本年度计划", "本年度完工"]
    assert shown.iloc[0].tolist() == ["1", "甲社区", "4", "3", "75.0%", "2", "2"]
    assert shown.iloc[2]["改造完成率"] == "—"
    assert cell_text("disputes_per_1000", 2.0) == "2.0" and cell_text("households_per_grid", 499.6) == "500"


def test_alerts_name_the_unit_the_reason_and_the_page():
    alerts = find_alerts(unit_table(), date(2026, 11, 28))
    got = {(a.theme, a.code): (a.message, a.page) for a in alerts.itertuples()}
    assert got == {
        ("grids", "c2"): ("2 个网格没有专职网格员", "coverage"),
        ("renovation", "c2"): ("2026年计划完工 0/4 个小区，时间进度 91%", "renovation"),
        ("coverage", "c2"): ("1 个社区未配齐一老一少一普站点", "coverage"),
        ("disputes", "c2"): ("超期未结纠纷 4 件", "disputes"),
    }
    assert alerts["theme"].tolist() == ["grids", "renovation", "coverage", "disputes"]


@pytest.mark.parametrize(("day", "lag", "raised"), [
    (date(2026, 3, 1), 0.25, False),   # 16 % of the year gone: 0 of 4 done is not yet behind
    (date(2026, 6, 30), 0.25, True),   # half the year gone
    (date(2026, 6, 30), 0.6, False),   # a looser tolerance
])
def test_renovation_alert_follows_the_calendar(day, lag, raised):
    alerts = find_alerts(unit_table(), day, Thresholds(plan_lag=lag))
    assert (("renovation", "c2") in set(zip(alerts["theme"], alerts["code"]))) is raised


def test_no_alerts_when_nothing_crosses_a_threshold():
    calm = unit_table(vacancies=[0, 0, 0], overdue=[0, 0, 0], complete_communities=[1, 1, 1], year_done=[2, 4, 0])
    assert find_alerts(calm, date(2026, 11, 28)).empty
    assert find_alerts(calm, date(2026, 11, 28), Thresholds(plan_lag=-1)).empty  # every plan finished


def test_year_plan_and_elapsed():
    compounds = pd.DataFrame({
        "street_code": ["s1", "s1", "s1", "s2"],
        "plan_year": [2026, 2026, 2025, 2026],
        "status": [RenovationStatus.UNDER_WAY.value, RenovationStatus.COMPLETED.value,
                   RenovationStatus.MANAGED.value, RenovationStatus.MANAGED.value],
    })
    plan = year_plan(compounds, "street_code", 2026)
    assert plan.to_dict("index") == {"s1": {"year_planned": 2, "year_done": 1}, "s2": {"year_planned": 1, "year_done": 1}}
    assert year_plan(compounds.iloc[:0], "street_code", 2026).empty
    assert year_elapsed(date(2026, 12, 31)) == 1.0
    assert year_elapsed(date(2024, 1, 1)) == pytest.approx(1 / 366)
