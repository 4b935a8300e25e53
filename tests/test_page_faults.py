"""Database faults as a person meets them on the pages, through the app's own entry (``dashboard.faults.run_page``).

Each fault — a SQLite file locked by another process longer than the busy budget, a read-only database,
PostgreSQL stopped and started again — shows a Chinese notice with an incident id and no traceback, keeps
what was typed in the form, writes nothing, and clears once the fault ends. AppTest drives the pages; the
last test watches a real Chromium recover by itself, without a reload, when PostgreSQL comes back.
"""
from __future__ import annotations

import re
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from streamlit.testing.v1 import AppTest

from dashboard.auth import AUTH_KEY, LOGIN_AT_KEY
from data.accounts import get_account
from data.store import engine_for, open_store
from geo.settings import Settings
from geo.vocab import RenovationStatus
from tests.demo_accounts import clear_forced_change
from tests.ingest_helpers import checksum
from tests.test_faults import fast_busy, locked, own_cluster  # noqa: F401 - fixtures

LEAKS = ("Traceback", "[SQL", "sqlalchemy", "psycopg", "sqlite3", "OperationalError", "127.0.0.1", "localhost",
         "/tmp", "not-a-real-secret", "BEGIN")
INCIDENT = re.compile(r"事件编号 [0-9a-f]{8}")


def _app():
    """The app's entry for one page (FAULT_PAGE): the same guard as streamlit_app.py."""
    import os

    import streamlit as st

    from dashboard.faults import run_page
    from dashboard.nav import pages

    run_page(st.navigation([pages()[os.environ["FAULT_PAGE"]]]))


def open_app(monkeypatch, url: str, page: str, username: str | None = None, **state) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("FAULT_PAGE", page)
    at = AppTest.from_function(_app, default_timeout=240)
    if username:
        at.session_state[AUTH_KEY] = get_account(engine_for(url), username)
        at.session_state[LOGIN_AT_KEY] = datetime.now(UTC)
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def shown(at: AppTest) -> str:
    """Every text the page shows (titles, notices, captions, markdown, toasts)."""
    parts = [*at.title, *at.error, *at.warning, *at.info, *at.success, *at.caption, *at.markdown, *at.toast]
    return " ".join(str(e.value) for e in parts)


def assert_no_leak(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]
    page = shown(at)
    for leak in LEAKS:
        assert leak not in page, (leak, page[:400])


@pytest.fixture
def sample_copy(filled_sample_db, tmp_path) -> tuple[Path, str]:
    """A private copy of the filled sample database: (file, URL); demo accounts let in without the forced change."""
    source = Path(filled_sample_db.removeprefix("sqlite:///"))
    target = tmp_path / "app.db"
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    url = f"sqlite:///{target}"
    clear_forced_change(url)
    return target, url


def _compound(url: str) -> str:
    with create_engine(url).connect() as conn:
        return conn.execute(text("SELECT code FROM compounds WHERE status = 'not_planned' "
                                 "AND street_code = '350102004000' ORDER BY code LIMIT 1")).scalar()


def _fill_form(at: AppTest, code: str) -> AppTest:
    at.selectbox(key="edit_compound").set_value(code).run()
    next(b for b in at.selectbox if b.label == "改造状态").set_value(RenovationStatus.PLANNED)
    next(n for n in at.number_input if n.label == "计划年度").set_value(2027)
    return at


def _save(at: AppTest) -> AppTest:
    next(b for b in at.get("button") if b.label == "保存修改").click()
    return at.run()


def _form_values(at: AppTest) -> tuple:
    return (next(b for b in at.selectbox if b.label == "改造状态").value,
            next(n for n in at.number_input if n.label == "计划年度").value)


def _status(url: str, code: str) -> tuple[str, int]:
    with create_engine(url).connect() as conn:
        return tuple(conn.execute(text("SELECT status, version FROM compounds WHERE code = :c"), {"c": code}).one())


def test_a_save_while_another_process_locks_the_file_says_busy_keeps_the_form_and_saves_after(
        sample_copy, monkeypatch, fast_busy):  # noqa: F811
    path, url = sample_copy
    code = _compound(url)
    at = _fill_form(open_app(monkeypatch, url, "renovation", "dongjie", reno_view="台账编辑"), code)
    before = checksum(engine_for(url))
    with locked(path):
        _save(at)
        assert_no_leak(at)
        errors = " ".join(e.value for e in at.error)
        assert "数据库正忙，您的修改尚未保存，请稍后重试" in errors and INCIDENT.search(errors), errors
        assert _form_values(at) == (RenovationStatus.PLANNED, 2027)  # what was typed is still there
    assert checksum(engine_for(url)) == before
    _save(at)
    assert_no_leak(at)
    assert _status(url, code) == ("planned", 2)


