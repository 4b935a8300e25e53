"""The 案件办理 page in AppTest on the sample district: a community account takes in a case and takes it through
mediation to 办结; the community's figures and the district's overdue alert follow; refusals save nothing."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text
from streamlit.testing.v1 import AppTest

from geo.vocab import CaseStep, DisputeCategory, DisputeSource, Role

JUNMEN, DONGJIE = "350102004001", "350102004000"


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory) -> str:
    from data.store import open_store
    from geo.settings import Settings

    url = f"sqlite:///{tmp_path_factory.mktemp('cases') / 'app.db'}"
    open_store(Settings.load({"database_url": url}))
    return url


def _cases_page():
    from dashboard.pages import cases

    cases.render()


def _situation_page():
    from dashboard.pages import situation

    situation.render()


def _overview_page():
    from dashboard.pages import overview

    overview.render()


def account(db_url: str, username: str, scope: str, role: Role = Role.COMMUNITY):
    """A stored account (created once per database; no password: the test puts it into the session)."""
    from data.accounts import create_account, get_account
    from data.store import engine_for
    from geo.access import system_operator

    engine = engine_for(db_url)
    if get_account(engine, username) is None:
        create_account(engine, system_operator("测试"), username, role, scope, display_name=f"测试·{username}")
    return get_account(engine, username)


def page(db_url: str, monkeypatch, user=None, fn=_cases_page, scope: str = "", **state) -> AppTest:
    from dashboard.auth import AUTH_KEY, LOGIN_AT_KEY

    monkeypatch.setenv("DATABASE_URL", db_url)
    at = AppTest.from_function(fn, default_timeout=180)
    if scope:
        at.query_params["scope"] = scope
    if user is not None:
        at.session_state[AUTH_KEY] = user
        at.session_state[LOGIN_AT_KEY] = datetime.now(UTC)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    ok(at)
    return at


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    return at


def q(db_url: str, sql: str, **params):
    with create_engine(db_url).connect() as conn:
        return conn.execute(text(sql), params).one()


def as_of(db_url: str) -> date:
    """The sample's data cut-off (newest 受理日期): dates on it keep every period of the pages where it is."""
    return min(date.fromisoformat(q(db_url, "SELECT max(reported_on) FROM disputes")[0]), date.today())


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def button(at: AppTest, label: str):
    return next(b for b in at.get("button") if b.label == label)


def box(at: AppTest, label: str):
    return next(b for b in at.selectbox if b.label == label)


def take_step(at: AppTest, code: str, step: CaseStep, **values) -> AppTest:
    """Choose ``step`` for case ``code`` and submit its form with ``values`` (field -> value)."""
    at.session_state[f"step_{code}"] = step
    ok(at.run())
    for field, value in values.items():
        widget = next(w for kind in ("date_input", "text_input", "text_area") for w in at.get(kind)
                      if w.key == f"{code}_{field}")
        widget.set_value(value)
    button(at, f"保存：{step.label}").click()
    return ok(at.run())


def test_logged_out_the_page_is_one_line_asking_to_log_in(sample_db, monkeypatch):
    at = page(sample_db, monkeypatch)
    from dashboard.pages.cases import LOGIN_LINE

    assert [i.value for i in at.main.info] == [LOGIN_LINE] and LOGIN_LINE.startswith("请先登录")
    assert not (at.main.selectbox or at.dataframe or at.metric or at.get("button_group"))


def mediation(db_url: str, community: str, day: date) -> tuple[int, int]:
    """(调解成功, 调解不成) among the cases of ``community`` 办结 in the 30 days up to ``day``, counted here."""
    return q(db_url, "SELECT sum(status = 'resolved'), sum(status = 'failed') FROM disputes WHERE community_code = :c "
                     "AND closed_on BETWEEN :a AND :b", c=community, a=(day - timedelta(days=29)).isoformat(),
             b=day.isoformat())


