"""Tell a user whose login was lost to a server restart: 「登录已失效，请重新登录」.

A login lives in the server's session state, which a restart (or another app process taking over
the browser) does not have. While someone is logged in, the browser holds a cookie that says only
"this browser was logged in" (no name, no token: it grants nothing); a new session that finds the
cookie but no login shows the notice once and clears the cookie. Logging out clears it too, so a
deliberate logout is never reported as a lost login.
"""
from __future__ import annotations

import streamlit as st

COOKIE = "gulou_login"
LOST = "登录已失效，请重新登录"
_CHECKED_KEY = "login_hint_checked"
_HELD_KEY = "login_hint_held"


def _script(value: str | None) -> str:
    """A script that sets (``value``) or clears (None) the marker cookie for the whole site."""
    life = "max-age=43200" if value else "max-age=0"
    return (f"<script>document.cookie = '{COOKIE}={value or ''}; path=/; SameSite=Strict; {life}';</script>")


def _write_cookie(value: str | None) -> None:
    st.html(_script(value), unsafe_allow_javascript=True, width="content")


def lost_login(logged_in: bool) -> str | None:
    """Once per browser session: ``LOST`` when the browser says it was logged in but this session is not."""
    if st.session_state.get(_CHECKED_KEY):
        return None
    st.session_state[_CHECKED_KEY] = True
    if logged_in or st.context.cookies.get(COOKIE) != "1":
        return None
    _write_cookie(None)
    return LOST


def keep_marker(logged_in: bool) -> None:
    """Set the marker when a login starts in this session, clear it when it ends (called on every run)."""
    held = bool(st.session_state.get(_HELD_KEY))
    if logged_in and not held:
        _write_cookie("1")
    elif not logged_in and held:
        _write_cookie(None)
    st.session_state[_HELD_KEY] = logged_in
