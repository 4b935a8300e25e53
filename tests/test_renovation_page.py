"""The renovation workspace in AppTest on the sample district: planner, weights, Excel, editing."""
from __future__ import annotations

import io
import threading

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
    assert not at.exception and len(batch(at)) == 0


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
    from data.edits import update_compound
    from data.store import engine_for, open_store
    from geo.errors import ConflictError
    from geo.settings import Settings

    open_store(Settings.load({"database_url": sample_db}))
    engine = engine_for(sample_db)
    with engine.connect() as conn:
        code, version = conn.execute(text(
            "SELECT code, version FROM compounds WHERE status = 'not_planned' ORDER BY code LIMIT 1")).one()
    barrier, results = threading.Barrier(2), []

    def edit(who: str, year: int):
        barrier.wait()
        try:
            update_compound(engine, code, {"status": "planned", "plan_year": year}, version, who)
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


def test_edit_from_the_page_saves_and_records_history(workspace, sample_db):
    with create_engine(sample_db).connect() as conn:
        code, name = conn.execute(text(
            "SELECT code, name FROM compounds WHERE status = 'not_planned' ORDER BY code DESC LIMIT 1")).one()
    at = workspace
    at.session_state["reno_view"] = "台账编辑"
    at.run()
    at.selectbox(key="edit_compound").set_value(code).run()
    assert not at.exception, [e.message for e in at.exception]
    next(b for b in at.selectbox if b.label == "改造状态").set_value(RenovationStatus.PLANNED)
    next(n for n in at.number_input if n.label == "计划年度").set_value(2027)
    at.text_input(key="edit_actor").set_value("东街街道办 林工")
    next(b for b in at.get("button") if b.label == "保存修改").click()
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    with create_engine(sample_db).connect() as conn:
        status, version = conn.execute(text("SELECT status, version FROM compounds WHERE code = :c"), {"c": code}).one()
        actor = conn.execute(text("SELECT actor FROM audit_log WHERE record_code = :c"), {"c": code}).scalar()
    assert (status, version, actor) == ("planned", 2, "东街街道办 林工")
    history = next(df.value for df in at.dataframe if "修改内容" in df.value.columns)
    assert "未纳入计划 → 已纳入计划" in history["修改内容"].iloc[0]
