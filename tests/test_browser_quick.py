"""「常用问题」 in Chromium: one click on the coverage page answers "which compounds of 洪山镇 have no 居家养老服务站
within a 10-minute walk", and the overview's link opens the disputes page on its overdue cases. Screenshots of the
pages touched, at office and phone sizes, go to artifacts/i19_H4_*.png."""
from __future__ import annotations

import pytest

from tests.browser import browser_app, browser_page, screenshot, wait_idle

HONGSHAN = "350102100000"
SIZES = ((1366, 768), (1920, 1080), (390, 844))


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with browser_app(tmp_path_factory.mktemp("quick")) as found:
        yield found


def open_page(page, url: str) -> None:
    """Go to ``url`` and wait until the page (with its 「常用问题」) is drawn; a loaded machine may take minutes."""
    page.set_default_timeout(180_000)
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_text("常用问题").first.wait_for(timeout=300_000)
    wait_idle(page, 180_000)


def _answer_rows(page) -> str:
    return page.get_by_text("步行 500 米内缺少所选站点的老旧小区").first.inner_text()


@pytest.mark.parametrize("width, height", SIZES)
def test_one_click_answers_the_ten_minute_elderly_question(app, width, height):
    base, _ = app
    with browser_page(width, height) as (page, external):
        open_page(page, f"{base}/coverage?scope={HONGSHAN}")
        page.get_by_test_id("stButton").get_by_role("button", name="无居家养老服务站（10分钟）").click()
        wait_idle(page, 180_000)
        heading = _answer_rows(page)
        assert "步行 500 米内缺少所选站点的老旧小区" in heading and "（0 个" not in heading
        screenshot(page, f"i19_H4_coverage_{width}x{height}.png")
        assert not external


@pytest.mark.parametrize("width, height", SIZES)
def test_the_planner_and_the_plan_lag(app, width, height):
    base, _ = app
    with browser_page(width, height) as (page, _external):
        open_page(page, f"{base}/renovation")
        page.get_by_test_id("stButton").get_by_role("button", name="本年计划滞后").click()
        wait_idle(page, 180_000)
        assert page.get_by_text("其中尚未完工的小区").first.is_visible()
        screenshot(page, f"i19_H4_renovation_lag_{width}x{height}.png")
        page.get_by_text("改造计划", exact=True).first.click()
        page.get_by_text("受益户数最多").first.click()
        wait_idle(page, 180_000)
        page.get_by_text("批次规模分布").first.wait_for()  # the batch is solved again for the objective
        wait_idle(page, 180_000)
        assert page.get_by_text("受益户数之和最大").first.is_visible()
        screenshot(page, f"i19_H4_planner_{width}x{height}.png")


@pytest.mark.parametrize("width, height", SIZES)
def test_the_overview_link_opens_the_overdue_cases(app, width, height):
    base, _ = app
    with browser_page(width, height) as (page, _external):
        open_page(page, f"{base}/")
        page.get_by_role("link", name="超期未结案件").first.click()
        wait_idle(page, 180_000)
        assert "/disputes" in page.url and "q=" not in page.url
        assert page.get_by_text("超期未结案件：").first.is_visible()
        screenshot(page, f"i19_H4_disputes_overdue_{width}x{height}.png")
