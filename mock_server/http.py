"""HTTP: every route of the contract, with bodies validated against `openapi/`, SSE in the official byte
format, `{"detail"}` errors, `Location`/`Content-Location` headers and CORS as the official server sends."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from langgraph.errors import InvalidUpdateError
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from . import __version__, contract
from .admin import ADMIN_ROUTES
from .deviations import check_names
from .engine import Engine
from .faults import Fault, Faults
from .journal import Journal, JournalMiddleware
from .runs import ApiError, RunManager, thread_fallback
from .scenarios import LoadedGraph
from .store import ACTIVE, Run, Store, StreamEvent
from .wire import dumps, is_uuid, loads, now_iso

Handler = Callable[[Request], Awaitable[Response]]
ROUTES: list[Route] = []
KEEPALIVE_SECONDS = 5.0


def route(path: str, method: str) -> Callable[[Handler], Handler]:
    """Register a handler for a path of the spec (same template syntax as Starlette)."""

    def register(handler: Handler) -> Handler:
        ROUTES.append(Route(path, handler, methods=[method]))
        return handler

    return register


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(body), status_code=status, media_type="application/json", headers=headers)


def error_response(status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    return json_response({"detail": detail}, status, headers)


async def read_body(request: Request) -> Any:
    """The JSON body, validated against the operation's request schema in the spec (422 otherwise)."""
    raw = await request.body()
    try:
        body = loads(raw)
    except ValueError:
        raise ApiError(422, "Invalid JSON in request body") from None
    op = contract.operation_for(request.method, request.scope["route"].path)
    try:
        op.validate(body)
    except contract.BodyError as exc:
        raise ApiError(422, str(exc)) from None
    return body


def manager(request: Request) -> RunManager:
    return request.app.state.manager


def query_int(request: Request, name: str, default: int) -> int:
    value = request.query_params.get(name)
    try:
        return int(value) if value is not None else default
    except ValueError:
        raise ApiError(422, f"Invalid {name}: must be an integer") from None


def stream_modes(request: Request) -> set[str] | None:
    """`?stream_mode=` in the encodings the JS SDKs send: repeated keys (1.15) or one JSON array (2.0)."""
    modes: list[str] = []
    for value in request.query_params.getlist("stream_mode"):
        if value.startswith("["):
            try:
                parsed = loads(value)
            except ValueError:
                raise ApiError(422, f"Invalid stream_mode: {value}") from None
            modes += [m for m in parsed if isinstance(m, str)] if isinstance(parsed, list) else []
        elif value:
            modes.append(value)
    return {"messages" if m == "messages-tuple" else m for m in modes} or None


