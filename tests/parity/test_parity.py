"""Parity: every fixture behaviour, every branch, driven the same way against the official server
(`langgraph dev` on fixtures/graphs) and the mock (on the same Python graphs, and on the scenario files).
The recorded exchanges must be equal after the normaliser of `hitl-contract diff` (contract_tests/normalize.py)
— and nothing else — is applied."""

from __future__ import annotations

import json
import re

import pytest

from contract_tests.conversations import FLOWS, record
from contract_tests.diff import compare_logs

from .normalize import Normaliser

pytestmark = pytest.mark.official


def _normalised(log):
    return Normaliser()(log)


def _paths(expected, actual, path="") -> list[str]:
    """Where two JSON values differ, as `path: official != mock` lines."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for key in sorted(set(expected) | set(actual), key=str):
            if key not in actual:
                out.append(f"{path}.{key}: only on the official server ({json.dumps(expected[key])[:200]})")
            elif key not in expected:
                out.append(f"{path}.{key}: only on the mock ({json.dumps(actual[key])[:200]})")
            else:
                out += _paths(expected[key], actual[key], f"{path}.{key}")
        return out
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [line for i, (e, a) in enumerate(zip(expected, actual, strict=True)) for line in _paths(e, a, f"{path}[{i}]")]
    if expected != actual:
        return [f"{path}: {json.dumps(expected)[:300]} != {json.dumps(actual)[:300]}"]
    return []


def _first_difference(expected, actual) -> str:
    for i, (e, a) in enumerate(zip(expected, actual, strict=False)):
        if e != a:
            return f"exchange {i} ({e['label']!r}) differs (official != mock):\n  " + "\n  ".join(_paths(e, a)[:12])
    return f"{len(expected)} exchanges on the official server, {len(actual)} on the mock"


def _event_ids_increase(log) -> None:
    for exchange in log:
        if isinstance(exchange["body"], list):
            ids = [e["id"] for e in exchange["body"] if isinstance(e, dict) and "id" in e and "event" in e]
            keys = [tuple(int(x) for x in i.split("-")) for i in ids if re.fullmatch(r"\d+-\d+", i)]
            assert keys == sorted(keys), (exchange["label"], ids)


@pytest.fixture(scope="module")
def reference(official):
    """Each flow recorded once on the official server (about 1 s per run there)."""
    cache: dict[str, list] = {}

    def get(name: str) -> list:
        if name not in cache:
            cache[name] = record(official, FLOWS[name])
        return cache[name]

    return get


@pytest.mark.parametrize("flow", sorted(FLOWS))
def test_mock_answers_like_the_official_server(flow, reference, mock, mock_graphs):
    """The comparison `hitl-contract diff OFFICIAL MOCK` makes (contract_tests/diff.py), with nothing ignored."""
    _event_ids_increase(reference(flow))
    for served in (mock_graphs, mock):
        actual_log = record(served.url, FLOWS[flow])
        _event_ids_increase(actual_log)
        found = compare_logs(flow, reference(flow), actual_log).differences
        assert not found, f"[mock on {served.source}] step {found[0].step} ({found[0].label!r}) differs (official != mock):\n  " + "\n  ".join(
            f"{d.path}: {json.dumps(d.a)[:300]} != {json.dumps(d.b)[:300]}" for d in found if d.step == found[0].step
        )


async def _sdk_flow(url: str) -> list:
    """The seed flow and a streaming resume through the official Python SDK; what each call returned."""
    from langgraph_sdk import get_client
    from langgraph_sdk.schema import Command

    client = get_client(url=url)
    out: list = []
    thread = await client.threads.create()
    tid = thread["thread_id"]
    out.append(await client.runs.wait(tid, "agent", input={"some_text": "original text"}))
    out.append(await client.runs.wait(tid, "agent", command=Command(resume="Edited text")))
    out.append(await client.threads.get(tid))
    out.append([list(p) for p in [part async for part in client.runs.stream(tid, "approve", input={"request": "hi"}, stream_mode=["values", "updates"])]])
    out.append([list(p) for p in [part async for part in client.runs.stream(tid, "approve", command=Command(resume={"action": "approve"}), stream_mode="updates")]])
    out.append(await client.threads.get_state(tid))
    out.append(await client.threads.get_history(tid, limit=3))
    run = await client.runs.create(tid, "agent", input={"some_text": "bg"})
    out.append(await client.runs.join(tid, run["run_id"]))
    out.append(await client.runs.get(tid, run["run_id"]))
    return out


def test_python_sdk_sees_the_same(official, mock, mock_graphs):
    import asyncio

    expected = _normalised(asyncio.run(_sdk_flow(official)))
    for served in (mock_graphs, mock):
        actual = _normalised(asyncio.run(_sdk_flow(served.url)))
        assert actual == expected, f"[mock on {served.source}]\n  " + "\n  ".join(_paths(expected, actual)[:12])
