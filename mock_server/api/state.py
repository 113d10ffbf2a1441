"""`/threads/{thread_id}/state` and `/history`: a thread's checkpoints, read and written through LangGraph."""

from __future__ import annotations

from typing import Any

from langgraph.errors import InvalidUpdateError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..deviations import Hook
from ..errors import ApiError
from ..runs.broker import StreamEvent
from ..wire import dumps, is_uuid
from .common import json_response, query_bool, query_int, read_body, services
from .threads import thread_out


async def get_state(request: Request) -> Response:
    svc = services(request)
    thread = svc.threads.get(request.path_params["thread_id"])
    assistant = svc.threads.assistant_of(thread)
    state = await svc.engine.state(assistant, thread.thread_id, subgraphs=query_bool(request, "subgraphs"), legacy=svc.controls.legacy_interrupts)
    deviations = svc.controls.deviations
    if deviations.at(Hook.STATE_BODY):
        parent = await svc.engine.state(assistant, thread.thread_id, checkpoint_id=state["parent_checkpoint_id"]) if state["parent_checkpoint_id"] else {}
        state = deviations.apply(Hook.STATE_BODY, state, parent_next=parent.get("next", []))
    return json_response(state)


async def get_state_at(request: Request) -> Response:
    """`GET /threads/{id}/state/{checkpoint_id}`: the state at one checkpoint (an unknown id: an empty state naming it)."""
    checkpoint = {"checkpoint_id": request.path_params["checkpoint_id"]}
    return await _state_at(request, checkpoint, query_bool(request, "subgraphs"))


async def post_state_at(request: Request) -> Response:
    """`POST /threads/{id}/state/checkpoint`: the same, addressed by a `CheckpointConfig` (a subgraph's namespace too)."""
    body = await read_body(request)
    return await _state_at(request, dict(body["checkpoint"]), bool(body.get("subgraphs")))


async def _state_at(request: Request, checkpoint: dict[str, Any], subgraphs: bool) -> Response:
    svc = services(request)
    thread = svc.threads.get(request.path_params["thread_id"])
    checkpoint = svc.controls.deviations.apply(Hook.STATE_AT, checkpoint)
    state = await svc.engine.state_at(svc.threads.assistant_of(thread), thread.thread_id, checkpoint, subgraphs, svc.controls.legacy_interrupts)
    return json_response(state)


async def copy_thread(request: Request) -> Response:
    """`POST /threads/{id}/copy`: a new thread with the same metadata and checkpoints. As on the official server, a
    malformed id is a 400 and an unknown thread a 409 `Conflict`."""
    svc = services(request)
    thread_id = request.path_params["thread_id"]
    if not is_uuid(thread_id):
        raise ApiError(400, "badly formed hexadecimal UUID string")
    try:
        thread = svc.threads.get(thread_id)
    except ApiError as exc:
        raise ApiError(409, "Conflict") from exc
    return json_response(thread_out(svc, svc.threads.copy(thread)))


async def update_state(request: Request) -> Response:
    body = await read_body(request)
    svc = services(request)
    thread = svc.threads.get(request.path_params["thread_id"])
    assistant = svc.threads.graph_of(thread)
    if svc.store.active_runs(thread.thread_id):
        raise ApiError(409, "Thread is busy: wait for its runs to finish before updating its state")
    checkpoint = dict(body.get("checkpoint") or {})
    if body.get("checkpoint_id"):
        checkpoint["checkpoint_id"] = body["checkpoint_id"]
    async with thread.lock():  # a run created while this writes waits for it (executor.py takes the same lock)
        try:
            result = await svc.engine.update_state(assistant, thread.thread_id, body.get("values"), body.get("as_node"), checkpoint)
        except InvalidUpdateError as exc:
            raise ApiError(400, str(exc).split("\n")[0]) from None
        except ValueError as exc:  # LangGraph: "Subgraph <ns> not found" for a checkpoint_ns the graph does not have
            if "Subgraph" not in str(exc):
                raise
            raise ApiError(400, f"checkpoint.checkpoint_ns names no subgraph of this graph: {exc}") from None
        await svc.threads.refresh(thread, error=None, at=checkpoint if checkpoint.get("checkpoint_id") else None)
    if svc.feeds.watching(thread.thread_id):  # GET /threads/{id}/stream shows the update (live only, as officially)
        state = await svc.engine.state(assistant, thread.thread_id, legacy=svc.controls.legacy_interrupts)
        svc.feeds.publish(thread.thread_id, StreamEvent("state_update", dumps({"state": state, "thread_id": thread.thread_id})))
    return json_response(result)


async def _history(request: Request, limit: int, before: Any, metadata: Any, checkpoint: Any) -> Response:
    svc = services(request)
    thread = svc.threads.get(request.path_params["thread_id"])
    states = await svc.engine.history(
        svc.threads.assistant_of(thread),
        thread.thread_id,
        limit=limit,
        before=before,
        metadata=metadata,
        checkpoint=checkpoint,
        legacy=svc.controls.legacy_interrupts,
    )
    return json_response(svc.controls.deviations.apply(Hook.HISTORY_BODY, states))


async def get_history(request: Request) -> Response:
    return await _history(request, query_int(request, "limit", 10), request.query_params.get("before"), None, None)


async def post_history(request: Request) -> Response:
    body = await read_body(request)
    return await _history(request, int(body.get("limit", 10)), _before(body.get("before")), body.get("metadata"), body.get("checkpoint"))


def _before(before: Any) -> Any:
    """`before` as LangGraph takes it. The spec's `CheckpointConfig` (`{"checkpoint_id": …}`, what the SDKs send) and
    a config (`{"configurable": {"checkpoint_id": …}}`) both name a checkpoint; with no `checkpoint_id`, nothing
    bounds the history. (Measured on the official server 0.16.7: the config shape works; the spec's shape and any
    malformed `before` answer a plain-text 500. README, "deliberate differences".)"""
    if before is None:
        return None
    configurable = before.get("configurable", before)
    if not isinstance(configurable, dict):
        raise ApiError(422, "before.configurable must be an object naming a checkpoint_id")
    checkpoint_id = configurable.get("checkpoint_id")
    if checkpoint_id is None:
        return None
    if not isinstance(checkpoint_id, str):
        raise ApiError(422, "before.checkpoint_id must be a string")
    return {"configurable": {"checkpoint_id": checkpoint_id}}


routes = [
    Route("/threads/{thread_id}/state", get_state, methods=["GET"]),
    Route("/threads/{thread_id}/state", update_state, methods=["POST"]),
    Route("/threads/{thread_id}/state/checkpoint", post_state_at, methods=["POST"]),
    Route("/threads/{thread_id}/state/{checkpoint_id}", get_state_at, methods=["GET"]),
    Route("/threads/{thread_id}/copy", copy_thread, methods=["POST"]),
    Route("/threads/{thread_id}/history", get_history, methods=["GET"]),
    Route("/threads/{thread_id}/history", post_history, methods=["POST"]),
]
