"""`ThreadLog`: the protocol events of one thread, numbered by `seq`, kept for replay and fanned out to listeners.

The official server numbers events per connection, replaying the thread's stored run events from the start on each
one, so every connection sees the same `seq` for the same event; one log per thread gives the same numbers once.
A listener replays the kept events after `since`, then gets the live ones its filter accepts. The log keeps at most
`limit` events (the oldest go first, like the official session's ring buffer); a listener that falls `limit` events
behind is ended.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..wire import dumps
from .namespaces import is_prefix

if TYPE_CHECKING:
    from ..store import Thread
    from .session import RunSession

CHANNELS = frozenset({"values", "updates", "checkpoints", "messages", "tools", "custom", "lifecycle", "input", "tasks"})


def is_channel(value: Any) -> bool:
    """A channel a stream may ask for: a fixed one or `custom:<name>`."""
    return isinstance(value, str) and (value in CHANNELS or (value.startswith("custom:") and len(value) > 7))


@dataclass(slots=True, frozen=True)
class Logged:
    seq: int
    method: str
    namespace: list[str]
    name: str | None  # a custom event's `data.name`
    body: bytes  # the event, as JSON


@dataclass(frozen=True)
class Filter:
    channels: frozenset[str]
    namespaces: list[list[str]] | None = None
    depth: int | None = None

    @classmethod
    def read(cls, channels: Iterable[str], namespaces: Any, depth: Any) -> Filter:
        """From a request body as the official server reads it: malformed namespaces and depth are ignored."""
        found = [ns for ns in namespaces if isinstance(ns, list) and all(isinstance(s, str) for s in ns)] if isinstance(namespaces, list) else []
        good_depth = depth if isinstance(depth, int) and not isinstance(depth, bool) and depth >= 0 else None
        return cls(frozenset(channels), found or None, good_depth)

    def matches(self, event: Logged) -> bool:
        channel = "input" if event.method == "input.requested" else event.method
        if channel == "custom":
            if "custom" not in self.channels and (event.name is None or f"custom:{event.name}" not in self.channels):
                return False
        elif channel not in self.channels:
            return False
        if not self.namespaces:
            return True
        ns = event.namespace
        return any(is_prefix(ns, p) and (self.depth is None or len(ns) - len(p) <= self.depth) for p in self.namespaces)


class Reader(Protocol):
    def offer(self, event: Logged) -> None: ...


class Listener:
    """A live reader: a queue of the events `match` accepts (None ends it)."""

    def __init__(self, match: Callable[[Logged], bool], limit: int) -> None:
        self.match = match
        self.limit = limit
        self.queue: asyncio.Queue[Logged | None] = asyncio.Queue()
        self.cut_off = False

    def offer(self, event: Logged) -> None:
        if self.cut_off or not self.match(event):
            return
        if self.queue.qsize() >= self.limit:  # a reader this far behind is ended, not buffered without bound
            self.cut_off = True
            self.queue.put_nowait(None)
            return
        self.queue.put_nowait(event)


class ThreadLog:
    def __init__(self, thread_id: str, limit: int) -> None:
        self.thread_id = thread_id
        self.limit = limit
        self.seq = 0
        self.events: deque[Logged] = deque(maxlen=limit)
        self.listeners: list[Reader] = []
        self.session: RunSession | None = None  # the latest run's (its pending interrupts and agent tree)
        self.thread: Thread | None = None  # the thread the logged runs ran on (a deleted one's id may come back)

    def append(self, event_id: str, method: str, params: dict[str, Any], keep: bool = True) -> None:
        """Number the event and send it to the listeners; `keep` it for replay (a resumable run's, as officially)."""
        self.seq += 1
        event = {"type": "event", "event_id": event_id, "seq": self.seq, "method": method, "params": params}
        data = params.get("data")
        name = data.get("name") if method == "custom" and isinstance(data, dict) and isinstance(data.get("name"), str) else None
        logged = Logged(self.seq, method, params["namespace"], name, dumps(event))
        if keep:
            self.events.append(logged)
        for listener in self.listeners:
            listener.offer(logged)

    def first_seq(self) -> int | None:
        return self.events[0].seq if self.events else None

    def replay(self, match: Callable[[Logged], bool], since: int | None = None) -> list[Logged]:
        after = since or 0
        return [e for e in self.events if e.seq > after and match(e)]

    def listen(self, match: Callable[[Logged], bool], since: int | None = None, replay: bool = True) -> Listener:
        """A listener that first gets the kept events after `since` (with `replay`), then the live ones."""
        listener = Listener(match, self.limit)
        for event in self.replay(match, since) if replay else ():
            listener.offer(event)
        self.listeners.append(listener)
        return listener

    def unlisten(self, listener: Reader) -> None:
        if listener in self.listeners:
            self.listeners.remove(listener)

    def forget(self) -> None:
        """The thread is gone (deleted, or the mock reset): drop what is kept; seq goes on."""
        self.events.clear()
        self.session = None
        self.thread = None
