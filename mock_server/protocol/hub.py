"""`ProtocolHub`: the thread logs, and the runs that feed them.

A thread gets a log when it becomes protocol-active: a thread stream opens on it, or a command names it. From then
on every run on it (a `run.start`, an `input.respond`, or a v1 `/runs` call) feeds the log through its broker's tap,
as every run on a thread shows on the official thread stream. When the log is made, the runs already on the thread
are taken in as the official server replays them: a resumable run's kept events, and a live run from now on.
Threads that never see protocol v2 cost nothing (one dict lookup per run).
"""

from __future__ import annotations

import logging
from typing import Any

from ..deviations import Deviations, Hook
from ..runs.broker import StreamEvent
from ..store import Run, Store
from ..types import RunStatus
from .log import ThreadLog
from .session import RunSession

logger = logging.getLogger("hitl_mock")
PRUNE_SLACK = 64  # logs of gone threads are dropped once there are this many more logs than threads, and double


class Tap:
    """What a run's broker tells the thread log (runs/broker.py calls `publish` and `closed`)."""

    __slots__ = ("log", "session", "started")

    def __init__(self, log: ThreadLog, session: RunSession) -> None:
        self.log, self.session, self.started = log, session, False

    def _start(self) -> None:
        if not self.started:  # the run's first event: the official session starts on it (with `lifecycle running`)
            self.started = True
            self.log.session = self.session
            self.session.start()

    def publish(self, item: StreamEvent) -> None:
        try:
            self._start()
            self.session.ingest(item)
        except Exception:  # a bug in thread streams must not fail the run itself
            logger.exception("hitl-mock: thread stream of run %s: event %s", self.session.run_id, item.event)

    def closed(self) -> None:
        try:
            self._start()
            self.session.finish()
        except Exception:
            logger.exception("hitl-mock: thread stream of run %s: its end", self.session.run_id)


class ProtocolHub:
    def __init__(self, store: Store, limit: int, deviations: Deviations | None = None) -> None:
        self.store = store
        self.limit = limit
        self.deviations = deviations or Deviations()
        self.logs: dict[str, ThreadLog] = {}

    def log(self, thread_id: str) -> ThreadLog:
        """The thread's log, made (and the thread's runs so far taken in) the first time."""
        log = self.logs.get(thread_id)
        if log is not None and log.thread is not None and self.store.threads.get(thread_id) is not log.thread:
            log.forget()  # the thread was deleted (or the mock reset) since: its events are gone with it
        if log is None:
            self._prune()
            log = self.logs[thread_id] = ThreadLog(thread_id, self.limit)
            for run in self.store.runs_of(thread_id):
                self._take_in(log, run)
        return log

    def attach(self, run: Run) -> None:
        """A run was created (the scheduler's observer): its thread's log, if the thread has one, follows it."""
        if not run.temporary and run.thread_id in self.logs:
            self._follow(self.logs[run.thread_id], run)

    def _follow(self, log: ThreadLog, run: Run) -> Tap:
        thread = self.store.threads.get(run.thread_id)
        if log.thread is not None and thread is not log.thread:  # the thread was deleted and made again
            log.forget()
        log.thread = thread
        keep = run.events.resumable  # a run that is not resumable shows live only (the official server stores no events of it)

        def emit(event_id: str, method: str, params: dict[str, Any]) -> None:
            method, params = self.deviations.apply(Hook.PROTOCOL_EVENT, (method, params))
            log.append(event_id, method, params, keep)

        tap = Tap(log, RunSession(run.run_id, run.graph_id, emit, lambda: self.lifecycle_status(run)))
        run.events.tap = tap
        return tap

    def _take_in(self, log: ThreadLog, run: Run) -> None:
        kept = run.events.stored() if run.events.resumable else []
        if run.temporary or (run.finished and not kept):
            return
        tap = self._follow(log, run)
        for item in kept:
            tap.publish(item)
        if run.finished:
            run.events.tap = None
            tap.closed()

    def lifecycle_status(self, run: Run) -> str | None:
        """The run's terminal lifecycle status (`running` while it is not over; None once it is gone)."""
        if self.store.runs.get(run.run_id) is not run:
            return None
        if run.status == RunStatus.SUCCESS:
            thread = self.store.threads.get(run.thread_id)
            return "interrupted" if thread is not None and any((thread.interrupts or {}).values()) else "completed"
        return {RunStatus.ERROR: "failed", RunStatus.INTERRUPTED: "interrupted"}.get(run.status, "running")

    def _prune(self) -> None:
        if len(self.logs) < 2 * len(self.store.threads) + PRUNE_SLACK:
            return
        for thread_id, log in list(self.logs.items()):
            if not log.listeners and (log.thread is None or self.store.threads.get(thread_id) is not log.thread):
                del self.logs[thread_id]
