"""Accounts in the database: create, reset, deactivate, unlock, list, log in — every step in the audit log.

Passwords are hashed with argon2id (``argon2-cffi``'s ``PasswordHasher``, salted, its default cost);
neither a password nor its hash is ever logged or written to the audit log. Every password that is set
(create, reset, change, the command line) must follow ``geo.passwords.check_password``; the published
demo passwords are refused too.

A login that fails counts against the pair (user name, client address) and against the client
(``geo.access.LoginThrottle``): too many failures lock that pair — or, past a higher threshold, that client
for every name — for a while, doubling with each further failure; another client can still log in under
the same name, so nobody can lock an account from outside. Unknown and known names get the same
message, the same path and the same work (an argon2 verification against a dummy hash), locked or not.
The counters live in ``login_throttles`` (a digest of the name, never the name typed), so every app process
shares them and a lock survives a restart; the district role can lift one (``unlock_account``,
``unlock_client``).

Demo accounts exist only in a database filled with the sample district, and must change their
published password at the first login.

Account administration takes the acting account ``by`` and requires the district role
(``geo.access.require_admin``); the command line acts as ``geo.access.system_operator``.
Writes elsewhere call ``verify`` inside their transaction: it re-reads the acting account, so a
deactivated account or a changed scope takes effect at once, even for a session still open.
"""
from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from data import schema
from data.faults import database_errors
from data.store import audit, holds_sample
from data.versioned import begin_locked
from geo import passwords
from geo.access import (
    LOCAL_CLIENT,
    Account,
    LoginPolicy,
    LoginThrottle,
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

MIN_PASSWORD_LENGTH = passwords.MIN_LENGTH
PASSWORD_RULE = passwords.RULE
BAD_LOGIN = "用户名或密码错误"
UNKNOWN_ACTOR = "（未知账号）"
REDACTED = "（已隐藏）"
ANY_NAME, UNKNOWN_NAME = "（任意用户名）", "（未知用户名）"

DEMO_ACCOUNTS: tuple[tuple[str, str, Role, str, str], ...] = (
    ("admin", "演示·区级管理员", Role.DISTRICT, "", "demo-admin-2026"),
    ("dongjie", "演示·东街街道办", Role.STREET, "350102004000", "demo-dongjie-2026"),
    ("junmen", "演示·军门社区督导", Role.COMMUNITY, "350102004001", "demo-junmen-2026"),
)
"""Demo accounts created with the sample district: (username, display name, role, scope, password).
Their passwords are published: they open the account once, to set a new password (``must_change_password``);
``demo_accounts_present`` lets the app warn while any is unchanged."""
DEMO_PASSWORDS = tuple(a[-1] for a in DEMO_ACCOUNTS)

_PUBLIC = [c for c in schema.accounts.c if c.name != "password_hash"]
_dummy_hash: tuple[PasswordHasher, str] | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands timestamps back without a zone; they were written in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def check_password(password: str, username: str = "") -> str:
    """``password`` when it follows the rule (``geo.passwords``) and is no published demo password;
    DataValidationError naming the rule broken otherwise."""
    return passwords.check_password(password, username, refused=DEMO_PASSWORDS)


def name_key(username: str) -> str:
    """The digest a typed user name is counted under in ``login_throttles`` (32 hex digits; the name is never
    stored — someone may type a password into the name field)."""
    text = (username or "").strip().casefold().encode()
    return hashlib.blake2b(text, digest_size=16, person=b"gulou-login").hexdigest()


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


@database_errors("读取账号")
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


@database_errors("列出账号")
def list_accounts(engine: Engine, by: Account | None, now: datetime | None = None) -> pd.DataFrame:
    """Every account (district role only), without hashes; ``locked_until`` is set while a login lock of its
    name runs for some client (the latest such end)."""
    require_admin(by)
    throttle, now = LoginThrottle.from_settings(get_settings()), now or _now()
    t = schema.accounts
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(select(*_PUBLIC).order_by(t.c.username)).mappings()]
        locks = _running_locks(conn, throttle, now)
    latest: dict[str, datetime] = {}
    for lock in locks:
        key = lock["name_key"]
        if key:
            latest[key] = max(lock["locked_until"], latest.get(key, lock["locked_until"]))
    for r in rows:
        r["locked_until"] = latest.get(name_key(r["username"]))
        r["role_label"] = Role(r["role"]).label
    return pd.DataFrame(rows, columns=[c.name for c in _PUBLIC] + ["locked_until", "role_label"])


