"""After a server restart the open browser tab carries on: the scope and period come back from the URL, the
first change of a selector works, and a user whose login the restart dropped is told so (Chromium)."""
from __future__ import annotations

import pytest

from tests.browser import _free_port, app_server, browser_page, chromium_missing, log_in
from tests.conftest import skip_or_fail

DONGJIE, NANJIE = "350102004000", "350102005000"


@pytest.fixture
def server(tmp_path):
    why = chromium_missing()
    if why:
        skip_or_fail(why, "REQUIRE_BROWSER")
    return f"sqlite:///{tmp_path / 'app.db'}", _free_port()


def choose_street(page, name: str) -> None:
    """Pick ``name`` in the sidebar's 街道（镇） selector (opened again if a rerun closed it)."""
    selector = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").first
    option = page.get_by_role("option", name=name)
    for _ in range(3):
        selector.click()
        try:
            option.click(timeout=10_000)
            return
        except Exception:  # noqa: BLE001 - the list closed under a rerun: open it again
            page.keyboard.press("Escape")
    option.click(timeout=10_000)


def open_logged_in(page, base: str, url: str, query: str, heading: str) -> None:
    """Open 态势图 at ``query`` and log in as dongjie."""
    page.goto(f"{base}/situation{query}", wait_until="domcontentloaded")
    page.get_by_role("heading", name=heading).wait_for(timeout=120_000)
    log_in(page, url, "dongjie")


def after_restart_choose_nanjie(page) -> None:
    """Once the tab has reconnected, the first interaction: 南街街道 in the selector, and its page shown."""
    page.wait_for_timeout(3000)  # the tab reconnects by itself; its next run starts a new session
    choose_street(page, "南街街道")
    page.get_by_role("heading", name="南街街道 · 社区治理态势").wait_for(timeout=60_000)


def test_a_restart_keeps_the_view_takes_the_first_change_and_says_the_login_was_lost(server, tmp_path):
    url, port = server
    with browser_page(1366, 900) as (page, external):
        with app_server(url, tmp_path, port=port) as (base, _pid):
            open_logged_in(page, base, url, f"?scope={DONGJIE}&period=90", "东街街道 · 社区治理态势")
        # the server is gone; the tab stays open on the same address while it comes back
        with app_server(url, tmp_path, port=port) as (base, _pid):
            assert f"scope={DONGJIE}" in page.url and "period=90" in page.url
            after_restart_choose_nanjie(page)  # the first interaction after the restart is not lost
            assert f"scope={NANJIE}" in page.url and "period=90" in page.url
            assert "（90天）" in page.inner_text("body")  # the period came back from the URL too
            page.get_by_text("登录已失效，请重新登录").first.wait_for(timeout=30_000)
            assert not page.get_by_text("当前用户").count()
        assert external == []


def test_a_deliberate_logout_is_not_reported_as_a_lost_login(server, tmp_path):
    url, port = server
    with browser_page(1366, 900) as (page, _external):
        with app_server(url, tmp_path, port=port) as (base, _pid):
            open_logged_in(page, base, url, "", "鼓楼区 · 社区治理态势")
            page.get_by_role("button", name="退出登录").click()
            page.get_by_text("登录（修改数据需登录）").wait_for(timeout=30_000)
        with app_server(url, tmp_path, port=port) as (base, _pid):
            after_restart_choose_nanjie(page)
            page.wait_for_timeout(1500)
            assert not page.get_by_text("登录已失效").count()
