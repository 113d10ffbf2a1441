"""Each fixture behaviour driven through its HITL path, on both sources (scenario file and Python graph):
every branch, with all interrupt surfaces agreeing (wait result, thread, state tasks, state, next)."""

from __future__ import annotations

from .helpers import interrupt_ids, new_thread, pending_ids, wait


def test_agent_new_input_abandons_the_pending_interrupt(served):
    with served.http() as http:
        tid = new_thread(http)
        first = wait(http, tid, "agent", input={"some_text": "one"})
        assert pending_ids(http, tid) == interrupt_ids(first)
        second = wait(http, tid, "agent", input={"some_text": "two"})
        assert interrupt_ids(second) != interrupt_ids(first)
        assert pending_ids(http, tid) == interrupt_ids(second)
        assert second["__interrupt__"][0]["value"] == {"text_to_revise": "two"}
        # the abandoned interrupt stays visible only in history
        history = http.post(f"/threads/{tid}/history", json={"limit": 20}).json()
        seen = {i["id"] for h in history for i in h["interrupts"]}
        assert set(interrupt_ids(first)) <= seen


def test_agent_resume_by_id_map_and_wrong_id(served):
    with served.http() as http:
        tid = new_thread(http)
        [iid] = interrupt_ids(wait(http, tid, "agent", input={"some_text": "x"}))
        # a well-formed but unknown id resumes nothing: the node re-interrupts with the same id
        again = wait(http, tid, "agent", command={"resume": {"0" * 32: "nope"}})
        assert interrupt_ids(again) == [iid] and pending_ids(http, tid) == [iid]
        assert wait(http, tid, "agent", command={"resume": {iid: "by id"}}) == {"some_text": "by id"}
        assert pending_ids(http, tid) == []
        # resuming a thread that is not interrupted is a no-op that returns the current values
        assert wait(http, tid, "agent", command={"resume": "late"}) == {"some_text": "by id"}


def _approve(http, branch_value):
    tid = new_thread(http)
    first = wait(http, tid, "approve", input={"request": "hello"})
    action = {"name": "send_email", "args": {"to": "bob@example.com", "body": "hello"}}
    assert first["action"] == action and first["request"] == "hello"
    assert first["__interrupt__"][0]["value"] == {"question": "approve this tool call?", "action": action}
    assert pending_ids(http, tid) == interrupt_ids(first)
    assert http.get(f"/threads/{tid}/state").json()["next"] == ["review"]
    final = wait(http, tid, "approve", command={"resume": branch_value})
    assert pending_ids(http, tid) == [] and http.get(f"/threads/{tid}").json()["status"] == "idle"
    return final


def test_approve_branch_approve(served):
    with served.http() as http:
        final = _approve(http, {"action": "approve"})
        assert final["result"] == "executed send_email with {'to': 'bob@example.com', 'body': 'hello'}"


def test_approve_branch_edit(served):
    with served.http() as http:
        final = _approve(http, {"action": "edit", "args": {"to": "alice@example.com"}})
        assert final["action"] == {"name": "send_email", "args": {"to": "alice@example.com"}}
        assert final["result"] == "executed send_email with {'to': 'alice@example.com'}"


def test_approve_branch_reject(served):
    with served.http() as http:
        assert _approve(http, {"action": "reject"})["result"] == "rejected (by human)"
        assert _approve(http, "not even a dict")["result"] == "rejected (by human)"


def test_multi_parallel_interrupts_single_value_error_then_map(served):
    with served.http() as http:
        tid = new_thread(http)
        first = wait(http, tid, "multi", input={"answers": []})
        values = sorted((i["value"]["q"], i["id"]) for i in first["__interrupt__"])
        assert [q for q, _ in values] == ["A?", "B?"]
        ids = pending_ids(http, tid)
        assert ids == interrupt_ids(first) and len(ids) == 2
        assert sorted(http.get(f"/threads/{tid}/state").json()["next"]) == ["ask_a", "ask_b"]

        # a single value with two pending interrupts is a run error; the interrupts stay resumable
        err = wait(http, tid, "multi", command={"resume": "x"})
        assert err["__error__"]["error"] == "RuntimeError"
        assert "multiple pending interrupts" in err["__error__"]["message"]
        thread = http.get(f"/threads/{tid}").json()
        assert thread["status"] == "error"
        assert sorted(i["id"] for items in thread["interrupts"].values() for i in items) == ids

        by_q = dict(values)
        then = wait(http, tid, "multi", command={"resume": {by_q["A?"]: "alpha", by_q["B?"]: "beta"}})
        assert sorted(then["answers"]) == ["a=alpha", "b=beta"]
        assert [i["value"] for i in then["__interrupt__"]] == [{"q": "first?"}]
        assert pending_ids(http, tid) == interrupt_ids(then)
        second = wait(http, tid, "multi", command={"resume": "one"})
        assert [i["value"] for i in second["__interrupt__"]] == [{"q": "second?", "first": "one"}]
        assert interrupt_ids(second) != interrupt_ids(then)  # a second interrupt() in the node gets a new id
        final = wait(http, tid, "multi", command={"resume": "two"})
        assert sorted(final["answers"]) == ["a=alpha", "b=beta", "first=one", "second=two"]
        assert pending_ids(http, tid) == []


def test_multi_partial_map_leaves_the_other_pending(served):
    with served.http() as http:
        tid = new_thread(http)
        first = wait(http, tid, "multi", input={"answers": []})
        by_q = {i["value"]["q"]: i["id"] for i in first["__interrupt__"]}
        partial = wait(http, tid, "multi", command={"resume": {by_q["A?"]: "alpha"}})
        assert interrupt_ids(partial) == [by_q["B?"]]
        assert pending_ids(http, tid) == [by_q["B?"]]


def test_validate_reinterrupts_until_a_positive_integer(served):
    with served.http() as http:
        tid = new_thread(http)
        first = wait(http, tid, "validate", input={})
        assert first == {"__interrupt__": [{"value": {"prompt": "What is your age?"}, "id": first["__interrupt__"][0]["id"], "response_schema": None}]}
        seen = set(interrupt_ids(first))
        for bad, shown in [("abc", "abc"), (-5, "-5"), (0, "0"), (True, "True")]:
            again = wait(http, tid, "validate", command={"resume": bad})
            assert [i["value"] for i in again["__interrupt__"]] == [{"prompt": f"'{shown}' is not a valid age. Please enter a positive integer."}]
            [new_id] = interrupt_ids(again)
            assert new_id not in seen  # every re-interrupt has a new id
            seen.add(new_id)
            assert pending_ids(http, tid) == [new_id]
        assert wait(http, tid, "validate", command={"resume": 42}) == {"age": 42}
        # the re-interrupts create no checkpoints of their own: input, the interrupted step, the end
        history = http.post(f"/threads/{tid}/history", json={}).json()
        assert [h["metadata"]["step"] for h in history] == [1, 0, -1]
        assert history[1]["tasks"][0]["result"] == {"age": 42}


def test_nointerrupt_control(served):
    with served.http() as http:
        tid = new_thread(http)
        final = wait(http, tid, "nointerrupt", input={})
        assert final["steps"] == ["step1", "step2"]
        [message] = final["messages"]
        assert message["id"] == "msg-step1" and message["type"] == "ai" and message["content"] == "hello from step1"
        assert pending_ids(http, tid) == [] and http.get(f"/threads/{tid}").json()["status"] == "idle"
