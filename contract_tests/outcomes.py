"""What each check proved, carried from wherever it ran (this process or a pytest-xdist worker) to the report.

A check's outcome travels in its pytest report's `user_properties` as JSON, so it survives the trip from a worker.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

KEY = "hitl_outcome"
THREADS_KEY = "hitl_threads"
DERIVED = "[responses]"  # suffix of the SCHEMA-001 outcome derived from another check's responses


@dataclass
class Outcome:
    nodeid: str
    clauses: tuple[str, ...]
    outcome: str  # passed | failed | skipped
    message: str = ""
    transcript: list[dict[str, Any]] = field(default_factory=list)

    def to_property(self) -> tuple[str, str]:
        return KEY, json.dumps(asdict(self))

    @classmethod
    def from_property(cls, value: str) -> Outcome:
        raw = json.loads(value)
        return cls(raw["nodeid"], tuple(raw["clauses"]), raw["outcome"], raw["message"], raw["transcript"])


@dataclass
class Litter:
    """Threads the suite created on the server, and how many it removed again."""

    created: int = 0
    removed: int = 0
    left: list[str] = field(default_factory=list)  # ids still on the server

    def add(self, created: int, removed: int, left: list[str]) -> None:
        self.created += created
        self.removed += removed
        self.left += left


def outcomes_in(user_properties: list[tuple[str, Any]]) -> list[Outcome]:
    return [Outcome.from_property(value) for key, value in user_properties if key == KEY]


def threads_in(user_properties: list[tuple[str, Any]]) -> list[tuple[int, int, list[str]]]:
    found = []
    for key, value in user_properties:
        if key == THREADS_KEY:
            created, removed, left = json.loads(value)
            found.append((int(created), int(removed), [str(t) for t in left]))
    return found
