"""The project's exceptions: each carries a title and a message an engineer can act on.

The UI shows `title` and `str(exc)`; it never shows a traceback.
"""

from __future__ import annotations


class VwtuiError(Exception):
    """Base of every error vwtui reports to its user."""

    title = "Error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(VwtuiError):
    title = "Configuration error"


class AwsError(VwtuiError):
    """An AWS call failed for a reason not covered below."""

    title = "AWS error"

    def __init__(self, message: str, *, code: str | None = None, operation: str | None = None):
        super().__init__(message)
        self.code = code
        self.operation = operation


class AccessDenied(AwsError):
    title = "Access denied"


class CredentialsError(AwsError):
    title = "AWS credentials"


class InvalidParameter(AwsError):
    title = "Invalid parameter"


class NotFound(AwsError):
    title = "Not found"


class AwsUnavailable(AwsError):
    title = "AWS unreachable"


class GuardrailError(VwtuiError):
    """A mutating call refused before it reached AWS (read-only session, protected instance)."""

    title = "Refused"


class DatabaseError(VwtuiError):
    title = "PostgreSQL error"


class DatabaseUnavailable(DatabaseError):
    title = "PostgreSQL unreachable"


class UnsafePathError(VwtuiError):
    """A file or directory vwtui was to write is not safe to write: a symbolic link, another
    user's, not a regular file, or in a directory anyone may write to (see vwtui.safefile)."""

    title = "Unsafe file"
