"""Unexpected errors: the full traceback goes to a log under a short incident id; users see only the id.

- ``record_incident(exc, where) -> id`` logs ``exc`` with its traceback on the ``gulou.incident``
  logger (level ERROR, with the place and a UTC time stamp) and returns an id of 8 hex digits.
- ``incident_message(id, action, outcome=...)`` is the Chinese sentence to show instead of the error.
- ``log_to_file(path)`` sends that logger to a file only (made with its folder), so no traceback
  reaches a terminal; the command line uses ``incident_log_path(data_dir)``.

Where nothing configured the logger, Python's last-resort handler prints the record on stderr.
"""
from __future__ import annotations

import logging
import secrets
import tempfile
from datetime import UTC, datetime
from pathlib import Path

LOGGER_NAME = "gulou.incident"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
logger = logging.getLogger(LOGGER_NAME)


def new_incident_id() -> str:
    """A fresh incident id: 8 lower-case hex digits."""
    return secrets.token_hex(4)


def record_incident(exc: BaseException, where: str) -> str:
    """Log ``exc`` with its full traceback under a new incident id (UTC time-stamped); the id.

    ``where``: what was being done, for the log only (e.g. ``命令行 import``); it may hold paths."""
    incident = new_incident_id()
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    logger.error("事件 %s｜%s｜%s｜%s", incident, stamp, where, type(exc).__name__,
                 exc_info=(type(exc), exc, exc.__traceback__))
    return incident


def incident_message(incident_id: str, action: str, *, outcome: str = "") -> str:
    """The Chinese sentence for users: ``{action}时发生意外错误，{outcome}。请把事件编号 … 告知系统管理员。``

    ``action``: what the user did (导入, 导出 …); ``outcome``: what the caller knows was (not) saved,
    e.g. ``未写入任何数据``; left out when empty."""
    said = f"，{outcome}" if outcome else ""
    return f"{action}时发生意外错误{said}。请把事件编号 {incident_id} 告知系统管理员。"


def incident_log_path(data_dir: str | Path) -> Path:
    """The incident log under a data directory: ``<data_dir>/logs/incidents.log``."""
    return Path(data_dir) / "logs" / "incidents.log"


def log_to_file(path: str | Path) -> Path:
    """Send incident records to ``path`` only (not to the root handlers, nor to a file set before); the file used.

    Idempotent for the same file. When ``path`` cannot be written (read-only data directory), the log
    goes to ``gulou-logs/incidents.log`` in the system's temporary folder instead."""
    target = Path(path)
    try:
        handler = _file_handler(target)
    except OSError:
        target = Path(tempfile.gettempdir()) / "gulou-logs" / "incidents.log"
        handler = _file_handler(target)
    for old in [h for h in logger.handlers if getattr(h, _OURS, False) and h is not handler]:
        logger.removeHandler(old)
        old.close()
    if handler not in logger.handlers:
        logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return target


_OURS = "gulou_incident_file"


def _file_handler(path: Path) -> logging.Handler:
    """The file handler for ``path`` this module installed, else a new UTF-8 one (folders made)."""
    resolved = str(path.resolve())
    for handler in logger.handlers:
        if getattr(handler, _OURS, False) and getattr(handler, "baseFilename", None) == resolved:
            return handler
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    setattr(handler, _OURS, True)
    return handler
