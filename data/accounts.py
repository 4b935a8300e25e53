"""Accounts in the database: create, reset, deactivate, list, log in — every step in the audit log.

Passwords are hashed with argon2id (``argon2-cffi``'s ``PasswordHasher``, salted, its default cost);
neither a password nor its hash is ever logged or written to the audit log. A login that fails
(unknown name or wrong password: one message for both) counts against the account; after
``login_max_failures`` failures within ``login_window_minutes`` the account is locked for
``login_lock_seconds``, doubling with each further failure (``geo.access.LoginPolicy``). The counters
live in the ``accounts`` row, so a lock survives a restart.

Account administration takes the acting account ``by`` and requires the district role
(``geo.access.require_admin``); the command line acts as ``geo.access.system_operator``.
Writes elsewhere call ``verify`` inside their transaction: it re-reads the acting account, so a
deactivated account or a changed scope takes effect at once, even for a session still open.
"""
from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, func, insert, select, update

from data import schema
from data.store import audit
from geo.access import (
    Account,
    LoginPolicy,
    check_scope,
    check_username,
    require_admin,
    require_write_all,
    system_operator,
)
from geo.errors import AuthenticationError, DataValidationError, GuloError, PermissionDenied, ScopeError
from geo.settings import get_settings
from geo.vocab import Role

log = logging.getLogger(__name__)

HASHER = PasswordHasher()
"""The one password hasher (argon2id, library defaults). Tests may swap in a cheaper profile."""

MIN_PASSWORD_LENGTH = 8
BAD_LOGIN = "用户名或密码错误"
UNKNOWN_ACTOR = "（未知账号）"
REDACTED = "（已隐藏）"

DEMO_ACCOUNTS: tuple[tuple[str, str, Role, str, str], ...] = (
    ("admin", "演示·区级管理员", Role.DISTRICT, "", "demo-admin-2026"),
    ("dongjie", "演示·东街街道办", Role.STREET, "350102004000", "demo-dongjie-2026"),
    ("junmen", "演示·军门社区督导", Role.COMMUNITY, "350102004001", "demo-junmen-2026"),
)
"""Demo accounts created with the sample district: (username, display name, role, scope, password).
Their passwords are published; ``demo_accounts_present`` lets the app warn while they exist."""

