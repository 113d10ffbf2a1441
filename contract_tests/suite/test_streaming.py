"""Streaming: SSE format and events, stream resumes, joins, resumable streams."""

from __future__ import annotations

import json
import re

from contract_tests.capabilities import require_field, require_route
from contract_tests.client import pending_ids
from contract_tests.plugin import clause

STREAM = "/threads/{thread_id}/runs/stream"


def _stream(client, needs, assistant, **body):
    needs(graphs=(assistant,))
    tid = client.create_thread()
    reply = client.stream(tid, assistant, **body)
    require_route(reply, "POST " + STREAM)
    return tid, reply


def _seed_stream(client, needs):
    return _stream(client, needs, "agent", input={"some_text": "s"}, stream_mode=["values", "updates"])[1]


@clause("HITL-SSE-001")
def test_stream_status_and_content_type(client, needs):
    reply = _seed_stream(client, needs)
    assert reply.status == 200, f"a stream answered {reply.status}"
    assert reply.headers.get("content-type", "").startswith("text/event-stream"), f"Content-Type: {reply.headers.get('content-type')!r}"


@clause("HITL-SSE-002")
def test_stream_starts_with_metadata(client, needs):
    events = _seed_stream(client, needs).events()
    assert events and events[0].get("event") == "metadata", f"the first event is {events[:1]}"
    assert re.fullmatch(r"[0-9a-f-]{36}", str(events[0].get("data", {}).get("run_id", ""))), f"metadata without a run_id: {events[0]}"


@clause("HITL-SSE-003")
def test_every_event_has_a_name_and_json_data(client, needs):
    text = _seed_stream(client, needs).text
    frames = [f for f in re.split(r"\r?\n\r?\n", text) if f.strip() and not f.lstrip().startswith(":")]
    assert frames, "the stream has no events"
    for frame in frames:
        lines = frame.replace("\r\n", "\n").split("\n")
        assert any(line.startswith("event:") for line in lines), f"an event without a name: {frame[:200]!r}"
        data = [line[5:].strip() for line in lines if line.startswith("data:")]
        assert len(data) == 1, f"not one data line: {frame[:200]!r}"
        try:
            json.loads(data[0])
        except ValueError:
            raise AssertionError(f"data that is not JSON: {frame[:200]!r}") from None


def _interrupted_stream(client, needs):
    tid, reply = _stream(client, needs, "agent", input={"some_text": "s"}, stream_mode=["values", "updates"])
    events = reply.events()
    updates = [e["data"] for e in events if e["event"] == "updates" and "__interrupt__" in e["data"]]
    values = [e["data"] for e in events if e["event"] == "values"]
    return tid, events, updates, values


@clause("HITL-SSE-004")
def test_stream_event_names_follow_the_modes(client, needs):
    _, events, _, _ = _interrupted_stream(client, needs)
    names = [e["event"] for e in events]
    assert set(names) <= {"metadata", "values", "updates"} and {"values", "updates"} <= set(names), names


@clause("HITL-SSE-005")
def test_updates_carry_the_interrupt(client, needs):
    _, events, updates, _ = _interrupted_stream(client, needs)
    assert updates, f"no updates event with __interrupt__: {[e['event'] for e in events]}"
    assert [i["value"] for i in updates[-1]["__interrupt__"]] == [{"text_to_revise": "s"}], updates[-1]


@clause("HITL-SSE-006")
def test_last_values_event_carries_the_interrupt(client, needs):
    _, _, _, values = _interrupted_stream(client, needs)
    assert values and "__interrupt__" in values[-1], f"the last values event has no __interrupt__: {values[-1:]}"
    assert [i["value"] for i in values[-1]["__interrupt__"]] == [{"text_to_revise": "s"}], values[-1]


@clause("HITL-SURFACE-001")
def test_stream_names_the_pending_interrupt(client, needs):
    tid, _, updates, values = _interrupted_stream(client, needs)
    listed = {"updates": [i["id"] for u in updates[-1:] for i in u["__interrupt__"]], "values": [i["id"] for v in values[-1:] for i in v.get("__interrupt__", [])]}
    listed.update(pending_ids(client, tid))
    assert len({tuple(sorted(ids)) for ids in listed.values()}) == 1 and listed["updates"], f"the surfaces disagree: {listed}"


@clause("HITL-SSE-004")
def test_messages_tuple_arrives_as_messages(client, needs):
    _, reply = _stream(client, needs, "nointerrupt", input={}, stream_mode=["messages-tuple", "custom"])
    events = reply.events()
    messages = [e for e in events if e["event"] == "messages"]
    assert messages, [e["event"] for e in events]
    message, metadata = messages[0]["data"]
    assert message.get("id") == "msg-step1" and isinstance(metadata, dict)
    assert any(e["event"] == "custom" and e["data"] == {"custom_event": "hello from step1"} for e in events)


