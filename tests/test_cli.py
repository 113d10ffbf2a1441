"""`hitl-mock serve` as a user runs it: a real process, stopped by the test."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from mock_server.testing import free_port, wait_for_ok

HITL_MOCK = [sys.executable, "-m", "mock_server.cli"]
GRAPHS = Path(__file__).resolve().parent.parent / "fixtures" / "graphs" / "langgraph.json"


@contextmanager
def serving(*args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    port = free_port()
    proc = subprocess.Popen([*HITL_MOCK, "serve", "--port", str(port), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_for_ok(url, proc, timeout=30)
        except RuntimeError as exc:
            raise AssertionError(f"hitl-mock: {exc}: {proc.stderr.read() if proc.stderr else ''}") from None
        yield proc, url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def one_line_error(*args: str) -> str:
    proc = subprocess.run([*HITL_MOCK, *args], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


def test_serve_defaults_to_the_bundled_scenarios():
    with serving() as (_, url):
        ids = {a["graph_id"] for a in httpx.post(url + "/assistants/search", json={"limit": 50}).json()}
        assert ids == {"agent", "approve", "chat", "multi", "validate", "nointerrupt"}
        tid = httpx.post(url + "/threads", json={}).json()["thread_id"]
        result = httpx.post(f"{url}/threads/{tid}/runs/wait", json={"assistant_id": "agent", "input": {"some_text": "cli"}}).json()
        assert result["__interrupt__"][0]["value"] == {"text_to_revise": "cli"}


def test_serve_python_graphs_from_langgraph_json():
    with serving("--graphs", str(GRAPHS)) as (_, url):
        found = httpx.post(url + "/assistants/search", json={"graph_id": "approve"}).json()
        assert [a["graph_id"] for a in found] == ["approve"]


def test_busy_port_is_a_one_line_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_line_error("serve", "--port", str(port))
    assert line == f"hitl-mock: port {port} on 127.0.0.1 is already in use; pick another with --port"


def test_bad_scenario_file_is_a_one_line_error(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("graph_id: g\nedges: [[START, a]]\nnodes:\n  a:\n    - interupt: {q: 1}\n")
    line = one_line_error("serve", "--port", str(free_port()), "--scenarios", str(bad))
    assert line.startswith("hitl-mock: ") and "bad.yaml: nodes.a[0]: a step needs exactly one of" in line


def test_missing_paths_and_duplicate_ids(tmp_path: Path):
    assert "no such file or directory" in one_line_error("serve", "--scenarios", str(tmp_path / "nope"))
    scenarios = Path(__file__).resolve().parent.parent / "fixtures" / "scenarios"
    line = one_line_error("serve", "--port", str(free_port()), "--scenarios", str(scenarios), "--graphs", str(GRAPHS))
    assert "is defined more than once" in line


def test_serving_beyond_loopback_warns_that_the_admin_api_is_open():
    with serving("--host", "0.0.0.0") as (proc, url):
        assert httpx.post(f"{url}/__mock__/reset", headers={"origin": "http://evil.example"}).status_code == 403
    assert proc.stdout is not None and "the admin API (/__mock__/: reset, scenarios, faults) is open" in proc.stdout.read()
    with serving("--host", "0.0.0.0", "--admin-token", "s3cret") as (proc, url):
        assert httpx.post(f"{url}/__mock__/reset").status_code == 401
        assert httpx.post(f"{url}/__mock__/reset", headers={"x-admin-token": "s3cret"}).status_code == 204
    assert proc.stdout is not None and "is open" not in proc.stdout.read()


def test_a_bad_max_body_is_a_one_line_error():
    assert "--max-body must be a positive size" in one_line_error("serve", "--max-body", "lots")
