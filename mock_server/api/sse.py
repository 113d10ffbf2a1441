"""SSE framing in the official byte format, the bodies of streams and waits, and their keepalives.

Frames end lines with `\\r\\n` and carry `id:` only for resumable runs; silent streams get `: heartbeat`
comments and long waits get leading newlines (JSON parsers skip them), every `keepalive_seconds`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.responses import Response, StreamingResponse

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


async def wait_body(svc: Services, run: Run, cancel_on_disconnect: bool, *, join: bool = False) -> AsyncIterator[bytes]:
    """The wait/join body: newlines while the run goes on, then its result."""
    keepalive = svc.settings.keepalive_seconds
    try:
        while not run.finished:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(run.events.wait_finished()), keepalive)
            if not run.finished:
                yield b"\n"
        yield svc.controls.deviations.apply(Hook.WAIT_RESULT, run.result or b"{}", run=run, join=join)
    finally:
        _on_disconnect(svc, run, cancel_on_disconnect)


def streaming_json(body: AsyncIterator[bytes], headers: dict[str, str]) -> Response:
    return StreamingResponse(body, media_type="application/json", headers=headers)


def chunked(body: bytes, headers: dict[str, str]) -> Response:
    """A JSON body sent chunked, as the official server sends every wait/join body."""

    async def once() -> AsyncIterator[bytes]:
        yield body

    return streaming_json(once(), headers)


def single_event(event: StreamEvent, headers: dict[str, str], keepalive: float) -> Response:
    async def one() -> AsyncIterator[bytes]:
        yield frame(event)

    return sse_response(one(), headers, keepalive)

