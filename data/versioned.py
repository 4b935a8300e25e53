"""Rows edited in the app under optimistic locking: one conflict message and one conditional UPDATE shared
by every editor (compounds, dispute cases, grids, stations).

A row carries ``version``; a save names the version it was made on and ``conditional_update`` writes only
while the row is still at it, bumping it by one. Someone else's earlier save, or a deleted row, ends in
``ConflictError`` with a Chinese sentence saying that nothing was saved.
"""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, Engine, Table, select, update

from geo.access import Account, require_login, require_write
from geo.errors import ConflictError, DataValidationError, GuloError, PermissionDenied


def conflict(noun: str, code: str, current: int | None, done: str = "修改") -> ConflictError:
    """The refusal of a save on ``noun`` ``code`` whose row is now at ``current`` (None: gone)."""
    if current is None:
        return ConflictError(f"{noun}“{code}”已不存在（可能已被他人删除），您的修改未保存")
    return ConflictError(f"该{noun}已被他人{done}（当前版本 {current}），请刷新后重试；您的修改未保存")


def conditional_update(conn: Connection, table: Table, code: str, values: dict, expected_version: int,
                       noun: str, done: str = "修改") -> None:
    """UPDATE row ``code`` of ``table`` with ``values`` only while it is at ``expected_version``; ConflictError
    (see ``conflict``) when it is not."""
    result = conn.execute(update(table).where(table.c.code == code, table.c.version == expected_version)
                          .values(**values, version=table.c.version + 1))
    if result.rowcount != 1:
        raise conflict(noun, code, conn.execute(select(table.c.version).where(table.c.code == code)).scalar(), done)


def begin_locked(conn: Connection) -> None:
    """On SQLite take the write lock now, so that read-check-update is one serialised step (PostgreSQL locks
    the rows read ``FOR UPDATE`` instead)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def writable(conn: Connection, account: Account, before: dict | None, code: str, expected_version: int,
             noun: str) -> Account:
    """The acting account as stored now, once row ``before`` (read locked; None: absent) exists, lies in the
    account's scope and is still at ``expected_version``: GuloError, PermissionDenied or ConflictError otherwise."""
    from data.accounts import verify

    acting = verify(conn, account)
    if before is None:
        raise GuloError(f"找不到{noun}“{code}”")
    require_write(acting, before["community_code"], what=f"{before['name']}（{code}）")
    if before["version"] != expected_version:
        raise conflict(noun, code, before["version"])
    return acting


def refused(code: str | None, problems: list[str], lead: str = "未保存") -> DataValidationError:
    """The Chinese refusal of an edit: ``lead``, then every problem; each problem's field is the text before "："."""
    return DataValidationError(f"{lead}：" + "；".join(problems),
                               [(code, p.split("：", 1)[0], None, p) for p in problems])


def locked_write(engine: Engine, account: Account | None, table_name: str, code: str | None,
                 save: Callable[[Connection], dict]) -> dict:
    """Run ``save(conn)`` in one locked transaction as a logged-in account; a refusal of access is audited."""
    from data.accounts import record_refusal  # data.accounts takes begin_locked from here

    try:
        require_login(account)
        with engine.begin() as conn:
            begin_locked(conn)
            return save(conn)
    except PermissionDenied as exc:
        record_refusal(engine, account, table_name, code, str(exc))
        raise

