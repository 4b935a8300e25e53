"""Login, logout and session expiry for the pages; the account lives in ``st.session_state``.

The password is checked by ``data.accounts.authenticate`` (argon2, throttled per user name and client
address, audited); this module only keeps the result and tells it the client's address (``request_client``:
the connection's peer, or behind a trusted proxy the one it forwards — ``Settings.trusted_proxy``). While
the account must change its password (every demo account, every account an administrator created or
reset) the page shows the change form alone and stops there (``forced_password_change``).
A login lasts ``Settings.session_minutes``; after that ``current_account`` forgets it and the next page
shows the login form with a notice. Writes do not trust the session
alone: the data layer re-reads the account and checks its scope on every write.

Where ``.streamlit/secrets.toml`` has an ``[auth]`` section, an identity-provider login through
``st.login`` is offered too; the provider's e-mail must be the user name of an active account.

Typical page use::

    account = auth_panel(engine(ctx))      # sidebar: login form, or "当前用户 … 退出登录"
    if account is None: ...                # read-only view
"""
from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st
from sqlalchemy import Engine
from streamlit.errors import StreamlitSecretNotFoundError

from dashboard.text import md_escape
from data.accounts import PASSWORD_RULE, account_for_oidc, authenticate, change_password, demo_accounts_present
from geo.access import Account, Role, client_address, session_expired
from geo.errors import GuloError
from geo.settings import get_settings

AUTH_KEY = "auth_account"
LOGIN_AT_KEY = "auth_login_at"
NOTICE_KEY = "auth_notice"
CHANGED_KEY = "auth_password_changed"
EXPIRED = "登录已过期，请重新登录"


def _now() -> datetime:
    return datetime.now(UTC)


def sign_in(account: Account, now: datetime | None = None) -> None:
    """Remember ``account`` as logged in from ``now`` (UTC) in this browser session."""
    st.session_state[AUTH_KEY] = account
    st.session_state[LOGIN_AT_KEY] = now or _now()


def logout(notice: str | None = None) -> None:
    """Forget the login (and leave the identity provider's session); ``notice`` is shown at the next login form."""
    st.session_state.pop(AUTH_KEY, None)
    st.session_state.pop(LOGIN_AT_KEY, None)
    if notice:
        st.session_state[NOTICE_KEY] = notice
    if _oidc_logged_in():
        st.logout()


def current_account(now: datetime | None = None, minutes: int | None = None) -> Account | None:
    """The logged-in account, or None when nobody is logged in or the login outlived ``minutes``
    (default ``Settings.session_minutes``); an expired login is forgotten with a notice."""
    account = st.session_state.get(AUTH_KEY)
    if account is None:
        return None
    minutes = get_settings().session_minutes if minutes is None else minutes
    if session_expired(st.session_state.get(LOGIN_AT_KEY), now or _now(), minutes):
        logout(EXPIRED)
        return None
    return account


def login_form(engine: Engine, key: str = "login") -> Account | None:
    """The login form (用户名 / 密码) when nobody is logged in; the account once someone is.

    A successful login reruns the script, so the page redraws as that account."""
    account = current_account()
    if account is not None:
        return account
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice:
        st.warning(notice)
    with st.form(key, clear_on_submit=True):
        username = st.text_input("用户名", key=f"{key}_username")
        password = st.text_input("密码", type="password", key=f"{key}_password")
        submitted = st.form_submit_button("登录", type="primary")
    if not submitted:
        return None
    try:
        account = authenticate(engine, username, password, request_client())
    except GuloError as exc:
        st.error(md_escape(exc))  # may echo the user name typed
        return None
    sign_in(account)
    st.rerun()


def logout_button(account: Account, key: str = "logout") -> None:
    """Who is logged in, and a 退出登录 button."""
    st.caption(f"当前用户：{md_escape(account.label)}")
    st.button("退出登录", key=key, on_click=logout)


