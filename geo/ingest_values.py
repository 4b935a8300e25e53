"""Single cell values of an imported table in their stored form, as offices type them.

``coerce(spec, value, today)`` turns one raw cell into the stored value of a field (int, float,
bool, date, enum value, text), accepting what offices write: full-width digits (NFKC), thousands
separators, a unit the field allows (“120户”, “300万元”), dates as ``2025-03-01``, ``2025/3/1``,
``2025年3月1日``, ``2025.03.01`` or Excel serial numbers. ``as_coordinate`` reads degrees including
``东经119.2975°`` and degrees-minutes-seconds. A value that does not fit raises ValueError with the
Chinese reason. ``shown`` is how a raw value appears in a report. Pure: no files, no SQL.
"""
from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime, timedelta
from numbers import Integral, Real

import numpy as np
import pandas as pd

from geo.ingest_fields import FieldSpec


class _Bad(ValueError):
    """A value that does not fit its field; the message is the Chinese reason."""


def is_blank(value) -> bool:
    """None, NaN, NaT and whitespace-only text are blank."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def folded(value) -> str:
    """Text as typed, folded: full-width digits, letters and signs to half-width (NFKC), trimmed."""
    return unicodedata.normalize("NFKC", str(value)).strip()


def _number_text(value, units: tuple[str, ...] = ()) -> str:
    """A typed number as plain text: half-width, no thousands separators, one allowed unit dropped (“120户”)."""
    text = folded(value).replace(",", "").replace(" ", "")
    for unit in sorted(units, key=len, reverse=True):
        if text.endswith(unit) and len(text) > len(unit):
            return text[: -len(unit)]
    return text


def _as_int(value, units: tuple[str, ...] = ()) -> int:
    if isinstance(value, bool):
        raise _Bad("应为整数")
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real) and math.isfinite(value) and float(value).is_integer():
        return int(value)
    text = _number_text(value, units)
    if re.fullmatch(r"[+-]?\d+(\.0+)?", text):
        return int(float(text))
    raise _Bad("应为整数")


def _as_float(value, units: tuple[str, ...] = ()) -> float:
    if isinstance(value, bool):
        raise _Bad("应为数字")
    try:
        number = float(_number_text(value, units)) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise _Bad("应为数字") from None
    if not math.isfinite(number):
        raise _Bad("应为有限的数字")
    return number


_HEMISPHERE = re.compile(r"^(?:东经|北纬|经度|纬度|[EN])[:：]?|(?:[EN]|东经|北纬)$")
_DMS = re.compile(r"^(\d+(?:\.\d+)?)[°度](?:(\d+(?:\.\d+)?)(?:′|'|分))?(?:(\d+(?:\.\d+)?)(?:″|′′|\"|''|秒))?$")


def as_coordinate(value) -> float:
    """A longitude or latitude in degrees from a number or from text as offices type it.

    Accepts ``119.2975``, ``"119.2975°"``, ``"东经119.2975°"``, ``"119.2975E"``, full-width digits, and
    degrees-minutes-seconds ``"119°17′51.0″"`` / ``"119度17分51秒"``. Raises ValueError otherwise."""
    if not isinstance(value, str):
        return _as_float(value)
    text = _HEMISPHERE.sub("", folded(value).upper().replace(" ", ""))
    match = _DMS.match(text)
    if match is None:
        return _as_float(text)
    degrees, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    if minutes >= 60 or seconds >= 60:
        raise _Bad("度分秒中的分、秒应小于 60")
    return degrees + minutes / 60 + seconds / 3600


_TRUE = {"是", "有", "y", "yes", "true", "1", "√", "t"}
_FALSE = {"否", "无", "没有", "n", "no", "false", "0", "×", "f"}


def _as_bool(value) -> bool:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    text = folded(int(value) if isinstance(value, Real) and float(value).is_integer() else value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _Bad("应为“是”或“否”")


_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?$")
_EXCEL_EPOCH = date(1899, 12, 30)


def _as_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, Real) and not isinstance(value, bool) and 20_000 <= float(value) <= 80_000:
        return _EXCEL_EPOCH + timedelta(days=int(value))  # an Excel date serial number
    match = _DATE.match(folded(value))
    if match:
        try:
            return date(*map(int, match.groups()))
        except ValueError:
            raise _Bad("不是有效的日期") from None
    raise _Bad("应为日期，如 2026-05-01")


def _as_enum(value, vocab):
    text = folded(value).replace(" ", "")
    try:
        return vocab.from_label(text).value
    except ValueError:
        pass
    starts = [m for m in vocab if m.label.startswith(text) or text.startswith(m.label)]
    if len(starts) == 1 and text:
        return starts[0].value
    raise _Bad(f"不是有效的{vocab.title()}，可选：{'、'.join(vocab.labels().values())}")


def _as_text(value) -> str:
    if isinstance(value, Real) and not isinstance(value, bool) and float(value).is_integer():
        return str(int(value))  # Excel keeps codes typed as numbers as 350102004001.0
    if isinstance(value, datetime | date):
        return value.isoformat()[:10]
    return str(value).strip()


def coerce(spec: FieldSpec, value, today: date):
    """``value`` in the stored form of ``spec`` (None when blank, or one of its ``blank_words`` such as “无”);
    raises ValueError with the Chinese reason."""
    if is_blank(value) or (spec.blank_words and folded(value) in spec.blank_words):
        if spec.required:
            raise _Bad("必填，不能为空")
        return None
    kind = spec.kind
    if kind in ("int", "float"):
        out = (_as_int if kind == "int" else _as_float)(value, spec.units)
    elif kind == "enum":
        out = _as_enum(value, spec.vocab)
    elif kind == "code":
        out = folded(_as_text(value))
    else:
        out = {"bool": _as_bool, "date": _as_date}.get(kind, _as_text)(value)
    _check_range(spec, out, today)
    return out


def _check_range(spec: FieldSpec, out, today: date) -> None:
    if isinstance(out, str) and spec.max_len and len(out) > spec.max_len:
        raise _Bad(f"超过 {spec.max_len} 个字符")
    if isinstance(out, int | float) and not isinstance(out, bool):
        if spec.lo is not None and out < spec.lo:
            raise _Bad("不能为负数" if spec.lo == 0 else f"应不小于 {spec.lo:g}")
        if spec.hi is not None and out > spec.hi:
            raise _Bad(f"应不大于 {spec.hi:g}")
        if spec.not_future and out > today.year:
            raise _Bad(f"不能晚于今年（{today.year}）")
    if isinstance(out, date) and spec.not_future and out > today:
        raise _Bad(f"不能晚于今天（{today.isoformat()}）")


def shown(value) -> str:
    """A raw cell value as the text shown in the report (blank for missing), at most 60 characters."""
    if is_blank(value):
        return ""
    text = _as_text(value) if not isinstance(value, float) or value.is_integer() else f"{value:g}"
    return text if len(text) <= 60 else text[:59] + "…"
