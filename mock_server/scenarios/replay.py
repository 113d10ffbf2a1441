"""A recorded deployment (`recorded:` in a scenario file, written by `hitl-mock record`) as a real LangGraph graph
with the source's node names.

Each node replays what the source's node of that name did on the same state: the interrupts it raised, in order,
with the answers recorded for them; the AI messages it streamed, chunk by chunk (ids, content, tool-call chunks,
the chat model's `ls_*` metadata, and the recorded pacing times `--replay-speed`); its writes; where it went next;
or the error it raised. LangGraph runs the graph, so the `updates`, `values`, `tasks`, `checkpoints` and `debug`
events, `next`, task names, interrupt ids and history come out as the source's did. A state or an answer that
was never recorded fails the run with a message that names it.
"""

from __future__ import annotations

import asyncio
import json
import operator
from collections.abc import Callable
from typing import Annotated, Any, TypedDict

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.types import Command, interrupt
from pydantic import Field

from ..wire import exception_named
from .base import Graph, ScenarioError

SPEED = [1.0]  # the replay speed: 1 keeps the recorded pacing, 2 is twice as fast, 0 is instant (`--replay-speed`)
MISS = "hitl-mock replay"
_MESSAGES = {"ai": AIMessage, "human": HumanMessage, "system": SystemMessage, "tool": ToolMessage}


def set_speed(speed: float) -> None:
    if speed < 0:
        raise ValueError("--replay-speed must be 0 (instant) or more")
    SPEED[0] = speed


def fingerprint(value: Any) -> str:
    """A value as compared when replaying. A message counts by its type, content, name and tool calls: its id
    and the rest are left out (a server gives new messages new ids, and a node sees objects, not dicts)."""

    def strip(v: Any) -> Any:
        if isinstance(v, BaseMessage):
            v = {"type": v.type, "content": v.content, "name": v.name, "tool_calls": getattr(v, "tool_calls", None) or []}
        if message_like(v):
            calls = [{"name": c.get("name"), "args": c.get("args")} for c in v.get("tool_calls") or []]
            return {"type": v["type"], "content": strip(v["content"]), "name": v.get("name"), "tool_calls": calls}
        if isinstance(v, dict):
            return {k: strip(x) for k, x in v.items()}
        if isinstance(v, list):
            return [strip(x) for x in v]
        return v

    return json.dumps(strip(value), sort_keys=True, default=str)


def as_messages(value: Any) -> Any:
    """Recorded message dicts as LangChain messages (each keeps its id and every field)."""
    if isinstance(value, list):
        return [as_messages(v) for v in value]
    if isinstance(value, dict) and value.get("type") in _MESSAGES and "content" in value:
        fields = {k: v for k, v in value.items() if k != "type" and v is not None}
        return _MESSAGES[value["type"]](**fields)
    return value


class RecordedChatModel(BaseChatModel):
    """Streams one recorded AI message as it was streamed: the same chunks, id, tool-call chunks and pacing,
    reporting the source model's `ls_*` parameters (LangGraph puts them in the `messages` metadata)."""

    chunks: list[dict[str, Any]]
    message_id: str
    ls: dict[str, Any] = Field(default_factory=dict)
    delays: list[float] = Field(default_factory=list)  # seconds before each chunk

    @property
    def _llm_type(self) -> str:
        return "hitl-mock-replay"

    def _get_ls_params(self, stop: Any = None, **kwargs: Any) -> Any:
        return dict(self.ls)

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any) -> ChatResult:
        raise NotImplementedError("a recorded message is only streamed")

    async def _agenerate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any) -> ChatResult:
        message: AIMessageChunk | None = None
        async for chunk in self._astream(messages, stop, run_manager):
            message = chunk.message if message is None else message + chunk.message
        assert message is not None
        return ChatResult(generations=[ChatGeneration(message=AIMessage(**{k: v for k, v in message.model_dump().items() if k in AIMessage.model_fields and k != "type"}))])

    async def _astream(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any) -> Any:
        for i, fields in enumerate(self.chunks):
            delay = (self.delays[i] if i < len(self.delays) else 0.0) * (SPEED[0] and 1 / SPEED[0])
            if delay > 0:
                await asyncio.sleep(delay)
            chunk = ChatGenerationChunk(message=AIMessageChunk(**{"content": "", **fields, "id": self.message_id}))
            if run_manager:
                await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk


class _Miss(ValueError):
    pass


def _reducer(kind: str | None) -> Callable[[Any, Any], Any] | None:
    return {"messages": add_messages, "append": operator.add}.get(kind or "")


