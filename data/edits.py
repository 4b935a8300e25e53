"""Editing one compound's renovation fields: validated, optimistically locked, audited.

Every save runs in one transaction: read the row (locked: ``BEGIN IMMEDIATE`` on SQLite,
``SELECT … FOR UPDATE`` on PostgreSQL), check its version, validate the edit with
``geo.lifecycle``, ``UPDATE … SET version = version + 1 WHERE code = :code AND version = :expected``,
and append one audit-log entry holding only the changed fields. A stale version is refused with
``ConflictError``; nothing is ever silently overwritten. The acting account is re-read inside the
transaction and must hold the compound in its scope (``geo.access``), so the scope is enforced here,
not only in the UI.

A save that finds the database busy is re-run as a whole (``data.faults``); a busy, unreachable or
read-only database ends in ``DatabaseBusy`` / ``DatabaseUnavailable`` / ``DatabaseReadOnly`` with nothing
saved.
"""
from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Connection, Engine, select

from data import schema
from data.accounts import record_refusal, verify
from data.faults import database_errors
from data.store import audit, record_history
from data.versioned import begin_locked, conditional_update, conflict
from geo.access import Account, require_login, require_write
from geo.errors import DataValidationError, GuloError, PermissionDenied
from geo.lifecycle import changed_fields, describe_change, district_today, normalise_changes, validate_compound_edit

_COLUMNS = [c for c in schema.compounds.c if c.name != "geom"]


def _read_row(conn: Connection, code: str) -> dict | None:
    """The compound's columns (without geometry) as a dict, row-locked on PostgreSQL; None when absent."""
    t = schema.compounds
    row = conn.execute(select(*_COLUMNS).where(t.c.code == code).with_for_update()).mappings().first()
    return None if row is None else dict(row)


def _check(before: dict | None, code: str, changes: dict, expected_version: int, today: date) -> dict:
    """Raise for a missing row, a stale version or an invalid edit; return the normalised changes."""
    if before is None:
        raise GuloError(f"找不到小区“{code}”")
    if before["version"] != expected_version:
        raise conflict("小区", code, before["version"])
    problems = validate_compound_edit(before, changes, today)
    if problems:
        raise DataValidationError("修改未保存：" + "；".join(problems),
                                  [(code, p.split("：", 1)[0], None, p) for p in problems])
    return normalise_changes(changes)[0]


@database_errors("保存小区修改", writing=True)
def update_compound(engine: Engine, code: str, changes: dict, expected_version: int, account: Account | None,
                    today: date | None = None) -> dict:
    """As ``account``, apply ``changes`` to compound ``code`` if it is still at ``expected_version``; return the new row.

    ``account`` must be logged in (not None), still active in the database, and its scope must hold
    the compound's community (``geo.access.require_write``); otherwise ``PermissionDenied`` and the
    refusal is audited (action ``denied``). The audit log's actor is ``account.username``.

    ``changes`` maps editable fields (status, plan_year, budget_wan 万元, started_on, completed_on,
    reno_type) to new values; see ``geo.lifecycle.normalise_changes`` for accepted forms. ``today``
    (default: today in Fuzhou, UTC+8) bounds the completion date. Raises ``DataValidationError`` listing
    every problem, ``ConflictError`` when someone else saved first, ``GuloError`` for an unknown
    code. An edit that changes nothing writes nothing and returns the row as it is. The returned
    dict has every column except the geometry. While the database is busy the whole transaction is
    re-run for up to ``db_busy_retry`` seconds; then ``DatabaseBusy`` (a ``DatabaseUnavailable`` or
    ``DatabaseReadOnly`` at once), nothing saved — see ``data.faults``.
    """
    today = today or district_today()
    try:
        require_login(account)
        with engine.begin() as conn:
            begin_locked(conn)
            before = _read_row(conn, code)
            actor = _authorise(conn, account, before, code)
            clean = _check(before, code, changes, expected_version, today)
            diff = changed_fields(before, clean)
            if not diff:
                return before
            conditional_update(conn, schema.compounds, code, {f: new for f, (_, new) in diff.items()},
                               expected_version, "小区")
            audit(conn, actor.username, "update", "compounds", code,
                  {f: old for f, (old, _) in diff.items()}, {f: new for f, (_, new) in diff.items()})
            return _read_row(conn, code)
    except PermissionDenied as exc:
        record_refusal(engine, account, "compounds", code, str(exc))
        raise


def _authorise(conn: Connection, account: Account, before: dict | None, code: str) -> Account:
    """The acting account as stored now, when it may write compound ``code``; PermissionDenied otherwise."""
    acting = verify(conn, account)
    if before is not None:
        require_write(acting, before["community_code"], what=f"{before['name']}（{code}）")
    return acting


def compound_history(engine: Engine, code: str, limit: int = 500) -> pd.DataFrame:
    """Audit entries of compound ``code``, newest first.

    Columns: id, at (UTC), actor, action, before and after (decoded JSON dicts of the changed
    fields; None when absent) and summary (one Chinese line, e.g. ``改造状态：已纳入计划 → 施工中``).
    An empty frame with those columns when the compound has no history.
    """
    return record_history(engine, "compounds", code, lambda _action, b, a: describe_change(b, a), skip=(), limit=limit)
