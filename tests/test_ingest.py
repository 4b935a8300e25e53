"""Importing real-shaped office files: GBK shapefiles, Excel ledgers with titles, every coordinate system."""
from __future__ import annotations

import io
import json
import zipfile
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from openpyxl import Workbook

from data.exchange import export_layer, template_xlsx
from data.ingest import commit_import, import_log, preview_import
from data.store import read_layer
from geo.access import system_operator
from geo.crs import wgs84_to_bd09, wgs84_to_gcj02
from geo.errors import ConflictError, DataValidationError
from geo.ingest_fields import LAYER_FIELDS, merge_mapping
from geo.scope import Scope
from tests.ingest_helpers import checksum, compound_row, csv_bytes, tiny_store

TODAY = date(2026, 11, 29)
TRUTH = np.array([[119.2915, 26.0818], [119.2970, 26.0870], [119.3050, 26.0830], [119.2935, 26.0880],
                  [119.3080, 26.0860], [119.2960, 26.0812]])
"""WGS84 points inside the tiny district, one or more per community."""
GRIDS = ["350102004001001", "350102004002002", "350102005001001", "350102004001002", "350102005001002",
         "350102004002001"]


@pytest.fixture
def engine(sqlite_url):
    return tiny_store(sqlite_url)


def _metres(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    t = pyproj.Transformer.from_crs(4326, 32650, always_xy=True)
    ax, ay = t.transform(a[:, 0], a[:, 1])
    bx, by = t.transform(b[:, 0], b[:, 1])
    return np.hypot(ax - bx, ay - by)


def _station_rows(xy: np.ndarray, x="经度", y="纬度") -> list[dict]:
    return [{"站点编码": f"S{i:03d}", "站点名称": f"站点{i}", "站点类型": "居家养老服务站", "所属网格": GRIDS[i],
             x: float(px), y: float(py)} for i, (px, py) in enumerate(xy)]


def _points(preview) -> np.ndarray:
    return shapely.get_coordinates(preview.frame.geometry.values)


# ---------------------------------------------------------------- GBK shapefile without .cpg


def _gbk_shapefile_zip(tmp_path) -> bytes:
    grids = read_layer_frames()["grids"]
    grids["name"] = [f"军门社区第{i}网格（鼓楼）" for i in range(len(grids))]
    grids = grids.rename(columns={"code": "网格编码", "name": "网格名称", "households": "户数", "population": "人口"})
    path = tmp_path / "网格.shp"
    grids[["网格编码", "网格名称", "户数", "人口", "geometry"]].to_file(path, encoding="GBK")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    dbf = path.with_suffix(".dbf")
    raw = bytearray(dbf.read_bytes())
    raw[29] = 0  # no language driver id either: nothing in the file says GBK
    dbf.write_bytes(bytes(raw))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for part in tmp_path.glob("网格.*"):
            zf.write(part, f"网格数据/{part.name}")
    return buffer.getvalue()


def read_layer_frames():
    from tests.ingest_helpers import tiny_frames

    return tiny_frames()


def test_a_zipped_gbk_shapefile_without_cpg_imports_with_correct_chinese_names(engine, tmp_path):
    data = _gbk_shapefile_zip(tmp_path)
    assert b"\xbe\xfc\xc3\xc5" in zipfile.ZipFile(io.BytesIO(data)).read("网格数据/网格.dbf")  # 军门 in GBK
    preview = preview_import(engine, data, "grids", "网格.zip", today=TODAY)
    assert preview.ok, preview.problems
    assert preview.source.encoding == "GB18030"
    commit_import(engine, preview, system_operator("测试"))
    names = read_layer(engine, "grids").set_index("code")["name"]
    assert names["350102004001001"] == "军门社区第0网格（鼓楼）"
    assert names.str.startswith("军门社区第").all()


# ---------------------------------------------------------------- Excel ledger with a merged title row


def _ledger(bad_households: object = 150) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["鼓楼区老旧小区改造台账（2026年11月）"])
    ws.merge_cells("A1:H1")
    ws.append(["填报单位：东街街道", None, None, None, "填报日期：2026-11-20"])
    header = ["序号", "小区名称", "小区编码", "所属社区", "户数", "改造状态", "经度", "纬度"]
    ws.append(header)
    ws.append([1, "军门新村", "C-A1", "军门社区", 200, "未纳入计划", 119.2916, 26.0819])
    ws.append([2, "安泰里", "C-A2", "350102004002", bad_households, "已纳入计划", 119.2968, 26.0871])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def test_an_xlsx_with_a_merged_title_row_imports_and_reports_excel_row_numbers(engine):
    bad = preview_import(engine, _ledger(-5), "compounds", "台账.xlsx", today=TODAY)
    assert bad.source.header_row == 3
    report = bad.problems
    assert list(report[report["字段"] == "户数"][["行号", "问题"]].itertuples(index=False, name=None)) == [(5, "不能为负数")]
    assert set(report["行号"]) == {5}
    hints = bad.warnings  # 已纳入计划 wants a plan year: a warning for row 5, not a problem
    assert list(hints[["行号", "字段"]].itertuples(index=False, name=None)) == [(5, "计划年度")]
    mapping = merge_mapping(bad.source.columns, "compounds", {"序号": "-", "小区编码": "code"})
    assert mapping == bad.mapping and "序号" not in mapping


