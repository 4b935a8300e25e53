"""Who may do what: accounts, roles and scopes as pure logic (no database, no UI).

Policy (issue 10):

- 区级管理员 (``Role.DISTRICT``, scope = the district): reads and writes everything, administers accounts.
- 街道办 (``Role.STREET``, scope = one sub-district code ``…000``): reads the whole district, writes
  records inside its sub-district only.
- 社区/网格督导 (``Role.COMMUNITY``, scope = one 12-digit community code): reads the whole district,
  writes records inside its community only (its grids included).

Reading is deliberately district-wide for every role: the dashboard is a shared situational
picture, comparisons between units are its point. ``read_scope`` is the one place to change that.

Case details are the exception (issue 15, 个人信息保护法): a dispute's address, summary and compound —
and the case list that carries them — are personal information. ``may_see_case_details`` is the rule:
the district role sees them everywhere, a sub-district or community account inside its own scope only;
logged out, deactivated, or looking at a scope outside its own, one sees aggregates (counts, rates,
choropleths, trends) only. Pages, the map's disputes layer and every export go through it.

Writes are checked against the *unit code* a record belongs to (a community or grid code; for a
compound its ``community_code``), never against a code the user typed or the URL carries. The data
layer calls ``require_write`` inside its write transactions, so a crafted URL or a direct call with
another scope is refused there, not only in the UI.

Also here: the login-throttling rule (``LoginPolicy``) and the session-lifetime rule, so both can be
tested without a database or a browser.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from geo.errors import DataValidationError, PermissionDenied, ScopeError
from geo.scope import DISTRICT, Scope
from geo.vocab import DISTRICT_CODE, DISTRICT_NAME, Role

_STREET = re.compile(r"^\d{9}000$")
_COMMUNITY = re.compile(r"^\d{12}$")
_UNIT = re.compile(r"^\d{12}(\d{3})?$")
_USERNAME = re.compile(r"^[^\s\x00-\x1f]{2,40}$")


def check_username(username: str) -> str:
    """``username`` stripped; DataValidationError unless it has 2–40 characters and no spaces or control characters."""
    name = (username or "").strip()
    if not _USERNAME.match(name):
        raise DataValidationError(f"用户名“{name}”无效：应为2至40个字符，不含空格")
    return name


def check_scope(role: Role, scope_code: str | None) -> str:
    """The normalised scope code for ``role`` ("" for the district); ScopeError when it does not fit the role."""
    code = (scope_code or "").strip()
    if code == DISTRICT_CODE:
        code = ""
    if role is Role.DISTRICT:
        if code:
            raise ScopeError(f"区级管理员的辖区应为全区，不能是“{code}”")
        return ""
    if role is Role.STREET and not _STREET.match(code):
        raise ScopeError(f"街道办账号的辖区应为12位街道代码（以000结尾），不是“{code}”")
    if role is Role.COMMUNITY and (not _COMMUNITY.match(code) or _STREET.match(code)):
        raise ScopeError(f"社区/网格督导账号的辖区应为12位社区代码，不是“{code}”")
    return code


@dataclass(frozen=True)
class Account:
    """An account as the code sees it (never holds a password or its hash).

    ``scope_code`` is "" for the district, a sub-district code for ``Role.STREET`` and a community
    code for ``Role.COMMUNITY``; ``scope_name`` is its Chinese name for messages. ``system`` marks an
    operator that is not a stored account (the command line, the sample generator); the data layer
    trusts it without looking it up, so only code, never a login, can make one.
    """

    username: str
    role: Role
    scope_code: str = ""
    display_name: str = ""
    scope_name: str = ""
    active: bool = True
    must_change_password: bool = False
    system: bool = False

    def __post_init__(self):
        object.__setattr__(self, "role", Role(self.role))
        object.__setattr__(self, "scope_code", check_scope(self.role, self.scope_code))

    @property
    def scope(self) -> Scope:
        """The unit this account writes in."""
        return Scope(self.scope_code)

    @property
    def where(self) -> str:
        """The scope in words, e.g. ``东街街道`` or ``350102004001``."""
        if self.role is Role.DISTRICT:
            return DISTRICT_NAME
        return self.scope_name or self.scope_code

    @property
    def label(self) -> str:
        """``display name（role · scope）`` for the UI."""
        return f"{self.display_name or self.username}（{self.role.label} · {self.where}）"


def system_operator(name: str) -> Account:
    """A district-wide operator that is not a stored account (command line, sample generator)."""
    return Account(username=name, role=Role.DISTRICT, display_name=name, system=True)


def read_scope(account: Account | None) -> Scope:
    """What ``account`` may read: the whole district for every role (see the module docstring)."""
    return DISTRICT


def can_write(account: Account | None, unit_code: str | None) -> bool:
    """Whether ``account`` may change a record that belongs to unit ``unit_code`` (community or grid code).

    False when logged out (None), deactivated, or the unit lies outside the account's scope. The
    district role writes everything (also records without a unit code); the others need a
    well-formed 12- or 15-digit unit code inside their scope.
    """
    if account is None or not account.active:
        return False
    if account.role is Role.DISTRICT:
        return True
    code = (unit_code or "").strip()
    if not _UNIT.match(code):
        return False
    return account.scope.contains(code)


def require_login(account: Account | None) -> Account:
    """``account`` when it is logged in and active; PermissionDenied otherwise."""
    if account is None:
        raise PermissionDenied("未登录：请先登录后再修改数据")
    if not account.active:
        raise PermissionDenied(f"账号“{account.username}”已停用，不能修改数据")
    return account


def require_write(account: Account | None, unit_code: str | None, what: str = "") -> Account:
    """``account`` when it may write in unit ``unit_code``; PermissionDenied naming its scope otherwise."""
    require_login(account)
    if not can_write(account, unit_code):
        target = what or unit_code or "（无区划）"
        raise PermissionDenied(
            f"无权修改“{target}”：账号“{account.username}”（{account.role.label}）"
            f"只能修改{account.where}范围内的数据")
    return account


def outside_scope(account: Account | None, unit_codes) -> list[str]:
    """The distinct unit codes (in first-seen order) that ``account`` may not write; "" stands for a missing code."""
    seen: dict[str, None] = {}
    for code in unit_codes:
        key = "" if code is None else str(code)
        if key not in seen and not can_write(account, key):
            seen[key] = None
    return list(seen)


def require_write_all(account: Account | None, unit_codes, what: str = "数据") -> Account:
    """``account`` when it may write every unit in ``unit_codes`` (e.g. each row of an import);
    otherwise one PermissionDenied naming the account's scope and the first out-of-scope units."""
    require_login(account)
    bad = outside_scope(account, unit_codes)
    if bad:
        shown = "、".join(c or "（无区划）" for c in bad[:10]) + ("等" if len(bad) > 10 else "")
        raise PermissionDenied(
            f"无权写入{what}：账号“{account.username}”（{account.role.label}）只能修改{account.where}范围内的数据，"
            f"其中{len(bad)}个区划不在范围内：{shown}")
    return account


