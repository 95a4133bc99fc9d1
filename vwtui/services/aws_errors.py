"""AWS errors in the project's words: `translate` turns a botocore exception into the
`vwtui.errors` exception whose message says what to do (the code tables say which is which).

Failures that every call of the session shares (no credentials, an unknown profile, refused
credentials, an endpoint or region that cannot be reached, an answer that is not AWS's) become
a `SessionError` whose sentence names the endpoint, region or profile and does not name the
call, so the screens can say it once for all their panes.

botocore is imported inside `translate`, when an error is first translated, so importing this
module loads no AWS library.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from vwtui.errors import (
    AccessDenied,
    AwsError,
    AwsUnavailable,
    CredentialsError,
    EndpointUnreachable,
    InvalidParameter,
    NotFound,
)

_NOT_FOUND_CODES = {
    "DBInstanceNotFound",
    "DBInstanceNotFoundFault",
    "DBSnapshotNotFound",
    "DBSnapshotNotFoundFault",
    "ResourceNotFoundException",
    "NoSuchHostedZone",
    "DBInstanceAutomatedBackupNotFound",
    "DBInstanceAutomatedBackupNotFoundFault",
}
_DENIED_CODES = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
                 "AuthorizationError"}
# UnrecognizedClientException: the JSON services' word for a token they do not know.
_CREDENTIAL_CODES = {"ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId",
                     "SignatureDoesNotMatch", "RequestExpired", "InvalidAccessKeyId",
                     "UnrecognizedClientException"}
# Transient: AWS asks to slow down, or is briefly unavailable.
_UNAVAILABLE_CODES = {"Throttling", "ThrottlingException", "Throttled", "ThrottledException",
                      "TooManyRequestsException", "RequestLimitExceeded", "RequestThrottled",
                      "ServiceUnavailable", "ServiceUnavailableException", "InternalFailure",
                      "InternalError", "InternalServerError", "InternalServiceError"}
_INVALID_CODES = {"InvalidParameterValue", "InvalidParameterCombination", "InvalidParameter",
                  "InvalidParameterValueException", "InvalidParameterException", "ValidationError",
                  "ValidationException", "InvalidRestoreFault", "InvalidRestoreTime",
                  "MissingParameter", "InvalidDBInstanceState", "InvalidDBInstanceStateFault",
                  "DBInstanceAlreadyExists", "DBInstanceAlreadyExistsFault",
                  "InvalidRequestException"}

# The IAM action of each boto3 operation we call, for AccessDenied messages.
_IAM_SERVICE = {"rds": "rds", "backup": "backup", "cloudwatch": "cloudwatch", "sts": "sts",
                "route53": "route53", "sns": "sns", "events": "events"}


@dataclass(frozen=True, slots=True)
class Place:
    """Where the session talks to: what a session error names so the engineer can fix it."""

    region: str | None = None
    endpoint_url: str | None = None  # aws.endpoint_url or AWS_ENDPOINT_URL; None: AWS itself
    profile: str | None = None

    def where(self) -> str:
        """'the AWS endpoint URL (aws.endpoint_url or AWS_ENDPOINT_URL)' or 'AWS in region R'."""
        if self.endpoint_url:
            return f"the AWS endpoint {self.endpoint_url} (aws.endpoint_url or AWS_ENDPOINT_URL)"
        return f"AWS in region {self.region}" if self.region else "AWS"

    def fix(self) -> str:
        """What to check when that place cannot be reached or does not answer as AWS."""
        if self.endpoint_url:
            return ("check the address and that the endpoint is up, or remove aws.endpoint_url "
                    "to talk to AWS itself")
        return ("check the region (aws.region or --region) and this host's network, DNS and "
                "proxy (HTTPS_PROXY, NO_PROXY)")

    def identity(self) -> str:
        return f"the credentials of profile {self.profile!r}" if self.profile else \
            "the credentials"


# What an answer that is not AWS's looks like: a web page (a proxy's or a captive portal's, or
# a web server where the endpoint was meant to be). AWS APIs answer XML, JSON or CBOR, never
# HTML, whatever the status.
_HTML = re.compile(rb"\s*(<!doctype\s+html|<html[\s>])", re.IGNORECASE)


def looks_like_html(body: bytes) -> bool:
    """Whether a response body is a web page rather than an AWS API answer."""
    return bool(_HTML.match(body[:512]))


class NotAwsAnswer(Exception):
    """Raised from botocore's before-parse hook (`AwsService`) when the body is a web page, so
    botocore neither parses it as an empty success nor retries it."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status} with a web page")
        self.status = status


def not_aws(place: Place, what: str = "a web page") -> EndpointUnreachable:
    """The session error for an endpoint that answers, but not as AWS does."""
    return EndpointUnreachable(
        f"{_upper_first(place.where())} answered with {what}, not an AWS API response: "
        f"{place.fix()}.")