def test_an_xlsx_ledger_without_problems_is_written_with_names_resolved(engine):
    wb = Workbook()
    ws = wb.active
    ws.append(["鼓楼区老旧小区改造台账"])
    ws.merge_cells("A1:F1")
    ws.append(["小区名称", "小区编码", "所属社区", "户数", "改造状态", "经度", "纬度"])
    ws.append(["军门新村", "C-A1", "军门社区", 200, "未纳入计划", 119.2916, 26.0819])
    buffer = io.BytesIO()
    wb.save(buffer)
    preview = preview_import(engine, buffer.getvalue(), "compounds", "台账.xlsx", today=TODAY)
    assert preview.ok, preview.problems
    commit_import(engine, preview, system_operator("张三"))
    row = read_layer(engine, "compounds").set_index("code").loc["C-A1"]
    assert (row["name"], row["community_code"], row["street_code"]) == ("军门新村", "350102004001", "350102004000")


# ---------------------------------------------------------------- coordinate systems


def _projected(epsg: int) -> np.ndarray:
    t = pyproj.Transformer.from_crs(4326, epsg, always_xy=True)
    return np.column_stack(t.transform(TRUTH[:, 0], TRUTH[:, 1]))


@pytest.mark.parametrize("key, make", [
    ("gcj02", lambda: np.column_stack(wgs84_to_gcj02(TRUTH[:, 0], TRUTH[:, 1]))),
    ("bd09", lambda: np.column_stack(wgs84_to_bd09(TRUTH[:, 0], TRUTH[:, 1]))),
])
def test_shifted_chinese_coordinates_land_within_a_metre_of_the_truth(engine, key, make):
    data = csv_bytes(_station_rows(make()))
    preview = preview_import(engine, data, "stations", "站点.csv", crs=key, today=TODAY)
    assert preview.ok, preview.problems
    assert _metres(_points(preview), TRUTH).max() < 1.0
    raw = preview_import(engine, data, "stations", "站点.csv", today=TODAY)  # not told: the offset is found
    assert raw.prepared.shift is not None and raw.prepared.shift.key == key
    assert 400 < raw.prepared.shift.offset_m < 1500


@pytest.mark.parametrize("epsg, key", [(32650, "utm50n"), (4549, "gk3_120"), (4528, "gk3_40"), (4509, "gk_117"),
                                       (4548, "gk_117"), (4498, "gk6_20")])
def test_projected_metre_coordinates_are_recognised_and_converted(engine, epsg, key):
    data = csv_bytes(_station_rows(_projected(epsg), "X", "Y"))
    preview = preview_import(engine, data, "stations", "站点.csv", today=TODAY)
    assert preview.ok, preview.problems
    assert preview.prepared.crs_key == key
    assert _metres(_points(preview), TRUTH).max() < 0.5


def test_a_geopackage_declaring_its_gauss_kruger_crs_is_converted(engine, tmp_path):
    frame = gpd.GeoDataFrame(pd.DataFrame(_station_rows(TRUTH)).drop(columns=["经度", "纬度"]),
                             geometry=shapely.points(TRUTH), crs=4326).to_crs(4549)
    frame.to_file(tmp_path / "s.gpkg")
    preview = preview_import(engine, tmp_path / "s.gpkg", "stations", today=TODAY)
    assert preview.ok, preview.problems
    assert preview.prepared.crs_key == "gk3_120" and "声明" in preview.prepared.crs_note
    assert _metres(_points(preview), TRUTH).max() < 0.5