def request_client() -> str:
    """The address this session's logins are throttled under (``geo.access.client_address``): the peer of the
    connection, or with ``Settings.trusted_proxy`` the right-most ``X-Forwarded-For`` entry."""
    try:
        forwarded = st.context.headers.get("X-Forwarded-For")
        remote = st.context.ip_address
    except (AttributeError, KeyError, RuntimeError):  # no request behind this run (a bare script)
        forwarded, remote = None, None
    return client_address(remote, forwarded, get_settings().trusted_proxy)


def password_change_form(engine: Engine, account: Account, key: str = "pwchange") -> None:
    """A form to change one's own password; a success signs the new state in and reruns the page."""
    with st.form(key, clear_on_submit=True):
        old = st.text_input("原密码", type="password", key=f"{key}_old")
        new = st.text_input("新密码", type="password", key=f"{key}_new", help=PASSWORD_RULE)
        again = st.text_input("再次输入新密码", type="password", key=f"{key}_again")
        submitted = st.form_submit_button("修改密码", type="primary")
    if not submitted:
        return
    if new != again:
        st.error("两次输入的新密码不一致")
        return
    try:
        changed = change_password(engine, account, old, new)
    except GuloError as exc:
        st.error(md_escape(exc))  # may echo the user name typed
        return
    sign_in(changed, st.session_state.get(LOGIN_AT_KEY))
    st.session_state[CHANGED_KEY] = True
    st.rerun()


def forced_password_change(engine: Engine, account: Account) -> None:
    """Alone on the page while ``account`` must change its password: the change form, then ``st.stop()`` —
    nothing else of any page is drawn or usable until the password is changed (or the user logs out)."""
    st.title("请先修改初始密码")
    st.info(f"账号“{md_escape(account.username)}”的密码是初始密码或已由管理员重置，修改之前不能使用其他功能。"
            f"新密码要求：{PASSWORD_RULE}。", icon=":material/key:")
    with st.columns([1, 1])[0]:
        password_change_form(engine, account)
    st.stop()


# ---------------------------------------------------------------- identity provider (optional)


def oidc_configured() -> bool:
    """Whether ``st.secrets`` has an ``[auth]`` section, i.e. ``st.login`` can be offered."""
    try:
        return "auth" in st.secrets
    except (FileNotFoundError, StreamlitSecretNotFoundError):
        return False


def _oidc_logged_in() -> bool:
    return oidc_configured() and bool(getattr(st.user, "is_logged_in", False))


def oidc_login(engine: Engine) -> Account | None:
    """Offer 统一身份认证登录; after the provider's redirect, sign in the account named by its e-mail."""
    if not oidc_configured():
        return None
    if not _oidc_logged_in():
        st.button("统一身份认证登录", key="oidc_login", on_click=st.login)
        return None
    try:
        account = account_for_oidc(engine, str(st.user.get("email", "")))
    except GuloError as exc:
        st.error(md_escape(exc))  # may echo the user name typed
        st.button("退出统一身份认证", key="oidc_logout", on_click=st.logout)
        return None
    sign_in(account)
    return account


# ---------------------------------------------------------------- one call for a page


def auth_panel(engine: Engine, where=None) -> Account | None:
    """In ``where`` (default: the sidebar): the login form and identity-provider button, or the current
    user with 退出登录. Returns the account — except while its password must be changed: then the main area
    shows only the change form and the script stops (``forced_password_change``)."""
    where = where or st.sidebar
    with where:
        account = current_account()
        if account is None:
            account = oidc_login(engine) or login_form(engine)
        if account is None:
            return None
        logout_button(account)
        if st.session_state.pop(CHANGED_KEY, False):
            st.success("密码已修改")
    if account.must_change_password:
        forced_password_change(engine, account)
    return account


def demo_account_warning(engine: Engine, account: Account | None) -> None:
    """A warning while demo accounts with published passwords are still active — shown to a district
    account only (who can disable them); anonymous readers and sub-district or community accounts see
    nothing. The server log says it at startup for everyone (``dashboard.context._open``)."""
    if account is None or account.role is not Role.DISTRICT:
        return
    names = demo_accounts_present(engine)
    if names:
        st.warning("仍存在演示账号（密码已公开）：" + md_escape("、".join(names))
                   + "。首次登录须修改密码；正式使用前请停用不需要的演示账号。", icon="⚠️")
