"""The overview (landing page), its briefing PDF and workbook, and the big screen, on the sample district."""
from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pypdf
import pytest
from sqlalchemy import create_engine, text
from streamlit.testing.v1 import AppTest

from tests.conftest import skip_or_fail

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")
DONGJIE = "350102004000"
DONGJIE_COMMUNITIES = ("军门社区", "大根社区", "旗讯口社区", "竹林境社区")


@pytest.fixture(scope="module")
def filled_sample_db(filled_sample_db) -> str:
    return filled_sample_db


def _overview_page():
    from dashboard.pages import overview

    overview.render()


def open_overview(url: str, monkeypatch, scope: str = "", **params) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    at = AppTest.from_function(_overview_page, default_timeout=120)
    for key, value in {"scope": scope, **params}.items():
        if value:
            at.query_params[key] = value
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def briefing_for(url: str, monkeypatch, scope: str, indicator: str = "renovated_share"):
    """The briefing the page builds, made through the same cached functions outside a browser session."""
    monkeypatch.setenv("DATABASE_URL", url)
    from dashboard.context import PageContext, _hierarchy, _layer, _open
    from dashboard.overview.brief import make_briefing
    from data.store import data_version
    from geo.rollup import data_as_of
    from geo.scope import Scope
    from geo.settings import get_settings

    s = get_settings()
    version = data_version(_open(s.db_url, s))
    ctx = PageContext(s, version, Scope(scope), data_as_of(_layer(s.db_url, "disputes", "", version)), 30,
                      _hierarchy(s.db_url, version))
    return make_briefing(ctx, indicator, True)


def test_the_landing_page_is_the_overview(filled_sample_db, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", filled_sample_db)
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.title[0].value == "鼓楼区 · 总览"
    shown = {m.label: m.value for m in at.metric}
    with create_engine(filled_sample_db).connect() as conn:
        planned, done = conn.execute(text(
            "SELECT count(*), sum(status IN ('completed', 'managed')) FROM compounds WHERE plan_year = 2026")).one()
    assert shown["2026年改造计划完工"] == f"{done}/{planned} 个小区"
    assert shown["户数"] == "257,000" and shown["超期未结"] == "35"


def test_alerts_link_to_the_page_and_scope_that_explain_them(filled_sample_db, monkeypatch):
    at = open_overview(filled_sample_db, monkeypatch)
    links = [p.proto for p in at.get("page_link")]
    overdue = [p for p in links if p.page == "disputes" and "超期未结纠纷" in p.label]
    vacant = [p for p in links if p.page == "coverage" and "没有专职网格员" in p.label]
    with create_engine(filled_sample_db).connect() as conn:
        vacancies = dict(conn.execute(text(
            "SELECT street_code, count(*) FROM grids WHERE worker IS NULL GROUP BY street_code")).all())
    assert {re.search(r"scope=(\d+)", p.query_string).group(1) for p in vacant} == set(vacancies)
    for p in vacant:
        code = re.search(r"scope=(\d+)", p.query_string).group(1)
        assert p.label.endswith(f"{vacancies[code]} 个网格没有专职网格员")
    # following an overdue alert shows the same number of overdue cases on the disputes page
    first = overdue[0]
    code, count = re.search(r"scope=(\d+)", first.query_string).group(1), re.search(r"(\d+) 件", first.label).group(1)
    from tests.test_disputes_page import _disputes_page

    page = AppTest.from_function(_disputes_page, default_timeout=120)
    page.query_params["scope"] = code
    page.run()
    assert {m.label: m.value for m in page.metric}["超期未结"] == count


def test_drilling_down_ranks_the_communities_per_theme(filled_sample_db, monkeypatch):
    at = open_overview(filled_sample_db, monkeypatch, DONGJIE)
    assert at.title[0].value == "东街街道 · 总览"
    tables = [df.value for df in at.dataframe]
    assert len(tables) == 4 and all(sorted(t["name"]) == sorted(DONGJIE_COMMUNITIES) for t in tables)
    reno = next(t for t in tables if "renovated_share" in t)
    assert reno["renovated_share"].is_monotonic_decreasing and reno["rank"].iloc[0] == 1


def test_briefing_pdf_for_dongjie_holds_name_kpis_and_map(filled_sample_db, monkeypatch, tmp_path):
    from data.briefing import briefing_pdf

    page = {m.label: m.value for m in open_overview(filled_sample_db, monkeypatch, DONGJIE).metric}
    b = briefing_for(filled_sample_db, monkeypatch, DONGJIE)
    pdf = briefing_pdf(b)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    first = reader.pages[0].extract_text()
    assert "东街街道社区治理简报" in first
    for label, value in page.items():  # every KPI of the page, with its value, on page 1
        assert label in first and value in first, (label, value)
    for name in DONGJIE_COMMUNITIES:  # the map's labels
        assert name in first
    content = reader.pages[0].get_contents().get_data().decode("latin-1")
    fills = {colour for _, colour in b.legend}
    drawn = {"#" + "".join(f"{round(float(c) * 255):02x}" for c in m.groups())
             for m in re.finditer(r"([\d.]+) ([\d.]+) ([\d.]+) rg", content)}
    assert fills <= drawn  # every legend colour is painted
    painted = re.findall(r"(?m)^(?:f|f\*|B|B\*|b|b\*)$", content)  # path-filling operators
    assert len(painted) >= len(DONGJIE_COMMUNITIES)  # a filled polygon per community (plus legend boxes)
    assert "示例数据" in first and "数据来源" in first
    if not shutil.which("pdftoppm"):
        skip_or_fail("pdftoppm (poppler-utils) is not installed", "REQUIRE_BROWSER")
    (tmp_path / "b.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", str(tmp_path / "b.pdf"),
                    str(tmp_path / "p")], check=True)
    png = next(tmp_path.glob("p*.png"))
    assert png.stat().st_size > 20_000


