"""Thread streams (protocol v2) as the suite drives them, the way the SDKs' `client.threads.stream` does: the client
mints the thread id, reads `POST /threads/{id}/stream/events` (SSE) on a background thread, and sends commands with
`POST /threads/{id}/commands` (`run.start`, `input.respond`). The server holds the stream open (heartbeats), so it
is read until the check has what it needs, then closed. Commands go through the suite's client, so they are in the
transcript; the stream is added to it when it closes, with every frame it carried."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from hitl_spec import parse_sse

from .capabilities import require_route, route_missing
from .client import Client, Exchange, Reply, tls_context

CHANNELS = ("lifecycle", "input", "values")
TERMINAL = ("interrupted", "completed", "failed")
STREAM_ROUTE = "POST /threads/{thread_id}/stream/events"
COMMAND_ROUTE = "POST /threads/{thread_id}/commands"
WAIT_SECONDS = 30.0

Events = list[dict[str, Any]]


class ThreadStream:
    """One thread's event stream, read in the background; `until` waits for what a check needs from it."""

    def __init__(self, client: Client, thread_id: str | None = None, channels: Sequence[str] = CHANNELS) -> None:
        self.client = client
        self.thread_id = thread_id or str(uuid.uuid4())  # as the SDKs do: the server creates it on run.start
        self.path = f"/threads/{self.thread_id}/stream/events"
        self.body = {"channels": list(channels)}
        self.events: Events = []
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self._raw = bytearray()
        self._changed = threading.Condition()
        self._ended: str | None = None  # why the stream ended (None while it is open)
        self._socket: socket.socket | None = None
        self._closing = False
        self._ids = 0
        self._reader = threading.Thread(target=self._read, name="hitl-thread-stream", daemon=True)

    def __enter__(self) -> ThreadStream:
        self._reader.start()
        with self._changed:
            self._changed.wait_for(lambda: self.status is not None or self._ended is not None, WAIT_SECONDS)
        if self.status is None:
            raise AssertionError(f"{self.path} did not answer within {WAIT_SECONDS:.0f} s ({self._ended or 'no answer'})")
        if self.status != 200:
            self._reader.join(WAIT_SECONDS)  # a refusal is a whole answer: read all of it before judging it
            self.close()
            reply = self._reply()
            require_route(reply, STREAM_ROUTE)
            raise AssertionError(f"{self.path} answered {self.status}: {reply.text[:300]}")
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- reading -------------------------------------------------------------------------------------------------

    def _read(self) -> None:
        c = self.client
        http = httpx.Client(base_url=c.base_url.rstrip("/"), headers=c.headers, verify=tls_context(), timeout=httpx.Timeout(c.timeout, read=None))
        why = "the server ended it"
        try:
            with http.stream("POST", self.path, json=self.body) as response:
                stream = response.extensions.get("network_stream")
                self._socket = stream.get_extra_info("socket") if stream is not None else None
                with self._changed:
                    self.status, self.headers = response.status_code, dict(response.headers)
                    self._changed.notify_all()
                buffer = b""
                for chunk in response.iter_bytes():
                    buffer += chunk.replace(b"\r\n", b"\n")
                    *frames, buffer = buffer.split(b"\n\n")
                    with self._changed:
                        self._raw += chunk
                        for frame in frames:
                            self.events += [f["data"] for f in parse_sse(frame + b"\n\n") if isinstance(f.get("data"), dict)]
                        self._changed.notify_all()
        except (httpx.HTTPError, OSError, ValueError) as exc:
            why = "closed by the check" if self._closing else f"{type(exc).__name__}: {exc}"
        finally:
            http.close()
            with self._changed:
                self._ended = "closed by the check" if self._closing else why
                self._changed.notify_all()

    def close(self) -> None:
        """Stop reading (the server would hold the stream open) and put the stream in the transcript."""
        if self._closing:
            return
        self._closing = True
        if self._socket is not None:
            try:
                self._socket.shutdown(socket.SHUT_RDWR)  # wakes the reader blocked on the open stream
            except OSError:
                pass
        self._reader.join(5)
        c = self.client
        url = f"{c.base_url.rstrip('/')}{self.path}"
        raw = bytes(self._raw)
        c.transcript.append(Exchange("POST", url, {"content-type": "application/json"}, self.body, self.status or 0, self.headers, raw.decode("utf-8", "replace")))
        if self.status is None:
            return
        if self.status != 200:  # a refusal, read whole; a missing route is "not offered", not a schema matter
            if not route_missing(self._reply()):
                c.check_schema("POST", self.path, self.status, self.headers.get("content-type", ""), raw)
            return
        frames = raw.replace(b"\r\n", b"\n")
        end = frames.rfind(b"\n\n")
        c.check_schema("POST", self.path, 200, self.headers.get("content-type", ""), frames[: end + 2] if end >= 0 else b"")  # the frames read whole

    def _reply(self) -> Reply:
        """What the stream answered so far, as the suite's other answers are judged."""
        return Reply(self.status or 0, httpx.Headers(self.headers), bytes(self._raw).decode("utf-8", "replace"))

    def until(self, what: str, found: Callable[[Events], Any], timeout: float = WAIT_SECONDS) -> Any:
        """Wait until `found(events)` is truthy and return it; fail naming `what` and what the stream did carry."""
        with self._changed:
            self._changed.wait_for(lambda: bool(found(self.events)) or self._ended is not None, timeout)
            value = found(self.events)
        if not value:
            ended = f"; the stream ended: {self._ended}" if self._ended else ""
            raise AssertionError(f"the thread stream carried no {what} within {timeout:.0f} s{ended}; it carried {self.outline()}")
        return value

    # -- what it carried -----------------------------------------------------------------------------------------

    def outline(self) -> str:
        """The events so far, one word each (`lifecycle:running`, `values`, `input.requested`, ...)."""
        words = [f"lifecycle:{e['params']['data'].get('event')}" if _is_lifecycle(e) else str(e.get("method")) for e in self.events]
        return "[" + ", ".join(words) + "]" if words else "nothing"

    def run_ends(self) -> list[str]:
        """The root lifecycle events that end a run (`interrupted`, `completed`, `failed`), in order."""
        return [e["params"]["data"]["event"] for e in self.events if _is_lifecycle(e) and not e["params"].get("namespace") and e["params"]["data"].get("event") in TERMINAL]

    def settled(self, runs: int) -> str:
        """Wait until `runs` runs on the thread have ended; the last one's lifecycle."""
        ends = self.until(f"end of run {runs} (a root lifecycle interrupted, completed or failed)", lambda _: self.run_ends()[runs - 1 :])
        return str(ends[0])

    def requested(self) -> list[dict[str, Any]]:
        """The `input.requested` data so far ({interrupt_id, payload})."""
        return [e["params"]["data"] for e in self.events if e.get("method") == "input.requested" and isinstance(e.get("params", {}).get("data"), dict)]

    # -- commands ------------------------------------------------------------------------------------------------

    def command(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Send one command; its answer (`{"type": "success" | "error", ...}`)."""
        self._ids += 1
        reply = self.client.request("POST", f"/threads/{self.thread_id}/commands", {"id": self._ids, "method": method, "params": params})
        require_route(reply, COMMAND_ROUTE)
        assert reply.status == 200, f"{method} answered HTTP {reply.status}: {reply.text[:300]}"
        answer = reply.json()
        assert isinstance(answer, dict) and answer.get("id") == self._ids, f"{method} answered {reply.text[:300]} (not an answer to command {self._ids})"
        return answer

    def start(self, assistant_id: str, input: Any) -> dict[str, Any]:
        answer = self.command("run.start", {"assistant_id": assistant_id, "input": input})
        assert answer.get("type") == "success", f"run.start answered {answer}"
        self.client.created.append(self.thread_id)  # run.start made the thread: removed with the check's others
        return answer

    def respond(self, interrupt_id: str, response: Any) -> dict[str, Any]:
        return self.command("input.respond", {"interrupt_id": interrupt_id, "namespace": [], "response": response})


def _is_lifecycle(event: dict[str, Any]) -> bool:
    return event.get("method") == "lifecycle" and isinstance(event.get("params", {}).get("data"), dict)
