"""Parity for the assistants API: every fixture graph's drawing, schemas and subgraphs, and a create / patch /
versions / latest / search / count / run / delete flow, driven the same way against the official server and the mock
(on the Python graphs and on the scenario files), equal after the parity normaliser. The flow never patches or
deletes a system assistant (the servers are shared with the other parity tests) and deletes what it creates.

Subgraphs: no fixture graph has one, so a graph with nested subgraphs is read by the official server's own helper
(`langgraph_api.api.assistants._graph_schemas`, in .venv-reference) and compared with what the mock serves for it."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from contract_tests.conversations import Session, record

from ..conftest import Served, _serve
from .test_parity import _first_difference, _normalised

pytestmark = pytest.mark.official

ROOT = Path(__file__).resolve().parents[2]
REFERENCE_PYTHON = ROOT / ".venv-reference" / "bin" / "python"
NAMESPACE_GRAPH = uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")
GRAPH_IDS = ("agent", "approve", "chat", "multi", "nointerrupt", "validate")
MARK = {"parity": "assistants"}  # on every assistant the flow creates, so leftovers can be found and removed


def _system(graph_id: str) -> str:
    return str(uuid.uuid5(NAMESPACE_GRAPH, graph_id))


def introspection(s: Session) -> None:
    for graph_id in GRAPH_IDS:
        aid = _system(graph_id)
        s.call(f"{graph_id}: graph", "GET", f"/assistants/{aid}/graph")
        s.call(f"{graph_id}: graph xray", "GET", f"/assistants/{aid}/graph?xray=true")
        s.call(f"{graph_id}: schemas", "GET", f"/assistants/{aid}/schemas")
        s.call(f"{graph_id}: subgraphs", "GET", f"/assistants/{aid}/subgraphs")
        s.call(f"{graph_id}: subgraphs recurse", "GET", f"/assistants/{aid}/subgraphs?recurse=true")
    agent, unknown = _system("agent"), "00000000-0000-4000-8000-000000000000"
    s.call("graph by graph id", "GET", "/assistants/agent/graph")
    s.call("graph xray depth", "GET", f"/assistants/{agent}/graph?xray=2")
    for bad in ("0", "-1", "bad"):
        s.call(f"graph xray {bad}", "GET", f"/assistants/{agent}/graph?xray={bad}")
    s.call("subgraphs of a namespace", "GET", f"/assistants/{agent}/subgraphs/human_node?recurse=true")
    for route in ("graph", "schemas", "subgraphs"):
        s.call(f"{route} of an unknown assistant", "GET", f"/assistants/{unknown}/{route}")
        s.call(f"{route} of a malformed id", "GET", f"/assistants/not-a-uuid/{route}")
    s.call("schemas by graph id", "GET", "/assistants/agent/schemas")


def _create(s: Session, label: str, body: dict[str, Any]) -> Any:
    return s.call(label, "POST", "/assistants", {**body, "metadata": {**MARK, **(body.get("metadata") or {})}})


def _create_and_refuse(s: Session) -> str:
    mine = _create(s, "create", {"graph_id": "agent", "name": "Mine", "config": {"recursion_limit": 7, "tags": ["t"]}, "metadata": {"team": "x"}, "description": "d"})
    aid = mine["assistant_id"]
    _create(s, "create minimal", {"graph_id": "approve"})
    _create(s, "create with context", {"graph_id": "agent", "context": {"model": "m"}, "name": "ctx one"})
    _create(s, "create with configurable", {"graph_id": "agent", "config": {"configurable": {"model": "c"}}, "name": "conf one"})
    _create(s, "create with a given id", {"graph_id": "multi", "assistant_id": "11111111-1111-4111-8111-111111111111", "name": "fixed"})
    _create(s, "create both", {"graph_id": "agent", "config": {"configurable": {"model": "c"}}, "context": {"a": 1}})
    _create(s, "create on an unknown graph", {"graph_id": "nope"})
    _create(s, "create with a malformed id", {"graph_id": "agent", "assistant_id": "nope"})
    _create(s, "create a duplicate", {"graph_id": "agent", "assistant_id": aid})
    _create(s, "create a duplicate, do_nothing", {"graph_id": "approve", "assistant_id": aid, "if_exists": "do_nothing", "name": "other"})
    _create(s, "create over a system assistant", {"graph_id": "agent", "assistant_id": _system("agent")})
    _create(s, "create with a bad config", {"graph_id": "agent", "config": {"tags": "x"}})
    s.call("create without graph_id", "POST", "/assistants", {})
    return str(aid)


def _patch_and_versions(s: Session, aid: str) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"
    s.call("patch metadata and name", "PATCH", f"/assistants/{aid}", {"metadata": {"more": 1}, "name": "Mine 2"})
    s.call("patch config", "PATCH", f"/assistants/{aid}", {"config": {"configurable": {"x": 1}}})
    s.call("patch context", "PATCH", f"/assistants/{aid}", {"context": {"y": 2}})
    s.call("patch graph", "PATCH", f"/assistants/{aid}", {"graph_id": "approve"})
    s.call("patch onto an unknown graph", "PATCH", f"/assistants/{aid}", {"graph_id": "nope"})
    s.call("patch nothing", "PATCH", f"/assistants/{aid}", {})
    s.call("patch an unknown assistant", "PATCH", f"/assistants/{unknown}", {"name": "x"})
    s.call("get", "GET", f"/assistants/{aid}")
    s.call("versions", "POST", f"/assistants/{aid}/versions", {})
    s.call("versions page", "POST", f"/assistants/{aid}/versions", {"limit": 2, "offset": 1})
    s.call("versions by metadata", "POST", f"/assistants/{aid}/versions", {"metadata": {"more": 1}})
    s.call("versions of an unknown assistant", "POST", f"/assistants/{unknown}/versions", {})
    s.call("versions of a system assistant", "POST", f"/assistants/{_system('agent')}/versions", {})
    s.call("latest 1", "POST", f"/assistants/{aid}/latest", {"version": 1})
    s.call("versions after latest", "POST", f"/assistants/{aid}/versions", {"limit": 1})
    s.call("latest of a missing version", "POST", f"/assistants/{aid}/latest", {"version": 99})
    s.call("latest without a version", "POST", f"/assistants/{aid}/latest", {})
    s.call("latest of an unknown assistant", "POST", f"/assistants/{unknown}/latest", {"version": 1})
    s.call("patch after latest", "PATCH", f"/assistants/{aid}", {"name": "Mine 3"})


def _search_and_count(s: Session) -> None:
    s.call("search mine", "POST", "/assistants/search", {"metadata": MARK, "limit": 100})
    s.call("search by name", "POST", "/assistants/search", {"name": "MINE", "metadata": MARK})
    s.call("search sorted by name", "POST", "/assistants/search", {"metadata": MARK, "sort_by": "name", "sort_order": "asc", "select": ["name", "graph_id"]})
    s.call("search sorted by name, descending", "POST", "/assistants/search", {"metadata": MARK, "sort_by": "name", "select": ["name"]})
    s.call("search a page", "POST", "/assistants/search", {"metadata": MARK, "limit": 2, "offset": 1})
    s.call("search by graph", "POST", "/assistants/search", {"metadata": MARK, "graph_id": "agent", "select": ["assistant_id", "version"]})
    s.call("search system assistants", "POST", "/assistants/search", {"metadata": {"created_by": "system"}, "sort_by": "graph_id", "sort_order": "asc", "limit": 100})
    s.call("search a bad select", "POST", "/assistants/search", {"select": ["bogus"]})
    s.call("search an unknown graph", "POST", "/assistants/search", {"graph_id": "nope"})
    s.call("count mine", "POST", "/assistants/count", {"metadata": MARK})
    s.call("count by name", "POST", "/assistants/count", {"name": "one", "metadata": MARK})
    s.call("count by graph", "POST", "/assistants/count", {"graph_id": "agent", "metadata": MARK})
    s.call("count an unknown graph", "POST", "/assistants/count", {"graph_id": "nope"})


def _run_and_delete(s: Session, aid: str) -> None:
    runner = _create(s, "create a runner", {"graph_id": "agent", "context": {"model": "m"}, "metadata": {"owner": "me"}, "config": {"tags": ["a"], "recursion_limit": 9}, "name": "runner"})
    rid = runner["assistant_id"]
    tid = s.thread()
    s.call("run with it", "POST", f"/threads/{tid}/runs/wait", {"assistant_id": rid, "input": {"some_text": "hi"}, "metadata": {"m": 1}})
    s.surfaces(tid, "after its run")
    s.call("stateless run with it", "POST", "/runs/wait", {"assistant_id": rid, "input": {"some_text": "hi"}})
    s.call("delete", "DELETE", f"/assistants/{aid}")
    s.call("delete again", "DELETE", f"/assistants/{aid}")
    s.call("get deleted", "GET", f"/assistants/{aid}")
    s.call("delete a malformed id", "DELETE", "/assistants/nope")
    s.call("delete with its threads", "DELETE", f"/assistants/{rid}?delete_threads=true")
    s.call("its thread", "GET", f"/threads/{tid}")
    for found in s.call("what is left", "POST", "/assistants/search", {"metadata": MARK, "limit": 100, "select": ["assistant_id"]}):
        s.call("delete the rest", "DELETE", f"/assistants/{found['assistant_id']}")


def assistants(s: Session) -> None:
    aid = _create_and_refuse(s)
    _patch_and_versions(s, aid)
    _search_and_count(s)
    _run_and_delete(s, aid)


def _remove_leftovers(url: str) -> None:
    """What a failed flow left behind, so the other parity tests see only the system assistants."""
    with httpx.Client(base_url=url, timeout=30) as http:
        for found in http.post("/assistants/search", json={"metadata": MARK, "limit": 1000}).json():
            http.delete(f"/assistants/{found['assistant_id']}")


@pytest.fixture
def clean(official, mock, mock_graphs) -> Iterator[None]:
    yield
    for url in (official, mock.url, mock_graphs.url):
        _remove_leftovers(url)


@pytest.mark.parametrize("flow", [introspection, assistants], ids=["introspection", "assistants"])
def test_assistants_answer_like_the_official_server(flow, official, mock, mock_graphs, clean):
    expected = _normalised(record(official, flow))
    for served in (mock_graphs, mock):
        actual = _normalised(record(served.url, flow))
        assert actual == expected, f"[mock on {served.source}] " + _first_difference(expected, actual)


NESTED = """
from typing_extensions import TypedDict