@pytest.mark.parametrize("shift, expected", [(wgs84_to_gcj02, "gcj02"), (wgs84_to_bd09, "bd09"), (None, None)])
def test_gcj02_or_bd09_declared_as_wgs84_is_detected(engine, tmp_path, shift, expected):
    xy = TRUTH if shift is None else np.column_stack(shift(TRUTH[:, 0], TRUTH[:, 1]))
    frame = gpd.GeoDataFrame(pd.DataFrame(_station_rows(xy)).drop(columns=["经度", "纬度"]),
                             geometry=shapely.points(xy), crs=4326)
    frame.to_file(tmp_path / "s.geojson")
    preview = preview_import(engine, tmp_path / "s.geojson", "stations", today=TODAY)
    file_level = preview.problems[preview.problems["字段"] == "坐标系"]
    if expected is None:
        assert preview.ok, preview.problems
    else:
        assert len(file_level) == 1 and file_level.iloc[0]["行号"] == "全表"
        assert f"“{expected}”" in file_level.iloc[0]["问题"]


def test_a_shift_is_also_found_against_stored_records_of_the_same_code(engine):
    rows = [compound_row(**{"小区编码": f"350102004001C00{i}", "小区名称": f"军门新村{i}", "所属社区": "350102004001",
                            "所属网格": "350102004001001", "改造状态": "未纳入计划", "计划年度": "", "预算（万元）": "",
                            "经度": 119.2915 + 0.001 * i, "纬度": 26.0815}) for i in (1, 2, 3)]
    for r in rows:
        r["经度"], r["纬度"] = (float(v) for v in wgs84_to_gcj02(r["经度"], r["纬度"]))
    preview = preview_import(engine, csv_bytes(rows), "compounds", "x.csv", today=TODAY)
    # three matched rows are below the five needed: the grid test decides, and the shifted points left their grid
    assert preview.prepared.shift is None or preview.prepared.shift.key == "gcj02"
    fixed = preview_import(engine, csv_bytes(rows), "compounds", "x.csv", crs="gcj02", today=TODAY)
    assert fixed.ok and fixed.updates == 3 and fixed.inserts == 0


# ---------------------------------------------------------------- detection accuracy on the sample district


@pytest.fixture(scope="module")
def sample():
    from data.sample import build_sample

    return build_sample()


def test_the_shift_check_finds_gcj02_in_small_files_and_never_flags_true_wgs84(sample):
    from geo.crs import to_gcj02
    from geo.ingest import Reference, prepare

    ref = Reference.from_frames({k: sample[k] for k in ("streets", "communities", "grids")}, "stations", TODAY)
    rng = np.random.default_rng(8)
    found = flagged = 0
    trials = 20
    for _ in range(trials):
        pick = sample["stations"].iloc[rng.choice(len(sample["stations"]), 8, replace=False)]
        for frame, shifted in ((pick, False), (to_gcj02(pick), True)):
            table = pd.DataFrame({"站点编码": frame["code"], "站点名称": frame["name"], "站点类型": frame["kind"],
                                  "所属网格": frame["grid_code"], "经度": frame.geometry.x, "纬度": frame.geometry.y,
                                  "_row": range(2, 10)})
            result = prepare(table, "stations", ref)
            hit = result.shift is not None and result.shift.key == "gcj02"
            found += hit and shifted
            flagged += hit and not shifted
    assert found == trials and flagged == 0


# ---------------------------------------------------------------- writing, on both backends


def test_an_import_inserts_and_updates_by_code_in_one_audited_transaction(db_url):
    engine = tiny_store(db_url)
    rows = [compound_row(),
            compound_row(小区编码="350102004001C001", 小区名称="军门新村（改）", 所属社区="军门社区", 所属网格="350102004001001",
                         经度=119.2916, 纬度=26.0816)]
    seen = []
    preview = preview_import(engine, csv_bytes(rows), "compounds", "台账.csv", today=TODAY)
    assert (preview.ok, preview.inserts, preview.updates) == (True, 1, 1), preview.problems
    result = commit_import(engine, preview, system_operator("李四"), progress=lambda d, n: seen.append((d, n)),
                           batch_rows=1)
    assert (result.inserted, result.updated) == (1, 1)
    assert seen == [(0, 2), (1, 2), (2, 2)]
    stored = read_layer(engine, "compounds").set_index("code")
    assert stored.loc["350102004001C001", "name"] == "军门新村（改）"
    assert stored.loc["350102004001C001", "version"] == 2
    assert stored.loc["350102004001C001", "buildings"] == 3  # not in the file: left as it was
    assert stored.loc["350102004002C101", "status"] == "planned" and stored.loc["350102004002C101", "version"] == 1
    log = import_log(engine)
    entry = json.loads(log.iloc[0]["after"])
    assert (log.iloc[0]["actor"], log.iloc[0]["table_name"]) == ("李四", "compounds")
    assert (entry["file"], entry["inserted"], entry["updated"]) == ("台账.csv", 1, 1)


