"""Logging in through the pages (AppTest, sample district with its demo accounts): reading without a login
by default, a login-first mode, the demo-account reminder, and the account reaching the page."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from data.accounts import DEMO_ACCOUNTS

PASSWORDS = {a[0]: a[-1] for a in DEMO_ACCOUNTS}


@pytest.fixture(scope="module")
def filled_sample_db(filled_sample_db) -> str:
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


def log_in(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    next(b for b in at.button if b.label == "登录").click()
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def sidebar_text(at: AppTest) -> str:
    return " ".join([m.value for m in at.sidebar.markdown] + [w.value for w in at.sidebar.warning]
                    + [c.value for c in at.sidebar.caption] + [s.value for s in at.sidebar.success])


def test_pages_read_without_login_and_offer_it_in_the_sidebar(filled_sample_db, monkeypatch):
    at = open_page(filled_sample_db, monkeypatch)
    assert at.title[0].value == "鼓楼区 · 总览" and at.metric  # the page is there …
    assert at.text_input(key="login_username") is not None  # … with the login form folded in the sidebar
    assert "演示账号" in sidebar_text(at)  # demo accounts with published passwords are named


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
