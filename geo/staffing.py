"""Grid staffing (网格力量): the rules a save must obey, and vacancies on a past date from the workers' periods.

A grid (about 500 households) has one full-time grid worker (专职网格员) or is vacant, plus a number of
assistants (网格协管员). ``grids.worker`` / ``worker_phone`` / ``worker_since`` hold the current state; the
table ``grid_workers`` holds one period per worker and grid: ``started_on`` (到岗日期, the first day at the
post) and ``ended_on`` (离岗日期, the day the worker left; empty while still there). A grid is staffed on
day d when some period has ``started_on <= d < ended_on`` (or no ``ended_on``), so a worker who leaves on
the day a successor starts leaves no gap. A grid with no period at all is taken at its current state.

Pure: no database, no UI. Messages are plain Chinese, one per problem, each naming the field
(``字段：原因``) like ``geo.lifecycle``.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date
from numbers import Integral, Real

import pandas as pd

from geo.lifecycle import as_date, is_missing

FIGURE_LABELS: dict[str, str] = {"households": "户数", "population": "常住人口", "assistants": "网格协管员人数"}
"""The grid figures a supervisor may change, with their Chinese labels (in form order)."""
FIELD_LABELS: dict[str, str] = {
    "worker": "专职网格员", "worker_phone": "联系电话", "worker_since": "到岗日期", "ended_on": "离岗日期",
    **FIGURE_LABELS,
}
"""Every field a staffing save writes or the audit log names, with its Chinese label."""
NAME_MAX = 20
"""Longest worker name accepted (the column holds 20 characters)."""

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^(0(?:[12]\d|[3-9]\d{2}))-?([2-9]\d{6,7})(?:-(\d{1,6}))?$")
_SEPARATORS = re.compile(r"[\s\u3000()（）]+")


# ---------------------------------------------------------------- single values


def normalise_phone(value) -> str:
    """A phone number in its stored form: an 11-digit mobile (``13800001234``) or a landline with its area
    code (``0591-87654321``, optional extension ``-123``). Spaces, full-width digits and a ``+86`` / ``86``
    prefix are accepted; ValueError with the reason in Chinese otherwise."""
    if is_missing(value) or not str(value).strip():
        raise ValueError("不能为空")
    text = _SEPARATORS.sub("", unicodedata.normalize("NFKC", str(value)))
    text = text.replace("转", "-").removeprefix("+86").removeprefix("+")
    digits = text.replace("-", "")
    if digits.startswith("86") and _MOBILE.match(digits[2:]):
        digits = digits[2:]
    if _MOBILE.match(digits):
        return digits
    landline = _LANDLINE.match(text) or _LANDLINE.match(digits)
    if landline:
        area, local, ext = landline.groups()
        return f"{area}-{local}" + (f"-{ext}" if ext else "")
    raise ValueError(f"“{value}”不是有效的电话号码：应为11位手机号（如 13800001234）"
                     "或带区号的固定电话（如 0591-87654321）")


def normalise_name(value) -> str:
    """A worker's name stripped of surrounding spaces; ValueError when empty, too long or holding digits."""
    if is_missing(value):
        raise ValueError("不能为空")
    name = unicodedata.normalize("NFKC", str(value)).strip()
    if not name:
        raise ValueError("不能为空")
    if len(name) > NAME_MAX:
        raise ValueError(f"最多 {NAME_MAX} 个字，实为 {len(name)} 个")
    if any(ch.isdigit() or unicodedata.category(ch).startswith("C") for ch in name):
        raise ValueError(f"“{name}”不像姓名：不能含数字或控制字符")
    return name


def _to_count(value) -> int | None:
    """An integer from an int, an integral float or a digit string; None when empty; ValueError otherwise."""
    if is_missing(value) or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"应为整数，实为 {value!r}")
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real) and float(value).is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise ValueError(f"应为整数，实为“{value}”")


def _required_date(label: str, value, problems: list[str]) -> date | None:
    """``value`` as a date; None with a problem added when it is empty or no date."""
    try:
        day = as_date(value)
    except ValueError as exc:
        problems.append(f"{label}：{exc}")
        return None
    if day is None:
        problems.append(f"{label}：不能为空")
    return day


# ---------------------------------------------------------------- the three saves


def _current_worker(grid: Mapping) -> str | None:
    worker = grid.get("worker")
    return None if is_missing(worker) or not str(worker).strip() else str(worker)


