"""Reading office files into raw tables: CSV, XLSX, XLS, GeoJSON, GeoPackage and zipped Shapefile.

Every reader returns a ``SourceTable``: the raw cell values (object dtype, headers as in the
file) with ``_row`` = the row number the user sees (Excel row, CSV line, or feature number of a
vector file), plus a vector file's geometries and declared CRS. Rows of a sheet that are not
records (titles, 合计 rows, blank rows, repeated headers, notes) are left out and listed in
``skipped`` (see ``geo.ingest_rows``); ``notes`` says how the file was read where the user should
know (a sheet chosen, a .shx rebuilt, no .prj). Encodings: UTF-8 (with or without BOM), UTF-16
with BOM and GBK/GB18030 are detected, or taken from the caller; a Shapefile whose .dbf has no
.cpg is checked byte by byte. Nothing here validates values: see ``geo.ingest``.

Every failure to read is a ``DataValidationError`` with one Chinese sentence that names the user's
file and says what to do; no temporary path, library message or traceback reaches the user (the
library's exception stays chained as ``__cause__`` for the log).
"""
from __future__ import annotations

import codecs
import csv
import io
import json
import re
import shutil
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import charset_normalizer
import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import xlrd
from openpyxl import load_workbook
from openpyxl.utils.cell import range_boundaries

from geo.errors import DataValidationError
from geo.ingest import ROW, Problem
from geo.ingest_fields import header_score
from geo.ingest_rows import HEADER_SEARCH_ROWS, Rows, classify_rows, is_blank_cell

__all__ = ["HEADER_SEARCH_ROWS", "SUFFIXES", "SourceTable", "decode_text", "read_csv", "read_source", "read_vector",
           "read_xls", "read_xlsx", "sheet_names"]

TABLE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm", ".xls")
VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".zip", ".shp")
SUFFIXES = TABLE_SUFFIXES + VECTOR_SUFFIXES
MAX_UNZIPPED_BYTES = 2 << 30
OLE2_MAGIC = b"\xd0\xcf\x11\xe0"
"""First bytes of an OLE2 compound file: an old .xls, or an .xlsx saved with a password."""
ZIP_MAGIC = b"PK\x03\x04"
SQLITE_MAGIC = b"SQLite format 3\x00"
GEOJSON_TYPES = frozenset({"FeatureCollection", "Feature", "Point", "MultiPoint", "LineString", "MultiLineString",
                           "Polygon", "MultiPolygon", "GeometryCollection"})
SHAPE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")
"""Parts of a Shapefile that are copied beside the .shp to read it."""
LOCKED_EXCEL = "可能设有打开密码或已损坏；请在 Excel 中取消密码后另存为 .xlsx 再导入"
SHX_NOTE = "压缩包中缺少 .shx 索引文件，已根据 .shp 重建"
PRJ_NOTE = "没有 .prj 坐标系文件，坐标系按坐标范围自动识别"


@dataclass
class SourceTable:
    """A file's rows as read: raw values with ``_row``, and for vector files geometry and CRS.

    ``skipped``: rows of a sheet that are not records, as ``Problem(row, "整行", cells, reason)``;
    ``notes``: what the user should know about how the file was read (Chinese sentences).
    """

    table: pd.DataFrame
    filename: str
    encoding: str | None = None
    geometry: gpd.GeoSeries | None = None
    declared_crs: object = None
    header_row: int | None = None
    skipped: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        """The file's column headers, in order."""
        return [c for c in self.table.columns if c != ROW]


def _fail(message: str) -> DataValidationError:
    return DataValidationError(message, [(None, "文件", "", message)])


