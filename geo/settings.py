"""The one settings module: every key has a type, a default and a doc line.

Values come from the environment (the key in upper case, e.g. ``DATABASE_URL``) or from
``Settings.load(overrides)``. Unknown keys in overrides are rejected with the list of known keys.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from geo.errors import SettingsError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _doc(default, doc: str):
    return field(default=default, metadata={"doc": doc})


@dataclass(frozen=True)
class Settings:
    data_dir: str = _doc(str(PROJECT_ROOT / "var"), "Directory of the embedded SQLite database and other local files.")
    database_url: str = _doc("", "SQLAlchemy URL; empty means sqlite:///<data_dir>/gulou.db. PostgreSQL+PostGIS: postgresql+psycopg://…")
    sample_seed: int = _doc(20261129, "Seed of the deterministic sample district generator.")
    fill_sample: bool = _doc(True, "Fill an empty database with the sample district on first run.")
    basemap: str = _doc("none", "Default basemap: none (offline), osm, amap, tianditu, or a key of basemaps.")
    tianditu_key: str = _doc("", "Tianditu token; the Tianditu basemap is offered only when set.")
    basemaps: str = _doc(
        "", "The office's own tile services and MBTiles files: a JSON list of entries (key, name, url or mbtiles, "
            "kind, crs, subdomains, attribution, min_zoom, max_zoom, token, bases, bounds; see geo.tiles), or the "
            "absolute path of a .json file holding that list. An entry with a problem is left out and logged once.")
    asset_mode: str = _doc(
        "url", "How maps in the app get Leaflet: url (files served by the app under /app/static), data (data: links).")
    overdue_days: int = _doc(30, "An open dispute older than this many days is overdue.")
    grid_target_households: int = _doc(500, "Standard size of a grid, in households.")
    recent_days: int = _doc(30, "Length of the 'recent' period for dispute KPIs, in days.")
    session_minutes: int = _doc(480, "Lifetime of a login in minutes; after it the user must log in again.")
    login_max_failures: int = _doc(
        5, "Failed logins for one user name from one client within login_window_minutes after which that name is "
           "locked for that client (other clients can still log in under it).")
    login_client_max_failures: int = _doc(
        20, "Failed logins from one client, whatever the user names, within login_window_minutes after which that "
            "client is locked for every name (at least login_max_failures).")
    login_window_minutes: int = _doc(15, "Window in minutes in which failed logins are counted towards a lock.")
    login_lock_seconds: int = _doc(
        300, "First lock after too many failed logins, in seconds; doubles with each further failure (capped at 1 hour).")
    trusted_proxy: bool = _doc(
        False, "Whether the app sits behind a trusted reverse proxy: the client address is then the right-most "
               "X-Forwarded-For entry (which the proxy appends), else the connection's peer address.")
    anonymous_read: bool = _doc(
        True, "Whether the pages can be read without logging in (aggregates only: case details never, see "
              "geo.access.may_see_case_details; writes always need a login); false: login first.")
    page_runs: int = _doc(
        2, "Page runs one app process carries out at the same time; further sessions wait their turn (0: no limit). "
           "More than the process's share of CPU cores only makes every run slower.")
    db_busy_timeout: float = _doc(
        2.0, "How long one database statement waits for a lock another writer holds before the database reports "
             "busy, in seconds (SQLite's busy timeout, PostgreSQL's lock_timeout).")
    db_busy_retry: float = _doc(
        8.0, "Longest a save takes while the database stays busy, in seconds: its whole transaction is re-run with "
             "backoff within this time, then the user is told nothing was saved and to try again.")

    @property
    def db_url(self) -> str:
        """The effective database URL (the SQLite file in data_dir when none is set)."""
        return self.database_url or f"sqlite:///{Path(self.data_dir) / 'gulou.db'}"

    @classmethod
    def keys(cls) -> dict[str, str]:
        """Every key with its doc line."""
        return {f.name: f.metadata["doc"] for f in fields(cls)}

    @classmethod
    def load(cls, overrides: dict | None = None, environ: dict | None = None) -> Settings:
        """Defaults, then environment variables (KEY in upper case), then ``overrides``."""
        env = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = env.get(f.name.upper())
            if raw not in (None, ""):
                values[f.name] = _coerce(f.name, type(f.default), raw)
        for key, raw in (overrides or {}).items():
            if key not in cls.keys():
                raise SettingsError(f"未知的设置项“{key}”，可用：{', '.join(cls.keys())}")
            default = next(f.default for f in fields(cls) if f.name == key)
            values[key] = _coerce(key, type(default), raw)
        return replace(cls(), **values)


def _coerce(key: str, kind: type, raw):
    if isinstance(raw, kind) and not (kind is int and isinstance(raw, bool)):
        return raw
    try:
        if kind is bool:
            text = str(raw).strip().lower()
            if text not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
                raise ValueError(raw)
            return text in {"1", "true", "yes", "on"}
        return kind(raw)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"设置项“{key}”的值“{raw}”无效，应为 {kind.__name__}") from exc


def get_settings() -> Settings:
    """Settings from the current environment."""
    return Settings.load()
