"""Fault injection, each fault exercised through the official Python SDK."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from langgraph_sdk import get_client

from mock_server.faults import parse_faults
from mock_server.scenarios import ScenarioError, compile_scenario
from mock_server.testing import MockServer

from .helpers import run


@pytest.fixture(scope="module")
def server():
    with MockServer() as s:
        yield s


@pytest.fixture(autouse=True)
def no_faults_left(server):
    yield
    server.set_faults()


def test_latency_on_a_route(server):
    server.set_faults({"latency": 0.4, "route": "POST /threads"})

    async def flow():
        client = get_client(url=server.url)
        started = time.monotonic()
        await client.threads.create()
        slow = time.monotonic() - started
        started = time.monotonic()
        await client.threads.search()
        return slow, time.monotonic() - started

    slow, other = run(flow())
    assert slow >= 0.4 and other < 0.4


def test_error_status_on_the_nth_call(server):
    server.set_faults({"status": 503, "route": "POST /threads", "on_call": 2, "detail": "try later"})

    async def flow():
        client = get_client(url=server.url)
        first = await client.threads.create()
        with pytest.raises(httpx.HTTPStatusError) as caught:
            await client.threads.create()
        third = await client.threads.create()
        return first, caught.value.response, third

    first, failed, third = run(flow())
    assert failed.status_code == 503 and failed.json() == {"detail": "try later"}
    assert first["thread_id"] != third["thread_id"]


def test_error_event_at_a_step(server):
    server.set_faults({"error_at_step": 0, "graph": "agent", "error": {"type": "ConnectionError", "message": "model provider down"}})

    async def flow():
        client = get_client(url=server.url)
        thread = await client.threads.create()
        parts = [p async for p in client.runs.stream(thread["thread_id"], "agent", input={"some_text": "x"}, stream_mode="updates")]
        state = await client.threads.get(thread["thread_id"])
        return parts, state

    parts, thread = run(flow())
    assert parts[-1].event == "error" and parts[-1].data == {"error": "ConnectionError", "message": "An internal error occurred"}
    assert thread["status"] == "error"


@pytest.mark.filterwarnings("ignore:Reconnecting without a Last-Event-ID")  # the SDK tries to rejoin; nothing more is left
def test_stream_dropped_after_n_events_while_the_run_goes_on(server):
    server.set_faults({"drop_stream_after": 2, "route": "POST /threads/{thread_id}/runs/stream"})

    async def flow():
        client = get_client(url=server.url)
        thread = await client.threads.create()
        parts = [p async for p in client.runs.stream(thread["thread_id"], "nointerrupt", input={}, stream_mode=["values", "updates"])]
        run_id = parts[0].data["run_id"]
        final = await client.runs.join(thread["thread_id"], run_id)
        return parts, final

    parts, final = run(flow())
    assert len(parts) == 2 and parts[0].event == "metadata"
    assert final["steps"] == ["step1", "step2"]  # the run itself finished


def test_slow_token_drip(server):
    server.set_faults({"token_delay": 0.3, "graph": "nointerrupt"})

    async def flow():
        client = get_client(url=server.url)
        thread = await client.threads.create()
        started = time.monotonic()
        times = {}
        async for part in client.runs.stream(thread["thread_id"], "nointerrupt", input={}, stream_mode=["messages-tuple", "custom"]):
            times.setdefault(part.event, time.monotonic() - started)
        return times

    times = run(flow())
    assert times["messages"] - times["custom"] >= 0.3


def test_a_run_that_never_finishes_until_cancelled(server):
    server.set_faults({"hang": True, "graph": "agent"})

    async def flow():
        client = get_client(url=server.url)
        thread = await client.threads.create()
        created = await client.runs.create(thread["thread_id"], "agent", input={"some_text": "x"})
        await asyncio.sleep(0.5)
        still = await client.runs.get(thread["thread_id"], created["run_id"])
        busy = await client.threads.get(thread["thread_id"])
        await client.runs.cancel(thread["thread_id"], created["run_id"], wait=True)
        done = await client.runs.get(thread["thread_id"], created["run_id"])
        return still, busy, done

    still, busy, done = run(flow())
    assert still["status"] == "running" and busy["status"] == "busy"
    assert done["status"] == "interrupted"


def test_faults_from_a_scenario_file():
    scenario = {
        "graph_id": "flaky",
        "edges": [["START", "a"]],
        "nodes": {"a": [{"update": {"x": 1}}]},
        "state": {"x": "integer"},
        "faults": [{"error_at_step": 0, "error": {"type": "TimeoutError", "message": "upstream timed out"}}],
    }
    assert compile_scenario(scenario).faults[0].graph == "flaky"
    with MockServer() as server:
        server.load_scenario(scenario)

        async def flow():
            client = get_client(url=server.url)
            thread = await client.threads.create()
            return await client.runs.wait(thread["thread_id"], "flaky", input={}, raise_error=False)

        assert run(flow()) == {"__error__": {"error": "TimeoutError", "message": "upstream timed out"}}


def test_bad_faults_are_refused_with_the_reason(server):
    with pytest.raises(ValueError, match=r"faults\[0\]: .*exactly one of"):
        parse_faults([{"latency": 1, "status": 500}])
    with pytest.raises(ScenarioError, match=r"faults\[0\]: bogus: Extra inputs are not permitted"):
        compile_scenario({"graph_id": "g", "edges": [["START", "a"]], "nodes": {"a": []}, "faults": [{"hang": True, "bogus": 1}]})
    r = httpx.put(server.url + "/__mock__/faults", json={"faults": [{"status": 200}]})
    assert r.status_code == 422 and "status" in r.json()["detail"]


def test_faults_flag_on_the_command_line(tmp_path):
    import subprocess
    import sys

    bad = tmp_path / "faults.yaml"
    bad.write_text("- {latency: -1}\n")
    proc = subprocess.run([sys.executable, "-m", "mock_server.cli", "serve", "--faults", str(bad), "--port", "1"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "faults[0]: latency" in proc.stderr and "Traceback" not in proc.stderr
