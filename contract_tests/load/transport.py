"""HTTP for the load journeys, on Locust's `FastHttpSession` (geventhttpclient): JSON calls that Locust times and
counts, and SSE streams read event by event, which can be dropped mid-way and rejoined with `Last-Event-ID`.

Streams are read from the geventhttpclient response as bytes arrive (its `read(n)` waits for n bytes), and a
dropped stream's socket is closed rather than returned to the pool, as a browser losing its connection would.
Both use geventhttpclient internals (`_sock`, `_pool`, `_body_buffer`); tests/test_load.py exercises them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Event:
    name: str
    data: Any
    id: str | None


class HttpFailure(Exception):
    """A call that did not answer 2xx: Locust has counted it as an HTTP error; the journey stops there."""


Cut = Callable[[list[Event]], int | None]  # the events so far -> how many to keep and drop the stream, or None
Fire = Callable[..., None]  # Locust's events.request.fire


def parse_events(buffer: bytes) -> tuple[list[Event], bytes]:
    """The complete SSE events in `buffer`, and what is left of it (an event still arriving)."""
    events = []
    buffer = buffer.replace(b"\r\n", b"\n")
    while b"\n\n" in buffer:
        block, buffer = buffer.split(b"\n\n", 1)
        name, data, event_id = "message", [], None
        for line in block.decode("utf-8", "replace").split("\n"):
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
            elif field == "id":
                event_id = value
        if data:
            text = "\n".join(data)
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = text
            events.append(Event(name, parsed, event_id))
    return events, buffer


class Transport:
    def __init__(self, session: Any, base_url: str, headers: dict[str, str], fire: Fire) -> None:
        self.session = session  # locust.contrib.fasthttp.FastHttpSession
        self.base_url = base_url.rstrip("/")
        self.headers = headers
        self.fire = fire

    def call(self, method: str, path: str, step: str, body: Any = None) -> Any:
        response = self.session.request(method, path, name=step, json=body, headers=self.headers)
        if getattr(response, "error", None) is not None or not 200 <= (response.status_code or 0) < 300:
            raise HttpFailure(f"{step}: {method} {path} answered {response.status_code}")
        return response.json()

    def stream(self, method: str, path: str, step: str, body: Any = None, *, last_event_id: str | None = None, cut: Cut | None = None) -> tuple[list[Event], int | None]:
        """Read the SSE stream to its end, or until `cut` says how many events to keep: then the connection is
        dropped. Locust times the whole stream (the step's time), not just its headers."""
        headers = {**self.headers, "accept": "text/event-stream"}
        payload = None
        if body is not None:
            headers["content-type"] = "application/json"
            payload = json.dumps(body)
        if last_event_id is not None:
            headers["last-event-id"] = last_event_id
        started, received = time.perf_counter(), 0
        events: list[Event] = []
        kept: int | None = None
        error: Exception | None = None
        try:
            response = self.session.client.urlopen(self.base_url + path, method=method, payload=payload, headers=headers)
            raw = response._response
            pending = b""
            for chunk in _chunks(raw):
                received += len(chunk)
                new, pending = parse_events(pending + chunk)
                for event in new:
                    events.append(event)
                    kept = cut(events) if cut else None
                    if kept is not None:
                        _drop(raw)
                        return events, kept
        except Exception as exc:  # a refused call or a broken connection: counted as an HTTP error
            error = exc
        finally:
            self.fire(request_type=method, name=step, response_time=(time.perf_counter() - started) * 1000, response_length=received, exception=error, context={})
        if error is not None:
            raise HttpFailure(f"{step}: {method} {path} failed: {error}")
        return events, None


def _chunks(raw: Any) -> Iterator[bytes]:
    """The body as it arrives (geventhttpclient parses it into `_body_buffer`; the socket goes back to the pool
    when the body is complete)."""
    while True:
        if raw._body_buffer:
            data = bytes(raw._body_buffer)
            del raw._body_buffer[:]
            yield data
            continue
        if raw.message_complete or raw._sock is None:
            return
        data = raw._sock.recv(16384)
        if not data:
            return
        raw.feed(data)


def _drop(raw: Any) -> None:
    """Close the stream's connection (never reuse a socket with a body still arriving on it)."""
    pool, sock = raw._pool, raw._sock
    raw._pool = raw._sock = None
    if sock is not None:
        if pool is not None:
            pool.release_socket(sock)
        else:
            sock.close()