@database_errors("列出登录锁定")
def list_login_locks(engine: Engine, by: Account | None, now: datetime | None = None) -> pd.DataFrame:
    """The login locks running at ``now`` (district role only): client, username (an account's name,
    ``ANY_NAME`` for a client locked for every name, ``UNKNOWN_NAME`` for a name with no account), failures,
    last_failed_at and locked_until (UTC), latest end first."""
    require_admin(by)
    throttle, now = LoginThrottle.from_settings(get_settings()), now or _now()
    with engine.connect() as conn:
        names = {name_key(n): n for n in conn.execute(select(schema.accounts.c.username)).scalars()}
        locks = _running_locks(conn, throttle, now)
    rows = [{"client": lk["client"], "username": names.get(lk["name_key"], UNKNOWN_NAME) if lk["name_key"] else ANY_NAME,
             "failures": lk["failures"], "last_failed_at": lk["last_failed_at"], "locked_until": lk["locked_until"]}
            for lk in sorted(locks, key=lambda lk: lk["locked_until"], reverse=True)]
    return pd.DataFrame(rows, columns=["client", "username", "failures", "last_failed_at", "locked_until"])


def _running_locks(conn: Connection, throttle: LoginThrottle, now: datetime) -> list[dict]:
    """Every throttling counter locked at ``now``, with its ``locked_until``."""
    out = []
    for row in conn.execute(select(schema.login_throttles)).mappings():
        policy = throttle.pair if row["name_key"] else throttle.client
        until = throttle.locked_until(policy, row["failures"], _aware(row["last_failed_at"]), now)
        if until is not None:
            out.append({**row, "last_failed_at": _aware(row["last_failed_at"]), "locked_until": until})
    return out


@database_errors("检查演示账号")
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


@database_errors("记录拒绝写入", writing=True)
def record_refusal(engine: Engine, account: Account | None, table_name: str, record_code: str | None,
                   reason: str) -> None:
    """Audit a refused write (action ``denied``) in its own transaction; the refused one rolled back."""
    actor = account.username if account else "（未登录）"
    with engine.begin() as conn:
        audit(conn, actor, "denied", table_name, record_code, None, {"reason": reason})
    log.warning("拒绝写入 %s/%s：%s", table_name, record_code, reason)


# ---------------------------------------------------------------- administration


def create_account(engine: Engine, by: Account | None, username: str, role: Role | str, scope_code: str = "",
                   password: str | None = None, display_name: str = "", must_change_password: bool = True) -> Account:
    """Store a new account and return it. ``password`` None: no password login (OIDC only).

    DataValidationError for a bad name or a password against the rule, ScopeError for a scope that does not
    fit the role or is unknown, GuloError when the name is taken, PermissionDenied unless ``by`` is a
    district administrator."""
    require_admin(by)
    username, role = check_username(username), _parse_role(role)
    scope_code = check_scope(role, scope_code)
    hashed = None if password is None else HASHER.hash(check_password(password, username))
    account = _insert_account(engine, by, username, role, scope_code, hashed, display_name,
                              must_change_password=must_change_password and hashed is not None, is_demo=False)
    log.info("已创建账号 %s（%s）", username, role.label)
    return account


