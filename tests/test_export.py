"""Excel export: Chinese headers, typed cells, formula neutralisation, sanitised sheet names."""
from __future__ import annotations

from datetime import UTC, date, datetime
from io import BytesIO

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from shapely.geometry import Point

from data.export import cell_value, safe_text, sheet_title, to_xlsx
from geo.errors import GuloError


def pipeline() -> pd.DataFrame:
    return pd.DataFrame({
        "小区编码": ["350102004001C001", "350102004001C002", "350102004001C003"],
        "小区名称": ["军门新村", '=HYPERLINK("http://x")', "-1+2"],
        "户数": np.array([240, 96, 310], dtype="int64"),
        "预算（万元）": [185.5, np.nan, 0.0],
        "有物业": [False, True, False],
        "计划年度": pd.array([2027, None, 2026], dtype="Int64"),
        "完工日期": pd.to_datetime(["2025-10-01", None, "2024-06-30"]),
        "备注": ["@SUM(A1)", "\tcmd", None],
    })


def workbook(sheets):
    return load_workbook(BytesIO(to_xlsx(sheets)))


def test_workbook_opens_with_chinese_headers_bold_and_frozen():
    wb = workbook({"改造清单": pipeline()})
    ws = wb["改造清单"]
    headers = [c.value for c in ws[1]]
    assert headers == ["小区编码", "小区名称", "户数", "预算（万元）", "有物业", "计划年度", "完工日期", "备注"]
    assert all(c.font.b for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.max_row == 4
    assert ws.column_dimensions["B"].width > ws.column_dimensions["C"].width


def test_numbers_stay_numbers_and_codes_stay_text():
    ws = workbook({"表": pipeline()})["表"]
    households = [ws.cell(r, 3) for r in range(2, 5)]
    assert [c.value for c in households] == [240, 96, 310]
    assert all(c.data_type == "n" and type(c.value) is int for c in households)
    assert ws["D2"].value == 185.5 and ws["D2"].data_type == "n" and ws["D3"].value is None
    assert ws["F2"].value == 2027 and ws["F2"].data_type == "n" and ws["F3"].value is None
    assert ws["A2"].value == "350102004001C001" and ws["A2"].data_type == "s"


def test_dates_are_dates_and_booleans_read_yes_no():
    ws = workbook({"表": pipeline()})["表"]
    assert ws["G2"].is_date and ws["G2"].value.date() == date(2025, 10, 1)
    assert "h" not in ws["G2"].number_format  # a date, not a date-time
    assert ws["G3"].value is None
    assert [ws.cell(r, 5).value for r in range(2, 5)] == ["否", "是", "否"]


@pytest.mark.parametrize("cell, original", [
    ("B3", '=HYPERLINK("http://x")'),
    ("B4", "-1+2"),
    ("H2", "@SUM(A1)"),
    ("H3", "\tcmd"),
])
def test_formula_like_text_is_stored_as_text(cell, original):
    ws = workbook({"表": pipeline()})["表"]
    assert ws[cell].data_type == "s"
    assert ws[cell].value == "'" + original
    assert not ws[cell].value.startswith(("=", "+", "-", "@"))


def test_formula_like_header_and_sheet_name_are_neutralised_too():
    wb = workbook({"=cmd": pd.DataFrame({"=A1": ["x"], "+B1": [1]})})
    ws = wb.worksheets[0]
    assert ws.title == "=cmd"  # sheet names are not evaluated
    assert [c.value for c in ws[1]] == ["'=A1", "'+B1"] and all(c.data_type == "s" for c in ws[1])


@pytest.mark.parametrize("name, expected", [
    ("改造清单", "改造清单"),
    ("a[b]:c*d?e/f\\g", "a_b__c_d_e_f_g"),
    ("x" * 40, "x" * 31),
    ("'引号'", "引号"),
    ("", "表"),
    ("///", "___"),
])
def test_sheet_title(name, expected):
    assert sheet_title(name) == expected


def test_sheet_names_are_sanitised_and_unique_in_the_workbook():
    long = "东街街道2027年老旧小区改造计划建议批次（按优先级评分排序）"
    wb = workbook({long: pipeline(), long + "副本": pipeline(), "a/b": pipeline(), "A_B": pipeline()})
    titles = wb.sheetnames
    assert titles[0] == long[:31] and all(len(t) <= 31 for t in titles)
    assert titles[1] == long[:28] + "(2)"
    assert titles[2:] == ["a_b", "A_B(2)"]
    assert not any(ch in t for t in titles for ch in "[]:*?/\\")


def test_one_sheet_per_table_in_order_with_the_same_rows():
    batch = pd.DataFrame({"小区名称": ["甲", "乙"], "预算（万元）": [10.0, 20.5]})
    wb = workbook({"建议批次": batch, "改造清单": pipeline()})
    assert wb.sheetnames == ["建议批次", "改造清单"]
    rows = list(wb["建议批次"].iter_rows(min_row=2, values_only=True))
    assert rows == [("甲", 10.0), ("乙", 20.5)]


def test_empty_table_gives_header_only_and_no_tables_is_an_error():
    ws = workbook({"空": pd.DataFrame(columns=["小区名称", "户数"])})["空"]
    assert [c.value for c in ws[1]] == ["小区名称", "户数"] and ws.max_row == 1
    with pytest.raises(GuloError, match="没有可导出的表格"):
        to_xlsx({})


def test_geometry_is_left_out_and_aware_times_are_beijing_time():
    gdf = gpd.GeoDataFrame({"名称": ["甲"], "时间": [pd.Timestamp("2026-11-01 02:30", tz="UTC")]},
                           geometry=[Point(119.3, 26.08)], crs="EPSG:4326")
    ws = workbook({"图层": gdf})["图层"]
    assert [c.value for c in ws[1]] == ["名称", "时间"]
    assert ws["B2"].value == datetime(2026, 11, 1, 10, 30)


@pytest.mark.parametrize("value, expected", [
    (None, None), (np.nan, None), (pd.NaT, None), (pd.NA, None),
    (True, "是"), (np.bool_(False), "否"), (np.int64(3), 3), (np.float32(1.5), 1.5),
    (date(2026, 1, 2), date(2026, 1, 2)), (datetime(2026, 1, 2, 3, 4, tzinfo=UTC), datetime(2026, 1, 2, 11, 4)),
    ("普通文字", "普通文字"), ("=1+1", "'=1+1"), ("a\x00b", "ab"), (float("inf"), "inf"),
])
def test_cell_value(value, expected):
    assert cell_value(value) == expected


def test_safe_text_caps_length():
    assert len(safe_text("字" * 40_000)) == 32_767
