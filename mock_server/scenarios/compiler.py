"""A scenario document, validated against `scenario.schema.json` and compiled into a real LangGraph
`StateGraph`: one node per scenario node (its steps), the scenario's edges, and its state fields with reducers."""

from __future__ import annotations

import functools
import json
import operator
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any, TypedDict

import jsonschema
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages

from ..faults import parse_faults
from ..patterns import PatternError, compile_pattern
from .base import Graph, LoadedGraph, ScenarioError
from .replay import compile_recorded
from .steps import STEP_KINDS, gotos, make_node

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "scenario.schema.json"


_TYPES: dict[str, Any] = {"string": str, "integer": int, "number": float, "boolean": bool, "object": dict, "array": list, "any": Any}
_REDUCERS: dict[str, Callable[[Any, Any], Any]] = {
    "append": operator.add,
    "messages": add_messages,
    "merge": lambda left, right: {**(left or {}), **(right or {})},
}


@functools.cache
def _schema_validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def _where(path: Iterable[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _check_steps(steps: Any, where: str) -> None:
    """Name an unknown or ambiguous step plainly (the schema's oneOf alone would say 'not valid under any')."""
    if not isinstance(steps, list):
        return
    for i, step in enumerate(steps):
        if not isinstance(step, dict):
            raise ScenarioError(f"{where}[{i}]: a step must be a mapping such as {{update: {{...}}}}")
        kinds = [k for k in STEP_KINDS if k in step]
        if len(kinds) != 1:
            keys = ", ".join(map(str, step)) or "nothing"
            raise ScenarioError(f"{where}[{i}]: a step needs exactly one of {', '.join(STEP_KINDS)}; it has {keys}")
        _check_steps(step.get("then"), f"{where}[{i}].then")
        _check_steps(step.get("else"), f"{where}[{i}].else")


def _check_patterns(node: Any, path: tuple[Any, ...] = ()) -> None:
    """Every `matches:` pattern compiles on RE2 (see mock_server/patterns.py), said at load time, not mid-run."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        if key == "matches" and isinstance(value, str):
            try:
                compile_pattern(value)
            except PatternError as exc:
                raise ScenarioError(f"{_where([*path, key])}: {exc}") from None
        _check_patterns(value, (*path, key))


def compile_scenario(doc: Any, source: str = "<scenario>") -> LoadedGraph:
    """Validate a scenario document and compile it into a LangGraph graph. Raises `ScenarioError`."""
    try:
        if isinstance(doc, dict) and isinstance(doc.get("nodes"), dict):
            for name, steps in doc["nodes"].items():
                _check_steps(steps, f"nodes.{name}")
        error = jsonschema.exceptions.best_match(_schema_validator().iter_errors(doc))
        if error is not None:
            raise ScenarioError(f"{_where(error.absolute_path)}: {error.message}")
        _check_patterns(doc)
        if "recorded" in doc:
            return LoadedGraph(doc["graph_id"], compile_recorded(doc), source, doc.get("description"), [])
        nodes: dict[str, list[dict[str, Any]]] = doc["nodes"]
        known = set(nodes) | {"START", "END"}
        for i, (sources, target) in enumerate(doc["edges"]):
            for name in [*(sources if isinstance(sources, list) else [sources]), target]:
                if name not in known:
                    raise ScenarioError(f"edges[{i}]: unknown node {name!r} (nodes: {', '.join(nodes)}, START, END)")
        for name, steps in nodes.items():
            for target in gotos(steps):
                if target not in nodes and target != "END":
                    raise ScenarioError(f"nodes.{name}: goto {target!r} is not a node")
        if not any(s in ("START", ["START"]) for s, _ in doc["edges"]):
            raise ScenarioError("edges: no edge leaves START")
        try:
            faults = parse_faults(doc.get("faults") or [], graph=doc["graph_id"])
        except ValueError as exc:
            raise ScenarioError(str(exc)) from None
        return LoadedGraph(doc["graph_id"], _build(doc), source, doc.get("description"), faults)
    except ScenarioError as exc:
        raise ScenarioError(f"{source}: {exc}") from None


def _build(doc: dict[str, Any]) -> Graph:
    fields: dict[str, Any] = {}
    for key, spec in (doc.get("state") or {}).items():
        spec = {"type": spec} if not isinstance(spec, dict) else spec
        annotation = _TYPES[spec.get("type") or "any"] if spec.get("type") else Any
        if spec.get("reducer"):
            container = dict if spec["reducer"] == "merge" else list
            annotation = Annotated[container, _REDUCERS[spec["reducer"]]]
        fields[key] = annotation
    state = TypedDict(f"{doc['graph_id']}_state", fields, total=False)  # type: ignore[misc]  # a state schema built at run time
    builder = StateGraph(state)
    for name, steps in doc["nodes"].items():
        targets = tuple(dict.fromkeys(END if t == "END" else t for t in gotos(steps)))
        builder.add_node(name, make_node(name, steps, doc.get("pacing") or {}), destinations=targets or None)
    for sources, target in doc["edges"]:
        start = [_node(s) for s in sources] if isinstance(sources, list) else _node(sources)
        builder.add_edge(start, _node(target))
    return builder.compile()


def _node(name: str) -> str:
    """A node name of a scenario's edges, with `START` and `END` as LangGraph spells them."""
    return {"START": START, "END": END}.get(name, name)
