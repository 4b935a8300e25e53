"""What every editor form shows around its fields: whether the account may edit here, and the record's history."""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from dashboard.text import md_escape, md_format
from geo.access import Account, can_write
from geo.errors import ConflictError, DatabaseFault, DataValidationError, PermissionDenied


def may_edit(account: Account | None, unit_code: str, login_for: str, noun: str) -> bool:
    """Whether to offer the form for a record of unit ``unit_code``; says why not (the store checks again on
    save). ``login_for``: what logging in allows (e.g. "修改小区信息"); ``noun``: the record's kind."""
    if account is None:
        st.info(f"登录后才能{login_for}；每次修改都以登录账号记入审计日志。")
        return False
    if not can_write(account, unit_code):
        st.warning(md_format("账号“{}”（{}）只能修改{}范围内的" + noun + "，此" + noun + "不在其中。", account.username,
                             account.role.label, account.where))
        return False
    return True


def history_table(history: pd.DataFrame) -> None:
    """A record's audit entries (``at``, ``actor``, ``summary``) as a table in Beijing time; nothing when none."""
    if not len(history):
        return
    st.markdown(f"**修改记录（{len(history)} 条）**")
    st.dataframe(pd.DataFrame({"时间": pd.to_datetime(history["at"], utc=True).dt.tz_convert("Asia/Shanghai")
                               .dt.strftime("%Y-%m-%d %H:%M"),
                               "操作人": history["actor"], "修改内容": history["summary"]}),
                 hide_index=True, width="stretch")


def saved(write: Callable[[int | None], dict], version_key: str | None) -> dict | None:
    """Run ``write(expected version)`` (the version kept under ``version_key``; None for a new record) and return
    the saved record; when nothing was saved, say why in Chinese and return None. A conflict offers to reload
    the record (dropping the kept version); a database fault leaves the form as typed."""
    try:
        return write(None if version_key is None else st.session_state[version_key])
    except DatabaseFault as exc:  # busy / unavailable / read-only: nothing saved
        st.error(md_escape(exc), icon=":material/database:")
    except PermissionDenied as exc:
        st.error(md_escape(exc))
    except ConflictError as exc:
        st.error(md_escape(exc))
        st.button("载入最新数据", key=f"reload_{version_key}", on_click=st.session_state.pop, args=(version_key, None))
    except DataValidationError as exc:
        lines = [p[-1] if isinstance(p, tuple) else p for p in exc.problems] or [str(exc)]
        st.error("未保存：\n\n" + "\n".join(f"- {md_escape(line)}" for line in lines))
    return None

