"""What `hitl-mock record` learns from a thread: its runs (the request, the events streamed back, the state after)
and its history, turned into the `recorded:` document that scenarios/replay.py replays.

- Each history checkpoint that ran tasks gives one execution per task: the node, the state it ran on, its result
  (writes) or error, and where the graph went next (the next checkpoint's `next`).
- The interrupts a task raised, in order, come from the state after each run (history keeps only a task's last
  interrupt), and their answers from the next run's `command.resume` (a value, or a map by interrupt id).
- A start is the state after an input and the nodes that ran first.
- AI messages streamed in `messages-tuple` or `messages` mode keep their chunks, pacing and model metadata; one
  that was never streamed while recording replays as a single chunk.
- Channels get reducers from what the values show: messages, lists that grew (append), or plain replacement.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any

from .scenarios.replay import fingerprint, message_like

CHUNK_DEFAULTS: dict[str, Any] = {
    "additional_kwargs": {},
    "response_metadata": {},
    "name": None,
    "tool_calls": [],
    "invalid_tool_calls": [],
    "usage_metadata": None,
    "tool_call_chunks": [],
    "chunk_position": None,
}
LS_KEYS = ("ls_provider", "ls_model_name", "ls_model_type", "ls_temperature", "ls_max_tokens", "ls_stop")


@dataclass
class Turn:
    body: dict[str, Any]  # the run request
    state: dict[str, Any]  # GET /threads/{id}/state?subgraphs=true after it
    events: list[tuple[str, Any, float]] = field(default_factory=list)  # SSE (event, data, seconds) when streamed


@dataclass
class ThreadLog:
    graph_id: str
    turns: list[Turn] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)  # newest first, as the server lists it
    subgraphs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # checkpoint_ns -> that subgraph's history


def subgraph_namespaces(history: list[dict[str, Any]]) -> list[str]:
    """The checkpoint namespaces of the subgraphs a history's tasks ran in."""
    found = [(t.get("checkpoint") or {}).get("checkpoint_ns") for c in history for t in c.get("tasks") or []]
    return sorted({ns for ns in found if isinstance(ns, str) and ns})


def _nested_state(state: dict[str, Any], ns: str) -> dict[str, Any]:
    """The state of the subgraph at `ns` inside a thread state read with `subgraphs=true` ({} when not there)."""
    if not ns:
        return state
    head, _, rest = ns.partition("|")
    name, _, task_id = head.partition(":")
    for task in state.get("tasks") or []:
        if task.get("name") == name and task.get("id") == task_id and isinstance(task.get("state"), dict):
            return _nested_state(task["state"], rest)
    return {}


