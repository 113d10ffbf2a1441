"""The official JS client (@langchain/langgraph-sdk 1.15.0 and 2.0.0, unchanged) against the mock and the
official server: tests/js/flow.mjs runs the seed flow, a streaming flow, join and joinStream."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

JS = Path(__file__).resolve().parent / "js"
SDKS = ["sdk-1.15.0", "sdk-2.0.0"]


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """tests/js/node_modules, installed from the lockfile with `npm ci` when missing or stale."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.fail("node and npm are needed for the JS client tests (Node 20 is on these machines)")
    lock = (JS / "package-lock.json").read_bytes()
    stamp = JS / "node_modules" / ".hitl-lock-sha256"
    wanted = hashlib.sha256(lock).hexdigest()
    if not stamp.is_file() or stamp.read_text() != wanted:
        proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=JS, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, f"npm ci failed:\n{proc.stdout}\n{proc.stderr}"
        stamp.write_text(wanted)
    return JS / "node_modules"


def run_flow(sdk: str, url: str) -> dict:
    proc = subprocess.run(["node", "flow.mjs", sdk, url], cwd=JS, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, f"{sdk} against {url} failed:\n{proc.stdout}\n{proc.stderr}"
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["ok"] and summary["checks"] == 16, summary
    return summary


@pytest.mark.parametrize("sdk", SDKS)
def test_js_client_against_the_mock(sdk, node_modules, mock):
    run_flow(sdk, mock.url)


@pytest.mark.official
@pytest.mark.parametrize("sdk", SDKS)
def test_js_client_against_the_official_server(sdk, node_modules, official):
    run_flow(sdk, official)


# -- thread streams (protocol v2): `client.threads.stream`, in SDK 1.15.0 (2.0.0, older, has none) ------------------


def run_thread_streams(url: str, transport: str) -> dict:
    """tests/js/threads_stream.mjs: the seed flow, parallel interrupts by id, the validation loop and chat tokens.
    Node 20 has no global WebSocket, so the SDK's WebSocket transport needs `--experimental-websocket`."""
    proc = subprocess.run(
        ["node", "--experimental-websocket", "threads_stream.mjs", "sdk-1.15.0", url, transport], cwd=JS, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, f"threads.stream ({transport}) against {url} failed:\n{proc.stdout}\n{proc.stderr}"
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["ok"] and summary["checks"] == 13, summary
    return summary


@pytest.mark.parametrize("transport", ["sse", "websocket"])
def test_js_thread_streams_against_the_mock(transport, node_modules, mock):
    run_thread_streams(mock.url, transport)


@pytest.mark.official
@pytest.mark.parametrize("transport", ["sse", "websocket"])
def test_js_thread_streams_see_the_same_on_both_servers(transport, node_modules, official, mock, mock_graphs):
    """What the JS client observes (payloads, outputs, token texts, each event's method in seq order) is the same."""
    expected = run_thread_streams(official, transport)["observed"]
    for served in (mock_graphs, mock):
        assert run_thread_streams(served.url, transport)["observed"] == expected, served.source
