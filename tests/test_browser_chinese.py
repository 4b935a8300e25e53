"""Every text a person reads is Chinese (Chromium): a scan of each page's visible text for English words, and
Streamlit's own texts — the file uploader and the connection-lost dialog — rewritten by dashboard.chinese.

Tables (st.dataframe) draw on a canvas, outside innerText; their 「None」/「empty」 are checked through AppTest
in tests/test_tables.py.
"""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from dashboard.nav import PAGES
from tests.browser import app_server, browser_app, browser_page, have_cjk_font, log_in, screenshot, wait_idle

JUNMEN = "350102004001"
ALLOWED = {
    # file formats, systems and coordinate systems named to users
    "PDF", "Excel", "CSV", "GIS", "WGS84", "CGCS2000", "GCJ", "BD", "EPSG", "GeoJSON", "GeoPackage", "gpkg",
    "Shapefile", "shp", "zip", "xlsx", "xls", "xlsm", "txt", "json", "geojson", "cpg", "UTF", "GBK", "GB18030",
    # GIS software named to users (the GIS data pack opens styled in it)
    "QGIS", "ArcGIS",
    # units
    "km", "m", "MB", "KB", "kg", "h",
    # named things: the hotline 12345 carries no letters; phone / ID formats
    "ID",
}
"""ASCII words a page may show: formats, systems, units. Anything else is English a user should not read."""
_ALLOWED = {w.lower() for w in ALLOWED}
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_+.-]*")
CODE = re.compile(r"^[A-Z]{1,3}\d[\w-]*$|^\d")
"""Codes such as a grid code suffix or a version (A12, G3-1) are not words."""


def _known(word: str) -> bool:
    """A number, a code, a known name — or made of them (「GCJ-02」, a file name 「wgs84.geojson」)."""
    parts = re.split(r"[.-]", word)
    return all(p.lower() in _ALLOWED or CODE.match(p) or not p for p in parts) if len(parts) > 1 else \
        word.lower() in _ALLOWED or bool(CODE.match(word))


def english_words(text: str) -> list[str]:
    """The ASCII words in ``text`` that are not numbers, units, codes or known names (``ALLOWED``)."""
    words = (w.rstrip(".-+_") for w in WORD.findall(text))
    return sorted({w for w in words if w and not _known(w)})


@pytest.mark.parametrize(("text", "found"), [
    ("导出 PDF 与 Excel，坐标 WGS84（EPSG:4326），单个文件不超过 200MB", []),
    ("调解成功率 None", ["None"]), ("empty", ["empty"]), ("Drag and drop file here", ["Drag", "and", "drop", "file", "here"]),
    ("网格 G3-1，步行 500 m，nan", ["nan"]),
    ("下载 老旧小区_鼓楼区_wgs84.geojson（GCJ-02 文件请勿当作 WGS84 重新导入）", []),
    ("scipy MILP", ["MILP", "scipy"]), ("read.me", ["read.me"]),
])
def test_the_scan_finds_english_words_only(text, found):
    assert english_words(text) == found


ICONS = "[data-testid*='Icon'] { display: none !important; }"
"""Material icons are ligature words in the DOM (「expand_more」) that a person sees as a glyph: left out."""


def visible_text(page, where: tuple[str, ...] = ("[data-testid='stSidebar']", "[data-testid='stMain']")) -> str:
    """innerText of the elements ``where`` (default: the sidebar and the main area), icons left out."""
    return page.evaluate("""([css, where]) => {
        const style = document.createElement("style"); style.textContent = css; document.head.append(style);
        const text = where
            .map(sel => document.querySelector(sel)).filter(Boolean).map(el => el.innerText).join("\\n");
        style.remove(); return text; }""", [ICONS, list(where)])


def test_no_english_words_on_any_page(tmp_path):
    found: dict[str, list[str]] = {}
    with browser_app(tmp_path) as (base, _db), browser_page(1366, 768) as (page, external):
        for path, _title in PAGES:
            for scope in ("", JUNMEN):
                page.goto(f"{base}/{'' if path == 'overview' else path}" + (f"?scope={scope}" if scope else ""))
                page.get_by_text("鼓楼区社区治理态势图").first.wait_for(timeout=120_000)
                wait_idle(page)
                page.wait_for_timeout(1500)
                words = english_words(visible_text(page))
                if words:
                    found[f"{path}@{scope or 'district'}"] = words
        assert not external
    assert not found, found


VIEW_SWITCHES = ", ".join(f".st-key-{key} button" for key in ("reno_view", "cov_view", "case_view", "da_view"))
"""The buttons of a page's view switch (st.segmented_control keyed per page: 改造进度 / 改造计划 / 台账编辑 …)."""


def _views(page) -> list[str]:
    """The labels of the page's view switch, if it has one."""
    return [b.inner_text().strip() for b in page.locator(VIEW_SWITCHES).all()]


def _scan_views(page, where: str, found: dict[str, list[str]]) -> int:
    """Scan the page as it is, then each of its views (clicked in turn); returns how many were scanned. Account
    user names (admin, dongjie …: names the administrator gave, shown as 当前用户 and in the account list) are
    names, not English."""
    from tests.demo_accounts import DEMO_PASSWORDS

    scanned = 0
    for view in [None, *_views(page)[1:]]:
        if view:
            page.locator(VIEW_SWITCHES).filter(has_text=view).first.click()
            wait_idle(page)
            page.wait_for_timeout(1000)
        if words := [w for w in english_words(visible_text(page)) if w not in DEMO_PASSWORDS]:
            found[f"{where}/{view or 'default'}"] = words
        scanned += 1
    return scanned


