"""Accounts on SQLite and PostGIS: login, throttling, administration by role, compound edits by role
and scope, passwords never in clear, demo accounts, the command line and the login component."""
from __future__ import annotations

import io
import logging
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
    reset_password,
)
from data.cli import main as cli
from data.edits import update_compound
from data.store import engine_for, migrate, write_frames
from geo.access import Account, LoginPolicy, system_operator
from geo.errors import AuthenticationError, GuloError, PermissionDenied
from geo.vocab import Role
from tests.test_edits import district
from tests.test_store import C1, C2, ST

OP = system_operator("测试")
OUTSIDE = "350102001002"  # a community of 鼓楼街道, outside 东街街道
IN_JUNMEN, IN_DAGEN, ELSEWHERE = C1 + "C001", C2 + "C001", OUTSIDE + "C001"
PW = {"admin": "Adm1n-pass-2026", "dongjie": "D0ngjie-pass-2026", "junmen": "Junm3n-pass-2026"}
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
    acct = authenticate(engine, " dongjie ", PW["dongjie"])
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
            authenticate(engine, name, pw)
    assert actions(engine, "dongjie") == ["account_create", "login_failed"]
    t = schema.audit_log
    with engine.connect() as conn:
        actors = conn.execute(select(t.c.actor).where(t.c.action == "login_failed")).scalars().all()
    assert "nobody" not in actors and actors.count(accounts.UNKNOWN_ACTOR) == 2  # typed names are not kept


def test_five_failures_lock_the_account_with_a_growing_delay_that_survives_a_restart(engine, db_url):
    policy, t0 = LoginPolicy(), datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    for i in range(4):
        with pytest.raises(AuthenticationError, match="^用户名或密码错误$"):
            authenticate(engine, "junmen", "bad-guess", now=t0 + timedelta(minutes=i), policy=policy)
    with pytest.raises(AuthenticationError, match="账号已暂时锁定，请约5分钟后再试") as err:
        authenticate(engine, "junmen", "bad-guess", now=t0 + timedelta(minutes=4), policy=policy)
    assert err.value.locked_until == t0 + timedelta(minutes=9)
    fresh = create_engine(db_url)  # a restarted app: the lock is in the database
    with pytest.raises(AuthenticationError, match="锁定") as err:
        authenticate(fresh, "junmen", PW["junmen"], now=t0 + timedelta(minutes=8), policy=policy)
    assert err.value.locked_until == t0 + timedelta(minutes=9)  # right password, still refused, lock unchanged
    fresh.dispose()
    with pytest.raises(AuthenticationError, match="请约10分钟后再试"):  # one more failure doubles the lock
        authenticate(engine, "junmen", "bad-guess", now=t0 + timedelta(minutes=10), policy=policy)
    assert authenticate(engine, "junmen", PW["junmen"], now=t0 + timedelta(minutes=21), policy=policy).username == "junmen"
    with pytest.raises(AuthenticationError, match="^用户名或密码错误$"):  # success reset the count
        authenticate(engine, "junmen", "bad-guess", now=t0 + timedelta(minutes=22), policy=policy)
    assert actions(engine, "junmen").count("login_locked") == 1


def test_reset_password_lifts_a_lock(engine):
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            authenticate(engine, "junmen", "bad-guess")
    with pytest.raises(AuthenticationError, match="锁定"):
        authenticate(engine, "junmen", PW["junmen"])
    assert list_accounts(engine, OP).set_index("username").loc["junmen", "locked_until"] is not None
    reset_password(engine, OP, "junmen", "N3w-junmen-pass")
    assert authenticate(engine, "junmen", "N3w-junmen-pass").username == "junmen"


def test_users_change_their_own_password(engine):
    acct = authenticate(engine, "junmen", PW["junmen"])
    with pytest.raises(AuthenticationError, match="原密码不正确"):
        change_password(engine, acct, "not-it-at-all", "Another-pass-1")
    with pytest.raises(GuloError, match="密码至少需要8个字符"):
        change_password(engine, acct, PW["junmen"], "short")
    assert not change_password(engine, acct, PW["junmen"], "Another-pass-1").must_change_password
    assert authenticate(engine, "junmen", "Another-pass-1").username == "junmen"


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
    assert authenticate(engine, "admin", PW["admin"]).username == "admin"


