"""`GET /threads/{thread_id}/stream`: every run on a thread in one SSE stream, answered as langgraph-api 0.16.7
answers it (langgraph_api/api/threads.py, `join_thread_stream`).

Checked in the official order, each a 422 `{"detail"}`: the thread id parses as a UUID, `Last-Event-ID` is `-` or
`<ms>[-<seq>|-*]`, every `stream_modes` item (the last occurrence of the parameter, comma-separated) is `run_modes`,
`lifecycle` or `state_update` (default `run_modes`). The thread need not exist: the stream is answered and gets its
runs once there are any. It never ends on its own; `: heartbeat` comments keep it open. With per-user auth, a
thread the caller does not own is a 404, as the official auth check answers it. The run layer is
runs/thread_feed.py.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..auth import hidden
from ..errors import ApiError
from ..runs.thread_feed import LAST_EVENT_ID, MODES, ThreadFeeds, Watcher
from .common import services
from .sse import frame, sse_response


def _thread_id(raw: str) -> str:
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise ApiError(422, "Invalid thread ID: must be a UUID") from None


def _last_event_id(request: Request) -> str | None:
    value = request.headers.get("last-event-id") or None
    if value is not None and value != "-" and not LAST_EVENT_ID.match(value):
        raise ApiError(422, "Invalid last-event-id: must be a valid Redis stream ID")
    return value


def _modes(request: Request) -> frozenset[str]:
    raw = request.query_params.get("stream_modes")  # the last occurrence, as the official server reads it
    if not raw:
        return frozenset({"run_modes"})
    modes = [m.strip() for m in raw.split(",")]
    if bad := next((m for m in modes if m not in MODES), None):
        raise ApiError(422, f"Invalid stream mode: {bad}")
    return frozenset(modes)


async def _frames(feeds: ThreadFeeds, thread_id: str, watcher: Watcher) -> AsyncIterator[bytes]:
    try:
        while (item := await watcher.get()) is not None:
            yield frame(item)
    finally:
        feeds.unwatch(thread_id, watcher)


async def join_thread_stream(request: Request) -> Response:
    thread_id = _thread_id(request.path_params["thread_id"])
    last_event_id = _last_event_id(request)
    modes = _modes(request)
    svc = services(request)
    if hidden(svc.store, thread_id):  # users mode (auth.py): another user's thread
        raise ApiError(404, "Thread not found")
    watcher = svc.feeds.watch(thread_id, modes, last_event_id)
    headers = {"cache-control": "no-store", "x-accel-buffering": "no"}
    return sse_response(_frames(svc.feeds, thread_id, watcher), headers, svc.settings.keepalive_seconds)


routes = [Route("/threads/{thread_id}/stream", join_thread_stream, methods=["GET"])]
