"""`hitl-contract diff URL_A URL_B`: the same conversations on two servers, compared after normalisation.

Against the official server the comparison is the parity test's (tests/parity/test_parity.py runs every
conversation there and compares it with `compare_logs`, nothing ignored). Here: the engine on recordings made
to differ, and the command between two mocks, one of them deviating on purpose."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from contract_tests.cli import app
from contract_tests.conversations import FLOWS, STOPPED
from contract_tests.diff import MISSING, compare_logs
from mock_server.testing import MockServer


def _log(thread_id: str, status: str = "interrupted") -> list[dict]:
    return [
        {"label": "create thread", "status": 200, "headers": {}, "body": {"thread_id": thread_id, "created_at": "2026-01-01T00:00:00+00:00"}},
        {"label": "thread", "status": 200, "headers": {}, "body": {"thread_id": thread_id, "status": status}},
    ]


def test_ids_and_timestamps_are_renamed_not_compared():
    a = _log("01a23cd9-6717-7534-ade6-a2266c6c4334")
    b = _log("1ef9e3b2-0000-6000-8000-000000000001")
    assert compare_logs("c", a, b).differences == []


def test_a_changed_value_is_named_by_step_and_path():
    found = compare_logs("c", _log("01a23cd9-6717-7534-ade6-a2266c6c4334"), _log("01a23cd9-6717-7534-ade6-a2266c6c4335", "idle")).differences
    assert [(d.step, d.label, d.path, d.a, d.b) for d in found] == [(2, "thread", "body.status", "interrupted", "idle")]


def test_a_missing_step_and_a_missing_key_are_differences():
    a = _log("01a23cd9-6717-7534-ade6-a2266c6c4334")
    b = [a[0], {**a[1], "body": {"thread_id": a[1]["body"]["thread_id"]}}]
    assert [(d.path, d.a, d.b) for d in compare_logs("c", a, b).differences] == [("body.status", "interrupted", MISSING)]
    found = compare_logs("c", a, a[:1]).differences
    assert [(d.step, d.path, d.b) for d in found] == [(2, "", MISSING)]


@pytest.mark.parametrize("pattern", ["body.status", "body.*", "c:body.status", "c:*"])
def test_ignore_patterns_match_the_path_or_conversation_and_path(pattern):
    result = compare_logs("c", _log("01a23cd9-6717-7534-ade6-a2266c6c4334"), _log("01a23cd9-6717-7534-ade6-a2266c6c4334", "idle"), [pattern])
    assert (result.differences, result.ignored) == ([], 1)
    assert compare_logs("c", _log("x"), _log("x", "idle"), ["other:*", "body.values"]).differences


# -- the command, between two mocks ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mocks():
    servers = {
        "plain": MockServer().start(),
        "plain2": MockServer().start(),
        "idle": MockServer(deviations={"thread-idle-when-interrupted"}).start(),
        "no-interrupt": MockServer(deviations={"wait-without-interrupt"}).start(),
    }
    yield {name: s.url for name, s in servers.items()}
    for s in servers.values():
        s.stop()


def _diff(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["diff", *args], env={"COLUMNS": "200"})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def test_two_servers_that_agree_have_no_differences(mocks, tmp_path):
    code, out = _diff(mocks["plain"], mocks["plain2"], "--json", str(tmp_path / "d.json"))
    assert code == 0, out
    assert f"no differences in {len(FLOWS)} conversations" in out
    report = json.loads((tmp_path / "d.json").read_text())
    assert report["identical"] and [c["name"] for c in report["conversations"]] == list(FLOWS)
    assert all(c["steps"][0] == c["steps"][1] > 3 for c in report["conversations"])  # every conversation ran through


def test_a_deviation_is_found_at_its_step(mocks, tmp_path):
    code, out = _diff(mocks["plain"], mocks["idle"], "-c", "agent", "-c", "approve", "--json", str(tmp_path / "d.json"))
    assert code == 1, out
    found = json.loads((tmp_path / "d.json").read_text())["conversations"][0]["differences"]
    # Only the thread read while the interrupt is pending differs; the thread after the resume is idle on both.
    assert [(d["step"], d["label"], d["path"], d["a"], d["b"]) for d in found] == [(5, "interrupted: thread", "body.status", "interrupted", "idle")]
    assert "agent, step 5 (interrupted: thread)" in out
    assert re.search(r"A was sent: curl -sS -X GET http://127\.0\.0\.1:\d+/threads/[0-9a-f-]{36}", out)
    assert "differences in 2 of 2 conversations" in out


def test_ignored_differences_do_not_fail(mocks):
    code, out = _diff(mocks["plain"], mocks["idle"], "-c", "agent", "--ignore", "body.status")
    assert code == 0, out
    assert "1 ignored by --ignore" in out


def test_a_conversation_one_server_cannot_finish_ends_where_they_parted(mocks, tmp_path):
    code, out = _diff(mocks["plain"], mocks["no-interrupt"], "-c", "agent", "--json", str(tmp_path / "d.json"))
    assert code == 1, out
    conversation = json.loads((tmp_path / "d.json").read_text())["conversations"][0]
    first = conversation["differences"][0]
    assert (first["label"], first["path"]) == ("wait with input", "body.__interrupt__")
    assert conversation["steps"][1] < conversation["steps"][0]
    stopped = next(d for d in conversation["differences"] if d["path"] == "label")
    assert (stopped["step"], stopped["b"]) == (conversation["steps"][1], STOPPED)
    body = next(d for d in conversation["differences"] if d["step"] == stopped["step"] and d["path"] == "body")
    assert "KeyError" in body["b"]
    assert conversation["differences"][-1]["b"] == MISSING  # A's later steps, which B never reached
    assert f"{STOPPED}" in out


def test_bad_input_is_a_clear_usage_error(mocks):
    code, out = _diff(mocks["plain"], "http://127.0.0.1:1")
    assert code == 2 and "cannot reach http://127.0.0.1:1" in out and "Traceback" not in out
    code, out = _diff(mocks["plain"], mocks["plain2"], "-c", "nope")
    assert code == 2 and "unknown conversation nope" in out
    code, out = _diff("a", "b", "--list")
    assert code == 0 and all(name in out for name in FLOWS)


def test_a_scenarios_conversations_can_be_diffed(mocks, tmp_path):
    """`--scenario`: verify's conversations (examples and branches), server A's answers as the expectation."""
    scenario = tmp_path / "approve.yaml"
    scenario.write_text((Path(__file__).resolve().parent.parent / "fixtures" / "scenarios" / "approve.yaml").read_text())
    code, out = _diff(mocks["plain"], mocks["plain2"], "--scenario", str(scenario))
    assert code == 0 and "all 5 conversations match" in out, out
    code, out = _diff(mocks["plain"], mocks["idle"], "--scenario", str(scenario), "--json", str(tmp_path / "d.json"))
    assert code == 1, out
    first = json.loads((tmp_path / "d.json").read_text())["conversations"][0]["differences"][0]
    assert (first["step"], first["what"], first["expected"], first["actual"]) == (1, "status", "interrupted", "idle")