def test_a_community_account_takes_a_case_in_and_through_mediation_and_its_figures_follow(sample_db, monkeypatch):
    day = as_of(sample_db)
    community = q(sample_db, "SELECT min(community_code) FROM disputes WHERE status = 'failed' AND closed_on "
                             "BETWEEN :a AND :b", a=(day - timedelta(days=29)).isoformat(), b=day.isoformat())[0]
    before = metrics(page(sample_db, monkeypatch, fn=_situation_page, scope=community))
    resolved, failed = mediation(sample_db, community, day)
    assert before["调解成功率"] == f"{resolved / (resolved + failed):.1%}"  # below 100 %: one more success moves it
    user = account(sample_db, "wg_mediation", community)
    compound, name = q(sample_db, "SELECT code, name FROM compounds WHERE community_code = :c ORDER BY code LIMIT 1",
                       c=community)
    at = page(sample_db, monkeypatch, user, case_view="受理新案件", intake_place="选择已登记的小区")
    box(at, "已登记的小区").set_value(compound)
    box(at, "纠纷类别").set_value(DisputeCategory.NEIGHBOUR)
    box(at, "来源").set_value(DisputeSource.VISIT)
    next(d for d in at.date_input if d.label == "受理日期").set_value(day)
    next(t for t in at.text_area if t.label == "当事人情况").set_value("张某（5座301）与李某（5座201）")
    next(t for t in at.text_area if t.label == "简要情况").set_value("楼上卫生间渗水")
    button(at, "受理").click()
    ok(at.run())
    code = at.session_state["case_code"]
    assert re.fullmatch(r"JF\d{7}", code) and any(f"已受理：案件编号 {code}" in s.value for s in at.success)
    assert at.session_state["case_view"] == "案件办理"
    assert q(sample_db, "SELECT community_code, address, status, compound_code FROM disputes WHERE code = :c", c=code) \
        == (community, name, "received", compound)
    take_step(at, code, CaseStep.MEDIATE, mediator="社区人民调解室", mediating_on=day)
    take_step(at, code, CaseStep.RESOLVE, outcome="楼上修复防水层，赔偿楼下800元", agreement_on=day)
    assert q(sample_db, "SELECT status, closed_on FROM disputes WHERE code = :c", c=code) == ("resolved", None)
    take_step(at, code, CaseStep.CLOSE, closed_on=day)
    assert q(sample_db, "SELECT status, closed_on, version FROM disputes WHERE code = :c", c=code) \
        == ("resolved", day.isoformat(), 4)
    assert any("已于" in s.value and "办结" in s.value for s in at.success)
    history = next(m.value for m in at.markdown if "wg\\_mediation" in m.value).splitlines()[1::2]
    assert [line.strip().split("：")[0] for line in history] == ["办结", "记为调解成功", "开始调解", "受理"]
    after = metrics(page(sample_db, monkeypatch, fn=_situation_page, scope=community))
    assert int(after["近30天受理纠纷"]) == int(before["近30天受理纠纷"]) + 1
    assert mediation(sample_db, community, day) == (resolved + 1, failed)
    assert after["调解成功率"] == f"{(resolved + 1) / (resolved + 1 + failed):.1%}" != before["调解成功率"]


def _overdue_alert(at: AppTest, unit: str) -> int:
    """The number in the 总览 alert 「…：超期未结纠纷 N 件」 that links to ``unit`` (0: no such alert)."""
    labels = [p.proto.label for p in at.get("page_link") if p.proto.page == "disputes"
              and re.search(rf"scope={unit}(&|$)", p.proto.query_string) and "超期未结纠纷" in p.proto.label]
    return int(re.search(r"超期未结纠纷 (\d+) 件", labels[0]).group(1)) if labels else 0


def test_closing_an_overdue_case_takes_it_off_the_districts_overdue_alert(sample_db, monkeypatch):
    day = as_of(sample_db)
    code, community, street = q(sample_db, (
        "SELECT code, community_code, street_code FROM disputes WHERE status = 'mediating' AND closed_on IS NULL "
        "AND reported_on < :d ORDER BY code LIMIT 1"), d=(day - timedelta(days=30)).isoformat())
    district = page(sample_db, monkeypatch, fn=_overview_page)
    kpi = int(metrics(district)["超期未结"])
    overview = page(sample_db, monkeypatch, fn=_overview_page, scope=street)  # its communities' alerts
    alert = _overdue_alert(overview, community)
    assert alert >= 1
    user = account(sample_db, f"wg{community[-3:]}", community)
    at = page(sample_db, monkeypatch, user, case_pending=code)
    assert at.session_state["case_code"] == code
    assert any("已超期" in e.value for e in at.error)  # shown in red with its days
    take_step(at, code, CaseStep.FAIL, outcome="双方分歧较大，调解不成")
    take_step(at, code, CaseStep.CLOSE, closed_on=day)
    overview = page(sample_db, monkeypatch, fn=_overview_page, scope=street)
    assert _overdue_alert(overview, community) == alert - 1
    assert int(metrics(page(sample_db, monkeypatch, fn=_overview_page))["超期未结"]) == kpi - 1


