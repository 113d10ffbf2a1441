"""The mock's controls under /__mock__/: the request journal, run-time scenarios, reset, deviations —
exercised through the official Python SDK, and through `MockServer`'s methods."""

from __future__ import annotations

import time

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.schema import Command

from mock_server.settings import Settings
from mock_server.testing import MockServer

from .conftest import SCENARIOS, _serve
from .helpers import run

GREETER = """
graph_id: greeter
description: Greets whoever it is told to.
state: {name: string, greeting: string}
edges: [[START, greet]]
nodes:
  greet:
    - interrupt: {confirm: "Greet {state.name}?"}
      as: ok
    - update: {greeting: "Hello, {state.name}!"}
"""


@pytest.fixture(scope="module")
def admin_mock():
    yield from _serve(scenarios=[SCENARIOS])


@pytest.fixture
def served(admin_mock):  # the spec check in conftest covers this server too
    return admin_mock


def test_the_journal_shows_what_the_sdk_sent(served):
    server = served.server
    server.clear_requests()

    async def seed():
        client = get_client(url=served.url)
        thread = await client.threads.create()
        await client.runs.wait(thread["thread_id"], "agent", input={"some_text": "original text"})
        await client.runs.wait(thread["thread_id"], "agent", command=Command(resume="Edited text"))
        return thread["thread_id"]

    tid = run(seed())
    waits = server.requests(method="POST", path=r"/runs/wait$")
    assert [w["path"] for w in waits] == [f"/threads/{tid}/runs/wait"] * 2
    assert waits[0]["body"] == {"input": {"some_text": "original text"}, "assistant_id": "agent"}
    # what a frontend test wants to know: the resume went out as command.resume, not as new input
    assert waits[1]["body"]["command"] == {"resume": "Edited text"} and "input" not in waits[1]["body"]
    assert all(w["status"] == 200 for w in waits)
    everything = server.requests()
    assert [e["method"] for e in everything] == ["POST", "POST", "POST"]
    assert server.requests(since=everything[0]["seq"]) == everything[1:]
    assert not any(e["path"].startswith("/__mock__/") for e in everything)
    server.clear_requests()
    assert server.requests() == []


def test_the_journal_lists_a_body_with_an_integer_beyond_64_bits(served):
    """Found by the linked schemathesis sequences: such a body made GET /__mock__/requests answer 500."""
    served.server.clear_requests()
    created = httpx.post(f"{served.url}/threads", content=b'{"metadata": {"n": 123456789012345678901234567890}}', headers={"content-type": "application/json"})
    assert created.status_code == 200
    listed = httpx.get(f"{served.url}/__mock__/requests")
    assert listed.status_code == 200, listed.text
    assert listed.json()[0]["body"] == {"metadata": {"n": created.json()["metadata"]["n"]}}  # what the API itself read


def test_journal_path_filters_are_re2_patterns(served):
    """A pattern that does not compile is a 422 with the reason (it was a plain-text 500), and a catastrophic one
    for a backtracking engine answers at once."""
    bad = httpx.get(f"{served.url}/__mock__/requests", params={"path": "("})
    assert bad.status_code == 422 and "missing )" in bad.json()["detail"], bad.text
    backref = httpx.get(f"{served.url}/__mock__/requests", params={"path": r"(a)\1"})
    assert backref.status_code == 422 and "no backreferences" in backref.json()["detail"], backref.text
    httpx.get(f"{served.url}/threads/" + "a" * 5000 + "!")  # a long path in the journal
    took = time.perf_counter()
    slow = httpx.get(f"{served.url}/__mock__/requests", params={"path": "^/threads/(a+)+$"})
    assert slow.status_code == 200 and time.perf_counter() - took < 2, "the pattern stalled the server"


def test_a_scenario_matches_pattern_re2_refuses_is_a_load_error(served):
    doc = {"graph_id": "badpattern", "nodes": {"n": [{"if": {"value": "{state.x}", "matches": "(?=x)"}, "then": [{"update": {"x": "y"}}]}]}, "edges": [["START", "n"], ["n", "END"]]}
    answer = httpx.post(f"{served.url}/__mock__/scenarios", json=doc)
    assert answer.status_code == 422 and "matches" in answer.json()["detail"] and "RE2" in answer.json()["detail"], answer.text


