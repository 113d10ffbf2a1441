"""Errors: the official status codes and `{"detail"}` bodies, never a 500 or a traceback."""

from __future__ import annotations

import time

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.errors import ConflictError, NotFoundError

from .helpers import new_thread, run

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def detail(r: httpx.Response, status: int) -> str:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert list(body) == ["detail"] and isinstance(body["detail"], str)
    return body["detail"]


def test_unknown_thread(mock):
    with mock.http() as http:
        assert detail(http.get(f"/threads/{UNKNOWN}"), 404) == f"Thread with ID {UNKNOWN} not found"
        for path in ("/state", "/history", "/runs"):
            assert detail(http.get(f"/threads/{UNKNOWN}{path}"), 404) == f"Thread with ID {UNKNOWN} not found"
        assert detail(http.delete(f"/threads/{UNKNOWN}"), 404) == f"Thread with ID {UNKNOWN} not found"
        assert detail(http.patch(f"/threads/{UNKNOWN}", json={"metadata": {}}), 404) == "Not Found"
        body = {"assistant_id": "agent", "input": {}}
        for route in ("/runs", "/runs/wait", "/runs/stream"):
            assert detail(http.post(f"/threads/{UNKNOWN}{route}", json=body), 404) == "Thread or assistant not found."
        assert detail(http.get("/threads/not-a-uuid"), 422) == "Invalid thread ID: must be a UUID"
        assert detail(http.post("/threads/not-a-uuid/runs/wait", json=body), 400) == "badly formed hexadecimal UUID string"


def test_if_not_exists_create_makes_the_thread(mock):
    tid = "0193e0b1-0000-7000-8000-000000000001"
    with mock.http() as http:
        r = http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "agent", "input": {"some_text": "x"}, "if_not_exists": "create"})
        assert r.json()["__interrupt__"][0]["value"] == {"text_to_revise": "x"}
        assert http.get(f"/threads/{tid}").json()["status"] == "interrupted"


def test_unknown_assistant(mock):
    with mock.http() as http:
        tid = new_thread(http)
        text = detail(http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "nope", "input": {}}), 422)
        assert text.startswith("Invalid assistant: 'nope'. Must be either:\n- A valid assistant UUID, or\n- One of the registered graphs: ")
        assert "agent" in text.rsplit(": ", 1)[1].split(", ")
        assert detail(http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": UNKNOWN, "input": {}}), 404) == "Thread or assistant not found."
        assert detail(http.get("/assistants/agent"), 422) == "Invalid assistant ID: must be a UUID"
        assert detail(http.get(f"/assistants/{UNKNOWN}"), 404) == "Not Found"


@pytest.mark.parametrize("raw", [b"{not json", b"", b"[1,"])
def test_malformed_json(mock, raw):
    with mock.http() as http:
        tid = new_thread(http)
        headers = {"content-type": "application/json"}
        assert detail(http.post(f"/threads/{tid}/runs/wait", content=raw, headers=headers), 422) == "Invalid JSON in request body"
        assert detail(http.post("/threads", content=raw, headers=headers), 422) == "Invalid JSON in request body"


# Bodies the official server rejects, with the exact detail it sends (measured on langgraph-api 0.16.7).
WRONG_TYPES = [
    (
        {"assistant_id": "agent", "stream_mode": 5},
        "5 is not valid under any of the schemas listed in the 'anyOf' keyword\n\nFailed validating \"anyOf\" in "
        'schema["components"]["schemas"]["RunCreateStateful"]["properties"]["stream_mode"]\n\nOn instance["stream_mode"]:\n    5',
    ),
    (
        {"assistant_id": "agent", "command": "x"},
        "\"x\" is not valid under any of the schemas listed in the 'anyOf' keyword\n\nFailed validating \"anyOf\" in "
        'schema["components"]["schemas"]["RunCreateStateful"]["properties"]["command"]\n\nOn instance["command"]:\n    "x"',
    ),
    (
        {"assistant_id": "agent", "multitask_strategy": "bogus"},
        '"bogus" is not one of "reject", "rollback" or 2 other candidates\n\nFailed validating "enum" in '
        'schema["components"]["schemas"]["RunCreateStateful"]["properties"]["multitask_strategy"]\n\n'
        'On instance["multitask_strategy"]:\n    "bogus"',
    ),
    (
        {"input": {}},
        '"assistant_id" is a required property\n\nFailed validating "required" in '
        'schema["components"]["schemas"]["RunCreateStateful"]\n\nOn instance:\n    {"input":{}}',
    ),
]


@pytest.mark.parametrize(("body", "expected"), WRONG_TYPES)
def test_wrong_types_in_run_bodies_name_the_field(mock, body, expected):
    with mock.http() as http:
        tid = new_thread(http)
        assert detail(http.post(f"/threads/{tid}/runs/wait", json=body), 422) == expected


def test_wrong_types_in_thread_bodies(mock):
    with mock.http() as http:
        assert detail(http.post("/threads", json=[]), 422) == '[] is not of type "object"\n\nFailed validating "type" in schema\n\nOn instance:\n    []'
        assert detail(http.post("/threads", json={"if_exists": "bogus"}), 422) == (
            '"bogus" is not one of "raise" or "do_nothing"\n\nFailed validating "enum" in schema["properties"]["if_exists"]'
            '\n\nOn instance["if_exists"]:\n    "bogus"'
        )
        assert '"notadict" is not of type "object"' in detail(http.post("/threads", json={"metadata": "notadict"}), 422)
        assert "is less than the minimum of 1" in detail(http.post("/threads/search", json={"limit": 0}), 422)


def test_unknown_fields_are_ignored_like_the_official_server(mock):
    with mock.http() as http:
        tid = new_thread(http)
        r = http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "agent", "input": {"some_text": "a"}, "bogus_top": 1})
        assert r.status_code == 200
        r = http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "agent", "command": {"resume": "b", "bogus_key": 1}})
        assert r.json() == {"some_text": "b"}


