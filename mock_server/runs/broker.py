"""`EventBroker`: one run's event stream, fanned out to its live subscribers.

It keeps a replay buffer for resumable runs (`stream_resumable`, replayed after `Last-Event-ID`) and for a
background run until its first joiner takes it, gives resumable events `<epoch ms>-<seq>` ids, and tells
waiters when the run has finished. Memory is bounded: the replay buffer keeps the newest `limit` events and is
dropped `grace` seconds after the run finishes, and a subscriber that falls `limit` events behind is cut off.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ..wire import compact


@dataclass(slots=True)
class StreamEvent:
    event: str
    data: bytes  # compact JSON
    id: str | None = None


Subscriber = asyncio.Queue[StreamEvent | None]  # None ends the stream


class Tap(Protocol):
    """Sees every event a run publishes, and its end (the thread's protocol log, protocol/hub.py; its join stream,
    thread_feed.py)."""

    def publish(self, item: StreamEvent) -> None: ...

    def closed(self) -> None: ...


BACKLOG = 10_000  # default for `EventBroker.bound` (Settings.stream_backlog)
SLOW_CONSUMER = (
    b'{"error":"SlowConsumer","message":"this stream fell %d events behind the run and was ended; '
    b'reconnect (with Last-Event-ID for a resumable run) or join the run for its result"}'
)


class FilteredQueue(Subscriber):
    """A subscriber queue that drops events of stream modes it did not ask for (`metadata` and `error` always pass).

    It holds at most `limit` events: a consumer that falls that far behind is sent one `error` event and its
    stream ends, so a slow reader cannot grow the mock's memory without bound."""

    def __init__(self, modes: set[str] | None, limit: int = BACKLOG) -> None:
        super().__init__()
        self.modes = modes | {"metadata", "error"} if modes else None
        self.limit = limit
        self.cut_off = False

    def put_nowait(self, item: StreamEvent | None) -> None:
        if self.cut_off:
            return
        if item is not None and not self.wants(item):
            return
        if item is not None and self.qsize() >= self.limit:
            self.cut_off = True
            while not self.empty():  # the reader gets the error next; what it missed is not kept for it
                self.get_nowait()
            super().put_nowait(StreamEvent("error", SLOW_CONSUMER % self.limit))
            item = None
        super().put_nowait(item)

    def wants(self, item: StreamEvent) -> bool:
        return self.modes is None or item.event.split("|", 1)[0] in self.modes


class EntryIds:
    """`<epoch ms>-<seq>` ids, like the official server's; unlike its, they never repeat: `seq` counts the ids given
    within one millisecond (the official in-memory runtime reuses `<ms>-0`, so Last-Event-ID replay can skip events)."""

    __slots__ = ("_last_ms", "_seq")

    def __init__(self) -> None:
        self._last_ms = 0
        self._seq = 0

    def next(self) -> str:
        ms = time.time_ns() // 1_000_000
        if ms <= self._last_ms:
            ms, self._seq = self._last_ms, self._seq + 1
        else:
            self._seq = 0
        self._last_ms = ms
        return f"{ms}-{self._seq}"


def event_key(event_id: str) -> tuple[int, int]:
    """Order of `<ms>-<seq>` ids; `-1` (replay everything) and anything unparsable sort first."""
    ms, _, seq = event_id.partition("-")
    try:
        return (int(ms), int(seq or 0))
    except ValueError:
        return (-1, -1)


def _nothing() -> None:
    return None