def test_scenarios_load_and_go_at_run_time(served):
    server = served.server
    created = server.load_scenario(GREETER)
    assert created["graph_id"] == "greeter" and created["description"] == "Greets whoever it is told to."

    async def greet():
        client = get_client(url=served.url)
        thread = await client.threads.create()
        first = await client.runs.wait(thread["thread_id"], "greeter", input={"name": "Ada"})
        final = await client.runs.wait(thread["thread_id"], "greeter", command=Command(resume=True))
        return first, final

    first, final = run(greet())
    assert first["__interrupt__"][0]["value"] == {"confirm": "Greet Ada?"}
    assert final == {"name": "Ada", "greeting": "Hello, Ada!"}
    assert "greeter" in {s["graph_id"] for s in server.scenarios()}
    server.remove_scenario("greeter")
    with httpx.Client(base_url=served.url) as http:
        tid = http.post("/threads", json={}).json()["thread_id"]
        assert http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "greeter", "input": {}}).status_code == 422
        bad = http.post("/__mock__/scenarios", content=b"graph_id: x\nnodes: {a: [{interupt: 1}]}\nedges: [[START, a]]", headers={"content-type": "application/yaml"})
        assert bad.status_code == 422 and "a step needs exactly one of" in bad.json()["detail"]
        assert http.delete("/__mock__/scenarios/nope").status_code == 404


def test_reset_forgets_every_thread(served):
    server = served.server
    with httpx.Client(base_url=served.url) as http:
        tid = http.post("/threads", json={}).json()["thread_id"]
        http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "agent", "input": {"some_text": "x"}})
        server.reset()
        assert http.get(f"/threads/{tid}").status_code == 404
        assert http.post("/threads/count", json={}).json() == 0
        # the journal was emptied too: it holds only what came after the reset
        assert [(e["method"], e["path"]) for e in server.requests()] == [("GET", f"/threads/{tid}"), ("POST", "/threads/count")]
        assert http.post("/assistants/search", json={"graph_id": "agent"}).status_code == 200  # graphs stay


def test_stats_count_what_the_mock_holds(served):
    served.server.reset()
    with httpx.Client(base_url=served.url) as http:
        tid = http.post("/threads", json={}).json()["thread_id"]
        run = http.post(f"/threads/{tid}/runs", json={"assistant_id": "agent", "input": {"some_text": "x"}}).json()
        _until(lambda: http.get(f"/threads/{tid}/runs/{run['run_id']}").json()["status"] != "pending")
        held = http.get("/__mock__/stats").json()
        # a background run nobody has joined yet keeps its events for its first joiner
        assert held["threads"] == held["runs"] == held["checkpointed_threads"] == 1 and held["buffered_events"] > 0
        http.get(f"/threads/{tid}/runs/{run['run_id']}/join")
        after = http.get("/__mock__/stats").json()
        assert (after["active_runs"], after["run_tasks"], after["subscribers"], after["buffered_events"]) == (0, 0, 0, 0)
        assert after["tasks"] >= 1 and after["journal_entries"] >= 4


