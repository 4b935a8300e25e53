"""Grid staffing saved from the app: a worker takes up a grid, leaves it, the grid's figures change.

Each save is one transaction, built like ``data.edits.update_compound``: the write lock first
(``BEGIN IMMEDIATE`` on SQLite; the grid row ``SELECT … FOR UPDATE`` on PostgreSQL), the acting account
re-read and its scope checked against the grid's community (``geo.access.require_write``), the row version
compared, the values checked by ``geo.staffing``, then ``UPDATE grids … version = version + 1 WHERE code =
:code AND version = :expected`` and one audit-log entry with the changed fields before and after. A stale
version ends in ``ConflictError``, a refused account in ``PermissionDenied`` (the refusal audited), bad
values in ``DataValidationError`` listing every problem; nothing is written then.

``grids.worker`` / ``worker_phone`` / ``worker_since`` are the current state; ``grid_workers`` keeps one
period per worker (opened by ``assign_worker``, closed by ``vacate_grid``), from which the vacancies of a
past date are counted (``geo.staffing.vacant_grids``). Every save moves the data version
(``data.store.data_version``), so every cached roll-up is rebuilt on the next page run.
"""
from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Connection, Engine, func, insert, select, update

from data import schema
from data.faults import database_errors
from data.store import audit, record_history
from data.versioned import conditional_update, locked_write, refused, writable
from geo.access import Account
from geo.lifecycle import district_today
from geo.scope import DISTRICT, Scope
from geo.staffing import changed, check_assignment, check_figures, check_vacate, describe_change
from geo.vocab import Level

_COLUMNS = [c for c in schema.grids.c if c.name != "geom"]
WORKER_FIELDS = ("worker", "worker_phone", "worker_since")


def _read_grid(conn: Connection, code: str) -> dict | None:
    """The grid's columns (without geometry), row-locked on PostgreSQL; None when absent."""
    t = schema.grids
    row = conn.execute(select(*_COLUMNS).where(t.c.code == code).with_for_update()).mappings().first()
    return None if row is None else dict(row)


def _locked_grid(conn: Connection, account: Account, code: str, expected_version: int) -> tuple[dict, Account]:
    """(the 网格 row, the acting account as stored now) once scope and version allow the save."""
    before = _read_grid(conn, code)
    return before, writable(conn, account, before, code, expected_version, "网格")


def _last_ended(conn: Connection, code: str) -> date | None:
    t = schema.grid_workers
    return conn.execute(select(func.max(t.c.ended_on)).where(t.c.grid_code == code)).scalar()


@database_errors("保存网格员到岗", writing=True)
def assign_worker(engine: Engine, grid_code: str, worker: str, phone: str, started_on: date,
                  expected_version: int, account: Account | None, today: date | None = None) -> dict:
    """As ``account``, record ``worker`` (phone ``phone``) taking up vacant grid ``grid_code`` on ``started_on``.

    Sets the grid's worker, worker_phone and worker_since and opens a ``grid_workers`` period. The start may
    not lie after ``today`` (default: today in Fuzhou) nor before the day the grid's previous worker left.
    Returns the grid row (without geometry) as saved. Raises ``PermissionDenied`` (logged out, deactivated,
    outside the account's scope; audited), ``ConflictError`` (someone saved the grid first),
    ``DataValidationError`` (every problem) or ``GuloError`` (no such grid); nothing saved then.
    """
    today = today or district_today()

    def save(conn: Connection) -> dict:
        before, acting = _locked_grid(conn, account, grid_code, expected_version)
        clean, problems = check_assignment(before, worker, phone, started_on, today, _last_ended(conn, grid_code))
        if problems:
            raise refused(grid_code, problems, "修改未保存")
        conditional_update(conn, schema.grids, grid_code, clean, expected_version, "网格")
        conn.execute(insert(schema.grid_workers).values(grid_code=grid_code, worker=clean["worker"],
                                                        phone=clean["worker_phone"], started_on=clean["worker_since"]))
        diff = changed(before, clean)
        audit(conn, acting.username, "update", "grids", grid_code,
              {f: old for f, (old, _) in diff.items()}, {f: new for f, (_, new) in diff.items()})
        return _read_grid(conn, grid_code)

    return locked_write(engine, account, "grids", grid_code, save)