@pytest.mark.parametrize("age, shown, overdue", [(30, "今天到期", False), (31, "超期 1 天", True)])
def test_the_30_day_limit_in_the_to_do_list(sample_db, monkeypatch, age, shown, overdue):
    from data.cases import my_cases, receive_case
    from data.store import engine_for
    from geo.lifecycle import district_today

    user = account(sample_db, "junmen_wg", JUNMEN)
    today = district_today()
    compound = q(sample_db, "SELECT code FROM compounds WHERE community_code = :c ORDER BY code LIMIT 1", c=JUNMEN)[0]
    case = receive_case(engine_for(sample_db), {"category": "物业纠纷", "source": "网格员巡查", "compound_code": compound,
                                                "reported_on": today - timedelta(days=age), "address": f"军门测试{age}号"},
                        user)
    at = page(sample_db, monkeypatch, user)
    table = next(df.value for df in at.dataframe if "期限" in df.value.columns).set_index("编号")
    assert table.loc[case["code"], "期限"] == shown
    assert bool(my_cases(engine_for(sample_db), user).set_index("code").loc[case["code"], "overdue"]) is overdue


def test_a_refused_save_says_not_saved_and_saves_nothing(sample_db, monkeypatch):
    user = account(sample_db, "junmen_wg", JUNMEN)
    at = page(sample_db, monkeypatch, user, case_view="受理新案件", intake_place="选择已登记的小区")
    n = q(sample_db, "SELECT count(*) FROM disputes")[0]
    button(at, "受理").click()
    ok(at.run())
    (error,) = at.error
    assert error.value.startswith("未保存") and "纠纷类别：受理时必须填写" in error.value
    assert "位置：请在地图上点选案件发生地" in error.value
    assert q(sample_db, "SELECT count(*) FROM disputes")[0] == n


def test_a_step_saved_by_someone_else_first_is_refused(sample_db, monkeypatch):
    from data.cases import advance_case
    from data.store import engine_for

    user = account(sample_db, "junmen_wg", JUNMEN)
    code, version = q(sample_db, "SELECT code, version FROM disputes WHERE community_code = :c AND status = 'received' "
                                 "AND closed_on IS NULL ORDER BY code LIMIT 1", c=JUNMEN)
    at = page(sample_db, monkeypatch, user, case_pending=code)
    advance_case(engine_for(sample_db), code, CaseStep.TRANSFER, {"transferred_to": "区信访局"}, version, user)
    take_step(at, code, CaseStep.MEDIATE, mediator="王调解", mediating_on=as_of(sample_db))
    assert any("已被他人办理或修改" in e.value and "未保存" in e.value for e in at.error)
    assert q(sample_db, "SELECT status, mediator FROM disputes WHERE code = :c", c=code) == ("transferred", None)
    button(at, "载入最新数据").click()
    ok(at.run())
    assert [b.label for b in at.get("button") if b.label.startswith("保存")] == ["保存：办结"]  # the steps of now


def test_a_case_outside_the_scope_is_not_shown(sample_db, monkeypatch):
    user = account(sample_db, "junmen_wg", JUNMEN)
    code = q(sample_db, "SELECT code FROM disputes WHERE street_code <> :s ORDER BY code LIMIT 1", s=DONGJIE)[0]
    at = page(sample_db, monkeypatch, user, case_pending=code)
    assert any("无权查看案件" in e.value for e in at.error)
    assert not [b for b in at.get("button") if b.label.startswith("保存")]


def test_a_click_on_the_map_places_a_new_case_in_its_grid(sample_db, monkeypatch):
    import dashboard.cases.locate as locate
    from data.store import engine_for, read_layer
    from geo.scope import Scope

    user = account(sample_db, "junmen_wg", JUNMEN)
    grids = read_layer(engine_for(sample_db), "grids", Scope(JUNMEN))
    first = grids.iloc[0]
    point = first.geometry.representative_point()
    lon, lat, grid, grid_name = round(point.x, 6), round(point.y, 6), first["code"], first["name"]

    def fake_show_folium(m, **kwargs):
        assert kwargs["returned_objects"] == ["last_clicked"]
        return {"last_clicked": {"lng": lon, "lat": lat}}

    monkeypatch.setattr(locate, "show_folium", fake_show_folium)
    at = page(sample_db, monkeypatch, user, case_view="受理新案件")
    assert any(f"已选位置：军门社区{grid_name}" in c.value for c in at.caption)
    box(at, "纠纷类别").set_value(DisputeCategory.FAMILY)
    box(at, "来源").set_value(DisputeSource.HOTLINE)
    next(t for t in at.text_input if t.label == "地址").set_value("军门测试路1号")
    button(at, "受理").click()
    ok(at.run())
    code = at.session_state["case_code"]
    assert q(sample_db, "SELECT grid_code, category FROM disputes WHERE code = :c", c=code) == (grid, "family")
