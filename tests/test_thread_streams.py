"""Thread streams (protocol v2) on the mock: the Python SDK's `client.threads.stream` flows over SSE and the WebSocket
(tests/thread_sdk.py), and the wire they run on (tests/parity/thread_flows.py): event order and ids, `seq` across
runs, `since` replay, heartbeats, command answers and errors, v1 runs on a thread stream, the WebSocket commands.
What the official server does is in tests/parity/test_thread_streams.py (the same flows, compared)."""

from __future__ import annotations

import asyncio
import json
import re
import uuid

import httpx
import pytest
from websockets.asyncio.client import connect

from mock_server.settings import Settings
from mock_server.testing import MockServer

from .parity import thread_flows
from .parity.thread_flows import ThreadFlow, record
from .thread_sdk import flows as sdk_flows

ENTRY_ID = re.compile(r"^\d{13}-\d+$")
INTERRUPT_ID = re.compile(r"^[0-9a-f]{32}$")


def _events(log, label):
    return [f["data"] for f in next(e for e in log if e["label"] == label)["body"]]


def _answer(log, label):
    return next(e for e in log if e["label"] == label)


def _shape(events):
    return [f"{e['method']}:{e['params']['data']['event']}" if e["method"] == "lifecycle" else e["method"] for e in events]


# -- the Python SDK --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["sse", "websocket"])
def test_the_python_sdk_seed_flow(served, transport):
    seen = sdk_flows(served.url, transport, ["agent"])["agent"]
    [asked] = seen["asked"]
    assert INTERRUPT_ID.match(asked["interrupt_id"]) and asked["namespace"] == []
    assert asked["value"] is None  # SDK 0.4.14 reads `value`; the server sends `payload` (as the official one)
    assert seen["answered"] == {}
    assert seen["output"] == {"some_text": "Edited text"}
    assert seen["after"] == [False, []] and seen["next"] == []


@pytest.mark.parametrize("transport", ["sse", "websocket"])
def test_the_python_sdk_answers_parallel_interrupts_by_id(served, transport):
    seen = sdk_flows(served.url, transport, ["multi"])["multi"]
    ids = seen["ids"]
    assert sorted(i["interrupt_id"] for i in seen["both"]) == sorted(ids.values())
    after_a = seen["after_a"]
    assert after_a["pending"] == {"B?": ids["B?"]}  # answering A left B pending
    assert after_a["next"] == ["ask_b"] and after_a["values"] == {"answers": ["a=alpha"]}
    assert [i["interrupt_id"] for i in after_a["listed"]] == [ids["A?"], ids["B?"], ids["B?"]]  # asked again by the next run
    assert seen["output"] == {"answers": ["a=alpha", "b=beta", "first=one", "second=two"]}


@pytest.mark.parametrize("transport", ["sse", "websocket"])
def test_the_python_sdk_validation_loop(served, transport):
    seen = sdk_flows(served.url, transport, ["validate"])["validate"]
    assert seen["prompts"] == ["What is your age?", "'abc' is not a valid age. Please enter a positive integer.", "'0' is not a valid age. Please enter a positive integer."]
    assert seen["output"] == {"age": 42}


@pytest.mark.parametrize("transport", ["sse", "websocket"])
def test_the_python_sdk_streams_chat_tokens(served, transport):
    seen = sdk_flows(served.url, transport, ["chat"])["chat"]
    [plan] = seen["plan"]
    assert len(plan) > 10 and "".join(plan) == "I plan to send the email to Bob now. Shall I proceed?"
    [done] = seen["done"]
    assert "".join(done) == "Done: the email to Bob has been sent."
    assert seen["texts"][1:] == [["I plan to send the email to Bob now. Shall I proceed?"], ["Done: the email to Bob has been sent."]]


# -- the wire --------------------------------------------------------------------------------------------------