def read_source(source: bytes | str | Path, filename: str | None = None, layer: str | None = None, *,
                encoding: str | None = None, sheet: str | int | None = None) -> SourceTable:
    """Read ``source`` (bytes, or a path) by the suffix of ``filename`` (default: the path's name).

    ``layer`` helps find the header row under title rows and the data sheet of a workbook;
    ``encoding`` forces a text encoding (CSV, GeoJSON, Shapefile .dbf); ``sheet`` picks a worksheet
    or GeoPackage layer (name or 0-based index; default: the sheet whose header best fits ``layer``).
    Raises DataValidationError with one Chinese sentence naming ``filename`` for an unreadable file.
    """
    if isinstance(source, str | Path):
        filename = filename or Path(source).name
    name = filename or "未命名文件"
    suffix = Path(filename or "").suffix.lower()
    if suffix not in SUFFIXES:
        raise _fail(f"不支持的文件类型“{suffix or '无扩展名'}”：文件“{name}”无法导入，"
                    f"请另存为 {'、'.join(SUFFIXES)} 之一后再导入")
    _check_encoding(encoding, name)
    try:
        if suffix == ".shp":
            return _read_shp(source, name, encoding, sheet)
        data = _bytes_of(source, name)
        _check_not_empty(data, name)
        return _read_bytes(data, name, suffix, layer, encoding, sheet)
    except UnicodeError as exc:
        raise _fail(f"无法按编码“{encoding or '自动识别'}”读取文件“{name}”，请改选编码 gbk 或 utf-8 后重试") from exc


def _check_encoding(encoding: str | None, name: str) -> None:
    """DataValidationError when ``encoding`` is given but is not the name of a text encoding."""
    if not encoding:
        return
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise _fail(f"不认识的编码名称“{encoding}”，无法读取文件“{name}”；请填写 gbk 或 utf-8 等常用编码") from exc


def _read_bytes(data: bytes, name: str, suffix: str, layer: str | None, encoding: str | None,
                sheet: str | int | None) -> SourceTable:
    if suffix in (".csv", ".txt"):
        return read_csv(data, name, layer, encoding)
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(data, name, layer, sheet)
    if suffix == ".xls":
        return read_xls(data, name, layer, sheet, encoding)
    return read_vector(data, name, encoding, sheet)


def _bytes_of(source: bytes | str | Path, name: str) -> bytes:
    if not isinstance(source, str | Path):
        return bytes(source)
    try:
        return Path(source).read_bytes()
    except FileNotFoundError as exc:
        raise _fail(f"找不到文件“{name}”，请检查文件名和所在文件夹后重试") from exc
    except OSError as exc:
        raise _fail(f"无法打开文件“{name}”（可能无权读取或正被其他程序占用），请关闭占用它的程序后重试") from exc


