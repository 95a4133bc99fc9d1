"""AWS errors in the project's words: `translate` turns a botocore exception into the
`vwtui.errors` exception whose message says what to do (the code tables say which is which).

botocore is imported inside `translate`, when an error is first translated, so importing this
module loads no AWS library.
"""

from __future__ import annotations

from vwtui.errors import (
    AccessDenied,
    AwsError,
    AwsUnavailable,
    CredentialsError,
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


def translate(exc: BaseException, service: str, operation: str) -> AwsError:
    """Turn a botocore exception into a project exception whose message says what to do."""
    from botocore.exceptions import (
        ClientError,
        ConnectionClosedError,
        ConnectionError,
        CredentialRetrievalError,
        EndpointConnectionError,
        InvalidConfigError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
        ReadTimeoutError,
        SSOTokenLoadError,
        TokenRetrievalError,
        UnauthorizedSSOTokenError,
    )

    action = f"{_IAM_SERVICE.get(service, service)}:{operation}"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        message = str(error.get("Message", "")).strip()
        if code in _DENIED_CODES:
            return AccessDenied(
                f"{action} was denied for this identity. Grant {action} to the role or user "
                f"vwtui runs as, or switch profile (--profile).",
                code=code, operation=operation)
        if code in _CREDENTIAL_CODES:
            return CredentialsError(
                f"AWS credentials were refused ({code}) calling {action}: they have expired or "
                f"are wrong. Log in again (aws sso login, or refresh the keys) and retry.",
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
        return InvalidParameter(
            "No AWS region set. Set aws.region in the config or pass --region.",
            operation=operation)
    if isinstance(exc, EndpointConnectionError):
        return AwsUnavailable(
            f"Cannot reach the {service} endpoint ({exc.kwargs.get('endpoint_url', '?')}). "
            f"Check the network from this host and the region.", operation=operation)
    if isinstance(exc, (ConnectionError, ReadTimeoutError, ConnectionClosedError)):
        return AwsUnavailable(
            f"{action}: the connection to AWS failed or timed out ({type(exc).__name__}). "
            f"Check the network (and any proxy) from this host, then try again.",
            operation=operation)
    return AwsError(f"{action} failed: {type(exc).__name__}: {exc}", operation=operation)
