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
from typing import Any

# The protocols whose answers are XML with the next page's token in a <Marker> element.
XML_PROTOCOLS = frozenset({"query", "ec2"})

_LOCAL = threading.local()  # .send_next: what to do with this thread's next raw answer


def _on_raw_answer(response_dict: dict[str, Any], **_: Any) -> None:
    """botocore's before-parse hook: hand the raw body of a successful answer to the read in
    this thread that asked for it (other calls on the shared client: nothing)."""
    send_next: Callable[[bytes], None] | None = getattr(_LOCAL, "send_next", None)
    if send_next is None or response_dict.get("status_code") != 200:
        return
    _LOCAL.send_next = None  # once per page, whatever the retries
    body = response_dict.get("body")
    if isinstance(body, bytes):
        send_next(body)


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


def install(client: Any) -> None:
    """Register the hook on `client` (once: botocore keeps one handler per unique_id)."""
    client.meta.events.register("before-parse", _on_raw_answer,
                                unique_id="vwtui-read-ahead")


def pages_ahead(client: Any, method_name: str, params: dict[str, Any], *,
                token: str = "Marker") -> Iterator[dict[str, Any]]:
    """Every page of `client.<method_name>(**params)`, in order, each next request sent as
    soon as the previous answer's bytes arrive. Raises what the call raises (botocore's
    errors), from the page that met it."""
    install(client)
    method = getattr(client, method_name)
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="vwtui-ahead")

    def fetch(marker: str | None) -> tuple[dict[str, Any], tuple[str, Future[Any]] | None]:
        ahead: list[tuple[str, Future[Any]]] = []

        def send_next(body: bytes) -> None:
            guess = marker_in(body, token)
            if guess is not None:
                ahead.append((guess, pool.submit(fetch, guess)))

        _LOCAL.send_next = send_next
        try:
            page = method(**params, **({token: marker} if marker else {}))
        finally:
            _LOCAL.send_next = None
        return page, (ahead[0] if ahead else None)

    try:
        current: Future[Any] = pool.submit(fetch, None)
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
                current = pool.submit(fetch, following)
    finally:
        # A request still in flight (a dropped guess, a read stopped early) ends on its own.
        pool.shutdown(wait=False, cancel_futures=True)
