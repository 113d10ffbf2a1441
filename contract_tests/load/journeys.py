"""A reviewer's HITL journey on one thread, step by step, checking every step.

A step is one run: the start, or a resume by value or by id map. Each step runs as `wait` or as a resumable
`stream` (sometimes dropped mid-way and rejoined with `Last-Event-ID`). After it the journey reads the thread,
its state, its newest history entry and its runs, and checks (checks.py):
- the interrupts the graph asks for were raised, and each is on every surface with the same id and value;
- the thread is not left `busy`, and lists exactly the runs the journey made (each resume applied once);
- a reconnected stream has the same events as an unbroken stream of the same step, none twice, and ends with
  the state's values.
At the end the values must be exactly what the answers imply. The graphs' own rules (`fixtures/graphs/`) say
what they are; the scripts are in graphs.py.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .checks import Checker, Report, canonical, flatten, state_interrupts
from .transport import Event, Transport

STREAM_MODES = ["values", "updates"]
PROFILES = ("steady", "ramp", "spike")  # the load over time (locustfile.Profile)


@dataclass(frozen=True)
class Options:
    modes: tuple[str, ...] = ("wait", "stream")  # how steps run, picked at random
    think: float = 0.5  # mean seconds a reviewer looks at an interrupt before answering
    reconnect: float = 0.5  # the share of streams dropped and rejoined with Last-Event-ID
    busy_grace: float = 2.0  # seconds a thread may still read `busy` after its run returned


@dataclass
class Calibration:
    """The event names of an unbroken stream of each step (graph, step, branch), as this process first saw them;
    a rejoined stream of the same step must have the same."""

    names: dict[str, list[str]] = field(default_factory=dict)


class Journey:
    def __init__(
        self, http: Transport, assistant: str, graph: str, options: Options, report: Report, calibration: Calibration, sleep: Callable[[float], None], rng: random.Random | None = None
    ) -> None:
        self.http = http
        self.assistant = assistant
        self.graph = graph
        self.options = options
        self.report = report
        self.calibration = calibration
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.thread_id = ""
        self.runs = 0
        self.thread: dict[str, Any] = {}
        self.state: dict[str, Any] = {}
        self.history: list[Any] = []
        self.by_id = self.rng.random() < 0.5  # resume by id map, else by value

    # -- what the graph scripts call ---------------------------------------------------------------------

    def begin(self) -> None:
        self.thread_id = self.http.call("POST", "/threads", "create thread", {"metadata": {"hitl_load": self.graph}})["thread_id"]

    def word(self) -> str:
        return "".join(self.rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(8))

    def think(self) -> None:
        if self.options.think > 0:
            self.sleep(self.rng.uniform(0.5, 1.5) * self.options.think)

    def answer(self, pending: dict[str, Any], value: Any) -> dict[str, Any]:
        """The resume command for the one pending interrupt: by id map or by value, one way for the whole journey.
        (Mixing them in one node is not a valid journey: once a node's interrupt was answered by value, LangGraph
        takes a later id-map answer to the same node as the earlier one and asks again; the official server does
        the same.)"""
        if len(pending) == 1 and self.by_id:
            return {"resume": {next(iter(pending)): value}}
        return {"resume": value}

    def step(self, label: str, expect: list[Any], *, input: Any = None, command: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run one step and check it; the interrupts it raised, `{id: value}`."""
        body: dict[str, Any] = {"assistant_id": self.assistant}
        body.update({"command": command} if command is not None else {"input": input})
        mode = self.rng.choice(self.options.modes)
        checker = Checker(self.report, f"{self.graph} thread {self.thread_id} step '{label}' ({mode})")
        streamed: list[Event] | None = None
        if mode == "wait":
            output = self.http.call("POST", f"/threads/{self.thread_id}/runs/wait", f"{self.graph} {label} (wait)", body)
            raised = flatten(output.get("__interrupt__") if isinstance(output, dict) else None)
        else:
            streamed = self._stream(label, body, checker)
            raised = {k: v for e in streamed if e.name == "updates" and isinstance(e.data, dict) for k, v in flatten(e.data.get("__interrupt__")).items()}
        self.runs += 1
        self._read(label, checker)
        checker.expected_interrupts(raised, expect)
        status = self.thread.get("status")
        surfaces = {
            "Thread.interrupts": flatten(self.thread.get("interrupts")),
            "state": state_interrupts(self.state),
            "history[0]": state_interrupts(self.history[0] if self.history else None),
        }
        if raised and status != "interrupted":
            surfaces["Thread.status"] = {}  # the thread does not say it waits for an answer
        checker.surfaces(raised, surfaces)
        if streamed is not None:
            self._stream_ends_with_state(streamed, checker)
        return raised

    def finish(self, expected: dict[str, Any], normalise: Callable[[dict[str, Any]], Any] = lambda v: v) -> None:
        checker = Checker(self.report, f"{self.graph} thread {self.thread_id} at the end")
        values: dict[str, Any] = self.state["values"] if isinstance(self.state.get("values"), dict) else {}
        checker.check("final-values", canonical(normalise(values)) == canonical(normalise(expected)), lambda: f"values {canonical(values)}, the journey implies {canonical(expected)}")
        pending = flatten(self.thread.get("interrupts"))
        status = self.thread.get("status")
        checker.check("final-status", status == "idle" and not pending, lambda: f"status {status!r} with pending interrupts {sorted(pending)}")

    # -- reading and checking --------------------------------------------------------------------------

    def _read(self, label: str, checker: Checker) -> None:
        self.thread = self._not_busy(label, checker)
        self.state = self.http.call("GET", f"/threads/{self.thread_id}/state", "read state")
        self.history = self.http.call("POST", f"/threads/{self.thread_id}/history", "read history", {"limit": 1})
        runs = self.http.call("GET", f"/threads/{self.thread_id}/runs", "list runs")
        count = len(runs) if isinstance(runs, list) else -1
        checker.check("resume-once", count == self.runs, lambda: f"the thread lists {count} runs; the journey made {self.runs}")

    def _not_busy(self, label: str, checker: Checker) -> dict[str, Any]:
        waited = 0.0
        while True:
            thread: dict[str, Any] = self.http.call("GET", f"/threads/{self.thread_id}", "read thread")
            if thread.get("status") != "busy" or waited >= self.options.busy_grace:
                break
            self.sleep(0.1)
            waited += 0.1
        checker.check("not-stuck-busy", thread.get("status") != "busy", lambda: f"still busy {self.options.busy_grace:g} s after '{label}' returned")
        return thread

    def _stream(self, label: str, body: dict[str, Any], checker: Checker) -> list[Event]:
        key = f"{self.graph}/{label}"
        drop = key in self.calibration.names and self.rng.random() < self.options.reconnect
        target = self.rng.randint(1, 3)

        def cut(events: list[Event]) -> int | None:
            # Drop where the ids change, so Last-Event-ID names one point (a server whose ids repeat, as the
            # official in-memory one's `<ms>-0` can, fails HITL-RESUMABLE-001 in the suite, not here).
            if drop and len(events) > target and events[-1].id != events[-2].id:
                return len(events) - 1
            return None

        request = {**body, "stream_mode": STREAM_MODES, "stream_resumable": True}
        events, kept = self.http.stream("POST", f"/threads/{self.thread_id}/runs/stream", f"{self.graph} {label} (stream)", request, cut=cut)
        if kept is None:
            self.calibration.names.setdefault(key, [e.name for e in events])
            return events
        run_id = events[0].data.get("run_id") if events and isinstance(events[0].data, dict) else None
        last = events[kept - 1].id
        rest, _ = self.http.stream("GET", f"/threads/{self.thread_id}/runs/{run_id}/stream", f"{self.graph} reconnect stream", last_event_id=last)
        joined = events[:kept] + rest
        self._compare(key, joined, kept, checker)
        return joined

    def _compare(self, key: str, joined: list[Event], kept: int, checker: Checker) -> None:
        seen = Counter((e.name, e.id, canonical(e.data)) for e in joined)
        twice = [e for e, n in seen.items() if n > 1]
        checker.check("stream-no-duplicate", not twice, lambda: f"dropped after event {kept} and rejoined at id {joined[kept - 1].id}: sent twice {twice}")
        names, unbroken = [name for name, _, _ in seen], self.calibration.names[key]  # each event once, in order
        checker.check("stream-no-loss", names == unbroken, lambda: f"dropped after event {kept} and rejoined: events {names}, an unbroken stream has {unbroken}")

    def _stream_ends_with_state(self, events: list[Event], checker: Checker) -> None:
        values = [e.data for e in events if e.name == "values" and isinstance(e.data, dict)]
        last = {k: v for k, v in values[-1].items() if k != "__interrupt__"} if values else None
        state = self.state.get("values")
        checker.check("stream-no-loss", canonical(last) == canonical(state), lambda: f"the stream's last values {canonical(last)}, the state's {canonical(state)}")
