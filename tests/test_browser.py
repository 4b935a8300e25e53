"""The app in a real browser: Debian's Chromium through Playwright, with every non-loopback request blocked."""
from __future__ import annotations

import pytest

from layers.boundaries import COMMUNITY_COLOR
from layers.gaps import COLOR as GAP_COLOR
from tests.browser import (
    MAP_IFRAME,
    browser_app,
    browser_page,
    log_in,
    map_paths,
    screenshot,
    wait_idle,
)

_DBS: dict[str, str] = {}
CHOROPLETH_PATH = "path.leaflet-interactive[stroke='#ffffff'][fill-opacity='0.75']"


def app_url_db(url: str) -> str:
    """The database URL of the app running at ``url``."""
    return _DBS[url]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    with browser_app(tmp_path_factory.mktemp("browser")) as (url, db_url):
        _DBS[url] = db_url
        yield url


def test_district_map_draws_offline_with_all_communities(app_url):
    with browser_page(1600, 1000) as (page, external):
        page.goto(app_url + "/situation", wait_until="domcontentloaded")
        wait_idle(page)
        frame = map_paths(page, at_least=69 + 10, timeout_ms=90_000)
        wait_idle(page)
        shot = screenshot(page, "situation-district.png")
        paths = frame.locator("path.leaflet-interactive")
        assert frame.locator(f"path.leaflet-interactive[stroke='{COMMUNITY_COLOR}']").count() == 69
        assert frame.locator(CHOROPLETH_PATH).count() == 10  # the sub-districts, coloured by an indicator
        assert paths.count() >= 69 + 10
        assert external == [], f"requests to other hosts: {external[:5]}"
        assert page.get_by_text("鼓楼区社区治理态势图").first.is_visible()
        assert page.locator("[data-testid='stMetricValue']").filter(has_text="669,090").count() == 1
        assert not page.locator("[data-testid='stException']").count()
        assert shot.stat().st_size > 50_000


DONGJIE, JUNMEN = "350102004000", "350102004001"


def _click_unit(page, frame, polygon) -> None:
    """Click the map inside ``polygon`` (EPSG:4326) where the topmost element is a filled unit polygon."""
    from shapely import points

    page.mouse.move(1, 1)  # no hover highlight on the polygon we look for
    page.wait_for_timeout(300)
    box = page.locator(MAP_IFRAME).first.bounding_box()
    inner = polygon.buffer(-0.0004)
    minx, miny, maxx, maxy = inner.bounds
    grid = points([[x, y] for x in _steps(minx, maxx) for y in _steps(miny, maxy)])
    candidates = [inner.representative_point(), inner.centroid, *grid]
    for p in candidates:
        if not inner.contains(p):
            continue
        xy = frame.locator("body").evaluate(
            "(b, ll) => { const p = window.map_div.latLngToContainerPoint(ll);"
            " const el = document.elementFromPoint(p.x, p.y);"
            f" return el && el.matches(\"{CHOROPLETH_PATH}\") ? [p.x, p.y] : null; }}",
            [p.y, p.x])
        if xy:
            page.mouse.click(box["x"] + xy[0], box["y"] + xy[1])
            return
    raise AssertionError("no clickable spot found inside the unit")


def _steps(lo: float, hi: float, n: int = 7) -> list[float]:
    return [lo + (hi - lo) * (i + 0.5) / n for i in range(n)]


def _kpi(page, label: str) -> str:
    card = page.locator("[data-testid='stMetric']").filter(has=page.get_by_text(label, exact=True)).first
    return card.locator("[data-testid='stMetricValue']").inner_text()


def test_click_sub_district_then_community_drills_down(app_url):
    from data.store import engine_for, read_layer
    from geo.scope import Scope

    with browser_page(1600, 1400) as (page, external):  # tall enough to click the map without scrolling
        page.goto(app_url + "/situation", wait_until="domcontentloaded")
        wait_idle(page)
        frame = map_paths(page, at_least=79)
        db = engine_for(app_url_db(app_url))  # filled by the app's first run
        streets = read_layer(db, "streets")
        communities = read_layer(db, "communities", Scope(DONGJIE))
        grids = read_layer(db, "grids", Scope(JUNMEN))
        district_households = _kpi(page, "户数")
        _click_unit(page, frame, streets.set_index("code").geometry[DONGJIE])
        page.get_by_role("heading", name="东街街道").first.wait_for(timeout=30_000)
        wait_idle(page)
        frame = map_paths(page, at_least=len(communities))
        screenshot(page, "drill-1-dongjie.png")
        assert "scope=" + DONGJIE in page.url
        _click_unit(page, frame, communities.set_index("code").geometry[JUNMEN])
        page.get_by_role("heading", name="军门社区").first.wait_for(timeout=30_000)
        wait_idle(page)
        map_paths(page, at_least=len(grids))
        screenshot(page, "drill-2-junmen.png")
        assert "scope=" + JUNMEN in page.url
        crumbs = page.locator("[data-testid='stMain']").inner_text()
        assert "鼓楼区" in crumbs and "› 东街街道" in crumbs and "› 军门社区" in crumbs
        assert _kpi(page, "户数") == f"{int(grids['households'].sum()):,}" != district_households
        assert _kpi(page, "网格") == str(len(grids))
        page.locator("[data-testid='stSidebarNav']").get_by_text("老旧小区改造").click()
        page.get_by_role("heading", name="军门社区 · 老旧小区改造").wait_for(timeout=60_000)
        assert "scope=" + JUNMEN in page.url  # the scope follows the user to the other page
        assert external == []