def _check_not_empty(data: bytes, name: str) -> None:
    """DataValidationError when ``data`` is 0 bytes, or only a byte-order mark and whitespace."""
    body = data
    for bom in (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        body = body.removeprefix(bom)
    if not body.strip(b" \t\r\n\x00\x0b\x0c"):
        raise _fail(f"文件“{name}”是空的（没有任何内容），请确认导出或保存成功后重新选择文件")


# ---------------------------------------------------------------- text and tables


def decode_text(data: bytes, encoding: str | None = None, filename: str = "文件") -> tuple[str, str]:
    """(text, encoding used): the given encoding, else UTF-8 (BOM allowed), UTF-16 with BOM, GB18030,
    or a detector's guess. DataValidationError naming ``filename`` for binary data or an unknown encoding."""
    if encoding:
        return data.decode(encoding), encoding
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    if data.startswith((ZIP_MAGIC, OLE2_MAGIC)):
        raise _fail(f"文件“{filename}”实际是 Excel 或压缩文件，不是文本表格；"
                    "请用 .xlsx 扩展名导入，或在 Excel 中另存为 CSV 后再导入")
    for candidate in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(candidate), "utf-8" if candidate == "utf-8-sig" else candidate
        except UnicodeDecodeError:
            continue
    best = charset_normalizer.from_bytes(data).best()
    text = str(best) if best is not None else ""
    if best is None or _looks_binary(text):
        raise _fail(f"无法识别文件“{filename}”的文字编码（或它不是文本表格），请确认是 CSV 文件并指定编码 gbk 或 utf-8 后重试")
    return text, best.encoding


def _looks_binary(text: str) -> bool:
    """Whether decoded text holds NULs or many control characters (a binary file, not a table)."""
    controls = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\t\r\n")
    return "\x00" in text or controls > len(text[:4096]) // 100


def _csv_rows(text: str) -> Rows:
    """(line number, cells) of a CSV (comma, semicolon or tab separated); empty cells become None."""
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    rows, line = [], 0
    for cells in reader:
        rows.append((line + 1, [c if c.strip() else None for c in cells]))
        line = reader.line_num
    return rows


def _from_rows(rows: Rows, filename: str, layer: str | None, encoding: str | None = None,
               notes: list[str] | None = None) -> SourceTable:
    """A SourceTable of the records under the header, the other rows in ``skipped``."""
    sheet = classify_rows(rows, layer)
    if sheet.overflow:
        raise _fail(f"文件“{filename}”第 {sheet.overflow[0]} 行的数据超出表头的 {len(sheet.header)} 列，"
                    "请为这些列补上表头或删除多余的内容后再导入")
    data = {name: pd.Series([cells[i] for _, cells in sheet.records], dtype=object)
            for i, name in enumerate(sheet.header)}
    frame = pd.DataFrame(data) if data else pd.DataFrame(index=range(0))
    frame[ROW] = [n for n, _ in sheet.records]
    return SourceTable(frame, filename, encoding, header_row=sheet.header_row, skipped=sheet.skipped,
                       notes=[*(notes or []), *sheet.notes])


def read_csv(data: bytes, filename: str, layer: str | None = None, encoding: str | None = None) -> SourceTable:
    """A CSV (comma, semicolon or tab separated) with its line numbers; empty cells become None."""
    text, used = decode_text(data, encoding, filename)
    return _from_rows(_csv_rows(text), filename, layer, used)


# ---------------------------------------------------------------- workbooks


def _sheet_score(rows: Rows, layer: str | None) -> tuple[int, int]:
    """How well a sheet's top rows look like the data table: (best header score, has a row of 2+ values)."""
    best = max((header_score(cells, layer) for _, cells in rows), default=0) if layer else 0
    wide = any(sum(1 for c in cells if not is_blank_cell(c)) >= 2 for _, cells in rows)
    return best, int(wide)


def _sheet_index(names: list[str], sheet: str | int, filename: str) -> int:
    """The index of the asked sheet (name, or 0-based index), or DataValidationError listing the sheets."""
    listed = "、".join(names)
    if isinstance(sheet, int) or str(sheet).strip().isdigit():
        index = int(sheet)
        if 0 <= index < len(names):
            return index
        raise _fail(f"工作簿“{filename}”只有 {len(names)} 个工作表（{listed}），请重新选择工作表")
    for i, name in enumerate(names):
        if name == sheet or name.strip() == str(sheet).strip():
            return i
    raise _fail(f"工作簿“{filename}”中没有工作表“{sheet}”，请从现有工作表中选择：{listed}")


def _choose_sheet(names: list[str], top_rows: Callable[[int], Rows], layer: str | None, sheet: str | int | None,
                  filename: str) -> tuple[int, list[str]]:
    """(index, notes): the asked sheet, else the first sheet unless another's header fits ``layer`` better."""
    if sheet is not None and str(sheet).strip() != "":
        return _sheet_index(names, sheet, filename), []
    if len(names) <= 1:
        return 0, []
    scores = [_sheet_score(top_rows(i), layer) for i in range(len(names))]
    best = max(range(len(names)), key=lambda i: (scores[i], -i))
    if best == 0 or scores[best] <= scores[0]:
        return 0, []
    return best, [f"第一个工作表“{names[0]}”不是数据表，已使用工作表“{names[best]}”"]


def sheet_names(data: bytes, filename: str) -> list[str]:
    """The worksheet names of an .xlsx/.xlsm/.xls workbook (DataValidationError naming ``filename``)."""
    if data.startswith(OLE2_MAGIC):
        book = _open_xls(data, filename)
        try:
            return list(book.sheet_names())
        finally:
            book.release_resources()
    wb = _open_xlsx(data, filename)
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def _open_xlsx(data: bytes, filename: str):
    """An openpyxl workbook (read-only, cached values), or DataValidationError for a locked or damaged file."""
    if data.startswith(OLE2_MAGIC) or not zipfile.is_zipfile(io.BytesIO(data)):
        raise _fail(f"文件“{filename}”无法打开，{LOCKED_EXCEL}")
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises KeyError, ValueError, XML and zip errors for a damaged package
        raise _fail(f"文件“{filename}”无法打开，{LOCKED_EXCEL}") from exc


def _xlsx_rows(ws, limit: int | None = None) -> Rows:
    return [(i, list(cells)) for i, cells in enumerate(ws.iter_rows(values_only=True, max_row=limit), start=1)]


_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+\d+:[A-Z]+\d+)"')


