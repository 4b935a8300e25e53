"""Tables that never read 「None」, 「nan」 or 「empty」.

``st.dataframe`` draws a missing cell as 「None」 and a table without rows as 「empty」, whatever a Styler or a
column format says (measured in Chromium, Streamlit 1.67). Its ``placeholder`` argument is the one thing that
changes the first: :func:`show_table` passes ``placeholder="—"``, so a missing cell reads 「—」 while a number
column stays numeric (its ``NumberColumn`` format applies and a click on the header sorts it as numbers), and
it shows a sentence instead of a table without rows. :func:`dash_missing` turns missing cells into text
「—」 for what has no placeholder (``st.table``, a Styler shown as text).
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.formatting import MISSING, missing_reason

__all__ = ["MISSING", "dash_missing", "missing_help", "show_table"]


def _text(value, spec: str | None) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return MISSING
    if hasattr(value, "isoformat") and not spec:
        return value.isoformat()
    return spec.format(value) if spec else str(value)


def dash_missing(frame: pd.DataFrame, formats: dict[str, str] | None = None) -> pd.DataFrame:
    """A copy of ``frame`` for display in which every column holding a missing value is text, its missing
    cells 「—」 and its other cells formatted with ``formats[column]`` (a ``str.format`` pattern such as
    ``"{:.0%}"`` or ``"{:.1f}"``), else ``str()`` (dates as ISO ``YYYY-MM-DD``). Columns without a missing
    value are kept as they are, so they still sort as numbers; the input is not changed."""
    formats = formats or {}
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if values.isna().any() or values.map(lambda v: v is None).any():
            out[column] = [_text(v, formats.get(column)) for v in values]
    return out


def show_table(frame, empty: str, **kwargs):
    """``st.dataframe(frame, placeholder="—", **kwargs)`` (``frame``: a DataFrame or a Styler of one), or the
    sentence ``empty`` (e.g. 「所选范围内没有超期案件」) when it has no rows — never Streamlit's 「None」 or
    「empty」. Returns what ``st.dataframe`` returns (the selection with ``on_select``), None for the sentence."""
    data = getattr(frame, "data", frame)  # a Styler's frame
    if len(data) == 0:
        st.caption(empty)
        return None
    return st.dataframe(frame, placeholder=MISSING, **kwargs)


def missing_help(reason: str = "no_denominator") -> str:
    """A column's help for its 「—」 cells: 「显示「—」：没有可计算的基数…」 (a key of ``geo.formatting.REASONS``)."""
    return f"显示「{MISSING}」：{missing_reason(reason)}"