@pytest.mark.parametrize("scope", ["", JUNMEN])
def test_no_english_words_on_any_page_or_view_for_the_district_admin(tmp_path, scope):
    """Logged in as admin (forms, editors, accounts, audit log appear), every page and each of its views."""
    found: dict[str, list[str]] = {}
    with browser_app(tmp_path) as (base, db), browser_page(1366, 768) as (page, external):
        page.goto(f"{base}/" + (f"?scope={scope}" if scope else ""))
        page.get_by_text("鼓楼区社区治理态势图").first.wait_for(timeout=120_000)
        wait_idle(page)
        log_in(page, db, "admin")  # the session keeps the login and the scope from page to page
        scanned = 0
        for path, title in PAGES:
            page.locator("[data-testid='stSidebarNav'] a").filter(has_text=title).first.click()
            page.wait_for_url(f"**/{'' if path == 'overview' else path}*", timeout=60_000)
            wait_idle(page)
            page.wait_for_timeout(1500)
            assert page.get_by_text("当前用户").first.is_visible()
            scanned += _scan_views(page, f"{path}@{scope or 'district'}", found)
        assert not external
    assert scanned >= len(PAGES) + 12  # the views of 改造, 覆盖, 案件 and 数据管理 were clicked through
    assert not found, found


def test_the_uploader_reads_chinese(tmp_path):
    with browser_app(tmp_path) as (base, db), browser_page(1366, 768) as (page, _):
        page.goto(f"{base}/data")
        page.get_by_text("鼓楼区社区治理态势图").first.wait_for(timeout=120_000)
        wait_idle(page)
        log_in(page, db, "admin")
        zone = page.locator("[data-testid='stFileUploaderDropzone']").first
        zone.wait_for(timeout=60_000)
        page.wait_for_timeout(500)
        text = visible_text(page, ("[data-testid='stFileUploader']",))
        assert "选择文件" in zone.locator("button").inner_text()
        assert "单个文件不超过 200MB" in text
        assert english_words(text) == [], text
        if have_cjk_font():
            for width, height in ((1366, 768), (1920, 1080), (390, 844)):
                page.set_viewport_size({"width": width, "height": height})
                page.wait_for_timeout(500)
                zone.scroll_into_view_if_needed()
                screenshot(page, f"i19_H2_uploader_{width}.png")


def test_the_connection_lost_dialog_reads_chinese(tmp_path):
    """Stop the server under an open page: Streamlit's dialog must say in Chinese that it reconnects."""
    from tests.browser import chromium_missing
    from tests.conftest import skip_or_fail

    why = chromium_missing()
    if why:
        skip_or_fail(why, "REQUIRE_BROWSER")
    db = Path(tmp_path) / "app.db"
    with browser_page(1366, 768) as (page, _):
        with app_server(f"sqlite:///{db}", Path(tmp_path)) as (base, _pid):
            page.goto(f"{base}/situation")
            page.get_by_text("鼓楼区社区治理态势图").first.wait_for(timeout=120_000)
            wait_idle(page)
        dialog = page.locator("[role='dialog']").first
        dialog.wait_for(timeout=60_000)
        deadline = time.monotonic() + 10
        while "连接中断" not in dialog.inner_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        text = dialog.inner_text()
        assert "连接中断" in text and "自动刷新" in text, text
        assert english_words(text) == [], text
        if have_cjk_font():
            for width, height in ((1366, 768), (1920, 1080), (390, 844)):
                page.set_viewport_size({"width": width, "height": height})
                page.wait_for_timeout(500)
                page.screenshot(path=str(Path(screenshot(page, "x.png")).with_name(f"i19_H2_connection_lost_{width}.png")))


def _refuse_connections(db_url: str) -> None:
    """The PostgreSQL database of ``db_url`` stops taking connections and loses the ones it has (a stopped database)."""
    from sqlalchemy import create_engine, text

    name = db_url.rsplit("/", 1)[1]
    admin = create_engine(db_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
    admin.dispose()


def _allow_connections(db_url: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(db_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{db_url.rsplit("/", 1)[1]}" ALLOW_CONNECTIONS true'))
    admin.dispose()


def test_a_download_that_fails_reads_chinese(tmp_path, postgis_url):
    """The database stops between showing the 导出 view and clicking its download: Streamlit's own 「Failed to
    generate file for download」 under the button must read as a Chinese sentence saying nothing was downloaded."""
    from tests.browser import chromium_missing
    from tests.conftest import skip_or_fail

    why = chromium_missing()
    if why:
        skip_or_fail(why, "REQUIRE_BROWSER")
    with app_server(postgis_url, Path(tmp_path)) as (base, _pid), browser_page(1366, 768) as (page, _):
        try:
            page.goto(f"{base}/data", wait_until="domcontentloaded")
            page.get_by_text("导出", exact=True).first.wait_for(timeout=240_000)
            page.get_by_text("导出", exact=True).first.click()
            button = page.locator("[data-testid='stDownloadButton']").first
            button.wait_for(timeout=60_000)
            wait_idle(page)
            _refuse_connections(postgis_url)
            button.locator("button").click()
            error = button.locator("[data-testid='stDownloadButtonError']")
            error.wait_for(timeout=120_000)
            text, deadline = "", time.monotonic() + 10
            while "文件生成失败" not in text and time.monotonic() < deadline:  # the script rewrites it at once
                text = next(iter(error.all_inner_texts()), text)
                time.sleep(0.2)
            assert "文件生成失败" in text and "未下载任何文件" in text, text
            assert english_words(text) == [], text
            screenshot(page, "download_failed_1366.png")
        finally:
            _allow_connections(postgis_url)  # so the fixture can drop it
