"""Assistants through the official Python SDK, as LangGraph Studio and Agent Chat UI call them: create, update,
delete, versions, latest, search and count, each graph's drawing, schemas and subgraphs, and runs with a created
assistant. The mutating tests run on the scenario files and on the Python graphs, on mocks of this module's own
(they patch and delete system assistants), reset after each test. The official answers are pinned in tests/parity."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from .conftest import GRAPHS, SCENARIOS, Served, _serve
from .helpers import run

NAMESPACE_GRAPH = uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")
GRAPH_IDS = ("agent", "approve", "chat", "multi", "nointerrupt", "validate")
BOTH = "Cannot specify both configurable and context."


def system_id(graph_id: str) -> str:
    return str(uuid.uuid5(NAMESPACE_GRAPH, graph_id))


@pytest.fixture(scope="module")
def scenarios_mock() -> Iterator[Served]:
    yield from _serve(scenarios=[SCENARIOS])


@pytest.fixture(scope="module")
def graphs_mock() -> Iterator[Served]:
    yield from _serve(graphs=GRAPHS)


@pytest.fixture(params=["scenarios", "graphs"])
def served(request: pytest.FixtureRequest) -> Iterator[Served]:
    """This module's mocks in turn (conftest's spec check covers them), reset after each test."""
    server: Served = request.getfixturevalue(f"{request.param}_mock")
    yield server
    server.server.reset()


def with_client(served: Served, body: Callable[[LangGraphClient], Coroutine[Any, Any, None]]) -> None:
    async def main() -> None:
        await body(get_client(url=served.url))

    run(main())


async def refused(call: Awaitable[Any]) -> tuple[int, str]:
    """The status and `detail` of an SDK call the server refuses."""
    with pytest.raises(httpx.HTTPStatusError) as caught:
        await call
    return caught.value.response.status_code, caught.value.response.json()["detail"]


async def _versions(client: LangGraphClient) -> None:
    created = await client.assistants.create("agent", config={"tags": ["t"]}, metadata={"team": "x"}, name="Mine", description="d")
    aid = created["assistant_id"]
    assert uuid.UUID(aid).version == 4
    same = {"assistant_id": aid, "graph_id": "agent", "config": {"tags": ["t"]}, "context": {}, "metadata": {"team": "x"}, "name": "Mine", "version": 1, "description": "d"}
    assert created == {**same, "created_at": created["created_at"], "updated_at": created["created_at"]}
    assert await client.assistants.get(aid) == created
    updated = await client.assistants.update(aid, metadata={"more": 1}, name="Mine 2")
    assert (updated["version"], updated["metadata"], updated["name"], updated["config"]) == (2, {"team": "x", "more": 1}, "Mine 2", {"tags": ["t"]})
    assert updated["updated_at"] > created["updated_at"] and updated["created_at"] == created["created_at"]
    with_context = await client.assistants.update(aid, context={"model": "m"})  # a context alone replaces the config
    assert (with_context["version"], with_context["config"], with_context["context"]) == (3, {"configurable": {"model": "m"}}, {"model": "m"})
    versions = await client.assistants.get_versions(aid)
    assert [v["version"] for v in versions] == [3, 2, 1]
    assert all("updated_at" not in v for v in versions) and versions[2]["name"] == "Mine"
    assert [v["version"] for v in await client.assistants.get_versions(aid, limit=1, offset=1)] == [2]
    assert [v["version"] for v in await client.assistants.get_versions(aid, metadata={"more": 1})] == [3, 2]
    latest = await client.assistants.set_latest(aid, 1)
    # version 1's config, metadata and name come back; the context stays (as on the official server)
    assert (latest["version"], latest["name"], latest["metadata"], latest["config"], latest["context"]) == (1, "Mine", {"team": "x"}, {"tags": ["t"]}, {"model": "m"})
    assert (await client.assistants.update(aid, name="again"))["version"] == 4  # numbering goes on after the highest
    assert await refused(client.assistants.set_latest(aid, 99)) == (404, f"Version 99 not found for assistant {aid}")
    unknown = str(uuid.uuid4())
    assert await refused(client.assistants.get_versions(unknown)) == (404, f"Assistant {unknown} not found")


def test_create_update_versions_and_latest(served):
    with_client(served, _versions)


async def _create(client: LangGraphClient) -> None:
    fixed = str(uuid.uuid4())
    made = await client.assistants.create("approve", assistant_id=fixed)
    assert (made["assistant_id"], made["name"], made["metadata"], made["description"]) == (fixed, "Untitled", {}, None)
    assert await refused(client.assistants.create("agent", assistant_id=fixed)) == (409, f"Assistant {fixed} already exists")
    assert await client.assistants.create("agent", assistant_id=fixed, if_exists="do_nothing", name="other") == made
    assert (await refused(client.assistants.create("agent", assistant_id=system_id("agent"))))[0] == 409
    assert await refused(client.assistants.create("nope")) == (404, f"Graph 'nope' not found. Expected one of: {sorted(GRAPH_IDS)}")
    assert await refused(client.assistants.create("agent", assistant_id="not-a-uuid")) == (422, "Invalid assistant ID: must be a UUID")
    status, detail = await refused(client.assistants.create("agent", config={"configurable": {"a": 1}}, context={"b": 2}))
    assert status == 400 and detail.startswith(BOTH)
    status, detail = await refused(client.assistants.create("agent", config={"tags": "x"}))
    assert status == 422 and 'schema["properties"]["tags"]' in detail
    assert (await client.assistants.create("agent", config={"configurable": {"model": "c"}}))["context"] == {"model": "c"}
    unknown = str(uuid.uuid4())
    assert await refused(client.assistants.update(unknown, name="x")) == (404, f"Assistant {unknown} not found")
    assert (await refused(client.assistants.update(fixed, graph_id="nope")))[0] == 404


def test_create_options_and_refusals(served):
    with_client(served, _create)


async def _search(client: LangGraphClient) -> None:
    for name, graph in (("Zeta helper", "agent"), ("alpha helper", "approve"), ("Mid", "agent")):
        await client.assistants.create(graph, name=name, metadata={"suite": "search"})
    mine = {"suite": "search"}
    assert [a["name"] for a in await client.assistants.search(metadata=mine)] == ["Mid", "alpha helper", "Zeta helper"]  # newest first
    assert [a["name"] for a in await client.assistants.search(name="HELPER")] == ["alpha helper", "Zeta helper"]
    by_name = await client.assistants.search(metadata=mine, sort_by="name", sort_order="asc", select=["name", "graph_id"])
    assert by_name == [{"graph_id": "approve", "name": "alpha helper"}, {"graph_id": "agent", "name": "Mid"}, {"graph_id": "agent", "name": "Zeta helper"}]
    assert [a["name"] for a in await client.assistants.search(metadata=mine, sort_by="name")] == ["Zeta helper", "Mid", "alpha helper"]
    paged = await client.assistants.search(metadata=mine, limit=2, offset=0, response_format="object")
    assert len(paged["assistants"]) == 2 and paged["next"] == "2"
    system = await client.assistants.search(metadata={"created_by": "system"}, limit=100)
    assert sorted(a["graph_id"] for a in system) == sorted(GRAPH_IDS)
    assert all(a["assistant_id"] == system_id(a["graph_id"]) and a["name"] == a["graph_id"] for a in system)
    assert await client.assistants.count() == len(GRAPH_IDS) + 3
    assert await client.assistants.count(graph_id="agent") == 3
    assert await client.assistants.count(name="helper", metadata=mine) == 2
    assert (await refused(client.assistants.count(graph_id="nope")))[0] == 404
    assert (await refused(client.assistants.search(graph_id="nope")))[0] == 404


def test_search_and_count(served):
    with_client(served, _search)
    with served.http() as http:
        bad = http.post("/assistants/search", json={"select": ["bogus"]})
        assert bad.status_code == 422 and 'Failed validating "enum" in schema["properties"]["select"]["items"]' in bad.json()["detail"]


async def _runs(client: LangGraphClient) -> None:
    mine = await client.assistants.create("agent", context={"model": "m"}, config={"tags": ["a"], "recursion_limit": 9}, metadata={"owner": "me"})
    aid = mine["assistant_id"]
    tid = (await client.threads.create())["thread_id"]
    assert (await client.runs.wait(tid, aid, input={"some_text": "hi"}, metadata={"m": 1}))["some_text"] == "hi"
    [made] = await client.runs.list(tid)
    assert made["assistant_id"] == aid
    assert made["metadata"] == {"owner": "me", "graph_id": "agent", "assistant_id": aid, "m": 1}  # no created_by: system
    config = made["kwargs"]["config"]
    assert (config["tags"], config["recursion_limit"], config["configurable"]["model"], config["configurable"]["assistant_id"]) == (["a"], 9, "m", aid)
    assert made["kwargs"]["context"] == {"model": "m"}
    after = await client.threads.get(tid)
    assert after["metadata"] == {"graph_id": "agent", "assistant_id": aid}
    assert after["config"] == {"tags": ["a"], "recursion_limit": 9, "configurable": {"model": "m"}}
    # the config reaches the graph: nointerrupt's two steps exceed a recursion limit of 1
    tight = await client.assistants.create("nointerrupt", config={"recursion_limit": 1})
    other = (await client.threads.create())["thread_id"]
    await client.runs.wait(other, tight["assistant_id"], input={}, raise_error=False)
    assert (await client.runs.list(other))[0]["status"] == "error"
    await client.runs.wait(other, "nointerrupt", input={})
    assert (await client.runs.list(other))[0]["status"] == "success"


def test_runs_take_the_assistants_config_context_and_metadata(served):
    with_client(served, _runs)


async def _delete(client: LangGraphClient) -> None:
    aid = (await client.assistants.create("agent"))["assistant_id"]
    tid = (await client.threads.create())["thread_id"]
    other = (await client.threads.create())["thread_id"]
    await client.runs.wait(tid, aid, input={"some_text": "x"})
    await client.runs.wait(other, "agent", input={"some_text": "x"})
    await client.assistants.delete(aid, delete_threads=True)
    assert await refused(client.assistants.get(aid)) == (404, "Not Found")
    assert await refused(client.assistants.delete(aid)) == (404, f"Assistant with ID {aid} not found")
    assert (await refused(client.threads.get(tid)))[0] == 404
    assert (await client.threads.get(other))["thread_id"] == other  # another assistant's thread stays
    assert await refused(client.runs.wait(other, aid, input={"some_text": "y"})) == (404, "Thread or assistant not found.")


def test_delete_and_delete_threads(served):
    with_client(served, _delete)


async def _system(client: LangGraphClient) -> None:
    agent = system_id("agent")
    patched = await client.assistants.update(agent, metadata={"x": 1})
    assert (patched["version"], patched["metadata"]) == (2, {"created_by": "system", "x": 1})
    tid = (await client.threads.create())["thread_id"]
    await client.runs.wait(tid, "agent", input={"some_text": "x"})
    assert (await client.runs.list(tid))[0]["metadata"] == {"created_by": "system", "x": 1, "graph_id": "agent", "assistant_id": agent}
    await client.assistants.delete(agent)
    assert await refused(client.assistants.get(agent)) == (404, "Not Found")
    for named in ("agent", agent):  # by graph id or by UUID: 404, not the 422 of an unknown graph name
        assert await refused(client.runs.wait(tid, named, input={"some_text": "x"})) == (404, "Thread or assistant not found.")
    assert await refused(client.assistants.get_graph("agent")) == (404, "Not Found")
    assert await client.assistants.search(graph_id="agent") == []
    assert (await client.threads.get_state(tid))["values"] == {"some_text": "x"}  # the graph is still served


def test_system_assistants_can_be_patched_and_deleted(served):
    with_client(served, _system)
    served.server.reset()
    with served.http() as http:
        assert http.get(f"/assistants/{system_id('agent')}").json()["version"] == 1  # a reset brings it back


async def _introspect(client: LangGraphClient, graph_id: str) -> tuple[Any, Any]:
    aid = system_id(graph_id)
    drawn = await client.assistants.get_graph(aid)
    assert drawn == await client.assistants.get_graph(graph_id) == await client.assistants.get_graph(aid, xray=True)
    ids = [n["id"] for n in drawn["nodes"]]
    assert ids[0] == "__start__" and ids[-1] == "__end__"
    assert all("id" not in (n.get("data") or {}) for n in drawn["nodes"])
    schemas = await client.assistants.get_schemas(aid)
    assert schemas["graph_id"] == graph_id and schemas["state_schema"]["title"] == f"{graph_id}_state"
    assert (schemas["config_schema"], schemas["context_schema"]) == ({}, None)
    assert await client.assistants.get_subgraphs(aid) == {} == await client.assistants.get_subgraphs(aid, namespace="x", recurse=True)
    return drawn, schemas


@pytest.mark.parametrize("graph_id", GRAPH_IDS)
def test_graph_schemas_and_subgraphs_of_each_fixture_graph(graph_id, mock_graphs, mock):
    """Read from the compiled graph, the same for the scenario file as for the Python graph."""

    async def both() -> list[tuple[Any, Any]]:
        return [await _introspect(get_client(url=server.url), graph_id) for server in (mock_graphs, mock)]

    python, scenario = run(both())
    assert python == scenario


def test_the_agent_graph_and_schemas(mock):
    aid = system_id("agent")
    nodes = [{"id": "__start__", "type": "runnable", "data": {"name": "__start__"}}, {"id": "human_node", "type": "runnable", "data": {"name": "human_node"}}, {"id": "__end__"}]
    edges = [{"source": "__start__", "target": "human_node"}, {"source": "human_node", "target": "__end__"}]
    state = {"properties": {"some_text": {"default": None, "title": "Some Text", "type": "string"}}, "title": "agent_state", "type": "object"}
    with mock.http() as http:
        assert http.get(f"/assistants/{aid}/graph").json() == {"nodes": nodes, "edges": edges}
        schemas = {"graph_id": "agent", "input_schema": None, "output_schema": None, "state_schema": state, "config_schema": {}, "context_schema": None}
        assert http.get(f"/assistants/{aid}/schemas").json() == schemas
        for xray in ("0", "-1", "bad"):
            assert http.get(f"/assistants/{aid}/graph", params={"xray": xray}).json() == {"detail": "Invalid xray value"}
        for route in ("schemas", "subgraphs"):
            assert http.get(f"/assistants/agent/{route}").json() == {"detail": "Invalid assistant ID: must be a UUID"}
            assert http.get(f"/assistants/{uuid.uuid4()}/{route}").json() == {"detail": "Not Found"}
