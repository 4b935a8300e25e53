"""The rows of a sheet or CSV sorted into the header, the records and the rows that are not records.

Office ledgers hold more than a table: title rows, 合计/小计 rows, blank rows, the header repeated after
each printed page, notes and signatures under the table, and sometimes a second table under the first
with its columns in another order. ``classify_rows`` finds the header (the top row naming most fields
of the layer, as ``header_index``) and sorts every row under it. Each non-blank row is tried against
these rules in order; the first that fits decides:

1. note or signature: the first non-blank cell starts with 说明, 注：, 备注：, 填表人, 制表人, 审核人,
   负责人, 联系电话, 单位（盖章） … and few cells are filled → skipped;
2. header again: the first header's names once more, in the same order (a page break) → skipped; in
   another order, or — right after a blank, title, note or total row — a row naming at least two fields
   of the layer and two thirds as many as the first header or more → the header of another table:
   skipped, and the rows under it are re-aligned to the first header's columns by header text (then by
   the field the text names); its columns the first header lacks are dropped (named in a note), the
   first header's columns it lacks are None. A header of another table right under a record, with
   other names than the first header, is not recognised (the tables must be separated);
3. total by label: one of the first three non-blank cells, spaces left out, begins or ends with
   合计/小计/总计/汇总 (``合 计``, ``东街街道小计``, ``总计：``) → skipped;
4. title: exactly one non-blank cell, and it is text → skipped; starts a new section;
5. sums: no text at all, and each number equals the sum of its column over the records since the section
   start (header or title) or since the last total row; at least two records above → skipped;
6. otherwise a record, aligned to the header.

Blank rows inside the table are collected in runs, one skipped entry per run naming its rows; a row
holding nothing but a sequence number in its first column counts as blank (pre-numbered empty ledger
rows). Blank rows after the last record are not listed. Rows above the header are not listed either.
Pure: no files, no pandas; values are not coerced (see ``geo.ingest``).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from numbers import Real

from geo.ingest_fields import guess_mapping, header_score, normalise_header
from geo.ingest_problems import Problem

Rows = list[tuple[int, list]]
"""(row number the user sees, cell values) for each row of a sheet or CSV, in order."""
HEADER_SEARCH_ROWS = 15
"""How many rows at the top of a sheet are searched for the header (title rows may come first)."""
WHOLE_ROW = "整行"
"""The field of a skipped row's entry."""
NOTE_REASON = "表格说明/落款行，已跳过"
TOTAL_REASON = "合计行，已跳过"
SUMS_REASON = "数值为上方各行之和（合计行），已跳过"
REPEATED_HEADER_REASON = "重复的表头，已跳过"
NEW_HEADER_REASON = "另一张表的表头（列顺序不同），其下各行已按表头名称对齐"
TITLE_REASON = "标题行，已跳过"
BRIEF_CHARS = 40
"""Longest text shown for a skipped row's cells."""
_NOTE = re.compile(r"^(说明|附注|注\d*[：:]|备注[：:]|填表人|填报人|填表日期|填报日期|填报单位|制表人|制表日期|制表单位|"
                   r"审核人|审核日期|负责人|分管领导|联系人|联系电话|数据来源|单位[（(]盖章[)）]|[（(]盖章[)）])")
_TOTAL = re.compile(r"^(合计|小计|总计|汇总)|(合计|小计|总计|汇总)$")
_EDGE_PUNCT = re.compile(r"^[：:、,，.。\-—_*（(\[【]+|[：:、,，.。\-—_*）)\]】]+$")
_SPACE = re.compile(r"\s+")
_TRAILING_UNIT = re.compile(r"[（(][^（()）]*[)）]$")
MAX_SEQUENCE_NUMBER = 100_000
"""A lone integer in the first column below this is a pre-filled sequence number (the row counts as blank)."""


@dataclass
class SheetRows:
    """A sheet sorted: the header, the records aligned to it, and the rows skipped with their reasons.

    ``header_row``: the header's row number (None for no rows); ``header``: column names (blank header
    cells are named 列N, repeated names numbered); ``records``: (row, cells) with ``len(cells) ==
    len(header)``; ``skipped``: ``Problem(row, "整行", first cells, reason)`` in row order; ``notes``:
    things the user should know about how the rows were read (Chinese); ``overflow``: rows of records
    with values to the right of their header's last column (the caller decides what to say).
    """

    header_row: int | None
    header: list[str]
    records: list[tuple[int, list]] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    overflow: list[int] = field(default_factory=list)


