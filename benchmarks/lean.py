"""A lean HTTP/1.1 client for the benchmarks, so that their figures measure the server and not the client.

It speaks just what the HITL cycle needs: one keep-alive connection, requests with a JSON body, answers with
`Content-Length` or `Transfer-Encoding: chunked` (every wait body is chunked), parsed straight from the bytes.
It costs a few microseconds per request where httpx costs about half a millisecond, which on a 2-core machine
is CPU taken from the server. `Client` blocks (for the sequential figures); `AsyncClient` runs on asyncio streams
(one per cycle in flight, for the load levels).

`Dropped` is raised when the server ends the connection before the whole answer arrived; it says how long the
connection had been idle and how many answers it had carried, which tells a keep-alive close racing the reuse
of the connection (idle about as long as the server's keep-alive timeout, nothing of the answer received) from
a connection dropped mid-answer.
"""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import orjson


class Dropped(Exception):
    def __init__(self, why: str, idle: float, served: int, received: int) -> None:
        super().__init__(f"{why} (connection idle {idle:.2f} s before the request, {served} answers before it, {received} bytes of this one received)")
        self.why, self.idle, self.served, self.received = why, idle, served, received


class BadAnswer(Exception):
    """A cycle got an answer other than the one the contract gives."""


def request_bytes(method: str, path: str, body: Any, host: str) -> bytes:
    if body is None:
        return f"{method} {path} HTTP/1.1\r\nhost: {host}\r\n\r\n".encode()
    data = orjson.dumps(body)
    return f"{method} {path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\ncontent-length: {len(data)}\r\n\r\n".encode() + data


def parse(buf: bytearray) -> tuple[int, bytes, bool, int] | None:
    """(status, body, keep-alive, bytes used) of the first whole answer in `buf`; None while it is incomplete."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = bytes(buf[:end]).split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length, chunked, close = 0, False, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"connection":
            close = b"close" in value.lower()
    pos = end + 4
    if not chunked:
        return (status, bytes(buf[pos : pos + length]), not close, pos + length) if len(buf) >= pos + length else None
    parts = []
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        size = int(bytes(buf[pos:eol]).split(b";")[0], 16)
        start = eol + 2
        if len(buf) < start + size + 2:
            return None
        if size == 0:  # no trailers: the server sends none
            return status, b"".join(parts), not close, start + 2
        parts.append(bytes(buf[start : start + size]))
        pos = start + size + 2


def decode(status: int, body: bytes, what: str) -> Any:
    if not 200 <= status < 300:
        raise BadAnswer(f"{what}: HTTP {status}: {body[:300]!r}")
    return orjson.loads(body) if body.strip() else None  # a wait body may start with keepalive newlines


class _Connection:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.authority = f"{self.host}:{self.port}"
        self.buf = bytearray()
        self.served = 0
        self.last = time.monotonic()

    def _answer(self) -> tuple[int, bytes, bool] | None:
        parsed = parse(self.buf)
        if parsed is None:
            return None
        status, body, keep, used = parsed
        del self.buf[:used]
        self.served += 1
        self.last = time.monotonic()
        return status, body, keep

    def _dropped(self, why: str, idle: float) -> Dropped:
        return Dropped(why, idle, self.served, len(self.buf))


class Client(_Connection):
    """Blocking: for cycles run one after another."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.sock: socket.socket | None = None

    def request(self, method: str, path: str, body: Any = None) -> Any:
        if self.sock is None:
            self.sock = socket.create_connection((self.host, self.port))
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.buf.clear()
        idle = time.monotonic() - self.last
        try:
            self.sock.sendall(request_bytes(method, path, body, self.authority))
            while (answer := self._answer()) is None:
                data = self.sock.recv(65536)
                if not data:
                    raise self._dropped("the server closed the connection", idle)
                self.buf += data
        except OSError as exc:
            self.close()
            raise self._dropped(f"{type(exc).__name__}: {exc}", idle) from exc
        except Dropped:
            self.close()
            raise
        status, data, keep = answer
        if not keep:
            self.close()
        return decode(status, data, f"{method} {path}")

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


class AsyncClient(_Connection):
    """On asyncio streams: one per cycle in flight."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
            self.buf.clear()
        return self.streams

    async def request(self, method: str, path: str, body: Any = None) -> Any:
        reader, writer = self.streams or await self.connect()
        idle = time.monotonic() - self.last
        try:
            writer.write(request_bytes(method, path, body, self.authority))
            while (answer := self._answer()) is None:
                data = await reader.read(65536)
                if not data:
                    raise self._dropped("the server closed the connection", idle)
                self.buf += data
        except OSError as exc:
            self.close()
            raise self._dropped(f"{type(exc).__name__}: {exc}", idle) from exc
        except Dropped:
            self.close()
            raise
        status, data, keep = answer
        if not keep:
            self.close()
        return decode(status, data, f"{method} {path}")

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


# -- the cycle ----------------------------------------------------------------------------------------------


def _first(tag: str, first: Any) -> None:
    try:
        ok = first["__interrupt__"][0]["value"] == {"text_to_revise": tag}
    except (KeyError, IndexError, TypeError):
        ok = False
    if not ok:
        raise BadAnswer(f"runs/wait with input {tag!r}: expected its interrupt, got {str(first)[:300]}")


def _final(tag: str, final: Any) -> None:
    if final != {"some_text": tag + "!"}:
        raise BadAnswer(f"runs/wait resuming with {tag + '!'!r}: expected the final values, got {str(final)[:300]}")


RUN = {"assistant_id": "agent"}


def cycle(client: Client, tag: str) -> None:
    """The seed HITL cycle, checked: create a thread, wait -> interrupt, wait(resume) -> final values."""
    tid = client.request("POST", "/threads", {})["thread_id"]
    _first(tag, client.request("POST", f"/threads/{tid}/runs/wait", {**RUN, "input": {"some_text": tag}}))
    _final(tag, client.request("POST", f"/threads/{tid}/runs/wait", {**RUN, "command": {"resume": tag + "!"}}))


async def acycle(client: AsyncClient, tag: str) -> None:
    tid = (await client.request("POST", "/threads", {}))["thread_id"]
    _first(tag, await client.request("POST", f"/threads/{tid}/runs/wait", {**RUN, "input": {"some_text": tag}}))
    _final(tag, await client.request("POST", f"/threads/{tid}/runs/wait", {**RUN, "command": {"resume": tag + "!"}}))
