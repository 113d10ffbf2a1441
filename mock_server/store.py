"""Threads and runs as plain records, in memory, and the `Store` that holds them.

All state lives on one asyncio event loop. Each mutation is a plain synchronous method, so no request can
observe a half-done change; check-then-act sequences (such as "is the thread busy? then 409") are done without
an `await` in between, which is what makes them safe under concurrent requests. How records look on the wire
is `views.py`; what a run streams is its `EventBroker` (runs/broker.py).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .runs.broker import EventBroker
from .types import ACTIVE, CancelAction, MultitaskStrategy, OnCompletion, RunStatus, ThreadStatus
from .wire import now_iso


@dataclass(slots=True)
class Thread:
    thread_id: str
    metadata: dict[str, Any] = field(default_factory=dict)
    created_at: str = field(default_factory=now_iso)
    updated_at: str = ""
    state_updated_at: str = ""
    status: ThreadStatus = ThreadStatus.IDLE
    config: dict[str, Any] = field(default_factory=dict)
    values: Any = None
    # The official server adds `error` and `interrupts` only once a run has finished on the thread.
    error: Any = None
    interrupts: dict[str, list[dict[str, Any]]] | None = None
    has_run: bool = False
    graph_id: str | None = None
    copied: bool = False  # made by POST /threads/{id}/copy
    # Runtime, never on the wire: held while a run or a state write changes the thread's checkpoints (made when
    # first needed), so a run created during a state update starts from the updated state.
    writer: asyncio.Lock | None = None
    expires: float | None = None  # time.monotonic() when its `ttl` runs out (retention.py)
    ttl_strategy: str = "delete"

    def __post_init__(self) -> None:
        self.updated_at = self.updated_at or self.created_at
        self.state_updated_at = self.state_updated_at or self.created_at

    def lock(self) -> asyncio.Lock:
        """The lock runs and state writes hold while they change this thread's checkpoints."""
        if self.writer is None:
            self.writer = asyncio.Lock()
        return self.writer


@dataclass(slots=True)
class Run:
    run_id: str
    thread_id: str
    assistant_id: str
    graph_id: str
    payload: dict[str, Any]  # the validated create body; `kwargs` and `metadata` are derived from it (views.py)
    multitask_strategy: MultitaskStrategy | None
    status: RunStatus = RunStatus.PENDING
    created_at: str = field(default_factory=now_iso)
    updated_at: str = ""
    temporary: bool = False
    on_completion: OnCompletion = OnCompletion.DELETE
    checkpoint: dict[str, Any] | None = None
    api_url: str = ""
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    # Runtime, never on the wire:
    result: bytes | None = None  # the body /runs/wait and /join answer with
    task: asyncio.Task[None] | None = None
    cancel_action: CancelAction | None = None
    discarded: bool = False  # its thread was deleted while it ran: nothing is written back
    started: bool = False  # it has begun to run (a run cancelled while pending never does)
    events: EventBroker = field(default_factory=EventBroker)

    def __post_init__(self) -> None:
        self.updated_at = self.updated_at or self.created_at
        self.events.resumable = bool(self.payload.get("stream_resumable"))

    @property
    def finished(self) -> bool:
        return self.events.finished

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def running(self) -> bool:
        """Whether the run's task is alive."""
        return self.task is not None and not self.task.done()

    def set_status(self, status: RunStatus) -> None:
        self.status = status
        self.updated_at = now_iso()
        if status == RunStatus.RUNNING:
            self.started = True


class Store:
    """Threads (least recently used first: `touch` moves one to the end) and runs. With `max_threads`, adding a
    thread beyond it evicts the least recently used idle ones; `evicted` is told each id, to drop its checkpoints."""

    def __init__(self, max_threads: int | None = None, evicted: Callable[[str], None] | None = None) -> None:
        self.threads: dict[str, Thread] = {}
        self.runs: dict[str, Run] = {}
        self.thread_runs: dict[str, list[str]] = {}  # run ids per thread, oldest first
        self.max_threads = max_threads
        self.evicted = evicted
        self.evictions = 0

    def add_thread(self, thread: Thread) -> Thread:
        self.threads[thread.thread_id] = thread
        self.thread_runs.setdefault(thread.thread_id, [])
        if self.max_threads is not None and len(self.threads) > self.max_threads:
            self._evict(len(self.threads) - self.max_threads, keep=thread.thread_id)
        return thread

    def touch(self, thread: Thread) -> None:
        """Mark a thread as just used (the most recent, last to be evicted)."""
        if self.max_threads is not None and thread.thread_id in self.threads:
            self.threads[thread.thread_id] = self.threads.pop(thread.thread_id)

    def _evict(self, count: int, keep: str) -> None:
        """Forget the `count` least recently used idle threads (a thread with a pending or running run stays)."""
        victims: list[str] = []
        for thread_id in self.threads:  # oldest first; stops at the `count`th idle one
            thread = self.threads[thread_id]
            writing = thread.writer is not None and thread.writer.locked()  # a state update under way
            if thread_id != keep and not writing and not self.active_runs(thread_id):
                victims.append(thread_id)
                if len(victims) == count:
                    break
        for thread_id in victims:
            self.remove_thread(thread_id)
            self.evictions += 1
            if self.evicted is not None:
                self.evicted(thread_id)

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
        return [run for run in self.runs_of(thread_id) if run.active]

    def clear(self) -> None:
        self.threads.clear()
        self.runs.clear()
        self.thread_runs.clear()