def test_the_seed_flow_on_the_wire(served):
    log = record(served.url, thread_flows.agent)
    started = _answer(log, "run.start")
    assert started["status"] == 200 and started["body"]["type"] == "success" and started["body"]["meta"] == {"applied_through_seq": 0}
    live = _events(log, "live stream")
    assert _shape(live) == [
        "lifecycle:running", "values", "input.requested", "lifecycle:interrupted", "values",
        "lifecycle:running", "values", "values", "lifecycle:completed",
    ]  # fmt: skip
    assert [e["seq"] for e in live] == list(range(1, 10))  # one numbering across the thread's runs
    run_ids = [started["body"]["result"]["run_id"]]
    assert live[0]["event_id"] == f"synth:{run_ids[0]}:lc||running"
    asked = live[2]
    assert asked["event_id"] == f"synth:{run_ids[0]}:input||{asked['params']['data']['interrupt_id']}"
    assert asked["params"]["data"]["payload"] == {"text_to_revise": "original text"}
    assert all(ENTRY_ID.match(e["event_id"]) for e in live if e["method"] == "values")
    assert live[-2]["params"]["data"] == {"some_text": "Edited text"}
    frames = next(e for e in log if e["label"] == "live stream")["body"]
    assert [f["event"] for f in frames] == [e["method"] for e in live] and [f["id"] for f in frames] == [str(e["seq"]) for e in live]
    assert _events(log, "replay") == [e for e in live if e["method"] in ("lifecycle", "input.requested", "values")]
    assert _events(log, "replay since 3") == live[3:]
    assert _answer(log, "getTree over HTTP")["body"]["error"] == "no_such_run"
    assert _answer(log, "respond to an unknown id")["body"]["error"] == "no_such_interrupt"
    assert _answer(log, "respond when nothing is pending")["body"]["error"] == "no_such_interrupt"


def test_answering_one_of_two_interrupts_leaves_the_other(served):
    log = record(served.url, thread_flows.multi)
    live = _events(log, "live stream")
    asked = [e["params"]["data"]["payload"]["q"] for e in live if e["method"] == "input.requested"]
    assert asked == ["A?", "B?", "B?", "first?", "second?"]  # B again: the second run asked for it again
    assert _answer(log, "B still pending: state")["body"]["next"] == ["ask_b"]
    assert _events(log, "replay") == [e for e in live if e["method"] in ("lifecycle", "input.requested")]


def test_a_failing_run_and_the_thread(served):
    log = record(served.url, thread_flows.nointerrupt)
    live = _events(log, "live stream")
    assert _shape(live)[-1] == "lifecycle:failed" and live[-1]["params"]["data"]["error"] == "boom requested"
    thread = _answer(log, "failed: thread")["body"]
    assert thread["status"] == "error" and "fail" not in thread["values"]  # a protocol run's failure keeps the values


def test_run_start_with_input_resumes_pending_interrupts(served):
    log = record(served.url, thread_flows.resume_by_start)
    assert _answer(log, "resumed: state")["body"]["values"] == {"some_text": {"some_text": "b"}}


def test_run_start_waits_for_a_busy_thread(served):
    log = record(served.url, thread_flows.busy)
    assert _answer(log, "run.start while busy")["body"]["type"] == "success"  # `reject`, yet accepted once the run ended
    assert _shape(_events(log, "live stream"))[:5] == ["lifecycle:running", "values", "values", "values", "lifecycle:completed"]


def test_v1_runs_show_live_and_resumable_ones_are_replayed(served):
    log = record(served.url, thread_flows.v1_runs)
    live = _events(log, "live stream")
    assert _shape(live) == [
        "lifecycle:running", "values", "input.requested", "lifecycle:interrupted", "values",
        "lifecycle:running", "updates", "lifecycle:completed",
        "lifecycle:running", "values", "input.requested", "lifecycle:interrupted", "values",
    ]  # fmt: skip
    assert live[6]["params"]["node"] == "human_node"
    assert _events(log, "replay: the resumable run only") == live[8:]


