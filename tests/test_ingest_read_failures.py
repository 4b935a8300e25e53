"""Files that cannot be read, and files read with a fix-up: one Chinese sentence naming the file, never a
temporary path, a library's English or a traceback; through the command line the database is unchanged.

Every bad file is built here, byte by byte or written with geopandas/openpyxl and then broken.
"""
from __future__ import annotations

import io
import json
import logging
import os
import re
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely
from openpyxl import Workbook

from data import cli_transfer
from data.cli import main
from data.incidents import LOGGER_NAME, incident_message, record_incident
from data.ingest.read import SUFFIXES, read_source, sheet_names
from data.ingest.source import PRJ_NOTE, SHX_NOTE
from geo.errors import DataValidationError
from geo.ingest_rows import TOTAL_REASON
from tests.ingest_helpers import checksum, compound_row, csv_bytes, tiny_store

ENGLISH = re.compile(r"[A-Za-z]{4,}[\s,.:;'\"]+[A-Za-z]{4,}")
"""Two English words in a row: a library's message leaking through."""
CJK = re.compile(r"[\u4e00-\u9fff]")
LEAKS = ("/tmp", tempfile.gettempdir(), "Traceback", "layer.", "Error", "errno", "\\")


def assert_plain_chinese(message: str, filename: str) -> None:
    """One Chinese sentence naming ``filename``, with no path, library English or traceback in it."""
    assert filename in message, message
    for leak in LEAKS:
        assert leak not in message, (leak, message)
    assert not ENGLISH.search(message), message
    assert len(CJK.findall(message)) >= 12, message
    assert "\n" not in message and message.count("。") <= 1, message


def _fails(data: bytes | Path, filename: str, **kw) -> str:
    with pytest.raises(DataValidationError) as info:
        read_source(data, filename, "compounds", **kw)
    message = str(info.value)
    assert_plain_chinese(message, filename)
    assert info.value.problems and info.value.problems[0][3] == message
    return message


# ---------------------------------------------------------------- bad files, built here


GEOJSON = json.dumps({"type": "FeatureCollection", "features": [
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [119.2915, 26.0815]},
     "properties": {"小区名称": "军门新村", "户数": 120}},
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [119.2925, 26.0825]},
     "properties": {"小区名称": "安泰新村", "户数": 80}}]}, ensure_ascii=False, indent=2)


def _points() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"名称": ["军门新村", "安泰新村"], "户数": [120, 80]},
                            geometry=[shapely.Point(119.2915, 26.0815), shapely.Point(119.2925, 26.0825)], crs=4326)


def _shapefile_folder(tmp_path: Path, stem: str = "小区") -> Path:
    folder = tmp_path / "shp"
    folder.mkdir(exist_ok=True)
    _points().to_file(folder / f"{stem}.shp", encoding="UTF-8")
    return folder


