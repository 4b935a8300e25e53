"""What a reader returns (``SourceTable``), the failure every reader raises, and text decoding.

Every failure to read is a ``DataValidationError`` made by ``fail``: one Chinese sentence that names
the user's file and says what to do; no temporary path, library message or traceback reaches the
user (the library's exception stays chained as ``__cause__`` for the log). Encodings: UTF-8 (with
or without BOM), UTF-16 with BOM and GBK/GB18030 are detected, or taken from the caller.
"""
from __future__ import annotations

import codecs
from dataclasses import dataclass, field

import charset_normalizer
import geopandas as gpd
import pandas as pd

from geo.errors import DataValidationError
from geo.ingest_problems import ROW, Problem

__all__ = ["GEOJSON_TYPES", "LOCKED_EXCEL", "MAX_UNZIPPED_BYTES", "OLE2_MAGIC", "PRJ_NOTE", "SHAPE_PARTS", "SHX_NOTE",
           "SQLITE_MAGIC", "SUFFIXES", "SourceTable", "TABLE_SUFFIXES", "VECTOR_SUFFIXES", "ZIP_MAGIC", "decode_text",
           "fail"]

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


def fail(message: str) -> DataValidationError:
    """The error a reader raises: ``message`` (one Chinese sentence naming the file) as a file-level problem."""
    return DataValidationError(message, [(None, "文件", "", message)])


def decode_text(data: bytes, encoding: str | None = None, filename: str = "文件") -> tuple[str, str]:
    """(text, encoding used): the given encoding, else UTF-8 (BOM allowed), UTF-16 with BOM, GB18030,
    or a detector's guess. DataValidationError naming ``filename`` for binary data or an unknown encoding."""
    if encoding:
        return data.decode(encoding), encoding
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    if data.startswith((ZIP_MAGIC, OLE2_MAGIC)):
        raise fail(f"文件“{filename}”实际是 Excel 或压缩文件，不是文本表格；"
                    "请用 .xlsx 扩展名导入，或在 Excel 中另存为 CSV 后再导入")
    for candidate in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(candidate), "utf-8" if candidate == "utf-8-sig" else candidate
        except UnicodeDecodeError:
            continue
    best = charset_normalizer.from_bytes(data).best()
    text = str(best) if best is not None else ""
    if best is None or _looks_binary(text):
        raise fail(f"无法识别文件“{filename}”的文字编码（或它不是文本表格），请确认是 CSV 文件并指定编码 gbk 或 utf-8 后重试")
    return text, best.encoding


def _looks_binary(text: str) -> bool:
    """Whether decoded text holds NULs or many control characters (a binary file, not a table)."""
    controls = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\t\r\n")
    return "\x00" in text or controls > len(text[:4096]) // 100
