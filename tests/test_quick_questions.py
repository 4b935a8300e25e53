"""「常用问题」 in AppTest on the sample district: one click sets each workspace's view, the answer equals the same
question computed from the stored layers, an empty answer is said in words, ``?q=`` asks from a link; and the
planner's objectives and batch size distribution."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from streamlit.testing.v1 import AppTest

from data.store import engine_for, read_layer
from geo.coverage import compound_coverage, grid_standard, uncovered_compounds
from geo.disputes import overdue_mask
from geo.renovation import year_plan_progress
from geo.rollup import data_as_of
from geo.scope import Scope
from geo.vocab import Role, StationKind

ELDERLY = StationKind.ELDERLY_HOME.value
HONGSHAN = "350102100000"
WITH_OVERDUE = "350102005002"
"""A community of the sample with overdue open cases."""


def _coverage():
    from dashboard.pages import coverage

    coverage.render()


def _renovation():
    from dashboard.pages import renovation

    renovation.render()


def _disputes():
    from dashboard.pages import disputes

    disputes.render()


def _cases():
    from dashboard.pages import cases

    cases.render()


def open_page(url: str, monkeypatch, fn, scope: str = "", user=None, **params) -> AppTest:
    from dashboard.auth import AUTH_KEY, LOGIN_AT_KEY

    monkeypatch.setenv("DATABASE_URL", url)
    at = AppTest.from_function(fn, default_timeout=180)
    if scope:
        at.query_params["scope"] = scope
    for key, value in params.items():
        at.query_params[key] = value
    if user is not None:
        at.session_state[AUTH_KEY] = user
        at.session_state[LOGIN_AT_KEY] = datetime.now(UTC)
    return ok(at.run())


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    return at


def ask(at: AppTest, label: str) -> AppTest:
    """Click the quick-question button ``label`` (once) and check it is then shown as the chosen one."""
    [button] = [b for b in at.button if b.label == label]
    ok(button.click().run())
    [button] = [b for b in at.button if b.label == label]
    assert button.proto.type == "primary", "the asked question is shown as chosen"
    return at


def table_with(at: AppTest, column: str):
    found = [df.value for df in at.dataframe if column in df.value.columns]
    return found[0] if found else None


def uncovered(url: str, scope: str, kinds: list[str], metres: int) -> set[str]:
    engine = engine_for(url)
    compounds = read_layer(engine, "compounds", Scope(scope))
    stations = read_layer(engine, "stations")
    return set(uncovered_compounds(compound_coverage(compounds, stations, kinds, metres), compounds, kinds)["name"])


def successes(at: AppTest) -> list[str]:
    return [s.value for s in at.success]


# ---------------------------------------------------------------------------------------------- coverage


def test_no_elderly_station_within_ten_minutes_in_one_click(filled_sample_db, monkeypatch):
    at = open_page(filled_sample_db, monkeypatch, _coverage, scope=HONGSHAN)
    assert at.session_state["cov_view"] == "网格标准"
    ask(at, "无居家养老服务站（10分钟）")
    assert at.session_state["cov_view"] == "服务覆盖" and at.session_state["cov_kinds"] == [ELDERLY]
    assert at.selectbox(key="cov_circle").value == "10分钟"
    table = table_with(at, "缺少的站点")
    expected = uncovered(filled_sample_db, HONGSHAN, [ELDERLY], 500)
    assert expected, "the sample leaves compounds of 洪山镇 beyond 500 m of a 居家养老服务站"
    assert set(table["小区名称"]) == expected and set(table["缺少的站点"]) == {"居家养老服务站"}


def test_an_empty_answer_says_all_covered_instead_of_an_empty_table(filled_sample_db, monkeypatch):
    engine = engine_for(filled_sample_db)
    communities = read_layer(engine, "communities")["code"]
    covered = [c for c in communities if not uncovered(filled_sample_db, c, [ELDERLY], 500)]
    assert covered, "the sample has communities where every compound is within 500 m of a 居家养老服务站"
    at = open_page(filled_sample_db, monkeypatch, _coverage, scope=covered[0], q="elderly10")
    assert at.session_state["cov_view"] == "服务覆盖" and at.session_state["cov_kinds"] == [ELDERLY]
    assert "q" not in at.query_params  # asked once; later choices are the user's
    assert table_with(at, "缺少的站点") is None
    assert any(s.startswith("所选范围内全部覆盖") and "500 米" in s and "居家养老服务站" in s for s in successes(at))


def test_missing_one_old_one_young_within_five_minutes(filled_sample_db, monkeypatch):
    at = open_page(filled_sample_db, monkeypatch, _coverage, scope="350102004001")  # 军门社区
    ask(at, "缺少一老一少一普（5分钟）")
    kinds = ["elderly_home", "children", "culture"]
    assert sorted(at.session_state["cov_kinds"]) == sorted(kinds)
    table = table_with(at, "缺少的站点")
    assert set(table["小区名称"]) == uncovered(filled_sample_db, "350102004001", kinds, 300)


def test_vacant_grids_in_one_click(filled_sample_db, monkeypatch):
    at = open_page(filled_sample_db, monkeypatch, _coverage)
    at.session_state["cov_view"] = "拓扑检查"
    ok(at.run())
    ask(at, "网格员空缺")
    assert at.session_state["cov_view"] == "网格标准" and at.toggle(key="grid_only_vacant").value
    vacant = int(grid_standard(read_layer(engine_for(filled_sample_db), "grids"))["vacant"].sum())
    assert vacant > 0, "the sample has vacant grids"
    shown = table_with(at, "专职网格员")
    assert len(shown) == vacant == int({m.label: m.value for m in at.metric}["专职网格员空缺"])
    assert set(shown["专职网格员"]) == {"空缺"}


# ---------------------------------------------------------------------------------------------- renovation


def test_this_years_plan_behind_in_one_click(filled_sample_db, monkeypatch):
    at = open_page(filled_sample_db, monkeypatch, _renovation)
    at.session_state["reno_view"] = "改造计划"
    ok(at.run())
    ask(at, "本年计划滞后")
    assert at.session_state["reno_view"] == "改造进度" and at.toggle(key="reno_lagging").value
    engine = engine_for(filled_sample_db)
    compounds = read_layer(engine, "compounds")
    progress = year_plan_progress(compounds, data_as_of(read_layer(engine, "disputes")), "street_code")
    lagging = int(progress["lagging"].sum())
    assert lagging > 0, "the sample's plan for its year is behind (nothing of it done by late November)"
    heading = next(m.value for m in at.markdown if m.value.startswith("**本年计划滞后"))
    assert heading.endswith(f"{lagging} 个单元**")
    units = table_with(at, "完工比例")
    share = {c: units[c].str.rstrip("%").astype(float) for c in ("完工比例", "时间进度")}
    assert len(units) == lagging and (share["完工比例"] < share["时间进度"]).all()
    late = table_with(at, "改造状态")
    assert len(late) == int((progress["planned"] - progress["done"])[progress["lagging"]].sum())


# ---------------------------------------------------------------------------------------------- disputes and cases


def test_overdue_cases_in_one_click(filled_sample_db, monkeypatch):
    at = open_page(filled_sample_db, monkeypatch, _disputes, scope="350102004000")
    at.multiselect(key="dispute_categories").set_value(["family"])
    ok(at.run())
    ask(at, "超期未结案件")
    assert at.multiselect(key="dispute_categories").value == []  # the question is about every case
    from geo.settings import Settings

    cases = read_layer(engine_for(filled_sample_db), "disputes", Scope("350102004000"))
    as_of = data_as_of(read_layer(engine_for(filled_sample_db), "disputes"))
    expected = int(overdue_mask(cases, as_of, Settings.load({}).overdue_days).sum())
    assert expected > 0
    heading = next(m.value for m in at.markdown if m.value.startswith("**超期未结案件"))
    assert heading.startswith(f"**超期未结案件：{expected} 件**")
    per_unit = table_with(at, "超期件数")
    assert int(per_unit["超期件数"].sum()) == expected


def test_no_overdue_case_is_said_in_words(filled_sample_db, monkeypatch):
    at = open_page(filled_sample_db, monkeypatch, _disputes, scope="350102004001", q="overdue")  # 军门社区: none
    assert at.toggle(key="dispute_overdue_only").value
    assert any(s == "所选范围内没有超期未结案件。" for s in successes(at))
    assert table_with(at, "超期件数") is None


def test_my_overdue_cases_in_one_click(filled_sample_db, monkeypatch):
    from data.accounts import create_account, get_account
    from geo.access import system_operator

    engine = engine_for(filled_sample_db)
    if get_account(engine, "quick_jm") is None:
        create_account(engine, system_operator("测试"), "quick_jm", Role.COMMUNITY, WITH_OVERDUE, display_name="测试")
    at = open_page(filled_sample_db, monkeypatch, _cases, user=get_account(engine, "quick_jm"))
    at.session_state["case_view"] = "受理新案件"
    ok(at.run())
    ask(at, "超期未结案件")
    assert at.session_state["case_view"] == "我的待办" and at.toggle(key="todo_overdue_only").value
    cards = {m.label: m.value for m in at.metric}
    overdue = int(cards["已超期"].split()[0].replace(",", ""))
    assert overdue > 0
    listed = table_with(at, "期限")
    assert len(listed) == overdue and all("超期" in t for t in listed["期限"])


# ---------------------------------------------------------------------------------------------- planner


def planner(url: str, monkeypatch, objective: str) -> AppTest:
    at = open_page(url, monkeypatch, _renovation)
    at.session_state["reno_view"] = "改造计划"
    at.session_state["plan_objective"] = objective
    at.session_state["plan_budget"] = 3000.0
    return ok(at.run())


@pytest.mark.parametrize("objective, card", [("score", "总优先级得分"), ("households", "受益户数（目标）"),
                                             ("score_households", "得分×户数")])
def test_the_planner_explains_its_objective_and_shows_the_batch_sizes(filled_sample_db, monkeypatch, objective, card):
    from geo.renovation import OBJECTIVE_NOTES

    at = planner(filled_sample_db, monkeypatch, objective)
    assert OBJECTIVE_NOTES[objective] in [c.value for c in at.caption]
    batch = table_with(at, "优先级得分")
    sizes = table_with(at, "每个小区户数")
    counts = sizes[["小区数", "户数"]].apply(lambda c: c.str.replace(",", "").astype(int))  # text: 「9,687」
    assert counts["小区数"].sum() == len(batch) and counts["户数"].sum() == batch["户数"].sum()
    cards = {m.label: m for m in at.metric}
    assert card in cards and "↑ +0" not in str(cards[card].proto.delta)


def test_households_objective_improves_more_households_with_larger_compounds(filled_sample_db, monkeypatch):
    by_score = table_with(planner(filled_sample_db, monkeypatch, "score"), "优先级得分")
    by_households = table_with(planner(filled_sample_db, monkeypatch, "households"), "优先级得分")
    assert by_households["户数"].sum() > by_score["户数"].sum()
    assert by_households["户数"].mean() > by_score["户数"].mean()


# ---------------------------------------------------------------------------------------------- overview


def _overview():
    from dashboard.pages import overview

    overview.render()


def test_the_overview_links_each_question_to_its_page_and_scope(filled_sample_db, monkeypatch):
    from urllib.parse import parse_qs, urlparse

    from dashboard.quick import OVERVIEW_QUESTIONS

    at = open_page(filled_sample_db, monkeypatch, _overview, scope="350102004000")
    links = {link.proto.label: link.proto for link in at.get("page_link")}
    for q in OVERVIEW_QUESTIONS:
        link = links[q.label]
        assert urlparse(link.page).path.strip("/") == q.page or link.page.endswith(q.page)
        params = parse_qs(link.query_string)
        assert params["q"] == [q.key] and params["scope"] == ["350102004000"]
