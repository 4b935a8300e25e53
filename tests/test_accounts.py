"""Accounts on SQLite and PostGIS: login, throttling, administration by role, compound edits by role
and scope, passwords never in clear, demo accounts, the command line and the login component."""
from __future__ import annotations

import io
import logging
import statistics
import time
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from argon2 import PasswordHasher, profiles
from sqlalchemy import String, Text, create_engine, select
from streamlit.testing.v1 import AppTest

from data import accounts, schema
from data.accounts import (
    DEMO_ACCOUNTS,
    authenticate,
    change_password,
    create_account,
    deactivate,
    demo_accounts_present,
    ensure_demo_accounts,
    get_account,
    list_accounts,
    list_login_locks,
    reset_password,
    unlock_account,
    unlock_client,
)
from data.cli import main as cli
from data.edits import update_compound
from data.store import engine_for, migrate, write_frames
from geo.access import Account, LoginPolicy, LoginThrottle, system_operator
from geo.errors import AuthenticationError, GuloError, PermissionDenied
from geo.vocab import Role
from tests.test_edits import district
from tests.test_store import C1, C2, ST

OP = system_operator("测试")
OUTSIDE = "350102001002"  # a community of 鼓楼街道, outside 东街街道
IN_JUNMEN, IN_DAGEN, ELSEWHERE = C1 + "C001", C2 + "C001", OUTSIDE + "C001"
PW = {"admin": "Adm1n-pass-2026", "dongjie": "D0ngjie-pass-2026", "junmen": "Junm3n-pass-2026"}
CLIENT, OTHER_CLIENT = "192.0.2.10", "198.51.100.7"  # documentation addresses: the office, someone else
TODAY = date(2026, 11, 15)


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    """The cheapest argon2 profile: the tests check the logic, not the cost (measured separately)."""
    monkeypatch.setattr(accounts, "HASHER", PasswordHasher.from_parameters(profiles.CHEAPEST))
    monkeypatch.setattr(accounts, "_dummy_hash", None)


def _district_with_compounds_in_three_communities():
    frames = district()
    extra = frames["compounds"].iloc[[0, 0]].copy()
    extra["code"], extra["community_code"] = [IN_DAGEN, ELSEWHERE], [C2, OUTSIDE]
    extra["street_code"], extra["grid_code"] = [ST, OUTSIDE[:9] + "000"], [None, None]
    frames["compounds"] = pd.concat([frames["compounds"], extra], ignore_index=True).set_crs("EPSG:4326",
                                                                                             allow_override=True)
    return frames


@pytest.fixture
def engine(db_url):
    eng = engine_for(db_url)
    migrate(eng)
    write_frames(eng, _district_with_compounds_in_three_communities(), actor="测试", action="insert")
    create_account(eng, OP, "admin", Role.DISTRICT, "", PW["admin"], "区管理员")
    create_account(eng, OP, "dongjie", "街道办", ST, PW["dongjie"], "东街街道办")
    create_account(eng, OP, "junmen", "community", C1, PW["junmen"], "军门社区督导")
    return eng


def actions(engine, username: str) -> list[str]:
    return [e["action"] for e in accounts.audit_entries(engine, username)]


# ---------------------------------------------------------------- logging in


def test_login_returns_the_account_and_is_audited(engine):
    acct = authenticate(engine, " dongjie ", PW["dongjie"], CLIENT)
    assert (acct.username, acct.role, acct.scope_code, acct.scope_name) == ("dongjie", Role.STREET, ST, "东街街道")
    assert acct.label == "东街街道办（街道办 · 东街街道）" and acct.must_change_password
    assert actions(engine, "dongjie") == ["account_create", "login"]
    with engine.connect() as conn:
        stored = conn.execute(select(schema.accounts.c.password_hash, schema.accounts.c.last_login_at)
                              .where(schema.accounts.c.username == "dongjie")).one()
    assert stored[0].startswith("$argon2id$") and stored[1] is not None


def test_wrong_password_unknown_user_and_no_password_get_one_message(engine):
    create_account(engine, OP, "oidc.user@gulou.gov.cn", Role.STREET, ST)  # no password: OIDC only
    for name, pw in (("dongjie", "wrong-password"), ("nobody", PW["dongjie"]), ("oidc.user@gulou.gov.cn", ""),
                     ("", "x")):
        with pytest.raises(AuthenticationError, match="^用户名或密码错误$"):
            authenticate(engine, name, pw, CLIENT)
    assert actions(engine, "dongjie") == ["account_create", "login_failed"]
    t = schema.audit_log
    with engine.connect() as conn:
        actors = conn.execute(select(t.c.actor).where(t.c.action == "login_failed")).scalars().all()
    assert "nobody" not in actors and actors.count(accounts.UNKNOWN_ACTOR) == 2  # typed names are not kept


