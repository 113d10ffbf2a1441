"""SSE: the event sequences and byte format the official server sends, streaming resumes, join streams."""

from __future__ import annotations

import re

from langgraph_sdk import get_client
from langgraph_sdk.schema import Command

from hitl_spec import parse_sse

from .helpers import new_thread, run, stream


def test_agent_stream_values_and_updates_then_resume_via_stream(served):
    with served.http() as http:
        tid = new_thread(http)
        r, events = stream(http, f"/threads/{tid}/runs/stream", {"assistant_id": "agent", "input": {"some_text": "orig"}, "stream_mode": ["values", "updates"]})
        assert r.status_code == 200 and r.headers["content-type"] == "text/event-stream; charset=utf-8"
        run_path = r.headers["content-location"]
        assert r.headers["location"] == run_path + "/stream"
        assert [e["event"] for e in events] == ["metadata", "values", "updates", "values"]
        assert events[0]["data"] == {"run_id": run_path.rsplit("/", 1)[1], "attempt": 1}
        interrupt = events[2]["data"]["__interrupt__"]
        assert events[1]["data"] == {"some_text": "orig"}
        assert interrupt[0]["value"] == {"text_to_revise": "orig"} and list(interrupt[0]) == ["value", "id", "response_schema"]
        assert events[3]["data"] == {"some_text": "orig", "__interrupt__": interrupt}
        assert http.get(f"/threads/{tid}").json()["interrupts"].popitem()[1][0]["id"] == interrupt[0]["id"]

        r, events = stream(http, f"/threads/{tid}/runs/stream", {"assistant_id": "agent", "command": {"resume": "new"}, "stream_mode": ["values", "updates"]})
        # a resume stream starts with the values of the checkpoint being resumed
        assert [(e["event"], e["data"]) for e in events[1:]] == [
            ("values", {"some_text": "orig"}),
            ("updates", {"human_node": {"some_text": "new"}}),
            ("values", {"some_text": "new"}),
        ]
        assert http.get(f"/threads/{tid}").json()["status"] == "idle"


def test_byte_format(mock):
    with mock.http() as http:
        tid = new_thread(http)
        r = http.post(f"/threads/{tid}/runs/stream", json={"assistant_id": "agent", "input": {"some_text": "orig"}, "stream_mode": "updates"})
        raw = r.content
        assert raw.startswith(b"event: metadata\r\ndata: {\"run_id\":\"")
        frames = raw.split(b"\r\n\r\n")
        assert frames[-1] == b"" and all(f.count(b"\r\n") == 1 for f in frames[:-1])  # event + data, CRLF, no id
        assert b"id:" not in raw and b"\n\n" not in raw.replace(b"\r\n", b"")
        assert re.fullmatch(rb'event: updates\r\ndata: \{"__interrupt__":\[\{"value":\{"text_to_revise":"orig"\},"id":"[0-9a-f]{32}","response_schema":null\}\]\}', frames[1])
        for header in ("cache-control", "x-accel-buffering"):
            assert header in r.headers
        assert r.headers["cache-control"] == "no-store" and r.headers["x-accel-buffering"] == "no"


def test_default_stream_mode_is_values(mock):
    with mock.http() as http:
        tid = new_thread(http)
        _, events = stream(http, f"/threads/{tid}/runs/stream", {"assistant_id": "agent", "input": {"some_text": "x"}})
        assert [e["event"] for e in events] == ["metadata", "values", "values"]
        assert "__interrupt__" in events[-1]["data"]


def test_multi_modes_messages_custom(served):
    with served.http() as http:
        tid = new_thread(http)
        _, events = stream(http, f"/threads/{tid}/runs/stream", {"assistant_id": "nointerrupt", "input": {}, "stream_mode": ["values", "updates", "custom", "messages-tuple"]})
        names = [e["event"] for e in events]
        # no leading `values` event: the input is empty (as the official server streams it)
        assert names == ["metadata", "custom", "messages", "updates", "values", "updates", "values"]
        assert events[1]["data"] == {"custom_event": "hello from step1"}
        message, meta = events[2]["data"]
        assert message["id"] == "msg-step1" and message["content"] == "hello from step1"
        assert meta["langgraph_node"] == "step1" and meta["graph_id"] == "nointerrupt"


def test_graph_error_ends_the_stream_with_an_error_event(mock):
    with mock.http() as http:
        tid = new_thread(http)
        r, events = stream(http, f"/threads/{tid}/runs/stream", {"assistant_id": "nointerrupt", "input": {"fail": True}})
        assert r.status_code == 200
        assert events[-1] == {"event": "error", "data": {"error": "ValueError", "message": "boom requested"}}


def test_resumable_stream_ids_and_last_event_id_replay(mock):
    with mock.http() as http:
        tid = new_thread(http)
        r = http.post(f"/threads/{tid}/runs/stream", json={"assistant_id": "nointerrupt", "input": {}, "stream_mode": ["values", "updates"], "stream_resumable": True})
        events = parse_sse(r.content)
        ids = [e["id"] for e in events]
        assert all(re.fullmatch(r"\d{13}-\d+", i) for i in ids)
        keys = [tuple(map(int, i.split("-"))) for i in ids]
        assert keys == sorted(keys) and len(set(keys)) == len(keys)  # strictly increasing, never repeated
        join = r.headers["content-location"] + "/stream"
        # replay everything, then only what came after a given id
        assert parse_sse(http.get(join, headers={"Last-Event-ID": "-1"}).content) == events
        assert parse_sse(http.get(join, headers={"Last-Event-ID": ids[2]}).content) == events[3:]
        # without Last-Event-ID, joining a finished run gives an empty stream
        assert http.get(join).content == b""


