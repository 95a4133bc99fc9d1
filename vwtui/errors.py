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


class SessionError(AwsError):
    """The session cannot reach AWS at all, whatever the call: every call fails the same way,
    so the UI says it once (a banner, one line on stderr), not once per pane or item.

    The message names what to fix: the endpoint, the region or the profile.
    """

    title = "AWS unreachable"


class CredentialsError(SessionError):
    """No credentials, an unknown profile, or credentials AWS refuses (expired, wrong)."""

    title = "AWS credentials"


class EndpointUnreachable(SessionError):
    """The endpoint cannot be reached (refused, name not resolved, timed out, no region), or
    what answers is not AWS (a web page, a proxy's or captive portal's reply)."""

    title = "AWS unreachable"


class InvalidParameter(AwsError):
    title = "Invalid parameter"


class NotFound(AwsError):
    title = "Not found"


class AwsUnavailable(AwsError):
    """AWS answered but asked to slow down, failed inside, or one call timed out: worth a retry
    of that call; the session itself is fine."""

    title = "AWS unavailable"


class AwsSettingError(SessionError, ConfigError):
    """aws.region or aws.endpoint_url (or --region) is not even well formed: a config error,
    and one every AWS call of the session shares."""

    title = "Configuration error"


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
