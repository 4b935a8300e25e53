"""Sorting a sheet's rows: header, records, and the rows that are not records (each skipped with its reason)."""
from __future__ import annotations

import pytest

from geo.ingest_problems import Problem
from geo.ingest_rows import (
    NEW_HEADER_REASON,
    NOTE_REASON,
    REPEATED_HEADER_REASON,
    SUMS_REASON,
    TITLE_REASON,
    TOTAL_REASON,
    WHOLE_ROW,
    classify_rows,
    header_names,
    is_total_row,
)

HEADER = ["序号", "小区名称", "小区编码", "所属社区", "户数", "预算（万元）"]
BLANK = [None] * len(HEADER)


def _record(i: int, households=100, budget=50) -> list:
    return [i, f"小区{i}", f"C{i}", "军门社区", households, budget]


def _sheet(*body: list, title: bool = True) -> list[tuple[int, list]]:
    """A title row (row 1), the header (row 2) and ``body`` from row 3 on."""
    top = [["鼓楼区老旧小区改造台账", None, None, None, None, None]] if title else []
    return list(enumerate([*top, HEADER, *body], start=1))


def _reasons(result) -> dict[int, str]:
    return {p.row: p.reason for p in result.skipped}


def _record_rows(result) -> list[int]:
    return [row for row, _ in result.records]


def test_the_header_is_found_under_a_title_and_records_are_aligned_to_it():
    result = classify_rows(_sheet(_record(1), _record(2)), "compounds")
    assert (result.header_row, result.header) == (2, HEADER)
    assert result.records == [(3, _record(1)), (4, _record(2))]
    assert result.skipped == [] and result.notes == [] and result.overflow == []


def test_no_rows_give_an_empty_result():
    result = classify_rows([], "compounds")
    assert (result.header_row, result.header, result.records, result.skipped) == (None, [], [], [])


@pytest.mark.parametrize("label", ["合计", "合 计", "东街街道小计", "总计：", "汇总", "全区合计（户）", " 小　计 "])
def test_a_total_row_is_skipped_by_its_label(label):
    rows = _sheet(_record(1), _record(2), [label, None, None, None, 999, None], _record(3))
    result = classify_rows(rows, "compounds")
    assert _reasons(result) == {5: TOTAL_REASON}
    assert _record_rows(result) == [3, 4, 6]
    skipped = result.skipped[0]
    assert skipped == Problem(5, WHOLE_ROW, f"{label.strip()} 999", TOTAL_REASON)


@pytest.mark.parametrize("name", ["联合计量站宿舍", "合计", "小区合计"])
def test_a_total_word_inside_a_name_does_not_make_a_total_row(name):
    cells = [1, name, "C1", "军门社区", 100, 50]
    assert is_total_row(cells) == (name != "联合计量站宿舍")


def test_a_row_of_column_sums_without_text_is_skipped():
    rows = _sheet(_record(1, 120, 30.5), _record(2, 80, 19.5), [None, None, None, None, 200, 50.0], _record(3))
    result = classify_rows(rows, "compounds")
    assert _reasons(result) == {5: SUMS_REASON}
    assert _record_rows(result) == [3, 4, 6]


def test_sums_given_as_csv_text_are_recognised_too():
    rows = _sheet(_record(1, "120", "30.5"), _record(2, "80", "19.5"), [None, None, None, None, "200", "50"])
    assert _reasons(classify_rows(rows, "compounds")) == {5: SUMS_REASON}


@pytest.mark.parametrize("numbers", [[None, None, None, None, 201, 50], [None, None, None, None, 200, 49],
                                     [7, None, None, None, 200, 50]])
def test_a_row_of_numbers_that_are_not_the_sums_is_kept_as_a_record(numbers):
    rows = _sheet(_record(1, 120, 30), _record(2, 80, 20), numbers)
    result = classify_rows(rows, "compounds")
    assert result.skipped == []
    assert _record_rows(result) == [3, 4, 5]


def test_sums_after_a_labelled_subtotal_count_from_that_subtotal():
    rows = _sheet(_record(1, 100), _record(2, 100), ["东街街道小计", None, None, None, 200, 100],
                  _record(3, 10), _record(4, 20), [None, None, None, None, 30, 100])
    result = classify_rows(rows, "compounds")
    assert _reasons(result) == {5: TOTAL_REASON, 8: SUMS_REASON}


def test_one_record_above_is_not_enough_to_call_a_row_its_sum():
    rows = _sheet(_record(1, 100, 50), [None, None, None, None, 100, 50])
    assert _record_rows(classify_rows(rows, "compounds")) == [3, 4]


def test_blank_rows_inside_the_table_are_one_entry_per_run_and_trailing_ones_are_not_listed():
    rows = _sheet(_record(1), BLANK, _record(2), BLANK, [None, "  ", None, None, None, None], BLANK, _record(3),
                  BLANK, BLANK)
    result = classify_rows(rows, "compounds")
    assert [(p.row, p.reason) for p in result.skipped] == [(4, "空行（第 4 行），已跳过"), (6, "空行（第 6–8 行），已跳过")]
    assert all(p.field == WHOLE_ROW and p.value == "" for p in result.skipped)
    assert _record_rows(result) == [3, 5, 9]


def test_pre_numbered_empty_rows_count_as_blank():
    rows = _sheet(_record(1), [2, None, None, None, None, None], _record(3), [4] + [None] * 5, [5] + [None] * 5)
    result = classify_rows(rows, "compounds")
    assert _reasons(result) == {4: "空行（第 4 行），已跳过"}
    assert _record_rows(result) == [3, 5]


