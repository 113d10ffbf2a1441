"""Errors: unknown threads, assistants and runs, bad bodies, graph errors in-band; and the liveness probe."""

from __future__ import annotations

from contract_tests.plugin import clause

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def _detail(reply, statuses):
    assert reply.status in statuses, f"answered {reply.status}, expected {statuses}: {reply.text[:200]}"
    assert reply.headers.get("content-type", "").startswith("application/json"), reply.headers.get("content-type")
    body = reply.json()
    assert isinstance(body, dict) and isinstance(body.get("detail"), str), body
    return body["detail"]


@clause("HITL-ERR-001")
def test_unknown_thread(client):
    _detail(client.request("GET", f"/threads/{UNKNOWN}"), (404,))
    _detail(client.request("GET", f"/threads/{UNKNOWN}/state"), (404,))
    _detail(client.wait(UNKNOWN, "agent", input={}), (404,))


@clause("HITL-ERR-002")
def test_unknown_assistant(client):
    tid = client.create_thread()
    _detail(client.wait(tid, "no-such-graph", input={}), (404, 422))


@clause("HITL-ERR-003")
def test_unknown_run(client):
    tid = client.create_thread()
    _detail(client.request("GET", f"/threads/{tid}/runs/{UNKNOWN}"), (404,))
    _detail(client.request("POST", f"/threads/{tid}/runs/{UNKNOWN}/cancel"), (404,))


@clause("HITL-ERR-004")
def test_malformed_json(client):
    tid = client.create_thread()
    _detail(client.request("POST", f"/threads/{tid}/runs/wait", raw="{not json"), (422,))


@clause("HITL-ERR-005")
def test_wrong_types(client):
    tid = client.create_thread()
    assert "stream_mode" in _detail(client.wait(tid, "agent", stream_mode=5), (422,))
    assert "multitask_strategy" in _detail(client.wait(tid, "agent", multitask_strategy="bogus"), (422,))
    assert "assistant_id" in _detail(client.request("POST", f"/threads/{tid}/runs/wait", {"input": {}}), (422,))


@clause("HITL-ERR-006")
def test_graph_error_is_in_band(client, needs):
    needs(graphs=("nointerrupt",))
    tid = client.create_thread()
    reply = client.wait(tid, "nointerrupt", input={"fail": True})
    assert reply.status == 200, reply.status
    assert reply.json() == {"__error__": {"error": "ValueError", "message": "boom requested"}}, reply.json()
    assert client.thread(tid)["status"] == "error"


@clause("HITL-OK-001")
def test_ok(client):
    reply = client.request("GET", "/ok")
    assert reply.status == 200, f"GET /ok answered {reply.status}: {reply.text[:120]}"