def test_district_pdf_has_every_sub_district_on_the_map(filled_sample_db, monkeypatch):
    from data.briefing import briefing_pdf

    b = briefing_for(filled_sample_db, monkeypatch, "", indicator="disputes_per_1000")
    reader = pypdf.PdfReader(io.BytesIO(briefing_pdf(b)))
    text_all = "".join(p.extract_text() for p in reader.pages)
    assert len(reader.pages) >= 2
    assert all(name in text_all for name in b.units["name"])
    assert "每千户纠纷数" in text_all and "分主题排名" in text_all and "近12个月矛盾纠纷" in text_all


def test_workbook_figures_equal_the_page(filled_sample_db, monkeypatch):
    from data.briefing import briefing_xlsx

    at = open_overview(filled_sample_db, monkeypatch, DONGJIE)
    page = {m.label: m.value for m in at.metric}
    wb = openpyxl.load_workbook(io.BytesIO(briefing_xlsx(briefing_for(filled_sample_db, monkeypatch, DONGJIE))))
    assert wb.sheetnames == ["说明", "核心指标", "排名-网格与力量", "排名-老旧小区改造", "排名-服务覆盖",
                             "排名-矛盾纠纷", "预警", "月度纠纷", "地图指标"]
    rows = list(wb["核心指标"].iter_rows(min_row=2, values_only=True))
    assert {r[0]: r[1] for r in rows} == page
    households = next(r for r in rows if r[0] == "户数")
    assert households[2] == int(page["户数"].replace(",", ""))  # a number, not text
    page_reno = next(df.value for df in at.dataframe if "renovated_share" in df.value)
    sheet = list(wb["排名-老旧小区改造"].iter_rows(values_only=True))
    header, body = sheet[0], sheet[1:]
    assert [r[header.index("名称")] for r in body] == page_reno["name"].tolist()
    assert [r[header.index("改造完成率")] for r in body] == pytest.approx(page_reno["renovated_share"].tolist())


def test_big_screen_is_reached_by_url_and_pins_a_theme(filled_sample_db, monkeypatch):
    at = open_overview(filled_sample_db, monkeypatch, "", screen="big", theme="disputes", rotate="7")
    html = " ".join(h.proto.body for h in at.get("html"))
    assert "鼓楼区 · 社区治理态势" in html and 'class="on">● 矛盾纠纷' in html
    assert "超期未结" in html and "35" in html
    assert not at.sidebar.selectbox  # no controls on the wall
    normal = open_overview(filled_sample_db, monkeypatch, "")
    assert normal.sidebar.selectbox


def test_big_screen_rotates_through_the_themes(monkeypatch):
    import streamlit as st

    from dashboard.overview import bigscreen
    from geo.briefing import THEMES

    monkeypatch.setattr(st, "query_params", {})
    seen = [bigscreen.current_theme(20, now=t).key for t in range(0, 80, 20)]
    assert seen == [t.key for t in THEMES]
    assert bigscreen.current_theme(20, now=85).key == THEMES[0].key


def test_big_screen_reloads_when_the_data_changed_after_the_refresh_interval(filled_sample_db, monkeypatch):
    import streamlit as st

    from dashboard.context import _open
    from dashboard.overview import bigscreen
    from data.store import audit, data_version, engine_for
    from geo.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", filled_sample_db)  # the last test of the module: it changes the data
    ctx, s = type("Ctx", (), {})(), get_settings()
    ctx.settings, ctx.version = s, data_version(_open(s.db_url, s))
    reloads = []
    monkeypatch.setattr(st, "rerun", lambda scope="app": reloads.append(scope))
    state = {"bs_checked": 0.0}
    monkeypatch.setattr(st, "session_state", state)
    bigscreen._reload_if_changed(ctx, refresh=60)  # interval over, same data: no reload
    assert reloads == [] and state["bs_checked"] > 0
    with engine_for(filled_sample_db).begin() as conn:
        audit(conn, "测试", "update", "compounds", "x", None, {"note": "新数据"})
    bigscreen._reload_if_changed(ctx, refresh=60)  # new data, but the interval has not passed
    assert reloads == []
    state["bs_checked"] = 0.0
    bigscreen._reload_if_changed(ctx, refresh=60)
    assert reloads == ["app"]
