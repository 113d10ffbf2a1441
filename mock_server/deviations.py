"""Deviation profiles: switchable, realistic server bugs, so a frontend can be tested against a broken server and
the conformance suite can be shown to catch each one (`hitl-mock serve --deviate NAME`, `PUT /__mock__/deviations`).

Deviations are one layer. The mock calls `Deviations.apply(Hook.X, value, ...)` at a few named hook points, and
each profile is one entry below: its description, the hook it changes and a function that changes the value
there. Adding a profile touches only this file (and a new hook point only the one place that calls it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson

from .types import MultitaskStrategy, RunStatus


class Hook(StrEnum):
    """The points where a deviation can change what the mock does; each says what value it is given."""

    THREAD_BODY = "thread_body"  # a Thread as answered (dict)
    RUN_BODY = "run_body"  # a Run as answered (dict); context: result (the run's wait body, bytes or None)
    WAIT_RESULT = "wait_result"  # the body of a wait or join (bytes)
    STREAM_HEADERS = "stream_headers"  # the headers of POST .../runs/stream (dict)
    NOT_FOUND = "not_found"  # a 404 answer (Starlette Response)
    MULTITASK = "multitask"  # a run's multitask strategy (MultitaskStrategy)
    BREAKPOINTS = "breakpoints"  # a run's (interrupt_before, interrupt_after)
    RESUME = "resume"  # a run's command (dict)


Transform = Callable[..., Any]


@dataclass(frozen=True)
class Deviation:
    name: str
    description: str
    hook: Hook
    transform: Transform


def _without(key: str) -> Transform:
    return lambda body, **_: {k: v for k, v in body.items() if k != key}


def _interrupted_status(body: dict[str, Any], *, result: bytes | None = None, **_: Any) -> dict[str, Any]:
    if body["status"] == RunStatus.SUCCESS and b'"__interrupt__"' in (result or b""):
        return {**body, "status": RunStatus.INTERRUPTED}
    return body


def _interrupts_only(result: bytes, **_: Any) -> bytes:
    if b'"__interrupt__"' not in result:
        return result
    return orjson.dumps({"__interrupt__": orjson.loads(result).get("__interrupt__")})


def _plain_text_404(response: Any, **_: Any) -> Any:
    from starlette.responses import PlainTextResponse

    return PlainTextResponse("Not Found", 404)


def _is_resume_map(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(isinstance(k, str) and len(k) == 32 for k in value)


def _drop_resume_map(command: dict[str, Any], **_: Any) -> dict[str, Any]:
    if not _is_resume_map(command.get("resume")):
        return command
    return {k: v for k, v in command.items() if k != "resume"} or {"update": None}


PROFILES: tuple[Deviation, ...] = (
    Deviation("thread-without-interrupts", "Thread objects lack `interrupts` (seen in self-hosted servers)", Hook.THREAD_BODY, _without("interrupts")),
    Deviation(
        "interrupted-run-status", "a run that stops at interrupt() reports status `interrupted` instead of `success`", Hook.RUN_BODY, _interrupted_status
    ),
    Deviation("wait-without-values", "a wait result that carries `__interrupt__` has no state values", Hook.WAIT_RESULT, _interrupts_only),
    Deviation("ignore-interrupt-before", "interrupt_before / interrupt_after are accepted and ignored", Hook.BREAKPOINTS, lambda _, **__: (None, None)),
    Deviation(
        "stream-without-content-location",
        "stream responses lack Content-Location (useStream cannot name the run)",
        Hook.STREAM_HEADERS,
        _without("Content-Location"),
    ),
    Deviation("plain-text-404", '404s are text/plain `Not Found` instead of JSON {"detail"}', Hook.NOT_FOUND, _plain_text_404),
    Deviation("ignore-resume-map", "a resume map {interrupt_id: value} is accepted and ignored (nothing is resumed)", Hook.RESUME, _drop_resume_map),
    Deviation(
        "ignore-multitask", "multitask_strategy is accepted and ignored (every run is enqueued)", Hook.MULTITASK, lambda _, **__: MultitaskStrategy.ENQUEUE
    ),
)
DEVIATIONS: dict[str, str] = {d.name: d.description for d in PROFILES}
_BY_NAME = {d.name: d for d in PROFILES}


def check_names(names: Iterable[str]) -> set[str]:
    unknown = sorted(set(names) - set(DEVIATIONS))
    if unknown:
        raise ValueError(f"unknown deviation profile(s) {', '.join(unknown)}; known: {', '.join(DEVIATIONS)}")
    return set(names)


class Deviations:
    """The deviation profiles in force, applied at the hook points."""

    def __init__(self, active: Iterable[str] = ()) -> None:
        self._hooks: dict[Hook, list[Deviation]] = {}
        self.active: frozenset[str] = frozenset()
        self.set(active)

    def set(self, names: Iterable[str]) -> None:
        self.active = frozenset(check_names(names))
        self._hooks = {}
        for deviation in PROFILES:
            if deviation.name in self.active:
                self._hooks.setdefault(deviation.hook, []).append(deviation)

    def apply(self, hook: Hook, value: Any, **context: Any) -> Any:
        """`value` as the active profiles change it at `hook` (unchanged when none applies)."""
        for deviation in self._hooks.get(hook, ()):
            value = deviation.transform(value, **context)
        return value
