"""`ThreadFeeds`: `GET /threads/{id}/stream`, one stream of every run on a thread, as langgraph-api 0.16.7 serves it
(langgraph_runtime_inmem/ops.py, `Threads.Stream.join`).

Every run on a thread feeds it (the scheduler's observer gives each run's broker a `RunFeed`): the run's events as
its own stream carries them (`metadata` first, then its stream modes, `error`), then `metadata {"status":
"run_done", "run_id"}` when it ends. A state update adds `state_update {"state", "thread_id"}`, live only. Watchers
get what happens after they connect; with `Last-Event-ID` they are first replayed the kept events of the thread's
resumable runs after that id (and a finished one's `run_done`). A thread with no watcher costs one dict lookup per
event. Each watcher is a bounded queue: one that falls `limit` events behind is sent an error and ended.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..wire import dumps
from .broker import BACKLOG, EntryIds, FilteredQueue, StreamEvent, event_key

if TYPE_CHECKING:
    from ..store import Run, Store

MODES = ("run_modes", "lifecycle", "state_update")
LAST_EVENT_ID = re.compile(r"^\d+(-(\d+|\*))?$")


def run_done(run_id: str) -> bytes:
    return dumps({"status": "run_done", "run_id": run_id})


def after_key(last_event_id: str) -> tuple[int, int]:
    """Where a (valid) Last-Event-ID puts the replay: `-` before everything, `<ms>` and `<ms>-*` before that ms."""
    if last_event_id == "-":
        return (-1, -1)
    ms, _, seq = last_event_id.partition("-")
    return (int(ms), -1) if seq in ("", "*") else (int(ms), int(seq))


class Watcher(FilteredQueue):
    """One connection's queue: the events its `stream_modes` pass (the official filter)."""

    def __init__(self, modes: frozenset[str], limit: int) -> None:
        super().__init__(None, limit)
        self.stream_modes = modes

    def wants(self, item: StreamEvent) -> bool:
        if item.event == "state_update":
            return "state_update" in self.stream_modes
        if "run_modes" in self.stream_modes:
            return True
        return "lifecycle" in self.stream_modes and item.event == "metadata" and (b'"run_done"' in item.data or b'"attempt"' in item.data)


class ThreadFeeds:
    def __init__(self, store: Store, limit: int = BACKLOG) -> None:
        self.store = store
        self.limit = limit
        self.watchers: dict[str, list[Watcher]] = {}
        self._ids = EntryIds()  # for the events of runs that are not resumable (they carry no id of their own)

    def attach(self, run: Run) -> None:
        """A run was created (the scheduler's observer): its events feed its thread's watchers."""
        if not run.temporary:
            run.events.feed = RunFeed(self, run.thread_id, run.run_id)

    def watching(self, thread_id: str) -> bool:
        return bool(self.watchers.get(thread_id))

    def publish(self, thread_id: str, item: StreamEvent) -> None:
        watchers = self.watchers.get(thread_id)
        if not watchers:
            return
        if item.id is None:  # a run that is not resumable: the thread stream still numbers every event
            item = StreamEvent(item.event, item.data, self._ids.next())
        for watcher in watchers:
            watcher.put_nowait(item)

    def watch(self, thread_id: str, modes: frozenset[str], last_event_id: str | None) -> Watcher:
        watcher = Watcher(modes, self.limit)
        if last_event_id is not None:
            for item in self.replay(thread_id, after_key(last_event_id)):
                watcher.put_nowait(item)
        self.watchers.setdefault(thread_id, []).append(watcher)
        return watcher

    def unwatch(self, thread_id: str, watcher: Watcher) -> None:
        watchers = self.watchers.get(thread_id, [])
        if watcher in watchers:
            watchers.remove(watcher)
        if not watchers:
            self.watchers.pop(thread_id, None)

    def replay(self, thread_id: str, after: tuple[int, int]) -> list[StreamEvent]:
        """The kept events of the thread's resumable runs after `after`, in id order (a finished run's last one is
        its `run_done`)."""
        kept: list[StreamEvent] = []
        for run in self.store.runs_of(thread_id):
            if run.temporary or not run.events.resumable:
                continue
            stored = run.events.stored()
            if run.finished and stored and stored[-1].id is not None:
                ms, seq = event_key(stored[-1].id)
                stored.append(StreamEvent("metadata", run_done(run.run_id), f"{ms}-{seq + 1}"))
            kept += [item for item in stored if item.id is not None and event_key(item.id) > after]
        return sorted(kept, key=lambda item: event_key(item.id or ""))


class RunFeed:
    """What one run's broker tells its thread's watchers (runs/broker.py calls `publish` and `closed`)."""

    __slots__ = ("feeds", "last_id", "run_id", "thread_id")

    def __init__(self, feeds: ThreadFeeds, thread_id: str, run_id: str) -> None:
        self.feeds, self.thread_id, self.run_id = feeds, thread_id, run_id
        self.last_id: str | None = None  # a resumable run's last event id: its run_done comes right after it

    def publish(self, item: StreamEvent) -> None:
        self.last_id = item.id
        self.feeds.publish(self.thread_id, item)

    def closed(self) -> None:
        done = None
        if self.last_id is not None:
            ms, seq = event_key(self.last_id)
            done = f"{ms}-{seq + 1}"  # the id a replay gives it too
        self.feeds.publish(self.thread_id, StreamEvent("metadata", run_done(self.run_id), done))
