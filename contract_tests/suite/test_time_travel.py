"""Time travel: the state at a past checkpoint, and runs forked from one."""

from __future__ import annotations

from contract_tests.capabilities import require_field, require_route
from contract_tests.client import pending
from contract_tests.plugin import clause

# The state at a checkpoint echoes the address it was asked by (`checkpoint` without `checkpoint_ns` on the official
# server), so that one field is compared by its id.
ECHOED = "checkpoint"


def _history(client, tid):
    reply = client.request("POST", f"/threads/{tid}/history", {"limit": 20})
    require_route(reply, "POST /threads/{thread_id}/history")
    assert reply.status == 200, f"POST history answered {reply.status}: {reply.text[:300]}"
    return reply.json()


def _interrupted_then_resumed(client, needs):
    """A thread of the `agent` graph asked once and answered; its history; the interrupted checkpoint's id."""
    needs(graphs=("agent",))
    tid = client.create_thread()
    client.wait_json(tid, "agent", input={"some_text": "original"})
    asked = pending(client, tid)
    assert asked, "the run did not stop at its interrupt"
    client.wait_json(tid, "agent", command={"resume": "first answer"})
    history = _history(client, tid)
    interrupted = [h for h in history if h["next"] == ["human_node"]]
    assert interrupted, f"history has no checkpoint paused at human_node: {[h['next'] for h in history]}"
    return tid, history, interrupted[0], asked


@clause("HITL-TT-001")
def test_state_at_a_checkpoint_is_its_history_entry(client, needs):
    tid, history, _, _ = _interrupted_then_resumed(client, needs)
    for entry in history:
        checkpoint_id = entry["checkpoint"]["checkpoint_id"]
        reply = client.request("GET", f"/threads/{tid}/state/{checkpoint_id}")
        require_route(reply, "GET /threads/{thread_id}/state/{checkpoint_id}")
        assert reply.status == 200, f"state at {checkpoint_id} answered {reply.status}: {reply.text[:300]}"
        state = reply.json()
        assert state.get(ECHOED, {}).get("checkpoint_id") == checkpoint_id, f"asked for {checkpoint_id}, got {state.get(ECHOED)}"
        differs = sorted(k for k in set(entry) | set(state) if k != ECHOED and entry.get(k) != state.get(k))
        assert not differs, f"the state at {checkpoint_id} differs from its history entry in {differs}: next {state.get('next')} vs {entry.get('next')}"


@clause("HITL-TT-002")
def test_a_run_forked_before_the_answer_asks_again(client, needs):
    tid, _, interrupted, asked = _interrupted_then_resumed(client, needs)
    checkpoint_id = interrupted["checkpoint"]["checkpoint_id"]
    reply = client.wait(tid, "agent", input=None, checkpoint_id=checkpoint_id)
    require_field(reply, "checkpoint_id")
    assert reply.status == 200, f"a run from checkpoint {checkpoint_id} answered {reply.status}: {reply.text[:300]}"
    again = pending(client, tid)
    assert [i["value"] for i in again] == [i["value"] for i in asked], f"the fork did not ask again: pending {again}, asked before {asked}"
    assert {i["id"] for i in again}.isdisjoint({i["id"] for i in asked}), f"the fork asks with the old interrupt id {asked[0]['id']}"
    final = client.wait_json(tid, "agent", command={"resume": {again[0]["id"]: "second answer"}})
    assert final.get("some_text") == "second answer", f"resuming the fork gave {final}"
    assert pending(client, tid) == [], "the fork's interrupt is still pending after its answer"
