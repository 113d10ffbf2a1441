"""Fault injection: what a real server rarely shows a frontend, on demand.

A fault has one effect and, optionally, where it applies:

    - {latency: 0.5, route: "POST /threads/{thread_id}/runs/stream"}   # seconds added before answering
    - {status: 503, route: "POST /threads", on_call: 2}                # that status (JSON {"detail"}) on the 2nd call
    - {drop_stream_after: 3}                                           # the SSE stream ends after 3 events (the run goes on)
    - {error_at_step: 0, graph: agent, error: {type: RuntimeError, message: boom}}   # the run fails at that step
    - {token_delay: 0.2, graph: chat}                                  # a pause before every `messages` event
    - {hang: true, graph: agent}                                       # the run never finishes (until cancelled)

`route` is a method and a path template of the spec, or just the template (any method); without it a
fault applies to every route. `graph` limits run faults to one graph. Faults come from
`PUT /__mock__/faults`, from a scenario file's `faults:` (there `graph` is implied), or from
`hitl-mock serve --faults FILE`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .wire import exception_named

EFFECTS = ("latency", "status", "drop_stream_after", "error_at_step", "token_delay", "hang")


class InjectedError(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str = "RuntimeError"
    message: str = "injected fault"


class Fault(BaseModel):
    model_config = ConfigDict(extra="forbid")

    route: str | None = None
    graph: str | None = None
    on_call: int | None = Field(default=None, ge=1, description="only the n-th matching call (1-based)")
    latency: float | None = Field(default=None, ge=0)
    status: int | None = Field(default=None, ge=400, le=599)
    detail: str | None = None
    drop_stream_after: int | None = Field(default=None, ge=0)
    error_at_step: int | None = Field(default=None, ge=-1)
    error: InjectedError | None = None
    token_delay: float | None = Field(default=None, ge=0)
    hang: bool = False

    @model_validator(mode="after")
    def _one_effect(self) -> Fault:
        effects = [name for name in EFFECTS if getattr(self, name) is not None and getattr(self, name) is not False]
        if len(effects) != 1:
            raise ValueError(f"a fault needs exactly one of {', '.join(EFFECTS)} (got {', '.join(effects) or 'none'})")
        return self

    def matches_route(self, method: str, template: str | None) -> bool:
        if self.route is None:
            return True
        wanted_method, _, wanted_path = self.route.rpartition(" ")
        return template == wanted_path and (not wanted_method or wanted_method.upper() == method.upper())

    @property
    def is_run_fault(self) -> bool:
        return self.error_at_step is not None or self.token_delay is not None or self.hang

    def matches_graph(self, graph_id: str) -> bool:
        return self.graph is None or self.graph == graph_id


def parse_faults(raw: Any, *, graph: str | None = None) -> list[Fault]:
    """Validate a list of faults; raises ValueError with a one-line message naming the bad item."""
    if not isinstance(raw, list):
        raise ValueError("faults must be a list")
    faults = []
    for i, item in enumerate(raw):
        try:
            fault = Fault.model_validate({**item, **({"graph": graph} if graph and isinstance(item, dict) else {})})
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'fault'}: {e['msg']}" for e in exc.errors())
            raise ValueError(f"faults[{i}]: {problems}") from None
        except TypeError:
            raise ValueError(f"faults[{i}]: a fault is a mapping") from None
        faults.append(fault)
    return faults


class Faults:
    """The faults in force, with a call counter each (for `on_call`)."""

    def __init__(self, faults: Sequence[Fault] = ()) -> None:
        self.faults: list[Fault] = []
        self._calls: list[int] = []
        self.set(faults)

    def set(self, faults: Sequence[Fault]) -> None:
        self.faults = list(faults)
        self._calls = [0] * len(self.faults)

    def to_wire(self) -> list[dict[str, Any]]:
        return [f.model_dump(exclude_defaults=True) for f in self.faults]

    def for_request(self, method: str, template: str | None) -> list[Fault]:
        """The HTTP faults (latency, status, drop_stream_after) this request triggers; counts the call."""
        hit = []
        for i, fault in enumerate(self.faults):
            if fault.latency is None and fault.status is None and fault.drop_stream_after is None:
                continue
            if not fault.matches_route(method, template):
                continue
            self._calls[i] += 1
            if fault.on_call is None or fault.on_call == self._calls[i]:
                hit.append(fault)
        return hit

    def for_run(self, graph_id: str, own: Sequence[Fault] = ()) -> RunFaults:
        """The run faults (error_at_step, token_delay, hang) for a run of this graph."""
        if not self.faults and not own:
            return NO_RUN_FAULTS
        return RunFaults([f for f in [*self.faults, *own] if f.is_run_fault and f.matches_graph(graph_id)])



def drop_stream_after(hit: Sequence[Fault]) -> int | None:
    """How many events a stream may send before a `drop_stream_after` fault among `hit` ends it."""
    return next((f.drop_stream_after for f in hit if f.drop_stream_after is not None), None)


class RunFaults:
    """The faults of one run, applied at its hook points: before it starts, and at each chunk it streams."""

    __slots__ = ("fail_at_step", "hang", "token_delay")

    def __init__(self, faults: list[Fault]) -> None:
        self.hang = any(f.hang for f in faults)
        failing = next((f for f in faults if f.error_at_step is not None), None)
        self.fail_at_step: tuple[int, BaseException] | None = None
        if failing is not None and failing.error_at_step is not None:
            spec = failing.error or InjectedError()
            self.fail_at_step = (failing.error_at_step, exception_named(spec.type, spec.message))
        self.token_delay = max((f.token_delay or 0.0 for f in faults), default=0.0)

    def __bool__(self) -> bool:
        return self.hang or self.fail_at_step is not None or bool(self.token_delay)

    async def before_start(self) -> None:
        if self.hang:
            await asyncio.Event().wait()  # this run never finishes (a cancel ends it)

    async def on_chunk(self, ns: tuple[str, ...], mode: str, chunk: Any) -> None:
        fail = self.fail_at_step
        if fail is not None and mode == "debug" and not ns and chunk["type"] == "task" and chunk["step"] >= fail[0]:
            raise fail[1]
        if self.token_delay and mode == "messages":
            await asyncio.sleep(self.token_delay)


NO_RUN_FAULTS = RunFaults([])  # what a run gets while no fault is set (most runs): nothing to work out
