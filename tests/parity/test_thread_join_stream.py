"""`GET /threads/{id}/stream` (every run on a thread in one SSE stream), recorded on the official server and on the
mock and compared: the 422s, the live events of runs made every way (background, wait, resume) and a state update,
the `stream_modes` filters, and `Last-Event-ID` replay. The normaliser hides event ids (the official ones repeat
within a millisecond, `<ms>-0`; the mock's never do), which `test_event_ids` checks on their own."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from typing import Any

import httpx
import pytest

from hitl_spec import parse_sse

from .normalize import Normaliser

AGENT = {"assistant_id": "agent"}
ENTRY_ID = re.compile(r"^\d{13}-\d+$")


class Joined:
    """A thread's join stream read in the background."""

    def __init__(self, http: httpx.AsyncClient, tid: str, params: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> None:
        self.frames: list[dict[str, Any]] = []
        self.status: int | None = None
        self.head: dict[str, str] = {}
        self.text = b""
        self._task = asyncio.create_task(self._read(http, tid, params or {}, headers or {}))

    async def _read(self, http: httpx.AsyncClient, tid: str, params: dict[str, str], headers: dict[str, str]) -> None:
        async with http.stream("GET", f"/threads/{tid}/stream", params=params, headers=headers, timeout=None) as r:
            self.status, self.head = r.status_code, {h: r.headers.get(h, "") for h in ("content-type", "cache-control", "location")}
            buffer = b""
            async for chunk in r.aiter_bytes():
                self.text += chunk
                buffer += chunk.replace(b"\r\n", b"\n")
                *complete, buffer = buffer.split(b"\n\n")
                for frame in complete:
                    self.frames += parse_sse(frame + b"\n\n")

    def done(self) -> int:
        return sum(1 for f in self.frames if f.get("event") == "metadata" and f["data"].get("status") == "run_done")

    async def until(self, what: str, test: Any, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not test():
            if self._task.done() or time.monotonic() > deadline:
                raise AssertionError(f"thread join stream: no {what} (status {self.status}, {[f.get('event') for f in self.frames]})")
            await asyncio.sleep(0.02)

    async def close(self) -> list[dict[str, Any]]:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        return self.frames


async def _flow(url: str) -> list[Any]:
    log: list[Any] = []
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        for label, path, headers in (
            ("malformed thread id", "/threads/not-a-uuid/stream", {}),
            ("Last-Event-ID -1", f"/threads/{uuid.uuid4()}/stream", {"last-event-id": "-1"}),
            ("Last-Event-ID abc", f"/threads/{uuid.uuid4()}/stream", {"last-event-id": "abc"}),
            ("stream_modes values", f"/threads/{uuid.uuid4()}/stream?stream_modes=values", {}),
            ("stream_modes run_modes,bogus", f"/threads/{uuid.uuid4()}/stream?stream_modes=run_modes,bogus", {}),
        ):
            r = await http.get(path, headers=headers)
            log.append({"label": label, "status": r.status_code, "body": r.json()})
        tid = str(uuid.uuid4())
        live = Joined(http, tid)  # before the thread exists: it is answered, and gets the thread's runs later
        lifecycle = Joined(http, tid, {"stream_modes": "lifecycle,state_update"})
        await live.until("answer", lambda: live.status is not None)
        await lifecycle.until("answer", lambda: lifecycle.status is not None)
        log.append({"label": "headers", "status": live.status, "head": live.head})
        await http.post("/threads", json={"thread_id": tid})
        run = (await http.post(f"/threads/{tid}/runs", json={**AGENT, "input": {"some_text": "x"}, "stream_resumable": True, "stream_mode": ["values", "updates"]})).json()
        await http.get(f"/threads/{tid}/runs/{run['run_id']}/join")
        await live.until("the first run's end", lambda: live.done() >= 1)
        await http.post(f"/threads/{tid}/runs/wait", json={**AGENT, "command": {"resume": "new"}})
        await live.until("the second run's end", lambda: live.done() >= 2)
        # both streams have the run's end before the state update: the official server delivers each subscriber's
        # events on its own, so without this wait the update can overtake the run_done in the second stream
        await lifecycle.until("the second run's end", lambda: lifecycle.done() >= 2)
        await http.post(f"/threads/{tid}/state", json={"values": {"some_text": "updated"}})
        await lifecycle.until("the state update", lambda: any(f.get("event") == "state_update" for f in lifecycle.frames))
        await http.post(f"/threads/{tid}/runs/wait", json={**AGENT, "input": {"some_text": "third"}, "stream_mode": ["updates"]})
        await live.until("the third run's end", lambda: live.done() >= 3)
        await lifecycle.until("the third run's end", lambda: lifecycle.done() >= 3)
        log.append({"label": "live, run_modes", "frames": await live.close()})
        log.append({"label": "lifecycle,state_update", "frames": await lifecycle.close()})
        replay = Joined(http, tid, headers={"last-event-id": "0"})  # the resumable (first) run's kept events
        await replay.until("the replayed run_done", lambda: replay.done() >= 1)
        log.append({"label": "Last-Event-ID 0", "frames": await replay.close()})
        log.append({"label": "ids", "ids": [f.get("id") for f in log[-3]["frames"]]})
    return log


def record(url: str) -> list[Any]:
    return asyncio.run(_flow(url))


def _without_ids(log: list[Any]) -> list[Any]:
    out = []
    for entry in log:
        if entry["label"] == "ids":
            continue
        if "frames" in entry:
            entry = {**entry, "frames": [{k: v for k, v in f.items() if k != "id"} for f in entry["frames"]]}
        out.append(entry)
    return out


@pytest.mark.official
def test_the_thread_join_stream_answers_like_the_official_server(official, mock, mock_graphs):
    expected = Normaliser()(_without_ids(record(official)))
    for served in (mock_graphs, mock):
        assert Normaliser()(_without_ids(record(served.url))) == expected, f"[mock on {served.source}]"


def test_event_ids(served):
    """Every event has an id; the mock's strictly increase (the official ones repeat within a millisecond)."""
    log = record(served.url)
    ids = next(e["ids"] for e in log if e["label"] == "ids")
    assert ids and all(ENTRY_ID.match(i) for i in ids), ids
    keys = [tuple(int(p) for p in i.split("-")) for i in ids]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
