"""Scenario files: templates, conditions, and one-line errors that name the file and the place."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from mock_server.scenarios import ScenarioError, check, compile_scenario, load_langgraph_json, load_scenarios, render


def test_templates():
    scope = {"state": {"a": {"b": [1, {"c": "deep"}]}, "n": 5}, "answer": {"x": 1}}
    assert render("{state.a.b.1.c}", scope) == "deep"
    assert render("{answer}", scope) == {"x": 1}  # a lone placeholder keeps the value's type
    assert render("n={state.n}, answer={answer}", scope) == "n=5, answer={'x': 1}"  # str(), like an f-string
    assert render("{{literal}} {state.missing}", scope) == "{literal} None"
    assert render({"k": ["{state.n}", "x"]}, scope) == {"k": [5, "x"]}
    assert render("{'not': 'a placeholder'}", scope) == "{'not': 'a placeholder'}"
    assert render("{state.a.b.-1.c}", scope) == "deep"


def test_conditions():
    scope = {"msg": "please send an email", "n": 3}
    assert check({"value": "{msg}", "contains": "email"}, scope)
    assert check({"value": "{msg}", "matches": r"^please\b"}, scope)
    assert not check({"value": "{msg}", "equals": "x"}, scope)
    assert check({"value": "{n}", "schema": {"type": "integer", "minimum": 1}}, scope)
    assert check({"value": "{n}", "in": [1, 2, 3]}, scope)
    assert check({"all": [{"value": "{n}", "equals": 3}, {"not": {"value": "{missing}", "exists": True}}]}, scope)
    assert check("{n}", scope) and not check("{missing}", scope)


def _run(graph, inp, config):
    async def go():
        out = None
        async for chunk in graph.astream(inp, config, stream_mode="values"):
            out = chunk
        return out

    return asyncio.run(go())


def test_a_compiled_scenario_is_a_real_langgraph_graph():
    doc = yaml.safe_load(
        """
graph_id: greet
state: {name: string, greeting: string, log: {reducer: append}}
edges: [[START, ask], [ask, END]]
nodes:
  ask:
    - set: {polite: "Dear {state.name}"}
    - interrupt: {question: "Greet {state.name}?", draft: "{polite}"}
      as: ok
    - if: {value: "{ok}", equals: true}
      then: [{update: {greeting: "{polite}!", log: [greeted]}}]
      else: [{update: {log: [skipped]}}]
"""
    )
    graph = compile_scenario(doc).graph.copy(update={"checkpointer": InMemorySaver()})
    config = {"configurable": {"thread_id": "t"}}
    first = _run(graph, {"name": "Ada"}, config)
    assert first["__interrupt__"][0].value == {"question": "Greet Ada?", "draft": "Dear Ada"}
    assert _run(graph, Command(resume=True), config) == {"name": "Ada", "greeting": "Dear Ada!", "log": ["greeted"]}


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"graph_id": "g", "edges": [["START", "a"]], "nodes": {"a": [{"interupt": 1}]}}, "nodes.a[0]: a step needs exactly one of interrupt, set"),
        ({"graph_id": "g", "edges": [["START", "b"]], "nodes": {"a": [{"update": {}}]}}, "edges[0]: unknown node 'b'"),
        ({"graph_id": "g", "edges": [["a", "END"]], "nodes": {"a": [{"update": {}}]}}, "edges: no edge leaves START"),
        ({"graph_id": "g", "edges": [["START", "a"]], "nodes": {"a": [{"goto": "nowhere"}]}}, "nodes.a: goto 'nowhere' is not a node"),
        ({"graph_id": "g", "edges": [["START", "a"]], "nodes": {"a": [{"update": {}, "goto": "a"}]}}, "a step needs exactly one of"),
        ({"graph_id": "g", "edges": [["START", "a"]], "nodes": {"a": [{"sleep": {"x": 1}}]}}, "nodes.a[0].sleep"),
        ({"graph_id": "g", "nodes": {"a": []}}, "'edges' is a required property"),
        ({"graph_id": "g", "edges": [["START", "a"]], "nodes": {"a": []}, "extra": 1}, "Additional properties"),
    ],
)
def test_bad_scenarios_get_one_line_errors(doc, message):
    with pytest.raises(ScenarioError) as caught:
        compile_scenario(doc, "my.yaml")
    text = str(caught.value)
    assert text.startswith("my.yaml: ") and message in text and "\n" not in text


def test_bad_files(tmp_path: Path):
    (tmp_path / "broken.yaml").write_text("graph_id: [unclosed\n")
    with pytest.raises(ScenarioError, match=r"broken.yaml: not valid YAML"):
        load_scenarios([tmp_path])
    with pytest.raises(ScenarioError, match="no such file or directory"):
        load_scenarios([tmp_path / "missing.yaml"])
    (tmp_path / "langgraph.json").write_text('{"graphs": {"x": "./nope.py:graph"}}')
    with pytest.raises(ScenarioError, match=r"graph 'x': no such file ./nope.py"):
        load_langgraph_json(tmp_path / "langgraph.json")
    (tmp_path / "g.py").write_text("raise RuntimeError('boom at import')\n")
    (tmp_path / "langgraph.json").write_text('{"graphs": {"x": "./g.py:graph"}}')
    with pytest.raises(ScenarioError, match=r"importing \./g\.py failed: RuntimeError: boom at import"):
        load_langgraph_json(tmp_path / "langgraph.json")


def test_bundled_scenarios_and_graphs_serve_the_same_ids():
    root = Path(__file__).resolve().parent.parent / "fixtures"
    scenario_ids = {g.graph_id for g in load_scenarios([root / "scenarios"])}
    graph_ids = {g.graph_id for g in load_langgraph_json(root / "graphs" / "langgraph.json")}
    assert scenario_ids == graph_ids == {"agent", "approve", "chat", "multi", "validate", "nointerrupt"}