# ---------------------------------------------------------------- cells


def is_blank_cell(value) -> bool:
    """None, NaN and whitespace-only text."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, float) and math.isnan(value)


def as_number(value) -> float | None:
    """A finite number from a numeric cell or a numeric text (thousands commas allowed), else None."""
    kind = type(value)
    if kind is str or isinstance(value, str):
        text = value.strip()
        if not text or text[0] not in _NUMBER_START:
            return None
        try:
            number = float(text.replace(",", ""))
        except ValueError:
            return None
    elif kind is bool or not isinstance(value, Real):
        return None
    else:
        number = float(value)
    return number if math.isfinite(number) else None


_NUMBER_START = frozenset("0123456789+-.")


def _filled(cells: list) -> list[tuple[int, object]]:
    return [(i, c) for i, c in enumerate(cells) if not is_blank_cell(c)]


def _squeeze(value) -> str:
    """A cell's text without any whitespace (``合 计`` -> ``合计``)."""
    return _SPACE.sub("", str(value))


def brief(cells: list) -> str:
    """The first non-blank cells as short text, for the report of a skipped row."""
    text = " ".join(str(c).strip() for _, c in _filled(cells)[:3])
    return text if len(text) <= BRIEF_CHARS else text[:BRIEF_CHARS - 1] + "…"


@dataclass(frozen=True)
class _Row:
    """One row looked at once: its cells, the non-blank ones with their column, and their numbers."""

    cells: list
    filled: list[tuple[int, object]]
    numbers: list[float | None]

    @classmethod
    def of(cls, cells: list) -> _Row:
        filled = _filled(cells)
        return cls(cells, filled, [as_number(v) for _, v in filled])

    @property
    def texts(self) -> int:
        """How many values are text (not numbers)."""
        return sum(1 for n in self.numbers if n is None)


# ---------------------------------------------------------------- the header


def header_index(rows: Rows, layer: str | None) -> int:
    """Index in ``rows`` of the header: the top row naming most fields (else the first with 2+ cells)."""
    top = rows[:HEADER_SEARCH_ROWS]
    if layer:
        scores = [header_score(cells, layer) for _, cells in top]
        if scores and max(scores) > 0:
            return scores.index(max(scores))
    for i, (_, cells) in enumerate(top):
        if len(_filled(cells)) >= 2:
            return i
    return 0


def header_names(cells: list) -> list[str]:
    """Column names from header cells: text as written (trimmed), 列N for a blank cell, name(2) for a repeat."""
    out: list[str] = []
    for i, cell in enumerate(cells, start=1):
        name = str(cell).strip() if not is_blank_cell(cell) else f"列{i}"
        base, n = name, 1
        while name in out:
            n += 1
            name = f"{base}({n})"
        out.append(name)
    return out


@lru_cache(maxsize=8192)
def _normalised(text: str) -> str:
    return normalise_header(text)


# ---------------------------------------------------------------- single-row rules


def _blank(row: _Row) -> bool:
    if not row.filled:
        return True
    number = row.numbers[0]
    return (len(row.filled) == 1 and row.filled[0][0] == 0 and number is not None and number.is_integer()
            and 0 < number < MAX_SEQUENCE_NUMBER)