def require_admin(account: Account | None) -> Account:
    """``account`` when it may administer accounts (区级管理员); PermissionDenied otherwise."""
    return require_district(account, "管理账号")


def require_district(account: Account | None, what: str) -> Account:
    """``account`` when it is logged in, active and of the district role (a system operator is), for a district-wide
    change such as replacing a reference layer; PermissionDenied naming ``what`` (e.g. ``替换参考图层``) otherwise."""
    require_login(account)
    if account.role is not Role.DISTRICT:
        raise PermissionDenied(
            f"无权{what}：账号“{account.username}”是{account.role.label}（{account.where}），"
            f"只有{Role.DISTRICT.label}可以{what}")
    return account


# ---------------------------------------------------------------- case details (issue 15)

CASE_DETAIL_COLUMNS = ("address", "summary", "compound_code")
"""Columns of a disputes frame that place a case at a building or tell its story (personal information)."""
CASE_UNIT_COLUMNS = ("grid_code", "community_code", "street_code")
"""Unit code columns of a disputes frame, finest first: the unit a case belongs to for the rule."""


def may_see_case_details(account: Account | None, scope: Scope) -> bool:
    """Whether ``account`` may see individual disputes of ``scope``: address, summary, the case list and its export.

    Never when logged out (None) or deactivated. The district role (also a system operator such as the
    command line): everywhere. A sub-district or community account: only when ``scope`` lies inside its
    own scope (its unit or one below it); the district or another unit shows it aggregates only.
    """
    if account is None or not account.active:
        return False
    if account.role is Role.DISTRICT:
        return True
    return bool(scope.code) and account.scope.contains(scope.code)


