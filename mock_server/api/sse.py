"""SSE framing in the official byte format, the bodies of streams and waits, and their keepalives.

Frames end lines with `\\r\\n` and carry `id:` only for resumable runs; silent streams get `: heartbeat`
comments and long waits get leading newlines (JSON parsers skip them), every `keepalive_seconds`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ..deviations import Hook
from ..runs.broker import StreamEvent, Subscriber
from ..services import Services
from ..store import Run
from ..types import CancelAction


def frame(item: StreamEvent) -> bytes:
    out = b"event: " + item.event.encode() + b"\r\ndata: " + item.data + b"\r\n"
    if item.id is not None:
        out += b"id: " + item.id.encode() + b"\r\n"
    return out + b"\r\n"


def sse_response(frames: AsyncIterator[bytes], headers: dict[str, str], keepalive: float) -> EventSourceResponse:
    return EventSourceResponse(
        frames,
        headers=headers,
        sep="\r\n",
        ping=keepalive,
        ping_message_factory=lambda: ServerSentEvent(comment="heartbeat", sep="\r\n"),
    )


def _on_disconnect(svc: Services, run: Run, cancel: bool) -> None:
    if cancel and not run.finished:
        svc.scheduler.cancel(run, CancelAction.INTERRUPT)


def _deviating(svc: Services, run: Run, item: StreamEvent) -> bytes | None:
    """A frame as the active deviation profiles change it (None: dropped)."""
    deviations = svc.controls.deviations
    event = deviations.apply(Hook.STREAM_EVENT, (item.event, item.data), run=run)
    if event is None:
        return None
    out: bytes = deviations.apply(Hook.SSE_FRAME, frame(StreamEvent(event[0], event[1], item.id)))
    return out


async def event_frames(svc: Services, run: Run, queue: Subscriber, cancel_on_disconnect: bool, drop_after: int | None = None) -> AsyncIterator[bytes]:
    """The frames of a run's stream, until it ends (or a `drop_stream_after` fault ends it early)."""
    sent = 0
    deviating = svc.controls.deviations.at(Hook.STREAM_EVENT) or svc.controls.deviations.at(Hook.SSE_FRAME)
    try:
        while drop_after is None or sent < drop_after:
            item = await queue.get()
            if item is None:
                break
            out = _deviating(svc, run, item) if deviating else frame(item)
            if out is not None:
                yield out
                sent += 1
    finally:
        run.events.unsubscribe(queue)
        _on_disconnect(svc, run, cancel_on_disconnect)


WATCH_AFTER = 0.05  # seconds a wait goes on before the client leaving is watched for (WaitBody)


class WaitBody:
    """The wait/join body: newlines while the run goes on (every `keepalive_seconds`), then its result. Until the
    run ends it also listens for the client leaving, which cancels the run when the client asked for that."""

    __slots__ = ("cancel_on_disconnect", "join", "run", "svc")

    def __init__(self, svc: Services, run: Run, cancel_on_disconnect: bool, join: bool) -> None:
        self.svc, self.run, self.cancel_on_disconnect, self.join = svc, run, cancel_on_disconnect, join

    async def result(self, receive: Receive, send: Send) -> bytes | None:
        """The result, once the run has ended (None: the client left first)."""
        run = self.run
        try:
            if not run.finished and not await self._until_finished(receive, send):
                return None
            result: bytes = self.svc.controls.deviations.apply(Hook.WAIT_RESULT, run.result or b"{}", run=run, join=self.join)
            return result
        finally:
            _on_disconnect(self.svc, run, self.cancel_on_disconnect)

    async def _until_finished(self, receive: Receive, send: Send) -> bool:
        """Wait for the run's end, a newline every `keepalive_seconds`; False if the client left first.

        Most waits end within milliseconds (a run up to its interrupt), so the client leaving is watched for only
        once a wait has lasted `WATCH_AFTER`: that needs a task, as it is seen only by awaiting `receive`. The
        run's end, the client leaving and the timers all wake one future: about a third of what two tasks under
        `asyncio.wait` cost, paid on every wait and join."""
        loop = asyncio.get_running_loop()
        woken: list[asyncio.Future[None]] = [loop.create_future()]

        def wake() -> None:
            if not woken[0].done():
                woken[0].set_result(None)

        forget = self.run.events.on_finished(wake)
        left: asyncio.Task[None] | None = None
        try:
            while not self.run.finished:
                timer = loop.call_later(WATCH_AFTER if left is None else self.svc.settings.keepalive_seconds, wake)
                try:
                    await woken[0]
                finally:
                    timer.cancel()
                if self.run.finished:
                    break
                woken[0] = loop.create_future()
                if left is None:
                    left = loop.create_task(_disconnected(receive))
                    left.add_done_callback(lambda _: wake())
                    continue
                if left.done():
                    return False
                await send({"type": "http.response.body", "body": b"\n", "more_body": True})
            return True
        finally:
            forget()
            if left is not None:
                left.cancel()


def wait_body(svc: Services, run: Run, cancel_on_disconnect: bool, *, join: bool = False) -> WaitBody:
    return WaitBody(svc, run, cancel_on_disconnect, join)


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class ChunkedJSON(Response):
    """A JSON answer sent chunked (no `Content-Length`), as the official server sends every wait and join body.

    On the wire it is Starlette's `StreamingResponse` (same headers, same bytes); it is leaner on the hot path: no
    anyio task group, no task while there is nothing to wait for (two plain ones while a run goes on: its end, and
    the client leaving), and the result goes out with the end of the body, in one ASGI message rather than two."""

    media_type = "application/json"

    def __init__(self, content: WaitBody | bytes, headers: dict[str, str]) -> None:
        self.status_code = 200
        self.background = None
        self.content = content
        self.init_headers(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        body = self.content if isinstance(self.content, bytes) else await self.content.result(receive, send)
        if body is not None:  # None: the client has gone, there is nobody to answer
            await send({"type": "http.response.body", "body": body, "more_body": False})


def streaming_json(body: WaitBody, headers: dict[str, str]) -> Response:
    return ChunkedJSON(body, headers)


def chunked(body: bytes, headers: dict[str, str]) -> Response:
    """A JSON body sent chunked, as the official server sends every wait/join body."""
    return ChunkedJSON(body, headers)


def single_event(event: StreamEvent, headers: dict[str, str], keepalive: float) -> Response:
    async def one() -> AsyncIterator[bytes]:
        yield frame(event)

    return sse_response(one(), headers, keepalive)

