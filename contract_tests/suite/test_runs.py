"""Multitask strategies, cancel, static breakpoints, stateless runs, history."""

from __future__ import annotations

import pytest

from contract_tests.capabilities import require_field, require_route
from contract_tests.client import pending, state_surfaces
from contract_tests.plugin import clause

SLOW = {"sleep": 1.5}  # long enough for a second request to find the thread busy


def _busy_thread(client, needs):
    needs(graphs=("nointerrupt",))
    tid = client.create_thread()
    run = client.request("POST", f"/threads/{tid}/runs", {"assistant_id": "nointerrupt", "input": SLOW}).json()
    client.wait_until(lambda: client.run(tid, run["run_id"])["status"] == "running", timeout=30, interval=0.05)
    return tid, run["run_id"]


@clause("HITL-MT-001")
def test_reject_on_a_busy_thread(client, needs):
    tid, _ = _busy_thread(client, needs)
    reply = client.wait(tid, "nointerrupt", input={}, multitask_strategy="reject")
    assert reply.status == 409, f"reject on a busy thread answered {reply.status}"
    assert isinstance(reply.json().get("detail"), str)


@clause("HITL-MT-002")
def test_enqueue_by_default(client, needs):
    tid, first = _busy_thread(client, needs)
    second = client.wait_json(tid, "nointerrupt", input={"sleep": 0})
    assert second.get("steps") == ["step1", "step2", "step1", "step2"], second
    assert client.run(tid, first)["status"] == "success"


@clause("HITL-MT-003")
def test_interrupt_strategy(client, needs):
    tid, first = _busy_thread(client, needs)
    client.wait_json(tid, "nointerrupt", input={"sleep": 0}, multitask_strategy="interrupt")
    assert client.run(tid, first)["status"] == "interrupted"


@clause("HITL-MT-004")
def test_rollback_strategy(client, needs):
    tid, first = _busy_thread(client, needs)
    client.wait_json(tid, "nointerrupt", input={"sleep": 0}, multitask_strategy="rollback")
    assert client.request("GET", f"/threads/{tid}/runs/{first}").status == 404, "the rolled-back run is still there"


@clause("HITL-CANCEL-001")
def test_cancel(client, needs):
    tid, run_id = _busy_thread(client, needs)
    reply = client.request("POST", f"/threads/{tid}/runs/{run_id}/cancel")
    assert reply.status == 202, reply.status
    client.wait_until(lambda: client.run(tid, run_id)["status"] == "interrupted", timeout=10)


def _paused(client, tid, **breakpoint):
    reply = client.wait(tid, "nointerrupt", input={}, **breakpoint)
    require_field(reply, next(iter(breakpoint)))
    assert reply.status == 200, f"runs/wait answered {reply.status}: {reply.text[:300]}"
    return reply.json()


@clause("HITL-BP-001")
def test_interrupt_before(client, needs):
    needs(graphs=("nointerrupt",))
    tid = client.create_thread()
    paused = _paused(client, tid, interrupt_before=["step2"])
    assert paused.get("steps") == ["step1"], f"interrupt_before was ignored: {paused}"
    assert client.thread(tid)["status"] == "interrupted" and client.state(tid)["next"] == ["step2"]


@clause("HITL-BP-003")
def test_continue_from_a_breakpoint(client, needs):
    needs(graphs=("nointerrupt",))
    tid = client.create_thread()
    _paused(client, tid, interrupt_before=["step2"])
    if client.state(tid)["next"] != ["step2"]:
        pytest.skip("no breakpoint to continue from: interrupt_before did not pause the run (see HITL-BP-001)")
    assert client.wait_json(tid, "nointerrupt", input=None).get("steps") == ["step1", "step2"]


@clause("HITL-BP-002")
def test_interrupt_after(client, needs):
    needs(graphs=("nointerrupt",))
    tid = client.create_thread()
    paused = _paused(client, tid, interrupt_after=["step1"])
    assert paused.get("steps") == ["step1"], f"interrupt_after was ignored: {paused}"
    assert client.state(tid)["next"] == ["step2"]


@clause("HITL-STATELESS-001")
def test_stateless_wait(client, needs):
    needs(graphs=("agent",))
    reply = client.wait(None, "agent", input={"some_text": "sl"})
    require_route(reply, "POST /runs/wait")
    assert reply.status == 200, f"a stateless wait answered {reply.status}: {reply.text[:300]}"
    body = reply.json()
    assert [i["value"] for i in body.get("__interrupt__", [])] == [{"text_to_revise": "sl"}], body


@clause("HITL-STATELESS-002")
def test_stateless_resume(client, needs):
    needs(graphs=("agent",))
    require_route(client.wait(None, "agent", input={"some_text": "probe"}), "POST /runs/wait")
    reply = client.wait(None, "agent", command={"resume": "x"})
    assert reply.status == 400, f"a stateless resume answered {reply.status}"


def _history(client, tid):
    reply = client.request("POST", f"/threads/{tid}/history", {"limit": 20})
    require_route(reply, "POST /threads/{thread_id}/history")
    assert reply.status == 200, f"POST history answered {reply.status}: {reply.text[:300]}"
    return reply.json()


@clause("HITL-HIST-001")
def test_history_lists_checkpoints_newest_first(client, needs):
    needs(graphs=("agent",))
    tid = client.create_thread()
    client.wait_json(tid, "agent", input={"some_text": "h"})
    [iid] = [i["id"] for i in pending(client, tid)] or ["(none pending)"]
    history = _history(client, tid)
    assert history and history[0]["next"] == ["human_node"], [h["next"] for h in history]
    listed = {name: [i["id"] for i in items] for name, items in state_surfaces(history[0], "history[0]").items()}
    assert all(ids == [iid] for ids in listed.values()), f"the interrupted checkpoint lists {listed}; pending is {iid}"
    steps = [h["metadata"]["step"] for h in history]
    assert len(steps) >= 2 and steps == sorted(steps, reverse=True), f"not newest first: steps {steps}"


@clause("HITL-HIST-002")
def test_history_records_the_resume(client, needs):
    needs(graphs=("agent",))
    tid = client.create_thread()
    client.wait_json(tid, "agent", input={"some_text": "h"})
    client.wait_json(tid, "agent", command={"resume": "resumed"})
    after = _history(client, tid)
    assert after[0]["next"] == [] and after[0]["values"] == {"some_text": "resumed"}, after[0]
    interrupted = [h for h in after if h["next"] == ["human_node"]]
    assert interrupted, "history has no interrupted checkpoint"
    assert interrupted[0]["tasks"][0]["result"] == {"some_text": "resumed"}, interrupted[0]["tasks"][0]
