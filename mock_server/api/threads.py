"""`/threads`: create, search, count, get, patch and delete threads."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..auth import owned, stamp
from ..deviations import Hook
from ..errors import ApiError
from ..retention import set_ttl
from ..services import Services
from ..store import Thread
from ..views import thread_view
from ..wire import now_iso
from .common import contains, error_response, json_response, page, read_body, services


def thread_out(svc: Services, thread: Thread) -> dict[str, Any]:
    """A thread as answered (the `THREAD_BODY` hook point)."""
    deviations = svc.controls.deviations
    if not deviations.at(Hook.THREAD_BODY):
        return thread_view(thread)
    body: dict[str, Any] = deviations.apply(Hook.THREAD_BODY, thread_view(thread), load=svc.scheduler.load_on_others(thread.thread_id))
    return body


def _filter(svc: Services, body: dict[str, Any]) -> list[Thread]:
    threads = [t for t in svc.store.threads.values() if owned(t)]  # users mode: the caller's only (auth.py)
    if body.get("ids"):
        wanted = set(body["ids"])
        threads = [t for t in threads if t.thread_id in wanted]
    if body.get("status"):
        threads = [t for t in threads if t.status == body["status"]]
    if body.get("metadata"):
        threads = [t for t in threads if contains(t.metadata, body["metadata"])]
    if body.get("values"):
        threads = [t for t in threads if contains(t.values, body["values"])]
    return threads


async def create_thread(request: Request) -> Response:
    body = await read_body(request)
    svc = services(request)
    thread = svc.threads.create(body.get("thread_id"), stamp(body.get("metadata")), body.get("if_exists") or "raise")
    set_ttl(thread, body.get("ttl"))
    if body.get("supersteps"):
        try:
            assistant = svc.threads.graph_of(thread)
        except ApiError as exc:
            # As the official server: the thread exists now; 201 says its state could not be set.
            return error_response(201, f"Thread {thread.thread_id} was created, but there were problems updating the state: {exc.detail}")
        await svc.threads.apply_supersteps(thread, assistant, body["supersteps"])  # a bad update: 400, the thread stays
    return json_response(thread_out(svc, thread))


async def search_threads(request: Request) -> Response:
    body = await read_body(request)
    svc = services(request)
    threads = _filter(svc, body)
    sort_by = body.get("sort_by") or "created_at"
    threads.sort(key=lambda t: (getattr(t, sort_by, "") or ""), reverse=(body.get("sort_order") or "desc") == "desc")
    items = [thread_out(svc, t) for t in threads]
    if body.get("select"):
        items = [{k: v for k, v in item.items() if k in body["select"]} for item in items]
    return page(items, int(body.get("limit", 10)), int(body.get("offset", 0)))


async def count_threads(request: Request) -> Response:
    body = await read_body(request)
    return json_response(len(_filter(services(request), body)))


async def get_thread(request: Request) -> Response:
    svc = services(request)
    return json_response(thread_out(svc, svc.threads.get(request.path_params["thread_id"])))


async def patch_thread(request: Request) -> Response:
    body = await read_body(request)
    svc = services(request)
    thread = svc.threads.get(request.path_params["thread_id"], detail="Not Found")
    thread.metadata = {**thread.metadata, **(stamp(body.get("metadata")) or {})}
    set_ttl(thread, body.get("ttl"))
    thread.updated_at = now_iso()
    return json_response(thread_out(svc, thread))


async def delete_thread(request: Request) -> Response:
    svc = services(request)
    svc.threads.delete(svc.threads.get(request.path_params["thread_id"]))
    return Response(status_code=204)


routes = [
    Route("/threads", create_thread, methods=["POST"]),
    Route("/threads/search", search_threads, methods=["POST"]),
    Route("/threads/count", count_threads, methods=["POST"]),
    Route("/threads/{thread_id}", get_thread, methods=["GET"]),
    Route("/threads/{thread_id}", patch_thread, methods=["PATCH"]),
    Route("/threads/{thread_id}", delete_thread, methods=["DELETE"]),
]