def _pending(state: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    """interrupt id -> (task id, value) of what a state waits for."""
    return {i["id"]: (t["id"], i["value"]) for t in state.get("tasks") or [] for i in t.get("interrupts") or []}


def is_map(resume: Any) -> bool:
    return isinstance(resume, dict) and bool(resume) and all(isinstance(k, str) and re.fullmatch(r"[0-9a-f]{32}", k) for k in resume)


def _asks(log: ThreadLog, ns: str = "") -> dict[str, list[dict[str, Any]]]:
    """task id -> the interrupts it raised, in order, each with the answer the next run gave it (if any); the
    tasks of the (sub)graph at `ns`."""
    asks: dict[str, list[dict[str, Any]]] = {}
    before: dict[str, tuple[str, Any]] = {}
    for turn in [Turn(t.body, _nested_state(t.state, ns)) for t in log.turns]:
        resume = (turn.body.get("command") or {}).get("resume", ...) if isinstance(turn.body.get("command"), dict) else ...
        answered: dict[str, Any] = {}
        if resume is not ... and before:
            if is_map(resume):  # by interrupt id, as LangGraph reads a dict whose keys are all ids
                answered = {before[i][0]: v for i, v in resume.items() if i in before}
            elif len({task for task, _ in before.values()}) == 1:
                answered = {next(iter(before.values()))[0]: resume}
        for task, value in answered.items():
            if asks.get(task) and "answer" not in asks[task][-1]:
                asks[task][-1]["answer"] = value
        after = _pending(turn.state)
        for task, value in after.values():
            entries = asks.setdefault(task, [])
            if not entries or "answer" in entries[-1] or fingerprint(entries[-1]["interrupt"]) != fingerprint(value):
                entries.append({"interrupt": value})
        before = after
    return asks


def _said(log: ThreadLog) -> dict[str, dict[str, Any]]:
    """AI message id -> how it was streamed: chunks (fields that differ from a bare chunk), delays, ls_* metadata.
    From `messages-tuple` chunks, or from `messages` mode: each partial's new text is a chunk, the last one last."""
    said: dict[str, dict[str, Any]] = {}
    for turn in log.turns:
        last_at: float | None = None
        partial: dict[str, str] = {}
        metadata: dict[str, dict[str, Any]] = {}  # `messages/metadata`: message id -> its metadata
        for event, data, at in turn.events:
            chunk, meta = _chunk(event, data, partial, metadata)
            if chunk is None or not chunk.get("id"):
                if event == "messages/metadata" and isinstance(data, dict):
                    metadata.update({k: v.get("metadata") or {} for k, v in data.items() if isinstance(v, dict)})
                continue
            entry = said.setdefault(chunk["id"], {"id": chunk["id"], "chunks": [], "delays": [], "ls": {}})
            entry["chunks"].append({k: v for k, v in chunk.items() if k not in ("id", "type") and CHUNK_DEFAULTS.get(k, ...) != v})
            entry["delays"].append(round(at - last_at, 3) if last_at is not None else 0.0)
            entry["ls"].update({k: meta[k] for k in LS_KEYS if k in meta})
            last_at = at
        for key in partial:  # a message seen in `messages` mode ends with its last chunk, as a model marks it
            if said.get(key, {}).get("chunks"):
                said[key]["chunks"][-1]["chunk_position"] = "last"
    return said


def _chunk(event: str, data: Any, partial: dict[str, str], metadata: dict[str, dict[str, Any]]) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """One streamed chunk and its metadata, from a `messages` (tuple) or `messages/partial` event."""
    if event == "messages" and isinstance(data, list) and len(data) == 2 and isinstance(data[0], dict) and data[0].get("type") == "AIMessageChunk":
        return data[0], data[1] if isinstance(data[1], dict) else {}
    if event == "messages/partial" and isinstance(data, list) and data and isinstance(data[-1], dict):
        full, key = data[-1], str(data[-1].get("id", ""))
        text = full["content"] if isinstance(full.get("content"), str) else ""
        chunk = {"id": key, "content": text[len(partial.get(key, "")) :]}
        partial[key] = text
        return chunk, metadata.get(key, {})
    return None, {}


def _emitted(log: ThreadLog) -> dict[tuple[str, str], list[Any]]:
    """(run id, node) -> the `custom` events it sent, each given to the node whose `updates` came next (or, when
    none did, to the node that was running, from its `messages` metadata, else to every node of the run)."""
    out: dict[tuple[str, str], list[Any]] = {}
    for turn in log.turns:
        run = next((d.get("run_id") for e, d, _ in turn.events if e == "metadata" and isinstance(d, dict)), None)
        pending: list[Any] = []
        for event, data, _ in turn.events:
            if event == "custom":
                pending.append(data)
            elif event == "updates" and isinstance(data, dict) and pending:
                node = next((k for k in data if not k.startswith("__")), None)
                if node:
                    out.setdefault((str(run), node), []).extend(pending)
                    pending = []
        if pending:
            out.setdefault((str(run), "*"), []).extend(pending)
    return out


def _error(task: dict[str, Any]) -> dict[str, str] | None:
    text = task.get("error")
    if not text:
        return None
    name, _, rest = str(text).partition("(")
    message = rest[:-1] if rest.endswith(")") else rest
    try:
        message = json.loads(message.replace("'", '"')) if message.startswith(("'", '"')) else message
    except ValueError:
        message = message.strip("'\"")
    return {"type": name.strip() or "ValueError", "message": str(message)}


Streamed = tuple[dict[str, dict[str, Any]], dict[tuple[str, str], list[Any]]]  # what _said and _emitted found


def executions(log: ThreadLog, ns: str = "", streamed: Streamed | None = None) -> dict[str, Any]:
    """The (sub)graph at `ns` as the thread ran it: its starts, per node its executions, and its subgraphs (the
    thread's streamed messages and custom events are read once, for the graph and all its subgraphs)."""
    history = log.history if not ns else log.subgraphs.get(ns, [])
    said, emitted = streamed or (_said(log), _emitted(log))
    asks = _asks(log, ns)
    by_id = {c["checkpoint"]["checkpoint_id"]: c for c in history if c.get("checkpoint")}
    children: dict[str, list[dict[str, Any]]] = {}
    for c in history:
        parent = (c.get("parent_checkpoint") or {}).get("checkpoint_id")
        if isinstance(parent, str) and parent in by_id:
            children.setdefault(parent, []).append(c)
    starts: list[dict[str, Any]] = []
    nodes: dict[str, list[dict[str, Any]]] = {}
    subgraphs: dict[str, list[dict[str, Any]]] = {}  # node -> what it ran as a subgraph, once per task
    for c in reversed(history):
        after = next((k for k in children.get(c["checkpoint"]["checkpoint_id"], []) if (k.get("metadata") or {}).get("source") == "loop"), None)
        if (c.get("metadata") or {}).get("source") == "input":
            if after is not None:
                starts.append({"state": after.get("values") or {}, "next": list(after.get("next") or [])})
            continue
        for task in c.get("tasks") or []:
            execution: dict[str, Any] = {"state": c.get("values") or {}}
            inner = (task.get("checkpoint") or {}).get("checkpoint_ns")
            if isinstance(inner, str) and inner:  # a subgraph: its own nodes hold the interrupts and messages
                subgraphs.setdefault(task["name"], []).append(executions(log, inner, (said, emitted)))
                if after is not None and not task.get("error"):
                    nodes.setdefault(task["name"], []).append({**execution, "update": task.get("result") or {}, "goto": list(after.get("next") or []), "after": after.get("values") or {}})
                continue
            if asks.get(task["id"]):
                execution["asks"] = asks[task["id"]]
            run = str(((after or c).get("metadata") or {}).get("run_id"))
            emit = emitted.get((run, task["name"])) or emitted.get((run, "*"))
            if emit:
                execution["emit"] = emit
            error = _error(task)
            if error:
                execution["error"] = error
            elif after is not None:
                update = task.get("result") or {}
                ai = [m for v in update.values() if isinstance(v, list) for m in v if message_like(m) and m.get("type") == "ai"]
                spoken = [said.get(m.get("id")) or _one_chunk(m) for m in ai if m.get("id") in said or _from_model(m)]
                if spoken:
                    execution["say"] = spoken
                execution["update"] = update
                execution["goto"] = list(after.get("next") or [])
            elif not execution.get("asks"):
                continue  # never ran (the thread stopped before it): nothing to replay
            nodes.setdefault(task["name"], []).append(execution)
    return {"state": reducers([history]), "starts": starts, "nodes": nodes, "subgraphs": subgraphs}


def _from_model(message: dict[str, Any]) -> bool:
    """Whether an AI message came from a chat model (LangChain names those by their run), not written by the node."""
    return str(message.get("id") or "").startswith(("lc_run--", "run-"))


def _one_chunk(message: dict[str, Any]) -> dict[str, Any]:
    """An AI message from a chat model that was never streamed while recording: one chunk with all of it."""
    chunk = {k: v for k, v in message.items() if k not in ("id", "type") and CHUNK_DEFAULTS.get(k, ...) != v}
    chunk.pop("tool_calls", None)
    return {"id": message.get("id"), "chunks": [{**chunk, "chunk_position": "last"}], "delays": [0.0], "ls": {}}


def reducers(histories: list[list[dict[str, Any]]]) -> dict[str, str]:
    """channel -> `messages`, `append` or `replace`, from what the checkpoints show."""
    kinds: dict[str, str] = {}
    for history in histories:
        ordered = list(reversed(history))
        for before, after in itertools.pairwise(ordered):
            for key, value in (after.get("values") or {}).items():
                old = (before.get("values") or {}).get(key)
                if isinstance(value, list) and any(message_like(v) for v in value):
                    kinds[key] = "messages"
                elif isinstance(value, list) and kinds.get(key) != "replace":
                    grew = isinstance(old, list) and old and value[: len(old)] == old and len(value) > len(old)
                    replaced = isinstance(old, list) and old and value[: len(old)] != old
                    kinds[key] = "replace" if replaced else ("append" if grew or key not in kinds else kinds[key])
                else:
                    kinds.setdefault(key, "replace")
    return kinds
