"""Who may do what: accounts, roles and scopes as pure logic (no database, no UI).

Policy (issue 10):

- 区级管理员 (``Role.DISTRICT``, scope = the district): reads and writes everything, administers accounts.
- 街道办 (``Role.STREET``, scope = one sub-district code ``…000``): reads the whole district, writes
  records inside its sub-district only.
- 社区/网格督导 (``Role.COMMUNITY``, scope = one 12-digit community code): reads the whole district,
  writes records inside its community only (its grids included).

Reading is deliberately district-wide for every role: the dashboard is a shared situational
picture, comparisons between units are its point, and nothing it shows is personal beyond what
the office already shares internally. ``read_scope`` is the one place to change that.

Writes are checked against the *unit code* a record belongs to (a community or grid code; for a
compound its ``community_code``), never against a code the user typed or the URL carries. The data
layer calls ``require_write`` inside its write transactions, so a crafted URL or a direct call with
another scope is refused there, not only in the UI.

Also here: the login-throttling rule (``LoginPolicy``) and the session-lifetime rule, so both can be
tested without a database or a browser.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

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
    require_login(account)
    if account.role is not Role.DISTRICT:
        raise PermissionDenied(
            f"无权管理账号：账号“{account.username}”是{account.role.label}（{account.where}），"
            f"只有{Role.DISTRICT.label}可以管理账号")
    return account


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
