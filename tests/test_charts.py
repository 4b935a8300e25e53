"""Stacked bar charts as plain Vega-Lite: every category and series shown, Chinese titles, the page's charts use it."""
from __future__ import annotations

import json

import pandas as pd

from dashboard.charts import SERIES, VALUE, X, bar_spec, long_frame

WIDE = pd.DataFrame({"已完工": [3, 0, 1], "施工中": [0, 2, 0]}, index=pd.Index([2024, 2025, "未定"], name="计划年度"))


def test_the_long_frame_holds_every_cell_once():
    long = long_frame(WIDE)
    assert len(long) == 6 and list(long.columns) == [X, SERIES, VALUE]
    assert long.set_index([X, SERIES])[VALUE].to_dict() == {
        ("2024", "已完工"): 3, ("2025", "已完工"): 0, ("未定", "已完工"): 1,
        ("2024", "施工中"): 0, ("2025", "施工中"): 2, ("未定", "施工中"): 0}


def test_the_spec_keeps_order_colours_and_chinese_titles():
    spec = bar_spec(WIDE, ["#43a047", "#fb8c00", "#000000"], "计划年度", "小区数", "改造状态", 200)
    enc = spec["encoding"]
    assert enc["x"]["sort"] == ["2024", "2025", "未定"] and enc["x"]["axis"]["labelOverlap"] is False
    assert enc["color"]["scale"] == {"domain": ["已完工", "施工中"], "range": ["#43a047", "#fb8c00"]}
    assert [t["title"] for t in enc["tooltip"]] == ["计划年度", "改造状态", "小区数"]
    assert enc["color"]["legend"]["labelLimit"] == 0 and spec["height"] == 200


def test_the_situation_page_draws_its_two_charts_with_chinese_tooltips(filled_sample_db, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", filled_sample_db)
    from bench.pages import open_page

    at = open_page("situation", "350102001000").run()
    assert not at.exception
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert len(specs) == 2
    titles = [[t["title"] for t in s["encoding"]["tooltip"]] for s in specs]
    assert titles == [["计划年度", "改造状态", "小区数"], ["月份", "类别", "件数"]]
    assert "value" not in json.dumps(specs, ensure_ascii=False).replace('"value"', "")