def _zip(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def _shapefile_zip(tmp_path: Path, drop: tuple[str, ...] = ()) -> bytes:
    """The two points as a zipped Shapefile (in a folder inside the zip), without the parts in ``drop``."""
    folder = _shapefile_folder(tmp_path)
    return _zip({f"数据/{p.name}": p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix.lower() not in drop})


def _workbook(sheets: dict[str, list[list]]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


LEDGER = [["小区名称", "小区编码", "所属社区", "户数"], ["军门新村", "C-1", "军门社区", 120], ["安泰新村", "C-2", "安泰社区", 80]]
HELP = [["填表说明"], ["1. 小区编码必填"], ["2. 户数填整数"]]


def _gpkg(tmp_path: Path, layers: tuple[str, ...] = ("小区",)) -> bytes:
    path = tmp_path / "x.gpkg"
    for name in layers:
        _points().to_file(path, layer=name, driver="GPKG")
    return path.read_bytes()


BAD_FILES = [  # (id, file name, bytes or a builder of them from tmp_path, words the message must hold)
    ("empty csv", "台账.csv", b"", "空的"),
    ("csv of a BOM and blanks", "台账.csv", b"\xef\xbb\xbf  \r\n\t\r\n", "空的"),
    ("empty xlsx", "台账.xlsx", b"", "空的"),
    ("empty xls", "台账.xls", b"   ", "空的"),
    ("empty geojson", "小区.geojson", b"\n\n", "空的"),
    ("empty zip", "小区.zip", b"", "空的"),
    ("empty gpkg", "小区.gpkg", b"", "空的"),
    ("utf-16 BOM only", "台账.txt", b"\xff\xfe", "空的"),
    ("truncated geojson", "小区.geojson", GEOJSON.encode()[:-60], "文件可能不完整"),
    ("geojson cut in a string", "小区.json", GEOJSON.encode()[:150], "文件可能不完整"),
    ("json that is not geojson", "小区.json", b'{"rows": [1, 2, 3]}', "不是 GeoJSON"),
    ("json array", "小区.geojson", b"[1, 2, 3]", "不是 GeoJSON"),
    ("geojson gdal refuses", "小区.geojson", b'{"type": "FeatureCollection", "features": "none"}', "GeoJSON"),
    ("zip that is not a zip", "小区.zip", b"this is not a zip archive at all " * 20, "不是有效的 ZIP"),
    ("zip without .shp", "小区.zip", _zip({"说明.txt": b"x", "小区.dbf": b"\x03"}), "没有 .shp"),
    ("zip with two .shp", "小区.zip", lambda tmp: _zip({"a.shp": b"x", "b.shp": b"y", "a.dbf": b"z"}), "多个 Shapefile 图层"),
    ("zip with .shp but no .dbf", "小区.zip", lambda tmp: _shapefile_zip(tmp, drop=(".dbf",)), ".dbf 属性表"),
    ("broken shapefile", "小区.zip", _zip({"a.shp": os.urandom(300), "a.shx": os.urandom(100), "a.dbf": os.urandom(200)}),
     "Shapefile"),
    ("locked xlsx (OLE2)", "台账.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(4000), "设有打开密码"),
    ("random bytes as xlsx", "台账.xlsx", os.urandom(4000), "设有打开密码或已损坏"),
    ("zip that is not a workbook", "台账.xlsx", _zip({"a.txt": b"hello"}), "另存为 .xlsx"),
    ("xlsx cut short", "台账.xlsx", lambda tmp: _workbook({"台账": LEDGER})[:3000], "已损坏"),
    ("locked or broken xls", "台账.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(4000), "设有打开密码"),
    ("binary that is no xls", "台账.xls", bytes(range(256)) * 20, "另存为 .xlsx"),
    ("gpkg that is not one", "小区.gpkg", b"PK\x03\x04 not a database " * 30, "不是有效的 GeoPackage"),
    ("corrupt gpkg", "小区.gpkg", lambda tmp: _gpkg(tmp)[:1024] + os.urandom(3000), "GeoPackage"),
    ("binary as csv", "台账.csv", bytes(range(256)) * 20, "编码"),
    ("excel renamed to csv", "台账.csv", lambda tmp: _workbook({"台账": LEDGER}), "不是文本表格"),
    ("shp bytes alone", "小区.shp", b"\x00\x00\x27\x0a" + os.urandom(200), "压缩成 .zip"),
    ("unsupported type", "台账.docx", b"PK\x03\x04", "不支持的文件类型"),
    ("more values than headers", "台账.csv", "小区名称,户数\n军门新村,120,多余\n".encode(), "超出表头"),
]


def _bytes(spec, tmp_path: Path) -> bytes:
    return spec(tmp_path) if callable(spec) else spec


@pytest.mark.parametrize("filename, spec, words", [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES])
def test_an_unreadable_file_gets_one_chinese_sentence_naming_it(tmp_path, filename, spec, words):
    message = _fails(_bytes(spec, tmp_path), filename)
    assert words in message


def test_a_truncated_geojson_is_reported_by_line_and_column(tmp_path):
    text = '{\n  "type": "FeatureCollection",\n  "features": [\n    {"type": "Feature", "geometry": nul'
    message = _fails(text.encode(), "小区.geojson")
    assert "第 4 行第 37 列附近" in message


@pytest.mark.parametrize("encoding, words", [("utf-8", "无法按编码“utf-8”"), ("no-such-codec", "不认识的编码名称")])
def test_a_wrong_or_unknown_encoding_is_named(encoding, words):
    message = _fails("小区名称,户数\n军门新村,120\n".encode("gbk"), "台账.csv", encoding=encoding)
    assert words in message and "gbk" in message


def test_a_missing_file_and_a_missing_dbf_beside_a_shp_path(tmp_path):
    assert "找不到文件" in _fails(tmp_path / "不存在.csv", "不存在.csv")
    folder = _shapefile_folder(tmp_path)
    (folder / "小区.dbf").unlink()
    assert ".dbf 属性表" in _fails(folder / "小区.shp", "小区.shp")


def test_an_asked_sheet_or_layer_that_does_not_exist_lists_those_that_do(tmp_path):
    book = _workbook({"说明": HELP, "台账": LEDGER})
    assert "说明、台账" in _fails(book, "台账.xlsx", sheet="汇总表")
    assert "只有 2 个工作表" in _fails(book, "台账.xlsx", sheet=5)
    assert "现有图层中选择：小区" in _fails(_gpkg(tmp_path), "小区.gpkg", sheet="网格")


def test_every_reader_failure_names_the_file_even_without_a_layer(tmp_path):
    for _, filename, spec, _ in BAD_FILES[:8]:
        with pytest.raises(DataValidationError, match=re.escape(filename)):
            read_source(_bytes(spec, tmp_path), filename)


def test_xls_is_an_accepted_suffix():
    assert ".xls" in SUFFIXES


# ---------------------------------------------------------------- files read with a fix-up and a note


def test_a_zipped_shapefile_without_shx_is_rebuilt_and_the_gdal_option_restored(tmp_path):
    before = pyogrio.get_gdal_config_option("SHAPE_RESTORE_SHX")
    src = read_source(_shapefile_zip(tmp_path, drop=(".shx",)), "小区.zip", "compounds")
    assert list(src.table["名称"]) == ["军门新村", "安泰新村"] and list(src.table["_row"]) == [1, 2]
    assert SHX_NOTE in src.notes
    assert src.geometry.iloc[1].equals(shapely.Point(119.2925, 26.0825))
    assert pyogrio.get_gdal_config_option("SHAPE_RESTORE_SHX") == before


def test_a_zipped_shapefile_without_prj_is_read_with_no_declared_crs_and_a_note(tmp_path):
    src = read_source(_shapefile_zip(tmp_path, drop=(".prj",)), "小区.zip", "compounds")
    assert src.declared_crs is None and PRJ_NOTE in src.notes and SHX_NOTE not in src.notes
    assert list(src.table["户数"]) == [120, 80]
    complete = read_source(_shapefile_zip(tmp_path), "小区.zip", "compounds")
    assert complete.notes == [] and complete.declared_crs is not None


def test_a_shp_path_without_shx_is_read_without_writing_beside_it(tmp_path):
    folder = _shapefile_folder(tmp_path)
    (folder / "小区.shx").unlink()
    listing = sorted(p.name for p in folder.iterdir())
    src = read_source(folder / "小区.shp", layer="compounds")
    assert len(src.table) == 2 and SHX_NOTE in src.notes
    assert sorted(p.name for p in folder.iterdir()) == listing


def test_a_workbook_whose_first_sheet_is_a_help_text_is_read_from_the_data_sheet():
    book = _workbook({"说明": HELP, "台账": LEDGER})
    src = read_source(book, "台账.xlsx", "compounds")
    assert src.columns == LEDGER[0] and list(src.table["小区名称"]) == ["军门新村", "安泰新村"]
    assert src.notes == ["第一个工作表“说明”不是数据表，已使用工作表“台账”"]
    assert sheet_names(book, "台账.xlsx") == ["说明", "台账"]
    asked = read_source(book, "台账.xlsx", "compounds", sheet="说明")
    assert asked.notes == [] and asked.columns == ["填表说明"]  # the help sheet itself, as asked
    first = read_source(_workbook({"台账": LEDGER, "说明": HELP}), "台账.xlsx", "compounds")
    assert first.notes == [] and len(first.table) == 2


def test_a_ledger_with_totals_and_a_second_table_lists_the_skipped_rows():
    rows = [["东街街道老旧小区台账"], *LEDGER, ["合 计", None, None, 200], [None] * 4, ["南街街道"],
            ["户数", "小区编码", "小区名称", "所属社区"], [60, "C-3", "光禄坊小区", "光禄坊社区"], ["填表人：张三"]]
    src = read_source(_workbook({"台账": rows}), "台账.xlsx", "compounds")
    assert src.header_row == 2
    assert list(src.table["_row"]) == [3, 4, 9]
    assert src.table.iloc[2].tolist() == ["光禄坊小区", "C-3", "光禄坊社区", 60, 9]
    assert [(p.row, p.reason) for p in src.skipped][:2] == [(5, TOTAL_REASON), (6, "空行（第 6 行），已跳过")]
    assert {p.row for p in src.skipped} == {5, 6, 7, 8, 10}
    assert len(src.notes) == 1 and "第 8 行起是另一张表" in src.notes[0]


def test_a_csv_total_row_is_skipped_not_reported():
    data = csv_bytes([compound_row(), compound_row(小区编码="C2")]) + "合计,,,,,400\n".encode()
    src = read_source(data, "台账.csv", "compounds")
    assert list(src.table["_row"]) == [2, 3] and [p.row for p in src.skipped] == [4]


def test_a_geopackage_with_several_layers_reads_the_first_and_says_so(tmp_path):
    data = _gpkg(tmp_path, ("小区", "站点"))
    src = read_source(data, "小区.gpkg", "compounds")
    assert len(src.table) == 2 and src.notes == ["GeoPackage 含多个图层，已读取第一个图层“小区”"]
    assert read_source(data, "小区.gpkg", sheet="站点").notes == []


# ---------------------------------------------------------------- .xls: old Excel, and what web systems call .xls


def _xls(sheets: dict[str, list[list]]) -> bytes:
    """A real BIFF8 .xls written with xlwt (a test-only tool); dates get a date format."""
    xlwt = pytest.importorskip("xlwt")
    book = xlwt.Workbook(encoding="utf-8")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for title, rows in sheets.items():
        ws = book.add_sheet(title)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is not None:
                    ws.write(r, c, value, date_style if isinstance(value, datetime) else xlwt.Style.default_style)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_an_old_xls_is_read_with_whole_numbers_and_dates_like_an_xlsx():
    rows = [["鼓楼区老旧小区台账"], ["小区名称", "小区编码", "户数", "预算（万元）", "开工日期"],
            ["军门新村", "C-1", 120, 35.5, datetime(2026, 3, 1)], ["合计", None, 120, 35.5, None]]
    data = _xls({"说明": HELP, "台账": rows})
    assert data.startswith(b"\xd0\xcf\x11\xe0")
    src = read_source(data, "台账.xls", "compounds")
    assert src.header_row == 2 and src.notes == ["第一个工作表“说明”不是数据表，已使用工作表“台账”"]
    record = src.table.iloc[0].to_dict()
    assert record == {"小区名称": "军门新村", "小区编码": "C-1", "户数": 120, "预算（万元）": 35.5,
                      "开工日期": datetime(2026, 3, 1), "_row": 3}
    assert type(record["户数"]) is int
    assert [p.row for p in src.skipped] == [4]
    assert sheet_names(data, "台账.xls") == ["说明", "台账"]
    renamed = read_source(data, "台账.xlsx", "compounds")  # an old workbook under a new name
    assert renamed.table.iloc[0]["小区编码"] == "C-1" and "实为旧版 .xls" in renamed.notes[0]


def test_an_xls_that_is_really_an_xlsx_is_read_as_one():
    src = read_source(_workbook({"台账": LEDGER}), "台账.xls", "compounds")
    assert list(src.table["小区编码"]) == ["C-1", "C-2"]
    assert src.notes == ["文件“台账.xls”实为 .xlsx 格式，已按 .xlsx 读取"]


def test_an_xls_that_is_really_an_html_table_is_read_as_a_table():
    html = ("<html><head><meta charset='utf-8'></head><body><table border=1>"
            "<tr><td colspan=4>鼓楼区老旧小区台账</td></tr>"
            "<tr><th>小区名称</th><th>小区编码</th><th>所属社区</th><th>户数</th></tr>"
            "<tr><td>军门新村<td>C-1<td>军门社区<td>120</tr>"
            "<tr><td>安泰&nbsp;新村</td><td>C-2</td><td>安泰社区</td><td>80</td></tr>"
            "</table></body></html>")
    src = read_source(html.encode("gbk"), "导出.xls", "compounds")
    assert src.header_row == 2 and src.columns == ["小区名称", "小区编码", "所属社区", "户数"]
    assert src.table.iloc[1].tolist() == ["安泰\xa0新村".strip(), "C-2", "安泰社区", "80", 4]
    assert "网页表格" in src.notes[0]


def test_an_xls_that_is_really_tab_separated_text_is_read_as_csv():
    text = "小区名称\t小区编码\t户数\n军门新村\tC-1\t120\n"
    src = read_source(text.encode("gbk"), "导出.xls", "compounds")
    assert src.table.iloc[0].tolist() == ["军门新村", "C-1", "120", 2] and src.encoding == "gb18030"
    assert "文本表格" in src.notes[0]


def test_an_html_xls_without_a_table_says_to_save_as_xlsx():
    assert "另存为 .xlsx" in _fails("<html><body><p>没有数据</p></body></html>".encode(), "导出.xls")


# ---------------------------------------------------------------- through the command line


@pytest.fixture
def store(sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    engine = tiny_store(sqlite_url)
    return sqlite_url, engine


CLI_CASES = [c[0] for c in BAD_FILES]
"""Every unreadable file also through the command line: exit 2, the sentence alone, every table unchanged."""


@pytest.mark.parametrize("case", CLI_CASES)
def test_the_cli_prints_the_chinese_sentence_exits_2_and_writes_nothing(store, tmp_path, capsys, case):
    url, engine = store
    _, filename, spec, words = next(c for c in BAD_FILES if c[0] == case)
    path = tmp_path / "上传" / filename
    path.parent.mkdir()
    path.write_bytes(_bytes(spec, tmp_path))
    before = checksum(engine)
    assert main(["--database-url", url, "import", "compounds", str(path)]) == 2
    out = capsys.readouterr()
    line = out.err.strip()
    assert line.startswith("错误：") and words in line
    assert_plain_chinese(line.removeprefix("错误："), filename)
    assert str(path.parent) not in out.err + out.out
    assert checksum(engine) == before


@pytest.fixture
def incident_logger():
    """The incident logger as it was before the test (the CLI points it at a file)."""
    logger = logging.getLogger(LOGGER_NAME)
    saved = (list(logger.handlers), logger.propagate, logger.level)
    yield logger
    for handler in [h for h in logger.handlers if h not in saved[0]]:
        logger.removeHandler(handler)
        handler.close()
    logger.propagate, logger.level = saved[1], saved[2]


def test_an_unexpected_error_prints_only_an_incident_id_and_logs_the_traceback(store, tmp_path, capsys, monkeypatch,
                                                                               incident_logger):
    url, engine = store
    path = tmp_path / "台账.csv"
    path.write_bytes(csv_bytes([compound_row()]))

    def boom(*args, **kwargs):
        raise RuntimeError("boom /tmp/x")

    monkeypatch.setattr(cli_transfer, "preview_import", boom)
    before = checksum(engine)
    assert main(["--database-url", url, "import", "compounds", str(path)]) == 3
    err = capsys.readouterr().err
    match = re.fullmatch(r"错误：导入时发生意外错误，未写入任何数据。请把事件编号 ([0-9a-f]{8}) 告知系统管理员。\n", err)
    assert match, err
    assert "boom" not in err and "/tmp" not in err and "Traceback" not in err
    log = (tmp_path / "data" / "logs" / "incidents.log").read_text(encoding="utf-8")
    assert match.group(1) in log and "boom /tmp/x" in log and "Traceback" in log and "RuntimeError" in log
    assert checksum(engine) == before


def test_keyboard_interrupt_is_not_caught(store, tmp_path, monkeypatch):
    url, _ = store
    path = tmp_path / "台账.csv"
    path.write_bytes(csv_bytes([compound_row()]))

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_transfer, "preview_import", interrupt)
    with pytest.raises(KeyboardInterrupt):
        main(["--database-url", url, "import", "compounds", str(path)])


def test_record_incident_logs_the_traceback_under_a_short_id(caplog, incident_logger):
    try:
        raise ValueError("细节")
    except ValueError as exc:
        with caplog.at_level(logging.ERROR, logger=LOGGER_NAME):
            incident = record_incident(exc, "测试")
    assert re.fullmatch(r"[0-9a-f]{8}", incident)
    (record,) = [r for r in caplog.records if r.name == LOGGER_NAME]
    assert incident in record.getMessage() and "测试" in record.getMessage() and record.exc_info[1].args == ("细节",)
    assert incident_message("a1b2c3d4", "导出") == "导出时发生意外错误。请把事件编号 a1b2c3d4 告知系统管理员。"
