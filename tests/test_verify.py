"""`hitl-contract verify URL --scenario FILE`: a frontend's scenario checked against a deployment's real graph.

The deployment is the mock serving a changed copy of a scenario (written here), then the official server serving
fixtures/graphs and changed copies of its Python graphs. Each change a frontend would suffer from must fail at
the step where it shows; the unchanged graphs must pass."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from contract_tests.cli import app
from contract_tests.matchers import mismatch, problem
from contract_tests.scenario_model import OTHERWISE, ScenarioError, load
from mock_server.testing import MockServer

from .official import official_server

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "fixtures" / "scenarios"
BUNDLED = sorted(p.stem for p in SCENARIOS.glob("*.yaml"))


def _verify(url: str, scenario: Path, *args: str) -> tuple[int, str, dict]:
    out = scenario.parent / f"{scenario.stem}-report.json"
    result = CliRunner().invoke(app, ["verify", url, "--scenario", str(scenario), "--json", str(out), *args], env={"COLUMNS": "200"})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    report = json.loads(out.read_text()) if out.exists() else {}
    return result.exit_code, result.output, report


def _differences(report: dict) -> list[tuple[str, int, str]]:
    return [(c["name"], d["step"], d["what"]) for c in report["conversations"] for d in c["differences"]]


# -- matchers and branches ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("matcher", "expected", "actual", "passes"),
    [
        ("exact", {"a": 1}, {"a": 1}, True),
        ("exact", {"a": 1}, {"a": 2}, False),
        ("shape", {"a": 1, "b": ["x"]}, {"a": 7.5, "b": ["y"]}, True),
        ("shape", {"a": 1}, {"a": 1, "extra": True}, False),
        ("shape", {"a": "text"}, {"a": 1}, False),
        ("any", 1, {"anything": []}, True),
        ({"schema": {"type": "object", "required": ["q"]}}, None, {"q": "?"}, True),
        ({"schema": {"type": "object", "required": ["q"]}}, None, {}, False),
        ({"regex": "^Hello"}, None, "Hello there", True),
        ({"regex": "^Hello"}, None, "Bye", False),
        ({"regex": "^Hello"}, None, 5, False),
    ],
)
def test_matchers(matcher, expected, actual, passes):
    assert (mismatch(matcher, expected, actual) is None) is passes


def test_a_bad_matcher_is_named_where_it_is(tmp_path):
    assert problem("fuzzy") and problem({"regex": "("}) and problem({"schema": {"type": 5}})
    bad = tmp_path / "bad.yaml"
    bad.write_text((SCENARIOS / "agent.yaml").read_text().replace("as: answer", "as: answer\n      compare: fuzzy"))
    with pytest.raises(ScenarioError, match=r"nodes\.human_node\[0\]\.compare: \"fuzzy\" is not a matcher"):
        load(bad)


def test_each_branch_gets_a_resume_that_takes_it():
    approve = load(SCENARIOS / "approve.yaml")
    assert [(b.name.split(":")[0], b.answers) for b in approve.branches] == [
        ("review", ({"action": "approve"},)),
        ("review", ({"action": "edit"},)),
        ("review", (OTHERWISE,)),
    ]
    (until,) = load(SCENARIOS / "validate.yaml").branches
    refused, allowed = until.answers
    assert not (isinstance(refused, int) and refused > 0) and isinstance(allowed, int) and allowed > 0
    chat = load(SCENARIOS / "chat.yaml").branches
    assert [b.answers for b in chat] == [("approve",), (OTHERWISE,)]


# -- against the mock: changed scenarios ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    """A 'deployment' serving the bundled scenarios and three changed copies, as graphs of their own."""
    folder = tmp_path_factory.mktemp("changed")
    approve = (SCENARIOS / "approve.yaml").read_text()
    agent = (SCENARIOS / "agent.yaml").read_text()
    changes = {
        # the interrupt payload gains a key
        "approve_key": approve.replace('action: "{state.action}"}', 'action: "{state.action}", risk: low}'),
        # a branch now expects {decision: ...} instead of {action: ...}
        "approve_shape": approve.replace('value: "{decision.action}", equals: approve', 'value: "{decision.decision}", equals: approve'),
        # the node no longer interrupts
        "agent_silent": agent.replace(
            '    - interrupt: {text_to_revise: "{state.some_text}"}\n      as: answer\n    - update: {some_text: "{answer}"}',
            '    - update: {some_text: "{state.some_text}"}',
        ),
    }
    for name, text in changes.items():
        assert text != (approve if name.startswith("approve") else agent), name
        (folder / f"{name}.yaml").write_text(text.replace("graph_id: approve", f"graph_id: {name}").replace("graph_id: agent", f"graph_id: {name}"))
    with MockServer(scenarios=[SCENARIOS, folder]) as server:
        yield server.url


@pytest.mark.parametrize("name", BUNDLED)
def test_an_unchanged_graph_passes(deployment, name, tmp_path):
    scenario = tmp_path / f"{name}.yaml"
    scenario.write_text((SCENARIOS / f"{name}.yaml").read_text())
    code, out, report = _verify(deployment, scenario)
    assert code == 0, out
    assert report["passed"] and report["conversations"], out
    assert all(r["result"] == "exercised on both sides" or r["result"].startswith("not tracked") for r in report["coverage"]), report["coverage"]


@pytest.mark.parametrize(
    ("scenario", "graph", "first"),
    [
        ("approve", "approve_key", ("approve", 1, "interrupts[0].value")),
        ("approve", "approve_shape", ("approve", 2, "values.result")),
        ("agent", "agent_silent", ("revise", 1, "status")),
    ],
)
def test_a_changed_graph_fails_at_the_step_that_shows_it(deployment, scenario, graph, first, tmp_path):
    path = tmp_path / f"{scenario}.yaml"
    path.write_text((SCENARIOS / f"{scenario}.yaml").read_text())
    code, out, report = _verify(deployment, path, "--assistant", graph, "--junit", str(tmp_path / "j.xml"))
    assert code == 1, out
    assert _differences(report)[0] == first, _differences(report)
    assert f"{first[0]}, step {first[1]}" in out and "curl -sS -X POST" in out
    assert 'failures="' in (tmp_path / "j.xml").read_text() and "<failure" in (tmp_path / "j.xml").read_text()


def test_shape_and_schema_matchers_let_a_changed_value_pass(deployment, tmp_path):
    scenario = tmp_path / "approve.yaml"
    text = (SCENARIOS / "approve.yaml").read_text()
    scenario.write_text(text.replace("      as: decision\n", "      as: decision\n      compare: {schema: {type: object, required: [question, action]}}\n", 1))
    assert _verify(deployment, scenario, "--assistant", "approve_key")[0] == 0
    scenario.write_text(text.replace("      as: decision\n", "      as: decision\n      compare: shape\n", 1))
    code, out, _ = _verify(deployment, scenario, "--assistant", "approve_key")
    assert code == 1 and "has keys +['risk']" in out


def test_bad_input_is_a_clear_usage_error(deployment, tmp_path):
    missing = tmp_path / "missing.yaml"
    assert _verify(deployment, missing)[0] == 2
    broken = tmp_path / "broken.yaml"
    broken.write_text(textwrap.dedent("""\
        graph_id: nosuchgraph
        nodes: {a: [{update: {x: 1}}]}
        edges: [[START, a]]
        """))
    code, out, _ = _verify(deployment, broken)
    assert code == 2 and "no assistant for graph 'nosuchgraph'" in out and "Traceback" not in out
    code, out, _ = _verify("http://127.0.0.1:1", _copy("agent", tmp_path))
    assert code == 2 and "cannot reach" in out


# -- against the official server ------------------------------------------------------------------------------------


def _changed_graphs(folder: Path) -> None:
    """Changed copies of the Python graphs, served beside the originals under graph ids of their own."""
    approve = (folder / "approve.py").read_text()
    agent = (folder / "agent.py").read_text()
    (folder / "approve_key.py").write_text(approve.replace('"action": state["action"]})', '"action": state["action"], "risk": "low"})'))
    (folder / "approve_shape.py").write_text(approve.replace('kind = decision.get("action")', 'kind = decision.get("decision")'))
    (folder / "agent_silent.py").write_text(agent.replace('return {"some_text": interrupt({"text_to_revise": state["some_text"]})}', 'return {"some_text": state["some_text"]}'))
    for name in ("approve_key", "approve_shape", "agent_silent"):
        assert (folder / f"{name}.py").read_text() != (folder / f"{name.split('_')[0]}.py").read_text(), name
    config = json.loads((folder / "langgraph.json").read_text())
    config["graphs"].update({name: f"./{name}.py:graph" for name in ("approve_key", "approve_shape", "agent_silent")})
    (folder / "langgraph.json").write_text(json.dumps(config))


@pytest.mark.official
def test_on_the_official_server_unchanged_graphs_pass_and_changed_ones_fail(tmp_path):
    with official_server(edit=_changed_graphs) as url:
        for name in BUNDLED:
            code, out, report = _verify(url, _copy(name, tmp_path))
            assert code == 0, out
            assert all(r["result"] == "exercised on both sides" or r["result"].startswith("not tracked") for r in report["coverage"]), (name, report["coverage"])
        for scenario, graph, first in (
            ("approve", "approve_key", ("approve", 1, "interrupts[0].value")),
            ("approve", "approve_shape", ("approve", 2, "values.result")),
            ("agent", "agent_silent", ("revise", 1, "status")),
        ):
            code, out, report = _verify(url, _copy(scenario, tmp_path), "--assistant", graph)
            assert code == 1 and _differences(report)[0] == first, (graph, _differences(report), out)


def _copy(name: str, folder: Path) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text((SCENARIOS / f"{name}.yaml").read_text())
    return path


def test_interrupt_ids_must_map_consistently():
    """A pending interrupt keeps its id after the other one is answered; a deployment that renews it differs."""
    from contract_tests.verify import Conversation, Step, compare

    def steps(*ids_per_step: list[str]) -> list[Step]:
        return [Step(f"s{i}", {}, "interrupted", "success", None, [{"node": "n", "id": x, "value": 1} for x in ids]) for i, ids in enumerate(ids_per_step)]

    scenario = load(SCENARIOS / "multi.yaml")
    conversation = Conversation("c", {}, [])
    assert compare(conversation, steps(["a1", "a2"], ["a2"]), steps(["b1", "b2"], ["b2"]), scenario, lambda r: "") == []
    found = compare(conversation, steps(["a1", "a2"], ["a2"]), steps(["b1", "b2"], ["b3"]), scenario, lambda r: "")
    assert [(d.step, d.what, d.expected, d.actual) for d in found] == [(2, "interrupts[0].id", "interrupt #2", "interrupt #3")]


def test_a_response_schema_gets_an_answer_it_allows(tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(textwrap.dedent("""\
        graph_id: s
        nodes:
          ask:
            - interrupt: {q: "pick"}
              as: pick
              response_schema: {type: object, required: [choice], properties: {choice: {enum: [red, blue]}}}
        edges: [[START, ask]]
        """))
    (branch,) = load(scenario).branches
    assert branch.answers[0]["choice"] in ("red", "blue")


@pytest.mark.parametrize(
    ("condition", "value"),
    [
        ({"value": "{d}", "equals": "yes"}, "yes"),
        ({"value": "{d.a.b}", "in": [3, 4]}, {"a": {"b": 3}}),
        ({"value": "{d}", "contains": "ok"}, None),
        ({"value": "{d}", "matches": "^[0-9]{3}$"}, None),
        ({"value": "{d}", "schema": {"type": "integer", "minimum": 18}}, None),
        ({"all": [{"value": "{d.x}", "equals": 1}, {"value": "{d.y}", "equals": 2}]}, {"x": 1, "y": 2}),
        ({"any": [{"value": "{state.k}", "equals": 1}, {"value": "{d}", "equals": 2}]}, 2),
    ],
)
def test_a_branch_value_satisfies_its_test(condition, value):
    import re

    from contract_tests.scenario_model import condition_value

    found = condition_value(condition, "d")
    if value is not None:
        assert found == value
    elif "contains" in condition:
        assert "ok" in found
    elif "matches" in condition:
        assert re.search(condition["matches"], found)
    else:
        assert isinstance(found, int) and found >= 18


def test_conditions_on_the_input_are_listed_as_not_tracked():
    chat = load(SCENARIOS / "chat.yaml")
    assert len(chat.untracked) == 1 and chat.untracked[0].startswith("agent: if ") and "{last_human}" in chat.untracked[0]
    assert load(SCENARIOS / "approve.yaml").untracked == []
