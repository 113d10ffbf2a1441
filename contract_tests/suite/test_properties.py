"""Property-based checks: arbitrary JSON round-trips through interrupt and resume values, and random
sequences of operations checked step by step against a small model of the thread."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest
from hypothesis import example, given, note, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from contract_tests.client import pending as pending_interrupts
from contract_tests.client import pending_ids, surfaces
from contract_tests.plugin import SHARDS, clause
from contract_tests.strategies import BIG_INTEGERS, json_values, resume_values, same_json

# Tried first, in every profile, by shard 0: the values the clause names (nesting, unicode, large numbers, empty
# containers), so that even the quick profile covers them.
EDGE = {"ключ": ["日本語", "emoji 🎉", "", "tab\tquote\"back\\"], "n": -(2**53 - 1), "f": 1.5e-300, "e": {}, "l": [[], {}], "t": True}


@clause("HITL-INT-001")
@pytest.mark.parametrize("shard", SHARDS)
def test_interrupt_values_round_trip(client, needs, hitl_profile, shard):
    needs(graphs=("agent",))

    @seed(shard)
    @settings(max_examples=hitl_profile.share())
    @given(value=json_values())
    def check(value: Any) -> None:
        _interrupt_round_trip(client, value)

    (example(value=EDGE)(check) if shard == 0 else check)()


def _interrupt_round_trip(client: Any, value: Any) -> None:
    """The value comes back on every surface that lists the interrupt: the wait body, the thread, the state. A
    surface that lists none is its own clause's failure (HITL-WAIT-001, HITL-STATE-002, ...), but one must list it."""
    client.reset()
    tid = client.create_thread()
    body = client.wait_json(tid, "agent", input={"some_text": value})
    seen = {"wait": [i["value"] for i in body.get("__interrupt__", [])]}
    seen.update({name: [i["value"] for i in items] for name, items in surfaces(client, tid).items()})
    listing = {name: values for name, values in seen.items() if values}
    assert listing, f"no surface lists the interrupt: {seen!r}"
    for name, values in listing.items():
        assert len(values) == 1 and same_json(values[0], {"text_to_revise": value}), f"{name} lists {values!r}; sent {value!r}"


def _resume_round_trip(client: Any, value: Any) -> None:
    client.reset()
    tid = client.create_thread()
    client.wait_json(tid, "agent", input={"some_text": "x"})
    final = client.wait_json(tid, "agent", command={"resume": value})
    assert same_json(final, {"some_text": value}), f"the run finished with {final!r}; resumed with {value!r}"
    values = client.thread(tid)["values"]
    assert same_json(values, {"some_text": value}), f"the thread holds {values!r}; resumed with {value!r}"


@clause("HITL-RESUME-001")
@pytest.mark.parametrize("shard", SHARDS)
def test_resume_values_round_trip(client, needs, hitl_profile, shard):
    needs(graphs=("agent",))

    @seed(shard)
    @settings(max_examples=hitl_profile.share())
    @given(value=resume_values())
    def check(value: Any) -> None:
        _resume_round_trip(client, value)

    (example(value=EDGE)(check) if shard == 0 else check)()


@clause("HITL-INT-004")
@pytest.mark.parametrize("value", BIG_INTEGERS)
def test_big_integers_round_trip(client, needs, value):
    needs(graphs=("agent",))
    _interrupt_round_trip(client, value)
    _resume_round_trip(client, value)


@dataclass
class Expected:
    """What the model predicts for one thread."""

    graph: str
    status: str = "idle"
    pending: dict[str, Any] = field(default_factory=dict)  # interrupt id -> value
    phase: str = "fresh"


_texts = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=12)


