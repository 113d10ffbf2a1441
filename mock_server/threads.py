"""`Threads`: the thread operations the official server adds around LangGraph's checkpoints: create, look up,
delete, which graph a thread belongs to, and its values, interrupts and status after a run or a state update."""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import Iterable
from typing import Any

from langgraph.errors import InvalidUpdateError

from .auth import owned
from .controls import Controls
from .engine import Assistant, Engine
from .errors import ApiError, invalid_uuid
from .store import Run, Store, Thread
from .streams import CheckpointEvent
from .types import ThreadStatus
from .wire import is_uuid, now_iso, thread_interrupts, uuid7

NO_GRAPH = (
    "Thread '{}' has no assigned graph ID. This usually occurs when no runs have been made on this particular thread. "
    "This operation requires a graph ID. Please ensure a run has been made for the thread or manually update the thread "
    "metadata (by setting the 'graph_id' field) before running this operation."
)
CANCELLED = ("UserInterrupt", "UserRollback")


def checkpointed(snapshot: Any) -> bool:
    """Whether a head `StateSnapshot` is a real checkpoint (a thread that never ran has none)."""
    return snapshot is not None and bool((snapshot.config or {}).get("configurable", {}).get("checkpoint_id"))


class Threads:
    def __init__(self, engine: Engine, store: Store, controls: Controls) -> None:
        self.engine = engine
        self.store = store
        self.controls = controls

    def create(self, thread_id: str | None = None, metadata: dict[str, Any] | None = None, if_exists: str = "raise") -> Thread:
        if thread_id is not None:
            if not is_uuid(thread_id):
                raise invalid_uuid("thread")
            thread_id = str(uuid.UUID(thread_id))
            if thread_id in self.store.threads:
                if if_exists == "do_nothing" and owned(self.store.threads[thread_id]):  # another user's: 409 (auth.py)
                    return self.store.threads[thread_id]
                raise ApiError(409, f"Thread with ID {thread_id} already exists")
        return self.store.add_thread(Thread(thread_id or uuid7(), metadata=dict(metadata or {})))

    def get(self, thread_id: str, *, detail: str | None = None) -> Thread:
        if not is_uuid(thread_id):
            raise invalid_uuid("thread")
        thread = self.store.threads.get(str(uuid.UUID(thread_id)))
        if thread is None or not owned(thread):  # another user's thread looks missing (auth.py)
            raise ApiError(404, detail or f"Thread with ID {thread_id} not found")
        self.store.touch(thread)
        return thread

    def copy(self, thread: Thread) -> Thread:
        """A new thread (a UUID4 id, as the official server gives) with the same metadata and a copy of every
        checkpoint; it is `idle` and shows no values until it runs, as the official copy does."""
        copied = self.store.add_thread(Thread(str(uuid.uuid4()), metadata=copy.deepcopy(thread.metadata), config={}, copied=True))
        self.engine.copy_thread(thread.thread_id, copied.thread_id)
        return copied

    def assistant_of(self, thread: Thread) -> Assistant | None:
        """The thread's graph: the one it last ran, else the one its `metadata.graph_id` names."""
        graph_id = thread.graph_id or thread.metadata.get("graph_id")
        return self.engine.assistants.get(graph_id) if isinstance(graph_id, str) else None

    def graph_of(self, thread: Thread) -> Assistant:
        """`assistant_of`, or the official server's 400 for a thread with no graph yet."""
        assistant = self.assistant_of(thread)
        if assistant is None:
            raise ApiError(400, NO_GRAPH.format(thread.thread_id))
        return assistant

    def has_checkpoint(self, thread: Thread) -> bool:
        return self.engine.has_checkpoint(thread.thread_id)

    async def apply_supersteps(self, thread: Thread, assistant: Assistant, supersteps: list[dict[str, Any]]) -> None:
        """`ThreadCreate.supersteps`: each superstep's updates applied as one step, with LangGraph's bulk update."""
        async with thread.lock():
            try:
                await self.engine.bulk_update_state(assistant, thread.thread_id, supersteps)
            except (InvalidUpdateError, ValueError) as exc:
                raise ApiError(400, str(exc).split("\n")[0]) from None
            await self.refresh(thread)
        thread.config = {}

    def delete(self, thread: Thread) -> None:
        """Forget a thread, stop its runs and remove its checkpoints."""
        tasks = discard(self.store.remove_thread(thread.thread_id))
        self.engine.delete_thread(thread.thread_id)
        self.forget_after(tasks, [thread.thread_id])

    def forget_after(self, tasks: list[asyncio.Task[None]], thread_ids: list[str]) -> None:
        """Once `tasks` (runs of deleted threads, cancelled) have unwound, remove those threads' checkpoints again:
        LangGraph flushes a finished task's pending writes while a cancelled run unwinds, after the delete. A
        thread created again with the same id meanwhile keeps its checkpoints; only writes no checkpoint of it
        owns are removed."""
        remaining = len(tasks)

        def unwound(_: object) -> None:
            nonlocal remaining
            remaining -= 1
            if remaining:
                return
            for thread_id in thread_ids:
                if thread_id in self.store.threads:
                    self.engine.drop_orphan_writes(thread_id)
                else:
                    self.engine.delete_thread(thread_id)

        for task in tasks:
            task.add_done_callback(unwound)

    async def refresh(self, thread: Thread, *, error: dict[str, Any] | None = None, checkpoint: CheckpointEvent | None = None, at: dict[str, Any] | None = None) -> None:
        """Set a thread's values, interrupts and status after a run or a state update.

        After a run that checkpointed, they come from the run's last checkpoint event (with its task results
        merged in), as the official server derives them; otherwise from the head of the thread's checkpoints, or
        from the checkpoint `at` names (a state update given a `checkpoint_id` sets the thread from the state it
        forked from, as the official server does).
        """
        now = now_iso()
        thread.has_run = True
        thread.error = error
        thread.updated_at = thread.state_updated_at = now
        failed = error is not None and error.get("error") not in CANCELLED
        legacy = self.controls.legacy_interrupts
        if checkpoint is not None:
            thread.values = checkpoint.values
            thread.interrupts = checkpoint.interrupts(legacy)
            thread.status = _status(failed, bool(checkpoint.next))
        else:
            snapshot = await self.engine.snapshot(self.assistant_of(thread), thread.thread_id, at)
            if not checkpointed(snapshot):
                thread.values = {} if failed else None
                thread.interrupts = {}
                thread.status = _status(failed, False)
            else:
                thread.values = snapshot.values
                thread.interrupts = thread_interrupts(snapshot, legacy)
                thread.status = _status(failed, bool(snapshot.next))
        if self.store.active_runs(thread.thread_id):
            thread.status = ThreadStatus.BUSY


def discard(runs: Iterable[Run]) -> list[asyncio.Task[None]]:
    """Cancel the live tasks of runs whose thread is gone (nothing they do is written back); returns the tasks."""
    tasks = []
    for run in runs:
        if run.task is not None and not run.task.done():
            run.discarded = True
            run.task.cancel()
            tasks.append(run.task)
    return tasks


def _status(failed: bool, pending: bool) -> ThreadStatus:
    if failed:
        return ThreadStatus.ERROR
    return ThreadStatus.INTERRUPTED if pending else ThreadStatus.IDLE
