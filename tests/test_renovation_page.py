"""The renovation workspace in AppTest on the sample district: planner, weights, Excel, editing."""
from __future__ import annotations

import io
import threading
from datetime import UTC, datetime

import openpyxl
import pytest
from sqlalchemy import create_engine, text
from streamlit.testing.v1 import AppTest

from geo.vocab import RenovationStatus


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('reno') / 'app.db'}"


@pytest.fixture
def workspace(sample_db, monkeypatch) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", sample_db)
    at = AppTest.from_function(_renovation_page, default_timeout=180)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _renovation_page():
    from dashboard.pages import renovation

    renovation.render()


def planner_view(at: AppTest) -> AppTest:
    """Switch the workspace to its 改造计划 view."""
    at.session_state["reno_view"] = "改造计划"
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def batch(at: AppTest):
    return next(df.value for df in at.dataframe if "优先级得分" in df.value.columns)


def test_planner_batch_fits_the_budget(workspace):
    at = planner_view(workspace)
    assert at.number_input(key="plan_budget").value == 10_000.0
    table = batch(at)
    assert 0 < len(table) and table["预算（万元）"].sum() <= 10_000.0 + 1e-6
    shown = {m.label: m.value for m in at.metric}
    assert shown["建议改造小区"] == f"{len(table)} 个"
    assert shown["受益户数"] == f"{int(table['户数'].sum()):,}"


def test_changing_a_weight_changes_the_ranking(workspace):
    at = planner_view(workspace)
    before = batch(at)["编码"].tolist()
    for factor, value in (("w_age", 0.0), ("w_households", 0.0), ("w_no_property_mgmt", 0.0),
                          ("w_pm_disputes", 1.0), ("w_coverage_gap", 0.0)):
        at.slider(key=factor).set_value(value)
    at.run()
    after = batch(at)
    assert after["编码"].tolist() != before
    assert (after["物业纠纷得分"] == after["优先级得分"]).all()  # only the dispute factor scores now


def test_budget_zero_proposes_nothing(workspace):
    at = planner_view(workspace)
    at.number_input(key="plan_budget").set_value(0.0).run()
    assert not at.exception
    assert not [df for df in at.dataframe if "优先级得分" in df.value.columns]  # no empty table, a sentence instead
    assert any(c.value.startswith("预算内没有可以纳入本批次的小区") for c in at.caption)


