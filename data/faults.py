"""Database faults: classify driver errors, retry a busy save, and turn the rest into plain Chinese.

A locked or read-only SQLite file and a stopped PostgreSQL used to reach the pages as SQLAlchemy
tracebacks naming the SQL, the file and the host. The store's entry points now run inside
``database_errors``, which raises one of the project exceptions of ``geo.errors`` instead:

- BUSY (database is locked, lock timeout, serialization failure, deadlock): ``DatabaseBusy``, after a
  save was re-run with backoff for up to ``db_busy_retry`` seconds —
  「数据库正忙，您的修改尚未保存，请稍后重试」 (a read: 「数据库正忙，请稍后重试」).
- UNAVAILABLE (connection refused, server shut down, connection lost, file cannot be opened):
  ``DatabaseUnavailable`` — a read: 「数据库暂时无法连接，正在重试…」; a save:
  「数据库暂时无法连接，您的修改尚未保存，请稍后重试」; the connection lost during COMMIT
  (``outcome_unknown``): 「保存时与数据库的连接中断，无法确认修改是否已保存，请稍后刷新页面核对后再操作」.
- READ_ONLY (read-only file or server, permission denied, disk I/O error) and DISK_FULL:
  ``DatabaseReadOnly`` (``disk_full`` tells which) — 「数据库当前只读（或磁盘已满），无法保存；请联系系统管理员」.
- OTHER: the driver's error, unchanged (the caller's catch-all logs it under an incident id).

Each message ends in 「（事件编号 xxxxxxxx）」. All three derive from ``geo.errors.DatabaseFault`` (a
``GuloError``), so a page can write::

    try:
        row = update_compound(engine, code, changes, version, account)
    except DatabaseFault as exc:          # before the generic GuloError handler
        st.error(str(exc))                # keep the form's values; exc.retryable: offer 重试
        # exc.incident_id, exc.writing, exc.outcome_unknown, DatabaseReadOnly.disk_full

``str(exc)`` is meant for a page that retries by itself (reads: 正在重试…); ``exc.text(retrying=False)``
for one that does not (the command line). Each fault is logged ONCE, with the driver's error and its
traceback, on the ``gulou.incident`` logger (``data.incidents.record_incident``) under the same id;
nothing of it (SQL, path, host, port) is in the message. Project errors raised inside (ConflictError,
PermissionDenied, DataValidationError …) pass through unchanged, and so do driver errors of kind OTHER.

A save is retried only as a whole: the decorated function must be one transaction (``engine.begin()``)
that rolled back when it raised, so a re-run never repeats half of it. Between attempts the wait grows
(0.05 s, doubling, at most 1 s, jittered); another attempt starts only while it can finish, busy timeout
included, within ``db_busy_retry`` seconds. Each statement waits ``db_busy_timeout`` seconds for a lock
(SQLite's busy timeout, PostgreSQL's ``lock_timeout``; set in ``data.store.engine_for``). A lock released
during that time lets the save through without any message.

Recovery needs no restart: PostgreSQL engines ping a pooled connection before use (``pool_pre_ping``)
and SQLAlchemy drops the pool's connections when it sees a disconnect, so the first call after the
server is back connects afresh.
"""
from __future__ import annotations

import enum
import functools
import logging
import random
import sqlite3
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Engine, event
from sqlalchemy import exc as sa_exc

from data.incidents import record_incident
from geo.errors import DatabaseBusy, DatabaseFault, DatabaseReadOnly, DatabaseUnavailable
from geo.settings import Settings, get_settings

log = logging.getLogger(__name__)
T = TypeVar("T")


class Fault(enum.Enum):
    """What a database error means for the user."""

    BUSY = "busy"
    UNAVAILABLE = "unavailable"
    READ_ONLY = "read_only"
    DISK_FULL = "disk_full"
    OTHER = "other"


DRIVER_ERRORS: tuple[type[BaseException], ...] = (sa_exc.DBAPIError, sa_exc.TimeoutError, sqlite3.Error,
                                                  ConnectionError)
"""Errors ``database_errors`` looks at (SQLAlchemy wraps psycopg's and sqlite3's); others pass untouched."""

LABELS: dict[Fault, str] = {
    Fault.BUSY: "数据库正忙（被其他程序锁定）", Fault.UNAVAILABLE: "无法连接数据库",
    Fault.READ_ONLY: "数据库只读或无写权限", Fault.DISK_FULL: "磁盘已满", Fault.OTHER: "意外的数据库错误",
}
"""Each kind in a few Chinese words (the ``check`` command's reasons)."""