def merged_ranges(data: bytes, ws) -> list[tuple[int, int, int, int]]:
    """The merged ranges of a read-only worksheet as (min_col, min_row, max_col, max_row), 1-based.

    Read-only openpyxl streams cells and does not list merges, so they are read from the sheet's XML."""
    path = getattr(ws, "_worksheet_path", None)
    if not path:
        return []
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        try:
            xml = zf.read(path)
        except KeyError:
            return []
    return [range_boundaries(ref.decode()) for ref in _MERGE.findall(xml)]


def fill_merged_down(rows: Rows, ranges: list[tuple[int, int, int, int]]) -> Rows:
    """Cells merged over several rows (a community written once beside its compounds) take the top cell's value
    in every row of the range; merges within one row (titles) are left as they are."""
    if not ranges:
        return rows
    at = {n: i for i, (n, _) in enumerate(rows)}
    out = [(n, list(cells)) for n, cells in rows]
    for min_col, min_row, max_col, max_row in ranges:
        if max_row == min_row or min_row not in at:
            continue
        top = out[at[min_row]][1]
        for n in range(min_row + 1, max_row + 1):
            if n not in at:
                continue
            cells = out[at[n]][1]
            for col in range(min_col, max_col + 1):
                if col - 1 < len(top):
                    cells.extend([None] * (col - len(cells)))
                    cells[col - 1] = top[col - 1]
    return out


def read_xlsx(data: bytes, filename: str, layer: str | None = None, sheet: str | int | None = None) -> SourceTable:
    """The asked (or best fitting) worksheet; ``_row`` is the Excel row number; see ``_choose_sheet``.

    An OLE2 file under an .xlsx name is read as an old .xls when it is one (else: locked or damaged)."""
    if data.startswith(OLE2_MAGIC) and _is_biff(data):
        return _read_biff(data, filename, layer, sheet, [f"文件“{filename}”实为旧版 .xls 格式，已按 .xls 读取"])
    wb = _open_xlsx(data, filename)
    try:
        names = wb.sheetnames
        index, notes = _choose_sheet(names, lambda i: _xlsx_rows(wb[names[i]], HEADER_SEARCH_ROWS), layer, sheet,
                                     filename)
        ws = wb[names[index]]
        rows = fill_merged_down(_xlsx_rows(ws), merged_ranges(data, ws))
    except DataValidationError:
        raise
    except Exception as exc:  # a damaged sheet part fails only when read (read-only mode streams it)
        raise _fail(f"文件“{filename}”无法读取，{LOCKED_EXCEL}") from exc
    finally:
        wb.close()
    return _from_rows(rows, filename, layer, notes=notes)


