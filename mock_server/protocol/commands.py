"""Protocol commands on a thread (`POST /threads/{id}/commands`, or in-band on the WebSocket), answered as the
official server answers them (langgraph_api/event_streaming/service.py, `ThreadRunManager`).

- `run.start` makes a run, creating the thread if needed. With an `input` while the thread has pending interrupts,
  it resumes them with that input (the official rule). It first waits, up to 5 s, for a busy thread to settle,
  as the official server's interrupt check does.
- `input.respond` resumes interrupts by id (`interrupt_id` + `response`, or a `responses` batch), as one run with
  `command.resume = {id: response, ...}`; an id the thread does not have pending is `no_such_interrupt`.
- `agent.getTree` and the `subscription.*` commands belong to a connection: over plain HTTP no run is ever bound
  (`no_such_run`); the WebSocket answers them (subscriptions.py).
Errors are `{"type": "error", "id", "error": <ProtocolError code>, "message"}`, with HTTP 200.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..auth import claim, owned
from ..deviations import Hook
from ..errors import ApiError
from ..store import Run, Thread
from ..types import MultitaskStrategy, ThreadStatus
from ..wire import is_uuid
from .hub import ProtocolHub
from .runner import PROTOCOL_KEY, RUN_STREAM_MODES

if TYPE_CHECKING:
    from ..services import Services
    from .subscriptions import Socket

KNOWN = frozenset({"run.start", "input.respond", "agent.getTree", "subscription.subscribe", "subscription.unsubscribe", "subscription.reconnect"})
SETTLE_SECONDS = 5.0  # how long a command waits for a busy thread's interrupts to show (the official barrier)
SETTLE_POLL = 0.05
NO_RUN = "No active run is bound to this thread."


def error(cmd_id: Any, code: str, message: str, meta: dict[str, Any] | None = None) -> dict[str, Any]:
    body = {"type": "error", "id": cmd_id, "error": code, "message": message}
    return body | {"meta": meta} if meta is not None else body


def success(cmd_id: Any, result: dict[str, Any], meta: dict[str, Any] | None) -> dict[str, Any]:
    body = {"type": "success", "id": cmd_id, "result": result}
    return body | {"meta": meta} if meta is not None else body


def malformed(payload: Any) -> dict[str, Any] | None:
    """The error for an envelope without an integer id and a string method (HTTP 400), else None."""
    if isinstance(payload, dict) and type(payload.get("id")) is int and isinstance(payload.get("method"), str):
        return None
    cmd_id = payload.get("id") if isinstance(payload, dict) else None
    return error(cmd_id, "invalid_argument", "Protocol commands must include an integer id and string method.")


@dataclass
class Context:
    svc: Services
    hub: ProtocolHub
    thread_id: str
    socket: Socket | None = None  # the WebSocket the command came on, if it did

    @property
    def key(self) -> str:
        """The thread id as the logs are keyed (a UUID in its canonical form)."""
        return str(uuid.UUID(self.thread_id)) if is_uuid(self.thread_id) else self.thread_id

    def meta(self) -> dict[str, Any]:
        """`applied_through_seq`: the highest seq this connection was sent (a plain HTTP command has seen none)."""
        return {"applied_through_seq": self.socket.sent_seq if self.socket is not None else 0}

    def thread(self) -> Thread | None:
        thread = self.svc.store.threads.get(self.key) if is_uuid(self.thread_id) else None
        return thread if thread is not None and owned(thread) else None


async def handle(ctx: Context, command: dict[str, Any]) -> dict[str, Any]:
    method = command["method"]
    if method not in KNOWN:
        return error(command["id"], "unknown_command", f"Unknown protocol command: {method}")
    if method == "run.start":
        return await run_start(ctx, command)
    if method == "input.respond":
        return await input_respond(ctx, command)
    if ctx.socket is not None:
        return ctx.socket.handle(ctx, command)
    from .subscriptions import unbound

    return unbound(ctx, command)


def _params(command: dict[str, Any]) -> dict[str, Any]:
    params = command.get("params")
    return params if isinstance(params, dict) else {}


# -- run.start ------------------------------------------------------------------------------------------------


def _run_start_problem(params: dict[str, Any]) -> str | None:
    assistant_id = params.get("assistant_id")
    if not isinstance(assistant_id, str) or not assistant_id:
        return "run.start requires an assistant_id."
    configurable = (params.get("config") or {}).get("configurable") if isinstance(params.get("config"), dict) else None
    checkpoint_id = configurable.get("checkpoint_id") if isinstance(configurable, dict) else None
    if checkpoint_id is not None:
        if not isinstance(checkpoint_id, str) or not checkpoint_id.strip():
            return "config.configurable.checkpoint_id must be a non-empty string."
        if not is_uuid(checkpoint_id):
            return f"Invalid config.configurable.checkpoint_id: {checkpoint_id!r}."
    tracer = params.get("langsmith_tracer")
    if tracer is not None:
        if not isinstance(tracer, dict):
            return "langsmith_tracer must be an object."
        if unknown := tracer.keys() - {"project_name", "example_id"}:
            return f"langsmith_tracer has unsupported fields: {sorted(unknown)!r}."
        if bad := next((k for k, v in tracer.items() if not isinstance(v, str)), None):
            return f"langsmith_tracer.{bad} must be a string."
    return None


async def run_start(ctx: Context, command: dict[str, Any]) -> dict[str, Any]:
    params = _params(command)
    if problem := _run_start_problem(params):
        return error(command["id"], "invalid_argument", problem)
    try:
        run = await start_run(ctx, params["assistant_id"], params)
    except Exception as exc:  # the official server reports any failure to create the run this way
        return error(command["id"], "unknown_error", str(exc))
    return success(command["id"], {"run_id": run.run_id}, ctx.meta())


async def settled_interrupts(ctx: Context, wanted: frozenset[str] = frozenset()) -> set[str] | None:
    """The ids of the thread's pending interrupts, waiting up to 5 s while it is busy; None if there is no thread
    (the official lookup then fails open).

    While the thread is busy, the ids it shows are those from before its run, so the wait goes on until they
    include every id in `wanted`. A deliberate difference: the official server returns the stale ids at once, so a
    client that answers a new interrupt between its `input.requested` event and the run's write-back gets
    `no_such_interrupt` there (a race, seen under load); the mock answers it once the write-back shows the id."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        thread = ctx.thread()
        if thread is None:
            return None
        ids = {i["id"] for items in (thread.interrupts or {}).values() for i in items}
        if (ids and wanted <= ids) or thread.status != ThreadStatus.BUSY or time.monotonic() >= deadline:
            return ids
        await asyncio.sleep(SETTLE_POLL)