def test_a_read_only_database_lets_pages_read_and_tells_a_save_to_call_the_administrator(
        sample_copy, monkeypatch):
    path, url = sample_copy
    code = _compound(url)
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"
    at = _fill_form(open_app(monkeypatch, read_only, "renovation", "dongjie", reno_view="台账编辑"), code)
    assert "老旧小区改造" in shown(at)  # reading works
    _save(at)
    assert_no_leak(at)
    errors = " ".join(e.value for e in at.error)
    assert "数据库当前只读（或磁盘已满），无法保存；请联系系统管理员" in errors and INCIDENT.search(errors), errors
    assert _form_values(at) == (RenovationStatus.PLANNED, 2027)
    assert _status(url, code) == ("not_planned", 1)
    at = _fill_form(open_app(monkeypatch, url, "renovation", "dongjie", reno_view="台账编辑"), code)
    _save(at)  # the file writable again: the same save goes through
    assert _status(url, code) == ("planned", 2)


@pytest.fixture
def pg_app(own_cluster, monkeypatch):  # noqa: F811
    """The sample district in a PostgreSQL cluster of the test's own (so it can be stopped): (cluster, URL)."""
    monkeypatch.setenv("DB_BUSY_TIMEOUT", "0.5")
    monkeypatch.setenv("DB_BUSY_RETRY", "1")
    open_store(Settings.load({"database_url": own_cluster.url}))
    clear_forced_change(own_cluster.url)
    return own_cluster, own_cluster.url


def test_postgresql_stopped_shows_cached_views_as_stale_and_a_retrying_notice_then_recovers(pg_app, monkeypatch):
    cluster, url = pg_app
    warm = open_app(monkeypatch, url, "situation")
    assert_no_leak(warm)
    title = warm.title[0].value
    cluster.stop()
    try:
        stale = warm.run()  # the same session: its views are in memory
        assert_no_leak(stale)
        assert stale.title[0].value == title
        assert any("数据库暂时无法连接" in w.value and "可能不是最新" in w.value for w in stale.warning)
        cold = open_app(monkeypatch, url, "situation", scope="350102005000")  # data no page has read yet
        assert_no_leak(cold)
        assert "数据库暂时无法连接，正在重试…" in shown(cold) and INCIDENT.search(shown(cold))
    finally:
        cluster.start()
    back = open_app(monkeypatch, url, "situation", scope="350102005000")
    assert_no_leak(back)
    assert back.title[0].value.startswith("南街街道")
    assert not any("数据库暂时无法连接" in w.value for w in back.warning)


def test_postgresql_stopped_during_a_save_keeps_the_form_and_the_save_works_once_it_is_back(pg_app, monkeypatch):
    cluster, url = pg_app
    code = _compound(url)
    at = _fill_form(open_app(monkeypatch, url, "renovation", "dongjie", reno_view="台账编辑"), code)
    cluster.stop()
    try:
        _save(at)
        assert_no_leak(at)
        errors = " ".join(e.value for e in at.error)
        assert "数据库暂时无法连接，您的修改尚未保存，请稍后重试" in errors and INCIDENT.search(errors), errors
        assert _form_values(at) == (RenovationStatus.PLANNED, 2027)
    finally:
        cluster.start()
    assert _status(url, code) == ("not_planned", 1)
    _save(at)
    assert_no_leak(at)
    assert _status(url, code) == ("planned", 2)


def test_chromium_sees_the_notice_and_the_page_comes_back_by_itself(pg_app, tmp_path):
    from tests.browser import app_server, browser_page, chromium_missing, screenshot
    from tests.conftest import skip_or_fail

    why = chromium_missing()
    if why:
        skip_or_fail(why, "REQUIRE_BROWSER")
    cluster, url = pg_app
    with app_server(url, tmp_path) as (base, _pid), browser_page(1366, 768) as (page, external):
        page.goto(base + "/situation", wait_until="domcontentloaded")
        page.get_by_role("heading", name="鼓楼区 · 社区治理态势").wait_for(timeout=120_000)
        cluster.stop()
        try:
            page.goto(base + "/situation?scope=350102005000", wait_until="domcontentloaded")
            page.get_by_text("数据库暂时无法连接，正在重试…").first.wait_for(timeout=60_000)
            body = page.inner_text("body")
            for leak in LEAKS:
                assert leak not in body, leak
            screenshot(page, "db-down.png")
        finally:
            cluster.start()
        started = time.monotonic()
        page.get_by_role("heading", name="南街街道 · 社区治理态势").wait_for(timeout=60_000)  # no reload
        assert time.monotonic() - started < 30
        assert not page.get_by_text("数据库暂时无法连接").count()
        assert external == []
