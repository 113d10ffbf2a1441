"""The mock's vocabulary: statuses, multitask strategies, cancel actions and formats as `StrEnum`s.

Where the spec defines the values, they are checked against it when this module is imported, so the spec
stays the single source of truth: an enum that drifts from `openapi/openapi.yaml` fails at import.
"""

from __future__ import annotations

from enum import StrEnum

import hitl_spec


class ThreadStatus(StrEnum):
    IDLE = "idle"
    BUSY = "busy"
    INTERRUPTED = "interrupted"
    ERROR = "error"


class RunStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    ERROR = "error"
    SUCCESS = "success"
    TIMEOUT = "timeout"
    INTERRUPTED = "interrupted"


ACTIVE = frozenset({RunStatus.PENDING, RunStatus.RUNNING})


class MultitaskStrategy(StrEnum):
    REJECT = "reject"
    ROLLBACK = "rollback"
    INTERRUPT = "interrupt"
    ENQUEUE = "enqueue"


class CancelAction(StrEnum):
    """How a run is stopped: `interrupt` keeps its checkpoints, `rollback` removes the run and them."""

    INTERRUPT = "interrupt"
    ROLLBACK = "rollback"


class OnCompletion(StrEnum):
    DELETE = "delete"
    KEEP = "keep"


class InterruptFormat(StrEnum):
    """`legacy`: interrupts as servers before langgraph 0.6 sent them (value, resumable, ns, when)."""

    CURRENT = "current"
    LEGACY = "legacy"


# Each enum and where the spec defines it.
SPEC_ENUMS: dict[type[StrEnum], str] = {
    ThreadStatus: "#/components/schemas/ThreadStatus",
    RunStatus: "#/components/schemas/Run/properties/status",
    MultitaskStrategy: "#/components/schemas/MultitaskStrategy",
    CancelAction: "#/paths/~1threads~1{thread_id}~1runs~1{run_id}~1cancel/post/parameters/1",
    OnCompletion: "#/components/schemas/RunCreateStateless/properties/on_completion",
    InterruptFormat: "#/components/schemas/MockInterruptFormat/properties/format",
}


def check_enum(enum: type[StrEnum], pointer: str) -> None:
    """Raise when `enum`'s values are not exactly the spec's enum at `pointer`."""
    values = set(hitl_spec.enum_values(pointer))
    if values != {member.value for member in enum}:
        raise RuntimeError(f"{enum.__name__} disagrees with the spec at {pointer}: the spec has {sorted(values)}")


for _enum, _pointer in SPEC_ENUMS.items():
    check_enum(_enum, _pointer)
