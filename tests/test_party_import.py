"""Import and export of the 党建引领 records: party organisations, volunteer teams, consultation days and community
resources (tables without geometry), on SQLite and PostGIS.

Each layer imports from its own Excel template filled in, and from a messy office workbook (merged title, other
headers, names instead of codes, a 合计 row and notes under the table) and its GBK CSV twin; bad rows are refused
with the row, the field and a Chinese reason, and nothing is written; an export imports again as a no-op; a
community account imports only inside its community; the 数据管理 page offers the four layers and imports one.
"""
from __future__ import annotations

import io
import sqlite3
from datetime import UTC, date, datetime

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from openpyxl import Workbook, load_workbook
from sqlalchemy import delete, func, select
from streamlit.testing.v1 import AppTest

from data import schema
from data.accounts import get_account
from data.exchange import export_filename, export_layer, template_xlsx
from data.ingest import commit_import, import_log, preview_import
from data.store import data_version, engine_for, read_table, write_frames
from geo.access import Account, system_operator
from geo.errors import DataValidationError, GuloError, PermissionDenied
from geo.ingest_fields import LAYER_LABELS, RECORD_LAYERS, template_columns
from geo.ingest_problems import ROW
from geo.scope import Scope
from geo.vocab import DisputeCategory, DisputeSource, DisputeStatus, Role
from tests.demo_accounts import clear_forced_change
from tests.ingest_helpers import checksum, tiny_store

TODAY = date(2026, 11, 29)
JUNMEN, ANTAI, GUANGLU = "350102004001", "350102004002", "350102005001"
OP = system_operator("测试")

# ---------------------------------------------------------------- the rows offices send (template headers)

ROWS: dict[str, list[dict]] = {
    "party_orgs": [
        {"组织名称": "军门社区党委", "组织层级": "社区党组织", "组织类型": "党委", "所属社区": "军门社区", "书记": "王五",
         "党员人数": "120人", "成立日期": "2001/7/1"},
        {"组织名称": "军门社区第二网格党支部", "组织层级": "网格党组织", "组织类型": "党支部", "所属社区": JUNMEN,
         "所属网格": f"{JUNMEN}002", "党员人数": 18},
        {"组织名称": "军门新村联合党支部", "组织层级": "小区党组织", "组织类型": "党支部", "设置方式": "联合设置",
         "所属社区": "军门社区", "覆盖小区": "军门新村1、军门新村2", "党员人数": 30, "成立日期": "2022-03-01"},
        {"组织名称": "军门新村3号楼党小组", "组织层级": "楼栋党小组", "组织类型": "党小组", "所属社区": "军门",
         "覆盖小区": f"{JUNMEN}C003", "楼栋": "3号楼", "党员人数": 5},
    ],
    "volunteer_teams": [
        {"队伍名称": "军门社区党员先锋志愿服务队", "队伍类型": "党员先锋", "所属社区": "军门社区", "人数": "35人",
         "成立日期": "2019年5月4日"},
        {"队伍名称": "安泰夕阳红为老服务队", "队伍类型": "为老服务队", "所属社区": "安泰社区", "人数": 20},
        {"队伍名称": "光禄坊平安巡防队", "队伍类型": "平安巡防", "所属社区": GUANGLU, "人数": "１２"},
    ],
    "consultation_days": [
        {"日期": "2026-09-12", "所属社区": "军门社区", "参加人数": "45人", "收集问题数": 6, "已解决问题数": 5,
         "主要议题": "楼道堆物清理", "关联案件编号": "JF2600001"},
        {"日期": "2026年10月10日", "所属社区": "军门社区", "参加人数": 38, "收集问题数": "4件", "已解决问题数": 4},
        {"日期": "2026/10/17", "所属社区": "安泰社区", "参加人数": 30, "收集问题数": 3, "已解决问题数": 1,
         "主要议题": "加装电梯"},
    ],
    "community_resources": [
        {"所属社区": "军门社区", "年度": 2026, "工作经费（万元）": "65万元", "办公服务用房面积（平方米）": "620㎡",
         "社区工作者人数": 12, "准入事项数": 20, "示范社区": "市级示范"},
        {"所属社区": "安泰社区", "年度": "2026年", "工作经费（万元）": 42, "办公服务用房面积（平方米）": "480平方米",
         "社区工作者人数": "9人", "准入事项数": 18, "示范社区": "否"},
        {"所属社区": GUANGLU, "年度": 2026, "工作经费（万元）": 55.5, "办公服务用房面积（平方米）": 510,
         "社区工作者人数": 10, "准入事项数": 17},
    ],
}
"""Per layer, the rows with the template's headers: names instead of codes, units, full-width digits, date styles."""

