"""Database faults on both backends: a locked SQLite file, a read-only one, a PostgreSQL server stopped and
started again — each becomes one Chinese sentence with an incident id, nothing half-written, one log record;
and ``python -m data.cli check`` tells a monitor whether the database answers, is migrated and is writable."""
from __future__ import annotations

import contextlib
import getpass
import glob
import json
import logging
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy import exc as sa_exc

from data import schema
from data.cli import main
from data.edits import update_compound
from data.faults import Fault, RetryPolicy, classify, database_errors
from data.health import database_status, head_revision
from data.incidents import LOGGER_NAME
from data.ingest import commit_import, preview_import
from data.store import MIGRATIONS, data_version, engine_for, migrate, read_layer
from geo.access import system_operator
from geo.errors import ConflictError, DatabaseBusy, DatabaseReadOnly, DatabaseUnavailable, GuloError
from tests.conftest import skip_or_fail
from tests.ingest_helpers import checksum, compound_row, csv_bytes, tiny_store

ROOT = Path(__file__).resolve().parent.parent
CODE = "350102004001C001"  # a compound of the tiny district, at version 1, status not_planned
EDIT = {"status": "planned", "plan_year": 2027}
OPERATOR = system_operator("测试")
BUSY_TIMEOUT, BUSY_RETRY = 0.2, 1.0  # seconds: small, so the lock tests take about a second each
ID = r"（事件编号 [0-9a-f]{8}）"
LEAKS = ("Traceback", "[SQL", "UPDATE", "SELECT", "BEGIN", "Error", "127.0.0.1", "localhost", "/tmp", "@")


@pytest.fixture
def fast_busy(monkeypatch):
    """Busy timeout and retry budget small (read when an engine is made and at each save)."""
    monkeypatch.setenv("DB_BUSY_TIMEOUT", str(BUSY_TIMEOUT))
    monkeypatch.setenv("DB_BUSY_RETRY", str(BUSY_RETRY))


@pytest.fixture
def incidents(caplog):
    """The records of the incident logger during the test (listened to directly: the CLI may point it at a file)."""
    logger = logging.getLogger(LOGGER_NAME)
    level = logger.level
    logger.addHandler(caplog.handler)
    logger.setLevel(logging.INFO)
    # the handler may see a record twice (here and on the root logger): count each once
    yield lambda: list({id(r): r for r in caplog.records if r.name == LOGGER_NAME}.values())
    logger.removeHandler(caplog.handler)
    logger.setLevel(level)


def assert_plain(message: str, *secrets: str) -> None:
    """No traceback, SQL, driver name, path, host or port in ``message``."""
    for leak in (*LEAKS, *secrets):
        assert leak not in message, (leak, message)


def logged_once(records, exc: GuloError, words: str) -> None:
    """Exactly one incident record carries the exception's id, with the driver's error and its traceback."""
    mine = [r for r in records if exc.incident_id in r.getMessage()]
    assert len(mine) == 1, [r.getMessage() for r in records]
    assert mine[0].exc_info and words in str(mine[0].exc_info[1])


def audit_rows(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(schema.audit_log)).scalar()


def version_of(engine, code: str = CODE) -> int:
    return int(read_layer(engine, "compounds").set_index("code").loc[code, "version"])


# ---------------------------------------------------------------- classification and policy (no database)

def _sa(orig: BaseException, cls=sa_exc.OperationalError) -> sa_exc.DBAPIError:
    return cls("UPDATE compounds SET x=? -- /srv/db.sqlite", {"x": "database is locked"}, orig)


def _pg(name: str, message: str = "") -> BaseException:
    import psycopg.errors
    return getattr(psycopg.errors, name)(message)


