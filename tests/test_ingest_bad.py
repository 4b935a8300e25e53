"""Bad inputs: each gets a report naming its row and field, and the database is unchanged afterwards."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.ingest import commit_import, preview_import
from geo.access import system_operator
from geo.errors import DataValidationError
from tests.ingest_helpers import checksum, compound_row, csv_bytes, tiny_store

TODAY = date(2026, 11, 29)
BAD_SELF_INTERSECTING = "POLYGON ((119.291 26.081, 119.294 26.084, 119.294 26.081, 119.291 26.084, 119.291 26.081))"

# (label, layer, changes to the valid row, field the report must name)
COMPOUND_CASES = [
    ("blank name", {"小区名称": ""}, "小区名称"),
    ("blank code, same name as row 2", {"小区编码": ""}, "小区名称"),
    ("code too long", {"小区编码": "C" * 21}, "小区编码"),
    ("name too long", {"小区名称": "名" * 61}, "小区名称"),
    ("unknown community code", {"所属社区": "350102004999"}, "所属社区"),
    ("unknown community name", {"所属社区": "不存在社区"}, "所属社区"),
    ("community of another district", {"所属社区": "350103001001"}, "所属社区"),
    ("unknown grid", {"所属网格": "350102004002999"}, "所属网格"),
    ("grid of another community", {"所属网格": "350102004001001"}, "所属网格"),
    ("negative households", {"户数": -1}, "户数"),
    ("households text", {"户数": "很多"}, "户数"),
    ("households fraction", {"户数": 12.5}, "户数"),
    ("households blank", {"户数": ""}, "户数"),
    ("households huge", {"户数": 10_000_000}, "户数"),
    ("built year in the future", {"建成年份": 2030}, "建成年份"),
    ("built year too early", {"建成年份": 1800}, "建成年份"),
    ("built year text", {"建成年份": "八十年代"}, "建成年份"),
    ("unknown status", {"改造状态": "已拆除"}, "改造状态"),
    ("blank status", {"改造状态": ""}, "改造状态"),
    ("status number", {"改造状态": 3}, "改造状态"),
    ("unknown type", {"改造类型": "豪华类"}, "改造类型"),
    ("property yes/no", {"有无物业": "也许"}, "有无物业"),
    ("plan year out of range", {"计划年度": 2090}, "计划年度"),
    ("plan year text", {"计划年度": "明年"}, "计划年度"),
    ("negative budget", {"预算（万元）": -10}, "预算（万元）"),
    ("budget text", {"预算（万元）": "三百万"}, "预算（万元）"),
    ("budget infinite", {"预算（万元）": "inf"}, "预算（万元）"),
    ("start date garbage", {"开工日期": "昨天"}, "开工日期"),
    ("start date impossible", {"开工日期": "2026-02-30"}, "开工日期"),
    ("completed in the future", {"改造状态": "已完工", "开工日期": "2025-03-01", "完工日期": "2027-01-01"}, "完工日期"),
    ("completed before start", {"改造状态": "已完工", "开工日期": "2025-03-01", "完工日期": "2025-01-01"}, "完工日期"),
    ("completed before its plan year", {"改造状态": "已完工", "计划年度": 2026, "开工日期": "2025-03-01",
                                        "完工日期": "2025-10-01"}, "计划年度"),
    ("lon missing", {"经度": ""}, "经度"),
    ("lat missing", {"纬度": ""}, "经度"),
    ("lon text", {"经度": "东经一百一十九度"}, "经度"),
    ("lat text", {"纬度": "北纬二十六度"}, "纬度"),
    ("minutes of 60", {"纬度": "26°60′00″"}, "纬度"),
    ("lon/lat swapped", {"经度": 26.0825, "纬度": 119.2975}, "经度"),
    ("outside the district", {"经度": 119.40, "纬度": 26.10}, "经度"),
    ("far outside", {"经度": 118.0, "纬度": 24.5}, "经度"),
    ("just outside", {"经度": 119.3150, "纬度": 26.0825}, "经度"),
    ("lon infinite", {"经度": "inf"}, "经度"),
    ("lat nan", {"纬度": "nan"}, "经度"),
]

OTHER_CASES = [
    ("stations", {"站点编码": "S1", "站点名称": "养老站", "站点类型": "宠物店", "所属社区": "军门社区",
                  "经度": 119.2915, "纬度": 26.0818},
     "站点类型"),
    ("stations", {"站点编码": "S1", "站点名称": "", "站点类型": "居家养老服务站", "所属社区": "军门社区", "经度": 119.2915,
                  "纬度": 26.0818}, "站点名称"),
    ("stations", {"站点编码": "S1", "站点名称": "站", "站点类型": "居家养老服务站", "所属社区": "", "经度": 119.3300,
                  "纬度": 26.0818}, "所属社区"),  # no community, and the point lies in none to take it from
    ("stations", {"站点编码": "S1", "站点名称": "站", "站点类型": "养老照料中心", "所属社区": "军门社区", "星级": 6,
                  "经度": 119.2915,
                  "纬度": 26.0818}, "星级"),
    ("stations", {"站点编码": "S1", "站点名称": "站", "站点类型": "养老照料中心", "所属社区": "军门社区", "容量": -3,
                  "经度": 119.2915, "纬度": 26.0818}, "容量"),
    ("stations", {"站点编码": "S1", "站点名称": "站", "站点类型": "养老照料中心", "所属社区": "军门社区",
                  "开放时间": "全天" * 30, "经度": 119.2915, "纬度": 26.0818}, "开放时间"),
]


def _dispute(**changes) -> dict:
    row = {"案件编号": "JF1", "纠纷类别": "邻里纠纷", "来源": "来访", "办理状态": "受理", "受理日期": "2026-11-01",
           "办结日期": "", "所属网格": "350102004001001", "地址": "东街1号", "经度": 119.2915, "纬度": 26.0818}
    row.update(changes)
    return row


DISPUTE_CASES = [
    ({"纠纷类别": "打架"}, "纠纷类别"), ({"来源": "微博"}, "来源"), ({"办理状态": "已结束"}, "办理状态"),
    ({"受理日期": ""}, "受理日期"), ({"受理日期": "2027-01-01"}, "受理日期"), ({"受理日期": "11/01/2026"}, "受理日期"),
    ({"办理状态": "调解中", "办结日期": "2026-11-05"}, "办结日期"), ({"办结日期": "2026-11-05"}, "办结日期"),
    ({"办理状态": "调解成功", "办结日期": "2026-10-01"}, "办结日期"),
    ({"办理状态": "转办", "办结日期": "2027-01-01"}, "办结日期"),
    ({"所属网格": ""}, "所属网格"), ({"所属网格": "350102004001009"}, "所属网格"), ({"地址": ""}, "地址"),
    ({"所属小区编码": "C-NONE"}, "所属小区编码"), ({"所属社区": "350102005001"}, "所属网格"),
    ({"案件编号": ""}, "地址"), ({"经度": 119.5}, "经度"),
]

GRID_CASES = [
    ({"网格编码": "3501020040010"}, "网格编码"), ({"网格编码": "350102004009001"}, "网格编码"),
    ({"所属社区": "350102005001"}, "所属社区"), ({"户数": -500}, "户数"), ({"人口": "一千"}, "人口"),
    ({"网格名称": ""}, "网格名称"), ({"几何(WKT)": "POLYGON ((1 2, 3"}, "几何(WKT)"),
    ({"几何(WKT)": BAD_SELF_INTERSECTING}, "几何(WKT)"), ({"几何(WKT)": "POINT (119.292 26.082)"}, "几何(WKT)"),
    ({"几何(WKT)": ""}, "几何(WKT)"), ({"网格协管员人数": -1}, "网格协管员人数"),
    ({"几何(WKT)": "POLYGON ((119.5 26.5, 119.51 26.5, 119.51 26.51, 119.5 26.5))"}, "坐标系"),
]


def _grid(**changes) -> dict:
    row = {"网格编码": "350102004001003", "网格名称": "网格03", "户数": 480, "人口": 1200,
           "几何(WKT)": "POLYGON ((119.291 26.081, 119.292 26.081, 119.292 26.082, 119.291 26.082, 119.291 26.081))"}
    row.update(changes)
    return row


def _cases():
    for label, changes, field in COMPOUND_CASES:
        yield f"compound:{label}", "compounds", [compound_row(), compound_row(**{"小区编码": "OK2", **changes})], field
    for i, (layer, row, field) in enumerate(OTHER_CASES):
        yield f"station:{i}", layer, [row], field
    for i, (changes, field) in enumerate(DISPUTE_CASES):
        yield f"dispute:{i}", "disputes", [_dispute(案件编号="JF0"), _dispute(**{"案件编号": "JF1", **changes})], field
    for i, (changes, field) in enumerate(GRID_CASES):
        yield f"grid:{i}", "grids", [_grid(**changes)], field
    yield "duplicate code", "compounds", [compound_row(), compound_row()], "小区编码"
    yield "duplicate dispute", "disputes", [_dispute(), _dispute()], "案件编号"
    yield "missing column", "compounds", [{k: v for k, v in compound_row().items() if k != "户数"}], "户数"
    station = {"站点编码": "S", "站点名称": "站", "站点类型": "志愿服务站", "所属社区": "军门社区"}
    yield "no coordinates", "stations", [station], "几何"


CASES = list(_cases())


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    engine = tiny_store(f"sqlite:///{tmp_path_factory.mktemp('bad') / 'bad.db'}")
    return engine, checksum(engine)


def _expect_rejected(engine, before: str, layer: str, data: bytes, field: str, filename: str = "bad.csv"):
    preview = preview_import(engine, data, layer, filename, today=TODAY)
    report = preview.problems
    assert not preview.ok
    hits = report[report["字段"] == field]
    assert len(hits), f"no problem named {field}: {report.to_dict('records')}"
    assert all(r == "全表" or isinstance(r, int) and r >= 2 for r in hits["行号"])
    with pytest.raises(DataValidationError):
        commit_import(engine, preview, system_operator("测试"))
    assert checksum(engine) == before
    return hits


@pytest.mark.parametrize("name, layer, rows, field", CASES, ids=[c[0] for c in CASES])
def test_a_bad_row_is_reported_by_row_and_field_and_nothing_is_written(store, name, layer, rows, field):
    engine, before = store
    hits = _expect_rejected(engine, before, layer, csv_bytes(rows), field)
    if field not in ("坐标系", "几何") and name != "missing column":
        assert len(rows) + 1 in set(hits["行号"])  # the CSV line of the last row (line 1 is the header)


def test_there_are_at_least_a_hundred_bad_inputs():
    assert len(CASES) + 2 * 12 >= 100  # the two property tests below add 12 generated cases each


def test_a_mediation_that_ended_without_a_close_date_imports_as_awaiting_close_with_a_warning(store):
    """A 调解成功 case without 办结日期 is a case awaiting its 办结 step (open): the app's own export of one imports
    again; 严格模式 refuses it."""
    engine, before = store
    data = csv_bytes([_dispute(办理状态="调解成功")])
    preview = preview_import(engine, data, "disputes", "d.csv", today=TODAY)
    assert preview.ok and list(preview.warnings[["行号", "字段"]].itertuples(index=False, name=None)) == [(2, "办结日期")]
    assert "待办结" in preview.warnings["问题"].iloc[0]
    strict = preview_import(engine, data, "disputes", "d.csv", today=TODAY, strict=True)
    assert not strict.ok and list(strict.problems["字段"]) == ["办结日期"]
    assert checksum(engine) == before


def test_invalid_polygons_are_repaired_only_when_asked_and_each_repair_is_reported(store):
    engine, before = store
    data = csv_bytes([_grid(**{"几何(WKT)": BAD_SELF_INTERSECTING})])
    assert "自相交" in preview_import(engine, data, "grids", "g.csv", today=TODAY).problems.iloc[0]["问题"]
    fixed = preview_import(engine, data, "grids", "g.csv", repair=True, today=TODAY)
    assert fixed.ok and list(fixed.repairs["行号"]) == [2] and "make_valid" in fixed.repairs.iloc[0]["问题"]
    assert fixed.frame.geometry.iloc[0].is_valid
    assert checksum(engine) == before


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(households=st.one_of(st.integers(max_value=-1), st.text(alphabet="abc户数多少", min_size=1, max_size=5)),
       position=st.integers(min_value=0, max_value=4))
def test_generated_bad_households_anywhere_in_a_file(store, households, position):
    engine, before = store
    rows = [compound_row(小区编码=f"G{i}") for i in range(5)]
    rows[position]["户数"] = households
    hits = _expect_rejected(engine, before, "compounds", csv_bytes(rows), "户数")
    assert set(hits["行号"]) == {position + 2}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lon=st.floats(min_value=100, max_value=135), lat=st.floats(min_value=10, max_value=45))
def test_generated_points_outside_the_district(store, lon, lat):
    engine, before = store
    if 119.285 <= lon <= 119.315 and 26.075 <= lat <= 26.095:
        return  # inside (or within the tolerance of) the tiny district: not a bad input
    rows = [compound_row(小区编码="P1", 经度=lon, 纬度=lat), compound_row(小区编码="P2")]
    preview = preview_import(engine, csv_bytes(rows), "compounds", "p.csv", today=TODAY)
    report = preview.problems
    assert not preview.ok
    assert (report["行号"] == 2).any() or (report["字段"] == "坐标系").any()
    assert checksum(engine) == before


def test_a_bad_xlsx_row_is_reported_with_its_excel_row_number(store):
    import pandas as pd

    from tests.ingest_helpers import to_bytes

    engine, before = store
    frame = pd.DataFrame([compound_row(小区编码=f"X{i}") for i in range(3)])
    frame.loc[2, "改造状态"] = "拆了"
    hits = _expect_rejected(engine, before, "compounds", to_bytes(frame), "改造状态", "bad.xlsx")
    assert list(hits["行号"]) == [4]