def test_five_failures_lock_the_name_for_that_client_with_a_growing_delay_that_survives_a_restart(engine, db_url):
    throttle, t0 = LoginThrottle(), datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    for i in range(4):
        with pytest.raises(AuthenticationError, match="^用户名或密码错误$"):
            authenticate(engine, "junmen", "bad-guess", CLIENT, now=t0 + timedelta(minutes=i), throttle=throttle)
    with pytest.raises(AuthenticationError, match="已暂时锁定，请约5分钟后再试") as err:
        authenticate(engine, "junmen", "bad-guess", CLIENT, now=t0 + timedelta(minutes=4), throttle=throttle)
    assert err.value.locked_until == t0 + timedelta(minutes=9)
    fresh = create_engine(db_url)  # a restarted app (or another process): the lock is in the database
    with pytest.raises(AuthenticationError, match="锁定") as err:
        authenticate(fresh, "junmen", PW["junmen"], CLIENT, now=t0 + timedelta(minutes=8), throttle=throttle)
    assert err.value.locked_until == t0 + timedelta(minutes=9)  # right password, still refused, lock unchanged
    fresh.dispose()
    with pytest.raises(AuthenticationError, match="请约10分钟后再试"):  # one more failure doubles the lock
        authenticate(engine, "junmen", "bad-guess", CLIENT, now=t0 + timedelta(minutes=10), throttle=throttle)
    assert authenticate(engine, "junmen", PW["junmen"], CLIENT, now=t0 + timedelta(minutes=21),
                        throttle=throttle).username == "junmen"
    with pytest.raises(AuthenticationError, match="^用户名或密码错误$"):  # success reset the pair's count
        authenticate(engine, "junmen", "bad-guess", CLIENT, now=t0 + timedelta(minutes=22), throttle=throttle)
    assert actions(engine, "junmen").count("login_locked") == 1


def test_reset_password_lifts_a_lock(engine):
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            authenticate(engine, "junmen", "bad-guess", CLIENT)
    with pytest.raises(AuthenticationError, match="锁定"):
        authenticate(engine, "junmen", PW["junmen"], CLIENT)
    assert list_accounts(engine, OP).set_index("username").loc["junmen", "locked_until"] is not None
    reset_password(engine, OP, "junmen", "N3w-mentor-pass")
    assert authenticate(engine, "junmen", "N3w-mentor-pass", CLIENT).username == "junmen"


def test_users_change_their_own_password(engine):
    acct = authenticate(engine, "junmen", PW["junmen"], CLIENT)
    with pytest.raises(AuthenticationError, match="原密码不正确"):
        change_password(engine, acct, "not-it-at-all", "Another-pass-1")
    with pytest.raises(GuloError, match="密码至少需要10个字符"):
        change_password(engine, acct, PW["junmen"], "short")
    assert not change_password(engine, acct, PW["junmen"], "Another-pass-1").must_change_password
    assert authenticate(engine, "junmen", "Another-pass-1", CLIENT).username == "junmen"


# ---------------------------------------------------------------- throttling per client, no user-name enumeration

T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def fail(engine, name: str, client: str = CLIENT, at: datetime = T0, password: str = "bad-guess") -> str:
    """One refused login; its message."""
    with pytest.raises(AuthenticationError) as err:
        authenticate(engine, name, password, client, now=at)
    return str(err.value)


def test_a_name_locked_from_one_client_still_logs_in_from_another(engine):
    """Anyone typing five wrong passwords for admin locks admin for themselves only."""
    for i in range(5):
        fail(engine, "admin", at=T0 + timedelta(seconds=i))
    assert "已暂时锁定" in fail(engine, "admin", password=PW["admin"], at=T0 + timedelta(minutes=1))
    assert authenticate(engine, "admin", PW["admin"], OTHER_CLIENT, now=T0 + timedelta(minutes=1)).username == "admin"
    assert "已暂时锁定" in fail(engine, "admin", password=PW["admin"], at=T0 + timedelta(minutes=2))  # still, for A
    assert authenticate(engine, "dongjie", PW["dongjie"], CLIENT, now=T0 + timedelta(minutes=2))  # other names: fine
    entries = [e for e in accounts.audit_entries(engine, "admin") if e["action"].startswith("login")]
    assert [(e["action"], e["after"]["client"]) for e in entries][-3:] == [
        ("login_locked", CLIENT), ("login", OTHER_CLIENT), ("login_locked", CLIENT)]


