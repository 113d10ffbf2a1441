"""The seed flow of the core issue: the official Python SDK and plain HTTP (what curl sends) against the mock."""

from __future__ import annotations

import re

from langgraph_sdk import get_client
from langgraph_sdk.schema import Command

from .helpers import INTERRUPT_ID, run

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def test_seed_flow_with_the_python_sdk_verbatim(mock):
    async def seed():
        client = get_client(url=mock.url)
        thread = await client.threads.create()
        result = await client.runs.wait(thread["thread_id"], "agent", input={"some_text": "original text"})
        interrupts = result["__interrupt__"]
        final = await client.runs.wait(thread["thread_id"], "agent", command=Command(resume="Edited text"))
        return thread, result, interrupts, final

    thread, result, interrupts, final = run(seed())
    assert UUID.match(thread["thread_id"])
    assert result["some_text"] == "original text"
    assert len(interrupts) == 1
    assert interrupts[0]["value"] == {"text_to_revise": "original text"}
    assert INTERRUPT_ID.match(interrupts[0]["id"])
    assert interrupts[0] == {"value": {"text_to_revise": "original text"}, "id": interrupts[0]["id"], "response_schema": None}
    assert final == {"some_text": "Edited text"}


def test_seed_flow_over_http_has_the_official_shapes_codes_and_headers(mock):
    with mock.http() as http:
        r = http.post("/threads", json={})
        assert r.status_code == 200  # not 201
        assert r.headers["content-type"] == "application/json"
        thread = r.json()
        tid = thread["thread_id"]
        assert thread["status"] == "idle" and thread["values"] is None and thread["metadata"] == {} and thread["config"] == {}
        assert "interrupts" not in thread and "error" not in thread  # only after a first run
        assert thread["created_at"] == thread["updated_at"] == thread["state_updated_at"]

        r = http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "agent", "input": {"some_text": "original text"}})
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        run_path = r.headers["content-location"]
        assert re.fullmatch(rf"/threads/{tid}/runs/[0-9a-f-]{{36}}", run_path)
        assert r.headers["location"] == run_path + "/join"
        body = r.json()
        [interrupt] = body["__interrupt__"]
        assert list(r.json()) == ["some_text", "__interrupt__"]
        assert list(interrupt) == ["value", "id", "response_schema"]  # the key order the official server sends
        assert body == {"some_text": "original text", "__interrupt__": [{"value": {"text_to_revise": "original text"}, "id": interrupt["id"], "response_schema": None}]}

        # The run that stopped at the interrupt reports success; only the thread says interrupted.
        run_obj = http.get(run_path).json()
        assert run_obj["status"] == "success" and run_obj["thread_id"] == tid and run_obj["multitask_strategy"] == "enqueue"
        assert run_obj["kwargs"]["input"] == {"some_text": "original text"} and run_obj["kwargs"]["stream_mode"] == ["values"]
        thread = http.get(f"/threads/{tid}").json()
        assert thread["status"] == "interrupted"
        assert thread["metadata"] == {"graph_id": "agent", "assistant_id": run_obj["assistant_id"]}
        assert thread["config"] == {"configurable": {}} and thread["error"] is None
        assert thread["values"] == {"some_text": "original text"}
        [(task_id, [listed])] = thread["interrupts"].items()
        assert listed == {"id": interrupt["id"], "value": {"text_to_revise": "original text"}}
        assert list(listed) == ["id", "value"]

        state = http.get(f"/threads/{tid}/state").json()
        assert state["next"] == ["human_node"]
        assert state["tasks"][0]["id"] == task_id and state["tasks"][0]["name"] == "human_node"
        assert state["tasks"][0]["interrupts"] == [listed] and state["interrupts"] == [listed]
        assert state["checkpoint"]["thread_id"] == tid and state["checkpoint"]["checkpoint_ns"] == ""
        assert state["checkpoint_id"] == state["checkpoint"]["checkpoint_id"]
        assert state["metadata"]["source"] == "loop" and state["metadata"]["step"] == 0

        r = http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "agent", "command": {"resume": "Edited text"}})
        assert r.status_code == 200 and r.json() == {"some_text": "Edited text"}
        thread = http.get(f"/threads/{tid}").json()
        assert thread["status"] == "idle" and thread["interrupts"] == {} and thread["values"] == {"some_text": "Edited text"}
        resume_run = http.get(r.headers["content-location"]).json()
        assert resume_run["kwargs"]["input"] is None and resume_run["kwargs"]["command"] == {"resume": "Edited text"}

        # History records the resume: newest first, the interrupted checkpoint's task now shows the node's write.
        history = http.post(f"/threads/{tid}/history", json={}).json()
        assert [h["next"] for h in history] == [[], ["human_node"], ["__start__"]]
        assert history[1]["tasks"][0]["interrupts"] == [listed]
        assert history[1]["tasks"][0]["result"] == {"some_text": "Edited text"}
        assert http.get(f"/threads/{tid}/history", params={"limit": 1}).json() == history[:1]

        runs = http.get(f"/threads/{tid}/runs").json()
        assert [x["run_id"] for x in runs] == [resume_run["run_id"], run_obj["run_id"]]  # newest first


def test_system_routes(mock):
    with mock.http() as http:
        assert http.get("/ok").json() == {"ok": True, "services": {}}
        info = http.get("/info").json()
        assert info["flags"]["assistants"] is True and info["langgraph_py_version"]
        found = http.post("/assistants/search", json={"graph_id": "agent"})
        assert found.headers["x-pagination-total"] == "1"
        [agent] = found.json()
        # The system assistant id is uuid5 of the graph id, as on the official server.
        assert agent["assistant_id"] == "fe096781-5601-53d2-b2f6-0d3403f7e9ca"
        assert http.get(f"/assistants/{agent['assistant_id']}").json() == agent
        ids = {a["graph_id"] for a in http.post("/assistants/search", json={"limit": 100}).json()}
        assert {"agent", "approve", "multi", "validate", "nointerrupt"} <= ids
        spec = http.get("/openapi.json").json()
        assert spec["openapi"].startswith("3.1") and "/threads/{thread_id}/runs/wait" in spec["paths"]


def test_resume_with_the_assistant_uuid_instead_of_the_graph_id(mock):
    with mock.http() as http:
        tid = http.post("/threads", json={}).json()["thread_id"]
        uuid = "fe096781-5601-53d2-b2f6-0d3403f7e9ca"
        first = http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": uuid, "input": {"some_text": "a"}}).json()
        assert first["__interrupt__"][0]["value"] == {"text_to_revise": "a"}
        assert http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": uuid, "command": {"resume": "b"}}).json() == {"some_text": "b"}