CASES = [
    ("sqlite locked", lambda: _sa(sqlite3.OperationalError("database is locked")), Fault.BUSY),
    ("sqlite read-only", lambda: _sa(sqlite3.OperationalError("attempt to write a readonly database")), Fault.READ_ONLY),
    ("sqlite disk I/O", lambda: _sa(sqlite3.OperationalError("disk I/O error")), Fault.READ_ONLY),
    ("sqlite full", lambda: _sa(sqlite3.OperationalError("database or disk is full")), Fault.DISK_FULL),
    ("sqlite cannot open", lambda: _sa(sqlite3.OperationalError("unable to open database file")), Fault.UNAVAILABLE),
    ("pg lock timeout", lambda: _sa(_pg("LockNotAvailable", "canceling statement due to lock timeout")), Fault.BUSY),
    ("pg serialization", lambda: _sa(_pg("SerializationFailure")), Fault.BUSY),
    ("pg deadlock", lambda: _sa(_pg("DeadlockDetected")), Fault.BUSY),
    ("pg admin shutdown", lambda: _sa(_pg("AdminShutdown", "terminating connection")), Fault.UNAVAILABLE),
    ("pg refused", lambda: _sa(_pg("OperationalError", 'connection failed: connection to server at "10.0.0.5", '
                                                      "port 5432 failed: Connection refused")), Fault.UNAVAILABLE),
    ("pg no host", lambda: _sa(_pg("OperationalError", 'failed to resolve host "db": Name or service not known')),
     Fault.UNAVAILABLE),
    ("pg closed", lambda: _sa(_pg("OperationalError", "server closed the connection unexpectedly")), Fault.UNAVAILABLE),
    ("pg read-only", lambda: _sa(_pg("ReadOnlySqlTransaction"), sa_exc.InternalError), Fault.READ_ONLY),
    ("pg permission", lambda: _sa(_pg("InsufficientPrivilege"), sa_exc.ProgrammingError), Fault.READ_ONLY),
    ("pg disk full", lambda: _sa(_pg("DiskFull")), Fault.DISK_FULL),
    ("pool exhausted", lambda: sa_exc.TimeoutError("QueuePool limit reached"), Fault.BUSY),
    ("refused at connect", lambda: ConnectionRefusedError(111, "Connection refused"), Fault.UNAVAILABLE),
    # a constraint error whose SQL parameters happen to hold the words of a fault is still not one
    ("integrity", lambda: _sa(sqlite3.IntegrityError("UNIQUE constraint failed"), sa_exc.IntegrityError), Fault.OTHER),
    ("pg unique", lambda: _sa(_pg("UniqueViolation"), sa_exc.IntegrityError), Fault.OTHER),
]


