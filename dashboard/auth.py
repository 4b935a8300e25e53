"""Login, logout and session expiry for the pages; the account lives in ``st.session_state``.

The password is checked by ``data.accounts.authenticate`` (argon2, throttled, audited); this module
only keeps the result. A login lasts ``Settings.session_minutes``; after that ``current_account``
forgets it and the next page shows the login form with a notice. Writes do not trust the session
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

from data.accounts import account_for_oidc, authenticate, change_password, demo_accounts_present
from geo.access import Account, session_expired
from geo.errors import GuloError
from geo.settings import get_settings

AUTH_KEY = "auth_account"
LOGIN_AT_KEY = "auth_login_at"
NOTICE_KEY = "auth_notice"
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
        account = authenticate(engine, username, password)
    except GuloError as exc:
        st.error(str(exc))
        return None
    sign_in(account)
    st.rerun()


def logout_button(account: Account, key: str = "logout") -> None:
    """Who is logged in, and a 退出登录 button."""
    st.caption(f"当前用户：{account.label}")
    st.button("退出登录", key=key, on_click=logout)


def password_change_form(engine: Engine, account: Account, key: str = "pwchange") -> None:
    """A form to change one's own password (shown while the account must change it)."""
    st.info("请先修改初始密码。")
    with st.form(key, clear_on_submit=True):
        old = st.text_input("原密码", type="password", key=f"{key}_old")
        new = st.text_input("新密码（至少8位）", type="password", key=f"{key}_new")
        again = st.text_input("再次输入新密码", type="password", key=f"{key}_again")
        submitted = st.form_submit_button("修改密码")
    if not submitted:
        return
    if new != again:
        st.error("两次输入的新密码不一致")
        return
    try:
        sign_in(change_password(engine, account, old, new), st.session_state.get(LOGIN_AT_KEY))
    except GuloError as exc:
        st.error(str(exc))
        return
    st.success("密码已修改")


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
        st.error(str(exc))
        st.button("退出统一身份认证", key="oidc_logout", on_click=st.logout)
        return None
    sign_in(account)
    return account


# ---------------------------------------------------------------- one call for a page


def auth_panel(engine: Engine, where=None) -> Account | None:
    """In ``where`` (default: the sidebar): the login form and identity-provider button, or the current
    user with 退出登录 (and the password form while the password must be changed). Returns the account."""
    where = where or st.sidebar
    with where:
        account = current_account()
        if account is None:
            account = oidc_login(engine) or login_form(engine)
        if account is None:
            return None
        logout_button(account)
        if account.must_change_password:
            password_change_form(engine, account)
    return account


def demo_account_warning(engine: Engine) -> None:
    """A warning while demo accounts with published passwords are still active (call once at startup)."""
    names = demo_accounts_present(engine)
    if names:
        st.warning("仍存在演示账号（密码已公开）：" + "、".join(names)
                   + "。正式使用前请在命令行停用这些账号或重置其密码。", icon="⚠️")
