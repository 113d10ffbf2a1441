"""Deviations that only show under load: bugs a single client working one thread at a time never meets, so the
conformance suite cannot catch them and `hitl-contract load` must. They change what the mock does only while at least
`LOAD` other threads are open (busy or waiting for an answer) and had a run in the last two seconds
(`Scheduler.load_on_others`, the `load` context), as when many reviewers work at once.
"""

from __future__ import annotations

from typing import Any

from .base import Deviation, Hook

LOAD = 3  # other open threads with a run created in the last LOAD_WINDOW


def _loses_interrupt(body: dict[str, Any], *, memory: dict[str, Any], load: int = 0, **_: Any) -> dict[str, Any]:
    """Under load, one pending interrupt of the thread goes missing from Thread.interrupts, for good (as a lost
    write would); the state and the run still have it."""
    lost: set[str] = memory.setdefault("lost", set())
    interrupts = body.get("interrupts")
    if not isinstance(interrupts, dict) or not interrupts:
        return body
    pending = [i["id"] for group in interrupts.values() for i in group if isinstance(i, dict)]
    if load >= LOAD and pending and not lost.intersection(pending):
        lost.add(pending[-1])
    kept = {task: [i for i in group if i.get("id") not in lost] for task, group in interrupts.items()}
    return {**body, "interrupts": {task: group for task, group in kept.items() if group}}


def _resume_twice(copies: int, *, payload: dict[str, Any], load: int = 0, **_: Any) -> int:
    """Under load, a resume is carried out twice: a second run with the same command is queued after the first,
    as a retried or duplicated delivery would."""
    command = payload.get("command")
    return copies + 1 if load >= LOAD and isinstance(command, dict) and "resume" in command else copies


D = Deviation
LOAD_PROFILES: tuple[Deviation, ...] = (
    D("lose-interrupt-under-load", "under load, a pending interrupt goes missing from Thread.interrupts", Hook.THREAD_BODY, _loses_interrupt),
    D("resume-twice-under-load", "under load, a resume is carried out twice (a second run with the same command)", Hook.RUN_COPIES, _resume_twice),
)
