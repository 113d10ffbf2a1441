"""Thread streams (protocol v2): `POST /threads/{id}/commands`, `POST /threads/{id}/stream/events` (SSE) and the
WebSocket on the same path, answered as langgraph-api 0.16.7 answers them (langgraph_api/api/event_streaming.py).

Bodies are read as the official server reads them, not through the spec's validators: a body that is not JSON is
400 `{"detail": "Invalid JSON body"}`, a command without an integer `id` and a string `method` is 400 with a
`ProtocolError`, and a stream without a non-empty `channels` array of known channels is 400. A stream on a thread
that does not exist yet is answered (and gets the thread's events once a `run.start` makes it); it stays open,
with `: heartbeat` comments, until the client leaves. With per-user auth, a stream on a thread the caller does not own
ends at once, empty, as the official one does when its auth check fails. `since` (in the body) replays the events after that `seq`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from ..auth import hidden
from ..protocol.commands import Context, error, handle, malformed
from ..protocol.hub import ProtocolHub
from ..protocol.log import Filter, Listener, ThreadLog, is_channel
from ..protocol.subscriptions import Socket
from ..wire import loads
from .common import json_response, services
from .sse import sse_response

ALLOWED = "Allowed: values, updates, messages, tools, custom, lifecycle, input, tasks, or any `custom:<name>`."
NOT_JSON = {"detail": "Invalid JSON body"}


def hub(conn: HTTPConnection) -> ProtocolHub:
    found: ProtocolHub = conn.app.state.protocol
    return found


def _context(conn: HTTPConnection, socket: Socket | None = None) -> Context:
    return Context(services(conn), hub(conn), conn.path_params["thread_id"], socket)


async def post_command(request: Request) -> Response:
    try:
        payload = loads(await request.body())
    except ValueError:
        return json_response(NOT_JSON, 400)
    if (problem := malformed(payload)) is not None:
        return json_response(problem, 400)
    return json_response(await handle(_context(request), payload))


def _stream_filter(body: Any) -> tuple[Filter, int | None] | str:
    """The stream's filter and `since`, or the 400 detail."""
    channels = body.get("channels") if isinstance(body, dict) else None
    if not isinstance(channels, list) or not channels:
        return "channels is required and must be a non-empty array"
    bad = [c if isinstance(c, str) else repr(c) for c in channels if not is_channel(c)]
    if bad:
        return f"channels contains unsupported entries: {', '.join(bad[:5])}. {ALLOWED}"
    since = body.get("since")
    return Filter.read(channels, body.get("namespaces"), body.get("depth")), since if type(since) is int and since >= 0 else None


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield


async def _frames(log: ThreadLog, listener: Listener) -> AsyncIterator[bytes]:
    try:
        while (event := await listener.queue.get()) is not None:
            yield b"event: %s\r\ndata: %s\r\nid: %d\r\n\r\n" % (event.method.encode(), event.body, event.seq)
    finally:
        log.unlisten(listener)


async def post_events(request: Request) -> Response:
    try:
        body = loads(await request.body())
    except ValueError:
        return json_response(NOT_JSON, 400)
    found = _stream_filter(body)
    if isinstance(found, str):
        return json_response({"detail": found}, 400)
    stream_filter, since = found
    keepalive = services(request).settings.keepalive_seconds
    if hidden(services(request).store, request.path_params["thread_id"]):  # users mode (auth.py): not the caller's
        return sse_response(_nothing(), {}, keepalive)  # the official stream ends at once (its auth check fails)
    log = hub(request).log(_context(request).key)
    listener = log.listen(stream_filter.matches, since)
    return sse_response(_frames(log, listener), {}, keepalive)


async def _ws_answer(ctx: Context, raw: str | bytes | None) -> dict[str, Any]:
    try:
        payload = loads(raw or b"")
    except ValueError:
        return error(None, "invalid_argument", "Protocol commands must be valid JSON.")
    return malformed(payload) or await handle(ctx, payload)


async def _ws_send(websocket: WebSocket, socket: Socket) -> None:
    while (text := await socket.outbox.get()) is not None:
        await websocket.send_text(text.decode())
    with contextlib.suppress(Exception):  # a socket that fell too far behind is closed
        await websocket.close(1011, "fell behind the thread stream")


async def websocket_events(websocket: WebSocket) -> None:
    """The full-duplex transport: commands in (the same envelopes), answers and subscribed events out."""
    await websocket.accept()
    ctx = _context(websocket)
    ctx.socket = socket = Socket(hub(websocket).log(ctx.key))
    sender = asyncio.create_task(_ws_send(websocket, socket))
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            socket.reply(await _ws_answer(ctx, message.get("text") or message.get("bytes")))
    except WebSocketDisconnect:
        pass
    finally:
        socket.close()
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender


routes = [
    Route("/threads/{thread_id}/commands", post_command, methods=["POST"]),
    Route("/threads/{thread_id}/stream/events", post_events, methods=["POST"]),
]
websocket_routes = [WebSocketRoute("/threads/{thread_id}/stream/events", websocket_events)]