EXPECTED: dict[str, dict[str, dict]] = {
    "party_orgs": {
        f"{JUNMEN}P001": {"level": "community", "kind": "committee", "setup": "single", "grid_code": None,
                          "compound_codes": None, "members": 120, "founded_on": date(2001, 7, 1), "secretary": "王五"},
        f"{JUNMEN}P002": {"level": "grid", "grid_code": f"{JUNMEN}002", "members": 18},
        f"{JUNMEN}P003": {"level": "compound", "setup": "joint", "compound_codes": f"{JUNMEN}C001,{JUNMEN}C002",
                          "grid_code": f"{JUNMEN}001", "street_code": "350102004000"},
        f"{JUNMEN}P004": {"level": "building", "kind": "group", "compound_codes": f"{JUNMEN}C003", "building": "3号楼",
                          "grid_code": f"{JUNMEN}001"},
    },
    "volunteer_teams": {
        f"{JUNMEN}V001": {"kind": "party_vanguard", "members": 35, "founded_on": date(2019, 5, 4)},
        f"{ANTAI}V001": {"kind": "elderly", "members": 20, "community_code": ANTAI},
        f"{GUANGLU}V001": {"kind": "safety", "members": 12, "street_code": "350102005000"},
    },
    "consultation_days": {
        f"{JUNMEN}K2609": {"held_on": date(2026, 9, 12), "attendance": 45, "issues_raised": 6, "issues_resolved": 5,
                           "dispute_codes": "JF2600001"},
        f"{JUNMEN}K2610": {"held_on": date(2026, 10, 10), "issues_raised": 4, "topics": None, "dispute_codes": None},
        f"{ANTAI}K2610": {"issues_resolved": 1, "topics": "加装电梯", "street_code": "350102004000"},
    },
    "community_resources": {
        JUNMEN: {"funds_wan": 65.0, "space_m2": 620.0, "staff": 12, "volunteer_model": "municipal", "year": 2026},
        ANTAI: {"funds_wan": 42.0, "space_m2": 480.0, "staff": 9, "volunteer_model": None, "year": 2026},
        GUANGLU: {"funds_wan": 55.5, "access_tasks": 17, "volunteer_model": None, "street_code": "350102005000"},
    },
}
"""Per layer, stored key -> the values the rows above must be stored as."""


def party_store(url: str):
    """The tiny district (军门新村1..3 in 军门社区's grid 001) plus one stored case, JF2600001."""
    engine = tiny_store(url)
    case = gpd.GeoDataFrame([{
        "code": "JF2600001", "category": DisputeCategory.NEIGHBOUR.value, "source": DisputeSource.PATROL.value,
        "status": DisputeStatus.RECEIVED.value, "reported_on": date(2026, 9, 1), "street_code": "350102004000",
        "community_code": JUNMEN, "grid_code": f"{JUNMEN}001", "address": "东街1号", "version": 1,
        "geometry": shapely.Point(119.2915, 26.0815)}], crs="EPSG:4326")
    write_frames(engine, {"disputes": case}, actor="测试", action="sample")
    return engine


def stored(engine, layer: str) -> pd.DataFrame:
    key = "community_code" if layer == "community_resources" else "code"
    return read_table(engine, layer).set_index(key)


