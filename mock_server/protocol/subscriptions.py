"""The connection-bound commands: `subscription.subscribe`, `subscription.unsubscribe`, `subscription.reconnect`
and `agent.getTree`. A WebSocket (`Socket`) has subscriptions and is sent each event one of them wants, once;
over plain HTTP (`unbound`) nothing is ever bound, as with the official server's fresh manager per request.

A WebSocket is bound once the thread has had a run (the official socket binds to the run whose events it sees):
before that, `agent.getTree` and `subscription.reconnect` are `no_such_run`. A subscribe replays the kept events
its filter wants after `since` (when given) before its answer, so a client sees the thread's history; the official
server delivers the same history right after its answer instead, reporting `replayed_events: 0`.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from ..wire import dumps
from .commands import NO_RUN, Context, error, success
from .log import Filter, Logged, ThreadLog, is_channel


def _subscribe_params(cmd_id: Any, method: str, params: dict[str, Any]) -> Filter | dict[str, Any]:
    """The filter a subscribe or reconnect asks for, or the error for its channels."""
    channels = params.get("channels")
    if not isinstance(channels, list) or not channels:
        return error(cmd_id, "invalid_argument", f"{method} requires a non-empty channels array.")
    if not all(is_channel(c) for c in channels):
        return error(cmd_id, "invalid_argument", f"{method} received an unsupported channel.")
    namespaces = params.get("namespaces")
    valid = isinstance(namespaces, list) and all(isinstance(ns, list) and all(isinstance(s, str) for s in ns) for ns in namespaces)
    return Filter.read(channels, namespaces if valid else None, params.get("depth"))


def _params(command: dict[str, Any]) -> dict[str, Any]:
    return command["params"] if isinstance(command.get("params"), dict) else {}


def unbound(ctx: Context, command: dict[str, Any]) -> dict[str, Any]:
    """A connection command over plain HTTP: accepted (a subscribe) or refused, and nothing is kept."""
    cmd_id, method, params = command["id"], command["method"], _params(command)
    if method == "subscription.subscribe":
        found = _subscribe_params(cmd_id, method, params)
        if isinstance(found, dict):
            return found
        return success(cmd_id, {"subscription_id": str(uuid.uuid4()), "replayed_events": 0}, ctx.meta())
    if method == "subscription.unsubscribe":
        sub_id = params.get("subscription_id")
        if not isinstance(sub_id, str):
            return error(cmd_id, "invalid_argument", "subscription.unsubscribe requires a subscription_id.")
        return error(cmd_id, "no_such_subscription", f"Unknown subscription: {sub_id}")
    return error(cmd_id, "no_such_run", NO_RUN)


class Socket:
    """One WebSocket on a thread: its subscriptions, and the queue of what it is sent (JSON texts; None closes)."""

    def __init__(self, log: ThreadLog) -> None:
        self.log = log
        self.subscriptions: dict[str, Filter] = {}
        self.sent_seq = 0
        self.outbox: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.cut_off = False
        log.listeners.append(self)

    def offer(self, event: Logged) -> None:
        if any(f.matches(event) for f in self.subscriptions.values()):
            self._send(event)

    def _send(self, event: Logged) -> None:
        if self.cut_off:
            return
        if self.outbox.qsize() >= self.log.limit:  # a socket this far behind is closed, not buffered without bound
            self.cut_off = True
            self.outbox.put_nowait(None)
            return
        self.sent_seq = max(self.sent_seq, event.seq)
        self.outbox.put_nowait(event.body)

    def reply(self, body: dict[str, Any]) -> None:
        if not self.cut_off:
            self.outbox.put_nowait(dumps(body))

    def close(self) -> None:
        self.log.unlisten(self)

    @property
    def bound(self) -> bool:
        return self.log.session is not None

    def handle(self, ctx: Context, command: dict[str, Any]) -> dict[str, Any]:
        cmd_id, method, params = command["id"], command["method"], _params(command)
        meta = ctx.meta() if self.bound else None
        if method == "subscription.unsubscribe":
            sub_id = params.get("subscription_id")
            if not isinstance(sub_id, str):
                return error(cmd_id, "invalid_argument", "subscription.unsubscribe requires a subscription_id.", meta)
            if self.subscriptions.pop(sub_id, None) is None:
                return error(cmd_id, "no_such_subscription", f"Unknown subscription: {sub_id}", meta)
            return success(cmd_id, {}, ctx.meta())
        if method == "subscription.subscribe":
            since = params.get("since")
            return self._subscribe(ctx, command, since if type(since) is int and since >= 0 else None)
        if not self.bound:
            return error(cmd_id, "no_such_run", NO_RUN)
        if method == "agent.getTree":
            assert self.log.session is not None
            return success(cmd_id, {"tree": self.log.session.tree.tree()}, ctx.meta())
        return self._reconnect(ctx, command)

    def _subscribe(self, ctx: Context, command: dict[str, Any], since: int | None, sub_id: str | None = None) -> dict[str, Any]:
        found = _subscribe_params(command["id"], command["method"], _params(command))
        if isinstance(found, dict):
            return found | ({"meta": ctx.meta()} if self.bound else {})
        sub_id = sub_id or str(uuid.uuid4())
        replayed = self.log.replay(found.matches, since)
        self.subscriptions[sub_id] = found
        for event in replayed:
            self._send(event)
        return success(command["id"], {"subscription_id": sub_id, "replayed_events": len(replayed)}, ctx.meta())

    def _reconnect(self, ctx: Context, command: dict[str, Any]) -> dict[str, Any]:
        """`subscription.reconnect`: a subscribe that must say `since`; `resume_gap` when the log no longer has it."""
        params, cmd_id = _params(command), command["id"]
        found = _subscribe_params(cmd_id, "subscription.reconnect", params)
        if isinstance(found, dict):
            return found | {"meta": ctx.meta()}
        since = params.get("since")
        if type(since) is not int or since < 0:
            return error(cmd_id, "invalid_argument", "subscription.reconnect requires a non-negative integer since.", ctx.meta())
        first = self.log.first_seq()
        if first is not None and since + 1 < first:
            gap = error(cmd_id, "resume_gap", f"resume gap: since={since} is older than min_available_seq={first}")
            return gap | {"since": since, "min_available_seq": first, "meta": ctx.meta()}
        sub_id = params.get("subscription_id")
        return self._subscribe(ctx, command, since, sub_id if isinstance(sub_id, str) and sub_id else None)