def test_many_names_from_one_client_lock_that_client_for_every_name(engine):
    names = ["admin", "dongjie", "junmen", "nobody", "ghost"]  # 4 failures each: no name reaches its own lock
    messages = [fail(engine, n, at=T0 + timedelta(seconds=4 * k + i)) for k, n in enumerate(names) for i in range(4)]
    assert messages[:-1] == ["用户名或密码错误"] * 19
    assert messages[-1].startswith("用户名或密码错误；本机（网络地址）登录失败次数过多，已暂时锁定")  # the 20th
    for name in ("admin", "li.new", "junmen"):  # any name, right password or not
        assert fail(engine, name, password=PW.get(name, "x"), at=T0 + timedelta(minutes=1)).startswith("本机（网络地址）")
    assert authenticate(engine, "junmen", PW["junmen"], OTHER_CLIENT, now=T0 + timedelta(minutes=1))
    locks = list_login_locks(engine, OP, now=T0 + timedelta(minutes=1))
    assert locks[["client", "username"]].values.tolist() == [[CLIENT, accounts.ANY_NAME]]
    assert authenticate(engine, "junmen", PW["junmen"], CLIENT, now=T0 + timedelta(minutes=6))  # the lock ran out


@pytest.mark.parametrize("state", ["fresh", "pair locked", "client locked"])
def test_unknown_and_known_names_get_the_same_answer(engine, state):
    """Same message, same exception, same lock end — for a known name (wrong or right password), a
    deactivated one and an unknown one, from a client whose pairs or itself are locked or not."""
    names = {"known": "dongjie", "deactivated": "junmen", "unknown": "nobody"}
    deactivate(engine, OP, "junmen")
    steps = {"fresh": 0, "pair locked": 5, "client locked": 0}[state]
    if state == "client locked":
        for i in range(20):
            fail(engine, f"spray{i}", at=T0)
    answers = {}
    for label, name in names.items():
        for i in range(steps):
            fail(engine, name, at=T0 + timedelta(seconds=i))
        with pytest.raises(AuthenticationError) as err:
            authenticate(engine, name, PW["dongjie"] if label == "known" and steps else "bad-guess", CLIENT,
                         now=T0 + timedelta(seconds=10))
        answers[label] = (type(err.value), str(err.value), err.value.locked_until)
    assert len(set(answers.values())) == 1, answers
    locked = state != "fresh"
    assert (answers["unknown"][2] is not None) is locked and ("锁定" in answers["unknown"][1]) is locked


def test_the_same_time_for_unknown_and_known_names(sqlite_url, monkeypatch):
    """Median of 20 refused logins with the real argon2 cost: an unknown name takes as long as a known one."""
    monkeypatch.setattr(accounts, "HASHER", PasswordHasher())  # the production cost, not the cheap test profile
    eng = engine_for(sqlite_url)
    migrate(eng)
    write_frames(eng, district(), actor="测试", action="insert")
    create_account(eng, OP, "dongjie", Role.STREET, ST, PW["dongjie"])
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    for i in range(21):  # interleaved, each pair from its own client so that no lock interferes
        for label, name in (("known", "dongjie"), ("unknown", "nobody-at-all")) if i % 2 else (
                ("unknown", "nobody-at-all"), ("known", "dongjie")):
            start = time.perf_counter()
            with pytest.raises(AuthenticationError, match="^用户名或密码错误$"):
                authenticate(eng, name, "Wrong-guess-7788", f"10.9.0.{i}")
            if i:  # the first round warms caches up
                times[label].append(time.perf_counter() - start)
    known, unknown = statistics.median(times["known"]), statistics.median(times["unknown"])
    print(f"median of 20 refused logins: known {known * 1000:.1f} ms, unknown {unknown * 1000:.1f} ms")
    assert abs(known - unknown) / max(known, unknown) < 0.2


def test_app_processes_share_the_counters_without_losing_a_failure(engine, db_url):
    """Eight 'processes' (engines of their own) fail at once: every failure is counted, once."""
    import threading

    throttle = LoginThrottle(pair=LoginPolicy(max_failures=100), client=LoginPolicy(max_failures=100))
    errors: list[str] = []

    def process() -> None:
        own = create_engine(db_url, connect_args={"timeout": 30} if db_url.startswith("sqlite") else {})
        for _ in range(3):
            try:
                authenticate(own, "junmen", "bad-guess", CLIENT, now=T0, throttle=throttle)
            except AuthenticationError as exc:
                errors.append(str(exc))
        own.dispose()

    threads = [threading.Thread(target=process) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == ["用户名或密码错误"] * 24
    t = schema.login_throttles
    with engine.connect() as conn:
        counts = dict(conn.execute(select(t.c.name_key, t.c.failures).where(t.c.client == CLIENT)).all())
    assert counts == {"": 24, accounts.name_key("junmen"): 24}


def _to_revision(engine, revision: str, down: bool = False) -> None:
    from alembic import command
    from alembic.config import Config

    from data.store import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)