def test_renovation_workspace_for_dongjie(app_url):
    from data.store import engine_for, read_layer
    from geo.scope import Scope

    compounds = read_layer(engine_for(app_url_db(app_url)), "compounds", Scope(DONGJIE))
    with browser_page(1600, 1400) as (page, external):
        page.goto(app_url + f"/renovation?scope={DONGJIE}", wait_until="domcontentloaded")
        page.get_by_role("heading", name="东街街道").first.wait_for(timeout=90_000)
        wait_idle(page)
        frame = map_paths(page, at_least=4)  # the 4 community outlines, and a pie per grid with compounds
        assert frame.locator("path.leaflet-interactive").count() >= 4
        assert frame.locator(".gl-pie").count() == compounds["grid_code"].nunique() > 10
        assert "按网格汇总" in frame.locator(".gl-legend").inner_text()
        screenshot(page, "renovation-dongjie-progress.png")
        page.get_by_text("改造计划", exact=True).first.click()
        page.get_by_text("建议改造小区").first.wait_for(timeout=60_000)
        wait_idle(page)
        screenshot(page, "renovation-dongjie-planner.png")
        assert page.get_by_text("下载 Excel").count() == 1
        assert not page.locator("[data-testid='stException']").count()
        assert external == []


def test_coverage_map_for_huada(app_url):
    huada = "350102007000"
    with browser_page(1600, 1400) as (page, external):
        page.goto(app_url + f"/coverage?scope={huada}", wait_until="domcontentloaded")
        page.get_by_role("heading", name="华大街道 · 网格与服务覆盖").wait_for(timeout=90_000)
        page.get_by_text("服务覆盖", exact=True).first.click()
        page.get_by_text("一老一少一普完备情况", exact=False).first.wait_for(timeout=60_000)
        wait_idle(page)
        frame = map_paths(page, at_least=9)  # the 9 communities of 华大街道 and the gaps
        gaps = frame.locator(f"path.leaflet-interactive[fill='{GAP_COLOR}']").count()
        screenshot(page, "coverage-huada.png")
        assert gaps > 0, "the sample leaves parts of 华大街道 beyond 300 m of an elderly-care station"
        assert not page.locator("[data-testid='stException']").count()
        assert external == []


@pytest.mark.parametrize("scope, name", [("", "鼓楼区"), (JUNMEN, "军门社区")])
def test_disputes_page_for_district_and_community(app_url, scope, name):
    with browser_page(1600, 1400) as (page, external):
        page.goto(app_url + "/disputes" + (f"?scope={scope}" if scope else ""), wait_until="domcontentloaded")
        page.get_by_role("heading", name=f"{name} · 矛盾纠纷").wait_for(timeout=90_000)
        wait_idle(page)
        map_paths(page, at_least=1)
        screenshot(page, f"disputes-{scope or 'district'}.png")
        assert page.locator("[data-testid='stMetric']").filter(has_text="调解成功率").count() == 1
        assert not page.locator("[data-testid='stException']").count()
        assert external == []


def test_overview_is_the_landing_page(app_url):
    with browser_page(1600, 1000) as (page, external):
        page.goto(app_url, wait_until="domcontentloaded")
        page.get_by_role("heading", name="鼓楼区 · 总览").wait_for(timeout=90_000)
        wait_idle(page)
        frame = map_paths(page, at_least=69 + 10, timeout_ms=90_000)
        wait_idle(page)
        shot = screenshot(page, "overview-district.png")
        assert frame.locator(CHOROPLETH_PATH).count() == 10
        assert page.locator("[data-testid='stMetricValue']").filter(has_text="0/48 个小区").count() == 1
        main = page.locator("[data-testid='stMain']")
        assert main.get_by_text("预警事项").count() == 1 and main.get_by_text("下载简报 PDF").count() == 1
        link = page.locator("[data-testid='stPageLink'] a").filter(has_text="超期未结纠纷").first
        unit = link.inner_text().split("：")[0]
        assert link.get_attribute("href").startswith("disputes?scope=3501020")
        link.click()  # the alert opens the page and scope that explain it
        page.wait_for_url("**/disputes?scope=*", timeout=60_000)
        page.get_by_role("heading", name=unit).first.wait_for(timeout=60_000)
        assert external == [], f"requests to other hosts: {external[:5]}"
        assert not page.locator("[data-testid='stException']").count()
        assert shot.stat().st_size > 50_000