def test_excel_download_holds_the_same_rows(workspace, monkeypatch):
    import streamlit.testing.v1.app_test as app_test

    stores = []

    class KeptStorage(app_test.MemoryMediaFileStorage):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            stores.append(self)

    monkeypatch.setattr(app_test, "MemoryMediaFileStorage", KeptStorage)
    at = planner_view(workspace)
    table = batch(at)
    url = at.get("download_button")[0].proto.url
    workbook = stores[-1].get_file(url.rsplit("/", 1)[-1].split(".")[0]).content
    wb = openpyxl.load_workbook(io.BytesIO(workbook))
    assert wb.sheetnames == ["改造批次建议", "改造项目台账"]
    ws = wb["改造批次建议"]
    header = [c.value for c in ws[1]]
    codes = [row[header.index("编码")] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert codes == table["编码"].tolist()
    budgets = [row[header.index("预算（万元）")] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert all(isinstance(b, (int, float)) for b in budgets)
    assert wb["改造项目台账"].max_row - 1 == 867  # every sample compound in the ledger


def test_two_concurrent_edits_exactly_one_wins(sample_db):
    from data.accounts import get_account
    from data.edits import update_compound
    from data.store import engine_for, open_store
    from geo.errors import ConflictError
    from geo.settings import Settings

    open_store(Settings.load({"database_url": sample_db}))
    engine = engine_for(sample_db)
    admin = get_account(engine, "admin")
    with engine.connect() as conn:
        code, version = conn.execute(text(
            "SELECT code, version FROM compounds WHERE status = 'not_planned' ORDER BY code LIMIT 1")).one()
    barrier, results = threading.Barrier(2), []

    def edit(who: str, year: int):
        barrier.wait()
        try:
            update_compound(engine, code, {"status": "planned", "plan_year": year}, version, admin)
            results.append("ok")
        except ConflictError as exc:
            results.append(str(exc))

    threads = [threading.Thread(target=edit, args=(w, y)) for w, y in (("甲", 2027), ("乙", 2028))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results)[0] == "ok" and "已被他人修改" in sorted(results)[1]
    with create_engine(sample_db).connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM audit_log WHERE record_code = :c"), {"c": code}).scalar()
    assert n == 1


def log_in(at: AppTest, sample_db: str, username: str | None) -> None:
    """Put the demo account ``username`` into the session as dashboard.auth.sign_in does (None: log out)."""
    from dashboard.auth import AUTH_KEY, LOGIN_AT_KEY
    from data.accounts import get_account
    from data.store import engine_for
    from tests.demo_accounts import clear_forced_change

    if username:
        clear_forced_change(sample_db, [username])  # a demo account's first password change is tested elsewhere
    at.session_state[AUTH_KEY] = username and get_account(engine_for(sample_db), username)
    at.session_state[LOGIN_AT_KEY] = datetime.now(UTC)


def test_edit_from_the_page_saves_and_records_history(workspace, sample_db):
    with create_engine(sample_db).connect() as conn:
        code, name = conn.execute(text(
            "SELECT code, name FROM compounds WHERE status = 'not_planned' AND street_code = '350102004000' "
            "ORDER BY code DESC LIMIT 1")).one()
    at = workspace
    log_in(at, sample_db, "dongjie")
    at.session_state["reno_view"] = "台账编辑"
    at.run()
    at.selectbox(key="edit_compound").set_value(code).run()
    assert not at.exception, [e.message for e in at.exception]
    next(b for b in at.selectbox if b.label == "改造状态").set_value(RenovationStatus.PLANNED)
    next(n for n in at.number_input if n.label == "计划年度").set_value(2027)
    next(b for b in at.get("button") if b.label == "保存修改").click()
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    with create_engine(sample_db).connect() as conn:
        status, version = conn.execute(text("SELECT status, version FROM compounds WHERE code = :c"), {"c": code}).one()
        actor = conn.execute(text("SELECT actor FROM audit_log WHERE record_code = :c"), {"c": code}).scalar()
    assert (status, version, actor) == ("planned", 2, "dongjie")
    history = next(df.value for df in at.dataframe if "修改内容" in df.value.columns)
    assert "未纳入计划 → 已纳入计划" in history["修改内容"].iloc[0]


def _open_editor(at: AppTest, code: str) -> AppTest:
    at.session_state["reno_view"] = "台账编辑"
    at.run()
    at.selectbox(key="edit_compound").set_value(code).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _row(sample_db: str, where: str) -> tuple[str, str, int]:
    with create_engine(sample_db).connect() as conn:
        return conn.execute(text(f"SELECT code, street_code, version FROM compounds WHERE {where} "
                                 "ORDER BY code LIMIT 1")).one()


def test_sub_district_account_with_another_sub_districts_edit_url_changes_nothing(workspace, sample_db):
    from data.accounts import get_account
    from data.edits import update_compound
    from data.store import engine_for
    from geo.errors import PermissionDenied

    code, street, version = _row(sample_db, "street_code <> '350102004000' AND status = 'not_planned'")
    at = workspace
    at.query_params["scope"] = street  # the other sub-district's link
    log_in(at, sample_db, "dongjie")
    _open_editor(at, code)
    assert not [b for b in at.get("button") if b.label == "保存修改"]
    assert any("只能修改东街街道范围内的小区" in w.value for w in at.warning)
    engine = engine_for(sample_db)
    with pytest.raises(PermissionDenied, match="只能修改东街街道范围内的数据"):  # a crafted direct call
        update_compound(engine, code, {"status": "planned", "plan_year": 2027}, version, get_account(engine, "dongjie"))
    assert _row(sample_db, f"code = '{code}'") == (code, street, version)


def test_logged_out_visitor_gets_no_edit_form(workspace, sample_db):
    code, _, version = _row(sample_db, "street_code = '350102004000' AND status = 'not_planned'")
    at = workspace
    log_in(at, sample_db, None)
    _open_editor(at, code)
    assert not [b for b in at.get("button") if b.label == "保存修改"]
    assert any("登录后才能修改" in i.value for i in at.info)
