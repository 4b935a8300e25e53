"""The renovation lifecycle of an old compound (老旧小区改造) and the rules an edit must obey.

Statuses move one step forward along 未纳入计划 → 已纳入计划 → 施工中 → 已完工 → 长效管理; the only
step back is 已纳入计划 → 未纳入计划 (taken out of the plan). Keeping the status while editing other
fields is always allowed. Pure: no database, no UI; messages are plain Chinese, one per problem,
each naming the field and the reason.
"""
from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone
from numbers import Integral, Real

import pandas as pd

from geo.vocab import RenovationStatus, RenovationType

S = RenovationStatus

TRANSITIONS: dict[RenovationStatus, frozenset[RenovationStatus]] = {
    S.NOT_PLANNED: frozenset({S.PLANNED}),
    S.PLANNED: frozenset({S.UNDER_WAY, S.NOT_PLANNED}),
    S.UNDER_WAY: frozenset({S.COMPLETED}),
    S.COMPLETED: frozenset({S.MANAGED}),
    S.MANAGED: frozenset(),
}
"""Status -> the statuses it may move to (besides staying where it is)."""

FIELD_LABELS: dict[str, str] = {
    "status": S.title(),
    "plan_year": "计划年度",
    "budget_wan": "预算（万元）",
    "started_on": "开工日期",
    "completed_on": "完工日期",
    "reno_type": RenovationType.title(),
}
"""The fields of a compound an edit may change, with their Chinese labels (in form order)."""

EDITABLE_FIELDS: tuple[str, ...] = tuple(FIELD_LABELS)
PLAN_YEAR_RANGE: tuple[int, int] = (2000, 2040)
"""Smallest and largest plan year accepted (inclusive)."""

DISTRICT_TZ = timezone(timedelta(hours=8), "北京时间")
"""Gulou's clock (UTC+8, no daylight saving): what "today" means for a completion date."""

NEEDS_COMPLETION_DATE = frozenset({S.COMPLETED, S.MANAGED})
NEEDS_START_DATE = frozenset({S.UNDER_WAY})
NEEDS_PLAN_YEAR = frozenset({S.PLANNED, S.UNDER_WAY})


def district_today() -> date:
    """Today's date in Fuzhou (UTC+8), whatever the server's time zone."""
    return datetime.now(DISTRICT_TZ).date()


def allowed_next(status: str) -> list[RenovationStatus]:
    """Statuses a compound in ``status`` (value or label) may be saved with, itself first, in lifecycle order."""
    current = S.from_label(status)
    return [current] + [s for s in S if s in TRANSITIONS[current]]


def can_move(before: str, after: str) -> bool:
    """Whether a status may change from ``before`` to ``after`` (values or labels; same status is allowed)."""
    old, new = S.from_label(before), S.from_label(after)
    return old is new or new in TRANSITIONS[old]


# ---------------------------------------------------------------- coercion of single values


def is_missing(value) -> bool:
    """None, NaN and NaT (pandas' missing values) all count as empty."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # list-likes are not missing scalars
        return False


def _to_status(value) -> RenovationStatus:
    if is_missing(value) or value == "":
        raise ValueError("不能为空")
    return S.from_label(str(value))


def _to_type(value) -> RenovationType | None:
    return None if is_missing(value) or value == "" else RenovationType.from_label(str(value))


def _to_year(value) -> int | None:
    if is_missing(value) or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"应为整数年份，实为 {value!r}")
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real) and float(value).is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise ValueError(f"应为整数年份，实为“{value}”")


def _to_money(value) -> float | None:
    if is_missing(value) or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"应为数字，实为 {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"应为数字，实为“{value}”") from None
    if not math.isfinite(number):
        raise ValueError(f"应为有限的数字，实为 {value}")
    return number


def as_date(value) -> date | None:
    """``value`` (date, datetime, pandas Timestamp or ISO text) as a date; None when empty (None, NaN, NaT,
    blank text); ValueError with a Chinese reason otherwise. Shared by every editor's rules."""
    if is_missing(value) or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):  # pandas Timestamp is a datetime too
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    raise ValueError(f"应为日期（如 2026-05-01），实为“{value}”")


_COERCE = {"status": _to_status, "plan_year": _to_year, "budget_wan": _to_money,
           "started_on": as_date, "completed_on": as_date, "reno_type": _to_type}


def normalise_changes(changes: dict) -> tuple[dict, list[str]]:
    """Changes with every value in its stored form, and the problems found on the way.

    Stored forms: status and reno_type are vocabulary values (plain ``str``; labels are accepted),
    plan_year ``int``, budget_wan ``float`` (万元), dates ``datetime.date``; empty values
    (None, NaN, NaT, "") become None. Fields outside ``EDITABLE_FIELDS`` are reported and left out.
    """
    clean: dict = {}
    problems: list[str] = []
    for field, value in changes.items():
        if field not in _COERCE:
            allowed = "、".join(f"{label}（{name}）" for name, label in FIELD_LABELS.items())
            problems.append(f"字段“{field}”：不允许在此修改，可修改的字段为：{allowed}")
            continue
        try:
            coerced = _COERCE[field](value)
        except ValueError as exc:
            problems.append(f"{FIELD_LABELS[field]}：{exc}")
            continue
        clean[field] = coerced.value if isinstance(coerced, RenovationStatus | RenovationType) else coerced
    return clean, problems


