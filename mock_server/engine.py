"""Graph execution on LangGraph's own runtime, with one in-memory checkpointer for every thread.

Nothing here re-implements LangGraph: interrupts, resumes (by value or by id map), tasks, `next`, checkpoints
and history all come from `Pregel.astream` / `aget_state` / `aupdate_state`. This module holds the registered
graphs (as assistants), runs them, reads and writes their state, and snapshots a thread's checkpoints so a run
can be rolled back. How a run's chunks become server events is streams.py.
"""

from __future__ import annotations

import inspect
import types
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, cast

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command, Durability, Send, StateUpdate, StreamMode

from .assistants import AssistantStore
from .scenarios.base import Graph
from .wire import EMPTY_STATE, now_iso, thread_state

# The namespace the official server derives system assistant ids from (uuid5 of the graph id).
NAMESPACE_GRAPH = uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")


@dataclass
class Assistant:
    """A registered graph, served as its system assistant (id = uuid5 of the graph id)."""

    graph_id: str
    graph: Graph
    source: str
    description: str | None = None
    created_at: str = field(default_factory=now_iso)
    faults: list[Any] = field(default_factory=list)  # a scenario file's own `faults:`
    assistant_id: str = ""  # uuid5 of the graph id; one shared string, kept by every run and thread

    def __post_init__(self) -> None:
        self.assistant_id = str(uuid.uuid5(NAMESPACE_GRAPH, self.graph_id))


def to_command(command: dict[str, Any]) -> Command[Any]:
    """A run body's `command` as a LangGraph `Command` (goto accepts node names and `Send`s)."""
    goto = command.get("goto")
    if goto is not None and not isinstance(goto, list):
        goto = [goto]
    update = command.get("update")
    if isinstance(update, list) and all(isinstance(t, list) and len(t) == 2 and isinstance(t[0], str) for t in update):
        update = [tuple(t) for t in update]
    return Command(
        update=update,
        goto=[g if isinstance(g, str) else Send(g["node"], g.get("input")) for g in goto] if goto else (),
        resume=command.get("resume"),
    )


def _signed(method: Callable[..., Any]) -> Callable[..., Any]:
    """`method` itself (the same code, defaults and closure) with its signature worked out once.

    LangGraph asks whether a checkpointer's `put_writes` / `aput_writes` takes `task_path` when each run starts,
    with `inspect.signature`: about 28 us a run, 2% of a HITL cycle's CPU. A function's `__signature__` is where
    `inspect.signature` looks first."""
    assert isinstance(method, types.FunctionType)
    copy = types.FunctionType(method.__code__, method.__globals__, method.__name__, method.__defaults__, method.__closure__)
    copy.__kwdefaults__ = method.__kwdefaults__
    copy.__qualname__, copy.__doc__, copy.__module__ = method.__qualname__, method.__doc__, method.__module__
    copy.__annotations__ = dict(method.__annotations__)
    copy.__signature__ = inspect.signature(method)  # type: ignore[attr-defined]
    return copy


