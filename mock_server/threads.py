"""`Threads`: the thread operations the official server adds around LangGraph's checkpoints: create, look up,
delete, which graph a thread belongs to, and its values, interrupts and status after a run or a state update."""

from __future__ import annotations

import uuid
from typing import Any

from langgraph.errors import InvalidUpdateError

from .controls import Controls
from .engine import Assistant, Engine
from .errors import ApiError, invalid_uuid
from .store import Store, Thread
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
                if if_exists == "do_nothing":
                    return self.store.threads[thread_id]
                raise ApiError(409, f"Thread with ID {thread_id} already exists")
        return self.store.add_thread(Thread(thread_id or uuid7(), metadata=dict(metadata or {})))

    def get(self, thread_id: str, *, detail: str | None = None) -> Thread:
        if not is_uuid(thread_id):
            raise invalid_uuid("thread")
        thread = self.store.threads.get(str(uuid.UUID(thread_id)))
        if thread is None:
            raise ApiError(404, detail or f"Thread with ID {thread_id} not found")
        return thread

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

    async def has_checkpoint(self, thread: Thread) -> bool:
        return checkpointed(await self.engine.snapshot(self.assistant_of(thread), thread.thread_id))

    async def apply_supersteps(self, thread: Thread, assistant: Assistant, supersteps: list[dict[str, Any]]) -> None:
        """`ThreadCreate.supersteps`: each superstep's updates applied as one step, with LangGraph's bulk update."""
        try:
            await self.engine.bulk_update_state(assistant, thread.thread_id, supersteps)
        except (InvalidUpdateError, ValueError) as exc:
            raise ApiError(400, str(exc).split("\n")[0]) from None
        await self.refresh(thread)
        thread.config = {}

    def delete(self, thread: Thread) -> None:
        for run in self.store.remove_thread(thread.thread_id):
            if run.task is not None and not run.task.done():
                run.discarded = True
                run.task.cancel()
        self.engine.delete_thread(thread.thread_id)

    async def refresh(self, thread: Thread, *, error: dict[str, Any] | None = None, checkpoint: CheckpointEvent | None = None) -> None:
        """Set a thread's values, interrupts and status after a run or a state update.

        After a run that checkpointed, they come from the run's last checkpoint event (with its task results
        merged in), as the official server derives them; otherwise from the head of the thread's checkpoints.
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
            snapshot = await self.engine.snapshot(self.assistant_of(thread), thread.thread_id)
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


def _status(failed: bool, pending: bool) -> ThreadStatus:
    if failed:
        return ThreadStatus.ERROR
    return ThreadStatus.INTERRUPTED if pending else ThreadStatus.IDLE