def _lenient(row: dict) -> dict:
    """The editable fields of a stored row in their stored form; values that do not coerce become None."""
    out = {}
    for field, coerce in _COERCE.items():
        try:
            value = coerce(row.get(field))
        except (ValueError, TypeError):
            value = None
        out[field] = value.value if isinstance(value, RenovationStatus | RenovationType) else value
    return out


# ---------------------------------------------------------------- rules on the state after the edit


def _status_problems(old: str | None, new: str | None) -> list[str]:
    if old is None or new is None or can_move(old, new):
        return []
    old_s, new_s = S(old), S(new)
    options = "、".join(s.label for s in allowed_next(old))
    return [f"{FIELD_LABELS['status']}：不能从“{old_s.label}”改为“{new_s.label}”，"
            f"“{old_s.label}”只能保持不变或改为：{options}"]


def _gap_problems(state: dict) -> list[str]:
    """The fields the status wants that are empty: 开工日期 (施工中), 完工日期 (已完工/长效管理), 计划年度."""
    status = S(state["status"]) if state["status"] else None
    problems = []
    if status in NEEDS_START_DATE and state["started_on"] is None:
        problems.append(f"{FIELD_LABELS['started_on']}：状态为“{status.label}”时必须填写开工日期")
    if status in NEEDS_COMPLETION_DATE and state["completed_on"] is None:
        problems.append(f"{FIELD_LABELS['completed_on']}：状态为“{status.label}”时必须填写完工日期")
    if status in NEEDS_PLAN_YEAR and state["plan_year"] is None:
        problems.append(f"{FIELD_LABELS['plan_year']}：状态为“{status.label}”时必须填写计划年度")
    return problems


def _date_problems(state: dict, today: date) -> list[str]:
    started, completed = state["started_on"], state["completed_on"]
    problems = []
    if completed is not None and started is not None and completed < started:
        problems.append(f"{FIELD_LABELS['completed_on']}：{completed.isoformat()} 早于开工日期 {started.isoformat()}")
    if completed is not None and completed > today:
        problems.append(f"{FIELD_LABELS['completed_on']}：{completed.isoformat()} 晚于今天（{today.isoformat()}），"
                        "完工日期不能是将来的日期")
    return problems


def _plan_problems(state: dict) -> list[str]:
    year, budget, completed = state["plan_year"], state["budget_wan"], state["completed_on"]
    lo, hi = PLAN_YEAR_RANGE
    problems = []
    if year is not None and not lo <= year <= hi:
        problems.append(f"{FIELD_LABELS['plan_year']}：应在 {lo}–{hi} 年之间，实为 {year}")
    if year is not None and completed is not None and year > completed.year:
        problems.append(f"{FIELD_LABELS['plan_year']}：{year} 晚于完工年份 {completed.year}，"
                        "计划年度不能晚于完工日期")
    if budget is not None and budget < 0:
        problems.append(f"{FIELD_LABELS['budget_wan']}：不能为负数，实为 {budget:g}")
    return problems


def validate_compound_edit(before: dict, changes: dict, today: date, *, gaps: bool = True) -> list[str]:
    """Every problem with applying ``changes`` to the compound row ``before``, in plain Chinese.

    ``before`` is the stored row (a dict, or a pandas row converted with ``dict(row)``); only its
    editable fields are looked at. ``changes`` maps field -> new value (see ``normalise_changes``
    for the accepted forms). The rules are checked on the state after the edit, so an edit may
    fix an old problem in passing. ``gaps=False`` leaves out the fields the status wants but that
    are empty (see ``compound_gaps``): an import of a historical ledger lists those as warnings.
    An empty list means the edit may be saved.
    """
    clean, problems = normalise_changes(changes)
    old = _lenient(before)
    state = {**old, **clean}
    problems += _status_problems(old["status"], state["status"])
    problems += _gap_problems(state) if gaps else []
    problems += _date_problems(state, today)
    problems += _plan_problems(state)
    return problems


def compound_gaps(changes: dict) -> list[str]:
    """The fields the status of ``changes`` wants but that are empty, one message each (same text as the editor's).

    Values that do not coerce are ignored here (``validate_compound_edit`` reports them)."""
    return _gap_problems(_lenient(changes))


def changed_fields(before: dict, clean: dict) -> dict[str, tuple]:
    """Field -> (old, new) for the normalised changes ``clean`` that really differ from ``before``."""
    old = _lenient(before)
    return {f: (old[f], v) for f, v in clean.items() if old[f] != v}


def _shown(field: str, value) -> str:
    if value is None:
        return "（空）"
    if field == "status":
        return S(value).label if value in S.labels() else str(value)
    if field == "reno_type":
        return RenovationType(value).label if value in RenovationType.labels() else str(value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def describe_change(before: dict | None, after: dict | None) -> str:
    """One line in Chinese, e.g. ``改造状态：已纳入计划 → 施工中；开工日期：（空） → 2026-05-01``."""
    before, after = before or {}, after or {}
    parts = []
    known = [f for f in FIELD_LABELS if f in before or f in after]
    for field in known + sorted((set(before) | set(after)) - set(FIELD_LABELS)):
        label = FIELD_LABELS.get(field, field)
        parts.append(f"{label}：{_shown(field, before.get(field))} → {_shown(field, after.get(field))}")
    return "；".join(parts)
