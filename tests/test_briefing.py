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


# ---------------------------------------------------------------- 党建引领


def _card(as_of=date(2026, 11, 28)):
    """The scorecard of the hand-built communities of tests.test_party_rollup (甲 meets every standard; 乙: funds
    49.9 and two stations missing; 丙: funds not reported, last consultation day 2026-09-30)."""
    from geo.party import scorecard
    from tests import test_party_rollup as t

    return scorecard(t._communities(), t._resources(), t._stations(), t._days(), as_of)


def test_party_theme_comes_first_and_ranks_by_organisation_coverage():
    from geo.briefing import THEMES

    assert THEMES[0].key == "party" and THEMES[0].page == "party" and THEMES[0].indicator == "org_coverage"
    t = unit_table().assign(org_coverage=[0.5, 0.9, float("nan")], members_per_100=[3.0, 4.25, 5.0],
                            volunteers_per_1000=1.0, assisted_share=0.5, consultation_rate=1.0, standards_ok=1,
                            standards_share=1.0)
    shown = labelled(ranking(t, THEME_BY_KEY["party"]), as_text=True)
    assert list(shown.columns) == ["排名", "名称", "小区党组织覆盖率", "每百户党员数", "每千人志愿者", "恳谈日开展率",
                                   "社区达标率"]
    assert shown["名称"].tolist() == ["乙社区", "甲社区", "丙社区"]
    assert shown.iloc[0][["小区党组织覆盖率", "每百户党员数"]].tolist() == ["90.0%", "4.2"]


@pytest.mark.parametrize("column, value, text", [
    ("members_per_100", 4.25, "4.2"), ("volunteers_per_1000", 15.38, "15.4"), ("org_coverage", 0.9204, "92.0%"),
    ("consultation_rate", 1.0, "100.0%"), ("standards_ok", 63, "63"), ("assisted_share", float("nan"), "—"),
])
def test_party_cells(column, value, text):
    assert cell_text(column, value) == text


def test_party_kpis_read_as_cards():
    from geo.briefing import party_kpis

    total = pd.Series({"org_coverage": 0.92, "members_per_100": 4.67, "volunteers_per_1000": float("nan"),
                       "standards_ok": 63, "communities": 69, "consultation_rate": 0.988})
    kpis = {k.label: k.text for k in party_kpis(total)}
    assert kpis["小区党组织覆盖率"] == "92.0%" and kpis["每百户党员"] == "4.7" and kpis["每千人志愿者"] == "—"
    assert kpis["社区达标"] == "63/69 个社区" and kpis["恳谈日开展率"] == "98.8%" and kpis["楼栋党小组覆盖率"] == "—"


def test_party_alerts_per_community_name_the_standards_and_figures():
    from tests import test_party_rollup as t

    table = unit_table().set_axis([t.C1, t.C2, t.C3]).assign(name=["甲社区", "乙社区", "丙社区"])
    alerts = find_alerts(table, date(2026, 11, 28), card=_card())
    party = alerts[alerts["theme"] == "party"]
    assert alerts["theme"].iloc[0] == "party" and set(party["page"]) == {"party"}
    assert dict(zip(zip(party["code"], party["message"]), party["weight"])) == {
        (t.C2, "工作经费、一老一少一普站点未达标（工作经费 49.9 万元，低于 50 万元；"
               "一老一少一普站点缺少儿成长服务站、文化普及服务站）"): 2,
        (t.C3, "工作经费未达标（工作经费未填报）"): 1,
        (t.C3, "已连续两个月未开展居民恳谈日（最近一次：2026-09-30）"): 1,
    }
    assert party["code"].iloc[0] == t.C2  # the heaviest first


def test_party_alerts_of_a_community_never_consulted_say_no_record():
    from tests import test_party_rollup as t

    alerts = find_alerts(unit_table().set_axis([t.C1, t.C2, t.C3]), date(2027, 3, 5), card=_card(date(2027, 3, 5)))
    quiet = alerts[alerts["message"].str.contains("恳谈日")]
    assert set(quiet["code"]) == {t.C1, t.C2, t.C3}  # nothing since 2026-11-01
    card = _card().assign(last_held_on=pd.NaT, quiet=True)
    alerts = find_alerts(unit_table().set_axis([t.C1, t.C2, t.C3]), date(2026, 11, 28), card=card)
    assert "已连续两个月未开展居民恳谈日（无记录）" in set(alerts["message"])


def test_party_alerts_per_sub_district_count_and_name_their_communities():
    from tests import test_party_rollup as t

    streets = unit_table().iloc[:2].set_axis(pd.Index([t.S1, t.S2], name="street_code"))
    streets = streets.assign(name=["甲街道", "乙街道"])
    alerts = find_alerts(streets, date(2026, 11, 28), card=_card())
    party = alerts[alerts["theme"] == "party"]
    assert sorted(zip(party["code"], party["message"], party["weight"])) == [
        (t.S1, "1 个社区未达标：乙社区（工作经费、一老一少一普站点）", 1),
        (t.S2, "1 个社区已连续两个月未开展居民恳谈日：丙社区", 1),
        (t.S2, "1 个社区未达标：丙社区（工作经费）", 1),
    ]
    assert find_alerts(streets, date(2026, 11, 28), card=_card().iloc[:0]).query("theme == 'party'").empty


def test_briefing_pdf_opens_with_the_party_section(filled_sample_db, monkeypatch, tmp_path):
    """The 东街街道 PDF's first page (pdftotext): the section title, its figures, the community below a standard."""
    import shutil
    import subprocess

    from data.briefing import briefing_pdf
    from data.sample_party import FUNDS_GAPS
    from tests.conftest import skip_or_fail
    from tests.test_overview_page import DONGJIE, briefing_for

    if not shutil.which("pdftotext"):
        skip_or_fail("pdftotext (poppler-utils) is not installed", "REQUIRE_BROWSER")
    b = briefing_for(filled_sample_db, monkeypatch, DONGJIE)
    (tmp_path / "b.pdf").write_bytes(briefing_pdf(b))
    first = subprocess.run(["pdftotext", "-layout", "-f", "1", "-l", "1", str(tmp_path / "b.pdf"), "-"],
                           capture_output=True, text=True, check=True).stdout
    lines = first.splitlines()
    assert first.index("一、党建引领") < first.index("二、治理概况")
    for k in b.party_kpis:  # label and value on one line of the two-column table
        assert any(k.label in line and line.split(k.label, 1)[1].split()[0] == k.text.split()[0] for line in lines), k
    gap = next(c for c in FUNDS_GAPS if c.startswith(DONGJIE[:9]))
    row = next(line for line in lines if "大根社区" in line)
    assert "工作经费" in row and f"{FUNDS_GAPS[gap]:.1f} 万元" in row
    assert "未达标社区（1 个）" in first and "已连续两个月未开展居民恳谈日的社区：无" in first
