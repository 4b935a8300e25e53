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