_SQLSTATES: dict[str, Fault] = {
    "40001": Fault.BUSY, "40P01": Fault.BUSY, "55P03": Fault.BUSY, "55006": Fault.BUSY, "57014": Fault.BUSY,
    "57P01": Fault.UNAVAILABLE, "57P02": Fault.UNAVAILABLE, "57P03": Fault.UNAVAILABLE, "53300": Fault.UNAVAILABLE,
    "25006": Fault.READ_ONLY, "42501": Fault.READ_ONLY, "58030": Fault.READ_ONLY, "53100": Fault.DISK_FULL,
}
"""PostgreSQL SQLSTATE -> kind; class 08 (connection exception) is UNAVAILABLE as a whole."""

_SQLITE_PREFIXES: tuple[tuple[str, Fault], ...] = (
    ("SQLITE_BUSY", Fault.BUSY), ("SQLITE_LOCKED", Fault.BUSY), ("SQLITE_READONLY", Fault.READ_ONLY),
    ("SQLITE_IOERR", Fault.READ_ONLY), ("SQLITE_PERM", Fault.READ_ONLY), ("SQLITE_AUTH", Fault.READ_ONLY),
    ("SQLITE_FULL", Fault.DISK_FULL), ("SQLITE_CANTOPEN", Fault.UNAVAILABLE),
)
"""SQLite error names (``sqlite3.Error.sqlite_errorname``) by prefix -> kind."""

_PHRASES: tuple[tuple[str, Fault], ...] = (
    ("database is locked", Fault.BUSY), ("database table is locked", Fault.BUSY), ("database is busy", Fault.BUSY),
    ("lock timeout", Fault.BUSY), ("could not obtain lock", Fault.BUSY), ("deadlock detected", Fault.BUSY),
    ("could not serialize", Fault.BUSY),
    ("connection refused", Fault.UNAVAILABLE), ("server closed the connection", Fault.UNAVAILABLE),
    ("could not translate host name", Fault.UNAVAILABLE), ("name or service not known", Fault.UNAVAILABLE),
    ("no such host", Fault.UNAVAILABLE), ("terminating connection", Fault.UNAVAILABLE),
    ("administrator command", Fault.UNAVAILABLE), ("admin shutdown", Fault.UNAVAILABLE),
    ("connection is closed", Fault.UNAVAILABLE), ("connection is lost", Fault.UNAVAILABLE),
    ("timed out", Fault.UNAVAILABLE), ("timeout expired", Fault.UNAVAILABLE), ("the database system is", Fault.UNAVAILABLE),
    ("unable to open database file", Fault.UNAVAILABLE),
    ("readonly database", Fault.READ_ONLY), ("read-only transaction", Fault.READ_ONLY),
    ("disk i/o error", Fault.READ_ONLY), ("permission denied", Fault.READ_ONLY),
    ("database or disk is full", Fault.DISK_FULL), ("no space left", Fault.DISK_FULL),
)
"""Lower-case phrases of driver messages -> kind, for errors that carry no code."""


# ---------------------------------------------------------------- classifying


def classify(exc: BaseException) -> Fault:
    """The kind of a database error (SQLAlchemy-wrapped or raw sqlite3 / psycopg 3); OTHER when unknown."""
    if isinstance(exc, sa_exc.TimeoutError):  # the connection pool stayed exhausted
        return Fault.BUSY
    orig = getattr(exc, "orig", None) if isinstance(exc, sa_exc.DBAPIError) else exc
    for err in (orig, exc):
        kind = _by_code(err) if err is not None else None
        if kind is not None:
            return kind
    kind = _by_phrase(str(orig)) if orig is not None else None  # the driver's words, never the SQL or its values
    if kind is not None:
        return kind
    if isinstance(exc, ConnectionError) or _lost(exc, orig):
        return Fault.UNAVAILABLE
    return Fault.OTHER


def _by_code(err: BaseException) -> Fault | None:
    """The kind from SQLite's error name or PostgreSQL's SQLSTATE, when the error carries one."""
    name = getattr(err, "sqlite_errorname", None)
    if isinstance(name, str):
        return next((kind for prefix, kind in _SQLITE_PREFIXES if name.startswith(prefix)), None)
    state = getattr(err, "sqlstate", None)
    if isinstance(state, str) and state:
        return Fault.UNAVAILABLE if state.startswith("08") else _SQLSTATES.get(state)
    return None


def _by_phrase(message: str) -> Fault | None:
    text = message.lower()
    return next((kind for phrase, kind in _PHRASES if phrase in text), None)


def _lost(exc: BaseException, orig: BaseException | None) -> bool:
    """SQLAlchemy saw a disconnect, or psycopg failed without a server answer (no SQLSTATE: connecting)."""
    if getattr(exc, "connection_invalidated", False):
        return True
    module = type(orig).__module__ if orig is not None else ""
    return (module.startswith("psycopg") and getattr(orig, "sqlstate", None) is None
            and type(orig).__name__ in {"OperationalError", "InterfaceError"})


