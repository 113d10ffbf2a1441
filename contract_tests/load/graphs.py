"""The journeys on the fixture graphs (`fixtures/graphs/`, which a deployment under test serves): what a reviewer
sends at each step, and what the graph's own code implies it must see and end with."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .journeys import Journey

TO = "bob@example.com"


def agent(j: Journey) -> None:
    """The seed flow: revise a text."""
    text, revised = j.word(), j.word()
    pending = j.step("start", [{"text_to_revise": text}], input={"some_text": text})
    j.think()
    j.step("resume", [], command=j.answer(pending, revised))
    j.finish({"some_text": revised})


def approve(j: Journey) -> None:
    """Approve, edit or reject a proposed tool call."""
    request = j.word()
    action = {"name": "send_email", "args": {"to": TO, "body": request}}
    pending = j.step("start", [{"question": "approve this tool call?", "action": action}], input={"request": request})
    j.think()
    choice = j.rng.choice(["approve", "edit", "reject"])
    if choice == "approve":
        decision: dict[str, Any] = {"action": "approve"}
        result = f"executed {action['name']} with {action['args']}"
    elif choice == "edit":
        decision = {"action": "edit", "args": {"to": "carol@example.com", "body": request.upper()}}
        action = {"name": action["name"], "args": decision["args"]}
        result = f"executed {action['name']} with {action['args']}"
    else:
        decision, result = {"action": "reject"}, "rejected (by human)"
    j.step(f"resume ({choice})", [], command=j.answer(pending, decision))
    j.finish({"request": request, "action": action, "result": result})


INVALID_AGES: list[Any] = ["abc", -3, 0, 2.5, "12"]


def validate(j: Journey) -> None:
    """A validation loop: zero to two invalid ages, each asked again, then a valid one."""
    pending = j.step("start", [{"prompt": "What is your age?"}], input={})
    for _ in range(j.rng.randint(0, 2)):
        j.think()
        bad = j.rng.choice(INVALID_AGES)
        again = {"prompt": f"'{bad}' is not a valid age. Please enter a positive integer."}
        pending = j.step("invalid answer", [again], command=j.answer(pending, bad))
    j.think()
    age = j.rng.randint(1, 120)
    j.step("valid answer", [], command=j.answer(pending, age))
    j.finish({"age": age})


def multi(j: Journey) -> None:
    """Two parallel interrupts answered by id map, then two sequential interrupts in one node."""
    a, b, first, second = (j.word() for _ in range(4))
    pending = j.step("start", [{"q": "A?"}, {"q": "B?"}], input={"answers": []})
    j.think()
    by_id = {i: a if value == {"q": "A?"} else b for i, value in pending.items()}
    pending = j.step("answer both", [{"q": "first?"}], command={"resume": by_id})
    j.think()
    pending = j.step("first", [{"q": "second?", "first": first}], command=j.answer(pending, first))
    j.think()
    j.step("second", [], command=j.answer(pending, second))
    # ask_a and ask_b run in parallel: the order of their two answers is not the contract
    j.finish({"answers": [f"a={a}", f"b={b}", f"first={first}", f"second={second}"]}, normalise=_parallel_first_two)


def _parallel_first_two(values: dict[str, Any]) -> Any:
    answers = values.get("answers")
    if not isinstance(answers, list):
        return values
    return {**values, "answers": sorted(map(str, answers[:2])) + answers[2:]}


JOURNEYS: dict[str, Callable[[Journey], None]] = {"agent": agent, "approve": approve, "validate": validate, "multi": multi}
