"""操作日志 view: the audit log with filters, readable before/after, and an Excel export.

Who sees what: the district role (区级管理员) browses and exports the whole log (issue 10); every other
logged-in account sees only its own entries; logged out, nothing.
"""
from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from dashboard.context import PageContext, engine
from dashboard.tables import show_table
from dashboard.text import md_escape
from data.audit_query import ACTION_LABELS, TABLE_LABELS, AuditFilter, audit_choices, query_audit, readable_audit
from data.export import to_xlsx
from geo.access import Account
from geo.lifecycle import district_today
from geo.vocab import Role

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LIMITS = (200, 1000, 5000)


def _filters(choices: dict[str, list[str]], admin: bool) -> AuditFilter:
    """The filter widgets: action, table, account (administrators), Beijing date range, row limit."""
    c1, c2, c3 = st.columns(3)
    actions = c1.multiselect("操作", choices["actions"], key="aud_actions", placeholder="全部",
                             format_func=lambda a: ACTION_LABELS.get(a, a))
    tables = c2.multiselect("数据表", choices["tables"], key="aud_tables", placeholder="全部",
                            format_func=lambda t: TABLE_LABELS.get(t, t))
    actors = c3.multiselect("账号", choices["actors"], key="aud_actors", placeholder="全部") if admin else []
    d1, d2 = st.columns([2, 1])
    today = district_today()
    span = d1.date_input("日期（北京时间）", (today - timedelta(days=30), today), key="aud_dates",
                         max_value=today + timedelta(days=1), format="YYYY-MM-DD")
    limit = d2.selectbox("最多显示", LIMITS, key="aud_limit", format_func=lambda n: f"{n} 条")
    since, until = _span(span)
    return AuditFilter(tuple(actions), tuple(tables), tuple(actors), since, until, limit)


def _span(value) -> tuple[date | None, date | None]:
    """A date_input value (one date while the user is still choosing, or a pair) as (since, until)."""
    days = list(value) if isinstance(value, tuple | list) else [value]
    days = [d for d in days if d is not None]
    return (days[0], days[-1]) if days else (None, None)


def audit_view(ctx: PageContext, account: Account | None) -> None:
    """The log for the district role; an account's own entries for the others; a notice when logged out."""
    if account is None:
        st.info("请先在左侧边栏登录。区级管理员可查看和导出全部操作日志；其他账号只能查看本人的操作记录。",
                icon=":material/lock:")
        return
    admin = account.role is Role.DISTRICT
    if not admin:
        st.caption(f"您是{account.role.label}：这里只列出账号“{md_escape(account.username)}”本人的操作记录；"
                   f"完整的操作日志由{Role.DISTRICT.label}查看和导出。")
    eng = engine(ctx)
    flt = _filters(audit_choices(eng, None if admin else account.username), admin)
    if not admin:
        flt = AuditFilter(flt.actions, flt.tables, (account.username,), flt.since, flt.until, flt.limit)
    table = readable_audit(query_audit(eng, flt))
    st.caption(f"共 {len(table)} 条（最新的在前；时间为北京时间；密码从不记录）")
    show_table(table, "没有符合筛选条件的操作记录。", hide_index=True, width="stretch",
               height=min(38 + 35 * max(len(table), 1), 640), key="aud_table",
               column_config={"变更内容": st.column_config.TextColumn(width="large")})
    st.download_button("导出 Excel", lambda: to_xlsx({"操作日志": table}), file_name=f"操作日志_{district_today()}.xlsx",
                       mime=XLSX_MIME, key="aud_export", icon=":material/download:", on_click="ignore",
                       disabled=table.empty)
