"""Deviation profiles: switchable, realistic server bugs, so a frontend can be tested against a broken server
and the conformance suite can be shown to catch each one (`hitl-mock serve --deviate NAME`, or
`PUT /__mock__/deviations`)."""

from __future__ import annotations

DEVIATIONS: dict[str, str] = {
    "thread-without-interrupts": "Thread objects lack `interrupts` (seen in self-hosted servers)",
    "interrupted-run-status": "a run that stops at interrupt() reports status `interrupted` instead of `success`",
    "wait-without-values": "a wait result that carries `__interrupt__` has no state values",
    "ignore-interrupt-before": "interrupt_before / interrupt_after are accepted and ignored",
    "stream-without-content-location": "stream responses lack Content-Location (useStream cannot name the run)",
    "plain-text-404": "404s are text/plain `Not Found` instead of JSON {\"detail\"}",
    "ignore-resume-map": "a resume map {interrupt_id: value} is accepted and ignored (nothing is resumed)",
    "ignore-multitask": "multitask_strategy is accepted and ignored (every run is enqueued)",
}


def check_names(names: list[str] | set[str]) -> set[str]:
    unknown = sorted(set(names) - set(DEVIATIONS))
    if unknown:
        raise ValueError(f"unknown deviation profile(s) {', '.join(unknown)}; known: {', '.join(DEVIATIONS)}")
    return set(names)