async def start_run(ctx: Context, assistant_id: str, params: dict[str, Any], *, resume: bool = False) -> Run:
    """Create the run (as the official `_create_or_resume_run`); raises what the scheduler raises."""
    if not is_uuid(ctx.thread_id):
        raise ApiError(422, "Invalid thread ID")
    if params.get("input") is not None and not resume:
        resume = bool(await settled_interrupts(ctx))
    config: dict[str, Any] = params["config"] if isinstance(params.get("config"), dict) else {}
    configurable: dict[str, Any] = config["configurable"] if isinstance(config.get("configurable"), dict) else {}
    strategy = params.get("multitaskStrategy")
    payload: dict[str, Any] = {
        "assistant_id": assistant_id,
        "input": None if resume else params.get("input"),
        "command": _resume_command(params) if resume else None,
        "config": {**config, "configurable": {**configurable, PROTOCOL_KEY: True, "thread_id": ctx.thread_id}},
        "metadata": params.get("metadata"),
        "stream_mode": list(RUN_STREAM_MODES),
        "stream_subgraphs": True,
        "stream_resumable": True,
        "on_completion": "keep",
        "if_not_exists": "create",
        "multitask_strategy": strategy if isinstance(strategy, str) and strategy in set(MultitaskStrategy) else MultitaskStrategy.ENQUEUE.value,
    }
    if isinstance(checkpoint_id := configurable.get("checkpoint_id"), str):
        payload |= {"checkpoint_id": checkpoint_id, "checkpoint": {"checkpoint_id": checkpoint_id}}
    ctx.hub.log(ctx.key)  # the thread stream follows the run from its first event
    run = ctx.svc.scheduler.create_run(ctx.thread_id, payload)
    claim(ctx.svc.store.threads.get(run.thread_id))  # users mode: the caller's new thread (auth.py)
    return run


