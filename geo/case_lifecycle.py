"""The lifecycle of a dispute case (矛盾纠纷受理与调解) and the rules each step must obey.

Statuses (``geo.vocab.DisputeStatus``) move along 受理 → 调解中 → 调解成功 / 调解不成, with 转办 to a named
body from 受理 (not for mediation) or after 调解不成. **办结** is a step of its own: it sets the 办结日期
(``closed_on``) of a case that is 调解成功, 调解不成 or 转办 and leaves its status alone. A case is *open*
while it has no 办结日期, whatever its status (a 调解成功 case awaiting 办结 is still open).

Each step asks for exactly the fields in ``STEPS``. Dates never go backwards —
受理日期 ≤ 开始调解日期 ≤ 调解协议日期 ≤ 办结日期, each new step's date on or after every date already on the
case — and none lies after today (Fuzhou, ``geo.lifecycle.district_today``).

The time limit: a case is overdue while it is open and more than ``overdue_days`` (settings, 30) days have
passed since 受理 — the rule of ``geo.disputes.overdue_mask``. ``days_left`` is 0 on the 30th day (due today,
not yet overdue) and negative once overdue.

Pure: no database, no UI. Messages are plain Chinese, one per problem, naming the field and the reason.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import pandas as pd

from geo.ingest_values import is_blank
from geo.lifecycle import as_date
from geo.vocab import CaseStep, DisputeCategory, DisputeSource, DisputeStatus, Vocab

S = DisputeStatus

FIELD_LABELS: dict[str, str] = {
    "status": S.title(),
    "category": DisputeCategory.title(),
    "source": DisputeSource.title(),
    "reported_on": "受理日期",
    "address": "地址",
    "location": "位置",
    "compound_code": "所属小区",
    "parties": "当事人情况",
    "summary": "简要情况",
    "mediator": "调解员或调解室",
    "mediating_on": "开始调解日期",
    "outcome": "调解结果",
    "agreement_on": "调解协议日期",
    "transferred_to": "转办单位",
    "closed_on": "办结日期",
}
"""The fields of a case the receipt and the steps write, with their Chinese labels."""

TEXT_LIMITS: dict[str, int] = {"address": 120, "parties": 2000, "summary": 2000, "mediator": 60,
                               "outcome": 2000, "transferred_to": 60, "compound_code": 20}
"""Longest text (characters) each text field holds (the columns of ``data.schema.disputes``)."""

DATE_ORDER: tuple[str, ...] = ("reported_on", "mediating_on", "agreement_on", "closed_on")
"""The case's dates in the order they must keep (each on or after the ones before it)."""

RECEIPT_FIELDS: tuple[str, ...] = ("category", "source", "reported_on", "address", "parties", "summary")
"""What 受理 asks for besides the place (a map point ``location`` or a known compound ``compound_code``)."""
RECEIPT_REQUIRED: tuple[str, ...] = ("category", "source", "reported_on", "address")


@dataclass(frozen=True)
class Step:
    """One step: the statuses it starts from, the status it leads to (None: unchanged) and its fields."""

    step: CaseStep
    sources: tuple[DisputeStatus, ...]
    target: DisputeStatus | None
    fields: tuple[str, ...]


STEPS: dict[CaseStep, Step] = {s.step: s for s in (
    Step(CaseStep.MEDIATE, (S.RECEIVED,), S.MEDIATING, ("mediator", "mediating_on")),
    Step(CaseStep.RESOLVE, (S.MEDIATING,), S.RESOLVED, ("outcome", "agreement_on")),
    Step(CaseStep.FAIL, (S.MEDIATING,), S.FAILED, ("outcome",)),
    Step(CaseStep.TRANSFER, (S.RECEIVED, S.FAILED), S.TRANSFERRED, ("transferred_to",)),
    Step(CaseStep.CLOSE, (S.RESOLVED, S.FAILED, S.TRANSFERRED), None, ("closed_on",)),
)}
"""Every step after 受理; each field listed is required by its step, and no other field is accepted."""


# ---------------------------------------------------------------- values


def _text(field: str, value) -> str | None:
    if is_blank(value):
        return None
    text = str(value).strip()
    limit = TEXT_LIMITS.get(field)
    if limit is not None and len(text) > limit:
        raise ValueError(f"不能超过 {limit} 个字，实为 {len(text)} 个字")
    return text


def _member(vocab: type[Vocab], value) -> str | None:
    if is_blank(value):
        return None
    return vocab.from_label(str(getattr(value, "value", value)).strip()).value


def _coerce(field: str, value):
    if field in DATE_ORDER:
        return as_date(value)
    if field == "category":
        return _member(DisputeCategory, value)
    if field == "source":
        return _member(DisputeSource, value)
    return _text(field, value)


def _status(value) -> DisputeStatus | None:
    try:
        return None if is_blank(value) else S.from_label(str(getattr(value, "value", value)))
    except ValueError:
        return None


