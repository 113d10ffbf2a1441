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

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

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

    def __init__(self, faults: list[Fault] | None = None) -> None:
        self.set(faults or [])

    def set(self, faults: list[Fault]) -> None:
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

    def for_run(self, graph_id: str, own: list[Fault] = ()) -> list[Fault]:  # type: ignore[assignment]
        """The run faults (error_at_step, token_delay, hang) for a run of this graph."""
        return [f for f in [*self.faults, *own] if (f.error_at_step is not None or f.token_delay is not None or f.hang) and f.matches_graph(graph_id)]
