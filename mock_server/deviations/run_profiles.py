"""Deviation profiles of what a run does: payloads ignored, inputs and resumes misread."""

from __future__ import annotations

import json
from typing import Any, TypeGuard

from ..types import MultitaskStrategy
from .base import Deviation, Hook

GraphInput = tuple[Any, dict[str, Any] | None]  # (input, command)


def _is_resume_map(value: Any) -> TypeGuard[dict[str, Any]]:
    return isinstance(value, dict) and bool(value) and all(isinstance(k, str) and len(k) == 32 for k in value)


def _payload_without(*keys: str) -> Any:
    return lambda payload, **_: {k: v for k, v in payload.items() if k not in keys}


def _reject_by_default(payload: dict[str, Any], **_: Any) -> dict[str, Any]:
    return payload if payload.get("multitask_strategy") else {**payload, "multitask_strategy": MultitaskStrategy.REJECT.value}


def _stateless_resume_runs(payload: dict[str, Any], *, stateless: bool, **_: Any) -> dict[str, Any]:
    if stateless and "resume" in (payload.get("command") or {}):
        return {k: v for k, v in payload.items() if k != "command"}
    return payload


def _command(change: Any) -> Any:
    """A GRAPH_INPUT transform that changes the command (when there is one)."""

    def transform(value: GraphInput, *, pending: list[str], **_: Any) -> GraphInput:
        graph_input, command = value
        return (graph_input, change(command, pending)) if command else value

    return transform


def _ignore_map(command: dict[str, Any], pending: list[str]) -> dict[str, Any]:
    if not _is_resume_map(command.get("resume")):
        return command
    return {k: v for k, v in command.items() if k != "resume"} or {"update": None}


def _stringify(command: dict[str, Any], pending: list[str]) -> dict[str, Any]:
    resume = command.get("resume")
    if "resume" not in command or isinstance(resume, str) or _is_resume_map(resume):
        return command
    return {**command, "resume": json.dumps(resume)}


def _fill_all(command: dict[str, Any], pending: list[str]) -> dict[str, Any]:
    if "resume" not in command or _is_resume_map(command["resume"]) or len(pending) < 2:
        return command
    return {**command, "resume": dict.fromkeys(pending, command["resume"])}


def _first_for_unknown(command: dict[str, Any], pending: list[str]) -> dict[str, Any]:
    resume = command.get("resume")
    if not _is_resume_map(resume) or not pending or set(resume) & set(pending):
        return command
    return {**command, "resume": {pending[0]: next(iter(resume.values()))}}


def _no_update(command: dict[str, Any], pending: list[str]) -> dict[str, Any]:
    return {k: v for k, v in command.items() if k != "update"} or {"update": None}


def _input_resumes(value: GraphInput, *, pending: list[str], **_: Any) -> GraphInput:
    graph_input, command = value
    return (None, {"resume": graph_input}) if pending and not command and graph_input is not None else value


def _ascii(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("ascii", "replace").decode("ascii")
    if isinstance(value, list):
        return [_ascii(v) for v in value]
    if isinstance(value, dict):
        return {_ascii(k): _ascii(v) for k, v in value.items()}
    return value


def _ascii_input(value: GraphInput, **_: Any) -> GraphInput:
    graph_input, command = value
    return (_ascii(graph_input), command)


def _null_restarts(value: GraphInput, **_: Any) -> GraphInput:
    graph_input, command = value
    return ({}, command) if graph_input is None and not command else value


D = Deviation
RUN_PROFILES: tuple[Deviation, ...] = (
    D("ignore-interrupt-before", "interrupt_before / interrupt_after are accepted and ignored", Hook.BREAKPOINTS, lambda _, **__: (None, None)),
    D("ignore-multitask", "multitask_strategy is accepted and ignored (every run is enqueued)", Hook.MULTITASK, lambda _, **__: MultitaskStrategy.ENQUEUE),
    D("reject-by-default", "without multitask_strategy a busy thread refuses the run (409)", Hook.RUN_PAYLOAD, _reject_by_default),
    D("ignore-if-not-exists", "if_not_exists=create is accepted and ignored (404)", Hook.RUN_PAYLOAD, _payload_without("if_not_exists")),
    D("ignore-stream-resumable", "stream_resumable is accepted and ignored (no event ids, no replay)", Hook.RUN_PAYLOAD, _payload_without("stream_resumable")),
    D("stateless-resume-accepted", "a stateless resume is accepted and runs the graph from the start", Hook.RUN_PAYLOAD, _stateless_resume_runs),
    D("ignore-resume-map", "a resume map {interrupt_id: value} is accepted and ignored (nothing is resumed)", Hook.GRAPH_INPUT, _command(_ignore_map)),
    D("resume-value-stringified", "a resume value that is not a string reaches interrupt() as its JSON text", Hook.GRAPH_INPUT, _command(_stringify)),
    D("single-resume-fills-all", "a single resume value with several interrupts pending answers them all", Hook.GRAPH_INPUT, _command(_fill_all)),
    D("unknown-resume-id-resumes-first", "a resume map with an unknown id resumes the first pending interrupt", Hook.GRAPH_INPUT, _command(_first_for_unknown)),
    D("ignore-command-update", "Command(update=...) is accepted and ignored", Hook.GRAPH_INPUT, _command(_no_update)),
    D("new-input-resumes", "new input on an interrupted thread is taken as the resume value", Hook.GRAPH_INPUT, _input_resumes),
    D("input-ascii-only", "non-ASCII characters in a run's input arrive in the graph as `?` (input encoded as ASCII)", Hook.GRAPH_INPUT, _ascii_input),
    D("null-input-restarts", "a run with `input: null` starts the graph over instead of continuing", Hook.GRAPH_INPUT, _null_restarts),
    D("ignore-run-checkpoint", "a run's checkpoint_id / checkpoint is accepted and ignored (it runs from the latest state)", Hook.RUN_PAYLOAD, _payload_without("checkpoint_id", "checkpoint")),
)