def location_point(value) -> tuple[float, float] | None:
    """A (lon, lat) pair in WGS84 degrees from ``value`` (a pair, or an object with ``x``/``y`` such as a
    shapely Point); None when empty; ValueError when it is not two finite numbers in range."""
    if value is None:
        return None
    pair = (value.x, value.y) if hasattr(value, "x") and hasattr(value, "y") else value
    try:
        lon, lat = (float(v) for v in pair)
    except (TypeError, ValueError):
        raise ValueError(f"应为经纬度（经度, 纬度），实为“{value}”") from None
    if not (math.isfinite(lon) and math.isfinite(lat)) or not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValueError(f"经纬度超出范围：经度 {lon}，纬度 {lat}")
    return lon, lat


# ---------------------------------------------------------------- 受理


def validate_receipt(fields: dict, today: date) -> tuple[dict, list[str]]:
    """The fields of a new case in their stored form, and every problem with them.

    ``fields``: category and source (values or Chinese labels), reported_on (受理日期, not after ``today``),
    address, parties and summary (text), and the place: ``location`` (lon, lat in WGS84) or ``compound_code``
    (the store puts the case at that compound; the address may then be left empty for the compound's name).
    Unknown fields are problems."""
    clean: dict = {}
    problems: list[str] = []
    known = set(RECEIPT_FIELDS) | {"location", "compound_code"}
    for field in fields:
        if field not in known:
            problems.append(f"字段“{field}”：受理时不填写此项，可填写：{_labels(sorted(known, key=_order))}")
    for field in RECEIPT_FIELDS + ("compound_code",):
        try:
            clean[field] = _coerce(field, fields.get(field))
        except ValueError as exc:
            problems.append(f"{FIELD_LABELS[field]}：{exc}")
            clean[field] = None
    try:
        clean["location"] = location_point(fields.get("location"))
    except ValueError as exc:
        problems.append(f"{FIELD_LABELS['location']}：{exc}")
        clean["location"] = None
    wanted = [f for f in RECEIPT_REQUIRED if f != "address" or clean["compound_code"] is None]
    problems += [f"{FIELD_LABELS[f]}：受理时必须填写" for f in wanted
                 if clean.get(f) is None and not _already_reported(f, problems)]
    if clean["location"] is None and clean["compound_code"] is None and not _already_reported("location", problems):
        problems.append(f"{FIELD_LABELS['location']}：请在地图上点选案件发生地，或选择已登记的小区")
    problems += _future(clean, ("reported_on",), today)
    return clean, problems


def _already_reported(field: str, problems: list[str]) -> bool:
    return any(p.startswith(FIELD_LABELS[field] + "：") for p in problems)


def _order(field: str) -> int:
    return list(FIELD_LABELS).index(field) if field in FIELD_LABELS else len(FIELD_LABELS)


def _labels(fields) -> str:
    return "、".join(FIELD_LABELS.get(f, f) for f in fields)


def _future(clean: dict, fields, today: date) -> list[str]:
    return [f"{FIELD_LABELS[f]}：{clean[f].isoformat()} 晚于今天（{today.isoformat()}），不能是将来的日期"
            for f in fields if clean.get(f) is not None and clean[f] > today]


# ---------------------------------------------------------------- the steps after 受理


def next_steps(status, closed_on=None) -> list[CaseStep]:
    """The steps a case in ``status`` (value or label) may take next, in ``STEPS`` order; none once 办结."""
    current = _status(status)
    if current is None or not is_blank(closed_on):
        return []
    return [s.step for s in STEPS.values() if current in s.sources]


def step_fields(step) -> tuple[str, ...]:
    """The fields ``step`` (a CaseStep, its value or label) asks for — every one of them required."""
    return STEPS[CaseStep.from_label(str(getattr(step, "value", step)))].fields


def validate_step(case: dict, step, fields: dict, today: date) -> tuple[dict, list[str]]:
    """The changes taking ``step`` with ``fields`` would store on ``case``, and every problem with it.

    ``case`` is the stored row (dict; status, closed_on and the dates are looked at). The changes hold the
    step's fields in stored form (text stripped, dates as ``date``) and the new status where the step moves
    it. An empty problem list means the step may be saved."""
    try:
        spec = STEPS[CaseStep.from_label(str(getattr(step, "value", step)))]
    except ValueError as exc:
        return {}, [f"{CaseStep.title()}：{exc}"]
    problems = _state_problems(case, spec)
    problems += [f"字段“{FIELD_LABELS.get(f, f)}”：“{spec.step.label}”不填写此项，只填写：{_labels(spec.fields)}"
                 for f in fields if f not in spec.fields]
    clean: dict = {}
    for field in spec.fields:
        try:
            clean[field] = _coerce(field, fields.get(field))
        except ValueError as exc:
            problems.append(f"{FIELD_LABELS[field]}：{exc}")
            continue
        if clean[field] is None:
            problems.append(f"{FIELD_LABELS[field]}：“{spec.step.label}”时必须填写")
    problems += _date_problems(case, clean, today)
    changes = {f: v for f, v in clean.items() if v is not None}
    if spec.target is not None:
        changes["status"] = spec.target.value
    return changes, problems


