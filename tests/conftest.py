"""Shared fixtures: database backends (SQLite always, PostGIS when TEST_DATABASE_URL is set).

In CI (.ci/run sets REQUIRE_POSTGIS=1 and REQUIRE_BROWSER=1) a missing PostGIS server or Chromium
fails the tests instead of skipping them, so they can never silently not run.
"""
from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text

from data.store import engine_for


def skip_or_fail(reason: str, required_env: str) -> None:
    """Skip with ``reason`` — or fail when the environment says this test must run."""
    if os.environ.get(required_env) == "1":
        pytest.fail(f"{reason} ({required_env}=1: this test must run here)")
    pytest.skip(reason)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def postgis_url():
    """A fresh PostGIS database (copied from the TEST_DATABASE_URL template), dropped afterwards."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        skip_or_fail("PostGIS not available: set TEST_DATABASE_URL (bash .ci/start-postgres)", "REQUIRE_POSTGIS")
    template = base.rsplit("/", 1)[1]
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    url = base.rsplit("/", 1)[0] + "/" + name
    yield url
    engine_for(url).dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgis"])
def db_url(request) -> str:
    """Each store test runs on both backends."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture(scope="module")
def filled_sample_db(tmp_path_factory) -> str:
    """A SQLite database holding the sample district (and its demo accounts), shared by a module's tests."""
    from data.store import open_store
    from geo.settings import Settings

    url = f"sqlite:///{tmp_path_factory.mktemp('sample') / 'app.db'}"
    open_store(Settings.load({"database_url": url}))
    return url


def sqlite_copy(source, folder, monkeypatch) -> str:
    """A private copy of the SQLite database ``source`` (a URL or a path) in ``folder``, made the app's
    ``DATABASE_URL`` for the test: tests that write (imports, audited exports) leave the shared one alone."""
    import sqlite3
    from pathlib import Path

    target = Path(folder) / "app.db"
    with sqlite3.connect(str(source).removeprefix("sqlite:///")) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    url = f"sqlite:///{target}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url