def test_duplicate_thread_ids(mock):
    with mock.http() as http:
        tid = new_thread(http)
        assert detail(http.post("/threads", json={"thread_id": tid}), 409) == f"Thread with ID {tid} already exists"
        same = http.post("/threads", json={"thread_id": tid, "if_exists": "do_nothing", "metadata": {"new": 1}})
        assert same.status_code == 200 and same.json()["metadata"] == {}
        assert detail(http.post("/threads", json={"thread_id": "nope"}), 422) == "Invalid thread ID: must be a UUID"


def test_busy_thread_under_reject_gets_409(mock):
    with mock.http() as http:
        tid = new_thread(http)
        slow = http.post(f"/threads/{tid}/runs", json={"assistant_id": "nointerrupt", "input": {"sleep": 1.0}}).json()
        assert http.get(f"/threads/{tid}").json()["status"] == "busy"
        busy = "Thread is already running a task. Wait for it to finish or choose a different multitask strategy."
        reject = {"assistant_id": "nointerrupt", "input": {}, "multitask_strategy": "reject"}
        assert detail(http.post(f"/threads/{tid}/runs/wait", json=reject), 409) == busy
        assert detail(http.post(f"/threads/{tid}/runs/stream", json=reject), 409) == busy  # JSON, not SSE
        assert detail(http.post(f"/threads/{tid}/runs", json=reject), 409) == busy
        http.get(f"/threads/{tid}/runs/{slow['run_id']}/join")
        assert http.post(f"/threads/{tid}/runs/wait", json=reject).status_code == 200  # idle again


def test_sdk_maps_errors_to_its_exceptions(mock):
    async def scenario():
        client = get_client(url=mock.url)
        with pytest.raises(NotFoundError):
            await client.threads.get(UNKNOWN)
        thread = await client.threads.create()
        await client.runs.create(thread["thread_id"], "nointerrupt", input={"sleep": 0.5})
        with pytest.raises(ConflictError):
            await client.runs.create(thread["thread_id"], "nointerrupt", input={}, multitask_strategy="reject")
        # langgraph-sdk 0.4.14 raises a plain HTTPStatusError for a 409 on runs.wait (the same against the
        # official server, measured): what matters is the status and the detail.
        with pytest.raises(httpx.HTTPStatusError) as caught:
            await client.runs.wait(thread["thread_id"], "nointerrupt", input={}, multitask_strategy="reject")
        assert caught.value.response.status_code == 409

    run(scenario())


def test_stateless_resume_needs_a_thread(mock):
    with mock.http() as http:
        r = http.post("/runs/wait", json={"assistant_id": "agent", "command": {"resume": "x"}})
        assert detail(r, 400) == "You must provide a thread_id when resuming."


def test_unknown_route_and_method(mock):
    with mock.http() as http:
        assert detail(http.get("/nope"), 404) == "Not Found"
        r = http.put("/threads")
        assert detail(r, 405) == "Method Not Allowed"


def test_run_lookups(mock):
    with mock.http() as http:
        tid = new_thread(http)
        assert detail(http.get(f"/threads/{tid}/runs/{UNKNOWN}"), 404) == "Not Found"
        assert detail(http.get(f"/threads/{tid}/runs/not-a-uuid"), 422) == "Invalid run ID: must be a UUID"
        assert detail(http.post(f"/threads/{tid}/runs/{UNKNOWN}/cancel"), 404) == "No runs found to cancel."
        # join on an unknown run answers 200 with an __error__ body, as the official server does
        r = http.get(f"/threads/{tid}/runs/{UNKNOWN}/join")
        assert r.status_code == 200 and r.json() == {"__error__": {"error": "HTTPException", "message": "404: Run not found"}}
        done = http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "nointerrupt", "input": {}})
        finished = done.headers["content-location"].rsplit("/", 1)[1]
        assert detail(http.post(f"/threads/{tid}/runs/{finished}/cancel"), 404).startswith("No matching runs to cancel.")


