"""Graph execution on LangGraph's own runtime, with one in-memory checkpointer for every thread.

Nothing here re-implements LangGraph: interrupts, resumes (by value or by id map), tasks, `next`,
checkpoints and history all come from `Pregel.astream` / `aget_state` / `aupdate_state`. What this
module adds is what the official server adds around those calls: stream-mode mapping (`messages-tuple`
→ `messages` events, subgraph namespaces in event names), and snapshots of a thread's checkpoints so a
run can be rolled back.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import BaseMessageChunk, message_chunk_to_message
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.pregel import Pregel
from langgraph.types import Command, Send

from .wire import EMPTY_STATE, interrupt_for_state, interrupt_ns, legacy_interrupt, now_iso, thread_state

# The namespace the official server derives system assistant ids from (uuid5 of the graph id).
NAMESPACE_GRAPH = uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")


@dataclass
class Assistant:
    """A registered graph, served as its system assistant (id = uuid5 of the graph id)."""

    graph_id: str
    graph: Pregel
    source: str
    description: str | None = None
    created_at: str = field(default_factory=now_iso)
    faults: list[Any] = field(default_factory=list)  # a scenario file's own `faults:`
    assistant_id: str = ""  # uuid5 of the graph id; one shared string, kept by every run and thread

    def __post_init__(self) -> None:
        self.assistant_id = str(uuid.uuid5(NAMESPACE_GRAPH, self.graph_id))

    def to_wire(self) -> dict[str, Any]:
        return {
            "assistant_id": self.assistant_id,
            "graph_id": self.graph_id,
            "config": {},
            "context": {},
            "metadata": {"created_by": "system"},
            "name": self.graph_id,
            "created_at": self.created_at,
            "updated_at": self.created_at,
            "version": 1,
            "description": self.description,
        }


def to_command(command: dict[str, Any]) -> Command:
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


class ServerCheckpointer(InMemorySaver):
    """LangGraph's in-memory checkpointer, storing the run's config metadata on each checkpoint as the
    official server's does (LangGraph alone leaves out `thread_id`, which the server's metadata carries)."""

    def put(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        metadata = {**(config.get("metadata") or {}), **metadata}
        return super().put(config, checkpoint, metadata, new_versions)


@dataclass
class CheckpointEvent:
    """A run's latest root `checkpoint` debug event, with the run's `task_result` events merged into its
    tasks: what the official server sets a thread's values, interrupts and status from when a run ends."""

    values: Any
    next: list[str]
    tasks: list[dict[str, Any]]

    def task_result(self, result: dict[str, Any]) -> None:
        for task in self.tasks:
            if task["id"] == result["id"]:
                task.update(result)
                return

    def interrupts(self, legacy: bool = False) -> dict[str, list[dict[str, Any]]]:
        def shown(task: dict[str, Any], i: Any) -> dict[str, Any]:
            item = interrupt_for_state(i)
            return legacy_interrupt(item, [f"{task['name']}:{task['id']}"]) if legacy else item

        return {t["id"]: [shown(t, i) for i in t["interrupts"]] for t in self.tasks if t.get("interrupts")}


@dataclass
class CheckpointSnapshot:
    """What a thread's checkpoints were before a run, so a `rollback` can restore exactly that."""

    thread_id: str
    checkpoints: dict[str, dict[str, Any]]
    writes: dict[tuple[str, str, str], dict[Any, Any]]


