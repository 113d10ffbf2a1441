"""`Services`: the parts of one mock, built once from its graphs and `Settings` (the composition root).

Handlers reach them through `services(request)`; nothing is module-global, so several mocks can run in one
process (as the tests do).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.requests import HTTPConnection

from .controls import Controls
from .engine import Engine
from .journal import Journal
from .retention import Sweeper
from .runs.executor import Executor
from .runs.scheduler import Scheduler
from .runs.thread_feed import ThreadFeeds
from .scenarios import LoadedGraph
from .settings import Settings
from .store import Store
from .threads import Threads, discard

UNWIND_SECONDS = 10.0  # how long a reset waits for cancelled runs to unwind before it answers


@dataclass(frozen=True)
class Services:
    settings: Settings
    controls: Controls
    engine: Engine
    store: Store
    threads: Threads
    scheduler: Scheduler
    journal: Journal
    sweeper: Sweeper
    feeds: ThreadFeeds  # GET /threads/{id}/stream: every run on a thread, fed through the scheduler's observers

    @classmethod
    def build(cls, graphs: Sequence[LoadedGraph], settings: Settings) -> Services:
        engine = Engine()
        for g in graphs:
            engine.register(g.graph_id, g.graph, g.source, g.description, g.faults)
        store = Store(settings.max_threads, evicted=engine.delete_thread)
        controls = Controls(settings)
        threads = Threads(engine, store, controls)
        executor = Executor(engine, store, threads, controls, jobs=settings.n_jobs_per_worker)
        scheduler = Scheduler(engine, store, executor, controls, api_url=settings.api_url, settings=settings)
        journal = Journal(settings.journal_limit, settings.journal_bytes)
        feeds = ThreadFeeds(store, settings.stream_backlog)
        scheduler.observers.append(feeds.attach)
        return cls(settings, controls, engine, store, threads, scheduler, journal, Sweeper(store, threads, engine), feeds)

    async def reset(self) -> None:
        """Forget every thread, run, checkpoint, journal entry and created assistant (each graph's system assistant is
        back at version 1); deviations, faults and graphs stay.

        Everything is forgotten at once, before any `await`, so a thread created while the cancelled runs unwind
        belongs to the new, empty mock and survives; answers once those runs have unwound."""
        thread_ids = list(self.store.threads)
        tasks = discard(self.store.runs.values())
        self.store.clear()
        self.engine.clear_checkpoints()
        self.engine.assistant_store.reset()
        self.journal.clear()
        self.threads.forget_after(tasks, thread_ids)
        if tasks:
            await asyncio.wait(tasks, timeout=UNWIND_SECONDS)


def services(conn: HTTPConnection) -> Services:
    found: Services = conn.app.state.services
    return found
