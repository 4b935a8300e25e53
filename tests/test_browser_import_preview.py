"""The import preview map in a real browser (Debian's Chromium through Playwright, other hosts blocked):
a district administrator uploads 军门社区's compounds shifted to GCJ-02 and sees, before anything is
written, the shift warning and every record drawn about 500 m from where the store has it.

The screenshot goes to ``$PREVIEW_SHOT`` (default: the test's tmp_path); the phone-sized one beside it
with ``-390x844`` added to its name.
"""
from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data.accounts import DEMO_ACCOUNTS
from geo.crs import wgs84_to_gcj02
from geo.vocab import ImportRowState, Role
from layers.import_preview import STORED_COLOR
from tests.browser import browser_app, browser_page, log_in, map_paths, wait_idle

JUNMEN = "350102004001"
DESKTOP = (1366, 768)
PHONE = (390, 844)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """(base URL, database URL) of the app on a fresh sample database."""
    with browser_app(tmp_path_factory.mktemp("browser-import")) as pair:
        yield pair


def shot_path(tmp_path: Path, size: tuple[int, int]) -> Path:
    """Where the screenshot at ``size`` goes: $PREVIEW_SHOT (or tmp_path/import_preview.png), suffixed off desktop."""
    base = Path(os.environ.get("PREVIEW_SHOT") or tmp_path / "import_preview.png")
    base.parent.mkdir(parents=True, exist_ok=True)
    return base if size == DESKTOP else base.with_name(f"{base.stem}-{size[0]}x{size[1]}{base.suffix}")


def gcj02_ledger(db_url: str, folder: Path) -> tuple[Path, int]:
    """军门社区's compounds as exported, every coordinate shifted to GCJ-02 (as if copied from Amap)."""
    from data.exchange import export_layer
    from data.store import engine_for
    from geo.scope import Scope

    table = pd.read_csv(io.BytesIO(export_layer(engine_for(db_url), "compounds", Scope(JUNMEN), "csv")),
                        encoding="utf-8-sig", dtype=str)
    lon, lat = wgs84_to_gcj02(table["经度"].astype(float).to_numpy(), table["纬度"].astype(float).to_numpy())
    table["经度"], table["纬度"] = np.round(lon, 7), np.round(lat, 7)
    path = folder / "军门小区-高德坐标.csv"
    table.to_csv(path, index=False)
    return path, len(table)


def log_in_as_district(page, db_url: str) -> None:
    log_in(page, db_url, next(a[0] for a in DEMO_ACCOUNTS if a[2] is Role.DISTRICT))


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["1366x768", "390x844"])
def test_a_gcj02_ledger_is_seen_shifted_on_the_preview_map(app, tmp_path, size):
    url, db_url = app
    with browser_page(*size) as (page, external):
        page.goto(url + "/data", wait_until="domcontentloaded")
        page.get_by_role("heading", name="鼓楼区 · 数据管理").wait_for(timeout=90_000)  # the sample is in
        ledger, n = gcj02_ledger(db_url, tmp_path)
        if size == PHONE:  # the sidebar starts folded away on a phone
            page.get_by_test_id("stExpandSidebarButton").click()
        log_in_as_district(page, db_url)
        if size == PHONE:
            page.get_by_test_id("stSidebarCollapseButton").click()
        page.locator("input[type='file']").set_input_files(str(ledger))
        page.get_by_text("地图预览").first.wait_for(timeout=60_000)
        wait_idle(page)
        frame = map_paths(page, at_least=69 + 3 * n, timeout_ms=90_000)

        updates = frame.locator(f"path.leaflet-interactive[fill='{ImportRowState.UPDATE.color}']")
        stored = frame.locator(f"path.leaflet-interactive[stroke='{STORED_COLOR}'][stroke-dasharray]")
        assert updates.count() == n  # every compound is an update, drawn in the update colour …
        assert stored.count() == n  # … with a dashed line from where the store has it
        warning = page.get_by_text("坐标整体偏移约").first
        assert warning.is_visible() and "GCJ02" in warning.inner_text()
        caption = page.get_by_text("地图：新增").first.inner_text()
        assert f"更新（蓝）{n} 条" in caption and f"{n} 条更新与库中位置相距超过 20 米" in caption
        assert page.get_by_role("button", name="确认导入").is_disabled()  # nothing can be written yet

        heading = page.get_by_test_id("stMarkdown").filter(has_text="地图预览").first
        heading.evaluate("e => { e.style.scrollMarginTop = '72px'; e.scrollIntoView({block: 'start'}); }")
        page.mouse.move(1, 1)
        page.wait_for_timeout(500)
        shot = shot_path(tmp_path, size)
        page.screenshot(path=str(shot))
        assert shot.stat().st_size > 30_000
        assert not page.locator("[data-testid='stException']").count()
        assert external == [], f"requests to other hosts: {external[:5]}"


def test_an_office_ledger_is_previewed_with_its_warnings_and_skipped_rows_and_imported(app, tmp_path):
    """军门社区's own ledger (no codes, merged title, 高德 coordinates, 合计 row, notes, two new compounds missing
    a date): the page lists the 提示 and the skipped rows, draws two new and the rest as updates, and writes it."""
    from tests.test_data_admin_page import office_ledger

    url, db_url = app
    with browser_page(1920, 1080) as (page, external):
        page.goto(url + "/data", wait_until="domcontentloaded")
        page.get_by_role("heading", name="鼓楼区 · 数据管理").wait_for(timeout=90_000)  # the sample is in
        data, truth = office_ledger(db_url)
        ledger = tmp_path / "军门社区台账.xlsx"
        ledger.write_bytes(data)
        log_in_as_district(page, db_url)
        page.locator("input[type='file']").set_input_files(str(ledger))
        page.get_by_text("地图预览").first.wait_for(timeout=60_000)
        wait_idle(page)
        frame = map_paths(page, at_least=69 + len(truth), timeout_ms=90_000)
        assert frame.locator(f"path.leaflet-interactive[fill='{ImportRowState.NEW.color}']").count() == 2
        assert frame.locator(f"path.leaflet-interactive[fill='{ImportRowState.UPDATE.color}']").count() == len(truth) - 2
        assert page.get_by_text("提示（不影响导入").first.is_visible()
        assert page.get_by_text("已跳过的非数据行").first.is_visible()
        confirm = page.get_by_role("button", name="确认导入")
        assert confirm.is_enabled()
        shot = shot_path(tmp_path, (1920, 1080))
        page.screenshot(path=str(shot.with_name("import_ledger.png")), full_page=True)
        confirm.click()
        page.get_by_text("导入完成：新增 2 条").first.wait_for(timeout=60_000)
        assert not page.locator("[data-testid='stException']").count()
        assert external == [], f"requests to other hosts: {external[:5]}"
