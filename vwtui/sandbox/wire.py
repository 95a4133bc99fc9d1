"""The AWS wire protocols, as far as the sandbox shim needs them.

A request is read once from the WSGI environ into `WireRequest`: which service it is for (from
the SigV4 credential scope in the Authorization header, as moto's own dispatcher does), which
API operation (X-Amz-Target, the query `Action`, the RPC v2 CBOR path, or a REST route from
botocore's service model), and its parameters. Responses and errors are written back in the
protocol the request came in, so botocore parses them exactly as it parses real AWS.
"""

from __future__ import annotations

import base64
import io
import json
import re
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

# SigV4 signing names that differ from botocore's service names (and from IAM prefixes).
_SERVICE_BY_SIGNING_NAME = {"monitoring": "cloudwatch", "eventbridge": "events"}

Response = tuple[int, list[tuple[str, str]], bytes]


@dataclass
class WireRequest:
    """One HTTP request to the sandbox, parsed once."""

    method: str
    path: str  # raw, still percent-encoded
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    service: str | None  # botocore service name: rds, backup, cloudwatch, sts, ...
    region: str | None
    operation: str | None = None
    path_params: dict[str, str] = field(default_factory=dict)

    @property
    def protocol(self) -> str:
        """How the client speaks: query, json, cbor, rest-json or rest-xml."""
        content_type = self.headers.get("content-type", "")
        if "cbor" in content_type or "smithy-protocol" in self.headers:
            return "cbor"
        if "x-amz-target" in self.headers:
            return "json"
        if content_type.startswith("application/x-www-form-urlencoded"):
            return "query"
        if self.service:
            return _service_protocol(self.service)
        return "rest-json"

    @property
    def query_compatible(self) -> bool:
        """A JSON/CBOR request to a service that used to speak query (CloudWatch)."""
        return "x-amzn-query-mode" in self.headers

    @property
    def iam_action(self) -> str:
        """The IAM action this request needs, e.g. backup:ListBackupJobs."""
        prefix = {"cloudwatch": "cloudwatch", "events": "events"}.get(self.service or "",
                                                                      self.service or "aws")
        return f"{prefix}:{self.operation or 'Unknown'}"

    def form(self) -> dict[str, str]:
        """The flat parameters of a query-protocol request (Action=...&Foo.1=...)."""
        return {k: v[-1] for k, v in parse_qs(self.body.decode("utf-8"),
                                               keep_blank_values=True).items()}

    def json(self) -> dict[str, Any]:
        """The JSON body of a REST-JSON or JSON request ({} when empty)."""
        if not self.body:
            return {}
        value = json.loads(self.body)
        return value if isinstance(value, dict) else {}

    def param(self, name: str) -> str | None:
        """A REST query-string parameter, by its wire name."""
        values = self.query.get(name)
        return values[-1] if values else None


def read_request(environ: dict[str, Any]) -> WireRequest:
    """Parse the environ and put the body back, so the wrapped app can read it again."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    raw_uri = environ.get("REQUEST_URI") or environ.get("RAW_URI")
    if raw_uri:
        parts = urlsplit(raw_uri)
        path, query_string = parts.path, parts.query
    else:
        path, query_string = environ.get("PATH_INFO", "/"), environ.get("QUERY_STRING", "")
    headers = {key[5:].replace("_", "-").lower(): str(value)
               for key, value in environ.items() if key.startswith("HTTP_")}
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    service, region = _scope(headers.get("authorization", ""))
    request = WireRequest(
        method=environ.get("REQUEST_METHOD", "GET").upper(),
        path=path,
        query=parse_qs(query_string, keep_blank_values=True),
        headers=headers,
        body=body,
        service=service,
        region=region,
    )
    request.operation, request.path_params = _operation(request)
    return request


def _scope(authorization: str) -> tuple[str | None, str | None]:
    """Service and region from `Credential=KEY/DATE/REGION/SERVICE/aws4_request`."""
    match = re.search(r"Credential=[^/,]+/\d+/([^/,]+)/([^/,]+)/aws4_request", authorization)
    if not match:
        return None, None
    region, signing_name = match.group(1), match.group(2).lower()
    return _SERVICE_BY_SIGNING_NAME.get(signing_name, signing_name), region


def _operation(request: WireRequest) -> tuple[str | None, dict[str, str]]:
    target = request.headers.get("x-amz-target")
    if target:
        return target.rsplit(".", 1)[-1], {}
    if request.protocol == "cbor":
        match = re.search(r"/operation/([A-Za-z0-9]+)$", request.path)
        return (match.group(1) if match else None), {}
    if request.protocol == "query":
        return request.form().get("Action"), {}
    if request.service:
        for method, pattern, operation in _routes(request.service):
            if method != request.method:
                continue
            match = pattern.match(request.path)
            if match:
                return operation, {_label(k): unquote(v) for k, v in match.groupdict().items()}
    return None, {}


def _label(group: str) -> str:
    return group.split("__", 1)[1]


@cache
def _service_model(service: str) -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model(service)


@cache
def _service_protocol(service: str) -> str:
    try:
        return str(_service_model(service).protocol)
    except Exception:  # an unknown service: assume the common REST flavour
        return "rest-json"


@cache
def _routes(service: str) -> list[tuple[str, re.Pattern[str], str]]:
    """(method, path regex, operation) for every REST operation, most specific first."""
    try:
        model = _service_model(service)
    except Exception:  # an unknown service: no REST routes
        return []
    routes: list[tuple[int, str, re.Pattern[str], str]] = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        uri = http.get("requestUri", "/").split("?", 1)[0]
        regex, literal = "", 0
        for i, piece in enumerate(re.split(r"(\{[^}]+\})", uri)):
            if piece.startswith("{"):
                label = piece[1:-1]
                greedy = label.endswith("+")
                label = label.rstrip("+")
                group = f"g{i}__{label}"
                regex += f"(?P<{group}>.+)" if greedy else f"(?P<{group}>[^/]+)"
            else:
                regex += re.escape(piece)
                literal += len(piece)
        regex = regex.rstrip("/") + "/?$"
        routes.append((literal, http.get("method", "GET"), re.compile("^" + regex), name))
    routes.sort(key=lambda r: -r[0])
    return [(method, pattern, name) for _, method, pattern, name in routes]


# ---- responses ---------------------------------------------------------------------------

def json_response(data: dict[str, Any], status: int = 200) -> Response:
    """A REST-JSON success response."""
    body = json.dumps(data, default=_json_default).encode("utf-8")
    return status, [("Content-Type", "application/json"),
                    ("x-amzn-RequestId", request_id())], body


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return epoch(value)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def epoch(moment: datetime) -> float:
    """AWS JSON protocols send timestamps as epoch seconds."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(moment.timestamp(), 3)


