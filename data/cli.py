"""Command line: ``python -m data.cli <command> …`` for the office's IT staff and scripted loads.

Commands come from the modules listed in ``COMMAND_MODULES``; each has
``register(subparsers) -> None`` that adds its sub-commands with ``set_defaults(handler=fn)``,
where ``fn(args) -> int`` is the exit code. Adding a command is adding a module to the list.
The database is the one in ``geo.settings`` (``DATABASE_URL`` or the SQLite file in ``DATA_DIR``);
``--database-url`` overrides it. Messages are Chinese; project errors exit with code 2 — a busy,
unreachable or read-only database too (``DatabaseBusy`` / ``DatabaseUnavailable`` / ``DatabaseReadOnly``:
one Chinese line with an incident id, no SQL, path or host); any other error exits with code 3 after
one Chinese line with an incident id on stderr. While a command runs, incident records (tracebacks)
go to ``<data_dir>/logs/incidents.log`` only, never to the terminal (see ``data.incidents``).
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from data.incidents import LOGGER_NAME, incident_log_path, incident_message, log_to_file, record_incident
from geo.errors import DatabaseFault, GuloError
from geo.settings import Settings

COMMAND_MODULES: tuple[str, ...] = ("data.cli_transfer", "data.account_cli", "data.check_cli", "data.reference_cli",
                                    "data.pack_cli")
"""Modules whose ``register(subparsers)`` adds commands."""
INCIDENT_ACTIONS: dict[str, tuple[str, str]] = {
    "import": ("导入", "未写入任何数据"),  # the import writes in one transaction: an error rolls it back
    "export": ("导出", ""),
    "template": ("生成模板", ""),
    "accounts": ("账号管理", ""),
    "check": ("检查数据库", ""),
    "pack": ("导出 GIS 数据包", ""),
    "reference": ("管理参考图层", "参考图层未改动"),  # import and clear write in one transaction
}
"""Command -> (what the user did, what is known to be saved) for the message of an unexpected error."""


def build_parser() -> argparse.ArgumentParser:
    """The parser with every registered command."""
    parser = argparse.ArgumentParser(prog="python -m data.cli", description="鼓楼区社区治理态势图：数据导入、导出与管理")
    parser.add_argument("--database-url", default=None, help="数据库地址（默认取 DATABASE_URL 或 data_dir 下的 SQLite 文件）")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="命令")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; its exit code, 2 for a project error (Chinese on stderr), 3 for any other error.

    An unexpected error prints only a Chinese line with an incident id; its traceback goes to the
    incident log under the data directory. KeyboardInterrupt is not caught."""
    args = build_parser().parse_args(argv)
    with _incidents_to_file():
        try:
            return int(args.handler(args) or 0)
        except DatabaseFault as exc:  # already logged with its incident id; the command does not retry
            print(f"错误：{exc.text(retrying=False)}", file=sys.stderr)
            return 2
        except GuloError as exc:
            print(f"错误：{exc}", file=sys.stderr)
            return 2
        except Exception as exc:  # the last resort: logged with its traceback, the user gets an incident id
            return _unexpected(exc, args.command)


def _data_dir() -> str:
    try:
        return Settings.load().data_dir
    except GuloError:  # a bad setting in the environment must not hide an incident
        return Settings().data_dir


@contextmanager
def _incidents_to_file() -> Iterator[None]:
    """While a command runs, incident records go to the incident log under the data directory only (no
    traceback on the terminal); the logger is as it was afterwards."""
    logger = logging.getLogger(LOGGER_NAME)
    handlers, propagate, level = list(logger.handlers), logger.propagate, logger.level
    log_to_file(incident_log_path(_data_dir()))
    try:
        yield
    finally:
        for handler in [h for h in logger.handlers if h not in handlers]:
            logger.removeHandler(handler)
            handler.close()
        for handler in [h for h in handlers if h not in logger.handlers]:
            logger.addHandler(handler)
        logger.propagate, logger.level = propagate, level


def _unexpected(exc: Exception, command: str) -> int:
    """Log ``exc`` to the incident log and print the Chinese notice with its id; exit code 3."""
    log_to_file(incident_log_path(_data_dir()))
    incident = record_incident(exc, f"命令行 {command}")
    action, outcome = INCIDENT_ACTIONS.get(command, (f"执行命令“{command}”", ""))
    print(f"错误：{incident_message(incident, action, outcome=outcome)}", file=sys.stderr)
    return 3


if __name__ == "__main__":
    sys.exit(main())
