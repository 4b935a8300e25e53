"""A problem found in an imported file, as the report shows it: (行号, 字段, 值, 问题), in plain Chinese.

The row is the one the user sees in their file (Excel row, CSV line, feature number), or ``FILE_LEVEL``
for the whole file. Pure: no files, no SQL.
"""
from __future__ import annotations

from typing import NamedTuple

import pandas as pd

ROW = "_row"
"""Column of the row number the user sees in their file."""
FILE_LEVEL = None
"""Row of a problem that concerns the whole file (shown as “全表”)."""
PROBLEM_COLUMNS = ("行号", "字段", "值", "问题")


class Problem(NamedTuple):
    """One problem: the user's row number (None for the whole file), the field as the user names it,
    the offending value as text, and the reason in plain Chinese."""

    row: int | None
    field: str
    value: str
    reason: str


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    """Problems as a table with Chinese headers 行号/字段/值/问题, file-level ones first, then by row."""
    rows = sorted(problems, key=lambda p: (-1 if p.row is None else p.row))
    frame = pd.DataFrame([(("全表" if p.row is None else p.row), p.field, p.value, p.reason) for p in rows],
                         columns=list(PROBLEM_COLUMNS))
    return frame.astype({"行号": object})
