"""Command line: ``python -m data.cli <command> …`` for the office's IT staff and scripted loads.

Commands come from the modules listed in ``COMMAND_MODULES``; each has
``register(subparsers) -> None`` that adds its sub-commands with ``set_defaults(handler=fn)``,
where ``fn(args) -> int`` is the exit code. Adding a command is adding a module to the list.
The database is the one in ``geo.settings`` (``DATABASE_URL`` or the SQLite file in ``DATA_DIR``);
``--database-url`` overrides it. Messages are Chinese; project errors exit with code 2.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from geo.errors import GuloError

COMMAND_MODULES: tuple[str, ...] = ("data.cli_transfer", "data.account_cli")
"""Modules whose ``register(subparsers)`` adds commands."""


def build_parser() -> argparse.ArgumentParser:
    """The parser with every registered command."""
    parser = argparse.ArgumentParser(prog="python -m data.cli", description="鼓楼区社区治理态势图：数据导入、导出与管理")
    parser.add_argument("--database-url", default=None, help="数据库地址（默认取 DATABASE_URL 或 data_dir 下的 SQLite 文件）")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="命令")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns its exit code (2 for a project error, shown in Chinese on stderr)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except GuloError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
