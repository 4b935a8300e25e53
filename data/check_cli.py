"""CLI command ``check``: is the database answering, migrated to the newest revision, and writable?

    python -m data.cli check           # one line per check, exit 0 when all pass, 1 otherwise
    python -m data.cli check --json    # the same for monitors: {"ok": …, "checks": [{key, label, ok, detail}]}

The check changes nothing: it never migrates, never creates a SQLite file, and rolls its test write
back (see ``data.health``). Its output names no host, port, path or password, so it can go into a
service manager's journal or a monitoring system as it is.
"""
from __future__ import annotations

import argparse
import json

from data.health import all_ok, database_status
from data.store import engine_for
from geo.settings import Settings


def register(subparsers) -> None:
    """Add ``check``."""
    p = subparsers.add_parser("check", help="检查数据库：能否连接、是否已迁移到最新版本、是否可写（退出码 0 为正常）")
    p.add_argument("--json", action="store_true", help="以 JSON 输出（供监控程序使用）")
    p.set_defaults(handler=run_check)


def run_check(args: argparse.Namespace) -> int:
    """Print the checks (lines or JSON); 0 when every one passed, else 1."""
    engine = engine_for(args.database_url or Settings.load().db_url)
    checks = database_status(engine)
    ok = all_ok(checks)
    if args.json:
        print(json.dumps({"ok": ok, "checks": [c.as_dict() for c in checks]}, ensure_ascii=False))
    else:
        for check in checks:
            print(check.line)
    return 0 if ok else 1
