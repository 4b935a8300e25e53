"""Roles and scopes (geo.access) as pure logic: each role × unit, login throttling per client, session expiry,
the client address, and the password rule (geo.passwords)."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from geo.access import (
    LOCAL_CLIENT,
    LOCK_CAP,
    Account,
    LoginPolicy,
    LoginThrottle,
    can_write,
    client_address,
    read_scope,
    require_admin,
    require_write,
    session_expired,
    system_operator,
)
from geo.errors import DataValidationError, GuloError, PermissionDenied, ScopeError
from geo.scope import DISTRICT
from geo.settings import Settings
from geo.vocab import Role

DONGJIE, GUPING = "350102004000", "350102001000"
JUNMEN, DAGEN, OTHER_STREET_COMMUNITY = "350102004001", "350102004003", "350102001002"
ADMIN = Account("admin", Role.DISTRICT)
STREET = Account("dongjie", Role.STREET, DONGJIE, scope_name="东街街道")
COMMUNITY = Account("junmen", Role.COMMUNITY, JUNMEN, scope_name="军门社区")


@pytest.mark.parametrize("account, unit, allowed", [
    (ADMIN, JUNMEN, True), (ADMIN, OTHER_STREET_COMMUNITY, True), (ADMIN, None, True), (ADMIN, "", True),
    (STREET, JUNMEN, True), (STREET, DAGEN, True), (STREET, JUNMEN + "004", True), (STREET, DONGJIE, True),
    (STREET, OTHER_STREET_COMMUNITY, False), (STREET, GUPING, False), (STREET, None, False), (STREET, "", False),
    (STREET, "350102004", False), (STREET, "35010200400x", False),
    (COMMUNITY, JUNMEN, True), (COMMUNITY, JUNMEN + "001", True),
    (COMMUNITY, DAGEN, False), (COMMUNITY, DAGEN + "001", False), (COMMUNITY, DONGJIE, False),
    (COMMUNITY, OTHER_STREET_COMMUNITY, False), (COMMUNITY, None, False),
    (None, JUNMEN, False),
])
def test_can_write_each_role_inside_and_outside_its_scope(account, unit, allowed):
    assert can_write(account, unit) is allowed


def test_a_deactivated_account_writes_nothing():
    for acct in (ADMIN, STREET, COMMUNITY):
        off = Account(acct.username, acct.role, acct.scope_code, active=False)
        assert not can_write(off, JUNMEN)
        with pytest.raises(PermissionDenied, match="已停用"):
            require_write(off, JUNMEN)


def test_require_write_names_the_accounts_scope():
    assert require_write(STREET, JUNMEN) is STREET
    with pytest.raises(PermissionDenied, match=r"无权修改“某小区”：账号“dongjie”（街道办）只能修改东街街道范围内的数据"):
        require_write(STREET, OTHER_STREET_COMMUNITY, what="某小区")
    with pytest.raises(PermissionDenied, match="账号“junmen”（社区/网格督导）只能修改军门社区范围内的数据"):
        require_write(COMMUNITY, DAGEN)
    with pytest.raises(PermissionDenied, match="未登录"):
        require_write(None, JUNMEN)
    assert isinstance(PermissionDenied("x"), GuloError) and isinstance(PermissionDenied("x"), ValueError)


def test_only_the_district_role_administers_accounts():
    assert require_admin(ADMIN) is ADMIN and require_admin(system_operator("命令行")).system
    for acct, words in ((STREET, "街道办（东街街道）"), (COMMUNITY, "社区/网格督导（军门社区）")):
        with pytest.raises(PermissionDenied, match=f"无权管理账号：账号“{acct.username}”是{words}"):
            require_admin(acct)
    with pytest.raises(PermissionDenied, match="未登录"):
        require_admin(None)


def test_every_role_reads_the_whole_district():
    assert {read_scope(a) for a in (ADMIN, STREET, COMMUNITY, None)} == {DISTRICT}


@pytest.mark.parametrize("role, scope, message", [
    (Role.DISTRICT, DONGJIE, "区级管理员的辖区应为全区"),
    (Role.STREET, JUNMEN, "街道办账号的辖区应为12位街道代码"),
    (Role.STREET, "", "街道办账号的辖区应为12位街道代码"),
    (Role.COMMUNITY, DONGJIE, "社区/网格督导账号的辖区应为12位社区代码"),
    (Role.COMMUNITY, JUNMEN + "001", "社区/网格督导账号的辖区应为12位社区代码"),
])
def test_scope_must_fit_the_role(role, scope, message):
    with pytest.raises(ScopeError, match=message):
        Account("x1", role, scope)


def test_district_code_means_the_district_and_roles_parse_from_labels():
    assert Account("a1", "district", "350102000000").scope_code == ""
    assert Role.from_label("街道办") is Role.STREET and Role.from_label("社区/网格督导") is Role.COMMUNITY


def test_username_rules():
    from geo.access import check_username

    assert check_username("  林工  ") == "林工"
    for bad in ("", "a", "有 空格", "x" * 41, "tab\there"):
        with pytest.raises(DataValidationError, match="用户名"):
            check_username(bad)


T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
POLICY = LoginPolicy(max_failures=5, window=timedelta(minutes=15), lock=timedelta(minutes=5))


def count(times: list[timedelta]) -> tuple[int, datetime]:
    failures, last = 0, None
    for dt in times:
        failures, last = POLICY.failures_after(failures, last, T0 + dt), T0 + dt
    return failures, last


def test_five_failures_within_the_window_lock_for_five_minutes():
    failures, last = count([timedelta(minutes=m) for m in range(5)])
    assert failures == 5 and POLICY.locked_until(failures, last) == last + timedelta(minutes=5)
    assert POLICY.is_locked(failures, last, last + timedelta(minutes=4, seconds=59))
    assert not POLICY.is_locked(failures, last, last + timedelta(minutes=5))


def test_failures_spread_beyond_the_window_never_lock():
    failures, last = count([timedelta(minutes=20 * i) for i in range(10)])
    assert failures == 1 and POLICY.locked_until(failures, last) is None


def test_each_failure_after_a_lock_doubles_it_up_to_the_cap():
    failures, last = count([timedelta(minutes=m) for m in range(5)])
    locks = []
    for _ in range(6):
        until = POLICY.locked_until(failures, last)
        locks.append(until - last)
        failures, last = POLICY.failures_after(failures, last, until + timedelta(hours=2)), until + timedelta(hours=2)
    assert locks[:5] == [timedelta(minutes=m) for m in (5, 10, 20, 40)] + [LOCK_CAP]
    assert locks[5] == LOCK_CAP


def test_policy_from_settings():
    p = LoginPolicy.from_settings(Settings.load({"login_max_failures": 3, "login_window_minutes": 10,
                                                 "login_lock_seconds": 60}))
    assert p == LoginPolicy(3, timedelta(minutes=10), timedelta(seconds=60))
    assert Settings().session_minutes == 480 and Settings().login_max_failures == 5


def test_session_expiry():
    assert not session_expired(T0, T0 + timedelta(minutes=479), 480)
    assert session_expired(T0, T0 + timedelta(minutes=480), 480)
    assert session_expired(None, T0, 480)


def test_bulk_guard_for_imports_names_every_unit_outside_the_scope():
    from geo.access import outside_scope, require_write_all

    rows = [JUNMEN, JUNMEN + "001", DAGEN, OTHER_STREET_COMMUNITY, None, OTHER_STREET_COMMUNITY]
    assert outside_scope(ADMIN, rows) == []
    assert outside_scope(STREET, rows) == [OTHER_STREET_COMMUNITY, ""]
    assert outside_scope(COMMUNITY, rows) == [DAGEN, OTHER_STREET_COMMUNITY, ""]
    assert require_write_all(STREET, rows[:3]) is STREET
    with pytest.raises(PermissionDenied, match=rf"无权写入小区：账号“junmen”（社区/网格督导）只能修改军门社区范围内的数据，"
                                               rf"其中3个区划不在范围内：{DAGEN}、{OTHER_STREET_COMMUNITY}、（无区划）"):
        require_write_all(COMMUNITY, rows, what="小区")
    with pytest.raises(PermissionDenied, match="未登录"):
        require_write_all(None, [])


# ---------------------------------------------------------------- password rule (geo.passwords)


@pytest.mark.parametrize("password, username, problem", [
    ("Gl-2026-qa", "wang", None),  # 10 characters, 4 classes
    ("gulou district river walk", "wang", None),  # a 25-character passphrase needs no classes
    ("correcthorsebatterystaple", "wang", None),
    ("Xk9vTq2mLp", "wang", None),  # 3 classes
    ("Gl-2026-q", "wang", "密码至少需要10个字符（现为9个）"),
    ("", "wang", "密码至少需要10个字符（现为0个）"),
    ("abcdefghijkl", "wang", "至少3类（现为1类）"),
    ("river-walk-2", "wang", None),  # lower, symbol, digit: 3 classes
    ("riverwalk-x", "wang", "至少3类（现为2类）"),
    ("abcdefghijklmnop", "wang", "过于常见"),  # 16 characters, but a run of the alphabet
    ("Xy!12345678", "wang", "过于常见"),  # a run of 8 digits
    ("Qwertyuiop#7", "wang", "过于常见"),  # a keyboard row
    ("Wang-Office-2026", "wang", "密码不能包含用户名"),
    ("xx-WANG-2026-yy", "Wang", "密码不能包含用户名"),
    ("Mail-li.ming-2026", "li.ming@gulou.gov.cn", "密码不能包含用户名"),  # the part before @ counts
    ("Reliable-pass-7", "li", None),  # a 2-letter name is compared with the whole password only
    ("Password123", "wang", "过于常见"),
    ("Admin@12345", "wang", "过于常见"),
    ("1234567890", "wang", "至少3类"),
    ("1234567890123456", "wang", "过于常见"),  # long, but digits only with a run
    ("123456abcD!", "wang", "过于常见"),
    ("123456abc", "wang", "至少需要10个字符"),
    ("Gulou@2026", "wang", "过于常见"),
    ("GULOU2026!!", "wang", "过于常见"),
    ("Fuzhou#88888", "wang", "过于常见"),
    ("aaaaaaaaaaaaaaaaaaaa", "wang", "过于常见"),  # fewer than 5 different characters
    ("demo-admin-2026", "dongjie", None),  # … refused only where the caller names it (data.accounts does)
])
def test_password_rule(password, username, problem):
    from geo.passwords import check_password

    if problem is None:
        assert check_password(password, username) == password
        return
    with pytest.raises(DataValidationError, match=re.escape(problem)):
        check_password(password, username)


def test_refused_passwords_and_the_rule_text():
    from geo.passwords import RULE, check_password

    with pytest.raises(DataValidationError, match="过于常见"):
        check_password("Demo-Dongjie-2026", "wang", refused=("demo-dongjie-2026",))
    assert "至少10个字符" in RULE and "3类" in RULE and "16个字符" in RULE and "用户名" in RULE


# ---------------------------------------------------------------- client address and throttling per client


@pytest.mark.parametrize("remote, forwarded, trust, expected", [
    ("203.0.113.9", None, False, "203.0.113.9"),
    ("203.0.113.9", "198.51.100.1", False, "203.0.113.9"),  # the header is ignored unless the proxy is trusted
    ("10.0.0.2", "198.51.100.1", True, "198.51.100.1"),
    ("10.0.0.2", "6.6.6.6, 198.51.100.1", True, "198.51.100.1"),  # the right-most entry: the proxy's own
    ("10.0.0.2", "198.51.100.1, not-an-ip", True, "10.0.0.2"),  # a broken header: the peer
    (None, None, False, LOCAL_CLIENT),  # Streamlit gives None for a loopback connection
    ("127.0.0.1", None, False, LOCAL_CLIENT),
    ("::1", None, False, LOCAL_CLIENT),
    ("::ffff:203.0.113.9", None, False, "203.0.113.9"),
    ("2001:db8:1:2:aaaa::1", None, False, "2001:db8:1:2::/64"),  # IPv6: one subscriber's /64
    ("2001:db8:1:2:bbbb::7", None, False, "2001:db8:1:2::/64"),
    ("garbage", None, False, LOCAL_CLIENT),
])
def test_client_address(remote, forwarded, trust, expected):
    assert client_address(remote, forwarded, trust) == expected


def test_throttle_from_settings_and_forgetting():
    t = LoginThrottle.from_settings(Settings.load({"login_max_failures": 3, "login_client_max_failures": 12}))
    assert (t.pair.max_failures, t.client.max_failures) == (3, 12)
    assert LoginThrottle.from_settings(Settings.load({"login_client_max_failures": 2})).client.max_failures == 5
    assert Settings().login_client_max_failures == 20 and Settings().trusted_proxy is False
    assert Settings.load(environ={"TRUSTED_PROXY": "true"}).trusted_proxy is True
    t = LoginThrottle()
    assert t.failures_after(t.pair, 9, T0, T0 + timedelta(hours=2)) == 10  # a lock keeps growing …
    assert t.failures_after(t.pair, 9, T0, T0 + timedelta(hours=25)) == 1  # … until a quiet day forgets it
    assert t.locked_until(t.pair, 5, T0, T0 + timedelta(minutes=4)) == T0 + timedelta(minutes=5)
    assert t.locked_until(t.pair, 5, T0, T0 + timedelta(minutes=5)) is None
