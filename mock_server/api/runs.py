"""Runs: create (background, wait, stream; on a thread or stateless), list, get, delete, join, join-stream, cancel."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..auth import claim, hidden, stamp
from ..deviations import Hook
from ..errors import ApiError, invalid_uuid
from ..runs.broker import StreamEvent
from ..runs.result import RUN_NOT_FOUND, thread_fallback
from ..services import Services
from ..store import Run
from ..types import CancelAction
from ..views import run_view
from ..wire import dumps, is_uuid
from .common import json_response, query_bool, query_int, read_body, services, stream_modes
from .middleware import dropped_after
from .runs_bulk import cancel_action
from .sse import chunked, event_frames, single_event, sse_response, streaming_json, wait_body

NOT_CANCELLABLE = (
    "No matching runs to cancel. Please verify the thread ID and run IDs are correct, and the runs haven't been deleted or completed."
)
THREAD_NOT_FOUND = {"error": "HTTPException", "message": "404: Thread not found"}  # joins, in users mode (auth.py)


def run_path(run: Run) -> str:
    return f"/threads/{run.thread_id}/runs/{run.run_id}"


def run_out(svc: Services, run: Run) -> dict[str, Any]:
    """A run as answered (the `RUN_BODY` hook point)."""
    body: dict[str, Any] = svc.controls.deviations.apply(Hook.RUN_BODY, run_view(run), result=run.result)
    return body


def _get_run(request: Request) -> Run:
    svc = services(request)
    thread = svc.threads.get(request.path_params["thread_id"])
    run_id = request.path_params["run_id"]
    if not is_uuid(run_id):
        raise invalid_uuid("run")
    run = svc.store.runs.get(run_id)
    if run is None or run.thread_id != thread.thread_id:
        raise ApiError(404, "Not Found")
    return run


async def _create(request: Request) -> tuple[Services, Run, dict[str, Any]]:
    body = await read_body(request)
    svc = services(request)
    if (metadata := stamp(body.get("metadata"))) is not body.get("metadata"):  # users mode: the caller's run (auth.py)
        body = {**body, "metadata": metadata}
    run = svc.scheduler.create_run(request.path_params.get("thread_id"), body)
    claim(svc.store.threads.get(run.thread_id))  # and the thread it created, if it did
    return svc, run, body


async def create_run(request: Request) -> Response:
    _, run, _ = await _create(request)
    run.events.awaiting_first_join = True
    location = run_path(run) if "thread_id" in request.path_params else f"/runs/{run.run_id}"
    return json_response(run_view(run), headers={"Content-Location": location})


async def wait_run(request: Request) -> Response:
    svc, run, body = await _create(request)
    base = run_path(run)
    headers = svc.controls.deviations.apply(Hook.WAIT_HEADERS, {"Location": f"{base}/join", "Content-Location": base})
    return streaming_json(wait_body(svc, run, body.get("on_disconnect") == "cancel"), headers)


async def stream_run(request: Request) -> Response:
    svc, run, body = await _create(request)
    queue = run.events.subscribe()
    base = run_path(run) if "thread_id" in request.path_params else f"/runs/{run.run_id}"
    headers = svc.controls.deviations.apply(Hook.STREAM_HEADERS, {"Location": f"{base}/stream", "Content-Location": base})
    frames = event_frames(svc, run, queue, body.get("on_disconnect") == "cancel", dropped_after(request))
    return sse_response(frames, headers, svc.settings.keepalive_seconds)


async def list_runs(request: Request) -> Response:
    svc = services(request)
    thread = svc.threads.get(request.path_params["thread_id"])
    runs = list(reversed(svc.store.runs_of(thread.thread_id)))
    status = request.query_params.get("status")
    if status:
        runs = [r for r in runs if r.status == status]
    offset = query_int(request, "offset", 0)
    shown = [run_out(svc, r) for r in runs[offset : offset + query_int(request, "limit", 10)]]
    return json_response(svc.controls.deviations.apply(Hook.RUN_LIST, shown))


async def get_run(request: Request) -> Response:
    return json_response(run_out(services(request), _get_run(request)))


def _hidden(request: Request) -> bool:
    """Users mode (auth.py): the path names no thread the caller owns, which the official server's joins, cancel and
    run delete check before they look for the run."""
    return is_uuid(request.path_params["run_id"]) and hidden(services(request).store, request.path_params["thread_id"])


async def delete_run(request: Request) -> Response:
    if _hidden(request):
        raise ApiError(404, "Not Found")
    try:
        run = _get_run(request)
    except ApiError as exc:  # an unknown run or thread: the official server's detail for both
        if exc.status != 404:
            raise
        raise ApiError(404, "Run not found") from None
    svc = services(request)
    if run.active:
        svc.scheduler.cancel(run, CancelAction.INTERRUPT)
    svc.store.remove_run(run)
    return Response(status_code=204)


def _join_target(request: Request, suffix: str) -> tuple[Run | dict[str, str], dict[str, str]]:
    """The run a join names, or the error the official server reports in-band, with HTTP 200, instead (an unknown
    run; in users mode, a thread the caller does not own); and the headers the join answers with."""
    base = f"/threads/{request.path_params['thread_id']}/runs/{request.path_params['run_id']}"
    headers = {"Location": f"{base}/{suffix}", "Content-Location": base}
    if _hidden(request):
        return THREAD_NOT_FOUND, headers
    try:
        return _get_run(request), headers
    except ApiError as exc:  # an unknown run, or an unknown thread
        if exc.status != 404:
            raise
        return RUN_NOT_FOUND, headers


async def join_run(request: Request) -> Response:
    svc = services(request)
    run, headers = _join_target(request, "join")
    if run is THREAD_NOT_FOUND:
        raise ApiError(404, "Thread not found")  # not in-band: the official server checks this before it answers
    if not isinstance(run, Run):
        return chunked(dumps({"__error__": run}), headers)
    first = run.events.claim_first_join()  # an active run's first join also uses up the claim
    if run.finished and not first:
        # The official server answers a finished run from the thread's current state, not the run's result.
        fallback = thread_fallback(svc.store.threads[run.thread_id])
        return chunked(svc.controls.deviations.apply(Hook.WAIT_RESULT, fallback, run=run, join=True), headers)
    return streaming_json(wait_body(svc, run, query_bool(request, "cancel_on_disconnect"), join=True), headers)


async def join_run_stream(request: Request) -> Response:
    svc = services(request)
    keepalive = svc.settings.keepalive_seconds
    run, headers = _join_target(request, "stream")
    if not isinstance(run, Run):
        return single_event(StreamEvent("error", dumps(run)), headers, keepalive)
    last_event_id = svc.controls.deviations.apply(Hook.LAST_EVENT_ID, request.headers.get("last-event-id"))
    queue = run.events.subscribe(last_event_id, stream_modes(request))
    frames = event_frames(svc, run, queue, query_bool(request, "cancel_on_disconnect"), dropped_after(request))
    return sse_response(frames, headers, keepalive)


async def cancel_run(request: Request) -> Response:
    if _hidden(request):
        raise ApiError(404, "No runs found to cancel.")
    svc = services(request)
    try:
        thread_id = svc.threads.get(request.path_params["thread_id"]).thread_id
    except ApiError as exc:  # an unknown thread: the official server answers as for an unknown run
        if exc.status != 404:
            raise
        thread_id = None
    run_id = request.path_params["run_id"]
    run = svc.store.runs.get(run_id) if is_uuid(run_id) else None
    if run is None or run.thread_id != thread_id:
        raise ApiError(404, "No runs found to cancel.")
    if not run.active:
        raise ApiError(404, NOT_CANCELLABLE)
    action = svc.controls.deviations.apply(Hook.CANCEL, cancel_action(request))
    if action is not None:
        svc.scheduler.cancel(run, action)
    if query_bool(request, "wait"):
        await run.events.wait_finished()
        return json_response({}, headers={"Location": f"{run_path(run)}/join", "Content-Location": run_path(run)})
    return Response(status_code=202)


routes = [
    Route("/threads/{thread_id}/runs", create_run, methods=["POST"]),
    Route("/runs", create_run, methods=["POST"]),
    Route("/threads/{thread_id}/runs/wait", wait_run, methods=["POST"]),
    Route("/runs/wait", wait_run, methods=["POST"]),
    Route("/threads/{thread_id}/runs/stream", stream_run, methods=["POST"]),
    Route("/runs/stream", stream_run, methods=["POST"]),
    Route("/threads/{thread_id}/runs", list_runs, methods=["GET"]),
    Route("/threads/{thread_id}/runs/{run_id}", get_run, methods=["GET"]),
    Route("/threads/{thread_id}/runs/{run_id}", delete_run, methods=["DELETE"]),
    Route("/threads/{thread_id}/runs/{run_id}/join", join_run, methods=["GET"]),
    Route("/threads/{thread_id}/runs/{run_id}/stream", join_run_stream, methods=["GET"]),
    Route("/threads/{thread_id}/runs/{run_id}/cancel", cancel_run, methods=["POST"]),
]
