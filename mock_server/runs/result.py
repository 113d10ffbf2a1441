"""The body `/runs/wait` and `/join` answer with, assembled as the official server assembles it."""

from __future__ import annotations

from typing import Any

from ..store import Thread
from ..types import ThreadStatus
from ..wire import dumps, loads

INTERRUPT_KEY = "__interrupt__"
RUN_NOT_FOUND = {"error": "HTTPException", "message": "404: Run not found"}


def _interrupts_in(data: bytes) -> list[Any]:
    if INTERRUPT_KEY.encode() not in data:
        return []
    payload = loads(data)
    found = payload.get(INTERRUPT_KEY) if isinstance(payload, dict) else None
    return found if isinstance(found, list) else []


class RunResult:
    """Assembles the `/runs/wait` body from a run's events: the last `values`; or, when the run stopped at
    interrupts, the chunk that carried them (several such chunks merge into `{"__interrupt__": [all of them]}`);
    or `{"__error__": ...}`."""

    __slots__ = ("errored", "interrupt_chunks", "latest")

    def __init__(self) -> None:
        self.errored = False
        self.interrupt_chunks: list[bytes] = []
        self.latest: bytes | None = None

    def absorb(self, event: str, data: bytes) -> None:
        if event == "error":
            self.latest = b'{"__error__":' + data + b"}"
            self.errored = True
        elif event in ("values", "updates"):
            if _interrupts_in(data):
                self.interrupt_chunks.append(data)
                self.latest = data
            elif event == "values":
                self.latest = data

    def body(self) -> bytes | None:
        if not self.errored and self.interrupt_chunks:
            if len(self.interrupt_chunks) == 1:
                return self.interrupt_chunks[0]
            return dumps({INTERRUPT_KEY: [i for c in self.interrupt_chunks for i in _interrupts_in(c)]})
        return self.latest


def thread_fallback(thread: Thread) -> bytes:
    """What a join on a finished run answers: the thread's current state (not that run's result)."""
    if thread.status == ThreadStatus.ERROR and thread.error:
        return dumps({"__error__": thread.error})
    if thread.status == ThreadStatus.INTERRUPTED:
        pending = [i for items in (thread.interrupts or {}).values() for i in items]
        if pending:
            return dumps({INTERRUPT_KEY: pending})
    return dumps(thread.values) if thread.values else b"{}"
