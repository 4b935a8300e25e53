"""How figures read, everywhere: cards, tables, the big screen, the briefing PDF and workbook.

Pure text functions, no Streamlit: ``data.briefing`` (PDF, workbook) cannot import ``dashboard``, so the one
formatting layer lives here at the bottom. Every function takes a value that may be missing (None, NaN,
``pd.NA``) and returns 「—」 (``MISSING``) for it rather than raising or printing "None"/"nan"; a missing
figure says why through ``missing_reason`` (for a tooltip or a footnote).

A change that rounds to zero at the shown precision reads 「与上期持平」 — no sign, no arrow (``change``
returns it; ``direction`` returns 0 so a card draws it grey and without an arrow).
"""
from __future__ import annotations

import pandas as pd

MISSING = "—"
"""What a figure that cannot be given shows (no data, no denominator)."""

REASONS = {
    "no_denominator": "没有可计算的基数（分母为 0），无法计算比例",
    "no_closed": "期内没有办结案件，无法计算",
    "no_data": "所选范围内暂无数据",
    "no_previous": "没有上期数据，无法比较",
}
"""Why a figure shows 「—」, by reason key (the text goes into the card's help or a table's note)."""

KINDS = ("count", "percent", "decimal", "fraction", "integer")
"""``count``: 1,234; ``percent``: a share 0–1 as 96.3%; ``decimal``: one decimal; ``fraction``: 12/69;
``integer``: rounded, no separator (households per grid: 512)."""


def is_missing(value: object) -> bool:
    """True for None, NaN and pandas' NA / NaT: a figure that cannot be given (a text or a date is not missing)."""
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def _with_unit(text: str, unit: str) -> str:
    return f"{text} {unit}" if unit else text


def count(value: object, unit: str = "") -> str:
    """A whole number with thousands separators and an optional unit: 「12,345」, 「3 个」; 「—」 when missing."""
    if is_missing(value):
        return MISSING
    return _with_unit(f"{round(float(value)):,}", unit)


def decimal(value: object, digits: int = 1, unit: str = "") -> str:
    """A number with ``digits`` decimals and separators: 「1,257.5 万元」; 「—」 when missing."""
    if is_missing(value):
        return MISSING
    return _with_unit(f"{float(value):,.{digits}f}", unit)


def percent(share: object, digits: int = 1) -> str:
    """A share (0–1) as a percentage: 0.9634 → 「96.3%」; 「—」 when missing (no denominator)."""
    if is_missing(share):
        return MISSING
    return f"{float(share):.{digits}%}"


def fraction(value: object, of: object, unit: str = "") -> str:
    """「12/69 个社区」: ``value`` out of ``of``; 「—」 when either is missing."""
    if is_missing(value) or is_missing(of):
        return MISSING
    return _with_unit(f"{round(float(value))}/{round(float(of))}", unit)


def figure(value: object, kind: str = "count", of: object = None, unit: str = "") -> str:
    """``value`` shown as ``kind`` (one of ``KINDS``)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if kind == "percent":
        return percent(value)
    if kind == "decimal":
        return decimal(value, unit=unit)
    if kind == "fraction":
        return fraction(value, of, unit)
    if kind == "integer":
        return MISSING if is_missing(value) else _with_unit(f"{float(value):.0f}", unit)
    return count(value, unit)


def _shown_change(diff: float, kind: str) -> float:
    """The change at the precision it is shown: percentage points and decimals to 0.1, counts to 1."""
    return round(diff, 1) if kind in ("percent", "decimal") else float(round(diff))


def direction(diff: object, kind: str = "count") -> int:
    """+1, -1 or 0 (level: the change rounds to zero as shown, or is unknown)."""
    if is_missing(diff):
        return 0
    shown = _shown_change(float(diff), kind)
    return (shown > 0) - (shown < 0)


def level_text(suffix: str = "较上期") -> str:
    """「与上期持平」 for the suffix 「较上期」 (「较上期末」 → 「与上期末持平」, 「较贪心法」 → 「与贪心法持平」)."""
    return f"与{suffix.removeprefix('较')}持平"


def change(diff: object, kind: str = "count", suffix: str = "较上期") -> str | None:
    """A change as text: 「+12 较上期」, 「-1.5 个百分点」 (``kind`` percent: ``diff`` in percentage points),
    「+0.4 较上期」 (decimal); 「与上期持平」 when it rounds to zero; None when unknown (no previous figure)."""
    if is_missing(diff):
        return None
    if direction(diff, kind) == 0:
        return level_text(suffix)
    d = float(diff)
    if kind == "percent":
        return f"{d:+.1f} 个百分点"
    if kind == "decimal":
        return f"{d:+,.1f} {suffix}"
    return f"{round(d):+,d} {suffix}"


def missing_reason(reason: str) -> str:
    """The sentence for a 「—」 (a key of ``REASONS``)."""
    if reason not in REASONS:
        raise ValueError(f"reason must be one of {', '.join(REASONS)}, not {reason!r}")
    return REASONS[reason]


def help_with_reason(help_text: str, value: object, reason: str = "no_denominator") -> str:
    """``help_text`` plus 「显示「—」：<reason>」 when ``value`` is missing, so a card's 「—」 says why."""
    if not is_missing(value):
        return help_text
    note = f"显示「{MISSING}」：{missing_reason(reason)}"
    return f"{help_text}；{note}" if help_text else note
