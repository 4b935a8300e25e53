"""What the views of 案件办理 share: session keys, the flash message after a save, the shown error."""
from __future__ import annotations

import streamlit as st

from dashboard.text import md_escape
from geo.errors import ConflictError, DatabaseFault, DataValidationError, GuloError, PermissionDenied

VIEWS = ("我的待办", "受理新案件", "案件办理")
VIEW_KEY, CASE_KEY, FLASH_KEY, PENDING_KEY = "case_view", "case_code", "case_flash", "case_pending"
CASE_PARAM = "case"
"""``?case=<code>`` opens that case in the 案件办理 view."""


def open_case(code: str) -> None:
    """Show case ``code`` in the 案件办理 view from the next run on (``apply_pending`` puts it there before the
    view's widgets exist, which may not be changed once drawn)."""
    st.session_state[PENDING_KEY] = code


def apply_pending() -> None:
    """Call first on the page: a case asked for by ``open_case`` (or by ``?case=`` in the URL) becomes the shown one."""
    code = st.session_state.pop(PENDING_KEY, None) or st.query_params.pop(CASE_PARAM, None)
    if code:
        st.session_state[CASE_KEY] = code
        st.session_state[VIEW_KEY] = VIEWS[2]


def flash(text: str) -> None:
    """A success line to show once, after the rerun that a save starts."""
    st.session_state[FLASH_KEY] = text


def show_flash() -> None:
    text = st.session_state.pop(FLASH_KEY, None)
    if text:
        st.success(md_escape(text), icon=":material/check_circle:")


def show_refusal(exc: Exception) -> None:
    """A refused save in plain Chinese, saying nothing was saved (the form keeps what was typed)."""
    if isinstance(exc, DataValidationError):
        problems = [p[3] for p in exc.problems] or [str(exc)]
        st.error("未保存，请修改后重试：\n\n" + "\n".join(f"- {md_escape(p)}" for p in problems))
    elif isinstance(exc, ConflictError):
        st.error(md_escape(exc))
    elif isinstance(exc, PermissionDenied):
        st.error("未保存：" + md_escape(exc), icon=":material/lock:")
    elif isinstance(exc, DatabaseFault):
        st.error(md_escape(exc), icon=":material/database:")
    else:
        st.error("未保存：" + md_escape(exc))


REFUSALS = (GuloError,)
"""The errors a save may end in (validation, conflict, permission, database faults, an unknown case); each is
shown with ``show_refusal``; anything else is unexpected (``dashboard.faults.run_page``)."""