def test_errors_are_answered_as_the_official_server_answers_them(served):
    log = {e["label"]: e for e in record(served.url, thread_flows.errors)}
    assert (log["command: not JSON"]["status"], log["command: not JSON"]["body"]) == (400, {"detail": "Invalid JSON body"})
    for label in ("command: an array", "command: string id", "command: no method"):
        assert log[label]["status"] == 400 and log[label]["body"]["error"] == "invalid_argument", label
    assert log["unknown method"]["body"] == {"type": "error", "id": 1, "error": "unknown_command", "message": "Unknown protocol command: bogus"}
    assert log["run.start, unknown assistant"]["body"]["error"] == "unknown_error"
    assert log["run.start, unknown assistant"]["body"]["message"].startswith("422: Invalid assistant: 'nope'")
    assert log["input.respond on an unknown thread"]["body"]["error"] == "no_such_run"
    assert log["run.start on a non-UUID thread"]["body"]["message"] == "422: Invalid thread ID"
    assert log["stream: bad channels"]["status"] == 400
    assert log["stream: bad channels"]["body"]["detail"].startswith("channels contains unsupported entries: bogus, 5, debug.")


def test_the_websocket_transport(served):
    log = record(served.url, thread_flows.websocket)
    answers = _answer(log, "websocket answers")["body"]
    assert answers[0] == {"type": "error", "id": None, "error": "invalid_argument", "message": "Protocol commands must be valid JSON."}
    trees = [a["result"]["tree"] for a in answers if a["type"] == "success" and "tree" in a["result"]]
    assert [t["status"] for t in trees] == ["interrupted", "completed"]
    assert answers[2]["error"] == "no_such_run"  # getTree before the thread had a run
    events = _answer(log, "websocket events")["body"]
    assert _shape(events) == ["lifecycle:running", "values", "input.requested", "lifecycle:interrupted", "values", "lifecycle:running", "values", "values", "lifecycle:completed"]
    assert answers[-1]["error"] == "no_such_subscription"


async def _frames(url, tid, body, count):
    frames = b""
    async with httpx.AsyncClient(base_url=url, timeout=30) as http, http.stream("POST", f"/threads/{tid}/stream/events", json=body) as r:
        async for chunk in r.aiter_bytes():
            frames += chunk
            if frames.count(b"\r\n\r\n") >= count:
                return r.headers["content-type"], frames


def test_a_thread_stream_before_its_thread_exists_gets_heartbeats():
    with MockServer(settings=Settings(keepalive_seconds=0.1)) as server:
        media, frames = asyncio.run(_frames(server.url, str(uuid.uuid4()), {"channels": ["values"]}, 2))
    assert media == "text/event-stream; charset=utf-8"
    assert frames == b": heartbeat\r\n\r\n" * 2


def test_a_reconnect_older_than_the_kept_events_is_a_resume_gap():
    """The thread keeps its newest `stream_backlog` events; a WebSocket reconnect before them gets `resume_gap`."""

    async def flow(url):
        f = ThreadFlow(url)
        tid = str(uuid.uuid4())
        await f.command("run.start", tid, "run.start", {"assistant_id": "validate", "input": {}})
        for answer in ("a", "b", 1):
            thread = await _settled(f.http, tid)
            [pending] = [i for items in thread["interrupts"].values() for i in items]
            await f.command("answer", tid, "input.respond", {"interrupt_id": pending["id"], "namespace": [], "response": answer})
        assert (await _settled(f.http, tid))["values"] == {"age": 1}
        await f.close()
        async with connect(url.replace("http", "ws", 1) + f"/threads/{tid}/stream/events") as ws:
            await ws.send(json.dumps({"id": 1, "method": "subscription.reconnect", "params": {"channels": ["values"], "since": 0}}))
            return json.loads(await ws.recv())

    with MockServer(settings=Settings(stream_backlog=5)) as server:
        answer = asyncio.run(flow(server.url))
    assert answer["error"] == "resume_gap" and answer["since"] == 0 and answer["min_available_seq"] > 1


async def _settled(http, tid):
    for _ in range(1500):
        r = await http.get(f"/threads/{tid}")
        if r.status_code == 200 and r.json()["status"] in ("interrupted", "idle"):
            return r.json()
        await asyncio.sleep(0.02)
    raise AssertionError(f"thread {tid} never settled")


