"""The parity normaliser: the only differences between the official server and the mock that the parity
tests hide, each named with the reason it must differ. Everything else is compared as is. The one for every
answer is `hitl-contract diff`'s (contract_tests/normalize.py); the thread-stream one is here."""

from __future__ import annotations

import re
from typing import Any

from contract_tests.normalize import HOST_KEYS, Normaliser

__all__ = ["HOST_KEYS", "Normaliser", "thread_stream"]

# -- thread streams (protocol v2) --------------------------------------------------------------------------------

_STREAM_ENTRY_ID = re.compile(r"^\d{13}-\d+(\.\d+)?$")
THREAD_STREAM_REASONS = {
    "timestamp": "params.timestamp is the wall clock (epoch ms) when the event was made",
    "event_id": (
        "an event made from a run's stream entry has that entry's id, <epoch ms>-<n>: the clock, and the official "
        "in-memory runtime gives distinct entries the same <ms>-0 (its next events are then <ms>-0.1, ...), the mock unique ids"
    ),
}
# Recordings whose `seq` numbers differ on purpose, each with why; their events are numbered from 1 before comparing.
RENUMBERED = {
    "replay: the resumable run only": (
        "the official server numbers each connection's events itself, so a later connection that is not replayed the "
        "live-only events of runs that were not resumable starts again at 1; the mock numbers a thread's events once, "
        "so the same events keep their seq (since works across connections)"
    ),
}


def _renumbered(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    first = frames[0]["data"]["seq"] - 1 if frames else 0
    return [{**f, "id": str(int(f["id"]) - first), "data": {**f["data"], "seq": f["data"]["seq"] - first}} for f in frames]


def thread_stream(value: Any) -> Any:
    """A thread-stream recording with the differences in THREAD_STREAM_REASONS and RENUMBERED taken out."""
    if isinstance(value, list):
        return [thread_stream(v) for v in value]
    if isinstance(value, dict):
        if value.get("label") in RENUMBERED:
            value = {**value, "body": _renumbered(value["body"])}
        return {k: "<ms>" if k == "timestamp" and isinstance(v, int) else thread_stream(v) for k, v in value.items()}
    if isinstance(value, str) and _STREAM_ENTRY_ID.match(value):
        return "<stream-entry-id>"
    return value