def test_a_repeated_header_after_a_page_break_is_skipped():
    rows = _sheet(_record(1), list(HEADER), _record(2), [" 序号", "小区名称 ", "小区编码", "所属社区", "户数", "预算(万元)"])
    result = classify_rows(rows, "compounds")
    assert _reasons(result) == {4: REPEATED_HEADER_REASON, 6: REPEATED_HEADER_REASON}
    assert result.records[1] == (5, _record(2))


@pytest.mark.parametrize("cells", [
    ["说明：本表由街道填报", None, None, None, None, None],
    ["注：户数以房产登记为准", None, None, None, None, None],
    ["注1:预算单位为万元", None, None, None, None, None],
    ["备注：", "见附件", None, None, None, None],
    ["填表人：张三", None, "审核人：李四", None, "联系电话：0591-12345678", None],
    [None, "制表人：王五", None, None, "制表日期：2026年11月", None],
    ["填报日期：2026-11-20", None, None, None, None, None],
    ["负责人：赵六", None, None, None, None, None],
    ["单位（盖章）：东街街道办事处", None, None, None, None, None],
    ["填 表 人：张三", None, None, None, None, None],
])
def test_notes_and_signatures_are_skipped(cells):
    result = classify_rows(_sheet(_record(1), cells, _record(2)), "compounds")
    assert _reasons(result) == {4: NOTE_REASON}
    assert _record_rows(result) == [3, 5]


def test_a_full_row_starting_with_a_note_word_is_still_a_record():
    cells = ["说明书厂宿舍", "C9", "军门社区", 100, 50, "x"]
    assert _record_rows(classify_rows(_sheet(_record(1), cells), "compounds")) == [3, 4]


def test_a_title_row_inside_the_body_is_skipped():
    rows = _sheet(_record(1), [None, "南街街道老旧小区台账", None, None, None, None], _record(2))
    result = classify_rows(rows, "compounds")
    assert _reasons(result) == {4: TITLE_REASON}
    assert result.skipped[0].value == "南街街道老旧小区台账"


def test_a_title_starts_a_new_section_for_the_sums_rule():
    rows = _sheet(_record(1, 100), _record(2, 100), ["南街街道", None, None, None, None, None],
                  _record(3, 10), _record(4, 20), [None, None, None, None, 30, 100])
    assert _reasons(classify_rows(rows, "compounds")) == {5: TITLE_REASON, 8: SUMS_REASON}


def test_a_second_table_with_another_column_order_is_read_under_its_own_header():
    second = ["小区编码", "户数", "小区名称", "所属社区", "序号", "建成年份"]  # no 预算, an extra 建成年份
    rows = _sheet(_record(1), BLANK, ["南街街道老旧小区台账", None, None, None, None, None], second,
                  ["C7", 70, "光禄坊小区", "光禄坊社区", 7, 1988], ["C8", 80, "南后街小区", "光禄坊社区", 8, 1990])
    result = classify_rows(rows, "compounds")
    assert result.header == HEADER
    assert result.records == [(3, _record(1)), (7, [7, "光禄坊小区", "C7", "光禄坊社区", 70, None]),
                              (8, [8, "南后街小区", "C8", "光禄坊社区", 80, None])]
    assert _reasons(result) == {4: "空行（第 4 行），已跳过", 5: TITLE_REASON, 6: NEW_HEADER_REASON}
    (note,) = result.notes
    assert "第 6 行起是另一张表" in note and "建成年份" in note and "预算（万元）" in note


def test_a_second_header_naming_fields_by_alias_is_matched_by_field():
    second = ["户数", "名称", "编码", "所属社区"]  # 名称/编码 are aliases of 小区名称/小区编码
    rows = _sheet(_record(1), BLANK, second, [70, "光禄坊小区", "C7", "光禄坊社区"], title=False)
    result = classify_rows(rows, "compounds")
    assert _reasons(result) == {3: "空行（第 3 行），已跳过", 4: NEW_HEADER_REASON}
    assert result.records[-1] == (5, [None, "光禄坊小区", "C7", "光禄坊社区", 70, None])
    unseparated = classify_rows(_sheet(_record(1), second, title=False), "compounds")
    assert unseparated.skipped == [] and _record_rows(unseparated) == [2, 3]  # tables must be separated


def test_a_row_naming_only_a_few_fields_is_not_taken_for_a_new_header():
    rows = _sheet(_record(1), BLANK, ["名称", "编码", "甲", "乙", "丙", "丁"], title=False)
    assert _record_rows(classify_rows(rows, "compounds")) == [2, 4]


def test_without_a_layer_the_same_names_in_another_order_still_start_a_new_table():
    a, b = ["甲", "乙", "丙"], ["丙", "甲", "乙"]
    rows = list(enumerate([a, [1, 2, 3], b, [30, 10, 20], a, [4, 5, 6]], start=1))
    result = classify_rows(rows)
    assert result.records == [(2, [1, 2, 3]), (4, [10, 20, 30]), (6, [4, 5, 6])]
    assert _reasons(result) == {3: NEW_HEADER_REASON, 5: REPEATED_HEADER_REASON}


def test_a_record_with_values_beyond_the_header_is_flagged():
    rows = _sheet(_record(1), [*_record(2), "多出来的"], [*_record(3), None, "  "])
    result = classify_rows(rows, "compounds")
    assert result.overflow == [4]
    assert result.records[1] == (4, _record(2))


def test_header_names_number_repeats_and_name_blank_cells():
    assert header_names(["户数", None, "户数", " ", "名称 "]) == ["户数", "列2", "户数(2)", "列4", "名称"]
