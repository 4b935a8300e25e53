"""Logging in through the pages (AppTest, sample district with its demo accounts): reading without a login
by default, a login-first mode, the demo-account reminder, the account reaching the page — and a demo
account's forced password change, alone on every page until it is done."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from streamlit.testing.v1 import AppTest

from tests.demo_accounts import DEMO_PASSWORDS as PASSWORDS
from tests.demo_accounts import clear_forced_change

PAGES = ("overview", "situation", "party", "renovation", "coverage", "disputes", "cases", "data_admin")


@pytest.fixture(scope="module")
def filled_sample_db(filled_sample_db) -> str:
    """The sample, where dongjie and junmen have had their first password change; admin has not."""
    clear_forced_change(filled_sample_db, ["dongjie", "junmen"])
    return filled_sample_db


def _overview_page():
    from dashboard.pages import overview

    overview.render()


def open_page(url: str, monkeypatch, **env) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    for key, value in env.items():
        monkeypatch.setenv(key.upper(), value)
    at = AppTest.from_function(_overview_page, default_timeout=120).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def submit(at: AppTest, button: str, **fields: str) -> AppTest:
    """Type ``fields`` (text-input key -> text) and press ``button``; the page must not raise."""
    for key, value in fields.items():
        at.text_input(key=key).input(value)
    next(b for b in at.button if b.label == button).click()
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def log_in(at: AppTest, username: str, password: str) -> AppTest:
    return submit(at, "登录", login_username=username, login_password=password)


def sidebar_text(at: AppTest) -> str:
    return " ".join([m.value for m in at.sidebar.markdown] + [w.value for w in at.sidebar.warning]
                    + [c.value for c in at.sidebar.caption] + [s.value for s in at.sidebar.success])


def test_pages_read_without_login_and_offer_it_in_the_sidebar(filled_sample_db, monkeypatch):
    at = open_page(filled_sample_db, monkeypatch)
    assert at.title[0].value == "鼓楼区 · 总览" and at.metric  # the page is there …
    assert at.text_input(key="login_username") is not None  # … with the login form folded in the sidebar
    assert "演示账号" not in sidebar_text(at)  # the demo-account notice is for district accounts only


@pytest.mark.parametrize(("who", "told"), [("dongjie", False), ("junmen", False), ("admin", True)])
def test_only_a_district_account_is_told_of_the_demo_accounts(filled_sample_db, monkeypatch, who, told):
    from data.accounts import get_account
    from data.store import engine_for

    monkeypatch.setenv("DATABASE_URL", filled_sample_db)
    at = AppTest.from_function(_overview_page, default_timeout=120)
    at.session_state["auth_account"] = get_account(engine_for(filled_sample_db), who)
    at.session_state["auth_login_at"] = datetime.now(UTC)
    at.run()
    assert ("仍存在演示账号" in sidebar_text(at)) is told


def test_a_login_reaches_the_page_and_a_wrong_password_does_not(filled_sample_db, monkeypatch):
    at = log_in(open_page(filled_sample_db, monkeypatch), "dongjie", "not-the-password")
    assert "用户名或密码错误" in " ".join(e.value for e in at.sidebar.error)
    at = log_in(at, "dongjie", PASSWORDS["dongjie"])
    assert "东街街道" in sidebar_text(at)
    assert any(b.label == "退出登录" for b in at.sidebar.button)


def test_login_first_mode_shows_nothing_before_the_login(filled_sample_db, monkeypatch):
    at = open_page(filled_sample_db, monkeypatch, anonymous_read="false")
    assert not at.metric and "请先登录" in " ".join(i.value for i in at.info)
    at = log_in(at, "junmen", PASSWORDS["junmen"])
    assert at.title[0].value == "鼓楼区 · 总览" and at.metric


def _any_page():
    import importlib
    import os

    importlib.import_module(f"dashboard.pages.{os.environ['TEST_PAGE']}").render()


@pytest.mark.parametrize("page", PAGES)
def test_a_demo_account_sees_only_the_password_change_form_on_every_page(filled_sample_db, monkeypatch, page):
    from data.accounts import get_account
    from data.store import engine_for

    monkeypatch.setenv("DATABASE_URL", filled_sample_db)
    monkeypatch.setenv("TEST_PAGE", page)
    at = AppTest.from_function(_any_page, default_timeout=120)
    at.session_state["auth_account"] = get_account(engine_for(filled_sample_db), "admin")
    at.session_state["auth_login_at"] = datetime.now(UTC)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert [t.value for t in at.title] == ["请先修改初始密码"]
    assert {t.key for t in at.main.text_input} == {"pwchange_old", "pwchange_new", "pwchange_again"}
    assert [b.label for b in at.main.button] == ["修改密码"]  # the form's own button, nothing else to press
    assert not (at.metric or at.dataframe or at.selectbox or at.tabs or at.radio or at.get("arrow_vega_lite_chart"))
    drawn = [type(c).__name__ for c in at.main.children.values() if type(c).__name__ != "Html"]  # Html: scripts
    assert drawn == ["Title", "Info", "Block"]  # the heading, the reason, the form's column: nothing of the page
    assert any(b.label == "退出登录" for b in at.sidebar.button)


def test_a_demo_account_changes_its_password_and_then_the_page_works(filled_sample_db, monkeypatch):
    """Last in this module: it changes admin's password."""
    from data.accounts import demo_accounts_present
    from data.store import engine_for

    at = log_in(open_page(filled_sample_db, monkeypatch), "admin", PASSWORDS["admin"])
    assert [t.value for t in at.title] == ["请先修改初始密码"] and not at.metric
    for new, again, problem in (("Gulou@2026", "Gulou@2026", "过于常见"), ("Admin-Gulou-77", "Admin-Gulou-77", "用户名"),
                                ("Qixiang-Fang#9", "Qixiang-Fang#8", "两次输入的新密码不一致")):
        at = change(at, PASSWORDS["admin"], new, again)
        assert problem in " ".join(e.value for e in at.error) and not at.metric
    at = change(at, PASSWORDS["admin"], "Qixiang-Fang#9", "Qixiang-Fang#9")
    assert at.title[0].value == "鼓楼区 · 总览" and at.metric  # the page works
    assert "密码已修改" in sidebar_text(at)
    assert demo_accounts_present(engine_for(filled_sample_db)) == ["dongjie", "junmen"]  # admin's is no demo now
    next(b for b in at.sidebar.button if b.label == "退出登录").click()
    at = log_in(at.run(), "admin", PASSWORDS["admin"])  # the published password no longer opens it
    assert "用户名或密码错误" in " ".join(e.value for e in at.sidebar.error)
    at = log_in(at, "admin", "Qixiang-Fang#9")
    assert at.title[0].value == "鼓楼区 · 总览" and at.metric


def change(at: AppTest, old: str, new: str, again: str) -> AppTest:
    return submit(at, "修改密码", pwchange_old=old, pwchange_new=new, pwchange_again=again)
