"""Tables from CSV/TXT, XLSX and old XLS (and the web pages or text that some systems save as .xls).

Each returns a ``SourceTable`` whose ``_row`` is the row number the user sees (Excel row, CSV
line). Rows that are not records (titles, 合计 rows, blank rows, repeated headers, notes, a second
table) are left out and listed in ``skipped`` (see ``geo.ingest_rows``); cells merged down a column
fill every row of the merge; when no sheet is asked for, the sheet whose header best fits the layer
is used and a note says so.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable
from html.parser import HTMLParser

import pandas as pd
import xlrd
from openpyxl import load_workbook
from openpyxl.utils.cell import range_boundaries

from data.ingest.source import LOCKED_EXCEL, OLE2_MAGIC, ZIP_MAGIC, SourceTable, decode_text, fail
from geo.errors import DataValidationError
from geo.ingest_fields import header_score
from geo.ingest_problems import ROW
from geo.ingest_rows import HEADER_SEARCH_ROWS, Rows, classify_rows, is_blank_cell

__all__ = ["fill_merged_down", "merged_ranges", "read_csv", "read_xls", "read_xlsx", "sheet_names"]


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
        raise fail(f"文件“{filename}”第 {sheet.overflow[0]} 行的数据超出表头的 {len(sheet.header)} 列，"
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
        raise fail(f"工作簿“{filename}”只有 {len(names)} 个工作表（{listed}），请重新选择工作表")
    for i, name in enumerate(names):
        if name == sheet or name.strip() == str(sheet).strip():
            return i
    raise fail(f"工作簿“{filename}”中没有工作表“{sheet}”，请从现有工作表中选择：{listed}")


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
        raise fail(f"文件“{filename}”无法打开，{LOCKED_EXCEL}")
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises KeyError, ValueError, XML and zip errors for a damaged package
        raise fail(f"文件“{filename}”无法打开，{LOCKED_EXCEL}") from exc


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
        raise fail(f"文件“{filename}”无法读取，{LOCKED_EXCEL}") from exc
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
        raise fail(f"文件“{filename}”无法打开，{LOCKED_EXCEL}") from exc


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
        raise fail(f"文件“{filename}”无法读取，{LOCKED_EXCEL}") from exc
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
    raise fail(f"文件“{filename}”不是能读取的 Excel 文件，请在 Excel 中打开后另存为 .xlsx 再导入")


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