class ServerCheckpointer(InMemorySaver):
    """LangGraph's in-memory checkpointer, storing the run's config metadata on each checkpoint as the
    official server's does (LangGraph alone leaves out `thread_id`, which the server's metadata carries)."""

    def put(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        # a subgraph's checkpoints also carry its `checkpoint_map` (the parents' checkpoint ids), as the official
        # in-memory checkpointer copies it from the run's configurable
        configurable = config.get("configurable") or {}
        inherited = {"checkpoint_map": configurable["checkpoint_map"]} if "checkpoint_map" in configurable else {}
        metadata = {**inherited, **(config.get("metadata") or {}), **metadata}
        return super().put(config, checkpoint, metadata, new_versions)

    put_writes = _signed(InMemorySaver.put_writes)
    aput_writes = _signed(InMemorySaver.aput_writes)


@dataclass
class CheckpointSnapshot:
    """What a thread's checkpoints were before a run, so a `rollback` can restore exactly that."""

    thread_id: str
    checkpoints: dict[str, dict[str, Any]]
    writes: dict[tuple[str, str, str], dict[Any, Any]]


class Engine:
    def __init__(self) -> None:
        self.checkpointer = ServerCheckpointer()
        self.assistants: dict[str, Assistant] = {}  # the registered graphs, by graph id
        self.assistant_store = AssistantStore(self.assistants)  # their system assistants and the ones clients create

    # -- graphs ---------------------------------------------------------------------------------------

    def register(self, graph_id: str, graph: Graph, source: str, description: str | None = None, faults: list[Any] | None = None) -> Assistant:
        attached = graph.copy(update={"checkpointer": self.checkpointer})
        assistant = Assistant(graph_id, attached, source, description, faults=list(faults or []))
        self.assistants[graph_id] = assistant
        self.assistant_store.add_system(assistant)
        return assistant

    def unregister(self, graph_id: str) -> None:
        self.assistants.pop(graph_id, None)
        self.assistant_store.drop_graph(graph_id)

    # -- runs -----------------------------------------------------------------------------------------

    def astream(
        self,
        assistant: Assistant,
        input: Any,
        config: dict[str, Any],
        *,
        modes: set[str],
        subgraphs: bool = False,
        interrupt_before: Any = None,
        interrupt_after: Any = None,
        context: Any = None,
        durability: Durability | None = None,
    ) -> AsyncIterator[Any]:
        """Run the graph with LangGraph's `astream`: `(mode, chunk)` items, or `(namespace, mode, chunk)` with
        `subgraphs`. `modes` are LangGraph stream modes; how the server names and shapes events is streams.py.
        `durability` is when checkpoints are written (`sync`, `async`, or only at the `exit`)."""
        stream: AsyncIterator[Any] = assistant.graph.astream(
            input,
            cast("RunnableConfig", config),
            stream_mode=cast("list[StreamMode]", sorted(modes)),
            subgraphs=subgraphs,
            interrupt_before=interrupt_before,
            interrupt_after=interrupt_after,
            context=context or None,
            durability=durability,
        )
        return stream

    # -- state ----------------------------------------------------------------------------------------

    async def state(self, assistant: Assistant | None, thread_id: str, checkpoint_id: str | None = None, subgraphs: bool = False, legacy: bool = False) -> dict[str, Any]:
        if assistant is None:
            return dict(EMPTY_STATE)
        configurable: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ""}
        if checkpoint_id:
            configurable["checkpoint_id"] = checkpoint_id
        snapshot = await assistant.graph.aget_state({"configurable": configurable}, subgraphs=subgraphs)
        return thread_state(snapshot, legacy)

    async def state_at(self, assistant: Assistant | None, thread_id: str, checkpoint: dict[str, Any], subgraphs: bool = False, legacy: bool = False) -> dict[str, Any]:
        """The state at a checkpoint, addressed as the official server does (`checkpoint` fields as given, so the
        answer's `checkpoint` echoes them; an unknown id answers an empty state naming it)."""
        if assistant is None:
            return dict(EMPTY_STATE)
        configurable = {**checkpoint, "thread_id": thread_id}
        snapshot = await assistant.graph.aget_state({"configurable": configurable}, subgraphs=subgraphs)
        return thread_state(snapshot, legacy)

    async def snapshot(self, assistant: Assistant | None, thread_id: str, at: dict[str, Any] | None = None) -> Any:
        """The raw `StateSnapshot` at the head of the thread, or at the checkpoint `at` names (None when the thread
        never ran)."""
        if assistant is None:
            return None
        return await assistant.graph.aget_state({"configurable": {**(at or {}), "thread_id": thread_id}})

    async def history(
        self,
        assistant: Assistant | None,
        thread_id: str,
        *,
        limit: int = 10,
        before: Any = None,
        metadata: dict[str, Any] | None = None,
        checkpoint: dict[str, Any] | None = None,
        legacy: bool = False,
    ) -> list[dict[str, Any]]:
        if assistant is None:
            return []
        configurable: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ""}
        for key in ("checkpoint_id", "checkpoint_ns"):
            if checkpoint and checkpoint.get(key) is not None:
                configurable[key] = checkpoint[key]
        if isinstance(before, str):
            before = {"configurable": {"checkpoint_id": before}}
        states = []
        async for snapshot in assistant.graph.aget_state_history(
            {"configurable": configurable}, limit=limit, before=before, filter=metadata or None
        ):
            states.append(thread_state(snapshot, legacy))
        return states

    async def update_state(
        self, assistant: Assistant, thread_id: str, values: Any, as_node: str | None, checkpoint: dict[str, Any] | None
    ) -> dict[str, Any]:
        # `graph_id` in the config lands in the new checkpoint's metadata, as on the official server.
        configurable: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": "", "graph_id": assistant.graph_id}
        if checkpoint:
            configurable.update({k: v for k, v in checkpoint.items() if k in ("checkpoint_id", "checkpoint_ns") and v is not None})
        config = await assistant.graph.aupdate_state({"configurable": configurable}, values, as_node=as_node)
        conf = config["configurable"]
        ref = {"thread_id": conf["thread_id"], "checkpoint_ns": conf.get("checkpoint_ns", ""), "checkpoint_id": conf["checkpoint_id"]}
        return {"checkpoint": ref, "configurable": dict(ref), "checkpoint_id": conf["checkpoint_id"]}

    async def bulk_update_state(self, assistant: Assistant, thread_id: str, supersteps: list[dict[str, Any]]) -> None:
        """`ThreadCreate.supersteps`: each superstep's updates applied as one step (LangGraph's bulk update)."""
        steps = [
            [StateUpdate(u.get("values"), u.get("as_node"), u.get("task_id")) for u in step.get("updates") or []]
            for step in supersteps
        ]
        await assistant.graph.abulk_update_state({"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}, steps)

    # -- checkpoints ----------------------------------------------------------------------------------

    def has_checkpoint(self, thread_id: str) -> bool:
        """Whether the thread has a checkpoint of its own (its head state would name one): read from the saver's
        storage, where `aget_state` would also load and apply the checkpoint (5% of the mock's CPU per resume)."""
        return bool(self.checkpointer.storage.get(thread_id, {}).get(""))

    def take_snapshot(self, thread_id: str) -> CheckpointSnapshot:
        saver = self.checkpointer
        checkpoints = {ns: dict(cps) for ns, cps in saver.storage.get(thread_id, {}).items()}
        writes = {
            (thread_id, ns, cid): dict(saver.writes[(thread_id, ns, cid)])
            for ns, cps in checkpoints.items()
            for cid in cps
            if (thread_id, ns, cid) in saver.writes
        }
        return CheckpointSnapshot(thread_id, checkpoints, writes)

    def restore(self, snap: CheckpointSnapshot) -> None:
        """Put a thread's checkpoints back as they were when `snap` was taken."""
        saver = self.checkpointer
        tid = snap.thread_id
        for ns, cps in list(saver.storage.get(tid, {}).items()):
            for cid in list(cps):
                if cid not in snap.checkpoints.get(ns, {}):
                    saver.writes.pop((tid, ns, cid), None)
        saver.storage.pop(tid, None)
        for ns, cps in snap.checkpoints.items():
            saver.storage[tid][ns] = dict(cps)
        for key, value in snap.writes.items():
            saver.writes[key] = dict(value)
        for ns, cps in snap.checkpoints.items():
            for cid in cps:
                if (tid, ns, cid) not in snap.writes:
                    saver.writes.pop((tid, ns, cid), None)

    def delete_thread(self, thread_id: str) -> None:
        self.checkpointer.delete_thread(thread_id)

    def copy_thread(self, source: str, target: str) -> None:
        """Copy every checkpoint, pending write and channel value of `source` to `target`, with the thread id in
        checkpoint metadata changed (as the official in-memory server's copy does)."""
        saver = self.checkpointer
        for ns, cps in saver.storage.get(source, {}).items():
            for cid, (checkpoint, metadata, parent) in cps.items():
                meta = saver.serde.loads_typed(metadata)
                if isinstance(meta, dict) and meta.get("thread_id") == source:
                    meta = {**meta, "thread_id": target}
                saver.storage[target][ns][cid] = (checkpoint, saver.serde.dumps_typed(meta), parent)
        for (tid, ns, cid), writes in list(saver.writes.items()):
            if tid == source:
                saver.writes[(target, ns, cid)] = dict(writes)
        for (tid, ns, channel, version), blob in list(saver.blobs.items()):
            if tid == source:
                saver.blobs[(target, ns, channel, version)] = blob

    def keep_latest(self, thread_id: str) -> None:
        """Prune a thread's checkpoints to the latest of each namespace (ids sort by time), with their writes."""
        saver = self.checkpointer
        for ns, cps in saver.storage.get(thread_id, {}).items():
            latest = max(cps, default=None)
            for cid in [c for c in cps if c != latest]:
                del cps[cid]
                saver.writes.pop((thread_id, ns, cid), None)

    def drop_orphan_writes(self, thread_id: str) -> None:
        """Remove a thread's pending writes that belong to no checkpoint it has (left by a cancelled run)."""
        saver = self.checkpointer
        live = {(ns, cid) for ns, cps in saver.storage.get(thread_id, {}).items() for cid in cps}
        for key in [k for k in saver.writes if k[0] == thread_id and (k[1], k[2]) not in live]:
            del saver.writes[key]

    def clear_checkpoints(self) -> None:
        saver = self.checkpointer
        saver.storage.clear()
        saver.writes.clear()
        saver.blobs.clear()