def check_assignment(grid: Mapping, worker, phone, started_on, today: date,
                     last_ended: date | None = None) -> tuple[dict, list[str]]:
    """A full-time worker taking up a grid: (the values to store, every problem in plain Chinese).

    ``grid`` is the stored grid row; it must be vacant (a handover is a 离岗 then a 到岗). ``worker`` is a
    name, ``phone`` a mobile or landline (``normalise_phone``), ``started_on`` the first day at the post:
    not after ``today`` and not before ``last_ended``, the day the grid's previous worker left. The values
    are ``worker``, ``worker_phone`` and ``worker_since``; empty when there are problems."""
    problems: list[str] = []
    holder = _current_worker(grid)
    if holder is not None:
        problems.append(f"{FIELD_LABELS['worker']}：该网格已有专职网格员“{holder}”，请先登记其离岗")
    clean: dict = {}
    for field, coerce, value in (("worker", normalise_name, worker), ("worker_phone", normalise_phone, phone)):
        try:
            clean[field] = coerce(value)
        except ValueError as exc:
            problems.append(f"{FIELD_LABELS[field]}：{exc}")
    start = _required_date(FIELD_LABELS["worker_since"], started_on, problems)
    if start is not None and start > today:
        problems.append(f"{FIELD_LABELS['worker_since']}：{start.isoformat()} 晚于今天（{today.isoformat()}），"
                        "不能登记将来的到岗")
    if start is not None and last_ended is not None and start < last_ended:
        problems.append(f"{FIELD_LABELS['worker_since']}：{start.isoformat()} 早于上一任网格员的离岗日期 "
                        f"{last_ended.isoformat()}，任职期间不能重叠")
    clean["worker_since"] = start
    return ({} if problems else clean), problems


def check_vacate(grid: Mapping, ended_on, today: date) -> tuple[date | None, list[str]]:
    """The grid's worker leaving on ``ended_on``: (the date, every problem). The grid must be staffed; the
    date may not lie before the worker's 到岗日期 (``worker_since``) nor after ``today``."""
    problems: list[str] = []
    if _current_worker(grid) is None:
        problems.append(f"{FIELD_LABELS['worker']}：该网格目前没有专职网格员，无需登记离岗")
    end = _required_date(FIELD_LABELS["ended_on"], ended_on, problems)
    since = None if is_missing(grid.get("worker_since")) else as_date(grid.get("worker_since"))
    if end is not None and since is not None and end < since:
        problems.append(f"{FIELD_LABELS['ended_on']}：{end.isoformat()} 早于到岗日期 {since.isoformat()}")
    if end is not None and end > today:
        problems.append(f"{FIELD_LABELS['ended_on']}：{end.isoformat()} 晚于今天（{today.isoformat()}），"
                        "不能登记将来的离岗")
    return (None if problems else end), problems


def check_figures(grid: Mapping, changes: Mapping) -> tuple[dict, list[str]]:
    """New households, residents (population) and assistants of a grid: (the values, every problem).

    Households and residents are positive integers with residents ≥ households (checked on the state after
    the save, so a change of one is checked against the stored other); assistants an integer ≥ 0. Fields
    outside ``FIGURE_LABELS`` are reported."""
    clean: dict = {}
    problems: list[str] = []
    for field, value in changes.items():
        if field not in FIGURE_LABELS:
            allowed = "、".join(FIGURE_LABELS.values())
            problems.append(f"字段“{field}”：不允许在此修改，可修改的字段为：{allowed}")
            continue
        try:
            number = _to_count(value)
        except ValueError as exc:
            problems.append(f"{FIGURE_LABELS[field]}：{exc}")
            continue
        if number is None:
            problems.append(f"{FIGURE_LABELS[field]}：不能为空")
        elif field == "assistants" and number < 0:
            problems.append(f"{FIGURE_LABELS[field]}：不能为负数，实为 {number}")
        elif field != "assistants" and number <= 0:
            problems.append(f"{FIGURE_LABELS[field]}：应为正整数，实为 {number}")
        else:
            clean[field] = number
    state = {f: _stored_count(grid.get(f)) for f in ("households", "population")} | clean
    if not problems and None not in (state["households"], state["population"]) \
            and state["population"] < state["households"]:
        problems.append(f"{FIGURE_LABELS['population']}：{state['population']} 少于户数 {state['households']}，"
                        "常住人口不能少于户数")
    return ({} if problems else clean), problems


def _stored_count(value) -> int | None:
    try:
        return _to_count(value)
    except ValueError:
        return None


def changed(grid: Mapping, clean: Mapping) -> dict[str, tuple]:
    """Field -> (old, new) for the values of ``clean`` that differ from the stored ``grid`` (dates as dates)."""
    out = {}
    for field, new in clean.items():
        old = grid.get(field)
        old = None if is_missing(old) else as_date(old) if isinstance(new, date) else old
        if isinstance(old, Integral) and not isinstance(old, bool):
            old = int(old)
        if old != new:
            out[field] = (old, new)
    return out


# ---------------------------------------------------------------- vacancies from the periods


def _periods(periods: pd.DataFrame) -> pd.DataFrame:
    """grid_code, start, end (datetimes; end NaT while open) of the periods frame."""
    missing = [c for c in ("grid_code", "started_on", "ended_on") if c not in periods.columns]
    if missing:
        raise ValueError(f"网格员任职记录缺少字段：{'、'.join(missing)}；现有字段：{'、'.join(map(str, periods.columns))}")
    return pd.DataFrame({"grid_code": periods["grid_code"].astype(str).to_numpy(),
                         "start": pd.to_datetime(periods["started_on"]).to_numpy(),
                         "end": pd.to_datetime(periods["ended_on"]).to_numpy()})