def query_bool(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in ("1", "true", "yes")


# -- system -------------------------------------------------------------------------------------------------


@route("/ok", "GET")
async def ok(request: Request) -> Response:
    return json_response({"ok": True, "services": {}})


@route("/info", "GET")
async def info(request: Request) -> Response:
    from langgraph.version import __version__ as langgraph_version

    return json_response(
        {
            "version": f"hitl-mock-{__version__}",
            "langgraph_py_version": langgraph_version,
            "flags": {"assistants": True, "crons": False, "langsmith": False},
            "host": {"kind": "hitl-mock", "project_id": None, "host_revision_id": None, "revision_id": None, "tenant_id": None},
        }
    )


@route("/openapi.json", "GET")
async def openapi(request: Request) -> Response:
    return Response(contract.spec_json(), media_type="application/json")


# -- assistants ---------------------------------------------------------------------------------------------


@route("/assistants/search", "POST")
async def search_assistants(request: Request) -> Response:
    body = await read_body(request)
    engine = request.app.state.engine
    found = [a.to_wire() for a in reversed(engine.assistants.values())]
    if "graph_id" in body and body["graph_id"] is not None:
        if body["graph_id"] not in engine.assistants:
            raise ApiError(404, f"Graph '{body['graph_id']}' not found. Expected one of: {list(engine.assistants)}")
        found = [a for a in found if a["graph_id"] == body["graph_id"]]
    if body.get("name"):
        found = [a for a in found if a["name"] == body["name"]]
    if body.get("metadata"):
        found = [a for a in found if _contains(a["metadata"], body["metadata"])]
    return _page(found, int(body.get("limit", 10)), int(body.get("offset", 0)))


@route("/assistants/{assistant_id}", "GET")
async def get_assistant(request: Request) -> Response:
    assistant_id = request.path_params["assistant_id"]
    if not is_uuid(assistant_id):
        raise ApiError(422, "Invalid assistant ID: must be a UUID")
    assistant = request.app.state.engine.resolve(assistant_id)
    if assistant is None:
        raise ApiError(404, "Not Found")
    return json_response(assistant.to_wire())


# -- threads ------------------------------------------------------------------------------------------------


def _contains(have: Any, want: Any) -> bool:
    """Subset match, as the search filters use (`{"a": {"b": 1}}` matches `{"a": {"b": 1, "c": 2}}`)."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(k in have and _contains(have[k], v) for k, v in want.items())
    return bool(have == want)


def _page(items: list[Any], limit: int, offset: int) -> Response:
    page = items[offset : offset + limit]
    headers = {}
    if offset + limit < len(items):
        # The official server reports offset + returned + 1 (not the total) when there is a next page.
        headers["x-pagination-next"] = str(offset + limit)
        headers["x-pagination-total"] = str(offset + len(page) + 1)
    else:
        headers["x-pagination-total"] = str(offset + len(page))
    return json_response(page, headers=headers)


def _filter_threads(request: Request, body: dict[str, Any]) -> list[Any]:
    threads = list(request.app.state.store.threads.values())
    if body.get("ids"):
        wanted = set(body["ids"])
        threads = [t for t in threads if t.thread_id in wanted]
    if body.get("status"):
        threads = [t for t in threads if t.status == body["status"]]
    if body.get("metadata"):
        threads = [t for t in threads if _contains(t.metadata, body["metadata"])]
    if body.get("values"):
        threads = [t for t in threads if _contains(t.values, body["values"])]
    return threads


@route("/threads", "POST")
async def create_thread(request: Request) -> Response:
    body = await read_body(request)
    mgr = manager(request)
    thread = mgr.create_thread(body.get("thread_id"), body.get("metadata"), body.get("if_exists") or "raise")
    if body.get("supersteps"):
        try:
            await mgr.apply_supersteps(thread, body["supersteps"])
        except ApiError as exc:
            # As the official server: the thread exists now; 201 says its state could not be set.
            detail = f"Thread {thread.thread_id} was created, but there were problems updating the state: {exc.detail}"
            return error_response(201, detail)
    return json_response(thread_out(mgr, thread))


@route("/threads/search", "POST")
async def search_threads(request: Request) -> Response:
    body = await read_body(request)
    threads = _filter_threads(request, body)
    sort_by = body.get("sort_by") or "created_at"
    threads.sort(key=lambda t: (getattr(t, sort_by, "") or ""), reverse=(body.get("sort_order") or "desc") == "desc")
    items = [thread_out(manager(request), t) for t in threads]
    if body.get("select"):
        items = [{k: v for k, v in item.items() if k in body["select"]} for item in items]
    return _page(items, int(body.get("limit", 10)), int(body.get("offset", 0)))


@route("/threads/count", "POST")
async def count_threads(request: Request) -> Response:
    body = await read_body(request)
    return json_response(len(_filter_threads(request, body)))


@route("/threads/{thread_id}", "GET")
async def get_thread(request: Request) -> Response:
    mgr = manager(request)
    return json_response(thread_out(mgr, mgr.get_thread(request.path_params["thread_id"])))


@route("/threads/{thread_id}", "PATCH")
async def patch_thread(request: Request) -> Response:
    body = await read_body(request)
    thread = manager(request).get_thread(request.path_params["thread_id"], detail="Not Found")
    thread.metadata = {**thread.metadata, **(body.get("metadata") or {})}
    thread.updated_at = now_iso()
    return json_response(thread_out(manager(request), thread))


@route("/threads/{thread_id}", "DELETE")
async def delete_thread(request: Request) -> Response:
    mgr = manager(request)
    await mgr.delete_thread(mgr.get_thread(request.path_params["thread_id"]))
    return Response(status_code=204)


@route("/threads/{thread_id}/state", "GET")
async def get_state(request: Request) -> Response:
    mgr = manager(request)
    thread = mgr.get_thread(request.path_params["thread_id"])
    state = await mgr.engine.state(mgr.assistant_of(thread), thread.thread_id, subgraphs=query_bool(request, "subgraphs"), legacy=mgr.legacy_interrupts)
    return json_response(state)


@route("/threads/{thread_id}/state", "POST")
async def update_state(request: Request) -> Response:
    body = await read_body(request)
    mgr = manager(request)
    thread = mgr.get_thread(request.path_params["thread_id"])
    assistant = mgr.graph_of(thread)
    if mgr.store.active_runs(thread.thread_id):
        raise ApiError(409, "Thread is busy: wait for its runs to finish before updating its state")
    checkpoint = dict(body.get("checkpoint") or {})
    if body.get("checkpoint_id"):
        checkpoint["checkpoint_id"] = body["checkpoint_id"]
    try:
        result = await mgr.engine.update_state(assistant, thread.thread_id, body.get("values"), body.get("as_node"), checkpoint)
    except InvalidUpdateError as exc:
        raise ApiError(400, str(exc).split("\n")[0]) from None
    await mgr.refresh_thread(thread, error=None)
    return json_response(result)


async def _history(request: Request, limit: int, before: Any, metadata: Any, checkpoint: Any) -> Response:
    mgr = manager(request)
    thread = mgr.get_thread(request.path_params["thread_id"])
    states = await mgr.engine.history(
        mgr.assistant_of(thread), thread.thread_id, limit=limit, before=before, metadata=metadata, checkpoint=checkpoint, legacy=mgr.legacy_interrupts
    )
    return json_response(states)


@route("/threads/{thread_id}/history", "GET")
async def get_history(request: Request) -> Response:
    return await _history(request, query_int(request, "limit", 10), request.query_params.get("before"), None, None)


@route("/threads/{thread_id}/history", "POST")
async def post_history(request: Request) -> Response:
    body = await read_body(request)
    return await _history(request, int(body.get("limit", 10)), body.get("before"), body.get("metadata"), body.get("checkpoint"))


# -- runs -----------------------------------------------------------------------------------------------------


def _run_path(run: Run) -> str:
    return f"/threads/{run.thread_id}/runs/{run.run_id}"


def _get_run(request: Request) -> Run:
    mgr = manager(request)
    thread = mgr.get_thread(request.path_params["thread_id"])
    run_id = request.path_params["run_id"]
    if not is_uuid(run_id):
        raise ApiError(422, "Invalid run ID: must be a UUID")
    run = mgr.store.runs.get(run_id)
    if run is None or run.thread_id != thread.thread_id:
        raise ApiError(404, "Not Found")
    return run


async def _wait_body(mgr: RunManager, run: Run, cancel_on_disconnect: bool) -> AsyncIterator[bytes]:
    """The wait/join body; a `\\n` every 5 s keeps long waits alive (JSON parsers skip leading whitespace)."""
    try:
        while not run.finished:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(run.wait_finished()), KEEPALIVE_SECONDS)
            if not run.finished:
                yield b"\n"
        result = run.result or b"{}"
        if "wait-without-values" in mgr.deviations and b'"__interrupt__"' in result:
            result = dumps({"__interrupt__": loads(result).get("__interrupt__")})
        yield result
    finally:
        if cancel_on_disconnect and not run.finished:
            mgr.cancel(run, "interrupt")


def _sse_frame(item: StreamEvent) -> bytes:
    frame = b"event: " + item.event.encode() + b"\r\ndata: " + item.data + b"\r\n"
    if item.id is not None:
        frame += b"id: " + item.id.encode() + b"\r\n"
    return frame + b"\r\n"


def sse_response(frames: AsyncIterator[bytes], headers: dict[str, str]) -> EventSourceResponse:
    return EventSourceResponse(
        frames,
        headers=headers,
        sep="\r\n",
        ping=KEEPALIVE_SECONDS,
        ping_message_factory=lambda: ServerSentEvent(comment="heartbeat", sep="\r\n"),
    )


async def _sse_body(mgr: RunManager, run: Run, queue: asyncio.Queue[StreamEvent | None], cancel_on_disconnect: bool, drop_after: int | None = None) -> AsyncIterator[bytes]:
    sent = 0
    try:
        while drop_after is None or sent < drop_after:  # an injected fault ends the stream early
            item = await queue.get()
            if item is None:
                break
            yield _sse_frame(item)
            sent += 1
    finally:
        run.unsubscribe(queue)
        if cancel_on_disconnect and not run.finished:
            mgr.cancel(run, "interrupt")


async def _create(request: Request, stateless: bool) -> tuple[RunManager, Run, dict[str, Any]]:
    body = await read_body(request)
    mgr = manager(request)
    run = mgr.create_run(None if stateless else request.path_params["thread_id"], body)
    return mgr, run, body


@route("/threads/{thread_id}/runs", "POST")
async def create_run(request: Request) -> Response:
    _, run, _ = await _create(request, stateless=False)
    run.awaiting_first_join = True
    return json_response(run.to_wire(), headers={"Content-Location": _run_path(run)})


@route("/runs", "POST")
async def create_run_stateless(request: Request) -> Response:
    _, run, _ = await _create(request, stateless=True)
    run.awaiting_first_join = True
    return json_response(run.to_wire(), headers={"Content-Location": f"/runs/{run.run_id}"})


@route("/threads/{thread_id}/runs/wait", "POST")
@route("/runs/wait", "POST")
async def wait_run(request: Request) -> Response:
    mgr, run, body = await _create(request, stateless="thread_id" not in request.path_params)
    base = _run_path(run)
    return StreamingResponse(
        _wait_body(mgr, run, body.get("on_disconnect") == "cancel"),
        media_type="application/json",
        headers={"Location": f"{base}/join", "Content-Location": base},
    )


@route("/threads/{thread_id}/runs/stream", "POST")
@route("/runs/stream", "POST")
async def stream_run(request: Request) -> Response:
    stateless = "thread_id" not in request.path_params
    mgr, run, body = await _create(request, stateless=stateless)
    queue = run.subscribe()
    base = f"/runs/{run.run_id}" if stateless else _run_path(run)
    headers = {"Location": f"{base}/stream", "Content-Location": base}
    if "stream-without-content-location" in mgr.deviations:
        del headers["Content-Location"]
    return sse_response(_sse_body(mgr, run, queue, body.get("on_disconnect") == "cancel", _drop_after(request)), headers)


@route("/threads/{thread_id}/runs", "GET")
async def list_runs(request: Request) -> Response:
    mgr = manager(request)
    thread = mgr.get_thread(request.path_params["thread_id"])
    runs = list(reversed(mgr.store.runs_of(thread.thread_id)))
    status = request.query_params.get("status")
    if status:
        runs = [r for r in runs if r.status == status]
    offset = query_int(request, "offset", 0)
    return json_response([run_out(mgr, r) for r in runs[offset : offset + query_int(request, "limit", 10)]])


@route("/threads/{thread_id}/runs/{run_id}", "GET")
async def get_run(request: Request) -> Response:
    return json_response(run_out(manager(request), _get_run(request)))


@route("/threads/{thread_id}/runs/{run_id}", "DELETE")
async def delete_run(request: Request) -> Response:
    run = _get_run(request)
    mgr = manager(request)
    if run.status in ACTIVE:
        mgr.cancel(run, "interrupt")
    mgr.store.remove_run(run)
    return Response(status_code=204)


def _chunked(body: bytes, headers: dict[str, str]) -> Response:
    """A JSON body sent chunked, as the official server sends every wait/join body."""

    async def once() -> AsyncIterator[bytes]:
        yield body

    return StreamingResponse(once(), media_type="application/json", headers=headers)


RUN_NOT_FOUND = {"error": "HTTPException", "message": "404: Run not found"}


def _join_target(request: Request, suffix: str) -> tuple[Run | None, dict[str, str]]:
    """The run a join names, and the headers the join answers with. None for an unknown run: the official
    server reports that in-band, with HTTP 200."""
    base = f"/threads/{request.path_params['thread_id']}/runs/{request.path_params['run_id']}"
    headers = {"Location": f"{base}/{suffix}", "Content-Location": base}
    try:
        return _get_run(request), headers
    except ApiError as exc:
        if exc.status != 404 or exc.detail != "Not Found":
            raise
        return None, headers


@route("/threads/{thread_id}/runs/{run_id}/join", "GET")
async def join_run(request: Request) -> Response:
    mgr = manager(request)
    run, headers = _join_target(request, "join")
    if run is None:
        return _chunked(dumps({"__error__": RUN_NOT_FOUND}), headers)
    first = run.claim_first_join()  # an active run's first join also uses up the claim
    if run.finished and not first:
        # The official server answers a finished run from the thread's current state, not the run's result.
        return _chunked(thread_fallback(mgr.store.threads[run.thread_id]), headers)
    return StreamingResponse(_wait_body(mgr, run, query_bool(request, "cancel_on_disconnect")), media_type="application/json", headers=headers)


@route("/threads/{thread_id}/runs/{run_id}/stream", "GET")
async def join_run_stream(request: Request) -> Response:
    mgr = manager(request)
    run, headers = _join_target(request, "stream")
    if run is None:

        async def not_found() -> AsyncIterator[bytes]:
            yield _sse_frame(StreamEvent("error", dumps(RUN_NOT_FOUND)))

        return sse_response(not_found(), headers)
    queue = run.subscribe(request.headers.get("last-event-id"), stream_modes(request))
    return sse_response(_sse_body(mgr, run, queue, query_bool(request, "cancel_on_disconnect"), _drop_after(request)), headers)


@route("/threads/{thread_id}/runs/{run_id}/cancel", "POST")
async def cancel_run(request: Request) -> Response:
    mgr = manager(request)
    thread = mgr.get_thread(request.path_params["thread_id"])
    run_id = request.path_params["run_id"]
    run = mgr.store.runs.get(run_id) if is_uuid(run_id) else None
    if run is None or run.thread_id != thread.thread_id:
        raise ApiError(404, "No runs found to cancel.")
    if run.status not in ACTIVE:
        raise ApiError(
            404,
            "No matching runs to cancel. Please verify the thread ID and run IDs are correct, "
            "and the runs haven't been deleted or completed.",
        )
    action = request.query_params.get("action")
    mgr.cancel(run, "rollback" if action == "rollback" else "interrupt")
    if query_bool(request, "wait"):
        await run.wait_finished()
        base = f"/threads/{run.thread_id}/runs/{run.run_id}"
        return json_response({}, headers={"Location": f"{base}/join", "Content-Location": base})
    return Response(status_code=202)


# -- the app --------------------------------------------------------------------------------------------------


def _error(request: Request, status: int, detail: str, headers: Any = None) -> Response:
    if status == 404 and "plain-text-404" in request.app.state.manager.deviations:
        return PlainTextResponse("Not Found", 404)
    return error_response(status, detail, headers)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return _error(request, exc.status, exc.detail)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return _error(request, exc.status_code, exc.detail, exc.headers)


def thread_out(mgr: RunManager, thread: Any) -> dict[str, Any]:
    body = thread.to_wire()
    if "thread-without-interrupts" in mgr.deviations:
        body.pop("interrupts", None)
    return body


def run_out(mgr: RunManager, run: Run) -> dict[str, Any]:
    body = run.to_wire()
    if "interrupted-run-status" in mgr.deviations and run.status == "success" and b'"__interrupt__"' in (run.result or b""):
        body["status"] = "interrupted"
    return body


class FaultMiddleware:
    """Applies the HTTP faults (faults.py): added latency, an error status instead of the answer; and
    leaves `drop_stream_after` for the stream handlers (in `scope["state"]["faults"]`)."""

    def __init__(self, app: Any, faults: Faults) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/__mock__/") or not self.faults.faults:
            return await self.app(scope, receive, send)
        hit = self.faults.for_request(scope["method"], contract.match_path(scope["path"]))
        scope.setdefault("state", {})["faults"] = hit
        delay = sum(f.latency or 0.0 for f in hit)
        if delay:
            await asyncio.sleep(delay)
        failing = next((f for f in hit if f.status is not None), None)
        if failing is not None:
            response = error_response(failing.status, failing.detail or f"injected fault: HTTP {failing.status}")
            return await response(scope, receive, send)
        await self.app(scope, receive, send)


def _drop_after(request: Request) -> int | None:
    faults = getattr(request.state, "faults", None) or []
    return next((f.drop_stream_after for f in faults if f.drop_stream_after is not None), None)


class _CORS(CORSMiddleware):
    """Starlette's CORS, plus the Private Network Access grant the official server adds to preflights
    (so a page on a public origin may call a mock on localhost)."""

    def preflight_response(self, request_headers: Any) -> Response:
        response = super().preflight_response(request_headers)
        response.headers["access-control-allow-private-network"] = "true"
        return response


def create_app(
    graphs: list[LoadedGraph],
    *,
    api_url: str = "",
    deviations: set[str] | None = None,
    admin: bool = True,
    faults: list[Fault] | None = None,
    interrupt_format: str = "current",
) -> Starlette:
    """A mock server app serving `graphs` (an empty store; one checkpointer for all threads), optionally
    with deviation profiles switched on (see deviations.py). `admin=False` leaves out `/__mock__/` and the journal."""
    engine = Engine()
    for g in graphs:
        engine.register(g.graph_id, g.graph, g.source, g.description, g.faults)
    store = Store()
    mgr = RunManager(engine, store, api_url=api_url)
    mgr.deviations = check_names(deviations or set())
    mgr.faults.set(faults or [])
    mgr.legacy_interrupts = interrupt_format == "legacy"

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await mgr.stop_all()

    journal = Journal()
    app = Starlette(
        routes=[*ROUTES, *(ADMIN_ROUTES if admin else [])],
        exception_handlers={ApiError: _api_error, HTTPException: _http_error},
        middleware=[
            Middleware(
                _CORS,
                allow_origins=["*"],
                allow_methods=["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY"],
                allow_headers=["*"],
                expose_headers=["x-pagination-total", "x-pagination-next", "content-location"],
                max_age=600,
            ),
            *([Middleware(JournalMiddleware, journal=journal)] if admin else []),
            Middleware(FaultMiddleware, faults=mgr.faults),
        ],
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.store = store
    app.state.manager = mgr
    app.state.journal = journal
    return app