def _until(check, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_deviations_switch_at_run_time(served):
    server = served.server
    try:
        assert server.set_deviations("plain-text-404") == ["plain-text-404"]
        with httpx.Client(base_url=served.url) as http:
            r = http.get("/threads/00000000-0000-4000-8000-000000000000")
            assert r.status_code == 404 and r.text == "Not Found" and r.headers["content-type"].startswith("text/plain")
            bad = http.put("/__mock__/deviations", json={"active": ["no-such-bug"]})
            assert bad.status_code == 422 and "unknown deviation profile" in bad.json()["detail"]
    finally:
        served.recorder.take()  # the deliberate text/plain 404 is off-contract by design
        server.set_deviations()
    with httpx.Client(base_url=served.url) as http:
        assert http.get("/threads/00000000-0000-4000-8000-000000000000").json()["detail"].startswith("Thread with ID")


def test_admin_can_be_turned_off():
    from pathlib import Path

    from starlette.testclient import TestClient

    from mock_server.app import create_app
    from mock_server.scenarios import load_scenarios
    from mock_server.settings import Settings

    app = create_app(load_scenarios([Path(SCENARIOS)]), Settings(admin=False))
    with TestClient(app) as client:
        assert client.get("/__mock__/requests").status_code == 404
        assert client.get("/ok").status_code == 200


def test_mock_server_as_a_context_manager():
    with MockServer() as server:
        url = server.url
        assert httpx.get(url + "/ok").status_code == 200
        assert {s["graph_id"] for s in server.scenarios()} >= {"agent", "approve"}
    with pytest.raises(httpx.HTTPError):
        httpx.get(url + "/ok", timeout=2)  # stopped on exit


def test_the_hitl_mock_fixture_in_a_users_project(tmp_path):
    import subprocess
    import sys

    (tmp_path / "test_frontend_contract.py").write_text(
        "import httpx\n"
        "def test_resume_is_sent_as_a_command(hitl_mock):\n"
        "    hitl_mock.set_faults({'latency': 0.01, 'route': 'POST /threads'})\n"
        "    tid = httpx.post(hitl_mock.url + '/threads', json={}).json()['thread_id']\n"
        "    httpx.post(f'{hitl_mock.url}/threads/{tid}/runs/wait', json={'assistant_id': 'agent', 'command': {'resume': 'x'}})\n"
        "    [sent] = hitl_mock.requests(path='/runs/wait')\n"
        "    assert sent['body']['command'] == {'resume': 'x'}\n"
    )
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "1 passed" in proc.stdout, proc.stdout + proc.stderr


def test_pages_on_other_origins_cannot_use_the_admin_api(served):
    """The attack in issue 10: a CORS "simple" POST (text/plain, no preflight) from another origin reset the mock."""
    url = served.url
    tid = httpx.post(f"{url}/threads", json={}).json()["thread_id"]
    attacks = [
        ({"origin": "http://evil.example", "content-type": "text/plain"}, 403),
        ({"sec-fetch-site": "cross-site", "content-type": "text/plain"}, 403),
        ({"origin": "null"}, 403),
        ({"content-type": "text/plain"}, 415),  # a browser would send this cross-origin without asking
        ({"content-type": "application/x-www-form-urlencoded"}, 415),
    ]
    for headers, status in attacks:
        answer = httpx.post(f"{url}/__mock__/reset", headers=headers, content=b"x")
        assert answer.status_code == status and "detail" in answer.json(), (headers, answer.status_code, answer.text)
        assert "access-control-allow-origin" not in answer.headers
    preflight = httpx.options(f"{url}/__mock__/reset", headers={"origin": "http://evil.example", "access-control-request-method": "POST"})
    assert preflight.status_code == 403 and "access-control-allow-origin" not in preflight.headers
    assert httpx.get(f"{url}/threads/{tid}").status_code == 200, "the thread was deleted"
    # the contract routes keep CORS, as the official server answers it
    contract = httpx.options(f"{url}/threads", headers={"origin": "http://evil.example", "access-control-request-method": "POST"})
    assert contract.status_code == 200 and contract.headers["access-control-allow-origin"] in ("*", "http://evil.example")
    # same origin, and tools that are not browsers, still work
    same = httpx.get(f"{url}/__mock__/requests", headers={"origin": url, "sec-fetch-site": "same-origin"})
    assert same.status_code == 200 and "access-control-allow-origin" not in same.headers


def test_the_admin_token_guards_the_admin_api():
    with MockServer(settings=Settings(admin_token="t0ken")) as server:
        assert httpx.post(f"{server.url}/__mock__/reset").status_code == 401
        assert httpx.post(f"{server.url}/__mock__/reset", headers={"authorization": "Bearer wrong"}).status_code == 401
        assert httpx.post(f"{server.url}/__mock__/reset", headers={"authorization": "Bearer t0ken"}).status_code == 204
        server.reset()  # MockServer sends the token it was given
        assert httpx.get(f"{server.url}/threads/00000000-0000-4000-8000-000000000000").status_code == 404  # contract routes need none