def test_a_failing_write_rolls_the_whole_import_back(db_url):
    engine = tiny_store(db_url)
    preview = preview_import(engine, csv_bytes([compound_row(), compound_row(小区编码="C-X")]), "compounds", "x.csv",
                             today=TODAY)
    assert preview.ok
    before = checksum(engine)

    def boom(done, total):
        if done:
            raise RuntimeError("断电")

    with pytest.raises(RuntimeError):
        commit_import(engine, preview, system_operator("测试"), progress=boom, batch_rows=1)
    assert checksum(engine) == before


# ---------------------------------------------------------------- export and templates


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "csv", "xlsx"])
def test_an_export_imports_again_unchanged(engine, fmt):
    data = export_layer(engine, "grids", Scope("350102004000"), fmt)
    preview = preview_import(engine, data, "grids", f"网格.{fmt}", today=TODAY)
    assert preview.ok, preview.problems
    assert (preview.inserts, preview.updates) == (0, 4)
    stored = read_layer(engine, "grids", Scope("350102004000")).set_index("code")
    got = preview.frame.set_index("code")
    assert got.geometry.geom_equals_exact(stored.geometry, tolerance=1e-6).all()


def test_a_gcj02_export_is_shifted_and_formula_text_is_neutralised(engine):
    from data.ingest import commit_import as _commit

    evil = compound_row(小区名称="=HYPERLINK(\"http://x\")", 小区编码="C-EVIL")
    _commit(engine, preview_import(engine, csv_bytes([evil]), "compounds", "x.csv", today=TODAY), system_operator("测试"))
    table = pd.read_csv(io.BytesIO(export_layer(engine, "compounds", fmt="csv", crs="gcj02")), encoding="utf-8-sig",
                        dtype=str)
    row = table[table["小区编码"] == "C-EVIL"].iloc[0]
    assert row["小区名称"].startswith("'=")
    gx, gy = wgs84_to_gcj02(119.2975, 26.0825)
    assert abs(float(row["经度（GCJ-02）"]) - gx) < 1e-6 and abs(float(row["纬度（GCJ-02）"]) - gy) < 1e-6


@pytest.mark.parametrize("layer", list(LAYER_FIELDS))
def test_each_template_has_the_chinese_headers_and_an_example_row(layer):
    frame = pd.read_excel(io.BytesIO(template_xlsx(layer)), sheet_name=None)
    data, notes = frame.values()
    labels = [s.label for s in LAYER_FIELDS[layer] if not (s.name == "wkt" and "lon" in {f.name for f in LAYER_FIELDS[layer]})]
    assert list(data.columns) == labels
    assert len(data) == 1 and list(notes["列名"]) == labels


# ---------------------------------------------------------------- no codes, gaps as warnings


def _codeless(rows: list[dict]) -> bytes:
    return csv_bytes([{k: v for k, v in r.items() if k != "小区编码"} for r in rows])


def test_a_ledger_without_codes_matches_by_name_and_issues_new_codes_once(db_url):
    engine = tiny_store(db_url)
    rows = [compound_row(**{"小区名称": "军门新村 1", "所属社区": "军门社区", "所属网格": "", "经度": 119.2925, "纬度": 26.0815}),
            compound_row(**{"小区名称": "军门新村２", "所属社区": "军门", "所属网格": "", "经度": 119.2935, "纬度": 26.0815}),
            compound_row(**{"小区名称": "安泰里3#楼", "经度": 119.2965}),
            compound_row(**{"小区名称": "安泰里4号楼", "经度": 119.2970})]
    data = _codeless(rows)
    first = preview_import(engine, data, "compounds", "台账.csv", today=TODAY)
    assert first.ok, first.problems
    assert (first.matched, first.new_codes, first.updates, first.inserts) == (2, 2, 2, 2)
    assert list(first.frame["code"]) == ["350102004001C001", "350102004001C002", "350102004002C001", "350102004002C002"]
    commit_import(engine, first, system_operator("测试"))
    again = preview_import(engine, data, "compounds", "台账.csv", today=TODAY)
    assert (again.matched, again.new_codes, again.updates, again.inserts) == (4, 0, 4, 0)
    commit_import(engine, again, system_operator("测试"))
    stored = read_layer(engine, "compounds")
    assert len(stored) == 5 and sorted(stored["name"])[-2:] == ["安泰里3#楼", "安泰里4号楼"]