def test_graph_errors_are_run_errors_not_http_errors(mock):
    with mock.http() as http:
        tid = new_thread(http)
        r = http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "nointerrupt", "input": {"fail": True}})
        assert r.status_code == 200 and r.json() == {"__error__": {"error": "ValueError", "message": "boom requested"}}
        thread = http.get(f"/threads/{tid}").json()
        assert thread["status"] == "error" and thread["error"] == {"error": "ValueError", "message": "boom requested"}
        run_obj = http.get(r.headers["content-location"]).json()
        assert run_obj["status"] == "error"
        # a non-dict input is accepted and fails inside the graph, as on the official server
        r = http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "agent", "input": "not-a-dict"})
        assert r.status_code == 200 and r.json()["__error__"]["error"] == "InvalidUpdateError"
        time.sleep(0)  # (no server-side 500s happened: the spec check would have caught a text/plain body)


def test_a_body_over_the_limit_is_a_413_in_json():
    from mock_server.settings import Settings
    from mock_server.testing import MockServer

    with MockServer(settings=Settings(max_body=1024)) as server:
        big = {"metadata": {"x": "y" * 2000}}
        said = httpx.post(f"{server.url}/threads", json=big)
        assert said.status_code == 413 and "--max-body" in said.json()["detail"], said.text

        def chunks():  # no Content-Length: the limit counts what arrives
            yield b'{"metadata": {"x": "'
            for _ in range(10):
                yield b"y" * 500
            yield b'"}}'

        streamed = httpx.post(f"{server.url}/threads", content=chunks(), headers={"content-type": "application/json"})
        assert streamed.status_code == 413 and streamed.headers["content-type"].startswith("application/json")
        assert httpx.post(f"{server.url}/threads", json={"metadata": {"x": "small"}}).status_code == 200


def test_a_bug_is_a_json_500_not_plain_text():
    from starlette.applications import Starlette
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from mock_server.api.errors import HANDLERS

    async def broken(request):
        raise KeyError("a bug")

    client = TestClient(Starlette(routes=[Route("/x", broken)], exception_handlers=HANDLERS), raise_server_exceptions=False)
    answer = client.get("/x")
    assert answer.status_code == 500 and "this is a bug" in answer.json()["detail"] and "KeyError" in answer.json()["detail"]


def test_a_state_update_for_an_unknown_subgraph_is_a_400():
    """Found by benchmarks/fuzz.py: LangGraph's "Subgraph <ns> not found" was a 500."""
    from mock_server.testing import MockServer

    with MockServer() as server:
        tid = httpx.post(f"{server.url}/threads", json={}).json()["thread_id"]
        httpx.post(f"{server.url}/threads/{tid}/runs/wait", json={"assistant_id": "agent", "input": {"some_text": "x"}})
        answer = httpx.post(f"{server.url}/threads/{tid}/state", json={"values": None, "checkpoint": {"checkpoint_ns": "nope"}})
        assert answer.status_code == 400 and "Subgraph nope not found" in answer.json()["detail"], answer.text


def test_history_before_takes_both_checkpoint_shapes_and_refuses_bad_ones(mock):
    """Found by benchmarks/fuzz.py once generated requests reached real threads: a `before` with no `configurable`
    (the spec's `CheckpointConfig`, the SDKs' `Checkpoint`) or with a non-string id answered 500."""
    with httpx.Client(base_url=mock.url) as http:
        tid = new_thread(http)
        http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "agent", "input": {"some_text": "x"}})
        history = http.post(f"/threads/{tid}/history", json={"limit": 10}).json()
        head, older = history[0]["checkpoint"]["checkpoint_id"], [h["checkpoint"]["checkpoint_id"] for h in history[1:]]
        for before in ({"checkpoint_id": head}, {"configurable": {"checkpoint_id": head}}):
            answer = http.post(f"/threads/{tid}/history", json={"limit": 10, "before": before})
            assert answer.status_code == 200, answer.text
            assert [h["checkpoint"]["checkpoint_id"] for h in answer.json()] == older
        unbounded = http.post(f"/threads/{tid}/history", json={"limit": 10, "before": {"checkpoint_ns": ""}})
        assert len(unbounded.json()) == len(history)
        assert "checkpoint_id must be a string" in detail(http.post(f"/threads/{tid}/history", json={"before": {"configurable": {"checkpoint_id": 5}}}), 422)
        assert "must be an object" in detail(http.post(f"/threads/{tid}/history", json={"before": {"configurable": []}}), 422)


@pytest.mark.parametrize("checkpoint", [932, [1], True])
def test_a_stateless_run_with_a_checkpoint_that_is_no_object_is_a_422(mock, checkpoint):
    """The official server answers these with a plain-text 500 (`dict(932)` fails); the mock answers 422 JSON, as the
    official thread routes do for the same body (found by benchmarks/fuzz.py with the official spec)."""
    with mock.http() as http:
        for path in ("/runs", "/runs/wait"):
            answer = http.post(path, json={"assistant_id": "agent", "checkpoint": checkpoint})
            assert answer.status_code == 422 and 'is not of type "object"' in answer.json()["detail"], answer.text
        # a string keeps the official server's 400 (it fails as dict("abc") does)
        assert http.post("/runs/wait", json={"assistant_id": "agent", "checkpoint": "abc"}).status_code == 400