def _by_fingerprint(items: list[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    """`items` indexed by the fingerprint of their `key` (computed once, when the graph is compiled), in order."""
    index: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        index.setdefault(fingerprint(item.get(key) or {}), []).append(item)
    return index


def _pick(by_state: dict[str, list[dict[str, Any]]], name: str, state: dict[str, Any]) -> dict[str, Any]:
    """Replay the node's interrupts with their recorded answers; the execution the answers lead to."""
    key = fingerprint(state)
    candidates = by_state.get(key, [])
    if not candidates:
        raise _Miss(f"{MISS}: node {name!r} was not recorded on this state: {key[:300]}")
    step = 0
    while True:
        finished = [e for e in candidates if len(e.get("asks") or []) == step]
        asking = [e for e in candidates if len(e.get("asks") or []) > step]
        if finished or not asking:
            return finished[0] if finished else candidates[0]
        question = asking[0]["asks"][step]["interrupt"]
        answer = interrupt(question)
        given = fingerprint(answer)
        candidates = [e for e in asking if "answer" in e["asks"][step] and fingerprint(e["asks"][step]["answer"]) == given]
        if not candidates:
            seen = [e["asks"][step]["answer"] for e in asking if "answer" in e["asks"][step]]
            raise _Miss(f"{MISS}: node {name!r}: the answer {given[:200]} to {fingerprint(question)[:200]} was not recorded (recorded: {fingerprint(seen)[:300]})")
        step += 1


def _node(name: str, executions: list[dict[str, Any]]) -> Callable[..., Any]:
    by_state = _by_fingerprint(executions, "state")

    async def node(state: dict[str, Any]) -> Any:
        done = _pick(by_state, name, dict(state))
        for payload in done.get("emit") or []:
            get_stream_writer()(payload)
        for said in done.get("say") or []:
            model = RecordedChatModel(chunks=said.get("chunks") or [], message_id=said["id"], ls=said.get("ls") or {}, delays=said.get("delays") or [])
            await model.ainvoke([])
        if done.get("error"):
            error = done["error"]
            raise exception_named(error.get("type") or "ValueError", error.get("message") or "")
        if "update" not in done:  # recorded up to an interrupt that was never answered
            raise _Miss(f"{MISS}: node {name!r}: what followed the last answer was not recorded")
        goto = [END if g == "END" else g for g in done.get("goto") or []]
        update = {k: as_messages(v) for k, v in (done["update"] or {}).items()}
        return Command(goto=goto, update=update or None)

    node.__name__ = name
    return node


def compile_recorded(doc: dict[str, Any]) -> Graph:
    """The graph of a `recorded:` document (its shape is checked by scenario.schema.json)."""
    return _compile_part(doc["recorded"], str(doc["graph_id"]))


def _compile_part(recorded: dict[str, Any], name: str) -> Graph:
    """A recorded graph or subgraph: its nodes replay, its subgraph nodes are recorded subgraphs themselves."""
    fields: dict[str, Any] = {}
    for channel, kind in (recorded.get("state") or {}).items():
        reducer = _reducer(kind)
        fields[channel] = Annotated[list, reducer] if reducer else Any
    state = TypedDict(f"{name}_recorded", fields, total=False)  # type: ignore[misc]  # built at run time
    builder = StateGraph(state)
    nodes: dict[str, list[dict[str, Any]]] = recorded.get("nodes") or {}
    subgraphs: dict[str, dict[str, Any]] = recorded.get("subgraphs") or {}
    known = set(nodes) | set(subgraphs)
    for node, executions in nodes.items():
        if node in subgraphs:
            continue
        targets = sorted({g for e in executions for g in e.get("goto") or []})
        builder.add_node(node, _node(node, executions), destinations=tuple(END if t == "END" else t for t in targets) or None)
    for node, part in subgraphs.items():
        builder.add_node(node, _compile_part(part, f"{name}_{node}"))
        builder.add_conditional_edges(node, _after_subgraph(node, nodes.get(node) or []), [*known, END])
    starts: list[dict[str, Any]] = recorded.get("starts") or []
    for start in starts:
        unknown = [n for n in start.get("next") or [] if n not in known]
        if unknown:
            raise ScenarioError(f"recorded.starts: unknown node(s) {', '.join(unknown)}")

    first_nodes = _by_fingerprint(starts, "state")

    def route(values: dict[str, Any]) -> list[str]:
        key = fingerprint(dict(values))
        if key in first_nodes:
            return list(first_nodes[key][0].get("next") or [END])
        raise _Miss(f"{MISS}: this input was not recorded (state {key[:300]})")

    builder.add_conditional_edges(START, route, [*known, END])
    return builder.compile()


def _after_subgraph(node: str, executions: list[dict[str, Any]]) -> Callable[[dict[str, Any]], list[str]]:
    """Where the graph went after a subgraph node, by the state its output left."""

    by_after = _by_fingerprint(executions, "after")

    def route(values: dict[str, Any]) -> list[str]:
        key = fingerprint(dict(values))
        if key in by_after:
            return [END if g == "END" else g for g in by_after[key][0].get("goto") or []] or [END]
        raise _Miss(f"{MISS}: what followed subgraph node {node!r} on this state was not recorded: {key[:300]}")

    return route


def message_like(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") in _MESSAGES and "content" in value


__all__ = ["SPEED", "RecordedChatModel", "as_messages", "compile_recorded", "fingerprint", "message_like", "set_speed"]
