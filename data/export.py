"""Excel export: tables (pandas DataFrames with Chinese headers) to one .xlsx workbook.

One sheet per table, header bold and frozen, with an autofilter. Numbers stay numbers, dates are
Excel dates, booleans read 是/否, and every text cell that Excel could take for a formula
(starting with ``= + - @``, a tab or a carriage return) is neutralised by a leading ``'`` and
stored as a string, so a crafted compound name can never run as a formula (CSV/formula injection).
Time-zone-aware datetimes (the audit log's UTC times) are shown in Beijing time (UTC+8).
"""
from __future__ import annotations

import math
import re
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from numbers import Integral, Real

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from geo.errors import GuloError
from geo.lifecycle import DISTRICT_TZ

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A text cell starting with one of these is prefixed with ``'`` so Excel never evaluates it."""
MAX_SHEET_NAME = 31
MAX_CELL_TEXT = 32_767
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_MIN_WIDTH, _MAX_WIDTH = 6, 60


def safe_text(text: str) -> str:
    """``text`` made safe for a cell: formula starts neutralised, control characters dropped, length capped."""
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    if text.startswith(FORMULA_STARTS):
        text = "'" + text
    if len(text) > MAX_CELL_TEXT:
        text = text[: MAX_CELL_TEXT - 1] + "…"
    return text


def sheet_title(name: str, taken: set[str] | None = None) -> str:
    """A valid, unique sheet name: no ``[]:*?/\\``, no leading/trailing ``'``, at most 31 characters.

    ``taken`` holds the names already used (compared case-insensitively, as Excel does); a clash
    gets a suffix ``(2)``, ``(3)`` … within the 31 characters.
    """
    taken = taken if taken is not None else set()
    base = _BAD_SHEET_CHARS.sub("_", ILLEGAL_CHARACTERS_RE.sub("", str(name))).strip().strip("'").strip()
    base = (base or "表")[:MAX_SHEET_NAME]
    title, n = base, 1
    while title.casefold() in {t.casefold() for t in taken}:
        n += 1
        suffix = f"({n})"
        title = base[: MAX_SHEET_NAME - len(suffix)] + suffix
    return title


def cell_value(value):
    """A pandas/Python value as an Excel cell value: number, date, datetime, 是/否, safe text or None."""
    if value is None or _isna(value):
        return None
    if isinstance(value, bool | np.bool_):
        return "是" if value else "否"
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real | Decimal):
        number = float(value)
        return number if math.isfinite(number) else safe_text(str(number))
    if isinstance(value, datetime):
        return _naive(value)
    if isinstance(value, date):
        return value
    return safe_text(str(value))


def _isna(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _naive(value: datetime) -> datetime:
    """Excel has no time zones: aware datetimes are shown in Beijing time."""
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    return value if value.tzinfo is None else value.astimezone(DISTRICT_TZ).replace(tzinfo=None)


def _plain_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Datetime columns whose times are all midnight become dates; GeoDataFrame geometry is left out."""
    geometry = getattr(frame, "_geometry_column_name", None)
    frame = pd.DataFrame(frame).drop(columns=[geometry] if geometry in frame.columns else [])
    out = {}
    for i in range(frame.shape[1]):
        series = frame.iloc[:, i]
        if pd.api.types.is_datetime64_any_dtype(series) and not isinstance(series.dtype, pd.DatetimeTZDtype | pd.ArrowDtype):
            present = series.dropna()
            if (present == present.dt.normalize()).all():
                series = pd.Series([None if pd.isna(v) else v.date() for v in series], index=series.index, dtype=object)
        out[i] = series
    plain = pd.DataFrame(out)
    plain.columns = [str(c) for c in frame.columns]
    return plain


def _text_width(value) -> int:
    """Rough display width: CJK and other wide characters count two."""
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _write_sheet(ws: Worksheet, frame: pd.DataFrame) -> None:
    """Header row (bold, frozen, filterable), then the rows, then fitted column widths."""
    plain = _plain_columns(frame)
    ws.append([safe_text(c) for c in plain.columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    widths = [_text_width(c) for c in plain.columns]
    for row in plain.itertuples(index=False, name=None):
        values = [cell_value(v) for v in row]
        ws.append(values)
        widths = [max(w, _text_width(v) if v is not None else 0) for w, v in zip(widths, values)]
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = min(max(width + 2, _MIN_WIDTH), _MAX_WIDTH)
    ws.freeze_panes = "A2"
    if len(plain.columns):
        ws.auto_filter.ref = f"A1:{get_column_letter(len(plain.columns))}{len(plain) + 1}"


def to_xlsx(sheets: dict[str, pd.DataFrame]) -> bytes:
    """A workbook with one sheet per ``sheets`` item (sheet name -> table), as .xlsx bytes.

    Headers are the column names as given (Chinese, by the caller); the index is not written —
    ``reset_index()`` first if it matters. Sheet names are sanitised by ``sheet_title``. A
    GeoDataFrame's geometry column is left out. Raises ``GuloError`` when there is no table.
    """
    if not sheets:
        raise GuloError("没有可导出的表格")
    wb = Workbook()
    wb.remove(wb.active)
    taken: set[str] = set()
    for name, frame in sheets.items():
        title = sheet_title(name, taken)
        taken.add(title)
        _write_sheet(wb.create_sheet(title), frame)
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
