"""`hitl-contract verify URL --scenario FILE`: does a deployment's graph still do what the frontend's scenario says?

The same conversations run on the scenario (served by the mock) and on the deployment's assistant. After the
input and after each resume, verify reads what a frontend can see and compares it, the scenario's side as the
expectation:
- the thread's status, and the run's error (its type; the message is free text);
- the pending interrupts: how many, in order, and each value (with its step's matcher, `exact` by default);
- the state values, key by key (with the channel's matcher), and in `messages` each message's type, its tool
  calls' names and its content (with `compare_messages`, `any` by default: real models word things their way).

Conversations come from the scenario's `examples:` and from its branches (scenario_model.py): each example, and
each branch answered at the point of an example where its interrupt is pending.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

from .diff import curl
from .matchers import mismatch
from .scenario_model import Branch, Scenario


@dataclass
class Conversation:
    name: str
    input: Any
    resumes: list[Any]
    branch: Branch | None = None  # the branch it was made for, answered at resume `at`
    at: int = 0


@dataclass
class Step:
    """What a frontend sees after one request of a conversation."""

    label: str
    request: dict[str, Any]
    status: str | None = None
    run_status: str | None = None
    error: str | None = None
    interrupts: list[dict[str, Any]] = field(default_factory=list)  # {node, value}
    values: Any = None


@dataclass
class Difference:
    conversation: str
    step: int
    label: str
    what: str  # "status", "error", "interrupts", "interrupts[0].value", "values.result", ...
    expected: Any
    actual: Any
    why: str
    curl: str = ""


@dataclass
class Outcome:
    conversation: Conversation
    expected: list[Step]
    actual: list[Step]
    differences: list[Difference]

    @property
    def passed(self) -> bool:
        return not self.differences


class Driver:
    """Runs conversations on one server: a thread per conversation, `runs/wait` for the input and each resume."""

    def __init__(self, url: str, assistant: str, headers: dict[str, str] | None = None) -> None:
        self.url = url.rstrip("/")
        self.assistant = assistant
        self.headers = headers or {}
        self.http = httpx.Client(base_url=self.url, timeout=120, headers=self.headers)

    def close(self) -> None:
        self.http.close()

    def run(self, conversation: Conversation) -> list[Step]:
        tid = str(self.http.post("/threads", json={}).raise_for_status().json()["thread_id"])
        steps = [self._wait(tid, "input", {"input": conversation.input})]
        for i, answer in enumerate(conversation.resumes):
            pending = steps[-1].interrupts
            if not pending:
                break  # nothing to answer: the step before shows it, and the other side's next step is the difference
            ids = [p["id"] for p in pending]
            resume = dict(zip(ids, answer, strict=False)) if len(ids) > 1 and isinstance(answer, list) else answer
            steps.append(self._wait(tid, f"resume {i + 1}", {"command": {"resume": resume}}))
        return steps

    def _wait(self, tid: str, label: str, body: dict[str, Any]) -> Step:
        path = f"/threads/{tid}/runs/wait"
        request = {"method": "POST", "path": path, "body": {"assistant_id": self.assistant, **body}}
        answer = self.http.post(path, json=request["body"])
        step = Step(label, request)
        data = answer.json() if answer.content.strip() else None
        if answer.status_code >= 400:
            step.error = f"HTTP {answer.status_code}"
        elif isinstance(data, dict) and isinstance(data.get("__error__"), dict):
            step.error = str(data["__error__"].get("error"))
        state = self.http.get(f"/threads/{tid}/state").json()
        step.status = self.http.get(f"/threads/{tid}").json().get("status")
        runs = self.http.get(f"/threads/{tid}/runs", params={"limit": 1}).json()
        step.run_status = runs[0].get("status") if isinstance(runs, list) and runs else None
        step.values = state.get("values")
        step.interrupts = [
            {"node": task.get("name"), "id": i.get("id"), "value": i.get("value")}
            for task in state.get("tasks") or []
            for i in task.get("interrupts") or []
        ]
        return step

    def curl(self, request: dict[str, Any]) -> str:
        """A shell line that repeats `request` on this server, with its headers (diff.py's `curl`)."""
        return curl(self.url, {**request, "headers": self.headers})


def conversations(scenario: Scenario, mock: Driver) -> list[Conversation]:
    """The examples (one with input {} when there are none), then a conversation per branch, made at the first
    point of an example where that branch's interrupt is pending on the scenario's side."""
    examples = [
        Conversation(str(e.get("name") or f"example {i + 1}"), e.get("input", {}), list(e.get("resume") or []))
        for i, e in enumerate(scenario.examples)
    ] or [Conversation("input {}", {}, [])]
    made: list[Conversation] = []
    wanted = {b.name: b for b in scenario.branches}
    for example in examples:
        seen: dict[str, int] = {}
        steps = mock.run(example)
        for at, step in enumerate(steps):
            if len(step.interrupts) != 1:
                continue
            node = step.interrupts[0]["node"]
            k = seen.get(node, 0)
            seen[node] = k + 1
            interrupt = scenario.interrupt_step(node, k)
            for branch in interrupt.branches if interrupt else []:
                if branch.name in wanted:
                    del wanted[branch.name]
                    made.append(Conversation(f"{branch.name} (after {example.name}, resume {at + 1})", example.input, example.resumes[:at] + list(branch.answers), branch, at))
    return examples + made



def compare(conversation: Conversation, expected: list[Step], actual: list[Step], scenario: Scenario, curl: Callable[[dict[str, Any]], str]) -> list[Difference]:
    out: list[Difference] = []
    seen: dict[str, int] = {}  # interrupts seen per node so far: which of the node's interrupt steps is pending
    names: tuple[dict[str, str], dict[str, str]] = ({}, {})  # interrupt id -> its name by first sight, per side
    for i in range(max(len(expected), len(actual))):
        exp = expected[i] if i < len(expected) else None
        act = actual[i] if i < len(actual) else None
        label = exp.label if exp is not None else act.label if act is not None else "?"
        reproduce = curl(act.request) if act is not None else ""
        for what, e, a, why in _step(exp, act, scenario, seen) + _ids(exp, act, names):
            out.append(Difference(conversation.name, i + 1, label, what, e, a, why, reproduce))
    return out


def _ids(exp: Step | None, act: Step | None, names: tuple[dict[str, str], dict[str, str]]) -> list[tuple[str, Any, Any, str]]:
    """Interrupt ids, mapped consistently: each side names its ids in the order it shows them, and the names must
    agree (a pending interrupt keeps its id after another is answered; a new one gets a new id)."""
    if exp is None or act is None or len(exp.interrupts) != len(act.interrupts):
        return []
    out = []
    for j, (e, a) in enumerate(zip(exp.interrupts, act.interrupts, strict=True)):
        ne = names[0].setdefault(str(e.get("id")), f"interrupt #{len(names[0]) + 1}")
        na = names[1].setdefault(str(a.get("id")), f"interrupt #{len(names[1]) + 1}")
        if ne != na:
            out.append((f"interrupts[{j}].id", ne, na, "the ids map differently (each named by when it was first shown)"))
    return out


def _step(exp: Step | None, act: Step | None, scenario: Scenario, seen: dict[str, int]) -> list[tuple[str, Any, Any, str]]:
    if exp is None:
        return [("step", None, act.label if act else None, "the deployment made a request the scenario did not need")]
    if act is None:
        return [("step", exp.label, None, "the deployment stopped interrupting, so this resume was never sent")]
    out = [(what, getattr(exp, what), getattr(act, what), "differs") for what in ("status", "run_status", "error") if getattr(exp, what) != getattr(act, what)]
    if len(exp.interrupts) != len(act.interrupts):
        out.append(("interrupts", [x["value"] for x in exp.interrupts], [x["value"] for x in act.interrupts], f"{len(act.interrupts)} pending, expected {len(exp.interrupts)}"))
    else:
        for j, (e, a) in enumerate(zip(exp.interrupts, act.interrupts, strict=True)):
            k = seen.get(e["node"], 0)
            seen[e["node"]] = k + 1
            step = scenario.interrupt_step(e["node"], k)
            why = mismatch(step.compare if step else "exact", e["value"], a["value"])
            if why:
                out.append((f"interrupts[{j}].value", e["value"], a["value"], why))
    return out + _values(exp.values, act.values, scenario)


def _values(expected: Any, actual: Any, scenario: Scenario) -> list[tuple[str, Any, Any, str]]:
    if not isinstance(expected, dict) or not isinstance(actual, dict):
        return [] if expected == actual else [("values", expected, actual, "differs")]
    out = []
    for key in sorted(set(expected) | set(actual)):
        if key not in actual or key not in expected:
            out.append((f"values.{key}", expected.get(key, "<absent>"), actual.get(key, "<absent>"), "only on one side"))
            continue
        e, a = expected[key], actual[key]
        if _messages(e) and _messages(a):
            out += [(f"values.{key}{w}", x, y, why) for w, x, y, why in _message_diffs(e, a, scenario.message_compare)]
            continue
        why = mismatch(scenario.state_compare.get(key, "exact"), e, a)
        if why:
            out.append((f"values.{key}", e, a, why))
    return out


def _messages(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(m, dict) and "type" in m and "content" in m for m in value)


def _structure(message: dict[str, Any]) -> tuple[str, list[str]]:
    return message["type"], [c.get("name") for c in message.get("tool_calls") or []]


def _message_diffs(expected: list[dict[str, Any]], actual: list[dict[str, Any]], matcher: Any) -> list[tuple[str, Any, Any, str]]:
    shapes_e, shapes_a = [_structure(m) for m in expected], [_structure(m) for m in actual]
    if shapes_e != shapes_a:
        return [("", shapes_e, shapes_a, "the messages' types or tool calls differ")]
    out = []
    for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
        why = mismatch(matcher if e["type"] == "ai" else "exact", e["content"], a["content"])
        if why:
            out.append((f"[{i}].content", e["content"], a["content"], why))
    return out


@dataclass
class VerifyReport:
    scenario: str
    url: str
    assistant: str
    outcomes: list[Outcome]
    branches: list[Branch]
    not_generated: list[str]
    untracked: list[str] = field(default_factory=list)

    @property
    def differences(self) -> list[Difference]:
        return [d for o in self.outcomes for d in o.differences]

    def coverage(self) -> list[tuple[str, str]]:
        """Each branch and what became of it: exercised on both sides, differs, or not reached."""
        rows = []
        for branch in self.branches:
            outcome = next((o for o in self.outcomes if o.conversation.branch == branch), None)
            if outcome is None:
                rows.append((branch.name, "not reached: no example pends this interrupt"))
            elif _answered(outcome, branch):
                rows.append((branch.name, "exercised on both sides" if outcome.passed else "exercised; the sides differ"))
            else:
                rows.append((branch.name, "not reached on the deployment"))
        rows += [(name, "not generated: no value is built for this test") for name in self.not_generated]
        return rows + [(name, "not tracked: it tests the input or the state, not an answer (examples may take it)") for name in self.untracked]

    def to_json(self) -> str:
        return json.dumps(
            {
                "scenario": self.scenario,
                "url": self.url,
                "assistant": self.assistant,
                "passed": not self.differences,
                "conversations": [
                    {"name": o.conversation.name, "input": o.conversation.input, "resumes": o.conversation.resumes, "passed": o.passed, "differences": [asdict(d) for d in o.differences]}
                    for o in self.outcomes
                ],
                "coverage": [{"branch": b, "result": r} for b, r in self.coverage()],
            },
            indent=2,
            default=str,
        )


def _answered(outcome: Outcome, branch: Branch) -> bool:
    """The deployment got as far as the branch's answers (the request answering it was sent on both sides)."""
    last = outcome.conversation.at + len(branch.answers)  # the step after the last answer (step 0 is the input)
    return len(outcome.expected) > last and len(outcome.actual) > last
