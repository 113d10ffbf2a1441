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
