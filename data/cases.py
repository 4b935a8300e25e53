"""Dispute cases where they happen: 受理 (take in), the mediation steps and 办结 — validated, locked, audited.

Every write is one transaction, as in ``data.edits``: take the write lock (``BEGIN IMMEDIATE`` on SQLite,
``SELECT … FOR UPDATE`` on PostgreSQL), re-read the acting account (``data.accounts.verify``) and check that
the case's grid lies in its scope (``geo.access.require_write``), validate with the pure rules of
``geo.case_lifecycle``, write, and append one audit-log entry (``create`` for 受理, ``update`` with before/after
of the changed fields for a step). A step saved against a stale row version is refused with
``ConflictError``; a refusal for want of rights is audited (``denied``). Every save moves the data version
(``data.store.data_version``), so every cached figure is rebuilt on the next page run.

A new case is placed by its point (a map click, WGS84) or at a stored compound's point; its grid, community
and sub-district are those of the stored grid that holds the point. Its code is ``JF`` + two-digit year of
受理 + a five-digit number, one more than any number ever issued under that prefix (table
``code_sequences``, shared with imports), so a code is never issued twice.

A busy, unreachable or read-only database ends in ``DatabaseBusy`` / ``DatabaseUnavailable`` /
``DatabaseReadOnly`` with nothing saved (``data.faults``; a busy save is re-run as a whole first).
"""
from __future__ import annotations

from datetime import date

import pandas as pd
import shapely
from sqlalchemy import Connection, Engine, func, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from data import schema
from data.accounts import record_refusal, verify
from data.faults import database_errors
from data.store import audit, read_layer, record_history
from data.versioned import begin_locked, conditional_update, conflict
from geo.access import Account, may_see_case_details, require_login, require_write
from geo.case_lifecycle import (
    FIELD_LABELS,
    case_deadlines,
    describe_case_entry,
    validate_receipt,
    validate_step,
)
from geo.errors import DataValidationError, GuloError, PermissionDenied
from geo.ingest_match import CODE_WIDTH, code_prefix, highest_number
from geo.lifecycle import district_today
from geo.scope import Scope
from geo.settings import get_settings
from geo.vocab import DisputeStatus

_COLUMNS = [c for c in schema.disputes.c if c.name != "geom"]
TABLE = "disputes"
TODO_COLUMNS = ["code", "category", "source", "status", "reported_on", "street_code", "community_code", "grid_code",
                "compound_code", "address", "summary", "parties", "mediator", "mediating_on", "outcome",
                "agreement_on", "transferred_to", "closed_on", "version", "days_left", "overdue"]


def _read_case(conn: Connection, code: str) -> dict | None:
    """The case's columns (without geometry), row-locked on PostgreSQL; None when absent."""
    t = schema.disputes
    row = conn.execute(select(*_COLUMNS).where(t.c.code == code).with_for_update()).mappings().first()
    return None if row is None else dict(row)


def _problems(problems: list[str], record: str | None) -> DataValidationError:
    return DataValidationError("未保存：" + "；".join(problems),
                               [(record, p.split("：", 1)[0], None, p) for p in problems])


# ---------------------------------------------------------------- 受理


@database_errors("受理矛盾纠纷案件", writing=True)
def receive_case(engine: Engine, fields: dict, account: Account | None, today: date | None = None) -> dict:
    """As ``account``, take in a new case (受理, status 受理) and return its stored row (without geometry).

    ``fields``: category, source (values or labels), reported_on (受理日期, not after ``today``, default today
    in Fuzhou), address, parties and summary, and the place — ``location`` (lon, lat in WGS84, a map click) or
    ``compound_code`` (the case sits at that compound's point; the address defaults to its name). The grid,
    community and sub-district are the stored grid's that holds the point. Raises ``DataValidationError``
    listing every problem (a point outside every grid of the district among them), ``PermissionDenied``
    (audited) when logged out, deactivated, or the point's grid lies outside the account's scope.
    """
    today = today or district_today()
    try:
        require_login(account)
        clean, problems = validate_receipt(fields, today)
        if problems:
            raise _problems(problems, None)
        with engine.begin() as conn:
            begin_locked(conn)
            actor = verify(conn, account)
            point, clean = _place(conn, clean)
            grid = _grid_at(conn, point)
            require_write(actor, grid["code"], what=f"{grid['name']}（{grid['code']}）")
            code = _next_code(conn, clean["reported_on"])
            values = _new_row(code, clean, grid, point)
            conn.execute(insert(schema.disputes).values(**values))
            after = {k: v for k, v in values.items() if k != "geom" and v is not None}
            audit(conn, actor.username, "create", TABLE, code, None, {**after, "lon": point.x, "lat": point.y})
            return _read_case(conn, code)
    except PermissionDenied as exc:
        record_refusal(engine, account, TABLE, None, str(exc))
        raise