def case_detail_note(account: Account | None, scope: Scope) -> str:
    """One line in Chinese saying why ``scope`` shows aggregates only for ``account`` ("" when it shows cases)."""
    if may_see_case_details(account, scope):
        return ""
    if account is None:
        return "未登录，仅显示统计汇总：案件地址、摘要和案件清单属于个人信息，登录后可查看本辖区的案件。"
    if not account.active:
        return f"账号“{account.username}”已停用，仅显示统计汇总。"
    return (f"当前范围不在账号辖区（{account.where}）内，仅显示统计汇总；"
            f"切换到{account.where}或其下级单元可查看案件明细。")


def strip_case_details(disputes: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``disputes`` without the columns of ``CASE_DETAIL_COLUMNS`` (any that are present)."""
    return disputes.drop(columns=[c for c in CASE_DETAIL_COLUMNS if c in disputes.columns])


def disputes_for(account: Account | None, scope: Scope, disputes: pd.DataFrame) -> pd.DataFrame:
    """``disputes`` of ``scope`` as ``account`` may see them: unchanged, or stripped of the case details."""
    return disputes if may_see_case_details(account, scope) else strip_case_details(disputes)


def case_rows_visible(account: Account | None, disputes: pd.DataFrame) -> pd.Series:
    """Boolean Series: which rows of ``disputes`` (from any scope) ``account`` may see in detail, judged by
    each case's finest unit code (grid, else community, else sub-district)."""
    if account is None or not account.active:
        return pd.Series(False, index=disputes.index)
    if account.role is Role.DISTRICT:
        return pd.Series(True, index=disputes.index)
    present = [c for c in CASE_UNIT_COLUMNS if c in disputes.columns]
    if not present:
        return pd.Series(False, index=disputes.index)
    units = disputes[present].astype("string").bfill(axis=1).iloc[:, 0].fillna("")
    return units.map(lambda code: bool(code) and account.scope.contains(code)).astype(bool)


def redact_case_details(account: Account | None, disputes: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``disputes`` (from any scope) with the case details blanked (None) on the rows ``account``
    may not see (``case_rows_visible``); every row when logged out."""
    out = disputes.copy()
    hidden = ~case_rows_visible(account, disputes)
    for column in CASE_DETAIL_COLUMNS:
        if column in out.columns:
            out[column] = out[column].astype(object).where(~hidden, None)
    return out


def require_case_details(account: Account | None, scope: Scope, what: str = "矛盾纠纷案件明细") -> Account:
    """``account`` when it may see the case details of ``scope``; PermissionDenied in plain Chinese otherwise."""
    if may_see_case_details(account, scope):
        return account
    if account is None:
        raise PermissionDenied(f"未登录：{what}（地址、摘要）仅对登录账号在其辖区内提供，请先登录")
    if not account.active:
        raise PermissionDenied(f"账号“{account.username}”已停用，不能获取{what}")
    raise PermissionDenied(f"无权获取{what}：账号“{account.username}”（{account.role.label}）"
                           f"只能获取{account.where}范围内的案件，请将范围切换到{account.where}或其下级单元")


# ---------------------------------------------------------------- login throttling and sessions

LOCK_CAP = timedelta(hours=1)


@dataclass(frozen=True)
class LoginPolicy:
    """Failed logins are counted; ``max_failures`` of them within ``window`` lock the account.

    The first lock lasts ``lock``; each further failure after it doubles the lock, up to ``LOCK_CAP``.
    A success resets the count; so does a reset password. While locked, the password is not checked.
    """

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lock: timedelta = timedelta(minutes=5)

    @classmethod
    def from_settings(cls, settings) -> LoginPolicy:
        """The policy of a ``geo.settings.Settings``."""
        return cls(max(1, settings.login_max_failures), timedelta(minutes=settings.login_window_minutes),
                   timedelta(seconds=settings.login_lock_seconds))

    def locked_until(self, failures: int, last_failure: datetime | None) -> datetime | None:
        """When an account with ``failures`` failures, the last at ``last_failure``, opens again; None if not locked."""
        if last_failure is None or failures < self.max_failures:
            return None
        extra = min(failures - self.max_failures, 20)
        return last_failure + min(self.lock * (2 ** extra), LOCK_CAP)

    def is_locked(self, failures: int, last_failure: datetime | None, now: datetime) -> bool:
        """Whether the account is locked at ``now``."""
        until = self.locked_until(failures, last_failure)
        return until is not None and now < until

    def failures_after(self, failures: int, last_failure: datetime | None, now: datetime) -> int:
        """The failure count after one more failure at ``now``: failures older than the window are
        forgotten, unless the account has already been locked (then the lock keeps growing)."""
        if failures < self.max_failures and (last_failure is None or now - last_failure > self.window):
            return 1
        return failures + 1


def session_expired(logged_in_at: datetime | None, now: datetime, minutes: int) -> bool:
    """Whether a login made at ``logged_in_at`` has outlived ``minutes`` at ``now`` (no login: expired)."""
    if logged_in_at is None:
        return True
    return now - logged_in_at >= timedelta(minutes=minutes)


# ---------------------------------------------------------------- login throttling per client (issue 15)

LOCAL_CLIENT = "local"
"""The client address of a loopback connection, or of one whose address is unknown (tests, the command line)."""
THROTTLE_MEMORY = timedelta(hours=24)
"""A throttling counter whose last failure is older than this is forgotten (and may be deleted)."""


def client_address(remote_ip: str | None, forwarded_for: str | None = None, trust_proxy: bool = False) -> str:
    """The address failed logins are counted against: ``remote_ip`` (the peer of the connection), or with
    ``trust_proxy`` the right-most valid entry of the ``X-Forwarded-For`` header ``forwarded_for`` (the one
    the trusted proxy appended; entries left of it are written by the client and can be forged).

    An IPv6 address counts as its /64 network (one subscriber's range), an IPv4-mapped one as IPv4;
    nothing usable gives ``LOCAL_CLIENT``."""
    candidates = [remote_ip]
    if trust_proxy and forwarded_for:
        candidates = [p.strip() for p in reversed(forwarded_for.split(",")) if p.strip()][:1] + candidates
    for raw in candidates:
        try:
            ip = ipaddress.ip_address((raw or "").strip())
        except ValueError:
            continue
        if ip.version == 6 and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if ip.is_loopback:
            return LOCAL_CLIENT
        if ip.version == 6:
            return str(ipaddress.ip_network(f"{ip}/64", strict=False))
        return str(ip)
    return LOCAL_CLIENT


@dataclass(frozen=True)
class LoginThrottle:
    """Failed logins are counted twice: per (user name, client) under ``pair`` and per client, whatever the
    name, under ``client`` (a higher threshold). Either counter past its threshold refuses that pair or that
    client for a while (``LoginPolicy``); another client can still log in under the same name. A success
    clears the pair's counter only; counters quiet for ``memory`` are forgotten."""

    pair: LoginPolicy = LoginPolicy()
    client: LoginPolicy = LoginPolicy(max_failures=20)
    memory: timedelta = THROTTLE_MEMORY

    @classmethod
    def from_settings(cls, settings) -> LoginThrottle:
        """The throttle of a ``geo.settings.Settings``."""
        pair = LoginPolicy.from_settings(settings)
        client = LoginPolicy(max(pair.max_failures, settings.login_client_max_failures), pair.window, pair.lock)
        return cls(pair, client)

    def failures_after(self, policy: LoginPolicy, failures: int, last_failure: datetime | None,
                       now: datetime) -> int:
        """A counter of ``policy`` after one more failure at ``now`` (a forgotten counter starts again at 1)."""
        if last_failure is not None and now - last_failure > self.memory:
            return 1
        return policy.failures_after(failures, last_failure, now)

    def locked_until(self, policy: LoginPolicy, failures: int, last_failure: datetime | None,
                     now: datetime) -> datetime | None:
        """When a counter of ``policy`` opens again, while it is locked at ``now``; None when it is not."""
        until = policy.locked_until(failures, last_failure)
        return until if until is not None and now < until else None