def test_a_new_code_is_never_reused_after_its_record_is_gone(engine):
    data = _codeless([compound_row(**{"小区名称": "安泰里"})])
    commit_import(engine, preview_import(engine, data, "compounds", "a.csv", today=TODAY), system_operator("测试"))
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM compounds WHERE code = '350102004002C001'")
    renamed = _codeless([compound_row(**{"小区名称": "安泰新里"})])
    preview = preview_import(engine, renamed, "compounds", "b.csv", today=TODAY)
    assert list(preview.frame["code"]) == ["350102004002C002"]


def test_a_code_issued_in_a_stale_preview_is_refused_and_nothing_written(db_url):
    engine = tiny_store(db_url)
    data = _codeless([compound_row(**{"小区名称": "安泰里"})])
    stale = preview_import(engine, data, "compounds", "a.csv", today=TODAY)
    other = preview_import(engine, _codeless([compound_row(**{"小区名称": "安泰东里"})]), "compounds", "b.csv",
                           today=TODAY)
    commit_import(engine, other, system_operator("测试"))
    before = checksum(engine)
    with pytest.raises(ConflictError, match="重新预览"):
        commit_import(engine, stale, system_operator("测试"))
    assert checksum(engine) == before


def test_two_stored_compounds_of_one_name_make_the_row_ambiguous(engine):
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE compounds SET name = '军门新村' WHERE code IN "
                             "('350102004001C001', '350102004001C002')")
    preview = preview_import(engine, _codeless([compound_row(**{"小区名称": "军门新村", "所属社区": "军门社区",
                                                                "所属网格": "", "经度": 119.2925, "纬度": 26.0815})]),
                             "compounds", "a.csv", today=TODAY)
    report = preview.problems
    assert list(report[["行号", "字段"]].itertuples(index=False, name=None)) == [(2, "小区名称")]
    assert "350102004001C001、350102004001C002" in report["问题"].iloc[0]


GAPS = [({"改造状态": "施工中", "计划年度": 2026, "开工日期": ""}, "开工日期"),
        ({"改造状态": "已完工", "计划年度": 2025, "开工日期": "2025-03-01", "完工日期": ""}, "完工日期"),
        ({"改造状态": "长效管理", "计划年度": "", "开工日期": "", "完工日期": "2020-10-01"}, None),
        ({"改造状态": "已纳入计划", "计划年度": ""}, "计划年度")]


@pytest.mark.parametrize("changes, field", GAPS)
def test_a_missing_date_the_status_wants_is_a_warning_unless_strict(engine, changes, field):
    data = csv_bytes([compound_row(**changes)])
    preview = preview_import(engine, data, "compounds", "a.csv", today=TODAY)
    assert preview.ok, preview.problems
    assert list(preview.warnings["字段"]) == ([field] if field else [])
    strict = preview_import(engine, data, "compounds", "a.csv", today=TODAY, strict=True)
    assert list(strict.problems["字段"]) == ([field] if field else []) and strict.warnings.empty
    if field:
        assert "补填" in preview.warnings["问题"].iloc[0]


def test_a_warned_row_is_written_and_the_editor_still_asks_for_the_gap(engine):
    from data.edits import update_compound

    data = csv_bytes([compound_row(**{"改造状态": "施工中", "计划年度": 2026, "开工日期": ""})])
    commit_import(engine, preview_import(engine, data, "compounds", "a.csv", today=TODAY), system_operator("测试"))
    stored = read_layer(engine, "compounds").set_index("code").loc["350102004002C101"]
    assert stored["status"] == "under_way" and pd.isna(stored["started_on"])
    with pytest.raises(DataValidationError, match="开工日期"):
        update_compound(engine, "350102004002C101", {"budget_wan": 320}, int(stored["version"]),
                           system_operator("测试"), today=TODAY)


@pytest.mark.parametrize("text, expected", [("120户", 120), ("１２０", 120), (" 1,200 户", 1200), ("120", 120)])
def test_households_typed_with_a_unit_or_full_width_digits(engine, text, expected):
    preview = preview_import(engine, csv_bytes([compound_row(**{"户数": text})]), "compounds", "a.csv", today=TODAY)
    assert preview.ok, preview.problems
    assert int(preview.frame["households"].iloc[0]) == expected