@database_errors("创建账号", writing=True)
def _insert_account(engine: Engine, by: Account, username: str, role: Role, scope_code: str, hashed: str | None,
                    display_name: str, must_change_password: bool, is_demo: bool) -> Account:
    """Insert one checked account with its ``hashed`` password in one audited transaction."""
    now = _now()
    with engine.begin() as conn:
        _scope_name(conn, scope_code)
        if _row(conn, username) is not None:
            raise GuloError(f"用户名“{username}”已存在")
        values = dict(username=username, display_name=(display_name or username).strip()[:60], role=role.value,
                      scope_code=scope_code or None, password_hash=hashed, active=True,
                      must_change_password=bool(must_change_password), is_demo=is_demo, last_login_at=None,
                      created_at=now, updated_at=now)
        conn.execute(insert(schema.accounts).values(**values))
        _audit(conn, by.username, "account_create", username, None,
               {**values, "password": REDACTED if hashed else None})
        return _to_account(conn, values)


@database_errors("修改账号", writing=True)
def _change(engine: Engine, by: Account, username: str, action: str, values: dict,
            clear_locks: bool = False) -> Account:
    """Update account ``username`` with ``values`` in one audited transaction (with ``clear_locks``: lift the
    login locks of its name too); GuloError when unknown."""
    t = schema.accounts
    with engine.begin() as conn:
        before = _row(conn, username, lock=True)
        if before is None:
            raise GuloError(f"找不到账号“{username}”")
        conn.execute(update(t).where(t.c.username == username).values(**values, updated_at=_now()))
        after = _row(conn, username)
        extra = {"password": REDACTED} if "password_hash" in values else {}
        if clear_locks:
            extra["locks"] = _clear_locks(conn, name=username)
        _audit(conn, by.username, action, username, before, {**after, **extra})
        return _to_account(conn, after)


def reset_password(engine: Engine, by: Account | None, username: str, password: str,
                   must_change_password: bool = True) -> Account:
    """Set a new password (district administrators), lift the login locks of the name, clear the demo mark."""
    require_admin(by)
    hashed = HASHER.hash(check_password(password, username))
    account = _change(engine, by, username, "password_reset",
                      dict(password_hash=hashed, must_change_password=must_change_password, is_demo=False),
                      clear_locks=True)
    log.info("已重置账号 %s 的密码", username)
    return account


@database_errors("修改密码", writing=True)
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


@database_errors("解除账号登录锁定", writing=True)
def unlock_account(engine: Engine, by: Account | None, username: str) -> int:
    """Lift every login lock of account ``username`` (from any client; district role only), audited as
    ``account_unlock``; how many counters were cleared. GuloError when there is no such account."""
    require_admin(by)
    with engine.begin() as conn:
        if _row(conn, username) is None:
            raise GuloError(f"找不到账号“{username}”")
        cleared = _clear_locks(conn, name=username)
        _audit(conn, by.username, "account_unlock", username, {"locks": cleared}, {"locks": []})
    log.info("已解除账号 %s 的登录锁定（%d 项）", username, len(cleared))
    return len(cleared)


@database_errors("解除网络地址登录锁定", writing=True)
def unlock_client(engine: Engine, by: Account | None, client: str) -> int:
    """Lift every login lock of client address ``client`` (for every name; district role only), audited as
    ``client_unlock``; how many counters were cleared. GuloError for an empty address."""
    require_admin(by)
    client = (client or "").strip()
    if not client:
        raise GuloError("请给出要解除锁定的网络地址")
    with engine.begin() as conn:
        cleared = _clear_locks(conn, client=client)
        audit(conn, by.username, "client_unlock", "accounts", client[:40], {"client": client, "locks": cleared},
              {"client": client, "locks": []})
    log.info("已解除网络地址 %s 的登录锁定（%d 项）", client, len(cleared))
    return len(cleared)


