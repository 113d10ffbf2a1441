"""Thread-stream (protocol v2) flows as raw HTTP and WebSocket exchanges, recorded so two servers can be compared.

A flow opens the thread's event stream, sends commands, and waits for the root lifecycle event each step ends
with (never a fixed sleep). It records each command's status and answer, what the live stream carried, and fresh
replays of the stream (all of it, and after a `since`), so event order, `seq` numbering across runs and replay
are all compared.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from websockets.asyncio.client import connect

from hitl_spec import parse_sse

ALL = ["values", "updates", "messages", "tools", "lifecycle", "input", "tasks", "custom"]
HUMAN = {"messages": [{"type": "human", "content": "Send an email to Bob"}]}


class Watch:
    """A thread stream read in the background: its events (parsed frames) and heartbeat comments."""

    def __init__(self, http: httpx.AsyncClient, tid: str, body: dict[str, Any]) -> None:
        self.frames: list[dict[str, Any]] = []
        self.heartbeats = 0
        self.status: int | None = None
        self.head: dict[str, str] = {}
        self._task = asyncio.create_task(self._read(http, tid, body))

    async def _read(self, http: httpx.AsyncClient, tid: str, body: dict[str, Any]) -> None:
        async with http.stream("POST", f"/threads/{tid}/stream/events", json=body, timeout=None) as r:
            self.status, self.head = r.status_code, {"content-type": r.headers.get("content-type", "")}
            buffer = b""
            async for chunk in r.aiter_bytes():
                buffer += chunk.replace(b"\r\n", b"\n")
                *complete, buffer = buffer.split(b"\n\n")
                for frame in complete:
                    self.heartbeats += frame.strip() == b": heartbeat"
                    self.frames += parse_sse(frame + b"\n\n")

    @property
    def events(self) -> list[dict[str, Any]]:
        return [f["data"] for f in self.frames]

    def root(self, phase: str) -> int:
        return sum(1 for e in self.events if e["method"] == "lifecycle" and not e["params"]["namespace"] and e["params"]["data"]["event"] == phase)

    def requested(self) -> list[dict[str, Any]]:
        return [e["params"]["data"] for e in self.events if e["method"] == "input.requested"]

    async def until(self, what: str, test: Callable[[], bool], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not test():
            if self._task.done() or time.monotonic() > deadline:
                raise AssertionError(f"thread stream: no {what} (status {self.status}, {len(self.frames)} events)")
            await asyncio.sleep(0.02)

    async def phase(self, phase: str, count: int = 1) -> None:
        await self.until(f"{count} root lifecycle {phase}", lambda: self.root(phase) >= count)

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


class ThreadFlow:
    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.AsyncClient(base_url=url, timeout=60)
        self.log: list[dict[str, Any]] = []
        self.watches: list[Watch] = []
        self.ids = 0

    async def post(self, label: str, path: str, body: Any = None, *, raw: bytes | None = None) -> Any:
        content = raw if raw is not None else json.dumps(body).encode()
        r = await self.http.post(path, content=content, headers={"content-type": "application/json"})
        parsed = r.json() if r.content else None
        self.log.append({"label": label, "status": r.status_code, "content-type": r.headers.get("content-type"), "body": parsed})
        return parsed

    async def command(self, label: str, tid: str, method: str, params: dict[str, Any] | None = None) -> Any:
        self.ids += 1
        return await self.post(label, f"/threads/{tid}/commands", {"id": self.ids, "method": method, "params": params or {}})

    async def watch(self, tid: str, **body: Any) -> Watch:
        watch = Watch(self.http, tid, {"channels": ALL, **body})
        self.watches.append(watch)
        await watch.until("answer", lambda: watch.status is not None)
        return watch

    def record(self, label: str, watch: Watch) -> None:
        self.log.append({"label": label, "status": watch.status, "content-type": watch.head.get("content-type"), "body": watch.frames})

    async def replay(self, label: str, tid: str, live: Watch, channels: list[str] = ALL, since: int | None = None) -> Watch:
        """A fresh stream on the thread (`channels`, after `since`), recorded once it has caught up with what `live` saw."""
        wanted = [e["seq"] for e in live.events if e["method"].split(".")[0] in channels and e["seq"] > (since or 0)]
        watch = await self.watch(tid, channels=channels, **({"since": since} if since is not None else {}))
        await watch.until(f"replay up to seq {wanted[-1]}", lambda: any(e["seq"] >= wanted[-1] for e in watch.events))
        self.record(label, watch)
        return watch

    async def state(self, label: str, tid: str) -> None:
        """The thread and its state once its run has ended (`lifecycle interrupted` comes before the run's end)."""
        deadline = time.monotonic() + 30
        while (await self.http.get(f"/threads/{tid}")).json().get("status") == "busy":
            assert time.monotonic() < deadline, f"thread {tid} stays busy"
            await asyncio.sleep(0.02)
        for what, path in (("thread", f"/threads/{tid}"), ("state", f"/threads/{tid}/state")):
            r = await self.http.get(path)
            self.log.append({"label": f"{label}: {what}", "status": r.status_code, "body": r.json()})

    async def close(self) -> None:
        for watch in self.watches:
            await watch.close()
        await self.http.aclose()
        await asyncio.sleep(0.1)  # the server sees the streams end (and the spec recorder checks them) before the test does


def new_tid() -> str:
    return str(uuid.uuid4())


async def _respond(f: ThreadFlow, w: Watch, tid: str, label: str, interrupt_id: str, response: Any, phase: str, count: int) -> None:
    await f.command(label, tid, "input.respond", {"interrupt_id": interrupt_id, "namespace": [], "response": response})
    await w.phase(phase, count)


async def agent(f: ThreadFlow) -> None:
    tid = new_tid()
    w = await f.watch(tid)
    await f.command("run.start", tid, "run.start", {"assistant_id": "agent", "input": {"some_text": "original text"}})
    await w.phase("interrupted")
    await f.command("getTree over HTTP", tid, "agent.getTree")
    await f.command("respond to an unknown id", tid, "input.respond", {"interrupt_id": "0" * 32, "namespace": [], "response": "x"})
    await _respond(f, w, tid, "respond", w.requested()[-1]["interrupt_id"], "Edited text", "completed", 1)
    await f.command("respond when nothing is pending", tid, "input.respond", {"interrupt_id": w.requested()[-1]["interrupt_id"], "namespace": [], "response": "late"})
    f.record("live stream", w)
    await f.replay("replay", tid, w, ["lifecycle", "input", "values"])
    await f.replay("replay since 3", tid, w, ALL, since=3)
    await f.state("done", tid)


async def multi(f: ThreadFlow) -> None:
    tid = new_tid()
    w = await f.watch(tid)
    await f.command("run.start", tid, "run.start", {"assistant_id": "multi", "input": {"answers": []}})
    await w.until("two interrupts", lambda: len(w.requested()) == 2 and w.root("interrupted") == 1)
    by_q = {r["payload"]["q"]: r["interrupt_id"] for r in w.requested()}
    await _respond(f, w, tid, "respond to A by id", by_q["A?"], "alpha", "interrupted", 2)
    await f.state("B still pending", tid)
    await _respond(f, w, tid, "respond to B by id", by_q["B?"], "beta", "interrupted", 3)
    await _respond(f, w, tid, "first of two in one node", w.requested()[-1]["interrupt_id"], "one", "interrupted", 4)
    await _respond(f, w, tid, "second of two in one node", w.requested()[-1]["interrupt_id"], "two", "completed", 1)
    f.record("live stream", w)
    await f.replay("replay", tid, w, ["lifecycle", "input"])
    await f.state("done", tid)


async def validate(f: ThreadFlow) -> None:
    tid = new_tid()
    w = await f.watch(tid)
    await f.command("run.start", tid, "run.start", {"assistant_id": "validate", "input": {}})
    await w.phase("interrupted")
    for i, answer in enumerate(["abc", -5, True]):
        await _respond(f, w, tid, f"invalid {answer!r}", w.requested()[-1]["interrupt_id"], answer, "interrupted", i + 2)
    await _respond(f, w, tid, "valid", w.requested()[-1]["interrupt_id"], 42, "completed", 1)
    f.record("live stream", w)
    await f.state("done", tid)


async def chat(f: ThreadFlow) -> None:
    tid = new_tid()
    w = await f.watch(tid)
    await f.command("run.start", tid, "run.start", {"assistant_id": "chat", "input": HUMAN})
    await w.phase("interrupted")
    await _respond(f, w, tid, "approve", w.requested()[-1]["interrupt_id"], "approve", "completed", 1)
    f.record("live stream", w)
    await f.replay("messages only", tid, w, ["messages"])
    await f.state("done", tid)


async def approve(f: ThreadFlow) -> None:
    tid = new_tid()
    w = await f.watch(tid, channels=["lifecycle", "input", "values", "updates"])
    await f.command("run.start", tid, "run.start", {"assistant_id": "approve", "input": {"request": "hi"}})
    await w.phase("interrupted")
    await _respond(f, w, tid, "edit", w.requested()[-1]["interrupt_id"], {"action": "edit", "args": {"to": "alice"}}, "completed", 1)
    f.record("live stream", w)


async def nointerrupt(f: ThreadFlow) -> None:
    tid = new_tid()
    w = await f.watch(tid)
    await f.command("run.start", tid, "run.start", {"assistant_id": "nointerrupt", "input": {}})
    await w.phase("completed")
    await f.command("a run that fails", tid, "run.start", {"assistant_id": "nointerrupt", "input": {"fail": True}})
    await w.phase("failed")
    f.record("live stream", w)
    await f.state("failed", tid)


async def resume_by_start(f: ThreadFlow) -> None:
    """`run.start` with an input while interrupts are pending resumes them with that input (the official rule)."""
    tid = new_tid()
    w = await f.watch(tid)
    await f.command("run.start", tid, "run.start", {"assistant_id": "agent", "input": {"some_text": "a"}})
    await w.phase("interrupted")
    await f.command("run.start again, with input", tid, "run.start", {"assistant_id": "agent", "input": {"some_text": "b"}})
    await w.phase("completed")
    f.record("live stream", w)
    await f.state("resumed", tid)


async def busy(f: ThreadFlow) -> None:
    """`run.start` while a run is in flight waits for it (up to 5 s) before deciding start-or-resume."""
    tid = new_tid()
    w = await f.watch(tid)
    await f.command("a slow run", tid, "run.start", {"assistant_id": "nointerrupt", "input": {"sleep": 0.5}})
    await w.phase("running")
    await f.command("run.start while busy", tid, "run.start", {"assistant_id": "agent", "input": {"some_text": "x"}, "multitaskStrategy": "reject"})
    await w.phase("interrupted")
    f.record("live stream", w)


async def v1_runs(f: ThreadFlow) -> None:
    """Runs made with the v1 API show on a thread stream open at the time; only resumable ones are replayed."""
    tid = (await f.post("create thread", "/threads", {}))["thread_id"]
    w = await f.watch(tid)
    await f.post("v1 wait", f"/threads/{tid}/runs/wait", {"assistant_id": "agent", "input": {"some_text": "v1"}})
    await w.phase("interrupted")
    await f.post("v1 resume", f"/threads/{tid}/runs/wait", {"assistant_id": "agent", "command": {"resume": "r"}, "stream_mode": ["updates"]})
    await w.phase("completed")
    await f.post("v1 resumable", f"/threads/{tid}/runs/wait", {"assistant_id": "agent", "input": {"some_text": "kept"}, "stream_resumable": True})
    await w.phase("interrupted", 2)
    f.record("live stream", w)
    replay = await f.watch(tid)
    await replay.phase("interrupted")
    f.record("replay: the resumable run only", replay)


async def errors(f: ThreadFlow) -> None:
    tid = new_tid()
    commands, events = f"/threads/{tid}/commands", f"/threads/{tid}/stream/events"
    for label, raw in (("not JSON", b"{bad"), ("an array", b"[]"), ("string id", b'{"id":"1","method":"run.start"}'), ("no method", b'{"id":1}')):
        await f.post(f"command: {label}", commands, raw=raw)
    await f.command("unknown method", tid, "bogus")
    await f.command("run.start without assistant", tid, "run.start", {})
    await f.command("run.start, unknown assistant", tid, "run.start", {"assistant_id": "nope", "input": {}})
    await f.command("run.start, bad checkpoint id", tid, "run.start", {"assistant_id": "agent", "config": {"configurable": {"checkpoint_id": "nope"}}})
    await f.command("input.respond without id", tid, "input.respond", {})
    await f.command("input.respond, bad namespace", tid, "input.respond", {"interrupt_id": "x", "namespace": "bad"})
    await f.command("input.respond, empty batch", tid, "input.respond", {"responses": []})
    await f.command("input.respond on an unknown thread", tid, "input.respond", {"interrupt_id": "0" * 32, "namespace": [], "response": 1})
    await f.command("subscribe over HTTP, bad channel", tid, "subscription.subscribe", {"channels": ["values", "bogus"]})
    await f.command("unsubscribe over HTTP", tid, "subscription.unsubscribe", {"subscription_id": "x"})
    await f.command("reconnect over HTTP", tid, "subscription.reconnect", {"channels": ["values"], "since": 0})
    await f.post("run.start on a non-UUID thread", "/threads/not-a-uuid/commands", {"id": 1, "method": "run.start", "params": {"assistant_id": "agent", "input": {}}})
    for label, raw in (("not JSON", b"{bad"), ("no channels", b"{}"), ("empty channels", b'{"channels":[]}'), ("bad channels", b'{"channels":["values","bogus",5,"debug"]}')):
        await f.post(f"stream: {label}", events, raw=raw)


async def websocket(f: ThreadFlow) -> None:
    """The WebSocket transport: commands in band. Answers are recorded by command id, events by seq (each once)."""
    tid = new_tid()
    received: list[dict[str, Any]] = []
    url = f.url.replace("http", "ws", 1) + f"/threads/{tid}/stream/events"
    async with connect(url) as ws:

        async def send(method: str, params: dict[str, Any] | None = None, wait: Callable[[], bool] | None = None) -> None:
            f.ids += 1
            await ws.send(json.dumps({"id": f.ids, "method": method, "params": params or {}}))
            want, deadline = f.ids, time.monotonic() + 30
            while not any(m.get("id") == want and m["type"] != "event" for m in received) or (wait is not None and not wait()):
                assert time.monotonic() < deadline, f"websocket: no answer to {method}"
                received.append(json.loads(await asyncio.wait_for(ws.recv(), 30)))

        def phase(name: str) -> Callable[[], bool]:
            return lambda: any(m["type"] == "event" and m["method"] == "lifecycle" and m["params"]["data"]["event"] == name for m in received)

        await ws.send("{bad")
        received.append(json.loads(await ws.recv()))
        await send("subscription.subscribe", {"channels": ["lifecycle", "input", "values"]})
        await send("agent.getTree")
        await send("run.start", {"assistant_id": "agent", "input": {"some_text": "ws"}}, wait=phase("interrupted"))
        await send("agent.getTree")
        asked = next(m["params"]["data"]["interrupt_id"] for m in received if m.get("method") == "input.requested")
        await send("input.respond", {"interrupt_id": asked, "namespace": [], "response": "E"}, wait=phase("completed"))
        await send("agent.getTree")
        await send("subscription.unsubscribe", {"subscription_id": "nope"})
    answers = sorted((m for m in received if m["type"] != "event"), key=lambda m: -1 if m["id"] is None else m["id"])
    events = sorted({m["event_id"]: m for m in received if m["type"] == "event"}.values(), key=lambda m: m["seq"])
    f.log += [{"label": "websocket answers", "body": answers}, {"label": "websocket events", "body": events}]


FLOWS: dict[str, Callable[[ThreadFlow], Awaitable[None]]] = {
    fn.__name__: fn for fn in (agent, multi, validate, chat, approve, nointerrupt, resume_by_start, busy, v1_runs, errors, websocket)
}


def record(url: str, flow: Callable[[ThreadFlow], Awaitable[None]]) -> list[dict[str, Any]]:
    async def main() -> list[dict[str, Any]]:
        f = ThreadFlow(url)
        try:
            await flow(f)
        finally:
            await f.close()
        return f.log

    return asyncio.run(main())