def plain(value):
    """A stored value as the EXPECTED tables write it (None for missing, dates as date, whole floats as int)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    return value


def assert_stored_as_expected(engine, layer: str) -> None:
    table = stored(engine, layer)
    assert sorted(table.index) == sorted(EXPECTED[layer]), table.index.tolist()
    for key, values in EXPECTED[layer].items():
        got = {column: plain(table.at[key, column]) for column in values}
        assert got == values, key


def count(engine, layer: str) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(schema.RECORD_TABLES[layer])).scalar()


# ---------------------------------------------------------------- files


def filled_template(layer: str, rows: list[dict]) -> bytes:
    """The layer's own Excel template with its example row replaced by ``rows`` (under the template's headers)."""
    book = load_workbook(io.BytesIO(template_xlsx(layer)))
    sheet = book.worksheets[0]
    headers = [c.value for c in sheet[1]]
    assert set().union(*rows) <= set(headers), set().union(*rows) - set(headers)
    sheet.delete_rows(2, sheet.max_row)
    for row in rows:
        sheet.append([row.get(h) for h in headers])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


OFFICE_HEADERS = {
    "party_orgs": {"组织名称": "党组织名称", "组织层级": "层级", "组织类型": "组织形式", "所属社区": "社区名称",
                   "所属网格": "网格", "覆盖小区": "覆盖小区名称", "楼栋": "楼号", "书记": "书记姓名", "党员人数": "党员数",
                   "设置方式": "组建方式", "成立日期": "成立时间"},
    "volunteer_teams": {"队伍名称": "志愿服务队名称", "队伍类型": "服务类型", "所属社区": "社区名称", "人数": "队员人数",
                        "成立日期": "成立时间"},
    "consultation_days": {"日期": "恳谈日期", "所属社区": "社区名称", "参加人数": "参会人数", "收集问题数": "收集问题",
                          "已解决问题数": "已解决", "主要议题": "议题", "关联案件编号": "关联案件"},
    "community_resources": {"所属社区": "社区名称", "年度": "年份", "工作经费（万元）": "年度工作经费(万元)",
                            "办公服务用房面积（平方米）": "办公和服务用房面积(㎡)", "社区工作者人数": "社区工作者",
                            "准入事项数": "社区准入事项数", "示范社区": "志愿服务示范社区"},
}
"""The headers an office ledger uses instead of the template's."""


def office_rows(layer: str) -> tuple[list[str], list[list]]:
    """(header, records) of an office ledger of ``layer``: 序号 first, the office's headers, community names."""
    header = ["序号", *OFFICE_HEADERS[layer].values()]
    records = []
    for i, row in enumerate(ROWS[layer], start=1):
        cells = {OFFICE_HEADERS[layer][k]: v for k, v in row.items()}
        community = cells.get("社区名称")
        cells["社区名称"] = {JUNMEN: "军门社区", GUANGLU: "光禄坊社区", "军门": "军门社区"}.get(community, community)
        records.append([i, *(cells.get(h) for h in header[1:])])
    return header, records


