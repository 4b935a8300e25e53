"""Reading an office file into a raw table: ``read_source`` picks the reader by the file's suffix.

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
from pathlib import Path

from data.ingest.sheets import read_csv, read_xls, read_xlsx, sheet_names
from data.ingest.source import SUFFIXES, SourceTable, fail
from data.ingest.vector import read_shp, read_vector
from geo.ingest_rows import HEADER_SEARCH_ROWS

__all__ = ["HEADER_SEARCH_ROWS", "SUFFIXES", "SourceTable", "read_source", "sheet_names"]


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
        raise fail(f"不支持的文件类型“{suffix or '无扩展名'}”：文件“{name}”无法导入，"
                    f"请另存为 {'、'.join(SUFFIXES)} 之一后再导入")
    _check_encoding(encoding, name)
    try:
        if suffix == ".shp":
            return read_shp(source, name, encoding, sheet)
        data = bytes_of(source, name)
        _check_not_empty(data, name)
        return _read_bytes(data, name, suffix, layer, encoding, sheet)
    except UnicodeError as exc:
        raise fail(f"无法按编码“{encoding or '自动识别'}”读取文件“{name}”，请改选编码 gbk 或 utf-8 后重试") from exc


def _check_encoding(encoding: str | None, name: str) -> None:
    """DataValidationError when ``encoding`` is given but is not the name of a text encoding."""
    if not encoding:
        return
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise fail(f"不认识的编码名称“{encoding}”，无法读取文件“{name}”；请填写 gbk 或 utf-8 等常用编码") from exc


def _read_bytes(data: bytes, name: str, suffix: str, layer: str | None, encoding: str | None,
                sheet: str | int | None) -> SourceTable:
    if suffix in (".csv", ".txt"):
        return read_csv(data, name, layer, encoding)
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(data, name, layer, sheet)
    if suffix == ".xls":
        return read_xls(data, name, layer, sheet, encoding)
    return read_vector(data, name, encoding, sheet)


def bytes_of(source: bytes | str | Path, name: str) -> bytes:
    """The bytes of an upload, or of the file at a path (DataValidationError in Chinese when it cannot be read)."""
    if not isinstance(source, str | Path):
        return bytes(source)
    try:
        return Path(source).read_bytes()
    except FileNotFoundError as exc:
        raise fail(f"找不到文件“{name}”，请检查文件名和所在文件夹后重试") from exc
    except OSError as exc:
        raise fail(f"无法打开文件“{name}”（可能无权读取或正被其他程序占用），请关闭占用它的程序后重试") from exc


def _check_not_empty(data: bytes, name: str) -> None:
    """DataValidationError when ``data`` is 0 bytes, or only a byte-order mark and whitespace."""
    body = data
    for bom in (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        body = body.removeprefix(bom)
    if not body.strip(b" \t\r\n\x00\x0b\x0c"):
        raise fail(f"文件“{name}”是空的（没有任何内容），请确认导出或保存成功后重新选择文件")
