"""数据库状态 for the district role: the same three checks as ``python -m data.cli check``."""
from __future__ import annotations

import streamlit as st

from dashboard.context import PageContext, engine
from dashboard.text import md_escape
from data.health import all_ok, database_status
from geo.access import Account
from geo.vocab import Role


def status_panel(ctx: PageContext, account: Account | None) -> None:
    """For a district account: whether the database answers, is migrated and is writable (checked on opening)."""
    if account is None or account.role is not Role.DISTRICT:
        return
    checks = database_status(engine(ctx))
    title = "数据库状态：正常" if all_ok(checks) else "数据库状态：有异常"
    with st.expander(title, expanded=not all_ok(checks), icon=":material/database:"):
        for check in checks:
            (st.success if check.ok else st.error)(md_escape(check.line))
        st.caption("与命令行 python -m data\\.cli check 相同的检查；试写会回滚，不改动数据。")
