"""What a page shows when something fails: a Chinese sentence with an incident id, never a traceback.

``run_page(page)`` runs the navigation's page and turns every failure into a notice:

- database unavailable: a full-page 「数据库暂时无法连接，正在重试…」 that checks the database every few
  seconds by itself and reloads the page's data when it answers again (no browser reload needed);
- database busy: 「数据库正忙，您的修改尚未保存，请稍后重试」 (a form's values stay where they were);
- database read-only or full: a notice for the administrator;
- a project error: its Chinese message; anything else: 「…时发生意外错误…事件编号…」, the details in the
  server log. The database notices carry the incident id the data layer logged once.

``stale_version(url, read)`` keeps the pages readable while the database is away: the data version
last read is reused, so views already in the process's caches still draw, marked as possibly stale.
"""
from __future__ import annotations

import time
from datetime import UTC, datetime

import streamlit as st

from dashboard.admission import page_run_slot
from dashboard.text import md_escape
from data.incidents import incident_message, record_incident
from geo.errors import DatabaseBusy, DatabaseReadOnly, DatabaseUnavailable, GuloError
from geo.settings import get_settings

RETRY_SECONDS = 5
"""How often the unavailable notice checks whether the database answers again."""
_LAST_VERSION: dict[str, tuple[int, float]] = {}
"""Database URL -> (data version last read, when): what a page falls back on while the database is away."""


def run_page(page) -> None:
    """``page.run()`` with every failure shown as a Chinese notice (see the module doc)."""
    try:
        with page_run_slot(get_settings().page_runs):
            page.run()
    except DatabaseUnavailable as exc:
        unavailable_notice(exc)
    except (DatabaseBusy, DatabaseReadOnly) as exc:
        st.error(md_escape(exc), icon=":material/database:")
    except GuloError as exc:
        st.error(md_escape(exc), icon=":material/error:")
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback reaches a user
        st.error(incident_message(record_incident(exc, f"页面 {getattr(page, 'title', '')}"), "打开页面",
                                  outcome="未保存任何修改"), icon=":material/error:")


def unavailable_notice(exc: DatabaseUnavailable, probe=None) -> None:
    """The full-page notice while the database cannot be reached; it retries by itself every RETRY_SECONDS
    and reruns the whole page once ``probe()`` (default: the configured database answers) succeeds."""
    st.title("数据库暂时无法连接，正在重试…")
    st.error(md_escape(exc), icon=":material/cloud_off:")
    st.caption("无需刷新浏览器：数据库恢复后本页会自动重新载入。已保存的数据不受影响；未提交的修改请在恢复后重新提交。")
    _retry(probe or _database_answers)


def _retry(probe) -> None:
    @st.fragment(run_every=RETRY_SECONDS)
    def check() -> None:
        if probe():
            st.rerun(scope="app")
        st.caption(f"上次检查：{datetime.now(UTC).astimezone().strftime('%H:%M:%S')}，数据库仍无法连接。")

    check()


def _database_answers() -> bool:
    """Whether the configured database answers a trivial query now."""
    from dashboard.context import engine_for_settings

    try:
        with engine_for_settings().connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        return True
    except Exception:  # noqa: BLE001 - any failure means "not yet"
        return False


def stale_version(url: str, read) -> tuple[int, float | None]:
    """(data version, None) from ``read()``; while the database is unavailable, the version last read and
    the time it was read (the views cached for it still draw). DatabaseUnavailable when none was read yet."""
    try:
        version = read()
    except DatabaseUnavailable:
        held = _LAST_VERSION.get(url)
        if held is None:
            raise
        return held[0], held[1]
    _LAST_VERSION[url] = (version, time.time())
    return version, None


def stale_banner(since: float) -> None:
    """The line over a page drawn from memory while the database is away."""
    at = datetime.fromtimestamp(since, UTC).astimezone().strftime("%H:%M")
    st.warning(f"数据库暂时无法连接：以下为 {at} 时读取的数据，可能不是最新；修改和导入暂不可用，恢复后自动更新。",
               icon=":material/cloud_off:")