def translate(exc: BaseException, service: str, operation: str, *,
              place: Place | None = None) -> AwsError:
    """Turn a botocore exception into a project exception whose message says what to do.

    `place` (region, endpoint, profile) is named by the errors the whole session shares.
    """
    from botocore.exceptions import (
        ClientError,
        ConnectionClosedError,
        ConnectionError,
        ConnectTimeoutError,
        CredentialRetrievalError,
        EndpointConnectionError,
        InvalidConfigError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
        ProfileNotFound,
        ProxyConnectionError,
        ReadTimeoutError,
        SSOTokenLoadError,
        TokenRetrievalError,
        UnauthorizedSSOTokenError,
    )
    from botocore.parsers import ResponseParserError

    place = place or Place()
    action = f"{_IAM_SERVICE.get(service, service)}:{operation}"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        message = str(error.get("Message", "")).strip()
        if code.isdigit():
            # botocore names the error by its HTTP status when the body carries no AWS error
            # code: whatever answered is not AWS (AWS always says which error it is).
            what = "a web page" if looks_like_html(message.encode()) else \
                f"HTTP {code} and no AWS error code"
            return not_aws(place, what)
        if code in _DENIED_CODES:
            return AccessDenied(
                f"{action} was denied for this identity. Grant {action} to the role or user "
                f"vwtui runs as, or switch profile (--profile).",
                code=code, operation=operation)
        if code in _CREDENTIAL_CODES:
            return CredentialsError(
                f"AWS refused {place.identity()} ({code}): they have expired or are wrong. "
                f"Log in again (aws sso login, or refresh the keys) and retry.",
                code=code, operation=operation)
        if code in _NOT_FOUND_CODES or code.endswith("NotFound") or code.endswith("NotFoundFault"):
            return NotFound(f"{operation}: {message or code}", code=code, operation=operation)
        if code in _INVALID_CODES:
            return InvalidParameter(
                f"{operation} refused a parameter: {message or code}", code=code,
                operation=operation)
        if code in _UNAVAILABLE_CODES:
            return AwsUnavailable(
                f"{action} kept failing ({code}) after retries; try again in a minute.",
                code=code, operation=operation)
        return AwsError(f"{action} failed: {code}: {message}", code=code, operation=operation)
    if isinstance(exc, NotAwsAnswer):
        return not_aws(place)
    if isinstance(exc, ResponseParserError):
        return not_aws(place, "a reply that is not XML, JSON or CBOR")
    if isinstance(exc, ProfileNotFound):
        profile = exc.kwargs.get("profile", place.profile)
        return CredentialsError(
            f"AWS profile {profile!r} is not in ~/.aws/config or ~/.aws/credentials "
            f"(AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE). Pass an existing --profile or run "
            f"aws configure sso.", operation=operation)
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return CredentialsError(
            "No AWS credentials found. Set AWS_PROFILE or pass --profile, run aws sso login, "
            "or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.", operation=operation)
    if isinstance(exc, (TokenRetrievalError, UnauthorizedSSOTokenError, SSOTokenLoadError)):
        return CredentialsError(
            "The AWS SSO session has expired or was never started. Run aws sso login for this "
            "profile and retry.", operation=operation)
    if isinstance(exc, CredentialRetrievalError):
        return CredentialsError(
            f"The profile's credential source failed: {exc}. Fix credential_process (or the "
            f"source profile) in ~/.aws/config, or use another --profile.", operation=operation)
    if isinstance(exc, InvalidConfigError):
        return CredentialsError(f"The AWS config is invalid: {exc}. Fix ~/.aws/config.",
                                operation=operation)
    if isinstance(exc, NoRegionError):
        return EndpointUnreachable(
            "No AWS region set. Set aws.region in the config or pass --region.",
            operation=operation)
    if isinstance(exc, ProxyConnectionError):
        return EndpointUnreachable(
            f"Cannot reach the proxy {exc.kwargs.get('proxy_url', '?')} that HTTPS_PROXY names: "
            f"check it is up, or unset HTTPS_PROXY (or add the endpoint to NO_PROXY).",
            operation=operation)
    if isinstance(exc, (EndpointConnectionError, ConnectTimeoutError)):
        return EndpointUnreachable(
            f"Cannot reach {place.where()}: {_why_unreachable(exc, service, place)}; "
            f"{place.fix()}.", operation=operation)
    if isinstance(exc, (ConnectionError, ReadTimeoutError, ConnectionClosedError)):
        return AwsUnavailable(
            f"{action}: the connection to AWS failed or timed out ({type(exc).__name__}). "
            f"Check the network (and any proxy) from this host, then try again.",
            operation=operation)
    return AwsError(f"{action} failed: {type(exc).__name__}: {exc}", operation=operation)


def _why_unreachable(exc: BaseException, service: str, place: Place) -> str:
    """Refused, not resolved or timed out, in words that are the same for every service (so
    the sentence is the same whichever call met it first)."""
    from botocore.exceptions import ConnectTimeoutError

    if isinstance(exc, ConnectTimeoutError):
        return "the connection timed out"
    cause = str(getattr(exc, "kwargs", {}).get("error", "")).lower()
    if "refused" in cause:
        return "the connection was refused"
    if "resolve" in cause or "name or service not known" in cause or "getaddrinfo" in cause:
        if not place.endpoint_url and place.region and not _known_region(service, place.region):
            return (f"{place.region!r} is not a region botocore knows and its endpoints' names "
                    f"do not resolve")
        return "its name does not resolve"
    return "the connection failed"


@functools.cache
def _known_region(service: str, region: str) -> bool:
    """Whether botocore's endpoint data lists `region` (in any partition) for `service`."""
    import botocore.session

    session = botocore.session.get_session()
    return any(region in session.get_available_regions(service, partition_name=partition)
               for partition in session.get_available_partitions())


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]
