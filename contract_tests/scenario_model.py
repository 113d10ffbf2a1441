"""What `hitl-contract verify` reads from a scenario file: its examples, its interrupts with their matchers, and
the branches that follow each interrupt, each with a resume value that takes it.

The file is read as data (the suite never imports the mock, which compiles the same file into a graph). A
branch is an `if` that comes after an interrupt step, in the same node's steps, and tests the value the
interrupt's `as:` name holds: `{value: "{decision.action}", equals: approve}`. Its resume value is built from
the test: `equals` gives the value, `in` its first item, `contains` a list or text containing it, `exists` a
string, and `matches` and `schema` the simplest value Hypothesis finds that passes. Every node with such
branches also gets `otherwise`, a value none of them wants. An `until:` schema gives one conversation that
answers first with a value the schema refuses, then with one it allows; a `response_schema` one that answers
with a value it allows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml
from hypothesis import find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from .matchers import problem
from .strategies import json_values

_SETTINGS = settings(database=None, max_examples=300, deadline=None)
_VAR = re.compile(r"^\{([A-Za-z_][\w]*)((?:\.[\w-]+)*)\}$")
OTHERWISE = {"hitl_verify": "an answer none of the branches expects"}
REFUSED_CANDIDATES: tuple[Any, ...] = ("not a valid answer", -1, 0, {}, None, [], True)


class ScenarioError(ValueError):
    """A scenario file verify cannot use; the message names the place."""


@dataclass(frozen=True)
class Branch:
    node: str
    interrupt: int  # which interrupt step of the node (0: its first)
    name: str
    answers: tuple[Any, ...]  # the resume values that take it (two for an `until`: refused, then allowed)


@dataclass
class InterruptStep:
    node: str
    index: int
    name: str | None  # its `as:`
    compare: Any = "exact"
    branches: list[Branch] = field(default_factory=list)
    not_generated: list[str] = field(default_factory=list)  # branches whose test no value can be built for


@dataclass
class Scenario:
    path: Path
    graph_id: str
    examples: list[dict[str, Any]]
    interrupts: dict[str, list[InterruptStep]]
    state_compare: dict[str, Any]
    message_compare: Any
    untracked: list[str] = field(default_factory=list)  # `if`s on the input or state, not on an answer

    def interrupt_step(self, node: str, k: int) -> InterruptStep | None:
        steps = self.interrupts.get(node) or []
        return steps[min(k, len(steps) - 1)] if steps else None

    @property
    def branches(self) -> list[Branch]:
        return [b for steps in self.interrupts.values() for s in steps for b in s.branches]


def load(path: Path) -> Scenario:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ScenarioError(f"{path}: cannot read it: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("graph_id"), str) or not isinstance(doc.get("nodes", doc.get("recorded")), dict):
        raise ScenarioError(f"{path}: not a scenario (it needs graph_id and nodes, or a recording)")
    examples = doc.get("examples") or []
    if not isinstance(examples, list) or not all(isinstance(e, dict) for e in examples):
        raise ScenarioError(f"{path}: examples: a list of {{name, input, resume}}")
    for i, example in enumerate(examples):
        if not isinstance(example.get("resume", []), list):
            raise ScenarioError(f"{path}: examples[{i}].resume: a list of resume values, in order")
    state_compare = {}
    for key, channel in (doc.get("state") or {}).items():
        if isinstance(channel, dict) and "compare" in channel:
            _check(path, f"state.{key}.compare", channel["compare"])
            state_compare[key] = channel["compare"]
    message_compare = doc.get("compare_messages", "any")
    _check(path, "compare_messages", message_compare)
    untracked: list[str] = []
    steps_by_node = doc.get("nodes") or {}  # a recording (`recorded:`) has executions, not steps: its examples are what verify runs
    interrupts = {node: _interrupts(path, node, steps or [], untracked) for node, steps in steps_by_node.items()}
    if doc.get("verify_branches") is False:  # the examples only (a recorded scenario's branches are its own)
        for steps in interrupts.values():
            for step in steps:
                step.branches, step.not_generated = [], []
        untracked = []
    return Scenario(path, doc["graph_id"], examples, interrupts, state_compare, message_compare, untracked)


def _check(path: Path, where: str, matcher: Any) -> None:
    why = problem(matcher)
    if why:
        raise ScenarioError(f"{path}: {where}: {why}")


def _interrupts(path: Path, node: str, steps: list[dict[str, Any]], untracked: list[str]) -> list[InterruptStep]:
    found: list[InterruptStep] = []
    for i, step in enumerate(steps):
        if not isinstance(step, dict):
            continue
        if "interrupt" in step:
            current = InterruptStep(node, len(found), step.get("as"), step.get("compare", "exact"))
            _check(path, f"nodes.{node}[{i}].compare", current.compare)
            if "until" in step:
                refused = next((v for v in REFUSED_CANDIDATES if not _valid(step["until"], v)), None)
                allowed = schema_value(step["until"])
                if allowed is None:
                    current.not_generated.append(f"{node}: until")
                else:
                    current.branches.append(Branch(node, current.index, f"{node}: refused by until, then allowed", (refused, allowed)))
            if "response_schema" in step and "until" not in step:
                allowed = schema_value(step["response_schema"])
                if allowed is None:
                    current.not_generated.append(f"{node}: response_schema")
                else:
                    current.branches.append(Branch(node, current.index, f"{node}: an answer response_schema allows", (allowed,)))
            found.append(current)
        elif "if" in step:
            label = f"{node}: if {_describe(step['if'])}"
            asked = found[-1] if found and found[-1].name else None
            if asked is None or "{" + str(asked.name) not in str(step["if"]):
                untracked.append(label)
                continue
            current = asked
            value = condition_value(step["if"], str(current.name))
            if value is _NONE:
                current.not_generated.append(label)
            else:
                current.branches.append(Branch(node, current.index, label, (value,)))
    for current in found:
        if any(": if " in b.name for b in current.branches):
            current.branches.append(Branch(node, current.index, f"{node}: otherwise", (OTHERWISE,)))
    return found


_NONE = object()


def condition_value(cond: Any, var: str) -> Any:
    """A value for `var` that makes `cond` true, or _NONE when the condition is not about `var` or no value is
    built for its test."""
    if not isinstance(cond, dict):
        return _NONE
    if "any" in cond:
        return next((v for v in (condition_value(c, var) for c in cond["any"]) if v is not _NONE), _NONE)
    if "all" in cond:
        parts = [condition_value(c, var) for c in cond["all"]]
        return _merge(parts) if parts and all(p is not _NONE for p in parts) else _NONE
    match = _VAR.match(str(cond.get("value", "")))
    if not match or match.group(1) != var:
        return _NONE
    leaf = _test_value(cond)
    if leaf is _NONE:
        return _NONE
    for key in reversed([k for k in match.group(2).split(".") if k]):
        leaf = {key: leaf}
    return leaf


def _test_value(cond: dict[str, Any]) -> Any:
    if "equals" in cond:
        return cond["equals"]
    if "in" in cond and isinstance(cond["in"], list) and cond["in"]:
        return cond["in"][0]
    if "contains" in cond:
        return [cond["contains"]] if not isinstance(cond["contains"], str) else f"… {cond['contains']} …"
    if cond.get("exists") is True:
        return "present"
    if "matches" in cond and isinstance(cond["matches"], str):
        return _find(st.from_regex(cond["matches"]), lambda s: re.search(cond["matches"], s) is not None)
    if "schema" in cond:
        value = schema_value(cond["schema"])
        return _NONE if value is None else value
    return _NONE


def schema_value(schema: Any) -> Any:
    """The simplest value Hypothesis finds that `schema` allows (None when it finds none)."""
    strategy = _typed(schema) if isinstance(schema, dict) else json_values()
    found = _find(strategy | json_values(), lambda v: _valid(schema, v))
    return None if found is _NONE else found


def _typed(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    if "const" in schema:
        return st.just(schema["const"])
    if schema.get("enum"):
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "integer":
        low = schema.get("minimum", schema["exclusiveMinimum"] + 1 if "exclusiveMinimum" in schema else None)
        return st.integers(min_value=low, max_value=schema.get("maximum"))
    if kind == "string" and "pattern" in schema:
        return st.from_regex(schema["pattern"])
    if kind == "object":
        props = schema.get("properties") or {}
        return st.fixed_dictionaries({k: _typed(props.get(k) or {}) for k in schema.get("required", [])})
    return json_values()


def _valid(schema: Any, value: Any) -> bool:
    try:
        return bool(jsonschema_rs.validator_for(schema).is_valid(value))
    except Exception:  # a schema jsonschema-rs refuses: nothing is valid
        return False


def _find(strategy: st.SearchStrategy[Any], condition: Any) -> Any:
    try:
        return find(strategy, condition, settings=_SETTINGS)
    except NoSuchExample:
        return _NONE


def _merge(parts: list[Any]) -> Any:
    if all(isinstance(p, dict) for p in parts):
        merged: dict[str, Any] = {}
        for part in parts:
            for key, value in part.items():
                merged[key] = _merge([merged[key], value]) if key in merged else value
        return merged
    return parts[0]


def _describe(cond: Any) -> str:
    text = yaml.safe_dump(cond, default_flow_style=True, width=10_000).strip()
    return text if len(text) <= 80 else text[:79] + "…"