def _is_biff(data: bytes) -> bool:
    """Whether OLE2 bytes are an old Excel workbook xlrd can open (not an encrypted .xlsx)."""
    try:
        xlrd.open_workbook(file_contents=data, on_demand=True).release_resources()
        return True
    except Exception:  # noqa: BLE001 — any failure means "not a readable .xls"; the caller reports it
        return False


def _open_xls(data: bytes, filename: str):
    try:
        return xlrd.open_workbook(file_contents=data, on_demand=True)
    except Exception as exc:  # xlrd raises XLRDError, CompDocError, struct and index errors for bad files
        raise _fail(f"文件“{filename}”无法打开，{LOCKED_EXCEL}") from exc


def _biff_value(cell, datemode: int):
    """A cell of an old .xls as openpyxl would give it: None, str, int (whole numbers), float, bool, datetime."""
    kind, value = cell.ctype, cell.value
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if kind == xlrd.XL_CELL_TEXT:
        return value if value.strip() else None
    if kind == xlrd.XL_CELL_BOOLEAN:
        return bool(value)
    if kind == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(value, "#错误")
    if kind == xlrd.XL_CELL_DATE:
        try:
            return xlrd.xldate.xldate_as_datetime(value, datemode)
        except (xlrd.xldate.XLDateError, ValueError, OverflowError):
            return value
    return int(value) if float(value).is_integer() else value


def _biff_rows(sheet, datemode: int, limit: int | None = None) -> Rows:
    count = sheet.nrows if limit is None else min(limit, sheet.nrows)
    return [(r + 1, [_biff_value(c, datemode) for c in sheet.row(r)]) for r in range(count)]


def _read_biff(data: bytes, filename: str, layer: str | None, sheet: str | int | None,
               notes: list[str] | None = None) -> SourceTable:
    """An old binary .xls (BIFF) through xlrd; date-formatted cells become datetimes."""
    book = _open_xls(data, filename)
    try:
        names = book.sheet_names()
        index, picked = _choose_sheet(names, lambda i: _biff_rows(book.sheet_by_index(i), book.datemode,
                                                                  HEADER_SEARCH_ROWS), layer, sheet, filename)
        rows = _biff_rows(book.sheet_by_index(index), book.datemode)
    except DataValidationError:
        raise
    except Exception as exc:  # a damaged sheet record fails only when the sheet is loaded
        raise _fail(f"文件“{filename}”无法读取，{LOCKED_EXCEL}") from exc
    finally:
        book.release_resources()
    return _from_rows(rows, filename, layer, notes=[*(notes or []), *picked])


def read_xls(data: bytes, filename: str, layer: str | None = None, sheet: str | int | None = None,
             encoding: str | None = None) -> SourceTable:
    """An .xls: old Excel (xlrd), or what web systems save under that name: .xlsx, an HTML table or text."""
    if data.startswith(ZIP_MAGIC):
        src = read_xlsx(data, filename, layer, sheet)
        src.notes.insert(0, f"文件“{filename}”实为 .xlsx 格式，已按 .xlsx 读取")
        return src
    if data.startswith(OLE2_MAGIC):
        return _read_biff(data, filename, layer, sheet)
    text = _text_or_none(data, encoding)
    if text is not None and _is_html(text):
        rows = _html_rows(text)
        if rows:
            note = f"文件“{filename}”实为网页表格（HTML），已按其中的表格读取，请核对各列"
            return _from_rows(rows, filename, layer, notes=[note])
    elif text is not None:
        src = read_csv(data, filename, layer, encoding)
        src.notes.insert(0, f"文件“{filename}”实为文本表格，已按 CSV 读取，请核对各列")
        return src
    raise _fail(f"文件“{filename}”不是能读取的 Excel 文件，请在 Excel 中打开后另存为 .xlsx 再导入")


def _text_or_none(data: bytes, encoding: str | None) -> str | None:
    try:
        return decode_text(data, encoding)[0]
    except DataValidationError:
        return None


