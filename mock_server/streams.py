"""From LangGraph's stream chunks to the server's events, as the official server names and shapes them.

- `langgraph_modes`: the LangGraph stream modes a run needs (checkpoints and task results always: a thread's
  state comes from them).
- `EventMapper`: `(namespace, mode, chunk)` to `(event name, data)`: `messages-tuple` becomes `messages`,
  the `messages` mode becomes `messages/metadata|partial|complete`, subgraph events get `|<namespace>`, modes
  nobody asked for are dropped, and with the legacy interrupt format interrupts get their old shape.
- `CheckpointTracker`: the run's last root checkpoint, with its task results merged in; a thread's values,
  interrupts and status come from it when the run ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langchain_core.messages import BaseMessageChunk, message_chunk_to_message

from .wire import interrupt_for_state, interrupt_ns, legacy_interrupt

Namespace = tuple[str, ...]


def langgraph_modes(requested: list[str], *, debug: bool = False) -> set[str]:
    """The LangGraph stream modes for the server modes a client asked for, and the checkpoints and task results
    the tracker needs: as `debug` chunks when the client asked for them or `debug` is set (faults and the legacy
    interrupt shape read its `task` chunks), otherwise as `checkpoints` and `tasks`, the same payloads without
    `debug`'s wrapper and timestamp (LangGraph's `debug` mode is those two modes wrapped)."""
    modes = set(requested) - {"events"}
    if "messages-tuple" in modes:
        modes.discard("messages-tuple")
        modes.add("messages")
    if debug or "debug" in modes:
        modes.add("debug")
    else:
        modes |= {"checkpoints", "tasks"}
    return modes


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


class CheckpointTracker:
    __slots__ = ("latest",)

    def __init__(self) -> None:
        self.latest: CheckpointEvent | None = None

    def observe(self, ns: Namespace, mode: str, chunk: Any) -> None:
        """A root `debug` chunk, or a root `checkpoints` or `tasks` one (the same payload, unwrapped)."""
        if ns:
            return
        if mode == "debug":
            kind, payload = chunk["type"], chunk["payload"]
        elif mode == "checkpoints":
            kind, payload = "checkpoint", chunk
        elif mode == "tasks":
            kind, payload = ("task_result" if "result" in chunk else "task"), chunk
        else:
            return
        if kind == "checkpoint":
            self.latest = CheckpointEvent(payload["values"], list(payload["next"]), [dict(t) for t in payload["tasks"]])
        elif kind == "task_result" and self.latest is not None:
            self.latest.task_result(payload)


def config_checkpoint(config: dict[str, Any] | None) -> dict[str, Any] | None:
    """A `RunnableConfig` as a `Checkpoint` (`checkpoint_id`, `thread_id`, and `checkpoint_ns` / `checkpoint_map`
    when present), or None: the official server's `runnable_config_to_checkpoint`."""
    configurable = (config or {}).get("configurable") or {}
    if not configurable.get("thread_id") or not configurable.get("checkpoint_id"):
        return None
    checkpoint = {"checkpoint_id": configurable["checkpoint_id"], "thread_id": configurable["thread_id"]}
    if "checkpoint_ns" in configurable:
        checkpoint["checkpoint_ns"] = configurable["checkpoint_ns"] or ""
    if "checkpoint_map" in configurable:
        checkpoint["checkpoint_map"] = configurable["checkpoint_map"]
    return checkpoint


def debug_checkpoint(payload: dict[str, Any]) -> dict[str, Any]:
    """A `debug` checkpoint payload as the official server sends it: with `checkpoint` and `parent_checkpoint`
    added, and a subgraph task's `state` config moved to `checkpoint` (new dicts: the chunk is shared)."""

    def task(t: dict[str, Any]) -> dict[str, Any]:
        state = t.get("state")
        if not isinstance(state, dict) or not state.get("configurable"):
            return t
        return {**{k: v for k, v in t.items() if k != "state"}, "checkpoint": state["configurable"]}

    return {
        **payload,
        "checkpoint": config_checkpoint(payload.get("config")),
        "parent_checkpoint": config_checkpoint(payload.get("parent_config")),
        "tasks": [task(t) for t in payload["tasks"]],
    }


def _suffix(ns: Namespace) -> str:
    """A subgraph event's `|<namespace>` suffix."""
    return "|" + "|".join(ns) if ns else ""


class EventMapper:
    """Maps one run's chunks to server events, for the stream modes the client asked for."""

    def __init__(self, requested: list[str], legacy_interrupts: bool = False) -> None:
        self.requested = set(requested)
        self.tuples = "messages-tuple" in self.requested
        self.legacy_interrupts = legacy_interrupts
        self._tasks: dict[str, str] = {}  # task id -> node name, for the legacy interrupt shape
        self._messages: dict[str | None, Any] = {}  # message id -> the message so far, for `messages/partial`

    def map(self, ns: Namespace, mode: str, chunk: Any) -> list[tuple[str, Any]]:
        if self.legacy_interrupts:
            chunk = self._legacy(ns, mode, chunk)
        if mode == "messages":
            if self.tuples:
                return [("messages" + _suffix(ns), chunk)]
            return self._message_events(chunk) if "messages" in self.requested else []
        if mode not in self.requested:  # most chunks: the checkpoints and tasks only the tracker reads
            return []
        if mode == "debug" and chunk["type"] == "checkpoint":
            chunk = {**chunk, "payload": debug_checkpoint(chunk["payload"])}
        return [(mode + _suffix(ns), chunk)]

    def _legacy(self, ns: Namespace, mode: str, chunk: Any) -> Any:
        if mode == "debug" and not ns and chunk["type"] == "task":
            self._tasks[chunk["payload"]["id"]] = chunk["payload"]["name"]
        elif mode in ("values", "updates") and isinstance(chunk, dict) and chunk.get("__interrupt__"):
            shaped = [legacy_interrupt({"id": i.id, "value": i.value}, interrupt_ns(i.id, self._tasks)) for i in chunk["__interrupt__"]]
            return {**chunk, "__interrupt__": shaped}
        return chunk

    def _message_events(self, chunk: tuple[Any, dict[str, Any]]) -> list[tuple[str, Any]]:
        """The `messages` stream mode: `messages/metadata` once per message, then `messages/partial|complete`."""
        message, meta = chunk
        seen = self._messages
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
