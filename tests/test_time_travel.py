"""Time travel, HITL's other half: read a past checkpoint, fork a run or a state edit from it, copy a thread. Through
the official Python client on the mock, and through the official JS client on the mock and the official server,
compared under the parity normaliser."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from langgraph_sdk import get_client

from .helpers import run
from .parity.normalize import Normaliser
from .test_js_client import JS, SDKS, node_modules  # noqa: F401  (the fixture)

ECHO = ("checkpoint",)  # the state at a checkpoint echoes the address it was asked by (no checkpoint_ns)


def _same_state(at: dict[str, Any], entry: dict[str, Any]) -> None:
    assert {k: v for k, v in at.items() if k not in ECHO} == {k: v for k, v in entry.items() if k not in ECHO}
    assert at["checkpoint"]["checkpoint_id"] == entry["checkpoint"]["checkpoint_id"]


def test_time_travel_through_the_python_client(served):
    async def flow() -> None:
        client = get_client(url=served.url)
        tid = (await client.threads.create())["thread_id"]
        first = await client.runs.wait(tid, "agent", input={"some_text": "original"})
        history = await client.threads.get_history(tid)
        asked, older = history[0]["checkpoint"]["checkpoint_id"], history[-1]["checkpoint"]["checkpoint_id"]
        _same_state(await client.threads.get_state(tid, checkpoint_id=asked), history[0])
        _same_state(await client.threads.get_state(tid, checkpoint={"checkpoint_id": older, "checkpoint_ns": ""}), history[-1])

        assert (await client.runs.wait(tid, "agent", command={"resume": "first"}))["some_text"] == "first"
        before = await client.threads.get_history(tid, before={"configurable": {"checkpoint_id": asked}})
        assert [h["checkpoint"]["checkpoint_id"] for h in before] == [older]

        fork = await client.runs.wait(tid, "agent", input=None, checkpoint_id=asked)
        assert fork["__interrupt__"][0]["value"] == first["__interrupt__"][0]["value"]
        assert fork["__interrupt__"][0]["id"] != first["__interrupt__"][0]["id"], "a fork asks again, with a new id"
        assert (await client.runs.wait(tid, "agent", command={"resume": "second"}))["some_text"] == "second"

        edit = await client.threads.update_state(tid, {"some_text": "edited"}, checkpoint_id=older)
        state = await client.threads.get_state(tid)
        assert state["checkpoint"]["checkpoint_id"] == edit["checkpoint_id"] and state["parent_checkpoint"]["checkpoint_id"] == older
        asked_again = await client.runs.wait(tid, "agent", input=None)
        assert asked_again["__interrupt__"][0]["value"] == {"text_to_revise": "edited"}

        copy = await client.threads.copy(tid)
        assert copy["thread_id"] != tid and copy["status"] == "idle" and "values" not in copy
        assert (await client.threads.get_state(copy["thread_id"]))["values"] == {"some_text": "edited"}
        assert (await client.runs.wait(copy["thread_id"], "agent", command={"resume": "on the copy"}))["some_text"] == "on the copy"
        assert (await client.threads.get_state(tid))["next"] == ["human_node"], "resuming the copy changed the source"

    run(flow())


def _js_time_travel(sdk: str, url: str) -> list[dict[str, Any]]:
    proc = subprocess.run(["node", "time_travel.mjs", sdk, url], cwd=JS, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, f"{sdk} against {url} failed:\n{proc.stdout}\n{proc.stderr}"
    log: list[dict[str, Any]] = json.loads(proc.stdout.strip().splitlines()[-1])
    return log


@pytest.mark.official
@pytest.mark.parametrize("sdk", SDKS)
def test_time_travel_through_the_js_client_matches_the_official_server(sdk, node_modules, official, mock):  # noqa: F811
    expected = Normaliser()(_js_time_travel(sdk, official))
    actual = Normaliser()(_js_time_travel(sdk, mock.url))
    for want, got in zip(expected, actual, strict=True):
        assert got == want, f"{want['label']}: official {json.dumps(want['body'])[:600]}\n mock {json.dumps(got['body'])[:600]}"