class Engine:
    def __init__(self) -> None:
        self.checkpointer = ServerCheckpointer()
        self.assistants: dict[str, Assistant] = {}

    # -- graphs ---------------------------------------------------------------------------------------

    def register(self, graph_id: str, graph: Pregel, source: str, description: str | None = None, faults: list[Any] | None = None) -> Assistant:
        attached = graph.copy(update={"checkpointer": self.checkpointer})
        assistant = Assistant(graph_id, attached, source, description, faults=list(faults or []))
        self.assistants[graph_id] = assistant
        return assistant

    def unregister(self, graph_id: str) -> None:
        self.assistants.pop(graph_id, None)

    def resolve(self, assistant_id: str) -> Assistant | None:
        """An assistant by graph id or by its UUID."""
        if assistant_id in self.assistants:
            return self.assistants[assistant_id]
        return next((a for a in self.assistants.values() if a.assistant_id == assistant_id), None)

    # -- runs -----------------------------------------------------------------------------------------

    async def stream(
        self,
        assistant: Assistant,
        input: Any,
        config: dict[str, Any],
        *,
        stream_mode: list[str],
        subgraphs: bool = False,
        interrupt_before: Any = None,
        interrupt_after: Any = None,
        context: Any = None,
        on_checkpoint: Callable[[CheckpointEvent], None] | None = None,
        fail_at_step: tuple[int, BaseException] | None = None,
        token_delay: float = 0.0,
        legacy_interrupts: bool = False,
    ) -> AsyncIterator[tuple[str, Any]]:
        """Run the graph; yield `(event name, data)` for the requested stream modes, as the server names them.

        `debug` is always streamed internally (as the official server does): its root checkpoint and task
        result events are what `on_checkpoint` receives.
        """
        modes = set(stream_mode) - {"events"}
        if "messages-tuple" in modes:
            modes.discard("messages-tuple")
            modes.add("messages")
        modes.add("debug")
        latest: CheckpointEvent | None = None
        tasks: dict[str, str] = {}  # task id -> node name, for the legacy interrupt shape
        kwargs: dict[str, Any] = {}
        if interrupt_before is not None:
            kwargs["interrupt_before"] = interrupt_before
        if interrupt_after is not None:
            kwargs["interrupt_after"] = interrupt_after
        if context:
            kwargs["context"] = context
        partial: dict[str, BaseMessageChunk | Any] = {}
        async for item in assistant.graph.astream(
            input, config, stream_mode=sorted(modes), subgraphs=subgraphs, **kwargs
        ):
            if subgraphs:
                ns, mode, chunk = item
            else:
                (mode, chunk), ns = item, ()
            suffix = "|" + "|".join(ns) if ns else ""
            if fail_at_step is not None and mode == "debug" and not ns and chunk["type"] == "task" and chunk["step"] >= fail_at_step[0]:
                raise fail_at_step[1]  # an injected fault (faults.py)
            if token_delay and mode == "messages":
                await asyncio.sleep(token_delay)
            if legacy_interrupts:
                if mode == "debug" and not ns and chunk["type"] == "task":
                    tasks[chunk["payload"]["id"]] = chunk["payload"]["name"]
                elif mode in ("values", "updates") and isinstance(chunk, dict) and chunk.get("__interrupt__"):
                    chunk = {**chunk, "__interrupt__": [legacy_interrupt({"id": i.id, "value": i.value}, interrupt_ns(i.id, tasks)) for i in chunk["__interrupt__"]]}
            if mode == "debug" and not ns and on_checkpoint is not None:
                if chunk["type"] == "checkpoint":
                    payload = chunk["payload"]
                    latest = CheckpointEvent(payload["values"], list(payload["next"]), [dict(t) for t in payload["tasks"]])
                    on_checkpoint(latest)
                elif chunk["type"] == "task_result" and latest is not None:
                    latest.task_result(chunk["payload"])
            if mode == "messages":
                if "messages-tuple" in stream_mode:
                    yield "messages" + suffix, chunk
                elif "messages" in stream_mode:
                    for event in _legacy_messages(chunk, partial):
                        yield event
            elif mode in stream_mode:
                yield mode + suffix, chunk

    # -- state ----------------------------------------------------------------------------------------

    async def state(self, assistant: Assistant | None, thread_id: str, checkpoint_id: str | None = None, subgraphs: bool = False, legacy: bool = False) -> dict[str, Any]:
        if assistant is None:
            return dict(EMPTY_STATE)
        configurable: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ""}
        if checkpoint_id:
            configurable["checkpoint_id"] = checkpoint_id
        snapshot = await assistant.graph.aget_state({"configurable": configurable}, subgraphs=subgraphs)
        return thread_state(snapshot, legacy)

    async def snapshot(self, assistant: Assistant | None, thread_id: str) -> Any:
        """The raw `StateSnapshot` at the head of the thread (None when the thread never ran)."""
        if assistant is None:
            return None
        return await assistant.graph.aget_state({"configurable": {"thread_id": thread_id}})

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
        configurable: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ""}
        if checkpoint:
            configurable.update({k: v for k, v in checkpoint.items() if k in ("checkpoint_id", "checkpoint_ns") and v is not None})
        config = await assistant.graph.aupdate_state({"configurable": configurable}, values, as_node=as_node)
        conf = config["configurable"]
        ref = {"thread_id": conf["thread_id"], "checkpoint_ns": conf.get("checkpoint_ns", ""), "checkpoint_id": conf["checkpoint_id"]}
        return {"checkpoint": ref, "configurable": dict(ref), "checkpoint_id": conf["checkpoint_id"]}

    # -- checkpoints ----------------------------------------------------------------------------------

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


def _legacy_messages(chunk: tuple[Any, dict[str, Any]], seen: dict[str, Any]) -> list[tuple[str, Any]]:
    """The `messages` stream mode: `messages/metadata` once per message, then `messages/partial|complete`."""
    message, meta = chunk
    events: list[tuple[str, Any]] = []
    if message.id in seen:
        seen[message.id] = seen[message.id] + message if isinstance(message, BaseMessageChunk) else message
    else:
        seen[message.id] = message
        events.append(("messages/metadata", {message.id: {"metadata": meta}}))
    current = seen[message.id]
    if isinstance(current, BaseMessageChunk):
        events.append(("messages/partial", [message_chunk_to_message(current)]))
    else:
        events.append(("messages/complete", [current]))
    return events