def _is_html(text: str) -> bool:
    head = text.lstrip()[:2048].lower()
    return head.startswith("<") and ("<table" in text[:1_000_000].lower() or "<html" in head)


class _HtmlTables(HTMLParser):
    """The cells of every <table> in an HTML page (colspan padded with None; rowspan not expanded)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list]] = []
        self.row: list | None = None
        self.cell: list[str] | None = None
        self.span = 1

    def _close_cell(self) -> None:
        if self.cell is not None and self.row is not None:
            text = "".join(self.cell).strip()
            self.row.extend([text or None] + [None] * (self.span - 1))
        self.cell = None

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self._close_cell()
            self.row = []
            self.tables[-1].append(self.row)
        elif tag in ("td", "th") and self.row is not None:
            self._close_cell()
            span = dict(attrs).get("colspan") or "1"
            self.span = max(1, min(int(span), 256)) if span.isdigit() else 1
            self.cell = []
        elif tag == "br" and self.cell is not None:
            self.cell.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th", "tr", "table"):
            self._close_cell()
        if tag in ("tr", "table"):
            self.row = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def _html_rows(text: str) -> Rows:
    """(row number, cells) of the largest table in an HTML page; row numbers count its <tr> from 1."""
    parser = _HtmlTables()
    parser.feed(text)
    parser.close()
    tables = [t for t in parser.tables if t]
    if not tables:
        return []
    return [(i, cells) for i, cells in enumerate(max(tables, key=len), start=1)]


# ---------------------------------------------------------------- vector files


def dbf_encoding(dbf: Path) -> str:
    """The encoding of a .dbf without .cpg: UTF-8 if its records decode as UTF-8, else GB18030 (GBK)."""
    raw = dbf.read_bytes()
    header_len = int.from_bytes(raw[8:10], "little") if len(raw) >= 10 else 0
    try:
        raw[header_len:].decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        return "GB18030"


def _zip_members(zf: zipfile.ZipFile, filename: str) -> list[zipfile.ZipInfo]:
    """The files of a zip (no folders or hidden files), refused when they unpack too large."""
    members = [m for m in zf.infolist() if not m.is_dir() and not Path(m.filename).name.startswith(".")]
    if sum(m.file_size for m in members) > MAX_UNZIPPED_BYTES:
        raise _fail(f"压缩包“{filename}”解压后超过 2 GB，请只压缩要导入的 Shapefile 后再导入")
    return members


def _shape_parts(members: list[zipfile.ZipInfo], filename: str) -> dict[str, zipfile.ZipInfo]:
    """Suffix -> member for the one Shapefile in a zip; DataValidationError when there is none, several, or no .dbf."""
    shps = [m for m in members if m.filename.lower().endswith(".shp")]
    if not shps:
        found = "、".join(Path(m.filename).name for m in members[:5]) or "无文件"
        raise _fail(f"压缩包“{filename}”中没有 .shp 文件（其中有：{found}），"
                    "请把 Shapefile 的 .shp、.shx、.dbf、.prj 一起压缩后再导入")
    if len(shps) > 1:
        found = "、".join(Path(m.filename).name for m in shps)
        raise _fail(f"压缩包“{filename}”中有多个 .shp 文件（{found}），请每个压缩包只放一个 Shapefile 后再导入")
    stem = Path(shps[0].filename).with_suffix("").as_posix().lower()
    parts = {Path(m.filename).suffix.lower(): m for m in members
             if Path(m.filename).with_suffix("").as_posix().lower() == stem}
    if ".dbf" not in parts:
        raise _fail(f"压缩包“{filename}”中缺少 .dbf 属性表文件，请把与 .shp 同名的 .dbf 一起压缩后再导入")
    return parts


def _extract_shapefile(data: bytes, folder: Path, filename: str) -> Path:
    """Extract the Shapefile parts of a zip as ``folder/layer.*`` (no path escapes ``folder``); the .shp path."""
    bad = f"文件“{filename}”不是有效的 ZIP 压缩包（可能已损坏或设有密码），请重新压缩 Shapefile 的全部文件后再导入"
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise _fail(bad)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for suffix, member in _shape_parts(_zip_members(zf, filename), filename).items():
                if suffix in SHAPE_PARTS:
                    (folder / ("layer" + suffix)).write_bytes(zf.read(member))
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError, ValueError) as exc:
        if isinstance(exc, DataValidationError):
            raise
        raise _fail(bad) from exc
    return folder / "layer.shp"


def _copy_shapefile(shp: Path, folder: Path, filename: str) -> Path:
    """Copy a .shp on disk and its sibling parts (same stem, any case) to ``folder/layer.*``; the .shp path."""
    if not shp.is_file():
        raise _fail(f"找不到文件“{filename}”，请检查文件名和所在文件夹后重试")
    if shp.stat().st_size == 0:
        raise _fail(f"文件“{filename}”是空的（没有任何内容），请确认导出或保存成功后重新选择文件")
    stem = shp.stem.lower()
    for sibling in shp.parent.iterdir():
        suffix = sibling.suffix.lower()
        if sibling.is_file() and sibling.stem.lower() == stem and suffix in SHAPE_PARTS:
            shutil.copyfile(sibling, folder / ("layer" + suffix))
    if not (folder / "layer.dbf").exists():
        raise _fail(f"Shapefile“{filename}”缺少同名的 .dbf 属性表文件，请把 .dbf 放在 .shp 旁边（或一起压缩成 .zip）后再导入")
    return folder / "layer.shp"


def _read_shp(source: bytes | str | Path, filename: str, encoding: str | None, sheet) -> SourceTable:
    """A .shp path with its sibling parts (read from a temporary copy, so a rebuilt .shx is not written beside it)."""
    if not isinstance(source, str | Path):
        raise _fail(f"单独的 .shp 文件“{filename}”无法导入，请把同名的 .shp、.shx、.dbf、.prj 一起压缩成 .zip 后再导入")
    with tempfile.TemporaryDirectory() as tmp:
        path = _copy_shapefile(Path(source), Path(tmp), filename)
        return _read_vector_path(path, filename, encoding, sheet)


def _geojson_text(data: bytes, filename: str, encoding: str | None) -> str:
    """The text of a GeoJSON file, checked as JSON first so a cut-off file is reported by line and column."""
    text, _ = decode_text(data, encoding, filename)
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(f"文件“{filename}”不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列附近有格式错误（文件可能不完整），"
                    "请重新导出完整的 GeoJSON 后再导入") from exc
    if not isinstance(obj, dict) or obj.get("type") not in GEOJSON_TYPES:
        raise _fail(f"文件“{filename}”是 JSON 但不是 GeoJSON（应为 type 为 FeatureCollection 的要素集合），"
                    "请在 GIS 软件中导出为 GeoJSON 后再导入")
    return text


def _vector_file(data: bytes, folder: Path, filename: str, encoding: str | None) -> tuple[Path, str | None]:
    """(path to read, encoding left to apply) of vector bytes written into ``folder``."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".zip":
        return _extract_shapefile(data, folder, filename), encoding
    if suffix in (".geojson", ".json"):
        path = folder / "layer.geojson"
        path.write_text(_geojson_text(data, filename, encoding), encoding="utf-8")
        return path, None
    if suffix == ".gpkg" and not data.startswith(SQLITE_MAGIC):
        raise _fail(f"文件“{filename}”不是有效的 GeoPackage（可能已损坏或只是改了扩展名），"
                    "请在 GIS 软件中重新导出 .gpkg 后再导入")
    path = folder / ("layer" + suffix)
    path.write_bytes(data)
    return path, encoding