@database_errors("保存网格员离岗", writing=True)
def vacate_grid(engine: Engine, grid_code: str, ended_on: date, expected_version: int, account: Account | None,
                today: date | None = None) -> dict:
    """As ``account``, record the worker of grid ``grid_code`` leaving on ``ended_on``: the grid becomes vacant.

    Closes the worker's open ``grid_workers`` period (one is written, from ``worker_since`` — or the leaving
    day when that is unknown — when the grid's worker came without one, e.g. by an import). ``ended_on`` may
    not lie before the worker's start nor after ``today``. Returns the grid row; errors as ``assign_worker``.
    """
    today = today or district_today()

    def save(conn: Connection) -> dict:
        before, acting = _locked_grid(conn, account, grid_code, expected_version)
        end, problems = check_vacate(before, ended_on, today)
        if problems:
            raise refused(grid_code, problems, "修改未保存")
        conditional_update(conn, schema.grids, grid_code, dict.fromkeys(WORKER_FIELDS), expected_version, "网格")
        _close_period(conn, before, end)
        audit(conn, acting.username, "update", "grids", grid_code,
              {f: before[f] for f in WORKER_FIELDS}, {**dict.fromkeys(WORKER_FIELDS), "ended_on": end})
        return _read_grid(conn, grid_code)

    return locked_write(engine, account, "grids", grid_code, save)


def _close_period(conn: Connection, grid: dict, end: date) -> None:
    """End the grid's open period(s) on ``end``; record one when the worker had none."""
    t = schema.grid_workers
    closed = conn.execute(update(t).where(t.c.grid_code == grid["code"], t.c.ended_on.is_(None)).values(ended_on=end))
    if closed.rowcount == 0:
        conn.execute(insert(t).values(grid_code=grid["code"], worker=grid["worker"], phone=grid["worker_phone"],
                                      started_on=grid["worker_since"] or end, ended_on=end))


@database_errors("保存网格户数与人员", writing=True)
def update_grid_figures(engine: Engine, grid_code: str, changes: dict, expected_version: int,
                        account: Account | None) -> dict:
    """As ``account``, change the grid's ``households``, ``population`` (常住人口) and/or ``assistants``.

    Households and residents are positive integers, residents ≥ households, assistants ≥ 0
    (``geo.staffing.check_figures``). An edit that changes nothing writes nothing and returns the row as it
    is. Returns the grid row; errors as ``assign_worker``."""

    def save(conn: Connection) -> dict:
        before, acting = _locked_grid(conn, account, grid_code, expected_version)
        clean, problems = check_figures(before, changes)
        if problems:
            raise refused(grid_code, problems, "修改未保存")
        diff = changed(before, clean)
        if not diff:
            return before
        conditional_update(conn, schema.grids, grid_code, {f: new for f, (_, new) in diff.items()},
                           expected_version, "网格")
        audit(conn, acting.username, "update", "grids", grid_code,
              {f: old for f, (old, _) in diff.items()}, {f: new for f, (_, new) in diff.items()})
        return _read_grid(conn, grid_code)

    return locked_write(engine, account, "grids", grid_code, save)


# ---------------------------------------------------------------- reading


@database_errors("读取网格员任职记录")
def read_grid_workers(engine: Engine, scope: Scope = DISTRICT) -> pd.DataFrame:
    """The ``grid_workers`` periods of the grids inside ``scope``, by grid and start.

    Columns id, grid_code, worker, phone, started_on, ended_on (datetimes; ended_on NaT while the worker is
    still there)."""
    t = schema.grid_workers
    stmt = select(t).order_by(t.c.grid_code, t.c.started_on, t.c.id)
    if scope.level is not Level.DISTRICT:
        stmt = stmt.where(t.c.grid_code.startswith(scope.code, autoescape=True))
    with engine.connect() as conn:
        result = conn.execute(stmt)
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    for column in ("started_on", "ended_on"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[s]")
    return frame


def grid_history(engine: Engine, code: str, limit: int = 200) -> pd.DataFrame:
    """Audit entries of grid ``code``, newest first: id, at (UTC), actor, action, before, after (decoded
    dicts) and summary (one Chinese line, ``geo.staffing.describe_change``)."""
    return record_history(engine, "grids", code, lambda _action, b, a: describe_change(b, a), limit=limit)
