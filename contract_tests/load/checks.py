"""What `hitl-contract load` checks in every journey, and the failure kinds it counts apart from HTTP errors.

A check that ran is reported to Locust as a request of type `CHECK` named by its kind: Locust then counts checks
and failures per kind, and sums them over all workers in master/worker mode. So the report can say, for each
kind, how many times it was checked as well as how often it failed: a kind never checked is never called passed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

CHECK = "CHECK"  # the Locust request type of a correctness check
JOURNEY = "JOURNEY"  # the Locust request type of a whole journey (its time is the journey's)

KINDS: dict[str, str] = {
    "interrupt-seen": "every interrupt a step raises is on every surface: the run's output (wait body or stream), "
    "Thread.interrupts, the state and the newest history entry, with the same ids and values",
    "interrupt-expected": "the step raises the interrupts the graph asks (their count and payloads)",
    "resume-once": "each resume is applied exactly once: the thread lists exactly the runs the journey created",
    "not-stuck-busy": "no thread is still busy once its run has returned",
    "stream-no-loss": "a stream has every event: rejoined with Last-Event-ID, the same event sequence as an unbroken "
    "stream of the same step; and its last values equal the state's",
    "stream-no-duplicate": "a stream rejoined with Last-Event-ID sends no event twice",
    "final-values": "the final values are exactly what the journey implies",
    "final-status": "the thread ends idle with no pending interrupt",
    "journey-completes": "every journey runs to its end: no answer it needs is missing or malformed",
}


class CorrectnessFailure(Exception):
    """A check that failed; its message names the journey step, what was expected and what was seen."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


Report = Callable[[str, CorrectnessFailure | None], None]  # (kind, failure or None when it held)


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def flatten(interrupts: Any) -> dict[str, Any]:
    """`{id: value}` from any interrupt surface: a list of interrupts, or Thread.interrupts' `{task: [...]}`."""
    items: Iterable[Any]
    if isinstance(interrupts, dict):
        items = [i for group in interrupts.values() if isinstance(group, list) for i in group]
    elif isinstance(interrupts, list):
        items = interrupts
    else:
        items = []
    return {str(i.get("id")): i.get("value") for i in items if isinstance(i, dict)}


def state_interrupts(state: Any) -> dict[str, Any]:
    """The pending interrupts a state (or history entry) shows: its `interrupts`, else its tasks' interrupts."""
    if not isinstance(state, dict):
        return {}
    if isinstance(state.get("interrupts"), list) and state["interrupts"]:
        return flatten(state["interrupts"])
    tasks = state.get("tasks")
    if not isinstance(tasks, list):
        return {}
    return flatten([i for task in tasks if isinstance(task, dict) for i in task.get("interrupts") or []])


class Checker:
    """Runs the checks of one journey step and reports each to `report`."""

    def __init__(self, report: Report, where: str) -> None:
        self.report = report
        self.where = where

    def check(self, kind: str, ok: bool, detail: Callable[[], str]) -> bool:
        failure = None if ok else CorrectnessFailure(kind, f"{self.where}: {detail()}")
        self.report(kind, failure)
        return ok

    def expected_interrupts(self, seen: dict[str, Any], expected: list[Any]) -> bool:
        got = sorted(canonical(v) for v in seen.values())
        want = sorted(canonical(v) for v in expected)
        return self.check("interrupt-expected", got == want, lambda: f"the run raised {got}, the graph asks {want}")

    def surfaces(self, run_output: dict[str, Any], surfaces: dict[str, dict[str, Any]]) -> bool:
        """The run output's interrupts, by id, on each other surface."""
        problems = []
        for name, seen in surfaces.items():
            missing = sorted(set(run_output) - set(seen))
            extra = sorted(set(seen) - set(run_output))
            changed = sorted(i for i in set(run_output) & set(seen) if canonical(run_output[i]) != canonical(seen[i]))
            if missing:
                problems.append(f"{name} lacks {missing}")
            if extra:
                problems.append(f"{name} has {extra}, which the run did not raise")
            if changed:
                problems.append(f"{name} shows other values for {changed}")
        return self.check("interrupt-seen", not problems, lambda: "; ".join(problems))
