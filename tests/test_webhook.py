"""`webhook`: each finished run is POSTed to the URL its body named, with the official server's payload."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.testing import ServerThread, free_port


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A webhook receiver on loopback: its URL and what it got."""
    got: list[dict[str, Any]] = []

    async def hook(request: Request) -> Response:
        got.append(json.loads(await request.body()))
        return Response(status_code=204)

    with ServerThread(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as server:
        yield f"{server.url}/hook", got


def _received(got: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 10
    while len(got) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return got


def test_a_finished_run_is_posted_to_its_webhook(mock, receiver):
    url, got = receiver
    with mock.http() as http:
        tid = http.post("/threads", json={}).json()["thread_id"]
        asked = http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "agent", "input": {"some_text": "x"}, "webhook": url})
        run_id = http.get(f"/threads/{tid}/runs").json()[0]["run_id"]
        http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "nointerrupt", "input": {"fail": True}, "webhook": url})
        first, failed = _received(got, 2)
        run = http.get(f"/threads/{tid}/runs/{run_id}").json()
    assert asked.status_code == 200
    extra = ("run_started_at", "run_ended_at", "webhook_sent_at", "values")
    assert {k: v for k, v in first.items() if k not in (*extra, "updated_at")} == {k: v for k, v in run.items() if k != "updated_at"}
    assert first["status"] == "success" and first["values"] == {"some_text": "x"}
    assert first["run_started_at"] <= first["run_ended_at"] <= first["webhook_sent_at"]
    assert "error" not in first
    assert failed["status"] == "error" and failed["error"]["error"] == "ValueError", failed


def test_a_relative_webhook_is_refused_and_an_unreachable_one_does_not_fail_the_run(mock):
    with mock.http() as http:
        tid = http.post("/threads", json={}).json()["thread_id"]
        refused = http.post(f"/threads/{tid}/runs", json={"assistant_id": "agent", "input": {}, "webhook": "/threads"})
        assert refused.status_code == 422 and "Loopback webhooks" in refused.json()["detail"]
        dead = f"http://127.0.0.1:{free_port()}/hook"
        done = http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "agent", "input": {"some_text": "y"}, "webhook": dead})
        assert done.status_code == 200 and done.json()["__interrupt__"]
        assert http.get(f"/threads/{tid}").json()["status"] == "interrupted"