def parse_time(value: str | None) -> datetime | None:
    """A timestamp as botocore sends it in a query string or form: ISO 8601 or epoch seconds."""
    if not value:
        return None
    try:
        moment = datetime.fromtimestamp(float(value), UTC)
    except ValueError:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


_request_counter = [0]


def request_id() -> str:
    """A request id shaped like AWS's (a UUID), from a counter."""
    _request_counter[0] += 1
    n = _request_counter[0]
    return f"5a4d{n:04x}-0000-4000-8000-{n:012x}"


def error_response(request: WireRequest, status: int, code: str, message: str) -> Response:
    """An error in the protocol the request was made in, so botocore raises ClientError(code)."""
    rid = request_id()
    protocol = request.protocol
    if protocol in ("query", "rest-xml"):
        namespace = ""
        if protocol == "rest-xml" and request.service == "route53":
            namespace = ' xmlns="https://route53.amazonaws.com/doc/2013-04-01/"'
        body = (f'<ErrorResponse{namespace}><Error><Type>Sender</Type><Code>{escape(code)}</Code>'
                f"<Message>{escape(message)}</Message></Error>"
                f"<RequestId>{rid}</RequestId></ErrorResponse>")
        return status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", rid)], body.encode()
    headers = [("x-amzn-RequestId", rid)]
    if request.query_compatible:
        headers.append(("x-amzn-query-error", f"{code};Sender"))
    if protocol == "cbor":
        headers += [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")]
        return status, headers, cbor_map({"__type": code, "message": message})
    if protocol == "json":
        content_type = request.headers.get("content-type", "application/x-amz-json-1.1")
        headers.append(("Content-Type", content_type))
        return status, headers, json.dumps({"__type": code, "message": message}).encode()
    headers += [("Content-Type", "application/json"), ("x-amzn-ErrorType", code)]
    return status, headers, json.dumps({"message": message, "Message": message}).encode()


def access_denied(request: WireRequest, principal_arn: str) -> Response:
    """AccessDenied(Exception), worded as AWS words a missing identity-based permission."""
    code = "AccessDeniedException" if request.protocol in ("rest-json", "json") else "AccessDenied"
    if request.query_compatible:
        code = "AccessDenied"
    message = (f"User: {principal_arn} is not authorized to perform: {request.iam_action} "
               f"because no identity-based policy allows the {request.iam_action} action")
    return error_response(request, 403, code, message)


def cbor_map(data: dict[str, str]) -> bytes:
    """A CBOR map of text strings: all an RPC v2 CBOR error body needs."""
    out = bytearray(_cbor_head(5, len(data)))
    for key, value in data.items():
        for text in (key, value):
            raw = text.encode("utf-8")
            out += _cbor_head(3, len(raw)) + raw
    return bytes(out)


def _cbor_head(major: int, length: int) -> bytes:
    if length < 24:
        return bytes([(major << 5) | length])
    if length < 0x100:
        return bytes([(major << 5) | 24, length])
    if length < 0x10000:
        return bytes([(major << 5) | 25]) + struct.pack(">H", length)
    return bytes([(major << 5) | 26]) + struct.pack(">I", length)


def encode_token(offset: int) -> str:
    """An opaque pagination token (NextToken / Marker)."""
    return base64.urlsafe_b64encode(f"vw-sandbox:{offset}".encode()).decode()


def decode_token(token: str | None) -> int | None:
    """The offset in a token from `encode_token`; None when the token is not one of ours."""
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        prefix, offset = text.split(":", 1)
        return int(offset) if prefix == "vw-sandbox" and int(offset) >= 0 else None
    except (ValueError, UnicodeDecodeError):
        return None