def test_big_screen_at_1920_by_1080_is_dark_and_rotates(app_url):
    with browser_page(1920, 1080) as (page, external):
        page.goto(app_url + "/?screen=big&rotate=6", wait_until="domcontentloaded")
        page.locator(".bs-title").wait_for(timeout=90_000)
        map_paths(page, at_least=69 + 10, timeout_ms=90_000)
        wait_idle(page)
        page.screenshot(path=str(screenshot(page, "bigscreen.png")))  # the wall: exactly 1920×1080
        background = page.evaluate("getComputedStyle(document.querySelector('.stApp')).backgroundColor")
        assert background == "rgb(7, 17, 31)"
        assert not page.locator("[data-testid='stSidebar']").is_visible()
        size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.bs-tile .v')).fontSize)")
        assert size >= 40
        first = page.locator(".bs-dots span.on").inner_text()
        page.wait_for_function(f"document.querySelector('.bs-dots span.on').innerText !== {first!r}",
                               timeout=30_000)
        assert page.locator(".bs-dots span.on").inner_text() != first
        assert external == [], f"requests to other hosts: {external[:5]}"
        assert not page.locator("[data-testid='stException']").count()


def test_data_management_import_in_the_browser(app_url, tmp_path):
    """Log in as 东街街道, upload a ledger with a bad row (report, nothing to confirm), then a clean one (imported)."""
    import io

    import pandas as pd

    from data.exchange import export_layer
    from data.store import engine_for
    from geo.scope import Scope

    engine = engine_for(app_url_db(app_url))
    with browser_page(1600, 1400) as (page, external):
        page.goto(app_url + "/data", wait_until="domcontentloaded")
        page.get_by_role("heading", name="鼓楼区 · 数据管理").wait_for(timeout=90_000)  # the sample is in
        table = pd.read_csv(io.BytesIO(export_layer(engine, "compounds", Scope(JUNMEN), "csv")),
                            encoding="utf-8-sig", dtype=str)
        table.loc[0, "小区名称"] = "浏览器导入测试小区"
        good, bad = tmp_path / "军门台账.csv", tmp_path / "军门台账-有错.csv"
        table.to_csv(good, index=False)
        table.assign(户数=["-5"] + list(table["户数"][1:])).to_csv(bad, index=False)
        log_in(page, app_url_db(app_url), "dongjie")
        page.locator("input[type='file']").set_input_files(str(bad))
        page.get_by_text("问题清单（共 1 个").wait_for(timeout=60_000)  # the report, before anything is written
        wait_idle(page)
        problems = page.locator("[data-testid='stMetric']").filter(has_text="问题")
        assert problems.locator("[data-testid='stMetricValue']").inner_text() == "1"
        assert page.get_by_role("button", name="确认导入").is_disabled()
        screenshot(page, "data-import-report.png")
        page.locator("input[type='file']").set_input_files(str(good))
        wait_idle(page)
        confirm = page.get_by_role("button", name="确认导入")
        confirm.wait_for(timeout=60_000)
        page.wait_for_function("(() => { const b = [...document.querySelectorAll('button')]"
                               ".find(b => b.innerText.includes('确认导入')); return b && !b.disabled; })()",
                               timeout=60_000)  # the clean file's preview is in
        confirm.click()
        page.get_by_text("导入完成").first.wait_for(timeout=60_000)
        screenshot(page, "data-import-done.png")
        assert external == []
    names = pd.read_csv(io.BytesIO(export_layer(engine, "compounds", Scope(JUNMEN), "csv")), encoding="utf-8-sig")
    assert "浏览器导入测试小区" in set(names["小区名称"])


def test_a_demo_account_changes_its_published_password_before_anything_else(app_url):
    """junmen logs in with the README's password: the page shows only the change form (no map, no figures)
    until the password is changed; then the situation page draws as usual."""
    from tests.demo_accounts import DEMO_PASSWORDS

    with browser_page(1600, 1000) as (page, external):
        page.goto(app_url + "/situation", wait_until="domcontentloaded")
        map_paths(page, at_least=69)  # the page is readable before the login
        page.get_by_text("登录（修改数据需登录）").click()
        page.get_by_label("用户名").fill("junmen")
        page.get_by_label("密码").fill(DEMO_PASSWORDS["junmen"])
        page.get_by_role("button", name="登录").click()
        page.get_by_role("heading", name="请先修改初始密码").wait_for(timeout=60_000)
        wait_idle(page)
        assert not page.locator(MAP_IFRAME).count() and not page.locator("[data-testid='stMetric']").count()
        screenshot(page, "password-change-forced.png")
        page.get_by_label("原密码", exact=True).fill(DEMO_PASSWORDS["junmen"])
        page.get_by_label("新密码", exact=True).fill("Sanfang-Qixiang#26")
        page.get_by_label("再次输入新密码", exact=True).fill("Sanfang-Qixiang#26")
        page.get_by_role("button", name="修改密码").click()
        page.get_by_text("密码已修改").first.wait_for(timeout=60_000)
        map_paths(page, at_least=69)  # the page works again
        assert not page.get_by_role("heading", name="请先修改初始密码").count()
        assert not page.locator("[data-testid='stException']").count() and external == []
