"""Test helper for databases holding the sample district: its demo accounts must change their published
password at the first login (``data.accounts.ensure_demo_accounts``). Tests about other things log in with
the published passwords, so they mark that change as done — explicitly, here, and only in test databases.
The forced change itself is tested in tests/test_login_page.py and tests/test_browser.py."""
from __future__ import annotations

from sqlalchemy import update

from data import schema
from data.accounts import DEMO_ACCOUNTS
from data.store import engine_for

DEMO_PASSWORDS = {a[0]: a[-1] for a in DEMO_ACCOUNTS}
"""User name -> published password of each demo account."""


def clear_forced_change(db_url: str, usernames: list[str] | None = None) -> None:
    """Let the demo accounts ``usernames`` (default: all) of the database at ``db_url`` in without the forced
    password change; they stay marked as demo accounts (the app still warns about them)."""
    t = schema.accounts
    stmt = update(t).where(t.c.is_demo.is_(True))
    if usernames is not None:
        stmt = stmt.where(t.c.username.in_(usernames))
    with engine_for(db_url).begin() as conn:
        conn.execute(stmt.values(must_change_password=False))