def messy_xlsx(layer: str) -> bytes:
    """A ledger as offices keep it: a merged title, a blank row, the table, a 合计 row and notes under it."""
    header, records = office_rows(layer)
    book = Workbook()
    sheet = book.active
    sheet.title = "台账"
    sheet.append([f"东街街道{LAYER_LABELS[layer]}台账（2026年）"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    sheet.append([])
    sheet.append(header)
    for record in records:
        sheet.append(record)
    sheet.append(["合计", f"{len(records)}条"])
    sheet.append([])
    sheet.append(["填表人：张三", None, "审核人：李四"])
    sheet.append(["说明：本表由各社区填报，街道汇总。"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def gbk_csv(layer: str) -> bytes:
    """The same ledger saved by Excel as a GBK CSV: a title line, the table, 合计 and a signature line."""
    header, records = office_rows(layer)
    table = pd.DataFrame(records, columns=header)
    text = f"东街街道{LAYER_LABELS[layer]}台账\n" + table.to_csv(index=False) + "合计,,\n填表人：张三,,\n"
    return text.encode("gbk")


def preview(engine, data: bytes, layer: str, filename: str):
    return preview_import(engine, data, layer, filename, today=TODAY)


# ---------------------------------------------------------------- the template, filled in


@pytest.mark.parametrize("layer", RECORD_LAYERS)
def test_a_filled_template_imports_in_one_audited_transaction(db_url, layer):
    engine = party_store(db_url)
    version = data_version(engine)
    p = preview(engine, filled_template(layer, ROWS[layer]), layer, f"{LAYER_LABELS[layer]}_导入模板.xlsx")
    assert p.ok, p.problems
    assert (p.inserts, p.updates, len(p.unchanged)) == (len(ROWS[layer]), 0, 0)
    assert "无坐标" in p.summary and "坐标系" not in p.summary
    result = commit_import(engine, p, OP)
    assert (result.inserted, result.updated) == (len(ROWS[layer]), 0)
    assert_stored_as_expected(engine, layer)
    assert data_version(engine) > version  # every cached figure is rebuilt
    entry = import_log(engine).iloc[0]
    assert (entry["table_name"], entry["actor"], int(entry["id"])) == (layer, "测试", result.audit_id)


def test_each_template_lists_its_columns_with_notes_and_no_coordinates():
    for layer in RECORD_LAYERS:
        data, notes = pd.read_excel(io.BytesIO(template_xlsx(layer)), sheet_name=None).values()
        labels = [s.label for s in template_columns(layer)]
        assert list(data.columns) == labels and list(notes["列名"]) == labels
        assert not {"经度", "纬度", "几何(WKT)"} & set(labels)
    notes = pd.read_excel(io.BytesIO(template_xlsx("party_orgs")), sheet_name="填写说明").set_index("列名")
    assert "顿号" in notes.at["覆盖小区", "填写说明"] and "楼栋党小组" in notes.at["楼栋", "填写说明"]
    assert "省级示范、市级示范" in pd.read_excel(io.BytesIO(template_xlsx("stations")), sheet_name="填写说明") \
        .set_index("列名").at["示范级别", "填写说明"]


# ---------------------------------------------------------------- messy office files


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@pytest.mark.parametrize("layer", RECORD_LAYERS)
def test_a_messy_office_ledger_imports_with_names_and_skips_totals_and_notes(sqlite_url, layer, fmt):
    engine = party_store(sqlite_url)
    data = messy_xlsx(layer) if fmt == "xlsx" else gbk_csv(layer)
    p = preview(engine, data, layer, f"东街{LAYER_LABELS[layer]}台账.{fmt}")
    assert p.ok, p.problems
    assert len(p.frame) == len(ROWS[layer]) and p.inserts == len(ROWS[layer])
    if fmt == "csv":
        assert p.source.encoding in ("gb18030", "gbk")
    reasons = set(p.skipped["问题"])
    assert any("合计" in r for r in reasons), p.skipped
    assert any("说明" in r or "落款" in r for r in reasons), p.skipped
    assert "社区名称" in p.mapping and p.mapping["社区名称"] == "community_code"
    commit_import(engine, p, OP)
    assert_stored_as_expected(engine, layer)


# ---------------------------------------------------------------- bad rows


BAD: dict[str, tuple[list[dict], set[tuple[int, str, str]]]] = {
    "party_orgs": ([
        ROWS["party_orgs"][0],
        {**ROWS["party_orgs"][2], "覆盖小区": "军门新村1、不存在的小区"},
        {**ROWS["party_orgs"][3], "覆盖小区": "军门新村1、军门新村2"},
        {**ROWS["party_orgs"][2], "组织名称": "单个联合支部", "覆盖小区": "军门新村1"},
        {**ROWS["party_orgs"][1], "组织名称": "负数支部", "党员人数": -3},
        {**ROWS["party_orgs"][0], "组织名称": "未来党委", "成立日期": "2027-01-01"},
        {**ROWS["party_orgs"][2], "组织名称": "越界支部", "所属社区": "安泰社区", "覆盖小区": f"{JUNMEN}C001、{JUNMEN}C002"},
        {**ROWS["party_orgs"][3], "组织名称": "无楼栋党小组", "楼栋": None},
    ], {(3, "覆盖小区", "没有名为“不存在的小区”的小区"), (4, "覆盖小区", "只填一个小区"), (5, "覆盖小区", "至少两个小区"),
        (6, "党员人数", "不能为负数"), (7, "成立日期", "不能晚于今天"), (8, "覆盖小区", "属于军门社区，不在安泰社区"),
        (9, "楼栋", "须填楼栋")}),
    "volunteer_teams": ([
        {**ROWS["volunteer_teams"][0], "所属社区": "不存在社区"},
        {**ROWS["volunteer_teams"][1], "队伍类型": "跳广场舞"},
        {**ROWS["volunteer_teams"][2], "人数": None},
        {**ROWS["volunteer_teams"][2], "队伍名称": "另一支队", "人数": "-5"},
    ], {(2, "所属社区", "社区不存在"), (3, "队伍类型", "不是有效的队伍类型"), (4, "人数", "必填"),
        (5, "人数", "不能为负数")}),
    "consultation_days": ([
        {**ROWS["consultation_days"][0], "已解决问题数": 9},
        {**ROWS["consultation_days"][1], "关联案件编号": "JF2699999"},
        {**ROWS["consultation_days"][2], "日期": "2026-12-20"},
        {**ROWS["consultation_days"][1], "日期": "2026-10-24"},
    ], {(2, "已解决问题数", "不能多于收集问题数"), (3, "关联案件编号", "案件编号“JF2699999”不存在"),
        (4, "日期", "不能晚于今天"), (5, "日期", "与第 3 行是同一社区同一月份的恳谈日")}),
    "community_resources": ([
        ROWS["community_resources"][0],
        {**ROWS["community_resources"][1], "工作经费（万元）": "很多"},
        {**ROWS["community_resources"][2], "办公服务用房面积（平方米）": -10, "示范社区": "国家级示范"},
        {**ROWS["community_resources"][0], "社区工作者人数": 14},
    ], {(3, "工作经费（万元）", "应为数字"), (4, "办公服务用房面积（平方米）", "不能为负数"),
        (4, "示范社区", "不是有效的示范级别"), (5, "所属社区", "与第 2 行是同一社区")}),
}
"""Per layer: rows (Excel row 2 onwards) and the (row, field, part of the reason) each bad one must give."""


@pytest.mark.parametrize("layer", RECORD_LAYERS)
def test_bad_rows_are_refused_with_row_field_and_reason_and_nothing_is_written(db_url, layer):
    engine = party_store(db_url)
    rows, expected = BAD[layer]
    before, rows_before = checksum(engine), count(engine, layer)
    p = preview(engine, filled_template(layer, rows), layer, "有错.xlsx")
    assert not p.ok
    found = {(int(r), f, why) for r, f, why in zip(p.problems["行号"], p.problems["字段"], p.problems["问题"])}
    for row, field, part in expected:
        assert any(r == row and f == field and part in why for r, f, why in found), (row, field, part, found)
    assert {r for r, _, _ in found} == {r for r, _, _ in expected}  # the good rows are not blamed
    assert "未写入任何数据" in p.summary
    with pytest.raises(DataValidationError):
        commit_import(engine, p, OP)
    assert count(engine, layer) == rows_before == 0 and checksum(engine) == before


def test_a_record_layer_export_cannot_be_geojson():
    with pytest.raises(GuloError, match="没有地图位置"):
        export_layer(None, "party_orgs", fmt="geojson")  # refused before the database is touched


# ---------------------------------------------------------------- codes: months, sequences


def test_a_second_day_in_the_same_month_updates_that_month_instead_of_adding_one(sqlite_url):
    engine = party_store(sqlite_url)
    commit_import(engine, preview(engine, filled_template("consultation_days", ROWS["consultation_days"]),
                                  "consultation_days", "a.xlsx"), OP)
    again = [{"日期": "2026-10-24", "所属社区": "军门社区", "参加人数": 50, "收集问题数": 5, "已解决问题数": 2}]
    p = preview(engine, filled_template("consultation_days", again), "consultation_days", "b.xlsx")
    assert p.ok and (p.inserts, p.updates, p.matched) == (0, 1, 1), p.problems
    commit_import(engine, p, OP)
    row = stored(engine, "consultation_days").loc[f"{JUNMEN}K2610"]
    assert count(engine, "consultation_days") == 3
    assert (plain(row["held_on"]), row["attendance"], row["issues_raised"], row["version"]) == (date(2026, 10, 24), 50, 5, 2)


def test_a_party_code_is_never_reused_after_its_organisation_is_gone(sqlite_url):
    engine = party_store(sqlite_url)
    first = [ROWS["party_orgs"][0]]
    commit_import(engine, preview(engine, filled_template("party_orgs", first), "party_orgs", "a.xlsx"), OP)
    with engine.begin() as conn:
        conn.execute(delete(schema.party_orgs))
    p = preview(engine, filled_template("party_orgs", [{**first[0], "组织名称": "军门社区新党委"}]), "party_orgs", "b.xlsx")
    assert p.ok and p.new_codes == 1
    commit_import(engine, p, OP)
    assert list(stored(engine, "party_orgs").index) == [f"{JUNMEN}P002"]


# ---------------------------------------------------------------- export and round trip


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_an_export_with_names_beside_codes_imports_again_as_a_no_op(db_url, fmt):
    engine = party_store(db_url)
    for layer in RECORD_LAYERS:
        commit_import(engine, preview(engine, filled_template(layer, ROWS[layer]), layer, "a.xlsx"), OP)
    tables = {layer: read_table(engine, layer) for layer in RECORD_LAYERS}
    for layer in RECORD_LAYERS:
        data = export_layer(engine, layer, Scope(), fmt)
        table = (pd.read_excel(io.BytesIO(data), dtype=str) if fmt == "xlsx"
                 else pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str))
        assert len(table) == len(ROWS[layer])
        names = dict(zip(table["所属社区"], table["所属社区名称"]))
        assert names[JUNMEN] == "军门社区" and set(table["所属街道名称"]) >= {"东街街道"}
        p = preview(engine, data, layer, export_filename(layer, fmt=fmt))
        assert p.ok, p.problems
        assert (p.inserts, p.updates, len(p.unchanged)) == (0, 0, len(ROWS[layer])), layer
        assert not {"所属社区名称", "所属街道名称", "覆盖小区名称"} & set(p.mapping)
        commit_import(engine, p, OP)
        pd.testing.assert_frame_equal(read_table(engine, layer), tables[layer])  # versions included


def test_the_party_export_names_the_covered_compounds(sqlite_url):
    engine = party_store(sqlite_url)
    commit_import(engine, preview(engine, filled_template("party_orgs", ROWS["party_orgs"]), "party_orgs", "a.xlsx"), OP)
    table = pd.read_excel(io.BytesIO(export_layer(engine, "party_orgs", Scope(JUNMEN), "xlsx")), dtype=str)
    row = table.set_index("组织名称").loc["军门新村联合党支部"]
    assert (row["覆盖小区"], row["覆盖小区名称"]) == (f"{JUNMEN}C001,{JUNMEN}C002", "军门新村1、军门新村2")
    assert list(table.columns[:3]) == ["组织编码", "组织名称", "组织层级"] and row["党员人数"] == "30"
    assert export_filename("party_orgs", Scope(JUNMEN), "xlsx") == f"党组织_{JUNMEN}.xlsx"


@pytest.mark.parametrize("layer", [*RECORD_LAYERS, "stations"])
def test_the_sample_exports_and_imports_again_unchanged(filled_sample_db, layer):
    engine = engine_for(filled_sample_db)
    data = export_layer(engine, layer, Scope("350102004000"), "xlsx")
    table = pd.read_excel(io.BytesIO(data))
    p = preview_import(engine, data, layer, "样例.xlsx")
    assert p.ok, p.problems.head(10)
    assert p.inserts == 0 and len(table) > 0
    if layer == "stations":
        assert table["示范级别"].notna().any() and set(table["示范级别"].dropna()) <= {"省级示范", "市级示范"}
    else:
        assert (p.updates, len(p.unchanged)) == (0, len(table))


def test_the_command_line_writes_templates_exports_and_imports_the_records(sqlite_url, tmp_path, monkeypatch, capsys):
    from data.cli import main

    engine = party_store(sqlite_url)
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    template = tmp_path / "模板.xlsx"
    assert main(["template", "consultation_days", "-o", str(template)]) == 0
    assert list(pd.read_excel(template).columns)[:3] == ["恳谈日编号", "日期", "所属社区"]
    bad, good = tmp_path / "bad.xlsx", tmp_path / "good.xlsx"
    bad.write_bytes(filled_template("consultation_days", BAD["consultation_days"][0]))
    good.write_bytes(filled_template("consultation_days", ROWS["consultation_days"]))
    assert main(["import", "consultation_days", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "第 2 行｜已解决问题数（值：9）：已解决问题数不能多于收集问题数（6）" in out and "未写入任何数据" in out
    assert count(engine, "consultation_days") == 0
    assert main(["import", "consultation_days", str(good), "--who", "王五"]) == 0
    assert "已导入：新增 3 条，更新 0 条" in capsys.readouterr().out
    exported = tmp_path / "out.xlsx"
    assert main(["export", "consultation_days", "--scope", JUNMEN, "-o", str(exported)]) == 0  # xlsx by default
    assert sorted(pd.read_excel(exported, dtype=str)["恳谈日编号"]) == [f"{JUNMEN}K2609", f"{JUNMEN}K2610"]
    assert main(["export", "consultation_days", "--format", "gpkg", "-o", str(tmp_path / "x.gpkg")]) == 2
    assert "只能导出为 xlsx、csv" in capsys.readouterr().err


# ---------------------------------------------------------------- access


def test_a_community_account_imports_only_inside_its_community(db_url, monkeypatch):
    from argon2 import PasswordHasher, profiles

    from data import accounts
    from data.accounts import authenticate, create_account

    monkeypatch.setattr(accounts, "HASHER", PasswordHasher.from_parameters(profiles.CHEAPEST))
    engine = party_store(db_url)
    create_account(engine, OP, "junmen", Role.COMMUNITY, JUNMEN, "Test-pass-2026")
    junmen: Account = authenticate(engine, "junmen", "Test-pass-2026", "192.0.2.10")
    teams = ROWS["volunteer_teams"]
    before = checksum(engine)
    with pytest.raises(PermissionDenied):
        commit_import(engine, preview(engine, filled_template("volunteer_teams", teams), "volunteer_teams", "a.xlsx"), junmen)
    assert count(engine, "volunteer_teams") == 0 and checksum(engine) != before  # only the refusal was audited
    commit_import(engine, preview(engine, filled_template("volunteer_teams", teams[:1]), "volunteer_teams", "b.xlsx"), junmen)
    assert list(stored(engine, "volunteer_teams").index) == [f"{JUNMEN}V001"]


# ---------------------------------------------------------------- the 数据管理 page


def _data_admin_page():
    from dashboard.pages import data_admin

    data_admin.render()


@pytest.fixture
def sample_url(filled_sample_db, tmp_path, monkeypatch) -> str:
    target = tmp_path / "app.db"
    with sqlite3.connect(filled_sample_db.removeprefix("sqlite:///")) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    url = f"sqlite:///{target}"
    clear_forced_change(url)
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def _page(url: str, state: dict) -> AppTest:
    at = AppTest.from_function(_data_admin_page, default_timeout=120)
    at.session_state["auth_account"] = get_account(engine_for(url), "junmen")
    at.session_state["auth_login_at"] = datetime.now(UTC)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_the_data_page_offers_the_four_layers_and_imports_teams_without_a_map(sample_url):
    from dashboard.data_admin.import_view import UPLOAD_KEY

    engine = engine_for(sample_url)
    teams = [{"队伍名称": "军门社区测试巡防队", "队伍类型": "平安巡防", "所属社区": "军门社区", "人数": 16},
             {"队伍名称": "军门社区测试环境队", "队伍类型": "环境卫生", "所属社区": JUNMEN, "人数": "9人"}]
    before = stored(engine, "volunteer_teams")
    at = _page(sample_url, {"da_view": "导入", "imp_layer": "volunteer_teams",
                            UPLOAD_KEY: ("志愿服务队.xlsx", filled_template("volunteer_teams", teams))})
    layer_box = at.selectbox(key="imp_layer")
    assert {LAYER_LABELS[k] for k in RECORD_LAYERS} <= set(layer_box.options)
    assert not [s for s in at.selectbox if s.key == "imp_crs"]  # no coordinate system to choose
    assert {m.label: m.value for m in at.metric}["新增"] == "2"
    records = next(df.value for df in at.dataframe if "导入结果" in df.value.columns)
    assert list(records["导入结果"]) == ["新增", "新增"] and list(records["队伍名称"]) == [t["队伍名称"] for t in teams]
    assert list(records["人数"]) == [16, 9]
    at.button(key="imp_confirm").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert any("导入完成：新增 2 条" in str(s.value) for s in at.success)
    after = stored(engine, "volunteer_teams")
    assert len(after) == len(before) + 2
    assert set(after.loc[after["name"].isin([t["队伍名称"] for t in teams]), "community_code"]) == {JUNMEN}


def test_the_data_page_exports_a_record_layer_as_excel_or_csv_only(sample_url):
    at = _page(sample_url, {"da_view": "导出", "exp_layer": "consultation_days"})
    fmt = at.selectbox(key="exp_format_table")
    assert fmt.options == ["Excel（.xlsx）", "CSV（Excel 可打开）"]
    assert not [w for w in (*at.radio, *at.selectbox) if w.key == "exp_crs"]
    rows = len(read_table(engine_for(sample_url), "consultation_days"))
    assert any(f"居民恳谈日 {rows} 条" in str(c.value) for c in at.caption)


def test_the_record_preview_marks_rows_equal_to_the_store(sqlite_url):
    from dashboard.data_admin.importing import record_preview

    engine = party_store(sqlite_url)
    commit_import(engine, preview(engine, filled_template("community_resources", ROWS["community_resources"]),
                                  "community_resources", "a.xlsx"), OP)
    changed = [{**ROWS["community_resources"][0], "工作经费（万元）": 70}, *ROWS["community_resources"][1:],
               {"所属社区": "不存在社区", "年度": 2026}]
    table = record_preview(preview(engine, filled_template("community_resources", changed), "community_resources", "b.xlsx"))
    assert list(table["导入结果"]) == ["更新", "与库中相同", "与库中相同", "有问题"]
    assert "社区不存在" in table["问题"].iloc[3] and table["问题"].iloc[0] == ""
    assert ROW not in table and table["工作经费（万元）"].iloc[0] == 70


# ---------------------------------------------------------------- in a real browser


@pytest.mark.parametrize("size", [(1366, 768), (390, 844)], ids=["1366x768", "390x844"])
def test_a_party_ledger_is_previewed_as_a_table_in_the_browser(tmp_path, size):
    """军门社区's party organisations (one naming a compound the community lacks) uploaded as the junmen account:
    a table of every record in place of the map, the problem with its row, and 确认导入 held back."""
    from data.store import read_layer
    from tests.browser import browser_app, browser_page, log_in, screenshot, wait_idle

    with browser_app(tmp_path) as (url, db_url), browser_page(*size) as (page, external):
        page.goto(url + "/data", wait_until="domcontentloaded")
        page.get_by_role("heading", name="鼓楼区 · 数据管理").wait_for(timeout=90_000)  # the sample is in
        names = list(read_layer(engine_for(db_url), "compounds", Scope(JUNMEN))["name"][:3])
        rows = [{"组织名称": "军门社区测试联合党支部", "组织层级": "小区党组织", "组织类型": "党支部",
                 "设置方式": "联合设置", "所属社区": "军门社区", "覆盖小区": "、".join(names[:2]), "书记": "林一",
                 "党员人数": 21},
                {"组织名称": "军门社区测试楼栋党小组", "组织层级": "楼栋党小组", "组织类型": "党小组",
                 "所属社区": "军门社区", "覆盖小区": names[2], "楼栋": "2号楼", "党员人数": 6},
                {"组织名称": "军门社区测试党支部", "组织层级": "小区党组织", "组织类型": "党支部", "所属社区": "军门社区",
                 "覆盖小区": "不存在的小区", "党员人数": 9}]
        ledger = tmp_path / "军门社区党组织.xlsx"
        ledger.write_bytes(filled_template("party_orgs", rows))
        if size[0] < 600:
            page.get_by_test_id("stExpandSidebarButton").click()
        log_in(page, db_url, "junmen")
        if size[0] < 600:
            page.get_by_test_id("stSidebarCollapseButton").click()
        choose_option(page, "导入到图层", "党组织")
        wait_idle(page)
        page.locator("input[type='file']").set_input_files(str(ledger))
        page.get_by_text("记录预览（3 条").first.wait_for(timeout=60_000)
        wait_idle(page)
        assert page.get_by_text("问题清单（共 1 个").first.is_visible()  # the unknown compound, blamed once
        assert not page.locator("iframe[title='streamlit_folium.st_folium']").count()
        assert page.get_by_role("button", name="确认导入").is_disabled()
        assert not page.locator("[data-testid='stException']").count()
        heading = page.get_by_test_id("stMarkdown").filter(has_text="记录预览").first
        heading.evaluate("e => { e.style.scrollMarginTop = '72px'; e.scrollIntoView({block: 'start'}); }")
        page.mouse.move(1, 1)
        page.wait_for_timeout(500)
        shot = screenshot(page, f"party_import_preview-{size[0]}x{size[1]}.png")
        assert shot.stat().st_size > 30_000 and external == []


def choose_option(page, box_text: str, option: str, tries: int = 3) -> None:
    """Pick ``option`` in the select box showing ``box_text``: typed to filter the list (a long list is drawn only
    in part), opened again when a rerun (after logging in, after the sidebar folds) closed it."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    from tests.browser import wait_idle

    item = page.get_by_role("option", name=option, exact=True)
    for attempt in range(tries):
        wait_idle(page)
        page.get_by_test_id("stSelectbox").filter(has_text=box_text).click()
        page.keyboard.type(option)
        try:
            item.wait_for(timeout=10_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            if attempt == tries - 1:
                raise
    item.click()

