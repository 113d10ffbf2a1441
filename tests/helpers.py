"""Small helpers shared by the tests."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable
from typing import Any, TypeVar

import httpx

from hitl_spec import parse_sse

T = TypeVar("T")
INTERRUPT_ID = re.compile(r"^[0-9a-f]{32}$")


def run(coro: Awaitable[T]) -> T:
    return asyncio.run(coro)  # type: ignore[arg-type]


def new_thread(http: httpx.Client) -> str:
    r = http.post("/threads", json={})
    assert r.status_code == 200, r.text
    return r.json()["thread_id"]


def wait(http: httpx.Client, thread_id: str, assistant: str, **body: Any) -> Any:
    r = http.post(f"/threads/{thread_id}/runs/wait", json={"assistant_id": assistant, **body})
    assert r.status_code == 200, r.text
    return r.json()


def stream(http: httpx.Client, path: str, body: dict[str, Any]) -> tuple[httpx.Response, list[dict[str, Any]]]:
    r = http.post(path, json=body)
    return r, parse_sse(r.content)


def pending_ids(http: httpx.Client, thread_id: str) -> list[str]:
    """The pending interrupt ids, after asserting every surface of the thread agrees on them."""
    thread = http.get(f"/threads/{thread_id}").json()
    state = http.get(f"/threads/{thread_id}/state").json()
    from_thread = sorted(i["id"] for items in thread["interrupts"].values() for i in items)
    from_tasks = sorted(i["id"] for t in state["tasks"] for i in t["interrupts"])
    from_state = sorted(i["id"] for i in state["interrupts"])
    assert from_thread == from_tasks == from_state, (from_thread, from_tasks, from_state)
    # Thread.interrupts is keyed by the task that raised them, and those tasks are the ones `next` names.
    tasks = {t["id"]: t["name"] for t in state["tasks"]}
    assert set(thread["interrupts"]) <= set(tasks)
    assert {tasks[k] for k in thread["interrupts"]} <= set(state["next"])
    if from_thread:  # a failed resume leaves the thread `error` with its interrupts still pending
        assert thread["status"] in ("interrupted", "error"), thread["status"]
    return from_thread


def interrupt_ids(result: dict[str, Any]) -> list[str]:
    items = result.get("__interrupt__", [])
    for item in items:
        assert INTERRUPT_ID.match(item["id"]), item
        assert set(item) == {"value", "id", "response_schema"}, item
    return sorted(i["id"] for i in items)
