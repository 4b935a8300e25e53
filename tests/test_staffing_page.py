"""Grid staffing and stations recorded on the coverage page (AppTest, sample district): what a save changes on
总览, 网格标准 and 服务覆盖 at the next run."""
from __future__ import annotations

import re
from datetime import timedelta

import pandas as pd
import pytest
from sqlalchemy import create_engine, text
from streamlit.testing.v1 import AppTest

from data.store import data_version, engine_for, read_layer
from geo.coverage import compound_coverage
from geo.lifecycle import district_today
from geo.scope import Scope
from tests.test_renovation_page import log_in

JUNMEN, DONGJIE = "350102004001", "350102004000"


def _coverage_page():
    from dashboard.pages import coverage

    coverage.render()


def _overview_page():
    from dashboard.pages import overview

    overview.render()


def open_page(url: str, monkeypatch, page, scope: str = "", user: str | None = None, **state) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    at = AppTest.from_function(page, default_timeout=180)
    if scope:
        at.query_params["scope"] = scope
    for key, value in state.items():
        at.session_state[key] = value
    if user:
        log_in(at, url, user)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def metric(at: AppTest, label: str):
    return next(m for m in at.metric if m.label == label)


def vacancy_alerts(at: AppTest) -> dict[str, str]:
    """Sub-district code -> alert text of the overview's 网格员 alerts."""
    links = [p.proto for p in at.get("page_link") if "没有专职网格员" in p.proto.label]
    return {re.search(r"scope=(\d+)", p.query_string).group(1): p.label for p in links}


def vacant_count(url: str, where: str = "1=1") -> int:
    with create_engine(url).connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM grids WHERE worker IS NULL AND {where}")).scalar()


def test_the_vacancy_kpi_compares_with_the_previous_period_end(filled_sample_db, monkeypatch):
    at = open_page(filled_sample_db, monkeypatch, _overview_page)
    card = metric(at, "网格员空缺")
    assert card.value == "9" and card.delta == "+2 较上期末"  # 7 grids were vacant 30 days before the cut-off


def test_a_supervisor_vacates_a_grid_and_the_overview_counts_it(filled_sample_db, monkeypatch):
    before = vacant_count(filled_sample_db)
    assert DONGJIE not in vacancy_alerts(open_page(filled_sample_db, monkeypatch, _overview_page))
    at = open_page(filled_sample_db, monkeypatch, _coverage_page, JUNMEN, "junmen", cov_view="网格人员")
    with create_engine(filled_sample_db).connect() as conn:
        grid, worker = conn.execute(text("SELECT code, worker FROM grids WHERE community_code = :c AND worker IS NOT NULL "
                                         "ORDER BY code LIMIT 1"), {"c": JUNMEN}).one()
    at.selectbox(key="staff_grid").set_value(grid).run()
    assert metric(at, "专职网格员").value == worker
    next(b for b in at.get("button") if b.label == "登记离岗").click()
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert any("已登记离岗" in s.value for s in at.success)
    assert vacant_count(filled_sample_db) == before + 1
    periods = {m.label: m.value for m in at.metric}
    assert periods["专职网格员"] == "空缺" and periods["专职网格员空缺"] == "1"
    overview = open_page(filled_sample_db, monkeypatch, _overview_page)
    card = metric(overview, "网格员空缺")
    assert card.value == f"{before + 1}" and card.delta == "+3 较上期末"
    assert vacancy_alerts(overview)[DONGJIE].endswith("1 个网格没有专职网格员")
    standard = open_page(filled_sample_db, monkeypatch, _coverage_page, JUNMEN, cov_view="网格标准")
    assert metric(standard, "专职网格员空缺").value == "1"


