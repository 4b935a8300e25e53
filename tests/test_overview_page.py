"""The overview (landing page), its briefing PDF and workbook, and the big screen, on the sample district."""
from __future__ import annotations

import io
import re
import shutil
import subprocess
from collections import Counter
from datetime import date, timedelta
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
    assert len(tables) == 5 and all(sorted(t["name"]) == sorted(DONGJIE_COMMUNITIES) for t in tables)
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
    for label, value in page.items():  # every KPI of the page (党建引领 and the rest), with its value, on page 1
        assert label in first and value in first, (label, value)
    map_page = next(p for p in reader.pages if "分布图" in p.extract_text())
    for name in DONGJIE_COMMUNITIES:  # the map's labels
        assert name in map_page.extract_text()
    content = map_page.get_contents().get_data().decode("latin-1")
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
    assert wb.sheetnames == ["说明", "党建引领", "社区达标", "核心指标", "排名-党建引领", "排名-网格与力量",
                             "排名-老旧小区改造", "排名-服务覆盖", "排名-矛盾纠纷", "预警", "月度纠纷", "地图指标"]
    rows = list(wb["核心指标"].iter_rows(min_row=2, values_only=True))
    party = list(wb["党建引领"].iter_rows(min_row=2, values_only=True))
    assert {r[0]: r[1] for r in party + rows} == page
    households = next(r for r in rows if r[0] == "户数")
    assert households[2] == int(page["户数"].replace(",", ""))  # a number, not text
    page_reno = next(df.value for df in at.dataframe if "renovated_share" in df.value)
    sheet = list(wb["排名-老旧小区改造"].iter_rows(values_only=True))
    header, body = sheet[0], sheet[1:]
    assert [r[header.index("名称")] for r in body] == page_reno["name"].tolist()
    # the page holds shares as percentage points (shown 「76.5%」), the workbook as fractions formatted as percent
    assert [r[header.index("改造完成率")] * 100 for r in body] == pytest.approx(page_reno["renovated_share"].tolist())


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
    seen = [bigscreen.current_theme(20, now=t).key for t in range(0, 100, 20)]
    assert seen == [t.key for t in THEMES] and seen[0] == "party"
    assert bigscreen.current_theme(20, now=105).key == THEMES[0].key


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


# ---------------------------------------------------------------- 党建引领

JUNMEN = "350102004001"
PARTY_LABELS = ["小区党组织覆盖率", "楼栋党小组覆盖率", "每百户党员", "每千人志愿者", "网格协管员配备率", "恳谈日开展率",
                "社区达标"]


def _party_figures(url: str, community: str | None = None) -> dict[str, str]:
    """The 党建引领 cards as the page should show them, counted with plain SQL (not through geo.party)."""
    def where(col: str, first: bool = True) -> str:
        return f"{'WHERE' if first else 'AND'} {col} = :c" if community else ""

    with create_engine(url).connect() as conn:
        def q(sql: str):
            return conn.execute(text(sql), {"c": community}).all()
        as_of = date.fromisoformat(str(q("SELECT max(reported_on) FROM disputes")[0][0])[:10])
        start, end = date(as_of.year - 1, as_of.month, 1), date(as_of.year, as_of.month, 1) - timedelta(days=1)
        buildings = {c: b or 0 for c, b in q(f"SELECT code, buildings FROM compounds {where('community_code')}")}
        listed = [codes for (codes,) in q("SELECT compound_codes FROM party_orgs WHERE level = 'compound'")]
        covered = {c for codes in listed for c in codes.split(",")} & set(buildings)
        pairs = set(q("SELECT compound_codes, building FROM party_orgs WHERE level = 'building'"))
        per = Counter(c for c, _ in pairs if c in buildings)
        households, people, grids, assisted = q(f"SELECT sum(households), sum(population), count(*), "
                                                f"sum(assistants >= 1) FROM grids {where('community_code')}")[0]
        members = q(f"SELECT sum(members) FROM party_orgs WHERE level = 'community' {where('community_code', False)}")
        volunteers = q(f"SELECT sum(members) FROM volunteer_teams {where('community_code')}")[0][0]
        days = q(f"SELECT count(*) FROM consultation_days WHERE held_on BETWEEN '{start}' AND '{end}' "
                 f"{where('community_code', False)}")[0][0]
        codes = [c for (c,) in q(f"SELECT code FROM communities {where('code')}")]
        res = {c: (f, s) for c, f, s in q("SELECT community_code, funds_wan, space_m2 FROM community_resources")}
        kinds = Counter(c for c, _ in q("SELECT DISTINCT community_code, kind FROM stations WHERE closed_on IS NULL "
                                        "AND kind IN ('elderly_home', 'children', 'culture')"))
    ok = sum(1 for c in codes if c in res and (res[c][0] or 0) >= 50 and (res[c][1] or 0) >= 500 and kinds[c] == 3)
    return {
        "小区党组织覆盖率": f"{len(covered) / len(buildings):.1%}",
        "楼栋党小组覆盖率": f"{sum(min(n, buildings[c]) for c, n in per.items()) / sum(buildings.values()):.1%}",
        "每百户党员": f"{members[0][0] * 100 / households:.1f}",
        "每千人志愿者": f"{volunteers * 1000 / people:.1f}",
        "网格协管员配备率": f"{assisted / grids:.1%}",
        "恳谈日开展率": f"{days / (12 * len(codes)):.1%}",
        "社区达标": f"{ok}/{len(codes)} 个社区",
    }


