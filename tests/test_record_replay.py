"""Record & replay: `hitl-mock record` in front of the official server while the SDK drives HITL flows;
then the written scenarios replay them through the mock, and the SDK sees the same results."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from langgraph_sdk import get_client
from langgraph_sdk.schema import Command
from typer.testing import CliRunner

from contract_tests.cli import app as cli_app
from mock_server.record import Recorder, create_proxy
from mock_server.testing import MockServer, ServerThread

from .parity.normalize import Normaliser


async def _flows(url: str) -> list:
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


def _ids_hidden(results: list) -> list:
    return Normaliser()([dict(r) if isinstance(r, dict) else r for r in results])


@pytest.mark.official
def test_record_on_the_official_server_then_replay_on_the_mock(official, tmp_path: Path):
    out = tmp_path / "recorded.yaml"
    recorder = Recorder(official, out)
    with ServerThread(create_proxy(official, recorder)) as proxy:
        recorded = asyncio.run(_flows(proxy.url))
    files = sorted(p.name for p in tmp_path.glob("recorded*.yaml"))
    assert files == ["recorded.agent.yaml", "recorded.approve.yaml", "recorded.validate.yaml"]
    with MockServer(scenarios=[tmp_path]) as mock:
        replayed = asyncio.run(_flows(mock.url))
    assert _ids_hidden(replayed) == _ids_hidden(recorded)
    # and each recorded scenario verifies against the server it was recorded from, every path it saw
    for name, paths in (("agent", 1), ("approve", 3), ("validate", 1)):
        report = tmp_path / f"verify.{name}.json"
        result = CliRunner().invoke(cli_app, ["verify", official, "--scenario", str(tmp_path / f"recorded.{name}.yaml"), "--json", str(report)])
        assert result.exit_code == 0, result.output
        assert len(json.loads(report.read_text())["conversations"]) == paths
    # and an answer never seen while recording asks the same question again
    with MockServer(scenarios=[tmp_path / "recorded.approve.yaml"]) as mock:

        async def unseen():
            client = get_client(url=mock.url)
            tid = (await client.threads.create())["thread_id"]
            first = await client.runs.wait(tid, "approve", input={"request": "hello"})
            again = await client.runs.wait(tid, "approve", command=Command(resume={"action": "maybe"}))
            return first, again

        first, again = asyncio.run(unseen())
        assert [i["value"] for i in again["__interrupt__"]] == [i["value"] for i in first["__interrupt__"]]


def test_a_recorded_scenario_is_a_valid_scenario(tmp_path: Path):
    """The writer's output compiles, also for values with braces and for unseen inputs (an error, not a crash)."""
    from mock_server.record import Pause
    from mock_server.scenarios import compile_scenario

    recorder = Recorder("http://upstream", tmp_path / "r.yaml")
    first = Pause({"text": "a {curly} value"}, {"q": "ok?"})
    first.answers['"yes"'] = Pause({"text": "done"}, None, ended=True)
    recorder.graphs["g"] = {'{"text": "in"}': first}
    [path] = recorder.write()
    import yaml

    compile_scenario(yaml.safe_load(path.read_text()), str(path))
    with MockServer(scenarios=[path]) as mock:

        async def flow():
            client = get_client(url=mock.url)
            tid = (await client.threads.create())["thread_id"]
            paused = await client.runs.wait(tid, "g", input={"text": "in"})
            done = await client.runs.wait(tid, "g", command=Command(resume="yes"))
            other = await client.runs.wait((await client.threads.create())["thread_id"], "g", input={"text": "other"}, raise_error=False)
            return paused, done, other

        paused, done, other = asyncio.run(flow())
    assert paused["text"] == "a {curly} value" and paused["__interrupt__"][0]["value"] == {"q": "ok?"}
    assert done == {"text": "done"}
    assert other["__error__"]["message"] == "hitl-mock replay: this input was not seen while recording"


def test_record_refuses_an_unreachable_upstream(tmp_path: Path):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "mock_server.cli", "record", "--upstream", "http://127.0.0.1:9", "--out", str(tmp_path / "x.yaml")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.startswith("hitl-mock: cannot reach the upstream http://127.0.0.1:9") and "Traceback" not in proc.stderr