@pytest.mark.parametrize("make, kind", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_driver_errors_are_classified(make, kind):
    assert classify(make()) is kind


def test_the_messages_say_what_happened_whether_it_was_saved_and_what_to_do():
    assert str(DatabaseBusy("0a1b2c3d", writing=True)) == "数据库正忙，您的修改尚未保存，请稍后重试（事件编号 0a1b2c3d）"
    assert str(DatabaseUnavailable("0a1b2c3d")) == "数据库暂时无法连接，正在重试…（事件编号 0a1b2c3d）"
    assert DatabaseUnavailable("0a1b2c3d").text(retrying=False) == "数据库暂时无法连接，请稍后重试（事件编号 0a1b2c3d）"
    assert "您的修改尚未保存" in str(DatabaseUnavailable("0a1b2c3d", writing=True))
    assert "无法确认修改是否已保存" in str(DatabaseUnavailable("0a1b2c3d", writing=True, outcome_unknown=True))
    full = DatabaseReadOnly("0a1b2c3d", writing=True, disk_full=True)
    assert str(full) == "数据库当前只读（或磁盘已满），无法保存；请联系系统管理员（事件编号 0a1b2c3d）"
    assert full.disk_full and not full.retryable and DatabaseBusy("x").retryable
    assert all(isinstance(e, GuloError) and isinstance(e, ValueError)
               for e in (full, DatabaseBusy("x"), DatabaseUnavailable("x")))


def test_retry_policy_stays_inside_its_budget():
    policy = RetryPolicy(budget=8.0, busy_timeout=2.0)
    elapsed, attempt = policy.busy_timeout, 0  # the first attempt waited its busy timeout and failed
    while (pause := policy.wait(attempt, elapsed)) is not None:
        assert pause <= policy.cap
        elapsed += pause + policy.busy_timeout
        attempt += 1
    assert attempt >= 2 and elapsed <= policy.budget
    assert RetryPolicy(budget=0.0, busy_timeout=0.0).wait(0, 0.0) is None


def test_a_busy_save_is_rerun_whole_and_other_errors_are_not(fast_busy, incidents):
    calls = []

    @database_errors("测试", writing=True)
    def save(fail_times: int, error: BaseException | None = None) -> int:
        calls.append(1)
        if error is not None:
            raise error
        if len(calls) <= fail_times:
            raise _sa(sqlite3.OperationalError("database is locked"))
        return 42

    assert save(2) == 42 and len(calls) == 3 and not incidents()  # succeeded within the budget: no message, no log
    calls.clear()
    with pytest.raises(ConflictError):
        save(0, ConflictError("已被他人修改"))
    assert len(calls) == 1
    calls.clear()
    with pytest.raises(sa_exc.IntegrityError):  # kind OTHER: unchanged, not retried, left to the caller's catch-all
        save(0, _sa(sqlite3.IntegrityError("UNIQUE constraint failed"), sa_exc.IntegrityError))
    assert len(calls) == 1 and not incidents()
    calls.clear()
    start = time.monotonic()
    with pytest.raises(DatabaseBusy) as caught:
        save(10_000)
    assert time.monotonic() - start <= BUSY_RETRY + 0.5 and len(calls) >= 2
    logged_once(incidents(), caught.value, "database is locked")


def test_a_connection_lost_during_commit_says_the_outcome_is_unknown(sqlite_url, incidents):
    engine = engine_for(sqlite_url)
    migrate(engine)

    def lost(_conn):
        raise sqlite3.OperationalError("server closed the connection unexpectedly")

    event.listen(engine, "commit", lost)
    try:
        with pytest.raises(DatabaseUnavailable, match="无法确认修改是否已保存") as caught:
            with database_errors("测试", writing=True), engine.begin() as conn:
                conn.exec_driver_sql("UPDATE alembic_version SET version_num = version_num")
    finally:
        event.remove(engine, "commit", lost)
    assert caught.value.outcome_unknown
    with pytest.raises(DatabaseUnavailable, match="您的修改尚未保存"), database_errors("测试", writing=True):
        raise sqlite3.OperationalError("unable to open database file")  # before any commit: known not saved


# ---------------------------------------------------------------- SQLite locked by another process

LOCKER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
hold = float(sys.argv[2])
time.sleep(hold) if hold > 0 else sys.stdin.readline()
conn.execute("ROLLBACK")
"""


@contextlib.contextmanager
def locked(path: Path, hold: float = 0.0):
    """Another process holds SQLite's write lock on ``path`` (``BEGIN EXCLUSIVE``): until the block ends, or for
    ``hold`` seconds."""
    proc = subprocess.Popen([sys.executable, "-c", LOCKER, str(path), str(hold)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        yield proc
    finally:
        if proc.poll() is None and hold <= 0:
            proc.stdin.write("\n")
            proc.stdin.flush()
        proc.wait(timeout=30)


@pytest.fixture
def store(tmp_path, fast_busy):
    """The tiny district in a SQLite file: (path, engine)."""
    path = tmp_path / "gulou.db"
    return path, tiny_store(f"sqlite:///{path}")


def test_a_locked_file_refuses_the_edit_in_chinese_writes_nothing_then_the_same_edit_succeeds(store, incidents):
    path, engine = store
    before, entries = checksum(engine), audit_rows(engine)
    with locked(path):
        start = time.monotonic()
        with pytest.raises(DatabaseBusy) as caught:
            update_compound(engine, CODE, EDIT, 1, OPERATOR)
        took = time.monotonic() - start
        assert len(read_layer(engine, "compounds")) == 3  # reads keep working while the file is locked
        assert checksum(engine) == before and audit_rows(engine) == entries
    message = str(caught.value)
    assert re.fullmatch("数据库正忙，您的修改尚未保存，请稍后重试" + ID, message), message
    assert_plain(message, str(path))
    assert BUSY_TIMEOUT <= took <= BUSY_RETRY + 1.0, took  # the budget, and slack for a loaded machine
    logged_once(incidents(), caught.value, "database is locked")
    assert update_compound(engine, CODE, EDIT, 1, OPERATOR)["status"] == "planned"
    assert version_of(engine) == 2 and audit_rows(engine) == entries + 1


def test_a_locked_file_refuses_the_import_writes_nothing_then_the_same_import_succeeds(store, incidents):
    path, engine = store
    preview = preview_import(engine, csv_bytes([compound_row()]), "compounds", "台账.csv")
    assert preview.ok
    before, entries = checksum(engine), audit_rows(engine)
    with locked(path), pytest.raises(DatabaseBusy, match="^数据库正忙，您的修改尚未保存，请稍后重试" + ID) as caught:
        commit_import(engine, preview, OPERATOR)
    assert checksum(engine) == before and audit_rows(engine) == entries
    logged_once(incidents(), caught.value, "database is locked")
    result = commit_import(engine, preview, OPERATOR)
    assert result.inserted == 1 and audit_rows(engine) == entries + 1


def test_a_lock_released_during_the_retry_window_lets_the_edit_through_without_a_message(store, incidents):
    path, engine = store
    with locked(path, hold=0.6):  # longer than one busy timeout (0.2 s), shorter than the budget (1 s)
        start = time.monotonic()
        row = update_compound(engine, CODE, EDIT, 1, OPERATOR)
        took = time.monotonic() - start
    assert row["status"] == "planned" and row["version"] == 2
    assert took >= 0.3, took  # it did wait for the lock
    assert not incidents()


def test_the_command_line_says_busy_in_chinese_and_logs_the_traceback_to_the_incident_log(store, tmp_path, capsys,
                                                                                        monkeypatch):
    path, engine = store
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    csv = tmp_path / "台账.csv"
    csv.write_bytes(csv_bytes([compound_row()]))
    before = checksum(engine)
    with locked(path):
        code = main(["--database-url", f"sqlite:///{path}", "import", "compounds", str(csv)])
    err = capsys.readouterr().err
    assert code == 2
    match = re.fullmatch("错误：数据库正忙，您的修改尚未保存，请稍后重试（事件编号 ([0-9a-f]{8})）\n", err)
    assert match, err
    assert checksum(engine) == before
    log = (tmp_path / "data" / "logs" / "incidents.log").read_text(encoding="utf-8")
    assert match.group(1) in log and "database is locked" in log and "Traceback" in log


# ---------------------------------------------------------------- SQLite read-only
# Tests run as root here, and root ignores file permissions: chmod 0o444 would not stop a write. The
# database is therefore made read-only the way SQLite itself enforces regardless of the user: opened with
# the ``?mode=ro`` URI, or with ``PRAGMA query_only=ON`` on every connection of an engine.

def _read_only_engine(path: Path, how: str):
    if how == "mode=ro":
        return engine_for(f"sqlite:///file:{path}?mode=ro&uri=true")
    engine = create_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", lambda dbapi_conn, _record: dbapi_conn.execute("PRAGMA query_only=ON"))
    return engine


@pytest.mark.parametrize("how", ["mode=ro", "query_only"])
def test_a_read_only_file_refuses_writes_for_the_administrator_and_reads_keep_working(store, how, incidents):
    path, engine = store
    before = checksum(engine)
    ro = _read_only_engine(path, how)
    migrate(ro)  # already at the newest revision: nothing to write, so a read-only database still opens
    with pytest.raises(DatabaseReadOnly) as caught:
        update_compound(ro, CODE, EDIT, 1, OPERATOR)
    message = str(caught.value)
    assert re.fullmatch("数据库当前只读（或磁盘已满），无法保存；请联系系统管理员" + ID, message), message
    assert_plain(message, str(path))
    logged_once(incidents(), caught.value, "readonly database")
    preview = preview_import(ro, csv_bytes([compound_row()]), "compounds", "台账.csv")  # reading: fine
    with pytest.raises(DatabaseReadOnly):
        commit_import(ro, preview, OPERATOR)
    assert len(read_layer(ro, "compounds")) == 3 and data_version(ro) > 0
    assert checksum(engine) == before


# ---------------------------------------------------------------- the check command

def _check(url: str, capsys, *extra: str) -> tuple[int, str]:
    code = main(["--database-url", url, "check", *extra])
    out = capsys.readouterr()
    assert not out.err, out.err
    return code, out.out


def test_check_passes_on_a_fresh_migrated_database(store, capsys):
    path, _ = store
    code, out = _check(f"sqlite:///{path}", capsys)
    assert code == 0, out
    lines = out.splitlines()
    assert [line.split("：")[0] for line in lines] == ["✓ 数据库连接", "✓ 迁移版本", "✓ 可写"]
    assert f"{head_revision()}（最新）" in lines[1]
    assert_plain(out, str(path))
    code, out = _check(f"sqlite:///{path}", capsys, "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"] and [c["key"] for c in report["checks"]] == ["connection", "migration", "writable"]


def test_check_fails_on_an_unmigrated_or_missing_database(tmp_path, capsys):
    old = tmp_path / "old.db"
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine_for(f"sqlite:///{old}").begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    code, out = _check(f"sqlite:///{old}", capsys)
    assert code == 1 and f"✗ 迁移版本：0001，最新为 {head_revision()}" in out and "✓ 可写" in out
    empty = tmp_path / "empty.db"
    empty.touch()
    code, out = _check(f"sqlite:///{empty}", capsys)
    assert code == 1 and "✗ 迁移版本：尚未建表" in out
    missing = tmp_path / "missing.db"
    code, out = _check(f"sqlite:///{missing}", capsys)
    assert code == 1 and "✗ 数据库连接：数据库文件不存在" in out and not missing.exists()  # the check creates nothing
    assert_plain(out, str(tmp_path))


def test_check_fails_on_a_read_only_or_locked_database(store, capsys):
    path, engine = store
    before = checksum(engine)
    code, out = _check(f"sqlite:///file:{path}?mode=ro&uri=true", capsys)
    assert code == 1 and "✓ 迁移版本" in out and "✗ 可写：数据库只读或无写权限" in out, out
    with locked(path):
        code, out = _check(f"sqlite:///{path}", capsys)
    assert code == 1 and "✓ 数据库连接" in out and "✗ 可写：数据库正忙" in out, out
    assert checksum(engine) == before
    assert_plain(out, str(path))


# ---------------------------------------------------------------- PostgreSQL

def test_a_read_only_postgresql_database_refuses_writes_and_fails_the_check(postgis_url, capsys, incidents):
    engine = tiny_store(postgis_url)
    name = postgis_url.rsplit("/", 1)[1]
    with engine.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
        conn.commit()
    engine.dispose()  # new sessions start read-only
    with pytest.raises(DatabaseReadOnly) as caught:
        update_compound(engine, CODE, EDIT, 1, OPERATOR)
    logged_once(incidents(), caught.value, "read-only transaction")
    assert len(read_layer(engine, "compounds")) == 3
    code, out = _check(postgis_url, capsys)
    assert code == 1 and "✓ 数据库连接：PostgreSQL" in out and "✗ 可写：数据库只读或无写权限" in out, out


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A throwaway PostgreSQL cluster of our own (as .ci/start-postgres makes one), to stop and start at will."""

    def __init__(self, bin_dir: Path, folder: Path, port: int):
        self.bin, self.dir, self.port = bin_dir, folder, port

    def run(self, *args: str) -> None:
        line = " ".join([str(self.bin / args[0]), *args[1:]])
        as_root = os.geteuid() == 0
        cmd = ["su", "postgres", "-s", "/bin/bash", "-c", line] if as_root else ["bash", "-c", line]
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run("pg_ctl", "-D", str(self.dir / "data"), "-l", str(self.dir / "server.log"), "-w", "-o", f"'{options}'",
                 "start")

    def stop(self, mode: str = "fast") -> None:
        self.run("pg_ctl", "-D", str(self.dir / "data"), "-m", mode, "-w", "stop")


@pytest.fixture
def own_cluster():
    """A cluster on a free loopback port in a folder the ``postgres`` user can reach; removed afterwards."""
    bin_dir = _pg_bin()
    if bin_dir is None:
        skip_or_fail("PostgreSQL binaries not found (apt-get install postgresql-15-postgis-3)", "REQUIRE_POSTGIS")
    folder = Path(tempfile.mkdtemp(prefix="gulou-pgfault-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    cluster = Cluster(bin_dir, folder, _free_port())
    user = "postgres" if os.geteuid() == 0 else getpass.getuser()
    cluster.run("initdb", "-D", str(folder / "data"), "-A", "trust", "-U", user, "-E", "UTF8", "--locale=C.UTF-8", "-N")
    cluster.start()
    admin = create_engine(f"postgresql+psycopg://{user}@127.0.0.1:{cluster.port}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE gulou"))
    admin.dispose()
    cluster.url = f"postgresql+psycopg://{user}:not-a-real-secret@127.0.0.1:{cluster.port}/gulou"
    yield cluster
    engine_for(cluster.url).dispose()
    with contextlib.suppress(subprocess.SubprocessError):
        cluster.stop("immediate")
    shutil.rmtree(folder, ignore_errors=True)


def _cli(url: str, data_dir: Path) -> subprocess.CompletedProcess:
    """``python -m data.cli check`` in a process of its own."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATA_DIR": str(data_dir)}
    return subprocess.run([sys.executable, "-m", "data.cli", "--database-url", url, "check"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_postgresql_stopped_then_started_again(own_cluster, incidents, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    url, port = own_cluster.url, str(own_cluster.port)
    engine = tiny_store(url)
    assert len(read_layer(engine, "compounds")) == 3
    version = data_version(engine)

    own_cluster.stop("fast")
    faults = []
    for call in (lambda: read_layer(engine, "compounds"), lambda: data_version(engine)):
        with pytest.raises(DatabaseUnavailable, match="^数据库暂时无法连接，正在重试…" + ID) as caught:
            call()
        faults.append(caught.value)
    with pytest.raises(DatabaseUnavailable, match="^数据库暂时无法连接，您的修改尚未保存，请稍后重试" + ID) as caught:
        update_compound(engine, CODE, EDIT, 1, OPERATOR)
    faults.append(caught.value)
    for fault in faults:
        assert_plain(str(fault), port, "not-a-real-secret")
        logged_once(incidents(), fault, "")
    assert main(["--database-url", url, "accounts", "list"]) == 2  # any command: one Chinese line, exit 2
    err = capsys.readouterr().err
    assert re.fullmatch("错误：数据库暂时无法连接，请稍后重试" + ID + "\n", err), err
    assert_plain(err, port, "not-a-real-secret")
    checked = _cli(url, tmp_path)
    assert checked.returncode == 1, checked
    assert "✗ 数据库连接：无法连接数据库" in checked.stdout and not checked.stderr, checked
    assert_plain(checked.stdout, port, "not-a-real-secret")
    assert [c.ok for c in database_status(engine)] == [False, False, False]

    own_cluster.start()  # the same engine, in the same process, recovers by itself
    assert data_version(engine) == version
    assert update_compound(engine, CODE, EDIT, 1, OPERATOR)["version"] == 2
    assert len(read_layer(engine, "compounds")) == 3
    checked = _cli(url, tmp_path)
    assert checked.returncode == 0, checked
    assert "✓ 数据库连接：PostgreSQL" in checked.stdout and "✓ 可写" in checked.stdout
    assert_plain(checked.stdout, port, "not-a-real-secret")