def test_join_stream_of_a_background_run_and_join(mock):
    with mock.http() as http:
        tid = new_thread(http)
        run_obj = http.post(f"/threads/{tid}/runs", json={"assistant_id": "nointerrupt", "input": {"sleep": 0.3}, "stream_mode": ["updates"]}).json()
        base = f"/threads/{tid}/runs/{run_obj['run_id']}"
        # the first joiner sees the whole run, as it would have attached while the run was queued
        joined = parse_sse(http.get(base + "/stream", params={"cancel_on_disconnect": "0"}).content)
        assert [e["event"] for e in joined] == ["metadata", "updates", "updates"]
        assert http.get(base + "/stream").content == b""  # later joiners of a finished run: nothing more
        r = http.get(base + "/join")
        assert r.headers["location"] == base + "/join" and r.headers["content-location"] == base
        assert r.json()["steps"] == ["step1", "step2"]
        assert http.get(base).json()["status"] == "success"


def test_first_join_of_a_background_run_gets_its_result(mock):
    with mock.http() as http:
        tid = new_thread(http)
        run_obj = http.post(f"/threads/{tid}/runs", json={"assistant_id": "agent", "input": {"some_text": "bg"}}).json()
        base = f"/threads/{tid}/runs/{run_obj['run_id']}"
        first = http.get(base + "/join").json()
        assert first["some_text"] == "bg" and first["__interrupt__"][0]["response_schema"] is None
        # later joins answer from the thread, as the official server does for a finished run
        assert http.get(base + "/join").json() == {"__interrupt__": [{"id": first["__interrupt__"][0]["id"], "value": {"text_to_revise": "bg"}}]}


def test_join_stream_filters_stream_modes_in_both_sdk_encodings(mock):
    with mock.http() as http:
        tid = new_thread(http)
        body = {"assistant_id": "nointerrupt", "input": {}, "stream_mode": ["values", "updates", "custom"], "stream_resumable": True}
        r = http.post(f"/threads/{tid}/runs/stream", json=body)
        join = r.headers["content-location"] + "/stream"
        everything = [e["event"] for e in parse_sse(r.content)]
        assert {"values", "updates", "custom"} <= set(everything)
        for params in ({"stream_mode": '["updates","custom"]'}, [("stream_mode", "updates"), ("stream_mode", "custom")]):
            replay = parse_sse(http.get(join, params=params, headers={"Last-Event-ID": "-1"}).content)
            assert [e["event"] for e in replay] == [e for e in everything if e in ("metadata", "updates", "custom")]


def test_sdk_streaming_resume(mock):
    async def flow():
        client = get_client(url=mock.url)
        thread = await client.threads.create()
        first = [p async for p in client.runs.stream(thread["thread_id"], "agent", input={"some_text": "s"}, stream_mode=["values", "updates"])]
        second = [p async for p in client.runs.stream(thread["thread_id"], "agent", command=Command(resume="t"), stream_mode="updates")]
        return first, second

    first, second = run(flow())
    assert [p.event for p in first] == ["metadata", "values", "updates", "values"]
    assert first[2].data["__interrupt__"][0]["value"] == {"text_to_revise": "s"}
    assert [(p.event, p.data) for p in second[1:]] == [("updates", {"human_node": {"some_text": "t"}})]
    assert all(p.id is None for p in first)


def test_stateless_stream_and_wait(mock):
    with mock.http() as http:
        r, events = stream(http, "/runs/stream", {"assistant_id": "agent", "input": {"some_text": "sl"}})
        rid = events[0]["data"]["run_id"]
        assert r.headers["location"] == f"/runs/{rid}/stream" and r.headers["content-location"] == f"/runs/{rid}"
        assert events[-1]["data"]["__interrupt__"][0]["value"] == {"text_to_revise": "sl"}
        r = http.post("/runs/wait", json={"assistant_id": "agent", "input": {"some_text": "w"}})
        assert re.fullmatch(r"/threads/[0-9a-f-]{36}/runs/[0-9a-f-]{36}/join", r.headers["location"])
        assert r.json()["__interrupt__"][0]["value"] == {"text_to_revise": "w"}
        temp_thread = r.headers["location"].split("/")[2]
        assert http.get(f"/threads/{temp_thread}").status_code == 404  # on_completion=delete (the default)


def test_heartbeats_during_long_silences():
    """A stream sends `: heartbeat` comments while a step is silent; a long wait sends leading newlines."""
    from mock_server.settings import Settings
    from mock_server.testing import MockServer

    with MockServer(settings=Settings(keepalive_seconds=0.2)) as server, __import__("httpx").Client(base_url=server.url, timeout=30) as http:
        tid = new_thread(http)
        r = http.post(f"/threads/{tid}/runs/stream", json={"assistant_id": "nointerrupt", "input": {"sleep": 1.0}, "stream_mode": "updates"})
        assert b": heartbeat\r\n\r\n" in r.content
        assert [e["event"] for e in parse_sse(r.content)] == ["metadata", "updates", "updates"]
        waited = http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "nointerrupt", "input": {"sleep": 1.0}})
        assert waited.content.startswith(b"\n") and waited.json()["steps"][-2:] == ["step1", "step2"]
