"""Project exceptions. All are ValueError subclasses so callers may catch them narrowly.

Messages are written in plain Chinese: pages show them to users as they are.
"""
from __future__ import annotations


class GuloError(ValueError):
    """Base class of every error this project raises on purpose."""


class SettingsError(GuloError):
    """A setting is unknown or has a value of the wrong kind."""


class CRSError(GuloError):
    """A GeoDataFrame has no CRS, or not the one a function needs."""


class ScopeError(GuloError):
    """A scope names a unit that does not exist or does not fit the hierarchy."""


class DataValidationError(GuloError):
    """Input data failed validation; ``problems`` lists (row, field, value, reason)."""

    def __init__(self, message: str, problems: list[tuple] | None = None):
        super().__init__(message)
        self.problems = problems or []


class ConflictError(GuloError):
    """A write was refused because the record changed since it was read (optimistic locking)."""


class PermissionDenied(GuloError):
    """The acting account may not do this: logged out, deactivated, or outside its scope or role."""


class AuthenticationError(GuloError):
    """A login was refused: unknown user or wrong password (one message for both), or locked for a while.

    ``locked_until`` is the UTC time the account opens again when the refusal is a lock, else None."""

    def __init__(self, message: str, locked_until=None):
        super().__init__(message)
        self.locked_until = locked_until


class DatabaseFault(GuloError):
    """The database could not do what was asked; the page or command says so in Chinese, no traceback.

    Raised by ``data.faults`` (never by hand) after it logged the driver error once on the
    ``gulou.incident`` logger. Attributes:

    - ``incident_id``: 8 hex digits; the log line that holds the original error carries the same id.
    - ``writing``: whether the user asked to save something; then the message says it was not saved.
    - ``outcome_unknown``: the connection broke while the save was being committed, so whether it was
      saved cannot be told (the message asks the user to reload and look before trying again).
    - ``retryable``: whether trying again later may help (busy, unavailable) or only an administrator
      can (read-only, disk full).

    ``str(exc)`` is the message to show; ``exc.text(retrying=False)`` is the one for a caller that will
    not retry by itself (the command line). No message names SQL, a path, a host or a port.
    """

    retryable = True

    def __init__(self, incident_id: str, *, writing: bool = False, outcome_unknown: bool = False):
        self.incident_id = incident_id
        self.writing = writing
        self.outcome_unknown = outcome_unknown
        super().__init__(self.text())

    def what(self, retrying: bool) -> str:
        """What happened and what to do, without the incident id."""
        raise NotImplementedError

    def text(self, retrying: bool = True) -> str:
        """The Chinese message with its incident id; ``retrying``: the caller tries again by itself (a page)."""
        return f"{self.what(retrying)}（事件编号 {self.incident_id}）"


class DatabaseBusy(DatabaseFault):
    """Another writer held the database longer than the save's retry budget (``db_busy_retry``); nothing saved."""

    def what(self, retrying: bool) -> str:
        return "数据库正忙，您的修改尚未保存，请稍后重试" if self.writing else "数据库正忙，请稍后重试"


class DatabaseUnavailable(DatabaseFault):
    """The database server (or file) cannot be reached: refused, shut down, connection lost."""

    def what(self, retrying: bool) -> str:
        if self.writing and self.outcome_unknown:
            return "保存时与数据库的连接中断，无法确认修改是否已保存，请稍后刷新页面核对后再操作"
        if self.writing:
            return "数据库暂时无法连接，您的修改尚未保存，请稍后重试"
        return "数据库暂时无法连接，正在重试…" if retrying else "数据库暂时无法连接，请稍后重试"


class DatabaseReadOnly(DatabaseFault):
    """The database refuses writes (read-only file or server, no permission, I/O error) or its disk is full.

    Trying again does not help: an administrator must act. ``disk_full`` tells the two apart (log and
    monitors); the message names both."""

    retryable = False

    def __init__(self, incident_id: str, *, writing: bool = False, outcome_unknown: bool = False,
                 disk_full: bool = False):
        self.disk_full = disk_full
        super().__init__(incident_id, writing=writing, outcome_unknown=outcome_unknown)

    def what(self, retrying: bool) -> str:
        if self.writing:
            return "数据库当前只读（或磁盘已满），无法保存；请联系系统管理员"
        return "数据库当前只读、无访问权限或磁盘已满，无法完成操作；请联系系统管理员"