from langgraph.graph import START, StateGraph


class Inner(TypedDict):
    x: str


class Outer(TypedDict):
    x: str
    y: int


class Context(TypedDict):
    model: str


def leaf(state: Inner) -> dict:
    return {"x": state["x"] + "!"}


inner = StateGraph(Inner).add_node("leaf", leaf).add_edge(START, "leaf").compile()
middle = StateGraph(Inner).add_node("inner", inner).add_edge(START, "inner").compile()
graph = (
    StateGraph(Outer, context_schema=Context)
    .add_node("middle", middle)
    .add_node("done", lambda state: {"y": 1})
    .add_edge(START, "middle")
    .add_edge("middle", "done")
    .compile()
)
"""

# What langgraph-api's handlers compute for a graph: `get_graph` names it after its graph id, `get_assistant_graph`
# draws it without the nodes' `data.id`, `get_assistant_schemas` and `get_assistant_subgraphs` call `_graph_schemas`.
OFFICIAL_HELPERS = """
import asyncio, json, sys
sys.path.insert(0, ".")
import nested
from langgraph_api.api.assistants import _graph_schemas

graph = nested.graph.copy(update={"name": "nested"})


def drawn(value):
    for node in value.get("nodes", []):
        if isinstance(node.get("data"), dict):
            node["data"].pop("id", None)
    return value