def test_migration_0004_moves_the_counters_and_keeps_the_accounts(db_url):
    from sqlalchemy import inspect, text

    eng = engine_for(db_url)
    _to_revision(eng, "0003")
    with eng.begin() as conn:  # an account of a 0003 install, locked the old way
        conn.execute(text("INSERT INTO accounts (username, display_name, role, scope_code, password_hash, active, "
                          "must_change_password, is_demo, failed_logins, last_failed_at, created_at, updated_at) "
                          "VALUES ('li', 'li', 'district', NULL, :h, :t, :f, :f, 9, :now, :now, :now)"),
                     {"h": accounts.HASHER.hash("Li-office-2026"), "t": True, "f": False, "now": T0})
    migrate(eng)
    columns = {c["name"] for c in inspect(eng).get_columns("accounts")}
    assert "failed_logins" not in columns and "last_failed_at" not in columns
    assert authenticate(eng, "li", "Li-office-2026", CLIENT).username == "li"  # the old global lock is gone
    _to_revision(eng, "0003", down=True)
    assert "failed_logins" in {c["name"] for c in inspect(eng).get_columns("accounts")}
    migrate(eng)


def test_the_district_role_lifts_locks_and_that_is_audited(engine):
    for i in range(5):
        fail(engine, "junmen", at=T0 + timedelta(seconds=i))
    for i in range(20):
        fail(engine, f"spray{i}", client=OTHER_CLIENT, at=T0)
    now = T0 + timedelta(minutes=1)
    assert list_accounts(engine, OP, now=now).set_index("username").loc["junmen", "locked_until"] is not None
    locks = list_login_locks(engine, OP, now=now)
    assert sorted(locks[["client", "username"]].values.tolist()) == [[CLIENT, "junmen"], [OTHER_CLIENT, accounts.ANY_NAME]]
    dongjie = authenticate(engine, "dongjie", PW["dongjie"], CLIENT, now=now)
    with pytest.raises(PermissionDenied, match="只有区级管理员可以管理账号"):
        unlock_account(engine, dongjie, "junmen")
    with pytest.raises(PermissionDenied, match="只有区级管理员可以管理账号"):
        unlock_client(engine, dongjie, OTHER_CLIENT)
    admin = authenticate(engine, "admin", PW["admin"], CLIENT, now=now)
    assert unlock_account(engine, admin, "junmen") == 1 and unlock_client(engine, admin, OTHER_CLIENT) == 21
    assert authenticate(engine, "junmen", PW["junmen"], CLIENT, now=now).username == "junmen"
    assert authenticate(engine, "admin", PW["admin"], OTHER_CLIENT, now=now).username == "admin"
    assert list_login_locks(engine, OP, now=now).empty
    unlock = [e for e in accounts.audit_entries(engine, "junmen") if e["action"] == "account_unlock"]
    assert [(e["actor"], e["before"]["locks"]) for e in unlock] == [("admin", [{"client": CLIENT, "failures": 5}])]
    t = schema.audit_log
    with engine.connect() as conn:
        lifted = conn.execute(select(t.c.actor, t.c.record_code).where(t.c.action == "client_unlock")).all()
    assert [tuple(r) for r in lifted] == [("admin", OTHER_CLIENT)]
    with pytest.raises(GuloError, match="找不到账号“nobody”"):
        unlock_account(engine, admin, "nobody")


def test_typed_names_are_kept_only_as_digests(engine):
    fail(engine, "Typed-secret-7788")
    with engine.connect() as conn:
        keys = conn.execute(select(schema.login_throttles.c.name_key)).scalars().all()
    assert sorted(keys) == sorted(["", accounts.name_key("Typed-secret-7788")])
    assert "Typed-secret-7788" not in _all_text(engine)
    assert accounts.name_key(" ADMIN ") == accounts.name_key("admin") and len(accounts.name_key("admin")) == 32


# ---------------------------------------------------------------- account administration by role


@pytest.mark.parametrize("by", ["dongjie", "junmen", None])
def test_only_the_district_role_administers_accounts(engine, by):
    acting = get_account(engine, by) if by else None
    before = list_accounts(engine, OP)
    for call in (lambda: create_account(engine, acting, "newbie", Role.COMMUNITY, C1, "Newbie-pass-1"),
                 lambda: reset_password(engine, acting, "admin", "Taken-over-1"),
                 lambda: deactivate(engine, acting, "admin"),
                 lambda: list_accounts(engine, acting)):
        with pytest.raises(PermissionDenied, match="未登录" if by is None else "只有区级管理员可以管理账号"):
            call()
    assert list_accounts(engine, OP).equals(before)
    assert authenticate(engine, "admin", PW["admin"], CLIENT).username == "admin"