def _staffed_now(grids: pd.DataFrame, on_date: date) -> pd.Series:
    """Per grid (no periods recorded): staffed at its current state, from its worker_since when known."""
    worker = grids["worker"]
    named = worker.notna() & (worker.astype(str).str.strip() != "") & (worker.astype(str) != "nan")
    if "worker_since" not in grids:
        return named
    since = pd.to_datetime(grids["worker_since"])
    return named & (since.isna() | (since <= pd.Timestamp(on_date)))


def vacant_grids(periods: pd.DataFrame, grids: pd.DataFrame, on_date: date) -> pd.DataFrame:
    """The rows of ``grids`` (with ``code`` and ``worker``; ``worker_since`` optional) vacant on ``on_date``.

    ``periods``: the ``grid_workers`` rows (grid_code, started_on, ended_on). A grid with periods is
    staffed on a day some period covers (``started_on <= d < ended_on``); a grid without any is taken at
    its current state (its worker, from ``worker_since`` when known). Inputs are not changed; an empty
    frame with the columns of ``grids`` when none is vacant."""
    for column in ("code", "worker"):
        if column not in grids.columns:
            raise ValueError(f"网格数据缺少字段“{column}”；现有字段：{'、'.join(map(str, grids.columns))}")
    p = _periods(periods)
    day = pd.Timestamp(on_date)
    covering = p[(p["start"] <= day) & (p["end"].isna() | (p["end"] > day))]
    codes = grids["code"].astype(str)
    has_history = codes.isin(set(p["grid_code"]))
    staffed = codes.isin(set(covering["grid_code"])) | (~has_history & _staffed_now(grids, on_date))
    return grids[~staffed.to_numpy()]


def vacancy_days(periods: pd.DataFrame, grid, start: date, end: date) -> int:
    """Days from ``start`` to ``end`` (both included) on which ``grid`` had no full-time worker.

    ``grid`` is a grid code, or a grid row (mapping with ``code``, and ``worker``/``worker_since`` for a grid
    without recorded periods, which is then taken at its current state). ValueError when ``end`` is before
    ``start``."""
    if end < start:
        raise ValueError(f"统计区间无效：结束日期 {end.isoformat()} 早于开始日期 {start.isoformat()}")
    code = str(grid if isinstance(grid, str) else grid["code"])
    p = _periods(periods)
    mine = p[p["grid_code"] == code]
    total = (end - start).days + 1
    if not len(mine):
        return total - _days_from_state(grid, start, end)
    covered = _covered_days(list(zip(mine["start"], mine["end"])), start, end)
    return total - covered


def _days_from_state(grid, start: date, end: date) -> int:
    """Staffed days in [start, end] of a grid known only by its current state (a code alone: none)."""
    if isinstance(grid, str) or _current_worker(grid) is None:
        return 0
    since = grid.get("worker_since")
    first = start if is_missing(since) else max(start, as_date(since))
    return max(0, (end - first).days + 1)


def _covered_days(spans: list[tuple], start: date, end: date) -> int:
    """Days of [start, end] inside the union of half-open spans [s, e) (e NaT: open)."""
    lo, hi = pd.Timestamp(start), pd.Timestamp(end) + pd.Timedelta(days=1)
    clipped = sorted((max(pd.Timestamp(s), lo), min(hi if pd.isna(e) else pd.Timestamp(e), hi)) for s, e in spans)
    covered, reach = 0, lo
    for s, e in clipped:
        s = max(s, reach)
        if e > s:
            covered += (e - s).days
            reach = e
    return covered


def worker_periods(periods: pd.DataFrame, grid_code: str, today: date) -> pd.DataFrame:
    """The periods of one grid, newest first, with ``days`` at the post (to ``today`` while still there)."""
    mine = periods[periods["grid_code"].astype(str) == str(grid_code)].copy()
    if not len(mine):
        return mine.assign(days=pd.Series(dtype=int))
    start = pd.to_datetime(mine["started_on"])
    end = pd.to_datetime(mine["ended_on"]).fillna(pd.Timestamp(today))
    mine["days"] = (end - start).dt.days.clip(lower=0).astype(int)
    return mine.sort_values("started_on", ascending=False, kind="stable")


# ---------------------------------------------------------------- history lines


def _shown(value) -> str:
    if value is None or value == "":
        return "（空）"
    return str(value)


def describe_change(before: Mapping | None, after: Mapping | None) -> str:
    """One Chinese line, e.g. ``专职网格员：（空） → 陈建华；到岗日期：（空） → 2026-11-02``."""
    before, after = before or {}, after or {}
    known = [f for f in FIELD_LABELS if f in before or f in after]
    others = sorted((set(before) | set(after)) - set(FIELD_LABELS))
    return "；".join(f"{FIELD_LABELS.get(f, f)}：{_shown(before.get(f))} → {_shown(after.get(f))}"
                    for f in known + others)
