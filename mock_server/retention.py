"""Thread `ttl`: what keeps a mock that is left running from keeping every thread forever.

A thread created or patched with `ttl: {"strategy": ..., "ttl": <minutes>}` is swept once that many minutes have
passed since the ttl was set, as LangGraph Platform does ("minutes from now until the thread should be swept"):
`delete` removes the thread, its runs and its checkpoints; `keep_latest` keeps the thread and prunes its
checkpoints to the latest one. A thread with a pending or running run is swept at the first sweep after it is idle.
The official in-memory server (`langgraph dev`) accepts `ttl` and ignores it; the mock honours it.

The other bounds are `Store.max_threads` (least recently used idle threads evicted), the journal's byte cap and
the event broker's backlog and replay grace.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from .engine import Engine
from .store import Store, Thread
from .threads import Threads

logger = logging.getLogger("hitl_mock")


def set_ttl(thread: Thread, ttl: dict[str, Any] | None) -> None:
    """Apply a `ThreadTTL` body (validated against the spec); None leaves the thread's ttl as it is."""
    if not ttl or ttl.get("ttl") is None:
        return
    thread.expires = time.monotonic() + float(ttl["ttl"]) * 60
    thread.ttl_strategy = ttl.get("strategy") or "delete"


class Sweeper:
    def __init__(self, store: Store, threads: Threads, engine: Engine) -> None:
        self.store = store
        self.threads = threads
        self.engine = engine
        self.swept = 0

    def sweep(self, now: float | None = None) -> int:
        """Apply the ttl of every idle thread whose time has come; returns how many were swept."""
        now = time.monotonic() if now is None else now
        due = [t for t in self.store.threads.values() if t.expires is not None and t.expires <= now and not self.store.active_runs(t.thread_id)]
        for thread in due:
            thread.expires = None
            if thread.ttl_strategy == "keep_latest":
                self.engine.keep_latest(thread.thread_id)
            else:
                self.threads.delete(thread)
        self.swept += len(due)
        return len(due)

    async def run(self, interval: float) -> None:
        """Sweep every `interval` seconds until cancelled."""
        while True:
            await asyncio.sleep(interval)
            try:
                self.sweep()
            except Exception:  # a bug here must not stop later sweeps
                logger.exception("hitl-mock: sweeping expired threads failed")
