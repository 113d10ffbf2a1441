"""The suite against the official LangGraph.js server (`langgraphjs dev` 1.5.1 on fixtures/graphs-js): a second
real implementation, in another language. Its findings are recorded here and in the README ("Results on other
servers"); if the server or the suite changes what it finds, this test says so."""

from __future__ import annotations

import pytest

from .official_js import official_js_server
from .test_contract_suite import failed, run_suite

# Every clause the JS server fails, with what it does instead (each checked by hand against its raw answers; see
# fixtures/graphs-js/README.md). Each is a real deviation from the contract, not a Python assumption of the suite.
JS_FAILS = {
    "HITL-WAIT-002": "the wait body at an interrupt holds only __interrupt__, no state values",
    "HITL-INT-004": "integers beyond 2^53 come back rounded (-9007199254740993 -> -9007199254740992); SHOULD",
    "HITL-STATE-003": "GET /state has no top-level `interrupts`",
    "HITL-SURFACE-001": "the wait body shows only the last of two parallel interrupts",
    "HITL-RUN-002": "GET /threads/{id}/runs lists the oldest run first",
    "HITL-RESUME-003": "a single resume value with two interrupts pending is accepted (resumes both)",
    "HITL-RESUME-005": "after a partial resume map, the wait body lists nothing pending and state.tasks still lists the answered interrupt",
    "HITL-ERR-001": "an unknown thread gets a text/plain 404, not {detail} JSON",
    "HITL-ERR-002": "an unknown assistant gets a text/plain error, not {detail} JSON",
    "HITL-ERR-003": "an unknown run gets a text/plain 404, not {detail} JSON",
    "HITL-ERR-004": "malformed JSON gets 400, not 422",
    "HITL-ERR-005": "a body of the wrong type gets 400 with a zod body, not 422",
    "HITL-ERR-006": "__error__.message is the error JSON as a string, and __error__.error is `Error`",
    "HITL-MT-001": "multitask_strategy=reject on a busy thread answers 422, not 409",
    "HITL-MT-002": "the default strategy is reject, not enqueue (422 on a busy thread)",
    "HITL-MT-004": "multitask_strategy=rollback leaves the first run in place",
    "HITL-BP-001": "interrupt_before pauses with `__interrupt__: []` and no values",
    "HITL-BP-002": "interrupt_after pauses with `__interrupt__: []` and no values",
    "HITL-STATELESS-001": "a stateless run fails: No checkpointer set",
    "HITL-STATELESS-002": "a stateless resume answers 200 (with __error__), not 400",
    "HITL-MODEL-001": "the model meets RESUME-003 and RESUME-005 in random sequences",
    "HITL-SCHEMA-001": "Thread lacks state_updated_at and values; ThreadState lacks interrupts and checkpoint_id; some bodies are text/plain",
    "HITL-TT-002": "resuming a run forked from the interrupted checkpoint answers the original branch's values (the first answer)",
    "HITL-TS-003": "input.respond to an unknown interrupt id answers success",
    "HITL-TS-004": "after input.respond to one of two parallel interrupts, state.tasks still lists the answered one (as RESUME-005)",
}


@pytest.mark.official
def test_the_suite_on_langgraphjs_dev(tmp_path):
    with official_js_server() as url:
        proc, report = run_suite(url, tmp_path, "--profile", "default")
    assert report["complete"] is True and report["summary"]["not_checked"] == 0, report["summary"]
    assert failed(report) == set(JS_FAILS), f"changed: now failing {sorted(failed(report) - set(JS_FAILS))}, now passing {sorted(set(JS_FAILS) - failed(report))}"
    assert proc.returncode == 1 and "NOT CERTIFIED" in proc.stdout
    assert report["threads"]["left"] == [] and report["threads"]["created"] == report["threads"]["removed"]
