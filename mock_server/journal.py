"""The request journal: every request the mock received (method, path, query, body, status, time), newest
last, bounded. An ASGI wrapper records them; `/__mock__/requests` lists, filters and clears them."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .patterns import compile_pattern
from .wire import loads

ADMIN_PREFIX = "/__mock__/"


HIDDEN = (b"x-api-key", b"authorization", b"cookie")  # credentials are never kept


@dataclass
class Entry:
    """One request. Its body and headers are kept as received and decoded when the journal is read: most entries
    are never read, and decoding each request's on arrival cost the hot path about 10 us."""

    seq: int
    time: float
    method: str
    path: str
    query: str
    raw_headers: list[tuple[bytes, bytes]]
    raw_body: bytes
    status: int | None = None

    def to_wire(self) -> dict[str, Any]:
        body: Any = None  # parsed JSON when it parses, else text (None when empty)
        if self.raw_body:
            try:
                body = loads(self.raw_body)  # as the API parses it (orjson: an integer beyond 64 bits becomes a float)
            except ValueError:
                body = self.raw_body.decode("utf-8", "replace")
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in self.raw_headers}
        return {"seq": self.seq, "time": self.time, "method": self.method, "path": self.path, "query": self.query, "headers": headers, "body": body, "status": self.status}


ENTRY_OVERHEAD = 512  # bytes an entry costs beyond its request's bytes (counted towards `max_bytes`)


class Journal:
    """At most `limit` entries and about `max_bytes` (each entry counts its path, query, headers and body plus
    `ENTRY_OVERHEAD`); the oldest go first."""

    def __init__(self, limit: int = 10_000, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.entries: deque[Entry] = deque()
        self.limit = limit
        self.max_bytes = max_bytes
        self.bytes = 0
        self._sizes: deque[int] = deque()
        self._seq = 0

    def add(self, scope: Scope, body: bytes) -> Entry:
        self._seq += 1
        headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() not in HIDDEN]
        entry = Entry(self._seq, time.time(), scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1"), headers, body)
        size = ENTRY_OVERHEAD + len(body) + len(entry.path) + len(entry.query) + sum(len(k) + len(v) for k, v in headers)
        self.entries.append(entry)
        self._sizes.append(size)
        self.bytes += size
        while len(self.entries) > 1 and (len(self.entries) > self.limit or self.bytes > self.max_bytes):
            self.entries.popleft()
            self.bytes -= self._sizes.popleft()
        return entry

    def find(self, method: str | None = None, path: str | None = None, since: int | None = None) -> list[Entry]:
        """Filter: `method` exactly; `path` as a regular expression (RE2) searched in the path; `since` a sequence
        number. Raises PatternError (a ValueError) for a pattern RE2 does not accept."""
        pattern = compile_pattern(path) if path else None
        return [
            e
            for e in self.entries
            if (method is None or e.method == method.upper())
            and (pattern is None or pattern.search(e.path))
            and (since is None or e.seq > since)
        ]

    def clear(self) -> None:
        self.entries.clear()
        self._sizes.clear()
        self.bytes = 0


class JournalMiddleware:
    """Records each non-admin HTTP request (and, when it is answered, its status) in the journal."""

    def __init__(self, app: ASGIApp, journal: Journal) -> None:
        self.app = app
        self.journal = journal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            return await self.app(scope, receive, send)
        chunks: list[bytes] = []
        more = True
        while more:  # read the body once, then replay it to the app
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        entry = self.journal.add(scope, body)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry.status = message["status"]
            await send(message)

        await self.app(scope, replay, recording_send)