class HitlModel(RuleBasedStateMachine):
    """The model of HITL-MODEL-001: what each thread's pending interrupts and status must be after any sequence."""

    client: ClassVar[Any]  # set by `_machine`
    agent_threads = Bundle("agent_threads")
    multi_threads = Bundle("multi_threads")

    def __init__(self) -> None:
        super().__init__()
        self.model: dict[str, Expected] = {}
        self.client.reset()

    def _pending(self, body: dict[str, Any]) -> dict[str, Any]:
        return {i["id"]: i["value"] for i in body.get("__interrupt__", [])}

    @rule(target=agent_threads, text=_texts)
    def agent_with_input(self, text: str) -> str:
        tid = self.client.create_thread()
        body = self.client.wait_json(tid, "agent", input={"some_text": text})
        assert list(self._pending(body).values()) == [{"text_to_revise": text}], body
        self.model[tid] = Expected("agent", "interrupted", self._pending(body), "asked")
        return tid

    @rule(tid=agent_threads, text=_texts)
    def new_input(self, tid: str, text: str) -> None:
        body = self.client.wait_json(tid, "agent", input={"some_text": text})
        pending = self._pending(body)
        assert list(pending.values()) == [{"text_to_revise": text}]
        assert not set(pending) & set(self.model[tid].pending), "new input reused the abandoned interrupt's id"
        self.model[tid] = Expected("agent", "interrupted", pending, "asked")

    @rule(tid=agent_threads, value=resume_values(), by_id=st.booleans())
    def resume(self, tid: str, value: Any, by_id: bool) -> None:
        expected = self.model[tid]
        resume = {next(iter(expected.pending)): value} if by_id and expected.pending else value
        body = self.client.wait_json(tid, "agent", command={"resume": resume})
        if expected.pending:
            assert same_json(body, {"some_text": value}), body
            self.model[tid] = Expected("agent", "idle", {}, "done")
        else:
            assert "__interrupt__" not in body and "__error__" not in body, body

    @rule(tid=agent_threads)
    def resume_unknown_id(self, tid: str) -> None:
        expected = self.model[tid]
        if not expected.pending:
            return
        body = self.client.wait_json(tid, "agent", command={"resume": {"0" * 32: "nope"}})
        assert set(self._pending(body)) == set(expected.pending), "a wrong id changed the pending interrupt"

    @rule(target=multi_threads)
    def multi_start(self) -> str:
        tid = self.client.create_thread()
        self.client.wait_json(tid, "multi", input={"answers": []})
        # from the state's tasks: the wait body may list fewer (HITL-SURFACE-001 judges that, not the model)
        asked = {i["id"]: i["value"] for i in pending_interrupts(self.client, tid)}
        assert sorted(v["q"] for v in asked.values()) == ["A?", "B?"], asked
        self.model[tid] = Expected("multi", "interrupted", asked, "ab")
        return tid

    @rule(tid=multi_threads, value=_texts)
    def multi_single_value(self, tid: str, value: str) -> None:
        expected = self.model[tid]
        body = self.client.wait(tid, "multi", command={"resume": value}).json()
        if expected.phase == "ab":
            assert "__error__" in body, f"a single value with two pending was accepted: {body}"
            self.model[tid].status = "error"
        elif expected.phase == "b_only":  # one interrupt pending: a single value resumes it
            assert list(self._pending(body).values()) == [{"q": "first?"}], body
            self.model[tid] = Expected("multi", "interrupted", self._pending(body), "first")
        elif expected.phase == "first":
            [(iid, v)] = self._pending(body).items()
            assert v == {"q": "second?", "first": value} and iid not in expected.pending
            self.model[tid] = Expected("multi", "interrupted", {iid: v}, "second")
        elif expected.phase == "second":
            assert "__interrupt__" not in body and len(body["answers"]) == 4, body
            self.model[tid] = Expected("multi", "idle", {}, "done")

    @rule(tid=multi_threads, both=st.booleans(), a=_texts, b=_texts)
    def multi_map(self, tid: str, both: bool, a: str, b: str) -> None:
        expected = self.model[tid]
        if expected.phase not in ("ab", "b_only"):
            return
        by_q = {v["q"]: k for k, v in expected.pending.items()}
        answers = {by_q["B?"]: b} if expected.phase == "b_only" else ({by_q["A?"]: a, by_q["B?"]: b} if both else {by_q["A?"]: a})
        body = self.client.wait_json(tid, "multi", command={"resume": answers})
        pending = self._pending(body)
        if len(answers) == len(expected.pending):
            assert list(pending.values()) == [{"q": "first?"}], body
            self.model[tid] = Expected("multi", "interrupted", pending, "first")
        else:
            assert set(pending) == {by_q["B?"]}, f"the other interrupt did not stay pending: {body}"
            self.model[tid] = Expected("multi", "interrupted", pending, "b_only")

    @invariant()
    def surfaces_agree_with_the_model(self) -> None:
        for tid, expected in self.model.items():
            surfaces = pending_ids(self.client, tid)
            note(f"thread {tid}: model {expected}, surfaces {surfaces}")
            for name, ids in surfaces.items():
                assert ids == sorted(expected.pending), f"{name} lists {ids}; the model expects {sorted(expected.pending)}"
            status = self.client.thread(tid)["status"]
            assert status == expected.status, f"thread status {status!r}; the model expects {expected.status!r}"



def _machine(client: Any) -> type[RuleBasedStateMachine]:
    """The model, bound to this check's client."""
    return type("HitlModelOnServer", (HitlModel,), {"client": client})


@clause("HITL-MODEL-001")
@pytest.mark.parametrize("shard", SHARDS)
def test_random_sequences_follow_the_model(client, needs, hitl_profile, shard):
    needs(graphs=("agent", "multi"))
    machine = seed(shard)(_machine(client))
    run_state_machine_as_test(machine, settings=settings(max_examples=hitl_profile.share(), stateful_step_count=hitl_profile.steps))