def _note(row: _Row, width: int) -> bool:
    if not row.filled or len(row.filled) > max(3, width // 2) or row.numbers[0] is not None:
        return False
    return bool(_NOTE.match(_squeeze(row.filled[0][1])))


def _total(row: _Row) -> bool:
    for (_, value), number in list(zip(row.filled, row.numbers))[:3]:
        if number is not None:
            continue
        text = str(value)
        if ("计" in text or "汇" in text) and _TOTAL.search(_EDGE_PUNCT.sub("", _TRAILING_UNIT.sub("", _squeeze(text)))):
            return True
    return False


def _title(row: _Row) -> bool:
    return len(row.filled) == 1 and row.numbers[0] is None


def is_blank_row(cells: list) -> bool:
    """No value at all, or only a sequence number (an integer) in the first column."""
    return _blank(_Row.of(cells))


def is_note_row(cells: list, width: int) -> bool:
    """A note or signature line: the first value starts with 说明/注：/填表人 … and few cells are filled."""
    return _note(_Row.of(cells), width)


def is_total_row(cells: list) -> bool:
    """A 合计/小计/总计/汇总 row by its label (in one of the first three values, spaces ignored)."""
    return _total(_Row.of(cells))


def is_title_row(cells: list) -> bool:
    """Exactly one value, and it is text (a merged title such as 南街街道老旧小区台账)."""
    return _title(_Row.of(cells))


class ColumnSums:
    """Running sums of each column's numbers over the records added since the last ``reset``."""

    def __init__(self, width: int):
        self.width = width
        self.reset()

    def reset(self) -> None:
        self.records = 0
        self.totals = [0.0] * self.width
        self.counts = [0] * self.width

    def add(self, values: list[tuple[int, float | None]]) -> None:
        """Add one record given as (column, number or None) pairs."""
        self.records += 1
        for i, number in values:
            if number is not None:
                self.totals[i] += number
                self.counts[i] += 1

    def are_sums(self, values: list[tuple[int, float | None]]) -> bool:
        """Whether every value is a number equal to its column's sum (two records or more added)."""
        if self.records < 2 or not values:
            return False
        return all(n is not None and self.counts[i] and math.isclose(n, self.totals[i], rel_tol=1e-9, abs_tol=1e-6)
                   for i, n in values)


def is_sums_row(cells: list, above: list[list]) -> bool:
    """No text, and each number equals the sum of its column over ``above`` (aligned records, 2 or more)."""
    sums = ColumnSums(max([len(cells), *map(len, above)]))
    for record in above:
        row = _Row.of(record)
        sums.add([(i, n) for (i, _), n in zip(row.filled, row.numbers)])
    row = _Row.of(cells)
    return sums.are_sums([(i, n) for (i, _), n in zip(row.filled, row.numbers)])


# ---------------------------------------------------------------- the sorter


class _Sorter:
    """Walks the rows under the header once, keeping the state the rules need."""

    def __init__(self, head_cells: list, layer: str | None):
        self.head_cells = list(head_cells)
        self.names = header_names(head_cells)
        self.width = len(self.names)
        self.layer = layer
        self.first_score = header_score(head_cells, layer) if layer else 0
        self.head_texts = {_normalised(str(v)) for _, v in _filled(head_cells)}
        self.head_count = len(_filled(head_cells))
        self.after_break = False
        self.colmap: list[int | None] = list(range(self.width))
        self.out = SheetRows(None, self.names)
        self.blank_runs: list[list[int]] = []
        self.in_blank = False
        self.section = ColumnSums(self.width)
        self.since_total = ColumnSums(self.width)

    def feed(self, number: int, cells: list) -> None:
        """Sort one row under the header."""
        row = _Row.of(cells)
        if _blank(row):
            if not self.in_blank:
                self.blank_runs.append([])
            self.blank_runs[-1].append(number)
            self.in_blank = self.after_break = True
            return
        self.in_blank = False
        reason = self._skip_reason(number, row)
        if reason:
            self.out.skipped.append(Problem(number, WHOLE_ROW, brief(cells), reason))
        else:
            self._record(number, row)
        self.after_break = bool(reason)

    def _skip_reason(self, number: int, row: _Row) -> str | None:
        if _note(row, self.width):
            return NOTE_REASON
        reason = self._header_again(number, row)
        if reason:
            return reason
        if _total(row):
            self.since_total.reset()
            return TOTAL_REASON
        if _title(row):
            self.section.reset()
            self.since_total.reset()
            return TITLE_REASON
        if not row.texts:
            values = self._aligned_numbers(row)
            if values is not None and (self.section.are_sums(values) or self.since_total.are_sums(values)):
                self.since_total.reset()
                return SUMS_REASON
        return None

    def _aligned_numbers(self, row: _Row) -> list[tuple[int, float | None]] | None:
        """(first header's column, number) of each value; None when a value has no column there."""
        out = []
        for (j, _), n in zip(row.filled, row.numbers):
            target = self.colmap[j] if j < len(self.colmap) else None
            if target is None:
                return None
            out.append((target, n))
        return out

    def _record(self, number: int, row: _Row) -> None:
        aligned: list = [None] * self.width
        values = []
        for (j, value), n in zip(row.filled, row.numbers):
            target = self.colmap[j] if j < len(self.colmap) else None
            if target is not None:
                aligned[target] = value
                values.append((target, n))
            elif j >= len(self.colmap) and number not in self.out.overflow:
                self.out.overflow.append(number)
        self.out.records.append((number, aligned))
        self.section.add(values)
        self.since_total.add(values)

    # -- headers after the first

    def _header_again(self, number: int, row: _Row) -> str | None:
        """The reason when ``row`` is a header again (the column map then follows it), else None."""
        if len(row.filled) < 2 or len(row.filled) - row.texts > 1:
            return None  # a header is text (one number at most)
        if self._names_the_head(row) or (self.after_break and self._scores_as_header(row.cells)):
            return self._new_header(number, row.cells)
        return None

    def _names_the_head(self, row: _Row) -> bool:
        """Whether the values are the first header's names, in any order (cheap checks first)."""
        if len(row.filled) != self.head_count or _normalised(str(row.filled[0][1])) not in self.head_texts:
            return False
        return {_normalised(str(v)) for _, v in row.filled} == self.head_texts

    def _scores_as_header(self, cells: list) -> bool:
        """Whether ``cells`` name at least two fields, and two thirds as many as the first header or more."""
        if not self.layer:
            return False
        score = header_score(cells, self.layer)
        return score >= 2 and 3 * score >= 2 * self.first_score

    def _new_header(self, number: int, cells: list) -> str:
        colmap = self._column_map(cells)
        self.section.reset()
        self.since_total.reset()
        identity = len(colmap) >= self.width and all(t == j for j, t in enumerate(colmap[:self.width]))
        self.colmap = colmap
        if identity:
            return REPEATED_HEADER_REASON
        self.out.notes.append(self._new_header_note(number, cells, colmap))
        return NEW_HEADER_REASON

    def _column_map(self, cells: list) -> list[int | None]:
        """For each column of a later header, the first header's column of the same name (or field), else None."""
        first = {_normalised(str(v)): i for i, v in _filled(self.head_cells)}
        fields: dict[str, int] = {}
        if self.layer:
            guessed = guess_mapping(self.names, self.layer)
            fields = {f: self.names.index(c) for c, f in guessed.items()}
        names = header_names(cells)
        later = guess_mapping(names, self.layer) if self.layer else {}
        colmap: list[int | None] = []
        for j, value in enumerate(cells):
            target = None if is_blank_cell(value) else first.get(_normalised(str(value)))
            if target is None and names[j] in later:
                target = fields.get(later[names[j]])
            colmap.append(None if target in colmap else target)
        return colmap

    def _new_header_note(self, number: int, cells: list, colmap: list[int | None]) -> str:
        dropped = [str(v).strip() for j, v in enumerate(cells) if colmap[j] is None and not is_blank_cell(v)]
        missing = [self.names[i] for i in range(self.width) if i not in colmap and not is_blank_cell(self.head_cells[i])]
        note = f"第 {number} 行起是另一张表，列的顺序不同，已按表头名称对齐到第 {self.out.header_row} 行的表头"
        if dropped:
            note += f"；第一张表没有的列“{'、'.join(dropped)}”未读取"
        if missing:
            note += f"；该表没有的列“{'、'.join(missing)}”按空值处理"
        return note

    def finish(self) -> SheetRows:
        """The result: blank runs before the last record listed, everything in row order."""
        last = self.out.records[-1][0] if self.out.records else None
        for run in self.blank_runs:
            if last is not None and run[0] < last:
                where = f"第 {run[0]} 行" if len(run) == 1 else f"第 {run[0]}–{run[-1]} 行"
                self.out.skipped.append(Problem(run[0], WHOLE_ROW, "", f"空行（{where}），已跳过"))
        self.out.skipped.sort(key=lambda p: p.row)
        return self.out


def classify_rows(rows: Rows, layer: str | None = None) -> SheetRows:
    """Sort the rows of a sheet or CSV into header, records and skipped rows (see the module's rules).

    ``rows``: (row number the user sees, cell values), in order; ``layer``: the import target, used to
    find the header under title rows and to recognise a second table's header (None: the first row
    with two or more values is the header, and only the same names in another order start a new table).
    """
    if not rows:
        return SheetRows(None, [])
    h = header_index(rows, layer)
    sorter = _Sorter(rows[h][1], layer)
    sorter.out.header_row = rows[h][0]
    for number, cells in rows[h + 1:]:
        sorter.feed(number, list(cells))
    return sorter.finish()