def test_the_district_role_administers_accounts(engine):
    admin = authenticate(engine, "admin", PW["admin"], CLIENT)
    made = create_account(engine, admin, "wang", "社区/网格督导", C2, "Dagen-pass-2026", "大根 王工")
    assert (made.role, made.scope_name) == (Role.COMMUNITY, "大根社区")
    reset_password(engine, admin, "wang", "Dagen-pass-2027")
    deactivate(engine, admin, "wang")
    with pytest.raises(AuthenticationError, match="^用户名或密码错误$"):
        authenticate(engine, "wang", "Dagen-pass-2027", CLIENT)
    assert [(e["actor"], e["action"]) for e in accounts.audit_entries(engine, "wang")] == [
        ("admin", "account_create"), ("admin", "password_reset"), ("admin", "account_deactivate"),
        ("wang", "login_failed")]
    with pytest.raises(GuloError, match="不能停用自己正在使用的账号"):
        deactivate(engine, admin, "admin")


@pytest.mark.parametrize("username, role, scope, message", [
    ("dongjie", Role.STREET, ST, "用户名“dongjie”已存在"),
    ("x1", Role.STREET, "350102099000", "区划代码“350102099000”在数据库中不存在"),
    ("x2", Role.COMMUNITY, ST, "社区/网格督导账号的辖区应为12位社区代码"),
    ("x3", "局长", "", "“局长”不是有效的角色"),
    ("a b", Role.DISTRICT, "", "用户名“a b”无效"),
])
def test_bad_accounts_are_refused(engine, username, role, scope, message):
    with pytest.raises(GuloError, match=message):
        create_account(engine, OP, username, role, scope, "Valid-pass-1")


# ---------------------------------------------------------------- editing compounds by role and scope


@pytest.mark.parametrize("who, compound, allowed", [
    ("admin", IN_JUNMEN, True), ("admin", IN_DAGEN, True), ("admin", ELSEWHERE, True),
    ("dongjie", IN_JUNMEN, True), ("dongjie", IN_DAGEN, True), ("dongjie", ELSEWHERE, False),
    ("junmen", IN_JUNMEN, True), ("junmen", IN_DAGEN, False), ("junmen", ELSEWHERE, False),
    (None, IN_JUNMEN, False),
])
def test_compound_edits_by_role_and_scope(engine, who, compound, allowed):
    acting = authenticate(engine, who, PW[who], CLIENT) if who else None
    change = {"budget_wan": 321.0}
    if allowed:
        assert update_compound(engine, compound, change, 1, acting, today=TODAY)["version"] == 2
        return
    with pytest.raises(PermissionDenied, match="未登录" if who is None else "只能修改(东街街道|军门社区)范围内的数据"):
        update_compound(engine, compound, change, 1, acting, today=TODAY)
    t, a = schema.compounds, schema.audit_log
    with engine.connect() as conn:
        assert conn.execute(select(t.c.version, t.c.budget_wan).where(t.c.code == compound)).one() == (1, 185.5)
        denied = conn.execute(select(a.c.actor).where(a.c.action == "denied", a.c.record_code == compound)).scalars()
        assert list(denied) == [who or "（未登录）"]


def test_a_forged_account_object_gets_the_stored_scope(engine):
    """The session's Account is re-read in the write transaction: a widened copy writes nothing."""
    forged = Account("junmen", Role.DISTRICT)  # claims the district role
    with pytest.raises(PermissionDenied, match="只能修改军门社区范围内的数据"):
        update_compound(engine, IN_DAGEN, {"budget_wan": 1.0}, 1, forged, today=TODAY)
    with pytest.raises(PermissionDenied, match="已停用或不存在"):
        update_compound(engine, IN_JUNMEN, {"budget_wan": 1.0}, 1, Account("ghost", Role.DISTRICT), today=TODAY)


def test_a_deactivated_account_with_an_open_session_writes_nothing(engine):
    session = authenticate(engine, "dongjie", PW["dongjie"], CLIENT)
    deactivate(engine, OP, "dongjie")
    with pytest.raises(PermissionDenied, match="账号“dongjie”已停用或不存在"):
        update_compound(engine, IN_JUNMEN, {"budget_wan": 1.0}, 1, session, today=TODAY)


# ---------------------------------------------------------------- passwords never in clear


def _all_text(engine) -> str:
    """Every text value of every table of the project, concatenated."""
    out = []
    with engine.connect() as conn:
        for table in schema.metadata.sorted_tables:
            cols = [c for c in table.c if isinstance(c.type, (String, Text))]
            if cols:
                out += [str(v) for row in conn.execute(select(*cols)) for v in row if v is not None]
    return "\n".join(out)