def _state_problems(case: dict, spec: Step) -> list[str]:
    """Whether the case's status and 办结日期 allow ``spec`` at all."""
    closed = as_date_or_none(case.get("closed_on"))
    label = FIELD_LABELS["status"]
    if closed is not None:
        return [f"{label}：案件已于 {closed.isoformat()} 办结，不能再“{spec.step.label}”"]
    current = _status(case.get("status"))
    if current is None:
        return [f"{label}：案件的办理状态“{case.get('status')}”无法识别，不能办理"]
    if current in spec.sources:
        return []
    options = "、".join(s.label for s in next_steps(current)) or "无"
    return [f"{label}：“{current.label}”的案件不能“{spec.step.label}”，可办理：{options}"]


def as_date_or_none(value) -> date | None:
    """``as_date`` that gives None instead of raising (for stored values)."""
    try:
        return as_date(value)
    except ValueError:
        return None


def _date_problems(case: dict, clean: dict, today: date) -> list[str]:
    """The new dates against today and against every date already on the case (dates never go backwards)."""
    problems = _future(clean, [f for f in DATE_ORDER if f in clean], today)
    for field in (f for f in DATE_ORDER if clean.get(f) is not None):
        new = clean[field]
        for earlier in DATE_ORDER[:DATE_ORDER.index(field)]:
            old = as_date_or_none(case.get(earlier))
            if old is not None and new < old:
                problems.append(f"{FIELD_LABELS[field]}：{new.isoformat()} 早于{FIELD_LABELS[earlier]} "
                                f"{old.isoformat()}，日期不能倒退")
    return problems


# ---------------------------------------------------------------- the time limit


def days_left(reported_on, today: date, overdue_days: int = 30) -> int:
    """Days until a case received on ``reported_on`` is overdue at ``today``: 0 on the last day, negative after."""
    return overdue_days - (today - as_date(reported_on)).days


def is_overdue(reported_on, closed_on, today: date, overdue_days: int = 30) -> bool:
    """Open at ``today`` (no 办结日期, or a later one) and more than ``overdue_days`` days since 受理."""
    closed = as_date_or_none(closed_on)
    is_open = closed is None or closed > today
    return is_open and days_left(reported_on, today, overdue_days) < 0


def case_deadlines(cases: pd.DataFrame, today: date, overdue_days: int = 30) -> pd.DataFrame:
    """Per row of ``cases`` (reported_on, closed_on): ``days_left`` (int) and ``overdue`` (bool), as ``days_left``
    and ``is_overdue`` say; the index is kept. An empty frame gives an empty result."""
    missing = [c for c in ("reported_on", "closed_on") if c not in cases.columns]
    if missing:
        raise ValueError(f"案件表缺少字段：{'、'.join(missing)}")
    reported = pd.to_datetime(cases["reported_on"]).dt.normalize()
    closed = pd.to_datetime(cases["closed_on"]).dt.normalize()
    left = overdue_days - (pd.Timestamp(today) - reported).dt.days
    is_open = closed.isna() | (closed > pd.Timestamp(today))
    return pd.DataFrame({"days_left": left.astype(int), "overdue": is_open & (left < 0)}, index=cases.index)


def deadline_text(left: int) -> str:
    """``days_left`` in words: 剩余 5 天 / 今天到期 / 超期 3 天."""
    if left > 0:
        return f"剩余 {left} 天"
    return "今天到期" if left == 0 else f"超期 {-left} 天"


# ---------------------------------------------------------------- history


def step_of(before: dict | None, after: dict | None) -> CaseStep | None:
    """The step an audit entry of a case records (from its changed fields); None when it is no known step."""
    after = after or {}
    if after.get("closed_on") and "status" not in after:
        return CaseStep.CLOSE
    target = _status(after.get("status"))
    for spec in STEPS.values():
        if spec.target is not None and spec.target is target:
            return spec.step
    return None


def _shown(field: str, value) -> str:
    if is_blank(value):
        return "（空）"
    vocab = {"status": S, "category": DisputeCategory, "source": DisputeSource}.get(field)
    if vocab is not None:
        return vocab.labels().get(str(value), str(value))
    return str(value)


def describe_case_entry(action: str, before: dict | None, after: dict | None) -> str:
    """One Chinese line for an audit entry of a case, e.g. ``开始调解：调解员或调解室 王调解；开始调解日期 2026-11-20``
    or ``受理：邻里纠纷，来源 来访，受理日期 2026-11-28``; other changes as ``字段：旧 → 新``."""
    before, after = before or {}, after or {}
    if action == "create":
        parts = [_shown("category", after.get("category")), f"{FIELD_LABELS['source']} {_shown('source', after.get('source'))}",
                 f"{FIELD_LABELS['reported_on']} {_shown('reported_on', after.get('reported_on'))}"]
        return f"{S.RECEIVED.label}：" + "，".join(parts)
    step = step_of(before, after)
    if step is not None:
        fields = STEPS[step].fields
        return f"{step.label}：" + "；".join(f"{FIELD_LABELS[f]} {_shown(f, after.get(f))}" for f in fields)
    fields = sorted(set(before) | set(after), key=_order)
    return "；".join(f"{FIELD_LABELS.get(f, f)}：{_shown(f, before.get(f))} → {_shown(f, after.get(f))}" for f in fields)
