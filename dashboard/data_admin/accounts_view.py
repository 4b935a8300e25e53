"""账号 view (区级管理员 only): list accounts, create one, reset a password, deactivate, lift login locks.

Every action goes through ``data.accounts`` which checks the role again and writes the audit log;
this view only draws the forms and shows the store's messages.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.context import PageContext, engine
from dashboard.text import md_escape, md_format
from data.accounts import (
    PASSWORD_RULE,
    create_account,
    deactivate,
    list_accounts,
    list_login_locks,
    reset_password,
    unlock_account,
    unlock_client,
)
from data.audit_query import beijing_text
from geo.access import Account
from geo.errors import GuloError, PermissionDenied
from geo.scope import DISTRICT, Scope
from geo.vocab import Role

NOTICE_KEY = "acc_notice"
HEADERS = {"username": "用户名", "display_name": "显示名", "role_label": "角色", "scope": "辖区", "active": "启用",
           "must_change_password": "须改密码", "is_demo": "演示账号", "last_login_at": "最近登录（北京时间）",
           "locked_until": "锁定至"}


def account_table(ctx: PageContext, frame: pd.DataFrame) -> pd.DataFrame:
    """The accounts with Chinese headers and scope names."""
    out = frame.copy()
    out["scope"] = ["全区" if pd.isna(c) or not c else ctx.units.names.get(c, c) for c in out["scope_code"]]
    for col in ("last_login_at", "locked_until"):
        out[col] = out[col].map(beijing_text)
    return out[list(HEADERS)].rename(columns=HEADERS)


def _scope_options(ctx: PageContext, role: Role) -> list[str]:
    """Codes an account of ``role`` may be scoped to: none (district), sub-districts, or communities."""
    if role is Role.DISTRICT:
        return [""]
    streets = [s.code for s in ctx.units.children(DISTRICT)]
    if role is Role.STREET:
        return streets
    return [c.code for s in streets for c in ctx.units.children(Scope(s))]


def _create_form(ctx: PageContext, by: Account) -> None:
    """新建账号: username, display name, role, scope (from the district's units), password twice."""
    roles = list(Role)
    c1, c2 = st.columns(2)
    role = c1.selectbox("角色", roles, index=1, key="acc_role", format_func=lambda r: r.label)
    options = _scope_options(ctx, role)
    scope = c2.selectbox("辖区", options, key=f"acc_scope_{role.value}",
                         format_func=lambda c: ctx.units.full_name(Scope(c)) if c else "全区")
    with st.form("acc_create", clear_on_submit=True):
        f1, f2 = st.columns(2)
        username = f1.text_input("用户名", key="acc_username")
        display = f2.text_input("显示名", key="acc_display")
        p1, p2 = st.columns(2)
        password = p1.text_input("初始密码", type="password", key="acc_pw", help=PASSWORD_RULE)
        again = p2.text_input("再次输入初始密码", type="password", key="acc_pw2")
        submitted = st.form_submit_button("创建账号", type="primary")
    if submitted:
        if password != again:
            st.error("两次输入的密码不一致")
            return
        _act(lambda: create_account(engine(ctx), by, username, role, scope, password, display),
             f"已创建账号“{md_escape(username.strip())}”，首次登录须修改密码")


def _manage_form(ctx: PageContext, by: Account, names: list[str]) -> None:
    """重置密码, 解除登录锁定 and 停用 for one chosen account."""
    name = st.selectbox("选择账号", names, index=None, key="acc_pick", placeholder="选择要管理的账号…")
    if name is None:
        return
    with st.form("acc_reset", clear_on_submit=True):
        p1, p2 = st.columns(2)
        password = p1.text_input("新密码", type="password", key="acc_reset_pw", help=PASSWORD_RULE)
        again = p2.text_input("再次输入新密码", type="password", key="acc_reset_pw2")
        submitted = st.form_submit_button("重置密码")
    if submitted:
        if password != again:
            st.error("两次输入的密码不一致")
        else:
            _act(lambda: reset_password(engine(ctx), by, name, password), f"已重置“{md_escape(name)}”的密码，下次登录须修改")
    if st.button(f"解除“{md_escape(name)}”的登录锁定", key="acc_unlock", help="清除此用户名在所有网络地址上的登录失败计数"):
        _act(lambda: unlock_account(engine(ctx), by, name), f"已解除“{md_escape(name)}”的登录锁定")
    if st.button(f"停用账号“{md_escape(name)}”", key="acc_deactivate", disabled=name == by.username,
                 help="停用后不能登录，已打开的会话也不能再写入；不能停用自己"):
        _act(lambda: deactivate(engine(ctx), by, name), f"已停用账号“{md_escape(name)}”")


LOCK_HEADERS = {"client": "网络地址", "username": "用户名", "failures": "失败次数", "locked_until": "锁定至（北京时间）"}


def _locks_section(ctx: PageContext, by: Account) -> None:
    """The login locks running now, and lifting one client address's locks."""
    locks = list_login_locks(engine(ctx), by)
    if locks.empty:
        st.caption("目前没有生效的登录锁定。")
        return
    shown = locks.assign(locked_until=locks["locked_until"].map(beijing_text))[list(LOCK_HEADERS)]
    st.dataframe(shown.rename(columns=LOCK_HEADERS), hide_index=True, width="stretch", key="acc_locks")
    client = st.selectbox("网络地址", sorted(set(locks["client"])), index=None, key="acc_lock_client",
                          placeholder="选择要解除锁定的网络地址…")
    if client and st.button(f"解除网络地址“{md_escape(client)}”的登录锁定", key="acc_unlock_client"):
        _act(lambda: unlock_client(engine(ctx), by, client), f"已解除网络地址“{md_escape(client)}”的登录锁定")


def _act(action, message: str) -> None:
    """Run an account action; its project error is shown, success (``message``: Markdown) after the rerun."""
    try:
        action()
    except GuloError as exc:
        st.error(md_escape(exc))
        return
    st.session_state[NOTICE_KEY] = message
    st.rerun()


def accounts_view(ctx: PageContext, account: Account | None) -> None:
    """The account list and forms for 区级管理员; a message for everyone else."""
    try:
        frame = list_accounts(engine(ctx), account)
    except PermissionDenied:
        st.info(f"只有{Role.DISTRICT.label}可以管理账号。" + ("请先在左侧边栏登录。" if account is None else
                md_format("当前账号“{}”是{}（{}）。", account.username, account.role.label, account.where)),
                icon=":material/lock:")
        return
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice:
        st.success(notice, icon=":material/check_circle:")
    st.dataframe(account_table(ctx, frame), hide_index=True, width="stretch", key="acc_table")
    st.caption(f"共 {len(frame)} 个账号；账号的每次创建、重置、解除锁定和停用都记入操作日志。")
    left, right = st.columns(2, gap="large")
    with left:
        st.subheader("新建账号")
        _create_form(ctx, account)
    with right:
        st.subheader("重置密码 / 解除锁定 / 停用")
        _manage_form(ctx, account, frame.loc[frame["active"].astype(bool), "username"].tolist())
    st.subheader("登录锁定")
    st.caption("同一用户名在同一网络地址登录失败过多会锁定这一组合，同一网络地址失败过多会锁定该地址下的所有用户名；"
               "其他地址不受影响。解除锁定记入操作日志。")
    _locks_section(ctx, account)
