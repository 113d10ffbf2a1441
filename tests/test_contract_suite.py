"""The conformance suite as users run it: `hitl-contract run URL` and `pytest --hitl-url URL`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

from contract_tests.clauses import CLAUSES
from mock_server.deviations import DEVIATIONS, LOAD_ONLY
from mock_server.testing import MockServer

from .proxy import RefusingProxy

CLI = [sys.executable, "-m", "contract_tests.cli"]

# What each deviation profile must make fail: exactly these clauses, and no other (measured with the quick profile;
# the checks are derandomized, so this is reproducible). Together they fail every MUST clause (a test checks it).
CAUGHT_BY = {
    "cancel-ignored": {"HITL-CANCEL-001"},
    "error-as-string": {"HITL-ERR-006", "HITL-SCHEMA-001"},
    "history-oldest-first": {"HITL-HIST-001", "HITL-HIST-002"},
    "history-without-task-results": {"HITL-HIST-002", "HITL-TT-001"},
    "ignore-command-update": {"HITL-CMD-001", "HITL-CMD-002"},
    # run.start creates its thread as a run with if_not_exists=create does, so the thread-stream checks fail with it
    "ignore-if-not-exists": {"HITL-IGNORE-001", "HITL-TS-001", "HITL-TS-002", "HITL-TS-003", "HITL-TS-004"},
    "ignore-interrupt-before": {"HITL-BP-001", "HITL-BP-002"},
    "ignore-multitask": {"HITL-MT-001", "HITL-MT-003", "HITL-MT-004"},
    "ignore-run-checkpoint": {"HITL-TT-002"},
    "ignore-resume-map": {"HITL-MODEL-001", "HITL-RESUME-002", "HITL-RESUME-004", "HITL-RESUME-005", "HITL-TS-002", "HITL-TS-004", "HITL-TT-002"},
    "ignore-stream-resumable": {"HITL-RESUMABLE-001", "HITL-RESUMABLE-002", "HITL-RESUMABLE-003"},
    "input-ascii-only": {"HITL-INT-001"},
    "input-requested-own-ids": {"HITL-TS-001"},
    "interrupted-run-status": {"HITL-RUN-001"},
    "invalid-body-500": {"HITL-ERR-005", "HITL-SCHEMA-001", "HITL-SCHEMA-002"},
    "join-returns-empty": {"HITL-JOIN-001"},
    "last-event-id-ignored": {"HITL-RESUMABLE-002", "HITL-RESUMABLE-003"},
    "lifecycle-completed-at-interrupt": {"HITL-TS-002"},
    "malformed-json-400": {"HITL-ERR-004"},
    "messages-tuple-verbatim": {"HITL-SCHEMA-001", "HITL-SSE-004"},
    "new-input-resumes": {"HITL-INPUT-001"},
    "null-input-restarts": {"HITL-BP-003"},
    "parallel-interrupts-share-id": {"HITL-INT-003", "HITL-SURFACE-001"},
    "plain-text-404": {"HITL-ERR-001", "HITL-ERR-003", "HITL-SCHEMA-001"},
    "reinterrupt-reuses-id": {"HITL-INPUT-001", "HITL-RESUME-007", "HITL-RESUME-008"},
    "reject-by-default": {"HITL-MT-002"},
    "resume-stream-truncated": {"HITL-SSE-009"},
    "respond-answers-all": {"HITL-TS-004"},
    "respond-unknown-id-resumes": {"HITL-TS-003"},
    "resume-value-stringified": {"HITL-CMD-002", "HITL-INT-004", "HITL-RESUME-001", "HITL-RESUME-007"},
    "runs-oldest-first": {"HITL-RUN-002"},
    "single-resume-fills-all": {"HITL-RESUME-003"},
    "sse-unnamed-events": {
        "HITL-JOIN-002", "HITL-RESUMABLE-002", "HITL-RESUMABLE-003", "HITL-SCHEMA-001", "HITL-SSE-002", "HITL-SSE-003",
        "HITL-SSE-004", "HITL-SSE-005", "HITL-SSE-006", "HITL-SSE-007", "HITL-SSE-008", "HITL-SSE-009",
        "HITL-SURFACE-001",
    },
    "state-at-checkpoint-is-head": {"HITL-TT-001"},
    "state-next-empty": {"HITL-BP-001", "HITL-BP-002", "HITL-STATE-001"},
    "state-stale-next": {"HITL-STATE-004"},
    "state-tasks-without-interrupts": {"HITL-MODEL-001", "HITL-RESUME-005", "HITL-STATE-002", "HITL-SURFACE-001"},
    "state-without-interrupts": {"HITL-MODEL-001", "HITL-RESUME-005", "HITL-STATE-003", "HITL-SURFACE-001"},
    "stateless-resume-accepted": {"HITL-STATELESS-002"},
    "stateless-wait-without-interrupt": {"HITL-STATELESS-001"},
    "stream-as-text-plain": {"HITL-SCHEMA-001", "HITL-SSE-001"},
    "stream-error-dropped": {"HITL-SSE-008"},
    "stream-without-content-location": {"HITL-SSE-007"},
    "stream-without-metadata": {"HITL-SSE-002", "HITL-SSE-007"},
    "thread-idle-when-interrupted": {"HITL-BP-001", "HITL-MODEL-001", "HITL-RESUME-006", "HITL-THREAD-001"},
    "thread-interrupts-null": {"HITL-SCHEMA-001", "HITL-THREAD-003"},
    "thread-values-null": {"HITL-INT-004", "HITL-RESUME-001", "HITL-THREAD-004"},
    "thread-without-interrupts": {"HITL-THREAD-002", "HITL-THREAD-003"},
    "unknown-assistant-500": {"HITL-ERR-001", "HITL-ERR-002", "HITL-SCHEMA-001", "HITL-SCHEMA-002"},
    "unknown-resume-id-resumes-first": {"HITL-MODEL-001", "HITL-RESUME-006"},
    "updates-without-interrupt": {"HITL-SSE-004", "HITL-SSE-005", "HITL-SURFACE-001"},
    "uppercase-interrupt-ids": {"HITL-INT-002", "HITL-RESUME-002", "HITL-RESUME-004", "HITL-RESUME-005", "HITL-SCHEMA-001", "HITL-TS-002", "HITL-TS-004", "HITL-TT-002"},
    "validation-detail-without-field": {"HITL-ERR-005"},
    "values-without-interrupt": {"HITL-SSE-006", "HITL-SURFACE-001"},
    "wait-without-content-location": {"HITL-WAIT-003"},
    # The checks that need an interrupt id read it from the thread's surfaces; only the clauses about wait and join
    # bodies (and the model, which predicts them) fail.
    "wait-without-interrupt": {"HITL-JOIN-001", "HITL-MODEL-001", "HITL-STATELESS-001", "HITL-SURFACE-001", "HITL-WAIT-001"},
    "wait-without-values": {"HITL-WAIT-002"},
}


def run_suite(url: str, tmp_path: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    report = tmp_path / "report.json"
    env = {"COLUMNS": "160", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([*CLI, "run", url, "--json", str(report), *extra], capture_output=True, text=True, timeout=1200, env=env)
    assert report.exists(), proc.stdout + proc.stderr
    return proc, json.loads(report.read_text())


def failed(report: dict) -> set[str]:
    return {c["id"] for c in report["clauses"] if c["status"] == "failed"}


def test_the_catalogue():
    assert len(CLAUSES) >= 40
    assert {c.capability for c in CLAUSES} >= {"core", "streaming", "resumable-streams", "multitask", "breakpoints", "stateless", "history", "time-travel", "thread-streams"}
    assert set(CAUGHT_BY) == set(DEVIATIONS) - LOAD_ONLY  # those only `hitl-contract load` catches: tests/test_load.py


def test_the_shrink_time_cap_still_exists_in_hypothesis():
    """plugin.py caps shrinking through this internal constant; an upgrade that drops it must not go unnoticed."""
    from hypothesis.internal.conjecture import engine

    assert isinstance(engine.MAX_SHRINKING_SECONDS, int)


def test_every_must_clause_is_failed_by_some_deviation():
    caught = set().union(*CAUGHT_BY.values())
    assert [c.id for c in CLAUSES if c.level == "MUST" and c.id not in caught] == []


def test_every_clause_passes_on_the_mock(mock, tmp_path):
    junit = tmp_path / "report.xml"
    before = httpx.post(f"{mock.url}/threads/count", json={}).json()
    proc, report = run_suite(mock.url, tmp_path, "--profile", "default", "--junit", str(junit))
    # every thread it made is gone, the fuzzers' too (POST /threads 201, if_not_exists, on_completion=keep)
    assert httpx.post(f"{mock.url}/threads/count", json={}).json() == before
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert report["schema"] == "hitl-contract-report/2" and report["profile"] == "default" and report["complete"] is True
    assert report["summary"] == {"passed": len(CLAUSES), "failed": 0, "not_checked": 0, "excluded": 0, "not_run": 0, "must_failed": 0}
    assert report["certification"]["certified"] is True and report["certification"]["not_checked"] == {}
    assert all(c["checks"] for c in report["clauses"]), "a clause with no check"
    assert report["threads"]["created"] > 0 and report["threads"]["removed"] == report["threads"]["created"] and report["threads"]["left"] == []
    assert {i["input"] for i in report["inputs_not_checked"]} >= {"after_seconds", "values"}
    cases = ET.parse(junit).getroot().findall(".//testcase")
    assert len(cases) == len(CLAUSES) and not ET.parse(junit).getroot().findall(".//failure")
    assert "CERTIFIED: certified for capabilities core" in proc.stdout and "HITL-RESUME-003" in proc.stdout
    # --workers auto: a run on the mock takes milliseconds, so one worker per core (start-up would dominate)
    assert f"workers: {min(8, os.cpu_count() or 1)} (a run took" in proc.stdout and "bound by CPU" in proc.stdout, proc.stdout[:500]


@pytest.mark.official
def test_every_must_clause_passes_on_the_official_server(official, tmp_path):
    proc, report = run_suite(official, tmp_path, "--profile", "default")
    # The official dev server repeats resumable event ids (`<ms>-0` for events in the same millisecond,
    # real_behavior.md §3), so a Last-Event-ID replay can skip events. RESUMABLE-001 (ids strictly increase) and
    # RESUMABLE-003 catch it when two events share a millisecond, which depends on timing; every other clause holds.
    assert failed(report) <= {"HITL-RESUMABLE-001", "HITL-RESUMABLE-003"}, failed(report)
    assert proc.returncode == (1 if "HITL-RESUMABLE-001" in failed(report) else 0), proc.stdout[-6000:]
    assert report["summary"]["not_checked"] == 0 and report["complete"] is True
    assert report["threads"]["left"] == []
    assert "workers: 8 (a run took" in proc.stdout and "mostly wait" in proc.stdout, proc.stdout[:500]  # about 1 s per run


@pytest.mark.parametrize("deviation", sorted(set(DEVIATIONS) - LOAD_ONLY))
def test_each_deviation_is_caught_by_exactly_its_clauses(deviation, tmp_path):
    with MockServer(deviations={deviation}) as server:
        proc, report = run_suite(server.url, tmp_path, "--profile", "quick", "--workers", "2")
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert failed(report) == CAUGHT_BY[deviation]
    for clause in report["clauses"]:
        if clause["status"] == "failed":
            failure = clause["failures"][0]
            assert failure["message"]
            if failure["exchanges"]:
                assert failure["exchanges"][-1]["curl"].startswith("curl ")


def test_failures_show_the_smallest_example_with_curl(tmp_path):
    with MockServer(deviations={"wait-without-values"}) as server:
        proc, report = run_suite(server.url, tmp_path, "--profile", "quick", "-k", "wait_result_has_the_values")
    assert proc.returncode == 1
    assert "FAIL HITL-WAIT-002 (MUST)" in proc.stdout
    assert "$ curl -sS -X POST" in proc.stdout and "/runs/wait" in proc.stdout
    assert "NOT CERTIFIED" in proc.stdout and "MUST clauses failed in: core" in proc.stdout
    # deselected with -k: not checked, never reported as passed
    assert {c["status"] for c in report["clauses"] if c["id"] != "HITL-WAIT-002"} == {"not-checked"}


def test_a_narrowed_run_names_the_choice_and_certifies_only_that(mock, tmp_path):
    proc, report = run_suite(mock.url, tmp_path, "--profile", "quick", "--capabilities", "core,history", "--skip-capability", "history")
    assert proc.returncode == 0, proc.stdout[-3000:]
    cert = report["certification"]
    assert cert["capabilities"] == ["core"] and cert["choice"] == "--capabilities core,history --skip-capability history"
    assert "streaming" in cert["excluded"] and {c["status"] for c in report["clauses"] if c["capability"] != "core"} == {"excluded"}
    assert "excluded by --capabilities core,history --skip-capability history" in proc.stdout


def test_an_accepted_but_ignored_field_fails_and_a_refused_one_is_not_checked(tmp_path):
    """`interrupt_before` ignored (and no /openapi.json to say so): BP-001 FAILS. A server that refuses the field by
    name (422) does not offer it: its clauses are not checked, and the run is not certified (exit 3)."""
    with MockServer(deviations={"ignore-interrupt-before"}) as server:
        _, report = run_suite(server.url, tmp_path, "--profile", "quick", "--capabilities", "breakpoints")
    assert {c["id"]: c["status"] for c in report["clauses"] if c["capability"] == "breakpoints"}["HITL-BP-001"] == "failed"
    with MockServer() as server, RefusingProxy(server.url, "interrupt_before") as url:
        proc, report = run_suite(url, tmp_path, "--profile", "quick", "--capabilities", "breakpoints")
    assert proc.returncode == 3, proc.stdout[-3000:]
    statuses = {c["id"]: (c["status"], c["reason"]) for c in report["clauses"] if c["capability"] == "breakpoints"}
    assert statuses["HITL-BP-001"][0] == "not-checked" and "interrupt_before" in statuses["HITL-BP-001"][1]
    assert report["certification"]["not_checked"].keys() == {"breakpoints"} and "NOT CERTIFIED" in proc.stdout


def test_a_server_without_ok_is_checked(tmp_path):
    with MockServer() as server, RefusingProxy(server.url, None, hide_ok=True) as url:
        proc, report = run_suite(url, tmp_path, "--profile", "quick", "--capabilities", "core")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert failed(report) == {"HITL-OK-001"}  # a SHOULD clause: reported, not fatal


def test_pytest_plugin_in_a_users_project(mock, tmp_path):
    (tmp_path / "test_mine.py").write_text("def test_my_own_thing():\n    assert 1 + 1 == 2\n")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--hitl-url", mock.url, "--hitl-profile", "quick", "-n", "2", "-p", "no:cacheprovider"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "HITL-WAIT-001" in proc.stdout and "CERTIFIED: certified for capabilities core" in proc.stdout


def test_a_failing_user_test_keeps_the_run_red(mock, tmp_path):
    (tmp_path / "test_mine.py").write_text("def test_my_own_thing():\n    assert 1 + 1 == 3\n")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--hitl-url", mock.url, "--hitl-profile", "quick", "--hitl-capabilities", "stateless", "-p", "no:cacheprovider"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert "1 failed" in proc.stdout and "test_my_own_thing" in proc.stdout


def test_a_deselected_run_is_not_certified(mock, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--hitl-url", mock.url, "--hitl-profile", "quick", "-k", "wait_returns_the_interrupt", "-p", "no:cacheprovider"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert "NOT CERTIFIED" in proc.stdout and "deselected" in proc.stdout


def test_cli_errors_are_one_line(tmp_path):
    proc = subprocess.run([*CLI, "run", "http://127.0.0.1:9"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stdout.strip().startswith("hitl-contract: cannot reach http://127.0.0.1:9")
    assert "Traceback" not in proc.stdout + proc.stderr
    proc = subprocess.run([*CLI, "run", "http://127.0.0.1:9", "--profile", "huge"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "unknown profile 'huge'" in proc.stdout
    proc = subprocess.run([*CLI, "run", "http://127.0.0.1:9", "--skip-capability", "nope"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "unknown capability nope" in proc.stdout


def test_refused_credentials_get_a_one_line_hint(tmp_path):
    with MockServer() as server, RefusingProxy(server.url, None, require_auth="Bearer s3cret") as url:
        proc = subprocess.run([*CLI, "run", url], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2 and "refused the request (401" in proc.stdout and "--header 'Authorization: Bearer" in proc.stdout
        proc, report = run_suite(url, tmp_path, "--profile", "quick", "--capabilities", "stateless,schema", "--header", "Authorization: Bearer s3cret")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "s3cret" not in json.dumps(report)
    assert {c["id"] for c in report["clauses"] if c["status"] == "passed"} >= {"HITL-SCHEMA-001", "HITL-SCHEMA-002"}  # the fuzzer sends the header too


def test_a_clause_with_a_check_that_stopped_early_says_so():
    """A verdict never says more than was checked: a clause that passed with one of its checks skipped names it."""
    from contract_tests.outcomes import Outcome
    from contract_tests.report import collect

    outcomes = [
        Outcome("schema[0]", ("HITL-SCHEMA-001",), "passed"),
        Outcome("schema[1]", ("HITL-SCHEMA-001",), "skipped", "this shard's sequences stopped"),
        Outcome("wait", ("HITL-WAIT-001",), "passed"),
    ]
    results = {r.clause.id: r for r in collect(outcomes, url="http://x", profile="quick").results}
    assert results["HITL-SCHEMA-001"].status == "passed"
    assert results["HITL-SCHEMA-001"].reason == "1 of 2 checks did not run: this shard's sequences stopped"
    assert results["HITL-WAIT-001"].reason == ""


def test_a_server_without_thread_streams_is_not_certified_for_them_and_nothing_else_fails(tmp_path):
    """Routes a deployment does not have are "not offered": their clauses are not checked (never passed), and the
    refusals themselves conform to the spec, so HITL-SCHEMA-001 is not failed by them."""
    with MockServer() as server, RefusingProxy(server.url, None, hide_suffixes=("/commands", "/stream/events")) as url:
        proc, report = run_suite(url, tmp_path, "--profile", "quick", "--capabilities", "thread-streams,schema")
    assert proc.returncode == 3, proc.stdout[-3000:]
    statuses = {c["id"]: (c["status"], c["reason"]) for c in report["clauses"] if c["capability"] in ("thread-streams", "schema")}
    assert {s for s, _ in (statuses[f"HITL-TS-00{i}"] for i in range(1, 5))} == {"not-checked"}, statuses
    assert "not offered" in statuses["HITL-TS-001"][1] and "/stream/events" in statuses["HITL-TS-001"][1]
    assert statuses["HITL-SCHEMA-001"][0] == "passed" and report["certification"]["not_checked"].keys() == {"thread-streams"}
