"""底图设置 on the 数据管理 page (账号 view, district role only): the configured basemaps by name and every problem
of the setting in Chinese — never an address, a token or a file path."""
from __future__ import annotations

import json

from tests.test_data_admin_page import cheap_hashes, db_url, open_page, sample_file, texts  # noqa: F401 - fixtures
from tests.tilegen import png_tile, write_mbtiles

TOKEN = "tk-PageSecret-77"


def _setting(tmp_path) -> str:
    path = write_mbtiles(tmp_path / "gulou.mbtiles", {(12, 3405, 1739): png_tile()},
                         {"name": "区自然资源局影像", "format": "png", "minzoom": "11", "maxzoom": "16"})
    return json.dumps([
        {"key": "gis", "mbtiles": str(path)},
        {"key": "tdt", "name": "政务外网天地图", "url": "http://10.9.8.7/vec/{z}/{x}/{y}.png?tk={token}",
         "token": TOKEN},
        {"key": "bad", "name": "写错的注记", "kind": "overlay", "url": "http://10.9.8.7/cva/{z}/{x}.png",
         "token": TOKEN},
    ], ensure_ascii=False)


def test_the_district_admin_sees_the_basemaps_and_each_problem_without_secrets(db_url, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("BASEMAPS", _setting(tmp_path))
    at = open_page("账号", "admin", url=db_url)
    (panel,) = [e for e in at.expander if e.label.startswith("底图设置")]
    assert panel.label == "底图设置：2 处问题"
    shown = texts(at)
    assert "**区自然资源局影像**：底图，本机 MBTiles 文件（由本系统提供瓦片），WGS84 坐标，11–16 级" in shown
    assert "**政务外网天地图**：底图，瓦片服务，WGS84 坐标，0–18 级" in shown
    errors = [str(e.value) for e in at.error]
    assert any("底图设置第 3 项（bad）的“url”缺少 \\{y\\} 或 \\{\\-y\\}" in e for e in errors), errors
    assert any("的“token”已填写，但网址中没有 \\{token\\}" in e for e in errors), errors
    for secret in (TOKEN, "10.9.8.7", str(tmp_path)):
        assert secret not in shown


def test_other_roles_and_an_unused_setting_show_no_basemap_panel(db_url, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("BASEMAPS", _setting(tmp_path))
    at = open_page("账号", "dongjie", url=db_url)
    assert not [e for e in at.expander if e.label.startswith("底图设置")]
    monkeypatch.delenv("BASEMAPS")
    at = open_page("账号", "admin", url=db_url)
    assert not [e for e in at.expander if e.label.startswith("底图设置")]