async def main():
    out = {f"graph xray={x}": drawn((await graph.aget_graph(xray=x)).to_json()) for x in (False, True, 1)}
    out["schemas"] = {"graph_id": "nested", **_graph_schemas(graph)}
    for ns, recurse in ((None, False), (None, True), ("middle", True), ("nope", False)):
        out[f"subgraphs {ns} {recurse}"] = {n: _graph_schemas(g) async for n, g in graph.aget_subgraphs(namespace=ns, recurse=recurse)}
    print(json.dumps(out))


asyncio.run(main())
"""

MOCK_PATHS = {
    "graph xray=False": "graph?xray=false",
    "graph xray=True": "graph?xray=true",
    "graph xray=1": "graph?xray=1",
    "schemas": "schemas",
    "subgraphs None False": "subgraphs",
    "subgraphs None True": "subgraphs?recurse=true",
    "subgraphs middle True": "subgraphs/middle?recurse=true",
    "subgraphs nope False": "subgraphs/nope",
}


def test_subgraphs_are_read_as_langgraph_api_reads_them(tmp_path):
    (tmp_path / "nested.py").write_text(textwrap.dedent(NESTED), encoding="utf-8")
    (tmp_path / "langgraph.json").write_text(json.dumps({"dependencies": ["."], "graphs": {"nested": "./nested.py:graph"}}), encoding="utf-8")
    assert REFERENCE_PYTHON.exists(), "the official server's virtualenv is missing: run `python3 dev.py test` once"
    env = {**os.environ, "LANGGRAPH_RUNTIME_EDITION": "inmem", "REDIS_URI": "redis://unused", "DATABASE_URI": ":memory:"}
    proc = subprocess.run([str(REFERENCE_PYTHON), "-c", OFFICIAL_HELPERS], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    expected = json.loads(proc.stdout.strip().splitlines()[-1])
    assert expected["schemas"]["input_schema"] and expected["schemas"]["context_schema"] and set(expected["subgraphs None True"]) == {"middle", "middle|inner"}
    with contextlib.contextmanager(_serve)(graphs=tmp_path / "langgraph.json") as served:
        actual = _read(served, MOCK_PATHS)
        assert not served.recorder.take(), "responses that disagree with openapi/openapi.yaml"
    assert actual == expected


def _read(served: Served, paths: dict[str, str]) -> dict[str, Any]:
    aid = _system("nested")
    with served.http() as http:
        return {label: http.get(f"/assistants/{aid}/{path}").raise_for_status().json() for label, path in paths.items()}