@pytest.mark.parametrize("scope, community", [("", None), (JUNMEN, JUNMEN)], ids=["district", "junmen"])
def test_party_cards_come_first_and_match_sql(filled_sample_db, monkeypatch, scope, community):
    at = open_overview(filled_sample_db, monkeypatch, scope)
    labels = [m.label for m in at.metric]
    assert labels[:len(PARTY_LABELS)] == PARTY_LABELS  # before the headline figures
    shown = {m.label: m.value for m in at.metric}
    assert {k: shown[k] for k in PARTY_LABELS} == _party_figures(filled_sample_db, community)
    if scope == "":
        assert at.tabs[0].label == "党建引领"  # the first ranking tab


def _party_links(at) -> list:
    """The alert links to the 党建与自治 page ("unit：message"; not the ranking's "查看…详情" link)."""
    return [p.proto for p in at.get("page_link") if p.proto.page == "party" and "：" in p.proto.label]


def test_party_alerts_name_the_seeded_gaps_per_sub_district(filled_sample_db, monkeypatch):
    from data.sample_party import FUNDS_GAPS, QUIET_COMMUNITIES, SPACE_GAPS, SPACE_UNREPORTED

    at = open_overview(filled_sample_db, monkeypatch)
    with create_engine(filled_sample_db).connect() as conn:
        names = dict(conn.execute(text("SELECT code, name FROM communities")).all())
    below = Counter(c[:9] + "000" for c in {*FUNDS_GAPS, *SPACE_GAPS, *SPACE_UNREPORTED})
    quiet = Counter(c[:9] + "000" for c in QUIET_COMMUNITIES)
    alerts = briefing_for(filled_sample_db, monkeypatch, "").alerts
    party = alerts[alerts["theme"] == "party"]
    assert alerts["theme"].iloc[0] == "party" and set(party["page"]) == {"party"}
    got_below = {a.code: f"{a.name}：{a.message}" for a in party.itertuples() if "未达标" in a.message}
    got_quiet = {a.code: f"{a.name}：{a.message}" for a in party.itertuples() if "恳谈日" in a.message}
    shown = _party_links(at)  # the panel shows the first ones, each linking to its sub-district
    every = {(code, label) for found in (got_below, got_quiet) for code, label in found.items()}
    assert shown and all((re.search(r"scope=(\d+)", p.query_string).group(1), p.label) in every for p in shown)
    assert set(got_below) == set(below) and set(got_quiet) == set(quiet)
    for street, n in below.items():
        assert f"{n} 个社区未达标" in got_below[street]
    for code in {*FUNDS_GAPS, *SPACE_GAPS, *SPACE_UNREPORTED}:
        assert names[code] in got_below[code[:9] + "000"]
    for code in QUIET_COMMUNITIES:
        assert f"1 个社区已连续两个月未开展居民恳谈日：{names[code]}" in got_quiet[code[:9] + "000"]


def test_party_alerts_give_the_figures_in_a_sub_district_and_a_quiet_community(filled_sample_db, monkeypatch):
    from data.sample_party import FUNDS_GAPS, QUIET_COMMUNITIES

    gap = next(c for c in FUNDS_GAPS if c.startswith(DONGJIE[:9]))
    labels = [p.label for p in _party_links(open_overview(filled_sample_db, monkeypatch, DONGJIE))]
    expected = f"大根社区：工作经费未达标（工作经费 {FUNDS_GAPS[gap]:.1f} 万元，低于 50 万元）"
    assert [x for x in labels if "未达标" in x] == [expected]
    quiet = QUIET_COMMUNITIES[0]
    with create_engine(filled_sample_db).connect() as conn:
        last = conn.execute(text("SELECT max(held_on) FROM consultation_days WHERE community_code = :c"),
                            {"c": quiet}).scalar()
    labels = [p.label for p in _party_links(open_overview(filled_sample_db, monkeypatch, quiet))]
    assert any(x.endswith(f"已连续两个月未开展居民恳谈日（最近一次：{str(last)[:10]}）") for x in labels), labels
    assert not _party_links(open_overview(filled_sample_db, monkeypatch, JUNMEN))  # the showcase meets everything


def test_big_screen_opens_with_the_party_theme_and_its_figures(filled_sample_db, monkeypatch):
    at = open_overview(filled_sample_db, monkeypatch, "", screen="big", theme="party")
    tiles = [h.proto.body for h in at.get("html") if 'class="bs-tiles"' in h.proto.body]
    assert len(tiles) == 1
    values = dict(re.findall(r'<div class="l">([^<]+)</div><div class="v">([^<]+)</div>', tiles[0]))
    expected = _party_figures(filled_sample_db)
    assert values == {k: expected[k] for k in values} and "小区党组织覆盖率" in values and "户数" not in values
    html = " ".join(h.proto.body for h in at.get("html"))
    assert 'class="on">● 党建引领' in html and html.index("● 党建引领") < html.index("● 网格与力量")
