"""The legacy interrupt format (value, resumable, ns, when), for apps that still read those fields."""

from __future__ import annotations

import pytest
from langgraph_sdk import get_client
from langgraph_sdk.schema import Command

from .conftest import SCENARIOS, _serve
from .helpers import run


@pytest.fixture(scope="module")
def served():
    yield from _serve(scenarios=[SCENARIOS])


@pytest.fixture(autouse=True)
def legacy(served):
    served.server.set_interrupt_format("legacy")
    yield
    served.server.set_interrupt_format("current")


def test_every_surface_shows_the_legacy_shape(served):
    async def flow():
        client = get_client(url=served.url)
        thread = await client.threads.create()
        tid = thread["thread_id"]
        waited = await client.runs.wait(tid, "agent", input={"some_text": "old app"})
        return tid, waited, await client.threads.get(tid), await client.threads.get_state(tid)

    _, waited, thread, state = run(flow())
    [task] = state["tasks"]
    expected = {"id": waited["__interrupt__"][0]["id"], "value": {"text_to_revise": "old app"}, "resumable": True, "ns": [f"human_node:{task['id']}"], "when": "during"}
    assert waited["__interrupt__"] == [expected]
    assert thread["interrupts"] == {task["id"]: [expected]}
    assert task["interrupts"] == [expected] and state["interrupts"] == [expected]


def test_parallel_and_sequential_interrupts_name_their_task(served):
    async def flow():
        client = get_client(url=served.url)
        thread = await client.threads.create()
        tid = thread["thread_id"]
        first = await client.runs.wait(tid, "multi", input={"answers": []})
        by_q = {i["value"]["q"]: i for i in first["__interrupt__"]}
        then = await client.runs.wait(tid, "multi", command=Command(resume={by_q["A?"]["id"]: "a", by_q["B?"]["id"]: "b"}))
        second = await client.runs.wait(tid, "multi", command=Command(resume="one"))
        state = await client.threads.get_state(tid)
        parts = [p async for p in client.runs.stream(tid, "multi", command=Command(resume="two"), stream_mode="updates")]
        return by_q, then, second, state, parts

    by_q, then, second, state, parts = run(flow())
    assert by_q["A?"]["ns"][0].startswith("ask_a:") and by_q["B?"]["ns"][0].startswith("ask_b:")
    assert then["__interrupt__"][0]["ns"][0].startswith("double:")
    # the second interrupt() in the same node: a new id, the same task namespace
    assert second["__interrupt__"][0]["ns"] == [f"double:{state['tasks'][0]['id']}"]
    assert second["__interrupt__"][0]["id"] != then["__interrupt__"][0]["id"]
    assert parts[-1].data == {"double": {"answers": ["first=one", "second=two"]}}


def test_the_format_switches_back(served):
    served.server.set_interrupt_format("current")

    async def flow():
        client = get_client(url=served.url)
        thread = await client.threads.create()
        return await client.runs.wait(thread["thread_id"], "agent", input={"some_text": "x"})

    assert set(run(flow())["__interrupt__"][0]) == {"value", "id", "response_schema"}