# ---------------------------------------------------------------- converting

_committing: ContextVar[bool] = ContextVar("gulou_db_committing", default=False)
"""True from a COMMIT being sent until the next transaction begins (this thread / task)."""


def track_commits(engine: Engine) -> None:
    """Let faults tell a connection lost during COMMIT (outcome unknown) from one lost before it."""
    event.listen(engine, "begin", lambda _conn: _committing.set(False))
    event.listen(engine, "commit", lambda _conn: _committing.set(True))


def to_project_error(exc: BaseException, action: str, writing: bool) -> DatabaseFault | None:
    """The project exception for ``exc`` (logged once under a new incident id); None for kind OTHER."""
    kind = classify(exc)
    if kind is Fault.OTHER:
        return None
    incident = record_incident(exc, f"数据库故障（{kind.value}）：{action}")
    unknown = writing and kind is Fault.UNAVAILABLE and _committing.get()
    if kind is Fault.BUSY:
        return DatabaseBusy(incident, writing=writing)
    if kind is Fault.UNAVAILABLE:
        return DatabaseUnavailable(incident, writing=writing, outcome_unknown=unknown)
    return DatabaseReadOnly(incident, writing=writing, disk_full=kind is Fault.DISK_FULL)


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff for a busy save: waits of ``first`` seconds doubling up to ``cap`` (times 0.5–1 at random),
    while a further attempt (``busy_timeout`` included) still ends within ``budget`` seconds of the first."""

    budget: float = 8.0
    busy_timeout: float = 2.0
    first: float = 0.05
    cap: float = 1.0

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> RetryPolicy:
        settings = settings or get_settings()
        return cls(budget=max(0.0, settings.db_busy_retry), busy_timeout=max(0.0, settings.db_busy_timeout))

    def wait(self, attempt: int, elapsed: float) -> float | None:
        """Seconds to wait before attempt ``attempt + 1`` (``elapsed`` since the first began); None: give up."""
        pause = min(self.cap, self.first * 2 ** attempt) * random.uniform(0.5, 1.0)
        return pause if elapsed + pause + self.busy_timeout <= self.budget else None


def database_errors(action: str, writing: bool = False, *, retry: bool | None = None) -> DatabaseErrors:
    """Convert driver errors into ``DatabaseBusy`` / ``DatabaseUnavailable`` / ``DatabaseReadOnly``.

    Use as ``with database_errors(...):`` or as a decorator ``@database_errors(...)``. ``action``: what was
    being done, for the log (e.g. ``保存小区修改``). ``writing``: the user asked to save something (the
    message then says it was not saved). ``retry`` (default: ``writing``): as a decorator, re-run the
    whole call while the database is busy (``RetryPolicy``); the function must then be one transaction.
    As a context manager it only converts (a ``with`` block cannot be re-run)."""
    return DatabaseErrors(action, writing, retry=writing if retry is None else retry)


class DatabaseErrors:
    """See ``database_errors``."""

    def __init__(self, action: str, writing: bool = False, *, retry: bool | None = None):
        self.action, self.writing = action, writing
        self.retry = writing if retry is None else retry

    def __enter__(self) -> DatabaseErrors:
        _committing.set(False)
        return self

    def __exit__(self, kind, exc, tb) -> bool:
        if exc is None or not isinstance(exc, DRIVER_ERRORS):
            return False
        fault = to_project_error(exc, self.action, self.writing)
        if fault is None:
            return False
        raise fault from exc

    def __call__(self, fn: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs) -> T:
            with self:
                return _retrying(fn, args, kwargs, self.action) if self.retry else fn(*args, **kwargs)

        return wrapper


def _retrying(fn: Callable[..., T], args: tuple, kwargs: dict, action: str) -> T:
    """``fn(*args, **kwargs)``, re-run after a busy error while the policy allows; the last error raised."""
    policy, start, attempt = RetryPolicy.from_settings(), time.monotonic(), 0
    while True:
        try:
            return fn(*args, **kwargs)
        except DRIVER_ERRORS as exc:
            pause = policy.wait(attempt, time.monotonic() - start) if classify(exc) is Fault.BUSY else None
            if pause is None:
                raise
            attempt += 1
            log.info("数据库正忙，%.2f 秒后第 %d 次重试：%s", pause, attempt, action)
            time.sleep(pause)
            _committing.set(False)


__all__ = ["DRIVER_ERRORS", "LABELS", "DatabaseErrors", "Fault", "RetryPolicy", "classify", "database_errors", "to_project_error",
           "track_commits"]