class EventBroker:
    __slots__ = ("_buffer", "_ids", "_on_finished", "_subscribers", "awaiting_first_join", "feed", "finished", "grace", "limit", "resumable", "tap")

    def __init__(self, resumable: bool = False) -> None:
        self.resumable = resumable
        self.awaiting_first_join = False  # a background run (POST .../runs) nobody has joined yet
        self.finished = False
        self.limit = BACKLOG  # events kept for replay (the oldest go first), and a subscriber may fall behind
        self.grace: float | None = None  # seconds a finished run keeps its replay events (None: until forgotten)
        self._buffer: deque[StreamEvent] | None = None
        self._subscribers: list[Subscriber] | None = None
        self._on_finished: list[Callable[[], None]] | None = None  # the waiters' wake-ups, made at the first waiter
        self._ids: EntryIds | None = None  # made at the first id (only resumable runs number their events)
        self.tap: Tap | None = None  # the thread's protocol v2 log (protocol/hub.py)
        self.feed: Tap | None = None  # the thread's join stream, GET /threads/{id}/stream (thread_feed.py)

    def bound(self, limit: int, grace: float | None) -> None:
        self.limit, self.grace = limit, grace

    def release(self) -> None:
        """Drop the events kept for replay (a finished run's grace period is over)."""
        self._buffer = None
        self.awaiting_first_join = False

    # -- publishing -------------------------------------------------------------------------------------------

    def _next_id(self) -> str:
        if self._ids is None:
            self._ids = EntryIds()
        return self._ids.next()

    def publish(self, event: str, data: bytes) -> None:
        item = StreamEvent(event, data, self._next_id() if self.resumable else None)
        if self.resumable or self.awaiting_first_join:
            if self._buffer is None:
                self._buffer = deque(maxlen=self.limit)
            self._buffer.append(StreamEvent(event, compact(data), item.id))
        for queue in self._subscribers or ():
            queue.put_nowait(item)
        if self.tap is not None:
            self.tap.publish(item)
        if self.feed is not None:
            self.feed.publish(item)

    def stored(self) -> list[StreamEvent]:
        """The events kept for replay, oldest first."""
        return list(self._buffer or ())

    def close(self) -> None:
        """The run has finished: end every stream and wake every waiter."""
        self.finished = True
        tap, self.tap = self.tap, None
        if tap is not None:
            tap.closed()
        feed, self.feed = self.feed, None
        if feed is not None:
            feed.closed()
        for queue in self._subscribers or ():
            queue.put_nowait(None)
        self._subscribers = None
        callbacks, self._on_finished = self._on_finished, None
        for callback in callbacks or ():
            callback()
        if self._buffer is not None and self.grace is not None:
            asyncio.get_running_loop().call_later(self.grace, self.release)

    def on_finished(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call `callback` when the run finishes (at once if it has); returns what forgets it. A plain callback lets
        a waiter watch something else too without a task of its own (a wait body: the client leaving)."""
        if self.finished:
            callback()
            return _nothing
        if self._on_finished is None:
            self._on_finished = []
        callbacks = self._on_finished
        callbacks.append(callback)

        def forget() -> None:
            if callback in callbacks:
                callbacks.remove(callback)

        return forget

    async def wait_finished(self) -> None:
        if self.finished:
            return
        done = asyncio.get_running_loop().create_future()
        forget = self.on_finished(lambda: None if done.done() else done.set_result(None))
        try:
            await done
        finally:
            forget()

    # -- joining ----------------------------------------------------------------------------------------------

    def claim_first_join(self) -> bool:
        """True for the first join of a background run. On the official server that join arrives while the
        run is still queued (about 1 s), so it sees the whole run; runs start at once here, so a background
        run keeps its events until its first joiner takes them."""
        first, self.awaiting_first_join = self.awaiting_first_join, False
        if first and not self.resumable:
            self._buffer = None
        return first

    def subscribe(self, last_event_id: str | None = None, modes: set[str] | None = None) -> Subscriber:
        """A queue of the run's events from now on: with `last_event_id` (resumable runs), first the stored
        events after it; for the first joiner of a background run, first all it missed. With `modes`, only
        events of those stream modes (plus `metadata` and `error`)."""
        queue = FilteredQueue(modes, self.limit)
        for item in self._replay(last_event_id):
            queue.put_nowait(item)
        if self.finished:
            queue.put_nowait(None)
        else:
            if self._subscribers is None:
                self._subscribers = []
            self._subscribers.append(queue)
        return queue

    def _replay(self, last_event_id: str | None) -> list[StreamEvent]:
        stored = list(self._buffer or ())
        if self.claim_first_join() and last_event_id is None:
            return stored
        if last_event_id is not None and self.resumable:
            after = event_key(last_event_id)
            return [item for item in stored if item.id is not None and event_key(item.id) > after]
        return []

    def unsubscribe(self, queue: Subscriber) -> None:
        if self._subscribers and queue in self._subscribers:
            self._subscribers.remove(queue)