def test_the_recorder_checks_thread_streams_against_the_spec(served, monkeypatch):
    """Every exchange of a flow is checked against openapi.yaml, the streams (which never end by themselves) included."""
    checked = []
    check = served.recorder._check
    monkeypatch.setattr(served.recorder, "_check", lambda scope, *args: (checked.append(scope["path"]), check(scope, *args)))
    log = record(served.url, thread_flows.agent)
    tid = _answer(log, "done: thread")["body"]["thread_id"]
    for _ in range(100):
        if sum(path.endswith("/stream/events") and tid in path for path in checked) >= 3:
            break
        asyncio.run(asyncio.sleep(0.02))
    mine = ["stream/events" if path.endswith("/stream/events") else path.rsplit("/", 1)[-1] for path in checked if tid in path]
    assert (mine.count("commands"), mine.count("stream/events"), mine.count("state")) == (5, 3, 1)


def test_the_spec_types_the_hitl_events():
    import hitl_spec

    path, media = f"/threads/{uuid.uuid4()}/stream/events", "text/event-stream; charset=utf-8"

    def frame(method, data, seq=1):
        event = {"type": "event", "event_id": "synth:r:x", "seq": seq, "method": method, "params": {"namespace": [], "timestamp": 1, "data": data}}
        return f"event: {method}\r\ndata: {json.dumps(event)}\r\nid: {seq}\r\n\r\n".encode()

    assert hitl_spec.check_response("POST", path, 200, media, frame("input.requested", {"interrupt_id": "a" * 32, "payload": {"q": 1}})) == []
    assert hitl_spec.check_response("POST", path, 200, media, frame("input.requested", {"interrupt_id": "not-hex", "payload": 1}))
    assert hitl_spec.check_response("POST", path, 200, media, frame("input.requested", {"interrupt_id": "a" * 32, "value": 1}))
    assert hitl_spec.check_response("POST", path, 200, media, frame("lifecycle", {"event": "running", "graph_name": "agent"})) == []
    assert hitl_spec.check_response("POST", path, 200, media, frame("lifecycle", {"event": "paused", "graph_name": "agent"}))
    assert hitl_spec.check_response("POST", path, 200, media, frame("messages", {"event": "content-block-delta", "index": 0})) == []
    assert hitl_spec.check_response("POST", path, 200, media, frame("messages", ["AIMessageChunk", {}]))
    commands = f"/threads/{uuid.uuid4()}/commands"
    assert hitl_spec.check_response("POST", commands, 200, "application/json", b'{"type":"error","id":1,"error":"nope","message":"x"}')
    assert hitl_spec.check_response("POST", commands, 200, "application/json", b'{"type":"success","id":1,"result":{"run_id":"r"},"meta":{"applied_through_seq":0}}') == []


def test_with_per_user_auth_a_thread_stream_shows_only_the_callers_threads():
    async def flow(url):
        alice = httpx.AsyncClient(base_url=url, timeout=30, headers={"authorization": "Bearer token-alice"})
        bob = httpx.AsyncClient(base_url=url, timeout=30, headers={"authorization": "Bearer token-bob"})
        tid = str(uuid.uuid4())
        started = (await alice.post(f"/threads/{tid}/commands", json={"id": 1, "method": "run.start", "params": {"assistant_id": "agent", "input": {"some_text": "mine"}}})).json()
        foreign = (await bob.post(f"/threads/{tid}/commands", json={"id": 1, "method": "run.start", "params": {"assistant_id": "agent", "input": {"some_text": "x"}}})).json()
        async with bob.stream("POST", f"/threads/{tid}/stream/events", json={"channels": ["values"]}) as r:
            bobs = (r.status_code, await r.aread())
        async with alice.stream("POST", f"/threads/{tid}/stream/events", json={"channels": ["input"]}) as r:
            async for line in r.aiter_lines():
                if line.startswith("data:"):
                    alices = json.loads(line[5:])
                    break
        for client in (alice, bob):
            await client.aclose()
        return started, foreign, bobs, alices

    with MockServer(auth={"users": {"token-alice": "alice", "token-bob": "bob"}}) as server:
        started, foreign, bobs, alices = asyncio.run(flow(server.url))
    assert started["type"] == "success"
    assert foreign["error"] == "unknown_error" and foreign["message"].startswith("404")
    assert bobs == (200, b"")  # ends at once, empty, as the official stream does when its auth check fails
    assert alices["params"]["data"]["payload"] == {"text_to_revise": "mine"}
