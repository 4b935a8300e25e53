"""Is the database fit for work? Three checks for ``python -m data.cli check``, monitors and the admin page.

``database_status(engine) -> list[Check]`` answers, in this order:

1. 数据库连接 (``connection``): the database answers a query (SQLite: the file exists — the check never
   creates it); the detail names the engine's version and the reply time.
2. 迁移版本 (``migration``): it is at the newest Alembic revision of ``data/migrations``.
3. 可写 (``writable``): a write inside a transaction that is then rolled back succeeds — on SQLite
   ``BEGIN IMMEDIATE`` (the write lock) and a no-op ``UPDATE`` of ``alembic_version``; on PostgreSQL the
   same ``UPDATE`` (refused on a read-only server or transaction, or waits ``db_busy_timeout`` for a
   lock). Nothing is changed.

Each ``Check`` has a Chinese ``detail`` that never names a host, port, path or password. The checks
only read what they report: a failure is classified (``data.faults.classify``) into a reason, not
logged as an incident — a monitor polling a stopped server would otherwise fill the incident log —
except an unexpected error, which is logged under an incident id that the detail gives.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect

from data.faults import DRIVER_ERRORS, LABELS, Fault, classify
from data.incidents import record_incident
from data.store import MIGRATIONS, sqlite_path

OK_MARK, FAIL_MARK = "✓", "✗"
NOT_CHECKED = "未检查（数据库无法连接）"

_HINTS: tuple[tuple[str, str], ...] = (
    ("connection refused", "连接被拒绝，数据库服务可能未启动"),
    ("could not translate host name", "主机名无法解析"), ("name or service not known", "主机名无法解析"),
    ("timed out", "连接超时"), ("timeout expired", "连接超时"),
    ("the database system is", "数据库服务正在启动或关闭"), ("terminating connection", "数据库服务正在关闭"),
    ("password authentication failed", "用户名或密码不被接受"), ("does not exist", "数据库或用户不存在"),
    ("unable to open database file", "数据库文件无法打开"),
)
"""Lower-case phrases of driver messages -> a Chinese hint that names no host, port, path or user."""


@dataclass(frozen=True)
class Check:
    """One line of the status: ``key`` (connection / migration / writable), ``label`` (Chinese), ``ok``,
    ``detail`` (Chinese: what was found, or why it failed)."""

    key: str
    label: str
    ok: bool
    detail: str

    @property
    def line(self) -> str:
        """``✓ 数据库连接：SQLite 3.40.1，响应 1 ms`` — one line for a terminal or a page."""
        return f"{OK_MARK if self.ok else FAIL_MARK} {self.label}：{self.detail}"

    def as_dict(self) -> dict:
        return asdict(self)


def database_status(engine: Engine) -> list[Check]:
    """The three checks of the module doc, in order; the later two are not run when the first fails."""
    connection = _run("connection", "数据库连接", engine, _connection)
    if not connection.ok:
        return [connection] + [Check(key, label, False, NOT_CHECKED)
                               for key, label in (("migration", "迁移版本"), ("writable", "可写"))]
    return [connection, _run("migration", "迁移版本", engine, _migration),
            _run("writable", "可写", engine, _writable)]


def all_ok(checks: list[Check]) -> bool:
    """Whether every check passed."""
    return all(c.ok for c in checks)


def head_revision() -> str:
    """The newest migration of ``data/migrations``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head() or ""


def _run(key: str, label: str, engine: Engine, probe: Callable[[Engine], tuple[bool, str]]) -> Check:
    """``probe(engine)`` as a Check; a driver error becomes a failed check with its reason."""
    try:
        ok, detail = probe(engine)
    except DRIVER_ERRORS as exc:
        ok, detail = False, failure_reason(exc)
    return Check(key, label, ok, detail)


def failure_reason(exc: BaseException) -> str:
    """A Chinese reason for a driver error, without host, port, path or password (OTHER: an incident id)."""
    kind = classify(exc)
    if kind is Fault.OTHER:
        return f"{LABELS[kind]}（事件编号 {record_incident(exc, '数据库检查')}）"
    text = str(getattr(exc, "orig", None) or exc).lower()
    hint = next((words for phrase, words in _HINTS if phrase in text), "")
    return f"{LABELS[kind]}（{hint}）" if hint and kind is Fault.UNAVAILABLE else LABELS[kind]


def _connection(engine: Engine) -> tuple[bool, str]:
    if engine.dialect.name == "sqlite" and not sqlite_path(str(engine.url)).is_file():
        return False, "数据库文件不存在（首次启动应用时创建）"
    start = time.perf_counter()
    with engine.connect() as conn:
        version = _server(conn)
    return True, f"{version}，响应 {(time.perf_counter() - start) * 1000:.0f} ms"


def _server(conn: Connection) -> str:
    """The engine and its version in words, e.g. ``SQLite 3.40.1`` or ``PostgreSQL 15.8，PostGIS 3.4.2``."""
    if conn.dialect.name == "sqlite":
        return f"SQLite {conn.exec_driver_sql('SELECT sqlite_version()').scalar()}"
    if conn.dialect.name != "postgresql":
        return conn.dialect.name
    version = str(conn.exec_driver_sql("SHOW server_version").scalar()).split()[0]
    postgis = conn.exec_driver_sql("SELECT extversion FROM pg_extension WHERE extname = 'postgis'").scalar()
    return f"PostgreSQL {version}，" + (f"PostGIS {postgis}" if postgis else "未安装 PostGIS")


def _migration(engine: Engine) -> tuple[bool, str]:
    head = head_revision()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current == head:
        return True, f"{current}（最新）"
    if current is None:
        return False, f"尚未建表（最新为 {head}）：启动应用或运行任一数据命令即自动建表"
    return False, f"{current}，最新为 {head}：启动应用或运行任一数据命令即自动升级"


def _writable(engine: Engine) -> tuple[bool, str]:
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            migrated = inspect(conn).has_table("alembic_version")
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = version_num" if migrated
                                 else "CREATE TABLE gulou_write_probe (x INTEGER)")
        finally:
            trans.rollback()
    return True, "可以写入（试写已回滚，未改动数据）"


__all__ = ["Check", "all_ok", "database_status", "failure_reason", "head_revision"]