def test_passwords_are_never_stored_or_logged_in_clear(engine, caplog, capsys, monkeypatch):
    caplog.set_level(logging.DEBUG)
    secrets = ["Secret-one-7788", "Secret-two-7788", "Secret-three-7788", "Typed-into-name-7788"]
    admin = authenticate(engine, "admin", PW["admin"], CLIENT)
    create_account(engine, admin, "li", Role.STREET, ST, secrets[0])
    reset_password(engine, admin, "li", secrets[1])
    change_password(engine, authenticate(engine, "li", secrets[1], CLIENT), secrets[1], secrets[2])
    for name, pw in (("li", "Wrong-guess-7788"), (secrets[3], "whatever-1")):  # a password typed as the name
        with pytest.raises(AuthenticationError):
            authenticate(engine, name, pw, CLIENT)
    monkeypatch.setattr("sys.stdin", io.StringIO("Cli-secret-7788\n"))
    assert cli(["--database-url", str(engine.url.render_as_string(hide_password=False)), "accounts",
                "create", "zhao", "--role", "district", "--password-stdin"]) == 0
    secrets += [*PW.values(), "Wrong-guess-7788", "whatever-1", "Cli-secret-7788"]
    stored, printed = _all_text(engine), caplog.text + "".join(capsys.readouterr())
    assert "li" in stored and "$argon2id$" in stored  # the scan sees the accounts table
    leaks = [s for s in secrets if s in stored or s in printed]
    assert leaks == []
    audit_text = "\n".join(str(e) for e in accounts.audit_entries(engine, "li"))
    assert "$argon2" not in audit_text and "password_hash" not in audit_text and "（已隐藏）" in audit_text


def test_the_leak_scan_would_see_a_clear_password(engine):
    """Guard of the test above: a password written into any text column is found."""
    with engine.begin() as conn:
        conn.execute(schema.accounts.update().where(schema.accounts.c.username == "admin")
                     .values(display_name="Leaked-7788"))
    assert "Leaked-7788" in _all_text(engine)


# ---------------------------------------------------------------- demo accounts


def _sample_like(url: str):
    """A migrated database holding the tiny district written as the sample generator writes it."""
    eng = engine_for(url)
    migrate(eng)
    write_frames(eng, district(), actor="系统", action="sample")
    return eng


def test_demo_accounts_for_each_role_with_the_documented_passwords_must_change_them(sqlite_url):
    eng = _sample_like(sqlite_url)
    assert ensure_demo_accounts(eng) == ["admin", "dongjie", "junmen"] and ensure_demo_accounts(eng) == []
    assert demo_accounts_present(eng) == ["admin", "dongjie", "junmen"]
    logged = [authenticate(eng, u, pw, CLIENT) for u, _, _, _, pw in DEMO_ACCOUNTS]
    assert {a.role for a in logged} == set(Role) and all(a.must_change_password for a in logged)
    with pytest.raises(GuloError, match="密码不能包含用户名"):  # a published password is no new password
        change_password(eng, logged[0], "demo-admin-2026", "demo-admin-2027")
    with pytest.raises(GuloError, match="过于常见"):
        change_password(eng, logged[2], "demo-junmen-2026", "demo-dongjie-2026")
    assert not change_password(eng, logged[1], "demo-dongjie-2026", "Dongbu-Xin#2026").must_change_password
    reset_password(eng, OP, "admin", "Real-district-pass-1")
    deactivate(eng, OP, "junmen")
    assert demo_accounts_present(eng) == []


@pytest.mark.parametrize("how", ["empty, FILL_SAMPLE off", "real data imported", "ensure on real data"])
def test_no_demo_accounts_outside_the_sample(sqlite_url, how):
    from data.store import open_store
    from geo.settings import Settings

    if how == "empty, FILL_SAMPLE off":
        eng = open_store(Settings.load({"database_url": sqlite_url, "fill_sample": False}))
    else:  # an office loads its own divisions first (command line); the app then finds them and adds nothing
        eng = engine_for(sqlite_url)
        migrate(eng)
        write_frames(eng, district(), actor="命令行:it", action="import")
        eng = open_store(Settings.load({"database_url": sqlite_url}))
        if how == "ensure on real data":
            assert ensure_demo_accounts(eng) == []
    assert accounts.count_accounts(eng) == 0 and demo_accounts_present(eng) == []
    for username, _, _, _, password in DEMO_ACCOUNTS:
        with pytest.raises(AuthenticationError, match="^用户名或密码错误$"):
            authenticate(eng, username, password, CLIENT)


# ---------------------------------------------------------------- command line