def test_a_unit_of_another_field_is_not_dropped(engine):
    preview = preview_import(engine, csv_bytes([compound_row(**{"户数": "120栋"})]), "compounds", "a.csv", today=TODAY)
    assert list(preview.problems["字段"]) == ["户数"]


def test_gcj02_named_in_the_coordinate_headers_is_converted(engine):
    lon, lat = wgs84_to_gcj02(np.array([119.2975]), np.array([26.0825]))
    row = {k: v for k, v in compound_row().items() if k not in ("经度", "纬度")}
    row.update({"经度(GCJ-02)": f"{lon[0]:.7f}°", "纬度(GCJ-02)": f"{lat[0]:.7f}°"})
    preview = preview_import(engine, csv_bytes([row]), "compounds", "a.csv", today=TODAY)
    assert preview.ok and preview.prepared.crs_key == "gcj02", preview.problems
    got = np.array([[preview.frame.geometry.iloc[0].x, preview.frame.geometry.iloc[0].y]])
    assert _metres(got, np.array([[119.2975, 26.0825]]))[0] < 1.0


def test_a_row_without_community_or_grid_is_placed_by_its_location_with_a_warning(engine):
    row = {k: v for k, v in compound_row(**{"小区名称": "光禄新苑", "经度": 119.3050, "纬度": 26.0830}).items()
           if k not in ("小区编码", "所属社区", "所属网格")}
    preview = preview_import(engine, csv_bytes([row]), "compounds", "a.csv", today=TODAY)
    assert preview.ok, preview.problems
    got = preview.frame.iloc[0]
    assert (got["community_code"], got["grid_code"], got["code"]) == ("350102005001", "350102005001001",
                                                                     "350102005001C001")
    assert list(preview.warnings["问题"]) == ["未填所属社区，已按位置归入“光禄坊社区”"]


def test_stations_and_disputes_without_codes_import_and_reimport_without_duplicates(engine):
    station = {"站点名称": "军门社区居家养老服务站", "站点类型": "居家养老服务站", "所属社区": "军门社区",
               "经度": 119.2915, "纬度": 26.0818}
    case = {"纠纷类别": "邻里纠纷", "来源": "来访", "办理状态": "受理", "受理日期": "2026-11-01",
            "所属网格": "350102004001001", "地址": "东街1号", "经度": 119.2915, "纬度": 26.0818}
    for layer, rows, code in (("stations", [station], "350102004001S001"),
                              ("disputes", [case, {**case, "地址": "东街 2 号"}], "JF2600001")):
        first = preview_import(engine, csv_bytes(rows), layer, "a.csv", today=TODAY)
        assert first.ok and first.new_codes == len(rows), first.problems
        assert first.frame["code"].iloc[0] == code
        commit_import(engine, first, system_operator("测试"))
        again = preview_import(engine, csv_bytes(rows), layer, "a.csv", today=TODAY)
        assert (again.inserts, again.updates, again.matched) == (0, len(rows), len(rows))
        commit_import(engine, again, system_operator("测试"))
        assert len(read_layer(engine, layer)) == len(rows)


def test_a_blank_date_in_a_ledger_keeps_the_stored_date_and_warns_only_where_none_is_known(engine):
    done = compound_row(**{"改造状态": "已完工", "计划年度": 2025, "开工日期": "2025-03-01", "完工日期": "2025-10-01"})
    commit_import(engine, preview_import(engine, csv_bytes([done]), "compounds", "a.csv", today=TODAY),
                  system_operator("测试"))
    old = {k: v for k, v in done.items() if k not in ("小区编码", "开工日期", "完工日期")}
    other = compound_row(**{"小区编码": "", "小区名称": "安泰里", "改造状态": "已完工", "计划年度": 2024,
                            "开工日期": "2024-03-01", "完工日期": ""})
    preview = preview_import(engine, csv_bytes([old, {k: v for k, v in other.items() if k != "小区编码"}]),
                             "compounds", "old.csv", today=TODAY)
    assert preview.ok and preview.matched == 1, preview.problems
    assert list(preview.warnings[["行号", "字段"]].itertuples(index=False, name=None)) == [(3, "完工日期")]
    commit_import(engine, preview, system_operator("测试"))
    kept = read_layer(engine, "compounds").set_index("code").loc["350102004002C101"]
    assert (str(kept["started_on"])[:10], str(kept["completed_on"])[:10]) == ("2025-03-01", "2025-10-01")
