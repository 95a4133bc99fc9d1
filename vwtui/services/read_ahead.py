"""The pages of an XML list call read one request ahead: while botocore parses page k, the
request for page k+1 is already on the wire.

A paginated list's pages can only come one after another (each request carries the previous
page's Marker), and botocore takes about as long to parse a page of 100 DB snapshots as the
round trip itself (on the scaled sandbox at 80 ms per call: ~100 ms on the wire, 60-150 ms of
parsing). The Marker is in the raw answer before botocore parses it: a `before-parse` hook reads
it from the bytes and sends the next request at once, so the round trips overlap the parsing.
Every page is still read, in order; a 101-page DescribeDBSnapshots takes about half as long as
botocore's paginator.

The Marker read from the bytes is a guess until the parsed page confirms it: when they differ
(an answer spelled in a way this module does not expect), the request sent ahead is dropped and
the page is asked for again with the parsed Marker. At most two requests of one list are in
flight at a time; retries, errors and the answer are botocore's own (the hook only reads).
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

_LOCAL = threading.local()  # .read: the _PageRead this thread's next raw answer is for


@dataclass(slots=True)
class _PageRead:
    send_next: Callable[[bytes], None]
    items: ListParser | None  # the list member parsed from the raw answer (None: botocore)
    sent: threading.Event  # set once this page's request is on the wire (or has failed)


def _on_send(**_: Any) -> None:
    """botocore's before-send hook: this thread's page request is going out."""
    read: _PageRead | None = getattr(_LOCAL, "read", None)
    if read is not None:
        read.sent.set()


def _on_raw_answer(response_dict: dict[str, Any],
                   customized_response_dict: dict[str, Any] | None = None,
                   **_: Any) -> None:
    """botocore's before-parse hook: hand the raw body of a successful answer to the read in
    this thread that asked for it (other calls on the shared client: nothing). The next
    request goes out first; then the list's items are parsed here, and botocore parses the
    rest of the answer (customized_response_dict is merged into what it parses)."""
    read: _PageRead | None = getattr(_LOCAL, "read", None)
    if read is None or response_dict.get("status_code") != 200:
        return
    _LOCAL.read = None  # once per page, whatever the retries
    body = response_dict.get("body")
    if not isinstance(body, bytes):
        return
    read.send_next(body)
    if read.items is None or customized_response_dict is None:
        return
    try:
        split = read.items.split(body)
    except Exception:  # anything unexpected: botocore parses it all, as ever
        split = None
    if split is not None:
        items, rest = split
        response_dict["body"] = rest
        customized_response_dict[read.items.key] = items


def marker_in(body: bytes, token: str = "Marker") -> str | None:
    """The last <Marker>...</Marker> of a raw XML answer, unescaped; None when there is none
    (the last page)."""
    opening, closing = f"<{token}>".encode(), f"</{token}>".encode()
    start = body.rfind(opening)
    if start < 0:
        return None
    end = body.find(closing, start)
    if end < 0:
        return None
    return html.unescape(body[start + len(opening):end].decode("utf-8", "replace")) or None


def can_read_ahead(client: Any, operation: str) -> bool:
    """Whether `operation` (its API name) answers XML that names the next page in a <Marker>
    and takes it back as Marker (the query protocol's lists: RDS, CloudWatch, SNS, ...; EC2
    and the JSON services spell their tokens otherwise)."""
    model = client.meta.service_model
    if model.protocol != "query":
        return False
    shapes = model.operation_model(operation)
    return (shapes.input_shape is not None and "Marker" in shapes.input_shape.members
            and shapes.output_shape is not None and "Marker" in shapes.output_shape.members)


def install(client: Any) -> None:
    """Register the hook on `client` (once: botocore keeps one handler per unique_id)."""
    client.meta.events.register("before-parse", _on_raw_answer,
                                unique_id="vwtui-read-ahead")
    client.meta.events.register("before-send", _on_send, unique_id="vwtui-read-ahead-sent")


def pages_ahead(client: Any, method_name: str, params: dict[str, Any], *,
                token: str = "Marker", items: str | None = None,
                stop: threading.Event | None = None) -> Iterator[dict[str, Any]]:
    """Every page of `client.<method_name>(**params)`, in order, each next request sent as
    soon as the previous answer's bytes arrive. `items`: the list member to parse in one pass
    (ListParser; the same values). Raises what the call raises (botocore's errors), from the
    page that met it. `stop`, once set (by the reader that went away, from any thread), sends
    no further request: each answer asks for the next one, so without it a list abandoned
    while its generator runs in a thread would be read to its end."""
    stop = stop or threading.Event()
    install(client)
    method = getattr(client, method_name)
    parser = None
    if items is not None:
        operation = client.meta.method_to_api_mapping.get(method_name, method_name)
        parser = ListParser(client.meta.service_model.operation_model(operation), items)
    pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="vwtui-ahead")

    def fetch(marker: str | None, sent: threading.Event
              ) -> tuple[dict[str, Any], tuple[str, Future[Any]] | None]:
        ahead: list[tuple[str, Future[Any]]] = []

        def send_next(body: bytes) -> None:
            if stop.is_set():
                return
            guess = marker_in(body, token)
            if guess is not None:
                going = threading.Event()
                ahead.append((guess, pool.submit(fetch, guess, going)))
                # Parse only once the next request is out: the thread sending it needs the
                # interpreter for a few ms, and the parsing here is not what anyone waits for.
                going.wait(timeout=1.0)

        _LOCAL.read = _PageRead(send_next, parser, sent)
        try:
            page = method(**params, **({token: marker} if marker else {}))
        finally:
            _LOCAL.read = None
            sent.set()
        return page, (ahead[0] if ahead else None)

    try:
        current: Future[Any] = pool.submit(fetch, None, threading.Event())
        while True:
            page, ahead = current.result()
            yield page
            following = page.get(token)
            if not following:
                return
            if ahead is not None and ahead[0] == following:
                current = ahead[1]
            else:
                # The guess was wrong (or there was none): ask again with the parsed Marker.
                current = pool.submit(fetch, following, threading.Event())
    finally:
        # A request still in flight (a dropped guess, a read stopped early) ends on its own.
        stop.set()
        pool.shutdown(wait=False, cancel_futures=True)


# ---- the list's items parsed in one pass -------------------------------------------------

_SCALARS: dict[str, Callable[[str], Any]] = {
    "string": str, "integer": int, "long": int, "float": float, "double": float,
    "boolean": lambda text: text == "true",
}


class ListParser:
    """The items of one XML list member (DBSnapshots) parsed straight from the raw answer:
    botocore's query parser spends ~50 ms on a page of 100 DB snapshots walking shapes node
    by node; this takes each item's scalar members in one pass (the same values, typed as
    botocore types them) and hands nested ones (TagList) to botocore's own parser. What it
    does not expect (a blob, an attribute, a member it does not know) leaves the answer to
    botocore whole."""

    def __init__(self, operation_model: Any, key: str) -> None:
        from botocore.parsers import QueryParser
        from dateutil.tz import tzutc

        self.key = key
        self._botocore = QueryParser()
        self._tzutc = tzutc()
        self._times: dict[str, Any] = {}  # the same times recur (InstanceCreateTime)
        list_shape = operation_model.output_shape.members[key]
        item = list_shape.member
        self.item_tag = item.serialization.get("name") or item.name
        self.members: dict[str, tuple[str, Any]] = {
            shape.serialization.get("name", name): (name, shape)
            for name, shape in item.members.items()}

    def split(self, body: bytes) -> tuple[list[dict[str, Any]], bytes] | None:
        """The items, and the answer without them (for botocore to parse the rest: Marker,
        ResponseMetadata); None when the answer is not the expected shape."""
        import xml.etree.ElementTree as ET

        opening, closing = f"<{self.key}>".encode(), f"</{self.key}>".encode()
        start, end = body.find(opening), body.rfind(closing)
        if start < 0 or end < start or body.find(opening, start + 1) >= 0:
            return None
        end += len(closing)
        root = ET.fromstring(body[start:end])
        items = []
        for node in root:
            if node.tag != self.item_tag:
                return None
            item = self._item(node)
            if item is None:
                return None
            items.append(item)
        return items, body[:start] + body[end:]

    def _timestamp(self, text: str) -> Any:
        """As botocore's timestamp parser answers (aware, tzutc), without dateutil's parser
        for AWS's ISO 8601 UTC times (three a snapshot: most of botocore's time on a page)."""
        known = self._times.get(text)
        if known is None:
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                moment = None
            if moment is not None and moment.utcoffset() == timedelta(0):
                known = moment.replace(tzinfo=self._tzutc)
            else:
                known = self._botocore._timestamp_parser(text)
            self._times[text] = known
        return known

    def _item(self, node: Any) -> dict[str, Any] | None:
        item: dict[str, Any] = {}
        for child in node:
            known = self.members.get(child.tag)
            if known is None or child.attrib:
                return None
            name, shape = known
            kind = shape.type_name
            if kind in _SCALARS:
                item[name] = _SCALARS[kind](child.text or "")
            elif kind == "timestamp":
                item[name] = self._timestamp(child.text or "")
            elif kind in ("structure", "list", "map") and \
                    not shape.serialization.get("flattened"):
                item[name] = self._botocore._parse_shape(shape, child)
            else:
                return None
        return item