def test_command_line_creates_resets_lists_and_deactivates(sqlite_url, monkeypatch, capsys):
    base = ["--database-url", sqlite_url, "accounts"]
    eng = engine_for(sqlite_url)
    migrate(eng)
    write_frames(eng, district(), actor="测试", action="insert")
    monkeypatch.setattr("sys.stdin", io.StringIO("Cli-pass-2026\n"))
    assert cli([*base, "create", "wu", "--role", "街道办", "--scope", ST, "--name", "东街 吴工",
                "--password-stdin"]) == 0
    assert authenticate(eng, "wu", "Cli-pass-2026", CLIENT).scope_name == "东街街道"
    monkeypatch.setattr("getpass.getpass", lambda prompt, typed=iter(["Cli-pass-2027"] * 2): next(typed))
    assert cli([*base, "reset-password", "wu"]) == 0
    monkeypatch.setattr("getpass.getpass", lambda prompt, typed=iter(["Cli-pass-2028", "typo-2028"]): next(typed))
    assert cli([*base, "reset-password", "wu"]) == 2
    assert authenticate(eng, "wu", "Cli-pass-2027", CLIENT).username == "wu"
    assert cli([*base, "deactivate", "wu"]) == 0 and cli([*base, "list"]) == 0
    out, err = capsys.readouterr()
    assert "已创建账号 wu" in out and "wu\t东街 吴工\t街道办\t350102004000\t已停用、须改密码" in out
    assert "错误：两次输入的密码不一致" in err
    admin_steps = [(e["actor"].split(":")[0], e["action"]) for e in accounts.audit_entries(eng, "wu") if e["action"] != "login"]
    assert admin_steps == [("命令行", "account_create"), ("命令行", "password_reset"), ("命令行", "account_deactivate")]
    with pytest.raises(SystemExit):  # there is no way to put a password on the command line
        cli([*base, "create", "qian", "--role", "district", "--password", "Plain-2026"])


def test_command_line_lists_and_lifts_login_locks(sqlite_url, capsys, monkeypatch):
    base = ["--database-url", sqlite_url, "accounts"]
    eng = _sample_like(sqlite_url)
    ensure_demo_accounts(eng)
    assert cli([*base, "locks"]) == 0 and "没有正在生效的登录锁定" in capsys.readouterr().out
    now = datetime.now(UTC)
    for _ in range(5):
        fail(eng, "admin", at=now)
    for i in range(20):
        fail(eng, f"spray{i}", client=OTHER_CLIENT, at=now)
    assert cli([*base, "locks"]) == 0 and cli([*base, "list"]) == 0
    out = capsys.readouterr().out
    assert f"{CLIENT}\tadmin\t失败5次" in out and f"{OTHER_CLIENT}\t（任意用户名）\t失败20次" in out
    assert "admin\t演示·区级管理员\t区级管理员\t全区\t演示账号、须改密码、锁定中" in out
    assert cli([*base, "unlock", "admin"]) == 0 and cli([*base, "unlock-client", OTHER_CLIENT]) == 0
    assert cli([*base, "locks"]) == 0 and "没有正在生效的登录锁定" in capsys.readouterr().out
    assert authenticate(eng, "admin", "demo-admin-2026", CLIENT).must_change_password
    steps = [(e["actor"].split(":")[0], e["action"]) for e in accounts.audit_entries(eng, "admin")
             if e["action"] == "account_unlock"]
    assert steps == [("命令行", "account_unlock")]
    monkeypatch.setattr("sys.stdin", io.StringIO("Password123\n"))  # the rule holds on the command line too
    assert cli([*base, "reset-password", "dongjie", "--password-stdin"]) == 2
    assert "错误：密码过于常见" in capsys.readouterr().err


# ---------------------------------------------------------------- the login component (AppTest)


def _login_app():
    import os

    import streamlit as st

    from dashboard.auth import auth_panel
    from data.store import engine_for

    account = auth_panel(engine_for(os.environ["AUTH_TEST_DB"]), where=st.container())
    st.markdown(f"who: {account.username if account else 'nobody'}")


def _who(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("who:"))


@pytest.fixture
def login_app(sqlite_url, monkeypatch) -> AppTest:
    eng = engine_for(sqlite_url)
    migrate(eng)
    write_frames(eng, district(), actor="测试", action="insert")
    create_account(eng, OP, "dongjie", Role.STREET, ST, PW["dongjie"], must_change_password=False)
    monkeypatch.setenv("AUTH_TEST_DB", sqlite_url)
    at = AppTest.from_function(_login_app, default_timeout=60).run()
    assert not at.exception and _who(at) == "who: nobody"
    return at