def test_reading_without_an_account_shows_no_forms(filled_sample_db, monkeypatch):
    at = open_page(filled_sample_db, monkeypatch, _coverage_page, JUNMEN, cov_view="网格人员")
    at.selectbox(key="staff_grid").set_value(JUNMEN + "002").run()
    assert not [b for b in at.get("button") if b.label in ("登记离岗", "登记到岗", "保存修改")]
    assert any("登录后才能登记网格员到岗" in i.value for i in at.info)
    other = open_page(filled_sample_db, monkeypatch, _coverage_page, "350102001001", "junmen", cov_view="网格人员")
    other.selectbox(key="staff_grid").set_value("350102001001001").run()
    assert any("只能修改" in w.value for w in other.warning)
    stations = open_page(filled_sample_db, monkeypatch, _coverage_page, JUNMEN, cov_view="站点维护")
    assert any("登录后才能新增、迁移和关闭站点" in i.value for i in stations.info)
    assert not [b for b in stations.get("button") if "保存" in b.label]


def uncovered(url: str, kind: str, metres: int, day=None) -> set[str]:
    """Compounds of 军门社区 with no station of ``kind`` open on ``day`` within ``metres`` (straight line)."""
    from geo.station_rules import open_on

    engine = engine_for(url)
    stations = open_on(read_layer(engine, "stations"), day or district_today())
    cov = compound_coverage(read_layer(engine, "compounds", Scope(JUNMEN)), stations, [kind], metres)
    return set(cov.loc[~cov[f"covered_{kind}"], "code"]) if f"covered_{kind}" in cov else set()


def gap_table(at: AppTest):
    """The list of compounds lacking a station; none when the page says 「所选范围内全部覆盖」 instead."""
    found = [df.value for df in at.dataframe if "缺少的站点" in df.value.columns]
    if not found:
        assert any(s.value.startswith("所选范围内全部覆盖") for s in at.success)
        return pd.DataFrame({"小区名称": []})
    return found[0]


def test_a_station_placed_from_the_page_closes_a_coverage_gap(filled_sample_db, monkeypatch):
    engine = engine_for(filled_sample_db)
    compounds = read_layer(engine, "compounds", Scope(JUNMEN))
    cov = compound_coverage(compounds, read_layer(engine, "stations"), ["elderly_home"], 300)
    gap = compounds.set_index("code").loc[cov.loc[~cov["covered_elderly_home"], "code"]]
    assert len(gap), "the sample leaves some compound of 军门社区 beyond 300 m of an elderly-care station"
    target = gap.iloc[0]
    before = open_page(filled_sample_db, monkeypatch, _coverage_page, JUNMEN, cov_view="服务覆盖",
                       cov_kinds=["elderly_home"])
    shown_before = len(gap_table(before))
    v0 = data_version(engine)
    at = open_page(filled_sample_db, monkeypatch, _coverage_page, JUNMEN, "junmen", cov_view="站点维护",
                   se_point=(target.geometry.x, target.geometry.y))
    assert any("所选位置" in m.value and "军门社区" in m.value for m in at.markdown)
    next(t for t in at.text_input if t.label == "站点名称").input("军门社区居家养老服务站（二）")
    next(b for b in at.get("button") if b.label == "保存新站点").click()
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert any("已新增站点“军门社区居家养老服务站（二）”" in s.value for s in at.success), [e.value for e in at.error]
    assert data_version(engine) > v0
    after = open_page(filled_sample_db, monkeypatch, _coverage_page, JUNMEN, cov_view="服务覆盖",
                      cov_kinds=["elderly_home"])
    table = gap_table(after)
    assert len(table) < shown_before and target["name"] not in set(table["小区名称"])
    assert len(table) == len(uncovered(filled_sample_db, "elderly_home", 300))
    yesterday = open_page(filled_sample_db, monkeypatch, _coverage_page, JUNMEN, cov_view="服务覆盖",
                          cov_kinds=["elderly_home"], cov_day=district_today() - timedelta(days=1))
    assert len(gap_table(yesterday)) == shown_before  # 按日期查看: the day before it opened


@pytest.mark.parametrize("view", ["网格人员", "站点维护"])
def test_the_edit_views_render_for_the_district(filled_sample_db, monkeypatch, view):
    at = open_page(filled_sample_db, monkeypatch, _coverage_page, "", "admin", cov_view=view)
    assert not at.exception
    if view == "站点维护":
        assert [b for b in at.get("button") if b.label == "保存新站点"]
