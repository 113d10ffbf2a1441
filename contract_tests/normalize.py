"""The normaliser of `hitl-contract diff`: the only differences between two servers' answers to the same
conversation that are hidden, each named with the reason it must differ. Everything else is compared as is."""

from __future__ import annotations

import json
import re
from typing import Any

# Keys dropped wherever they appear, and why they must differ.
HOST_KEYS = {
    "langgraph_api_version": "the server's build (0.16.7 vs hitl-mock-<version>)",
    "langgraph_host": "the kind of host (self-hosted vs hitl-mock)",
    "langgraph_plan": "the licence plan the host reports",
    "langgraph_api_url": "the host and port the server listens on",
    "__request_start_time_ms__": "a server-internal clock reading in Run.kwargs.config",
    "__after_seconds__": "a server-internal copy of after_seconds in Run.kwargs.config",
    "__pregel_node_finished": "a server-internal callback slot in Run.kwargs.config",
}

# Values replaced by placeholders. Ids are renamed consistently (the first id seen is <id-1>, the same id is
# the same name everywhere in the flow), so "the interrupt id in the thread is the one in the wait result"
# is still compared; only the random bits are hidden.
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")  # thread, run, checkpoint, task ids
_HEX32 = re.compile(r"\b[0-9a-f]{32}\b")  # interrupt ids (xxh3 of the task's checkpoint namespace)
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$")  # created_at, updated_at, ...
_EVENT_ID = re.compile(r"^\d{13}-\d+$")  # resumable SSE ids (<ms>-<seq>); monotonicity is checked apart
_ANY_ID = re.compile(f"{_UUID.pattern}|{_HEX32.pattern}")


def _masked(value: Any) -> str:
    return _ANY_ID.sub("*", json.dumps(value, sort_keys=True))


class Normaliser:
    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def _name(self, match: re.Match[str]) -> str:
        raw = match.group(0)
        if raw not in self.names:
            self.names[raw] = f"<id-{len(self.names) + 1}>"
        return self.names[raw]

    def _text(self, value: str) -> str:
        if _TIMESTAMP.match(value):
            return "<timestamp>"
        if _EVENT_ID.match(value):
            return "<event-id>"
        return _ANY_ID.sub(self._name, value)

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str):
            return self._text(value)
        if isinstance(value, list):
            return [self(v) for v in value]
        if isinstance(value, dict):
            items = [(k, v) for k, v in value.items() if k not in HOST_KEYS]
            # Visit entries in an order both servers share: by key, or, for maps keyed by ids (such as
            # Thread.interrupts), by the content with ids masked, so both name the same ids alike.
            if items and all(_ANY_ID.fullmatch(k) for k, _ in items):
                items.sort(key=lambda kv: _masked(kv[1]))
            else:
                items.sort(key=lambda kv: kv[0])
            return {self._text(k): self(v) for k, v in items}
        return value