def _resume_command(params: dict[str, Any]) -> dict[str, Any]:
    extra = {k: params[k] for k in ("update", "goto") if params.get(k) is not None}
    return {"resume": params["input"], **extra}


# -- input.respond --------------------------------------------------------------------------------------------


def respond_entries(cmd_id: Any, params: dict[str, Any]) -> tuple[list[tuple[str, list[str], Any]], dict[str, Any] | None]:
    """`[(interrupt_id, namespace, response)]` from `{interrupt_id, namespace?, response}` or `{responses: [...]}`."""
    bad_ns = error(cmd_id, "invalid_argument", "input.respond requires namespace to be a list of strings.")
    raw = params.get("responses")
    if not isinstance(raw, list):
        raw, single = [params], True
    elif not raw:
        return [], error(cmd_id, "invalid_argument", "input.respond requires at least one response.")
    else:
        single = False
    entries = []
    for entry in raw:
        if not isinstance(entry, dict):
            return [], error(cmd_id, "invalid_argument", "input.respond responses entries must be objects.")
        if not isinstance(entry.get("interrupt_id"), str):
            text = "input.respond requires an interrupt_id." if single else "input.respond responses entries require an interrupt_id."
            return [], error(cmd_id, "invalid_argument", text)
        ns = entry.get("namespace", [])
        if not isinstance(ns, list) or not all(isinstance(s, str) for s in ns):
            return [], bad_ns
        entries.append((entry["interrupt_id"], list(ns), entry.get("response")))
    return entries, None


async def _unknown_interrupt(ctx: Context, cmd_id: Any, entries: list[tuple[str, list[str], Any]]) -> dict[str, Any] | None:
    session = ctx.hub.logs[ctx.key].session if ctx.socket is not None and ctx.key in ctx.hub.logs else None
    ids: set[str] | None = None
    fetched = False
    for interrupt_id, namespace, _ in entries:
        seen = session.pending.get(interrupt_id) if session is not None else None
        if seen is not None and seen != namespace:  # only a WebSocket has seen where the interrupt came from
            return error(cmd_id, "no_such_interrupt", "Interrupt namespace does not match the pending interrupt.")
        if not fetched:
            ids, fetched = await settled_interrupts(ctx, frozenset(e[0] for e in entries)), True
        if seen is None and ids is not None and interrupt_id not in ids:
            return error(cmd_id, "no_such_interrupt", f"Unknown or already-consumed interrupt: {interrupt_id}")
    return None


async def input_respond(ctx: Context, command: dict[str, Any]) -> dict[str, Any]:
    params, cmd_id = _params(command), command["id"]
    entries, problem = respond_entries(cmd_id, params)
    deviations = ctx.svc.controls.deviations
    if problem is None and deviations.at(Hook.RESPOND):
        entries = deviations.apply(Hook.RESPOND, entries, pending=await settled_interrupts(ctx))
    if problem is None:
        problem = await _unknown_interrupt(ctx, cmd_id, entries)
    if problem is not None:
        return problem
    thread = ctx.thread()
    assistant_id = thread.metadata.get("assistant_id") if thread is not None else None
    if not isinstance(assistant_id, str):
        return error(cmd_id, "no_such_run", "No interrupted run is bound to this thread.")
    resume = {interrupt_id: response for interrupt_id, _, response in entries}
    extra = {k: params.get(k) for k in ("update", "goto", "config", "metadata")}
    try:
        await start_run(ctx, assistant_id, {"input": resume, **extra}, resume=True)
    except Exception as exc:
        return error(cmd_id, "unknown_error", str(exc))
    return success(cmd_id, {}, ctx.meta())