def _place(conn: Connection, clean: dict) -> tuple[shapely.Point, dict]:
    """The case's point and its fields: at the map point, else at the stored compound (address defaulting to
    its name); DataValidationError for an unknown compound."""
    code = clean.get("compound_code")
    if clean.get("location") is not None and code is None:
        return shapely.Point(*clean["location"]), clean
    t = schema.compounds
    row = conn.execute(select(t.c.name, t.c.geom).where(t.c.code == code)).mappings().first()
    if row is None:
        raise _problems([f"{FIELD_LABELS['compound_code']}：找不到小区“{code}”"], None)
    point = shapely.Point(*clean["location"]) if clean.get("location") is not None else row["geom"]
    return point, {**clean, "address": clean.get("address") or row["name"]}


def _grid_at(conn: Connection, point: shapely.Point) -> dict:
    """The stored grid (code, name, street_code, community_code) that holds ``point`` (WGS84; on an edge: the
    lowest code); DataValidationError naming the point when no grid of the district does."""
    t = schema.grids
    cols = [t.c.code, t.c.name, t.c.street_code, t.c.community_code]
    if conn.dialect.name == "postgresql":
        where = t.c.geom.op("&&")(_pg_point(point))
        rows = conn.execute(select(*cols, t.c.geom).where(where).order_by(t.c.code)).mappings().all()
    else:
        rows = conn.execute(select(*cols, t.c.geom).order_by(t.c.code)).mappings().all()
    hits = [dict(r) for r in rows if r["geom"] is not None and r["geom"].covers(point)]
    if not hits:
        raise _problems([f"{FIELD_LABELS['location']}：经度 {point.x:.6f}、纬度 {point.y:.6f} 不在本区任何网格内，"
                         "请在辖区内重新选择"], None)
    return {k: v for k, v in hits[0].items() if k != "geom"}


def _pg_point(point: shapely.Point):
    return func.ST_GeomFromText(literal(point.wkt), schema.SRID)


def _next_code(conn: Connection, reported_on: date) -> str:
    """A new case code for ``reported_on``'s year, recorded in ``code_sequences`` (inside the caller's lock)."""
    prefix = code_prefix(TABLE, {"reported_on": reported_on})
    seq = schema.code_sequences
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(seq).values(prefix=prefix, last=0).on_conflict_do_nothing(index_elements=["prefix"]))
    last = conn.execute(select(seq.c.last).where(seq.c.prefix == prefix).with_for_update()).scalar() or 0
    t = schema.disputes
    taken = conn.execute(select(t.c.code).where(t.c.code.like(f"{prefix}%"))).scalars().all()
    number = max(int(last), highest_number(prefix, taken)) + 1
    conn.execute(update(seq).where(seq.c.prefix == prefix).values(last=number))
    return f"{prefix}{number:0{CODE_WIDTH[TABLE]}d}"


def _new_row(code: str, clean: dict, grid: dict, point: shapely.Point) -> dict:
    return {
        "code": code, "category": clean["category"], "source": clean["source"],
        "status": DisputeStatus.RECEIVED.value, "reported_on": clean["reported_on"], "closed_on": None,
        "street_code": grid["street_code"], "community_code": grid["community_code"], "grid_code": grid["code"],
        "compound_code": clean.get("compound_code"), "address": clean["address"], "summary": clean.get("summary"),
        "parties": clean.get("parties"), "version": 1, "geom": point,
    }


# ---------------------------------------------------------------- the steps