def test_the_district_role_administers_accounts(engine):
    admin = authenticate(engine, "admin", PW["admin"])
    made = create_account(engine, admin, "wang", "社区/网格督导", C2, "Wang-pass-2026", "大根 王工")
    assert (made.role, made.scope_name) == (Role.COMMUNITY, "大根社区")
    reset_password(engine, admin, "wang", "Wang-pass-2027")
    deactivate(engine, admin, "wang")
    with pytest.raises(AuthenticationError, match="^用户名或密码错误$"):
        authenticate(engine, "wang", "Wang-pass-2027")
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
    acting = authenticate(engine, who, PW[who]) if who else None
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
    session = authenticate(engine, "dongjie", PW["dongjie"])
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
    admin = authenticate(engine, "admin", PW["admin"])
    create_account(engine, admin, "li", Role.STREET, ST, secrets[0])
    reset_password(engine, admin, "li", secrets[1])
    change_password(engine, authenticate(engine, "li", secrets[1]), secrets[1], secrets[2])
    for name, pw in (("li", "Wrong-guess-7788"), (secrets[3], "whatever-1")):  # a password typed as the name
        with pytest.raises(AuthenticationError):
            authenticate(engine, name, pw)
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


def test_demo_accounts_for_each_role_with_the_documented_passwords(sqlite_url):
    eng = engine_for(sqlite_url)
    migrate(eng)
    write_frames(eng, district(), actor="测试", action="insert")
    assert ensure_demo_accounts(eng) == ["admin", "dongjie", "junmen"] and ensure_demo_accounts(eng) == []
    assert demo_accounts_present(eng) == ["admin", "dongjie", "junmen"]
    roles = {authenticate(eng, u, pw).role for u, _, _, _, pw in DEMO_ACCOUNTS}
    assert roles == set(Role)
    reset_password(eng, OP, "admin", "Real-admin-pass-1")
    deactivate(eng, OP, "junmen")
    assert demo_accounts_present(eng) == ["dongjie"]


# ---------------------------------------------------------------- command line


def test_command_line_creates_resets_lists_and_deactivates(sqlite_url, monkeypatch, capsys):
    base = ["--database-url", sqlite_url, "accounts"]
    eng = engine_for(sqlite_url)
    migrate(eng)
    write_frames(eng, district(), actor="测试", action="insert")
    monkeypatch.setattr("sys.stdin", io.StringIO("Cli-pass-2026\n"))
    assert cli([*base, "create", "wu", "--role", "街道办", "--scope", ST, "--name", "东街 吴工",
                "--password-stdin"]) == 0
    assert authenticate(eng, "wu", "Cli-pass-2026").scope_name == "东街街道"
    monkeypatch.setattr("getpass.getpass", lambda prompt, typed=iter(["Cli-pass-2027"] * 2): next(typed))
    assert cli([*base, "reset-password", "wu"]) == 0
    monkeypatch.setattr("getpass.getpass", lambda prompt, typed=iter(["Cli-pass-2028", "typo-2028"]): next(typed))
    assert cli([*base, "reset-password", "wu"]) == 2
    assert authenticate(eng, "wu", "Cli-pass-2027").username == "wu"
    assert cli([*base, "deactivate", "wu"]) == 0 and cli([*base, "list"]) == 0
    out, err = capsys.readouterr()
    assert "已创建账号 wu" in out and "wu\t东街 吴工\t街道办\t350102004000\t已停用、须改密码" in out
    assert "错误：两次输入的密码不一致" in err
    admin_steps = [(e["actor"].split(":")[0], e["action"]) for e in accounts.audit_entries(eng, "wu") if e["action"] != "login"]
    assert admin_steps == [("命令行", "account_create"), ("命令行", "password_reset"), ("命令行", "account_deactivate")]
    with pytest.raises(SystemExit):  # there is no way to put a password on the command line
        cli([*base, "create", "qian", "--role", "district", "--password", "Plain-2026"])


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
    eng = engine_for(sqlite_url)
    migrate(eng)
    write_frames(eng, district(), actor="测试", action="insert")
    ensure_demo_accounts(eng)
    assert project_cli.main(["--database-url", sqlite_url, "accounts", "list"]) == 0
    assert project_cli.main(["--database-url", sqlite_url, "accounts", "deactivate", "nobody"]) == 2
    out, err = capsys.readouterr()
    assert "dongjie\t演示·东街街道办\t街道办\t350102004000\t演示账号" in out and "错误：找不到账号“nobody”" in err


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
    from data.store import engine_for

    demo_account_warning(engine_for(os.environ["AUTH_TEST_DB"]))


def test_startup_warning_while_demo_accounts_exist(sqlite_url, monkeypatch):
    eng = engine_for(sqlite_url)
    migrate(eng)
    write_frames(eng, district(), actor="测试", action="insert")
    monkeypatch.setenv("AUTH_TEST_DB", sqlite_url)
    assert not AppTest.from_function(_warning_app).run().warning
    ensure_demo_accounts(eng)
    warning = AppTest.from_function(_warning_app).run().warning[0].value
    assert warning.startswith("仍存在演示账号（密码已公开）：admin、dongjie、junmen。")
