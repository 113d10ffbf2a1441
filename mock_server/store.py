"""Threads and runs, in memory.

All state lives on one asyncio event loop. Each mutation is a plain synchronous method, so no request
can observe a half-done change; check-then-act sequences (such as "is the thread busy? then 409") are
done without an `await` in between, which is what makes them safe under concurrent requests.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from langgraph.version import __version__ as LANGGRAPH_VERSION

from . import __version__
from .wire import compact, now_iso

THREAD_STATUSES = ("idle", "busy", "interrupted", "error")
RUN_STATUSES = ("pending", "running", "error", "success", "timeout", "interrupted")
ACTIVE = ("pending", "running")


@dataclass(slots=True)
class Thread:
    thread_id: str
    metadata: dict[str, Any] = field(default_factory=dict)
    created_at: str = field(default_factory=now_iso)
    updated_at: str = ""
    state_updated_at: str = ""
    status: str = "idle"
    config: dict[str, Any] = field(default_factory=dict)
    values: Any = None
    # The official server adds `error` and `interrupts` only once a run has finished on the thread.
    error: Any = None
    interrupts: dict[str, list[dict[str, Any]]] | None = None
    has_run: bool = False
    graph_id: str | None = None

    def __post_init__(self) -> None:
        self.updated_at = self.updated_at or self.created_at
        self.state_updated_at = self.state_updated_at or self.created_at

    def to_wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "thread_id": self.thread_id,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "state_updated_at": self.state_updated_at,
            "metadata": self.metadata,
            "status": self.status,
            "config": self.config,
            "values": self.values,
        }
        if self.has_run:
            body["error"] = self.error
            body["interrupts"] = self.interrupts if self.interrupts is not None else {}
        return body


@dataclass(slots=True)
class StreamEvent:
    event: str
    data: bytes  # compact JSON
    id: str | None = None


@dataclass(slots=True)
class Run:
    run_id: str
    thread_id: str
    assistant_id: str
    graph_id: str
    payload: dict[str, Any]  # the validated create body; `kwargs` and `metadata` are derived from it
    multitask_strategy: str | None
    status: str = "pending"
    created_at: str = field(default_factory=now_iso)
    updated_at: str = ""
    temporary: bool = False
    on_completion: str = "delete"
    checkpoint: dict[str, Any] | None = None
    api_url: str = ""
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    awaiting_first_join: bool = False  # a background run (POST .../runs) nobody has joined yet
    # Runtime, never on the wire:
    result: bytes | None = None  # the body /runs/wait and /join answer with
    finished: bool = False
    _done: asyncio.Event | None = None  # created only when someone waits (most runs are never waited on twice)
    task: asyncio.Task[None] | None = None
    cancel_action: str | None = None
    events: list[StreamEvent] | None = None  # kept for resumable runs, and background runs until first joined
    subscribers: list[asyncio.Queue[StreamEvent | None]] | None = None
    _last_ms: int = 0
    _seq: int = 0

    def __post_init__(self) -> None:
        self.updated_at = self.updated_at or self.created_at

    def mark_finished(self) -> None:
        self.finished = True
        if self._done is not None:
            self._done.set()  # waiters hold the event itself; the run need not keep it
            self._done = None

    async def wait_finished(self) -> None:
        if self.finished:
            return
        if self._done is None:
            self._done = asyncio.Event()
        await self._done.wait()

    @property
    def resumable(self) -> bool:
        return bool(self.payload.get("stream_resumable"))

    @property
    def metadata(self) -> dict[str, Any]:
        ids = {"assistant_id": self.assistant_id} if self.temporary else {"graph_id": self.graph_id, "assistant_id": self.assistant_id}
        return {"created_by": "system", **ids, **(self.payload.get("metadata") or {})}

    @property
    def kwargs(self) -> dict[str, Any]:
        """What the run executes with, in the shape of the official server's `Run.kwargs` (built on demand:
        most runs are never read back, and thousands of stored config dicts would dominate memory)."""
        p = self.payload
        stream_mode = p.get("stream_mode") or ["values"]
        user_config = dict(p.get("config") or {})
        ids = {"graph_id": self.graph_id, "assistant_id": self.assistant_id}
        configurable = {
            **(user_config.pop("configurable", None) or {}),
            "langgraph_auth_user": None,
            "langgraph_auth_user_id": "",
            "langgraph_auth_permissions": [],
            "langgraph_request_id": self.request_id,
            "run_id": self.run_id,
            "thread_id": self.thread_id,
            **ids,
            "user_id": "",
            **(self.checkpoint or {}),
        }
        # As on the official server: a stateless run's metadata names no graph, and the attempt and
        # host keys are added when the run starts.
        metadata: dict[str, Any] = {"created_by": "system", **({"assistant_id": self.assistant_id} if self.temporary else ids)}
        if self.status != "pending":
            metadata |= {
                "run_attempt": 1,
                "langgraph_version": LANGGRAPH_VERSION,
                "langgraph_api_version": f"hitl-mock-{__version__}",
                "langgraph_plan": "developer",
                "langgraph_host": "hitl-mock",
                "langgraph_api_url": self.api_url,
            }
        metadata |= p.get("metadata") or {}
        return {
            "input": p.get("input"),
            "command": p.get("command"),
            "config": {**user_config, "configurable": configurable, "metadata": metadata},
            "context": p.get("context") or {},
            "stream_mode": [stream_mode] if isinstance(stream_mode, str) else list(stream_mode),
            "interrupt_before": p.get("interrupt_before"),
            "interrupt_after": p.get("interrupt_after"),
            "webhook": p.get("webhook"),
            "feedback_keys": p.get("feedback_keys"),
            "temporary": self.temporary,
            "subgraphs": bool(p.get("stream_subgraphs")),
            "resumable": bool(p.get("stream_resumable")),
            "checkpoint_during": p.get("checkpoint_during", True),
            "durability": p.get("durability") or "async",
        }

    def execution_config(self, kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
        """The config the graph runs with: the stored one (from `kwargs` when the caller already built them),
        with the run and thread in its metadata (from there they reach checkpoint metadata and `messages`
        stream metadata, as on the official server)."""
        config = (kwargs or self.kwargs)["config"]
        config["metadata"] = {**config["metadata"], "run_id": self.run_id, "thread_id": self.thread_id}
        return config

    def to_wire(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "thread_id": self.thread_id,
            "assistant_id": self.assistant_id,
            "metadata": self.metadata,
            "status": self.status,
            "kwargs": self.kwargs,
            "multitask_strategy": self.multitask_strategy,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "langsmith_session_name": None,
        }

    def set_status(self, status: str) -> None:
        self.status = status
        self.updated_at = now_iso()

    # -- event broker: what a run streams, fanned out to its live subscribers -------------------------

    def _next_id(self) -> str:
        # `<epoch ms>-<seq>`, like the official server; unlike it, ids never repeat within a run
        # (the official in-memory runtime reuses `<ms>-0`, so Last-Event-ID replay can skip events).
        ms = time.time_ns() // 1_000_000
        if ms <= self._last_ms:
            ms, self._seq = self._last_ms, self._seq + 1
        else:
            self._seq = 0
        self._last_ms = ms
        return f"{ms}-{self._seq}"

    def claim_first_join(self) -> bool:
        """True for the first join of a background run. On the official server that join arrives while the
        run is still queued (about 1 s), so it sees the whole run; runs start at once here, so a background
        run keeps its events until its first joiner takes them."""
        first, self.awaiting_first_join = self.awaiting_first_join, False
        if first and not self.resumable:
            self.events = None
        return first

    def publish(self, event: str, data: bytes) -> None:
        item = StreamEvent(event, data, self._next_id() if self.resumable else None)
        if self.resumable or self.awaiting_first_join:
            if self.events is None:
                self.events = []
            self.events.append(StreamEvent(event, compact(data), item.id))
        for queue in self.subscribers or ():
            queue.put_nowait(item)

    def close_stream(self) -> None:
        for queue in self.subscribers or ():
            queue.put_nowait(None)
        self.subscribers = None

    def subscribe(self, last_event_id: str | None = None, modes: set[str] | None = None) -> asyncio.Queue[StreamEvent | None]:
        """A queue of the run's events from now on: with `last_event_id` (resumable runs), first the stored
        events after it; for the first joiner of a background run, first all it missed. With `modes`, only
        events of those stream modes (plus `metadata` and `error`)."""
        queue: asyncio.Queue[StreamEvent | None] = FilteredQueue(modes)
        stored = list(self.events or ())
        if self.claim_first_join() and last_event_id is None:
            for item in stored:
                queue.put_nowait(item)
        elif last_event_id is not None and self.resumable:
            after = _event_key(last_event_id)
            for item in stored:
                if item.id is not None and _event_key(item.id) > after:
                    queue.put_nowait(item)
        if self.finished:
            queue.put_nowait(None)
        else:
            if self.subscribers is None:
                self.subscribers = []
            self.subscribers.append(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[StreamEvent | None]) -> None:
        if self.subscribers and queue in self.subscribers:
            self.subscribers.remove(queue)


class FilteredQueue(asyncio.Queue):  # type: ignore[type-arg]
    """A subscriber queue that drops events of stream modes it did not ask for."""

    def __init__(self, modes: set[str] | None) -> None:
        super().__init__()
        self.modes = modes | {"metadata", "error"} if modes else None

    def put_nowait(self, item: StreamEvent | None) -> None:
        if item is None or self.modes is None or item.event.split("|", 1)[0] in self.modes:
            super().put_nowait(item)


def _event_key(event_id: str) -> tuple[int, int]:
    """Order of `<ms>-<seq>` ids; `-1` (replay everything) and anything unparsable sort first."""
    ms, _, seq = event_id.partition("-")
    try:
        return (int(ms), int(seq or 0))
    except ValueError:
        return (-1, -1)


class Store:
    def __init__(self) -> None:
        self.threads: dict[str, Thread] = {}
        self.runs: dict[str, Run] = {}
        self.thread_runs: dict[str, list[str]] = {}  # run ids per thread, oldest first

    def add_thread(self, thread: Thread) -> Thread:
        self.threads[thread.thread_id] = thread
        self.thread_runs.setdefault(thread.thread_id, [])
        return thread

    def remove_thread(self, thread_id: str) -> list[Run]:
        """Forget a thread and its runs; returns the runs so the caller can stop the active ones."""
        self.threads.pop(thread_id, None)
        return [self.runs.pop(rid) for rid in self.thread_runs.pop(thread_id, []) if rid in self.runs]

    def add_run(self, run: Run) -> Run:
        self.runs[run.run_id] = run
        self.thread_runs.setdefault(run.thread_id, []).append(run.run_id)
        return run

    def remove_run(self, run: Run) -> None:
        self.runs.pop(run.run_id, None)
        ids = self.thread_runs.get(run.thread_id)
        if ids and run.run_id in ids:
            ids.remove(run.run_id)

    def runs_of(self, thread_id: str) -> list[Run]:
        return [self.runs[rid] for rid in self.thread_runs.get(thread_id, []) if rid in self.runs]

    def active_runs(self, thread_id: str) -> list[Run]:
        return [run for run in self.runs_of(thread_id) if run.status in ACTIVE]

    def clear(self) -> None:
        self.threads.clear()
        self.runs.clear()
        self.thread_runs.clear()
