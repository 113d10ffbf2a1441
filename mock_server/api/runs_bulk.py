"""Runs by id alone and in bulk: `GET /runs/{run_id}`, `POST /runs/cancel` and `POST /runs/batch`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..auth import claim, hidden, owned, stamp
from ..errors import ApiError, invalid_uuid
from ..store import Run
from ..types import CancelAction
from ..views import run_view
from ..wire import is_uuid
from .common import json_response, read_body, services

NONE_TO_CANCEL = "No runs found to cancel."


def cancel_action(request: Request) -> CancelAction:
    """The `action` query parameter, validated against the spec's enum (422 for anything else)."""
    action = request.query_params.get("action") or CancelAction.INTERRUPT.value
    if action not in tuple(CancelAction):
        raise ApiError(422, f'Invalid action {action!r}: must be "interrupt" or "rollback"')
    return CancelAction(action)


async def get_run_by_id(request: Request) -> Response:
    """A run by its id alone: what a stateless run's `Content-Location` names."""
    svc = services(request)
    run_id = request.path_params["run_id"]
    if not is_uuid(run_id):
        raise invalid_uuid("run")
    run = svc.store.runs.get(run_id)
    thread = svc.store.threads.get(run.thread_id) if run is not None else None
    if run is None or (thread is not None and not owned(thread)):
        raise ApiError(404, "Run not found")
    return json_response(run_view(run))


async def cancel_runs(request: Request) -> Response:
    """Cancel the active runs the body selects, by thread and ids or by status; 404 when none was."""
    body = await read_body(request)
    action = cancel_action(request)
    svc = services(request)
    if "status" in body:
        wanted = {"pending", "running"} if body["status"] == "all" else {body["status"]}
        selected = [r for r in svc.store.runs.values() if r.status in wanted and _visible(request, r)]
    else:
        ids = set(body["run_ids"])
        thread_id = str(body["thread_id"]).lower()
        selected = [] if hidden(svc.store, thread_id) else [r for r in svc.store.runs_of(thread_id) if r.run_id in ids]
    selected = [r for r in selected if r.active]
    if not selected:
        raise ApiError(404, NONE_TO_CANCEL)
    for run in selected:
        svc.scheduler.cancel(run, action)
    return Response(status_code=204)


def _visible(request: Request, run: Run) -> bool:
    thread = services(request).store.threads.get(run.thread_id)
    return thread is None or owned(thread)


async def create_batch(request: Request) -> Response:
    """Each item a `POST /runs` body, each run on its own temporary thread; all are checked before any starts."""
    items = await read_body(request)
    svc = services(request)
    for item in items:  # resolve every assistant first, so a bad item creates nothing
        svc.scheduler.resolve_assistant(item["assistant_id"])
    runs: list[Run] = []
    for item in items:
        if (metadata := stamp(item.get("metadata"))) is not item.get("metadata"):
            item = {**item, "metadata": metadata}
        run = svc.scheduler.create_run(None, item)
        claim(svc.store.threads.get(run.thread_id))
        run.events.awaiting_first_join = True
        run.request_id = runs[0].request_id if runs else run.request_id  # one request: one request id, as officially
        runs.append(run)
    return json_response([run_view(run) for run in runs])


routes = [
    Route("/runs/cancel", cancel_runs, methods=["POST"]),
    Route("/runs/batch", create_batch, methods=["POST"]),
    Route("/runs/{run_id}", get_run_by_id, methods=["GET"]),
]