def read_vector(data: bytes, filename: str, encoding: str | None = None, sheet: str | int | None = None) -> SourceTable:
    """GeoJSON, GeoPackage or zipped Shapefile bytes, through a temporary folder."""
    with tempfile.TemporaryDirectory() as tmp:
        path, encoding = _vector_file(data, Path(tmp), filename, encoding)
        return _read_vector_path(path, filename, encoding, sheet)


@contextmanager
def _gdal_options(options: dict[str, str]) -> Iterator[None]:
    """GDAL config options set for the block and restored afterwards (they are process-wide); GDAL's
    warnings are silenced in the block (their English text names the temporary folder)."""
    old = {key: pyogrio.get_gdal_config_option(key) for key in options}
    pyogrio.set_gdal_config_options(options)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            yield
    finally:
        pyogrio.set_gdal_config_options(old)


def _unreadable_vector(filename: str) -> str:
    kind = {".gpkg": "GeoPackage", ".zip": "Shapefile", ".shp": "Shapefile"}.get(Path(filename).suffix.lower(), "GeoJSON")
    return f"文件“{filename}”无法作为 {kind} 读取（可能已损坏或内容不完整），请在 GIS 软件中重新导出后再导入"


def _layer_of(path: Path, sheet, filename: str) -> tuple[str | int | None, list[str]]:
    """(layer to read, notes) of a GeoPackage: the asked layer (checked), else the first with a note when several."""
    if path.suffix.lower() != ".gpkg":
        return None, []
    names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    if not names:
        raise _fail(f"GeoPackage“{filename}”中没有任何图层，请在 GIS 软件中检查后重新导出")
    if sheet is None or str(sheet).strip() == "":
        return names[0], ([f"GeoPackage 含多个图层，已读取第一个图层“{names[0]}”"] if len(names) > 1 else [])
    if str(sheet).isdigit() and int(sheet) < len(names):
        return int(sheet), []
    if str(sheet) in names:
        return str(sheet), []
    raise _fail(f"GeoPackage“{filename}”中没有图层“{sheet}”，请从现有图层中选择：{'、'.join(names)}")