@clause("HITL-SSE-007")
def test_stream_names_the_run(client, needs):
    tid, reply = _stream(client, needs, "agent", input={"some_text": "s"})
    location = reply.headers.get("content-location", "")
    run_id = reply.events()[0]["data"]["run_id"]
    assert location == f"/threads/{tid}/runs/{run_id}", f"Content-Location: {location!r}"


@clause("HITL-SSE-008")
def test_graph_error_event(client, needs):
    _, reply = _stream(client, needs, "nointerrupt", input={"fail": True})
    assert reply.status == 200
    last = reply.events()[-1]  # an `id:` on the event is allowed (some servers number every event)
    assert (last["event"], last["data"]) == ("error", {"error": "ValueError", "message": "boom requested"}), last


@clause("HITL-SSE-009")
def test_resume_through_a_stream(client, needs):
    tid, _ = _stream(client, needs, "agent", input={"some_text": "s"})
    reply = client.stream(tid, "agent", command={"resume": "t"}, stream_mode=["updates"])
    updates = [e["data"] for e in reply.events() if e["event"] == "updates"]
    assert updates == [{"human_node": {"some_text": "t"}}], updates
    assert client.thread(tid)["status"] == "idle"


@clause("HITL-JOIN-001")
def test_join_a_background_run(client, needs):
    needs(graphs=("agent",))
    tid = client.create_thread()
    run = client.request("POST", f"/threads/{tid}/runs", {"assistant_id": "agent", "input": {"some_text": "bg"}}).json()
    joined = client.request("GET", f"/threads/{tid}/runs/{run['run_id']}/join").json()
    interrupts = joined.get("__interrupt__") or []
    assert [i["value"] for i in interrupts] == [{"text_to_revise": "bg"}], joined


@clause("HITL-JOIN-002")
def test_join_stream_a_background_run(client, needs):
    needs(graphs=("nointerrupt",))
    tid = client.create_thread()
    run = client.request("POST", f"/threads/{tid}/runs", {"assistant_id": "nointerrupt", "input": {"sleep": 0.5}, "stream_mode": ["updates"]}).json()
    joined = client.request("GET", f"/threads/{tid}/runs/{run['run_id']}/stream")
    require_route(joined, "GET /threads/{thread_id}/runs/{run_id}/stream")
    events = joined.events()
    assert [e["event"] for e in events if e["event"] == "updates"] == ["updates", "updates"], [e["event"] for e in events]


def _resumable(client, needs):
    tid, reply = _stream(client, needs, "nointerrupt", input={}, stream_mode=["values", "updates", "custom"], stream_resumable=True)
    require_field(reply, "stream_resumable")
    return tid, reply, reply.events()


@clause("HITL-RESUMABLE-001")
def test_resumable_ids(client, needs):
    _, _, events = _resumable(client, needs)
    ids = [e.get("id") for e in events]
    assert all(ids), f"events without an id: {[e['event'] for e in events if not e.get('id')]}"
    assert len(set(ids)) == len(ids), f"an id repeats (Last-Event-ID replay would then skip events): {ids}"
    keys = [tuple(int(p) for p in i.split("-")) if re.fullmatch(r"\d+-\d+", i) else i for i in ids]
    if all(isinstance(k, tuple) for k in keys):
        assert keys == sorted(keys), f"ids do not increase: {ids}"


@clause("HITL-RESUMABLE-002")
def test_replay_everything(client, needs):
    tid, reply, events = _resumable(client, needs)
    join = reply.headers.get("content-location") or f"/threads/{tid}/runs/{events[0]['data']['run_id']}"
    replay = client.request("GET", join + "/stream", headers={"Last-Event-ID": "-1"}).events()
    assert [(e["event"], e["data"]) for e in replay] == [(e["event"], e["data"]) for e in events]


@clause("HITL-RESUMABLE-003")
def test_replay_after_an_id(client, needs):
    tid, reply, events = _resumable(client, needs)
    join = reply.headers.get("content-location") or f"/threads/{tid}/runs/{events[0]['data']['run_id']}"
    for cut in range(len(events) - 1):
        replay = client.request("GET", join + "/stream", headers={"Last-Event-ID": events[cut]["id"]}).events()
        assert [(e["event"], e["data"]) for e in replay] == [(e["event"], e["data"]) for e in events[cut + 1 :]], f"after id {events[cut]['id']}"