def _clear_locks(conn: Connection, name: str | None = None, client: str | None = None) -> list[dict]:
    """Delete the throttling counters of user name ``name`` (every client) or of ``client`` (every name); the
    deleted ones as (client, failures) for the audit log."""
    t = schema.login_throttles
    where = t.c.name_key == name_key(name) if name is not None else t.c.client == client
    gone = [{"client": r.client, "failures": r.failures}
            for r in conn.execute(select(t.c.client, t.c.failures).where(where).order_by(t.c.client))]
    conn.execute(delete(t).where(where))
    return gone


# ---------------------------------------------------------------- logging in


def _dummy() -> str:
    """A hash made by the current ``HASHER`` (same cost as the real ones), verified for names without one."""
    global _dummy_hash
    if _dummy_hash is None or _dummy_hash[0] is not HASHER:
        _dummy_hash = (HASHER, HASHER.hash("no-such-account-dummy"))
    return _dummy_hash[1]


def _matches(hashed: str | None, password: str) -> bool:
    """Whether ``password`` matches ``hashed``; without a hash a dummy one is verified (always False) so the
    time taken tells nothing."""
    if hashed is None:
        _verify(_dummy(), (password or "") + "\x00")
        return False
    return _verify(hashed, password or "")


def _verify(hashed: str, password: str) -> bool:
    try:
        return HASHER.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


@database_errors("登录", retry=True)
def authenticate(engine: Engine, username: str, password: str, client: str, now: datetime | None = None,
                 throttle: LoginThrottle | None = None) -> Account:
    """The account when ``username`` / ``password`` are right; AuthenticationError (in Chinese) otherwise.

    ``client`` is the address the attempt comes from (``geo.access.client_address``; the command line and
    tests pass their own). Unknown names, wrong passwords, deactivated accounts and accounts without a
    password all get ``用户名或密码错误`` after the same work; a locked (name, client) pair or a locked
    client gets the time it opens again (``locked_until``), for known and unknown names alike, without the
    password being checked. Each attempt is audited (``login`` / ``login_failed`` / ``login_locked``)."""
    now, throttle = now or _now(), throttle or LoginThrottle.from_settings(get_settings())
    name, client = (username or "").strip(), (client or LOCAL_CLIENT).strip()[:64]
    _dummy()  # made before the first unknown name, so that one takes no longer either
    with engine.begin() as conn:
        begin_locked(conn)
        row = _row(conn, name, lock=True) if name else None
        outcome = _attempt(conn, name, row, password, client, now, throttle)
    if isinstance(outcome, AuthenticationError):
        log.warning("登录失败：%s（%s）", name if row else UNKNOWN_ACTOR, client)
        raise outcome
    log.info("登录成功：%s（%s）", name, client)
    return outcome


def _attempt(conn: Connection, name: str, row: dict | None, password: str, client: str, now: datetime,
             throttle: LoginThrottle) -> Account | AuthenticationError:
    """Check one attempt and record it; the account, or the error to raise once the record is committed."""
    key, user = name_key(name), row["username"] if row else None
    locked = _lock_running(conn, key, client, now, throttle)
    if locked is not None:
        until, message = locked
        audit(conn, user or UNKNOWN_ACTOR, "login_locked", "accounts", user, None,
              {"client": client, "locked_until": until.isoformat()})
        return AuthenticationError(message, locked_until=until)
    right = _matches(row["password_hash"] if row else None, password)
    if row is None or not row["active"] or not right:
        return _fail(conn, row, key, client, now, throttle)
    values = dict(last_login_at=now)
    if HASHER.check_needs_rehash(row["password_hash"]):
        values["password_hash"] = HASHER.hash(password)
    t, th = schema.accounts, schema.login_throttles
    conn.execute(update(t).where(t.c.username == user).values(**values))
    conn.execute(delete(th).where(th.c.client == client, th.c.name_key == key))
    audit(conn, user, "login", "accounts", user, None, {"method": "password", "client": client})
    return _to_account(conn, row)


