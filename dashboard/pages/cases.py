"""案件办理: 我的待办, 受理新案件 and one case taken through mediation to 办结 — for logged-in accounts, in their scope.

Every save goes through ``data.cases`` (scope, lifecycle rules, optimistic locking and the audit log are
enforced there) and moves the data version, so every figure of the other pages follows at their next run.
"""
from __future__ import annotations

import streamlit as st

from dashboard.cases.common import VIEW_KEY, VIEWS, apply_pending, show_flash
from dashboard.cases.form import intake
from dashboard.cases.todo import todo
from dashboard.cases.view import case_view
from dashboard.context import setup_page
from dashboard.quick import quick_questions
from dashboard.text import md_format

TITLE = "案件办理"
LOGIN_LINE = "请先登录：案件办理（受理、调解、办结矛盾纠纷案件）仅对登录账号开放，可在左侧栏登录。"


def render() -> None:
    ctx = setup_page()
    st.title(f"{TITLE} · 矛盾纠纷受理与调解")
    account = ctx.account
    if account is None:
        st.info(LOGIN_LINE, icon="🔒")
        return
    apply_pending()
    st.caption(md_format("{}：受理和办理{}范围内的案件；每次保存都记入操作日志。", account.label, account.where))
    show_flash()
    quick_questions("cases")  # may set the view, so before it
    st.session_state.setdefault(VIEW_KEY, VIEWS[0])
    view = st.segmented_control("视图", VIEWS, key=VIEW_KEY, label_visibility="collapsed") or VIEWS[0]
    if view == VIEWS[0]:
        todo(ctx, account)
    elif view == VIEWS[1]:
        intake(ctx, account)
    else:
        case_view(ctx, account)