def _log_in(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input(key="login_username").set_value(username)
    at.text_input(key="login_password").set_value(password)
    next(b for b in at.button if b.label == "登录").click()
    return at.run()


def test_login_form_logs_in_and_out(login_app):
    at = _log_in(login_app, "dongjie", "wrong-password")
    assert _who(at) == "who: nobody" and at.error[0].value == "用户名或密码错误"
    at = _log_in(at, "dongjie", PW["dongjie"])
    assert not at.exception and _who(at) == "who: dongjie"
    assert [c.value for c in at.caption] == ["当前用户：dongjie（街道办 · 东街街道）"]
    assert not [t for t in at.text_input if t.key == "login_password"]
    next(b for b in at.button if b.label == "退出登录").click()
    at.run()
    assert _who(at) == "who: nobody" and "auth_account" not in at.session_state


def test_login_expires_after_the_session_lifetime(login_app, monkeypatch):
    at = _log_in(login_app, "dongjie", PW["dongjie"])
    at.session_state["auth_login_at"] = datetime.now(UTC) - timedelta(minutes=479)
    assert _who(at.run()) == "who: dongjie"
    at.session_state["auth_login_at"] = datetime.now(UTC) - timedelta(minutes=481)
    at.run()
    assert _who(at) == "who: nobody" and at.warning[0].value == "登录已过期，请重新登录"
    monkeypatch.setenv("SESSION_MINUTES", "5")  # the lifetime is a setting
    at = _log_in(at, "dongjie", PW["dongjie"])
    at.session_state["auth_login_at"] = datetime.now(UTC) - timedelta(minutes=6)
    assert _who(at.run()) == "who: nobody"


def test_default_hash_cost_is_the_librarys(monkeypatch):
    """The real hasher (not the cheap test profile) is argon2id with the library's defaults; time one hash."""
    monkeypatch.undo()
    hasher = accounts.HASHER
    start = time.perf_counter()
    hashed = hasher.hash("Measure-me-2026")
    took = time.perf_counter() - start
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$") and hasher.verify(hashed, "Measure-me-2026")
    print(f"argon2id hash: {took * 1000:.0f} ms")


def test_the_accounts_command_plugs_into_data_cli(sqlite_url, monkeypatch, capsys):
    from data import cli as project_cli

    assert "data.account_cli" in project_cli.COMMAND_MODULES
    ensure_demo_accounts(_sample_like(sqlite_url))
    assert project_cli.main(["--database-url", sqlite_url, "accounts", "list"]) == 0
    assert project_cli.main(["--database-url", sqlite_url, "accounts", "deactivate", "nobody"]) == 2
    out, err = capsys.readouterr()
    assert "dongjie\t演示·东街街道办\t街道办\t350102004000\t演示账号、须改密码" in out and "错误：找不到账号“nobody”" in err


@pytest.mark.parametrize("who, units, allowed", [
    ("admin", [C1, C2, OUTSIDE], True), ("dongjie", [C1, C2 + "001"], True), ("dongjie", [C1, OUTSIDE], False),
    ("junmen", [C1, C1 + "001"], True), ("junmen", [C1, C2], False), (None, [C1], False),
])
def test_bulk_write_guard_for_the_import_path(engine, who, units, allowed):
    from data.accounts import authorise_units

    acting = get_account(engine, who) if who else None
    with engine.begin() as conn:
        if allowed:
            assert authorise_units(conn, acting, units, "导入数据").username == who
        else:
            with pytest.raises(PermissionDenied, match="未登录" if who is None else "无权写入导入数据"):
                authorise_units(conn, acting, units, "导入数据")


def _warning_app():
    import os

    from dashboard.auth import demo_account_warning
    from data.accounts import get_account
    from data.store import engine_for

    engine = engine_for(os.environ["AUTH_TEST_DB"])
    who = os.environ.get("AUTH_TEST_WHO")
    demo_account_warning(engine, get_account(engine, who) if who else None)


def test_demo_account_warning_for_a_district_account_while_demo_accounts_exist(sqlite_url, monkeypatch):
    eng = _sample_like(sqlite_url)
    monkeypatch.setenv("AUTH_TEST_DB", sqlite_url)
    monkeypatch.setenv("AUTH_TEST_WHO", "admin")
    assert not AppTest.from_function(_warning_app).run().warning
    ensure_demo_accounts(eng)
    warning = AppTest.from_function(_warning_app).run().warning[0].value
    assert warning.startswith("仍存在演示账号（密码已公开）：admin、dongjie、junmen。")


@pytest.mark.parametrize("who", [None, "dongjie", "junmen"], ids=["anonymous", "street", "community"])
def test_no_demo_account_warning_for_readers_and_unit_accounts(sqlite_url, monkeypatch, who):
    ensure_demo_accounts(_sample_like(sqlite_url))
    monkeypatch.setenv("AUTH_TEST_DB", sqlite_url)
    monkeypatch.delenv("AUTH_TEST_WHO", raising=False)
    if who:
        monkeypatch.setenv("AUTH_TEST_WHO", who)
    assert not AppTest.from_function(_warning_app).run().warning