def _lock_running(conn: Connection, key: str, client: str, now: datetime,
                  throttle: LoginThrottle) -> tuple[datetime, str] | None:
    """(until, message) while the client, or the pair (name ``key``, client), is locked at ``now``; else None."""
    t = schema.login_throttles
    rows = {r.name_key: r for r in conn.execute(select(t).where(t.c.client == client, t.c.name_key.in_([key, ""])))}
    for k, policy, words in (("", throttle.client, CLIENT_LOCKED), (key, throttle.pair, PAIR_LOCKED)):
        r = rows.get(k)
        until = r and throttle.locked_until(policy, r.failures, _aware(r.last_failed_at), now)
        if until:
            return until, _locked_message(words, until, now)
    return None


def _fail(conn: Connection, row: dict | None, key: str, client: str, now: datetime,
          throttle: LoginThrottle) -> AuthenticationError:
    """Count a failed attempt for the pair and for the client; the error names the lock if this one set it."""
    stale = now - throttle.memory
    conn.execute(delete(schema.login_throttles).where(schema.login_throttles.c.last_failed_at < stale))
    failures, pair_until = _count(conn, client, key, throttle.pair, now, throttle)
    _, client_until = _count(conn, client, "", throttle.client, now, throttle)
    reason = "unknown_user" if row is None else "inactive" if not row["active"] else (
        "no_password" if row["password_hash"] is None else "bad_password")
    until, words = (client_until, CLIENT_LOCKED) if client_until else (pair_until, PAIR_LOCKED)
    user = row["username"] if row else None
    audit(conn, user or UNKNOWN_ACTOR, "login_failed", "accounts", user, None,
          {"reason": reason, "client": client, "failures": failures,
           "locked_until": until.isoformat() if until else None})
    if until is not None:
        return AuthenticationError(f"{BAD_LOGIN}；{_locked_message(words, until, now)}", locked_until=until)
    return AuthenticationError(BAD_LOGIN)


def _count(conn: Connection, client: str, key: str, policy: LoginPolicy, now: datetime,
           throttle: LoginThrottle) -> tuple[int, datetime | None]:
    """One more failure on the counter (client, key) at ``now``: its new count, and its lock end if now locked."""
    t = schema.login_throttles
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(t).values(client=client, name_key=key, failures=0, last_failed_at=now)
                 .on_conflict_do_nothing())
    where = (t.c.client == client) & (t.c.name_key == key)
    row = conn.execute(select(t.c.failures, t.c.last_failed_at).where(where).with_for_update()).one()
    failures = throttle.failures_after(policy, row.failures, _aware(row.last_failed_at), now)
    conn.execute(update(t).where(where).values(failures=failures, last_failed_at=now))
    return failures, throttle.locked_until(policy, failures, now, now)


PAIR_LOCKED = "此用户名在本机登录失败次数过多，已暂时锁定"
CLIENT_LOCKED = "本机（网络地址）登录失败次数过多，已暂时锁定"


def _locked_message(words: str, until: datetime, now: datetime) -> str:
    minutes = max(1, int((until - now).total_seconds() + 59) // 60)
    return f"{words}，请约{minutes}分钟后再试"


@database_errors("统一身份认证登录", retry=True)
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
    """In a database filled with the sample district (``data.store.holds_sample``): create the demo accounts of
    ``DEMO_ACCOUNTS`` that do not exist yet, each bound to change its published password at the first login;
    their user names. Anywhere else (an empty install, real data): none, and ``[]``.

    The published passwords do not follow the password rule; they are set here, outside ``check_password``,
    and open the account only to the password-change form."""
    if not holds_sample(engine):
        return []
    by, made = system_operator("系统"), []
    with engine.connect() as conn:
        existing = set(conn.execute(select(schema.accounts.c.username)).scalars())
    for username, display, role, scope, password in DEMO_ACCOUNTS:
        if username not in existing:
            _insert_account(engine, by, username, role, scope, HASHER.hash(password), display,
                            must_change_password=True, is_demo=True)
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
