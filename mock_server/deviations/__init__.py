"""Deviation profiles: switchable, realistic server bugs, so a frontend can be tested against a broken server and
the conformance suite can be shown to catch each one (`hitl-mock serve --deviate NAME`, `PUT /__mock__/deviations`).

Deviations are one layer. The mock calls `Deviations.apply(Hook.X, value, ...)` at a few named hook points, and each
profile is one entry in `profiles.py` (the HTTP layer: bodies, headers, errors), `run_profiles.py` (what a run
does: payloads, inputs, resumes, events), `protocol_profiles.py` (thread streams: their events, `input.respond`)
or `load_profiles.py` (bugs that only show under load): its description, the hook it changes, and a function that
changes the value there. Adding a profile touches one of those files.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .base import Deviation, Hook
from .load_profiles import LOAD_PROFILES
from .profiles import HTTP_PROFILES
from .protocol_profiles import PROTOCOL_PROFILES
from .run_profiles import RUN_PROFILES

PROFILES: tuple[Deviation, ...] = (*HTTP_PROFILES, *RUN_PROFILES, *PROTOCOL_PROFILES, *LOAD_PROFILES)
LOAD_ONLY: frozenset[str] = frozenset(d.name for d in LOAD_PROFILES)  # only `hitl-contract load` catches these
DEVIATIONS: dict[str, str] = {d.name: d.description for d in PROFILES}
assert len(DEVIATIONS) == len(PROFILES), "deviation profile names must be unique"

__all__ = ["DEVIATIONS", "LOAD_ONLY", "PROFILES", "Deviation", "Deviations", "Hook", "check_names"]


def check_names(names: Iterable[str]) -> set[str]:
    unknown = sorted(set(names) - set(DEVIATIONS))
    if unknown:
        raise ValueError(f"unknown deviation profile(s) {', '.join(unknown)}; known: {', '.join(DEVIATIONS)}")
    return set(names)


class Deviations:
    """The deviation profiles in force, applied at the hook points."""

    def __init__(self, active: Iterable[str] = ()) -> None:
        self._hooks: dict[Hook, list[Deviation]] = {}
        self._memory: dict[str, dict[str, Any]] = {}
        self.active: frozenset[str] = frozenset()
        self.set(active)

    def set(self, names: Iterable[str]) -> None:
        self.active = frozenset(check_names(names))
        self._hooks = {}
        self._memory = {}
        for deviation in PROFILES:
            if deviation.name in self.active:
                self._hooks.setdefault(deviation.hook, []).append(deviation)

    def at(self, hook: Hook) -> bool:
        """Whether any active profile changes something at `hook` (for hooks that cost something to prepare)."""
        return hook in self._hooks

    def apply(self, hook: Hook, value: Any, **context: Any) -> Any:
        """`value` as the active profiles change it at `hook` (unchanged when none applies). A profile that needs
        to remember something between calls (per thread, say) gets its own `memory` dict."""
        for deviation in self._hooks.get(hook, ()):
            value = deviation.transform(value, memory=self._memory.setdefault(deviation.name, {}), **context)
        return value