def _shapefile_setup(path: Path, encoding: str | None) -> tuple[str | None, dict[str, str], list[str]]:
    """(encoding, GDAL options, notes) for reading a Shapefile: .dbf encoding, .shx rebuilt, .prj missing."""
    used, options, notes = encoding, {}, []
    if not encoding and not path.with_suffix(".cpg").exists() and path.with_suffix(".dbf").exists():
        used = dbf_encoding(path.with_suffix(".dbf"))
    if not path.with_suffix(".shx").exists():
        options["SHAPE_RESTORE_SHX"] = "YES"
        notes.append(SHX_NOTE)
    if not path.with_suffix(".prj").exists():
        notes.append(PRJ_NOTE)
    return used, options, notes


def _read_vector_path(path: Path, filename: str, encoding: str | None, sheet) -> SourceTable:
    used, options, notes = encoding, {}, []
    try:
        if path.suffix.lower() == ".shp":
            used, options, notes = _shapefile_setup(path, encoding)
        with _gdal_options(options):
            layer, layer_notes = _layer_of(path, sheet, filename)
            gdf = pyogrio.read_dataframe(path, encoding=used, layer=layer)
    except (DataValidationError, UnicodeError):
        raise
    except (RuntimeError, ValueError, OSError, IndexError) as exc:  # pyogrio/GDAL errors (their text names the temp path)
        raise _fail(_unreadable_vector(filename)) from exc
    table = pd.DataFrame({c: gdf[c].astype(object).where(gdf[c].notna(), None) for c in gdf.columns
                          if c != gdf.geometry.name})
    table[ROW] = np.arange(1, len(gdf) + 1)
    geometry = gpd.GeoSeries(gdf.geometry.values, index=table.index)
    return SourceTable(table, filename, used or "UTF-8", geometry, gdf.crs, notes=[*notes, *layer_notes])