_PUBLIC = [c for c in schema.accounts.c if c.name != "password_hash"]
_dummy_hash: str | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands timestamps back without a zone; they were written in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def check_password(password: str, username: str = "") -> str:
    """``password`` when it is acceptable (at least 8 characters, not the user name); DataValidationError otherwise."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise DataValidationError(f"密码至少需要{MIN_PASSWORD_LENGTH}个字符")
    if password.strip().lower() == username.strip().lower():
        raise DataValidationError("密码不能与用户名相同")
    return password


def _parse_role(role: Role | str) -> Role:
    """``role`` as a Role (from its value or Chinese label); DataValidationError naming the choices."""
    if isinstance(role, Role):
        return role
    try:
        return Role.from_label(str(role).strip())
    except ValueError as exc:
        raise DataValidationError(str(exc)) from exc


# ---------------------------------------------------------------- reading


def _row(conn: Connection, username: str, lock: bool = False) -> dict | None:
    t = schema.accounts
    stmt = select(t).where(t.c.username == username)
    row = conn.execute(stmt.with_for_update() if lock else stmt).mappings().first()
    return None if row is None else dict(row)


def _scope_name(conn: Connection, code: str) -> str:
    """Chinese name of a sub-district or community code ("" for the district); ScopeError when unknown."""
    if not code:
        return ""
    table = schema.streets if code.endswith("000") else schema.communities
    name = conn.execute(select(table.c.name).where(table.c.code == code)).scalar()
    if name is None:
        raise ScopeError(f"区划代码“{code}”在数据库中不存在")
    return name


def _to_account(conn: Connection, row: dict) -> Account:
    code = row["scope_code"] or ""
    try:
        name = _scope_name(conn, code)
    except ScopeError:
        name = ""
    return Account(username=row["username"], role=Role(row["role"]), scope_code=code,
                   display_name=row["display_name"], scope_name=name, active=bool(row["active"]),
                   must_change_password=bool(row["must_change_password"]))


def get_account(engine: Engine, username: str) -> Account | None:
    """The stored account ``username``, or None."""
    with engine.connect() as conn:
        row = _row(conn, username)
        return None if row is None else _to_account(conn, row)


def verify(conn: Connection, account: Account | None) -> Account:
    """The acting account as stored now (role, scope, active), inside the caller's transaction.

    PermissionDenied when logged out (None), unknown or deactivated. A ``system`` operator is
    returned as it is. Callers then check the scope with ``geo.access.require_write``."""
    if account is None:
        raise PermissionDenied("未登录：请先登录后再修改数据")
    if account.system:
        return account
    row = _row(conn, account.username)
    if row is None or not row["active"]:
        raise PermissionDenied(f"账号“{account.username}”已停用或不存在，请重新登录")
    return _to_account(conn, row)


def authorise_units(conn: Connection, account: Account | None, unit_codes, what: str = "数据") -> Account:
    """For a bulk write (an import): the acting account as stored now, when it may write every unit code
    in ``unit_codes`` (community or grid codes, one per row); PermissionDenied naming them otherwise.
    Call it inside the write transaction, before writing."""
    return require_write_all(verify(conn, account), unit_codes, what)


def list_accounts(engine: Engine, by: Account | None, now: datetime | None = None) -> pd.DataFrame:
    """Every account (district role only), without hashes; ``locked_until`` is set while a login lock runs."""
    require_admin(by)
    policy, now = LoginPolicy.from_settings(get_settings()), now or _now()
    t = schema.accounts
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(select(*_PUBLIC).order_by(t.c.username)).mappings()]
    for r in rows:
        until = policy.locked_until(r["failed_logins"], _aware(r["last_failed_at"]))
        r["locked_until"] = until if until and until > now else None
        r["role_label"] = Role(r["role"]).label
    return pd.DataFrame(rows, columns=[c.name for c in _PUBLIC] + ["locked_until", "role_label"])


def demo_accounts_present(engine: Engine) -> list[str]:
    """User names of active demo accounts (published passwords) — the app warns while any exist."""
    t = schema.accounts
    with engine.connect() as conn:
        rows = conn.execute(select(t.c.username).where(t.c.is_demo.is_(True), t.c.active.is_(True))
                            .order_by(t.c.username))
        return [r[0] for r in rows]


# ---------------------------------------------------------------- audit


def _public(row: dict | None) -> dict | None:
    """An account row for the audit log: the hash removed, times as text."""
    if row is None:
        return None
    return {k: v for k, v in row.items() if k != "password_hash"}


def _audit(conn: Connection, actor: str, action: str, username: str | None, before: dict | None,
           after: dict | None) -> None:
    audit(conn, actor, action, "accounts", username, _public(before), _public(after))


def record_refusal(engine: Engine, account: Account | None, table_name: str, record_code: str | None,
                   reason: str) -> None:
    """Audit a refused write (action ``denied``) in its own transaction; the refused one rolled back."""
    actor = account.username if account else "（未登录）"
    with engine.begin() as conn:
        audit(conn, actor, "denied", table_name, record_code, None, {"reason": reason})
    log.warning("拒绝写入 %s/%s：%s", table_name, record_code, reason)


# ---------------------------------------------------------------- administration


def create_account(engine: Engine, by: Account | None, username: str, role: Role | str, scope_code: str = "",
                   password: str | None = None, display_name: str = "", must_change_password: bool = True,
                   is_demo: bool = False) -> Account:
    """Store a new account and return it. ``password`` None: no password login (OIDC only).

    DataValidationError for a bad name or weak password, ScopeError for a scope that does not fit
    the role or is unknown, GuloError when the name is taken, PermissionDenied unless ``by`` is a
    district administrator."""
    require_admin(by)
    username, role = check_username(username), _parse_role(role)
    scope_code = check_scope(role, scope_code)
    hashed = None if password is None else HASHER.hash(check_password(password, username))
    now = _now()
    with engine.begin() as conn:
        _scope_name(conn, scope_code)
        if _row(conn, username) is not None:
            raise GuloError(f"用户名“{username}”已存在")
        values = dict(username=username, display_name=(display_name or username).strip()[:60], role=role.value,
                      scope_code=scope_code or None, password_hash=hashed, active=True,
                      must_change_password=bool(must_change_password and password is not None), is_demo=is_demo,
                      failed_logins=0, last_failed_at=None, last_login_at=None, created_at=now, updated_at=now)
        conn.execute(insert(schema.accounts).values(**values))
        _audit(conn, by.username, "account_create", username, None,
               {**values, "password": REDACTED if hashed else None})
        account = _to_account(conn, values)
    log.info("已创建账号 %s（%s）", username, role.label)
    return account


def _change(engine: Engine, by: Account, username: str, action: str, values: dict) -> Account:
    """Update account ``username`` with ``values`` in one audited transaction; GuloError when unknown."""
    t = schema.accounts
    with engine.begin() as conn:
        before = _row(conn, username, lock=True)
        if before is None:
            raise GuloError(f"找不到账号“{username}”")
        conn.execute(update(t).where(t.c.username == username).values(**values, updated_at=_now()))
        after = _row(conn, username)
        extra = {"password": REDACTED} if "password_hash" in values else {}
        _audit(conn, by.username, action, username, before, {**after, **extra})
        return _to_account(conn, after)


def reset_password(engine: Engine, by: Account | None, username: str, password: str,
                   must_change_password: bool = True) -> Account:
    """Set a new password (district administrators), clear the login lock and the demo mark."""
    require_admin(by)
    hashed = HASHER.hash(check_password(password, username))
    account = _change(engine, by, username, "password_reset",
                      dict(password_hash=hashed, must_change_password=must_change_password, is_demo=False,
                           failed_logins=0, last_failed_at=None))
    log.info("已重置账号 %s 的密码", username)
    return account


def change_password(engine: Engine, account: Account | None, old_password: str, new_password: str) -> Account:
    """The logged-in user changes their own password; AuthenticationError when ``old_password`` is wrong."""
    if account is None or account.system:
        raise PermissionDenied("未登录：请先登录后再修改密码")
    with engine.connect() as conn:
        row = _row(conn, account.username)
    if row is None or not row["active"] or not _matches(row["password_hash"], old_password):
        raise AuthenticationError("原密码不正确")
    if new_password == old_password:
        raise DataValidationError("新密码不能与原密码相同")
    hashed = HASHER.hash(check_password(new_password, account.username))
    return _change(engine, account, account.username, "password_change",
                   dict(password_hash=hashed, must_change_password=False, is_demo=False))


def set_active(engine: Engine, by: Account | None, username: str, active: bool) -> Account:
    """Deactivate (``active=False``) or reactivate an account; nobody deactivates their own."""
    require_admin(by)
    if not active and username == by.username:
        raise GuloError("不能停用自己正在使用的账号")
    return _change(engine, by, username, "account_activate" if active else "account_deactivate",
                   dict(active=active))


def deactivate(engine: Engine, by: Account | None, username: str) -> Account:
    """Deactivate ``username``: it can no longer log in, and its open sessions can no longer write."""
    return set_active(engine, by, username, False)


# ---------------------------------------------------------------- logging in


def _matches(hashed: str | None, password: str) -> bool:
    """Whether ``password`` matches ``hashed``; without a hash a dummy one is checked so timing tells nothing."""
    global _dummy_hash
    if hashed is None:
        _dummy_hash = _dummy_hash or HASHER.hash("no-such-account-dummy")
        hashed, password = _dummy_hash, password + "\x00"
    try:
        return HASHER.verify(hashed, password or "")
    except (VerificationError, InvalidHashError):
        return False


def authenticate(engine: Engine, username: str, password: str, now: datetime | None = None,
                 policy: LoginPolicy | None = None) -> Account:
    """The account when ``username`` / ``password`` are right; AuthenticationError (in Chinese) otherwise.

    Unknown names, wrong passwords, deactivated accounts and accounts without a password all get
    ``用户名或密码错误``; a locked account gets the time it opens again (``locked_until``) without its
    password being checked. Each attempt is audited (``login`` / ``login_failed`` / ``login_locked``)."""
    now, policy = now or _now(), policy or LoginPolicy.from_settings(get_settings())
    name = (username or "").strip()
    with engine.begin() as conn:
        _begin_locked(conn)
        row = _row(conn, name, lock=True) if name else None
        outcome = _attempt(conn, row, password, now, policy)
    if isinstance(outcome, AuthenticationError):
        log.warning("登录失败：%s", name if row else UNKNOWN_ACTOR)
        raise outcome
    log.info("登录成功：%s", name)
    return outcome


def _begin_locked(conn: Connection) -> None:
    """On SQLite take the write lock now, so read-count-update of the counters is one step."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _attempt(conn: Connection, row: dict | None, password: str, now: datetime,
             policy: LoginPolicy) -> Account | AuthenticationError:
    """Check one attempt and record it; the account, or the error to raise once the record is committed."""
    if row is None:
        _matches(None, password)
        audit(conn, UNKNOWN_ACTOR, "login_failed", "accounts", None, None, {"reason": "unknown_user"})
        return AuthenticationError(BAD_LOGIN)
    user, failures, last = row["username"], row["failed_logins"], _aware(row["last_failed_at"])
    until = policy.locked_until(failures, last)
    if until is not None and now < until:
        audit(conn, user, "login_locked", "accounts", user, None, {"locked_until": until.isoformat()})
        return AuthenticationError(_locked_message(until, now), locked_until=until)
    if not row["active"] or not _matches(row["password_hash"], password):
        return _fail(conn, row, now, policy)
    values = dict(failed_logins=0, last_failed_at=None, last_login_at=now)
    if HASHER.check_needs_rehash(row["password_hash"]):
        values["password_hash"] = HASHER.hash(password)
    t = schema.accounts
    conn.execute(update(t).where(t.c.username == user).values(**values))
    audit(conn, user, "login", "accounts", user, None, {"method": "password"})
    return _to_account(conn, row)


