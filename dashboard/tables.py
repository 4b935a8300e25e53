"""Tables that never read 「None」, 「nan」 or 「empty」.

``st.dataframe`` draws a missing cell as 「None」 and a table without rows as 「empty」, whatever a Styler or a
column format says (measured in Chromium, Streamlit 1.67). So a table that may hold a missing value is shown
through :func:`dash_missing` (the column becomes text, the missing cell 「—」), and one that may be empty
through :func:`show_table` (a sentence in its place).
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

MISSING = "—"
"""What a missing value reads as in a table."""


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


def show_table(frame: pd.DataFrame, empty: str, **kwargs) -> None:
    """``st.dataframe(dash_missing(frame), **kwargs)``, or the sentence ``empty`` (e.g. 「所选范围内没有超期案件」)
    when the frame has no rows — never Streamlit's 「empty」."""
    if frame.empty:
        st.caption(empty)
        return
    st.dataframe(dash_missing(frame), **kwargs)
