"""Scenario steps run inside a LangGraph node: `interrupt`, `set`, `update`, `say` (a scripted chat model,
streamed token by token), `message`, `emit`, `sleep`, `raise`, `if` and `goto`."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage, ToolMessage
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGenerationChunk
from langgraph.config import get_stream_writer
from langgraph.types import Command, interrupt

from ..wire import exception_named
from .replay import SPEED
from .templates import check, render, satisfies

STEP_KINDS = ("interrupt", "set", "update", "say", "message", "emit", "sleep", "raise", "if", "goto")

_MESSAGE_TYPES = {"ai": AIMessage, "human": HumanMessage, "system": SystemMessage, "tool": ToolMessage}


class ScriptedChatModel(GenericFakeChatModel):
    """LangChain's fake chat model, streaming its scripted message token by token (with a pause per token)
    and its tool calls as tool-call chunks. Invoked inside a node, LangGraph streams the tokens as
    `messages` events exactly as it does for a real model."""

    token_delay: float = 0.0
    chunks: list[str] | None = None  # explicit chunking (`say` with `chunks:`), else one token per word or space
    delays: list[float] | None = None  # seconds before each chunk (scaled by --replay-speed), else token_delay

    async def _astream(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any) -> Any:
        message = next(self.messages)
        assert isinstance(message, AIMessage), "a scripted chat model only says AI messages"
        content = message.content if isinstance(message.content, str) else ""
        tokens = self.chunks if self.chunks is not None else [t for t in re.split(r"(\s)", content) if t]
        calls = message.tool_calls
        for i, token in enumerate(tokens):
            delay = self.token_delay if self.delays is None else (self.delays[i] if i < len(self.delays) else 0.0) * (SPEED[0] and 1 / SPEED[0])
            if delay:
                await asyncio.sleep(delay)
            last = i == len(tokens) - 1 and not calls
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=token, id=message.id, chunk_position="last" if last else None))
            if run_manager:
                await run_manager.on_llm_new_token(token, chunk=chunk)
            yield chunk
        if calls:
            call_chunks = [tool_call_chunk(name=c["name"], args=json.dumps(c["args"]), id=c.get("id"), index=i) for i, c in enumerate(calls)]
            chunk = ChatGenerationChunk(message=AIMessageChunk(content="", id=message.id, tool_call_chunks=call_chunks, chunk_position="last"))
            if run_manager:
                await run_manager.on_llm_new_token("", chunk=chunk)
            yield chunk


async def _say(step: dict[str, Any], scope: dict[str, Any], out: _Output) -> None:
    chunks = [str(c) for c in render(step["chunks"], scope)] if "chunks" in step else None
    text = "".join(chunks) if chunks is not None else render(step["say"], scope)
    calls = [{**c, "id": c.get("id") or f"call_{i}"} for i, c in enumerate(render(step.get("tool_calls") or [], scope))]
    message = AIMessage(content=str(text), tool_calls=calls, **({"id": render(step["id"], scope)} if "id" in step else {}))
    model = ScriptedChatModel(messages=iter([message]), token_delay=scope.get("__token_delay__", 0.0), chunks=chunks, delays=step.get("delays"))
    state_messages = (scope.get("state") or {}).get(step.get("to", "messages")) or []
    message = await model.ainvoke(list(state_messages))
    out.update.setdefault(step.get("to", "messages"), []).append(message)


@dataclass
class _Output:
    update: dict[str, Any] = field(default_factory=dict)
    goto: Any = None


def _exception(spec: Any, scope: dict[str, Any]) -> Exception:
    if isinstance(spec, str):
        return ValueError(render(spec, scope))
    return exception_named(spec.get("type", "ValueError"), render(spec["message"], scope))


async def _run_steps(steps: list[dict[str, Any]], scope: dict[str, Any], out: _Output) -> bool:
    """Run steps in order; True when a `goto` ended the node."""
    for step in steps:
        if "interrupt" in step:
            kwargs = {"response_schema": step["response_schema"]} if "response_schema" in step else {}
            answer = interrupt(render(step["interrupt"], scope), **kwargs)
            if "until" in step:
                while not satisfies(answer, step["until"]):
                    retry_scope = {**scope, step.get("as", "answer"): answer}
                    answer = interrupt(render(step.get("retry", step["interrupt"]), retry_scope), **kwargs)
            if "as" in step:
                scope[step["as"]] = answer
        elif "set" in step:
            for name, value in step["set"].items():
                scope[name] = render(value, scope)
        elif "update" in step:
            out.update.update(render(step["update"], scope))
        elif "say" in step:
            await _say(step, scope, out)
        elif "message" in step:
            spec = render(step["message"], scope)
            cls = _MESSAGE_TYPES[spec.pop("type", "ai")]
            out.update.setdefault(step.get("to", "messages"), []).append(cls(**spec))
        elif "emit" in step:
            get_stream_writer()(render(step["emit"], scope))
        elif "sleep" in step:
            seconds = render(step["sleep"], scope)
            if seconds:
                await asyncio.sleep(float(seconds))
        elif "raise" in step:
            raise _exception(step["raise"], scope)
        elif "if" in step:
            branch = step.get("then", []) if check(step["if"], scope) else step.get("else", [])
            if await _run_steps(branch, scope, out):
                return True
        elif "goto" in step:
            out.goto = render(step["goto"], scope)
            return True
    return False


def _last_human(state: dict[str, Any]) -> Any:
    for message in reversed(state.get("messages") or []):
        kind = message.get("type", message.get("role")) if isinstance(message, dict) else getattr(message, "type", None)
        if kind in ("human", "user"):
            return message.get("content") if isinstance(message, dict) else message.content
    return None


def make_node(name: str, steps: list[dict[str, Any]], pacing: dict[str, float]) -> Callable[..., Any]:
    async def node(state: dict[str, Any]) -> Any:
        if pacing.get("step_delay"):
            await asyncio.sleep(pacing["step_delay"])
        out = _Output()
        scope = {"state": state, "last_human": _last_human(state), "__token_delay__": pacing.get("token_delay", 0.0)}
        await _run_steps(steps, scope, out)
        if out.goto is not None:
            return Command(goto=out.goto, update=out.update or None)
        return out.update or None

    node.__name__ = name
    return node


def gotos(steps: Iterable[dict[str, Any]]) -> list[str]:
    found: list[str] = []
    for step in steps:
        if "goto" in step:
            found += [step["goto"]] if isinstance(step["goto"], str) else list(step["goto"])
        found += gotos(step.get("then", [])) + gotos(step.get("else", []))
    return found
