"""Record & replay: `hitl-mock record` in front of a server while a client drives HITL flows; then the written
scenarios replay them through the mock, and the client cannot tell: the parity conversations of every fixture
give no difference under the parity normaliser (node names, event sequences, token chunks, interrupts)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import pytest
import yaml
from langgraph_sdk import get_client
from langgraph_sdk.schema import Command
from typer.testing import CliRunner

from contract_tests.cli import app as cli_app
from contract_tests.conversations import FLOWS, record
from contract_tests.diff import compare_logs
from hitl_spec import parse_sse
from mock_server.record import Recorder, create_proxy
from mock_server.scenarios import compile_scenario
from mock_server.scenarios.replay import set_speed
from mock_server.testing import MockServer, ServerThread

from .official import official_server
from .parity.normalize import Normaliser

GRAPHS = Path(__file__).parent.parent / "fixtures" / "graphs" / "langgraph.json"
# Every fixture behaviour: agent, approve (three branches), chat (both), multi (two ways), validate, nointerrupt,
# and the stream modes. (Stateless runs are not recorded: their thread is gone when they end.)
ROUND_TRIP = ["agent", "approve", "approve_edit", "approve_reject", "chat_approve", "chat_reject", "multi", "multi_map", "validate", "nointerrupt", "stream_modes"]


def _record_through(upstream: str, out: Path, names: list[str], headers: dict[str, str] | None = None, flows: dict | None = None, **options) -> dict[str, list]:
    recorder = Recorder(upstream, out, **options)
    chosen = {**{name: FLOWS[name] for name in names}, **(flows or {})}
    with ServerThread(create_proxy(upstream, recorder)) as proxy:
        return {name: record(proxy.url, flow, headers, keep_going=True) for name, flow in chosen.items()}


def _step(log: list, label: str) -> dict:
    return next(s for s in log if s["label"] == label)


@pytest.mark.official
def test_every_fixture_recorded_from_the_official_server_replays_without_a_difference(official, tmp_path: Path):
    recorded = _record_through(official, tmp_path / "recorded.yaml", ROUND_TRIP)
    files = sorted(p.name for p in tmp_path.glob("recorded*.yaml"))
    assert files == [f"recorded.{g}.yaml" for g in ("agent", "approve", "chat", "multi", "nointerrupt", "validate")]
    with MockServer(scenarios=[tmp_path]) as mock:
        replayed = {name: record(mock.url, FLOWS[name], keep_going=True) for name in ROUND_TRIP}
    for name in ROUND_TRIP:
        assert compare_logs(name, recorded[name], replayed[name]).differences == [], name
    # the seed flow keeps its node and its event sequence; the chat flow its token chunks and their node
    assert _step(replayed["agent"], "interrupted: state")["body"]["next"] == ["human_node"]
    stream = [e["event"] for e in _step(replayed["agent"], "stream resume")["body"]]
    assert stream == [e["event"] for e in _step(recorded["agent"], "stream resume")["body"]] and stream[0] == "metadata"
    chunks = [e["data"] for e in _step(replayed["chat_approve"], "ask")["body"] if e["event"] == "messages"]
    assert len(chunks) > 10 and {meta["langgraph_node"] for _, meta in chunks} == {"agent"}
    assert [c["content"] for c, _ in chunks] == [c["content"] for c, _ in (e["data"] for e in _step(recorded["chat_approve"], "ask")["body"] if e["event"] == "messages")]


def _chat_in_messages_mode(s) -> None:
    tid = s.thread()
    human = {"messages": [{"type": "human", "content": "Send an email to Bob"}]}
    s.call("ask", "POST", f"/threads/{tid}/runs/stream", {"assistant_id": "chat", "input": human, "stream_mode": ["messages", "updates"]})
    s.call("decide", "POST", f"/threads/{tid}/runs/stream", {"assistant_id": "chat", "command": {"resume": "approve"}, "stream_mode": ["messages-tuple", "messages"]})
    s.surfaces(tid, "done")


@pytest.mark.official
def test_messages_mode_partials_replay_as_they_were_streamed(official, tmp_path: Path):
    """`messages` mode (`messages/metadata`, `messages/partial`): recorded from its partials, replayed in both modes."""
    [recorded] = _record_through(official, tmp_path / "rec.yaml", [], flows={"chat": _chat_in_messages_mode}).values()
    with MockServer(scenarios=[tmp_path]) as mock:
        replayed = record(mock.url, _chat_in_messages_mode, keep_going=True)
    assert compare_logs("chat in messages mode", recorded, replayed).differences == []
    partials = [e for e in _step(replayed, "ask")["body"] if e["event"] == "messages/partial"]
    assert len(partials) > 10 and partials[-1]["data"][0]["content"] == "I plan to send the email to Bob now. Shall I proceed?"


async def _sdk_flows(url: str) -> list:
    client = get_client(url=url)
    seen: list = []

    async def thread() -> str:
        return (await client.threads.create())["thread_id"]

    tid = await thread()  # the seed flow
    seen.append(await client.runs.wait(tid, "agent", input={"some_text": "original text"}))
    seen.append(await client.runs.wait(tid, "agent", command=Command(resume="Edited text")))
    seen.append((await client.threads.get(tid))["values"])
    for decision in ({"action": "approve"}, {"action": "edit", "args": {"to": "alice@example.com"}}, {"action": "reject"}):
        tid = await thread()  # every approve branch, from the same input
        seen.append(await client.runs.wait(tid, "approve", input={"request": "hello"}))
        seen.append(await client.runs.wait(tid, "approve", command=Command(resume=decision)))
    tid = await thread()  # a validation loop
    seen.append(await client.runs.wait(tid, "validate", input={}))
    seen.append(await client.runs.wait(tid, "validate", command=Command(resume="abc")))
    seen.append(await client.runs.wait(tid, "validate", command=Command(resume=42)))
    seen.append((await client.threads.get_state(tid))["values"])
    return seen


@pytest.mark.official
def test_the_sdk_sees_the_same_and_each_recording_verifies_against_its_source(official, tmp_path: Path):
    out = tmp_path / "recorded.yaml"
    recorder = Recorder(official, out)
    with ServerThread(create_proxy(official, recorder)) as proxy:
        recorded = asyncio.run(_sdk_flows(proxy.url))
    with MockServer(scenarios=[tmp_path]) as mock:
        replayed = asyncio.run(_sdk_flows(mock.url))
    assert Normaliser()(replayed) == Normaliser()(recorded)
    for name, paths in (("agent", 1), ("approve", 3), ("validate", 1)):
        report = tmp_path / f"verify.{name}.json"
        result = CliRunner().invoke(cli_app, ["verify", official, "--scenario", str(tmp_path / f"recorded.{name}.yaml"), "--json", str(report)])
        assert result.exit_code == 0, result.output
        assert len(json.loads(report.read_text())["conversations"]) == paths


@pytest.fixture(scope="module")
def upstream():
    """The fixture graphs behind an API key, as a deployment would be."""
    with MockServer(graphs=GRAPHS, auth="api-key:sk-live-SECRET-123") as server:
        yield server


CREDENTIALS = {"x-api-key": "sk-live-SECRET-123", "Authorization": "Bearer tok-SECRET-456"}


def test_credentials_never_reach_a_recording_and_the_recorder_reads_with_them(upstream, tmp_path: Path):
    recorded = _record_through(upstream.url, tmp_path / "rec.yaml", ["agent", "chat_approve"], CREDENTIALS)
    texts = [p.read_text() for p in tmp_path.glob("rec*.yaml")]
    assert len(texts) == 2 and all("SECRET" not in t and "x-api-key" not in t.lower() and "authorization" not in t.lower() for t in texts)
    docs = [yaml.safe_load(t) for t in texts]
    assert all(d["recorded"]["nodes"] for d in docs)  # its state and history reads were let in
    with MockServer(scenarios=[tmp_path]) as mock:
        replayed = record(mock.url, FLOWS["chat_approve"], keep_going=True)
    assert compare_logs("chat_approve", recorded["chat_approve"], replayed).differences == []


def test_redact_replaces_regexes_and_paths(upstream, tmp_path: Path):
    _record_through(upstream.url, tmp_path / "rec.yaml", ["approve"], CREDENTIALS, redact=[r"[\w.]+@example\.com", "$..request"])
    text = (tmp_path / "rec.yaml").read_text()
    assert "@example.com" not in text and "to: '[redacted]'" in text  # the regex, in every string
    assert "request: hello" not in text and "request: '[redacted]'" in text and "body: hello" in text  # the path, at that key only


def test_recording_again_merges_and_what_was_never_recorded_is_named(upstream, tmp_path: Path):
    out = tmp_path / "rec.yaml"
    for text in ("first", "second"):  # two sessions into one file: the second adds its input and its answer
        recorder = Recorder(upstream.url, out)
        with ServerThread(create_proxy(upstream.url, recorder)) as proxy, httpx.Client(base_url=proxy.url, headers=CREDENTIALS) as http:
            tid = http.post("/threads", json={}).json()["thread_id"]
            http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "agent", "input": {"some_text": text}})
            http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "agent", "command": {"resume": text.upper()}})
    doc = yaml.safe_load(out.read_text())
    assert [s["state"]["some_text"] for s in doc["recorded"]["starts"]] == ["first", "second"]
    assert [e["input"]["some_text"] for e in doc["examples"]] == ["first", "second"]
    with MockServer(scenarios=[out]) as mock, httpx.Client(base_url=mock.url) as http:
        for text in ("first", "second"):
            tid = http.post("/threads", json={}).json()["thread_id"]
            asked = http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "agent", "input": {"some_text": text}}).json()
            assert asked["__interrupt__"][0]["value"] == {"text_to_revise": text}
            assert http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "agent", "command": {"resume": text.upper()}}).json() == {"some_text": text.upper()}
        tid = http.post("/threads", json={}).json()["thread_id"]
        unseen = http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "agent", "input": {"some_text": "third"}}).json()
        assert "this input was not recorded" in unseen["__error__"]["message"] and "third" in unseen["__error__"]["message"]
        tid = http.post("/threads", json={}).json()["thread_id"]
        http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "agent", "input": {"some_text": "first"}})
        wrong = http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "agent", "command": {"resume": "maybe"}}).json()
        assert "node 'human_node': the answer \"maybe\"" in wrong["__error__"]["message"] and '"FIRST"' in wrong["__error__"]["message"]


def test_token_streams_keep_their_chunks_and_pacing_and_replay_speed_0_is_instant(upstream, tmp_path: Path):
    _record_through(upstream.url, tmp_path / "rec.yaml", ["chat_approve"], CREDENTIALS)
    [said] = yaml.safe_load((tmp_path / "rec.yaml").read_text())["recorded"]["nodes"]["agent"][0]["say"]
    assert len(said["chunks"]) > 10 and sum(said["delays"]) > 0.1 and said["ls"]["ls_provider"] == "scriptedchatmodel"

    def ask(url: str) -> tuple[list, float]:
        with httpx.Client(base_url=url, timeout=30) as http:
            tid = http.post("/threads", json={}).json()["thread_id"]
            started = time.perf_counter()
            body = {"assistant_id": "chat", "input": {"messages": [{"role": "user", "content": "Send an email to Bob"}]}, "stream_mode": ["messages-tuple"]}
            events = parse_sse(http.post(f"/threads/{tid}/runs/stream", json=body).content)
            return [e["data"][0]["content"] for e in events if e["event"] == "messages"], time.perf_counter() - started

    with MockServer(scenarios=[tmp_path / "rec.yaml"]) as mock:
        paced, paced_s = ask(mock.url)
        set_speed(0)
        try:
            instant, instant_s = ask(mock.url)
        finally:
            set_speed(1)
    assert paced == instant == [c.get("content", "") for c in said["chunks"]]
    assert paced_s >= sum(said["delays"]) * 0.8 and instant_s < paced_s / 2, (paced_s, instant_s)


def test_say_with_explicit_chunks(tmp_path: Path):
    doc = {
        "graph_id": "typed",
        "edges": [["START", "talk"]],
        "state": {"messages": {"reducer": "messages"}},
        "nodes": {"talk": [{"say": "Hello there", "chunks": ["Hel", "lo", " there"], "delays": [0, 0.01, 0.01], "id": "msg-1"}]},
    }
    path = tmp_path / "typed.yaml"
    path.write_text(yaml.safe_dump(doc))
    compile_scenario(doc, str(path))
    with MockServer(scenarios=[path]) as mock, httpx.Client(base_url=mock.url) as http:
        body = {"assistant_id": "typed", "input": {"messages": []}, "stream_mode": ["messages-tuple", "values"]}
        events = parse_sse(http.post("/runs/stream", json=body).content)
    assert [e["data"][0]["content"] for e in events if e["event"] == "messages"] == ["Hel", "lo", " there"]
    assert events[-1]["data"]["messages"][-1]["content"] == "Hello there" and events[-1]["data"]["messages"][-1]["id"] == "msg-1"


def test_record_refuses_an_unreachable_upstream(tmp_path: Path):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "mock_server.cli", "record", "--upstream", "http://127.0.0.1:9", "--out", str(tmp_path / "x.yaml")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.startswith("hitl-mock: cannot reach the upstream http://127.0.0.1:9") and "Traceback" not in proc.stderr


def _v2_session(url: str, headers: dict[str, str]) -> list:
    """A thread-stream (protocol v2) session: run.start, then input.respond by interrupt id; the history after."""
    with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
        tid = http.post("/threads", json={}).json()["thread_id"]

        def settled() -> dict:
            for _ in range(200):
                thread = http.get(f"/threads/{tid}").json()
                if thread["status"] != "busy":
                    return thread
                time.sleep(0.05)
            raise AssertionError("the run did not end")

        start = {"id": 1, "method": "run.start", "params": {"assistant_id": "multi", "input": {"answers": []}}}
        assert http.post(f"/threads/{tid}/commands", json=start).json()["type"] == "success"
        pending = {i["value"]["q"]: i["id"] for group in settled()["interrupts"].values() for i in group}
        respond = {"id": 2, "method": "input.respond", "params": {"responses": [{"interrupt_id": pending["A?"], "response": "x"}, {"interrupt_id": pending["B?"], "response": "y"}]}}
        assert http.post(f"/threads/{tid}/commands", json=respond).json()["type"] == "success"
        [first] = [i["id"] for group in settled()["interrupts"].values() for i in group]
        answer = {"id": 3, "method": "input.respond", "params": {"interrupt_id": first, "response": "one"}}
        assert http.post(f"/threads/{tid}/commands", json=answer).json()["type"] == "success"
        settled()
        return http.post(f"/threads/{tid}/history", json={"limit": 20}).json()


def test_thread_stream_sessions_are_recorded_and_replayed(upstream, tmp_path: Path):
    recorder = Recorder(upstream.url, tmp_path / "rec.yaml")
    with ServerThread(create_proxy(upstream.url, recorder)) as proxy:
        source = _v2_session(proxy.url, CREDENTIALS)
    doc = yaml.safe_load((tmp_path / "rec.yaml").read_text())
    assert set(doc["recorded"]["nodes"]) == {"ask_a", "ask_b", "double"}
    with MockServer(scenarios=[tmp_path / "rec.yaml"]) as mock:
        replayed = _v2_session(mock.url, {})
    assert replayed[0]["next"] == ["double"] and sorted(replayed[0]["values"]["answers"]) == ["a=x", "b=y"]
    assert [i["value"] for i in replayed[0]["interrupts"]] == [{"q": "second?", "first": "one"}]
    assert Normaliser()(replayed) == Normaliser()(source)


def nested_flow(s) -> None:
    """A subgraph that interrupts (tests/graphs/nested.py): namespaced streams, the nested state, resumes by id and by value."""
    for how in ("id", "value"):
        tid = s.thread()
        events = s.call(f"{how}: start", "POST", f"/threads/{tid}/runs/stream", {"assistant_id": "nested", "input": {"topic": how}, "stream_mode": ["updates", "values"], "stream_subgraphs": True})
        s.call(f"{how}: state", "GET", f"/threads/{tid}/state")
        s.call(f"{how}: state with subgraphs", "GET", f"/threads/{tid}/state?subgraphs=true")
        s.call(f"{how}: history", "POST", f"/threads/{tid}/history", {"limit": 10})
        [iid] = [i["id"] for e in events if e["event"] == "updates" for i in e["data"].get("__interrupt__", [])]
        resume = {iid: "approved"} if how == "id" else "approved"
        s.call(f"{how}: resume", "POST", f"/threads/{tid}/runs/stream", {"assistant_id": "nested", "command": {"resume": resume}, "stream_mode": ["updates"], "stream_subgraphs": True})
        s.surfaces(tid, f"{how}: done")


def _with_nested(folder: Path) -> None:
    (folder / "nested.py").write_text((Path(__file__).parent / "graphs" / "nested.py").read_text())
    config = json.loads((folder / "langgraph.json").read_text())
    config["graphs"]["nested"] = {"path": "./nested.py:graph"}
    (folder / "langgraph.json").write_text(json.dumps(config))


@pytest.mark.official
def test_subgraph_interrupts_replay_with_their_namespaces(tmp_path: Path):
    with official_server(edit=_with_nested) as url:
        recorder = Recorder(url, tmp_path / "rec.yaml")
        source = _proxied_log(ServerThread(create_proxy(url, recorder)))
    recorded = yaml.safe_load((tmp_path / "rec.yaml").read_text())["recorded"]
    assert set(recorded["subgraphs"]) == {"editor"} and set(recorded["subgraphs"]["editor"]["nodes"]) == {"write", "review"}
    with MockServer(scenarios=[tmp_path / "rec.yaml"]) as mock:
        replayed = _session_log(mock.url)
    assert compare_logs("nested", source, replayed).differences == []
    namespaced = [e["event"] for e in _step(replayed, "id: start")["body"] if e["event"].startswith("updates|editor:")]
    assert len(namespaced) == 2  # write's update, then review's interrupt, from inside the subgraph


def _proxied_log(proxy: ServerThread) -> list:
    with proxy:
        return _session_log(proxy.url)


def _session_log(url: str) -> list:
    from contract_tests.conversations import Session

    session = Session(url)
    try:
        nested_flow(session)
    finally:
        session.close()
    return session.log