def _fail(conn: Connection, row: dict, now: datetime, policy: LoginPolicy) -> AuthenticationError:
    """Count a failed attempt; the error says when the account opens again if this failure locked it."""
    user = row["username"]
    failures = policy.failures_after(row["failed_logins"], _aware(row["last_failed_at"]), now)
    t = schema.accounts
    conn.execute(update(t).where(t.c.username == user).values(failed_logins=failures, last_failed_at=now))
    reason = "inactive" if not row["active"] else "bad_password"
    until = policy.locked_until(failures, now)
    audit(conn, user, "login_failed", "accounts", user, None,
          {"reason": reason, "failed_logins": failures, "locked_until": until.isoformat() if until else None})
    if until is not None:
        return AuthenticationError(f"{BAD_LOGIN}；{_locked_message(until, now)}", locked_until=until)
    return AuthenticationError(BAD_LOGIN)


def _locked_message(until: datetime, now: datetime) -> str:
    minutes = max(1, int((until - now).total_seconds() + 59) // 60)
    return f"登录失败次数过多，账号已暂时锁定，请约{minutes}分钟后再试"


def account_for_oidc(engine: Engine, email: str, now: datetime | None = None) -> Account:
    """The active account whose user name is ``email`` after an identity-provider login; audited.

    AuthenticationError when no such active account exists (the provider vouches for the person,
    the office still decides the role and scope)."""
    name = (email or "").strip()
    with engine.begin() as conn:
        row = _row(conn, name) if name else None
        if row is None or not row["active"]:
            audit(conn, name or UNKNOWN_ACTOR, "login_failed", "accounts", name or None, None,
                  {"reason": "oidc_no_account", "method": "oidc"})
            failed = True
        else:
            t = schema.accounts
            conn.execute(update(t).where(t.c.username == name).values(last_login_at=now or _now()))
            audit(conn, name, "login", "accounts", name, None, {"method": "oidc"})
            failed = False
    if failed:
        raise AuthenticationError(f"统一身份认证账号“{name}”未在本系统开通或已停用，请联系区级管理员")
    return get_account(engine, name)


# ---------------------------------------------------------------- first run


def ensure_demo_accounts(engine: Engine) -> list[str]:
    """Create the demo accounts of ``DEMO_ACCOUNTS`` that do not exist yet; their user names."""
    by, made = system_operator("系统"), []
    with engine.connect() as conn:
        existing = {r[0] for r in conn.execute(select(schema.accounts.c.username))}
    for username, display, role, scope, password in DEMO_ACCOUNTS:
        if username not in existing:
            create_account(engine, by, username, role, scope, password, display, must_change_password=False,
                           is_demo=True)
            made.append(username)
    return made


def count_accounts(engine: Engine) -> int:
    """How many accounts are stored."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(schema.accounts)).scalar())


def audit_entries(engine: Engine, username: str) -> list[dict]:
    """Audit entries about account ``username`` (decoded before/after), oldest first — for reports and tests."""
    t = schema.audit_log
    with engine.connect() as conn:
        rows = conn.execute(select(t).where(t.c.table_name == "accounts", t.c.record_code == username)
                            .order_by(t.c.id)).mappings()
        return [{**r, "before": json.loads(r["before"]) if r["before"] else None,
                 "after": json.loads(r["after"]) if r["after"] else None} for r in rows]