@database_errors("保存案件办理", writing=True)
def advance_case(engine: Engine, code: str, step, fields: dict, expected_version: int, account: Account | None,
                 today: date | None = None) -> dict:
    """As ``account``, take case ``code`` one step (``geo.case_lifecycle.STEPS``: 开始调解, 记为调解成功, 记为调解不成,
    转办, 办结) with ``fields`` — exactly the step's fields — if the case is still at ``expected_version``;
    return the new row (without geometry).

    Raises ``DataValidationError`` listing every problem (a step the status does not allow, a missing field,
    a date after ``today`` or before one already on the case), ``ConflictError`` when someone saved the case
    first (nothing of this save is stored), ``PermissionDenied`` (audited) when logged out, deactivated or
    the case's grid is outside the account's scope, ``GuloError`` for an unknown code.
    """
    today = today or district_today()
    try:
        require_login(account)
        with engine.begin() as conn:
            begin_locked(conn)
            before = _read_case(conn, code)
            actor = verify(conn, account)
            if before is None:
                raise GuloError(f"找不到案件“{code}”")
            require_write(actor, before["grid_code"], what=f"案件{code}")
            if before["version"] != expected_version:
                raise conflict("案件", code, before["version"], "办理或修改")
            changes, problems = validate_step(before, step, fields, today)
            if problems:
                raise _problems(problems, code)
            diff = {f: (before.get(f), v) for f, v in changes.items() if before.get(f) != v}
            conditional_update(conn, schema.disputes, code, {f: new for f, (_, new) in diff.items()},
                               expected_version, "案件", "办理或修改")
            audit(conn, actor.username, "update", TABLE, code,
                  {f: old for f, (old, _) in diff.items()}, {f: new for f, (_, new) in diff.items()})
            return _read_case(conn, code)
    except PermissionDenied as exc:
        record_refusal(engine, account, TABLE, code, str(exc))
        raise


# ---------------------------------------------------------------- reading


def case_history(engine: Engine, code: str, limit: int = 500) -> pd.DataFrame:
    """The steps of case ``code`` from the audit log, newest first: 受理 and each step after it.

    Columns: id, at (UTC), actor, action (create / update), before and after (decoded JSON dicts of the
    changed fields) and summary (one Chinese line, e.g. ``开始调解：调解员或调解室 王调解；开始调解日期 2026-11-20``).
    Refusals and exports are left out. An empty frame with those columns when there is none."""
    return record_history(engine, TABLE, code, describe_case_entry, only=("create", "update"), limit=limit)


def _require_reader(account: Account | None) -> Account:
    if account is None:
        raise PermissionDenied("未登录：案件办理仅对登录账号开放，请先登录")
    if not account.active:
        raise PermissionDenied(f"账号“{account.username}”已停用，不能办理案件")
    return account


@database_errors("读取待办案件")
def my_cases(engine: Engine, account: Account | None, today: date | None = None,
             overdue_days: int | None = None) -> pd.DataFrame:
    """The open cases (no 办结日期) in ``account``'s scope at ``today`` with ``days_left`` and ``overdue``
    (``geo.case_lifecycle.case_deadlines``), overdue first: fewest days left first, then oldest, then code.

    Columns ``TODO_COLUMNS``; dates as pandas datetimes. PermissionDenied when logged out or deactivated (a
    read: not audited)."""
    _require_reader(account)
    today = today or district_today()
    days = get_settings().overdue_days if overdue_days is None else overdue_days
    cases = pd.DataFrame(read_layer(engine, TABLE, account.scope).drop(columns="geometry"))
    reported, closed = pd.to_datetime(cases["reported_on"]), pd.to_datetime(cases["closed_on"])
    cases = cases[(reported <= pd.Timestamp(today)) & (closed.isna() | (closed > pd.Timestamp(today)))]
    cases = pd.concat([cases, case_deadlines(cases, today, days)], axis=1)
    return cases.sort_values(["days_left", "reported_on", "code"], ignore_index=True)[TODO_COLUMNS]


@database_errors("读取案件")
def get_case(engine: Engine, code: str, account: Account | None) -> dict:
    """Case ``code`` (every column, geometry as ``lon``/``lat`` in WGS84) for an account that may see its details
    (``geo.access.may_see_case_details`` at its grid); PermissionDenied otherwise, GuloError when unknown."""
    _require_reader(account)
    t = schema.disputes
    with engine.connect() as conn:
        row = conn.execute(select(*_COLUMNS, t.c.geom).where(t.c.code == code)).mappings().first()
    if row is None:
        raise GuloError(f"找不到案件“{code}”")
    if not may_see_case_details(account, Scope(row["grid_code"])):
        raise PermissionDenied(f"无权查看案件{code}：账号“{account.username}”（{account.role.label}）"
                               f"只能查看{account.where}范围内的案件")
    out = {k: v for k, v in row.items() if k != "geom"}
    point = row["geom"]
    return {**out, "lon": None if point is None else point.x, "lat": None if point is None else point.y}
