"""The clause catalogue: what the contract requires, one checkable statement per clause.

Ids are stable (reports and CI gates refer to them). `MUST` clauses gate: a failure makes `hitl-contract run`
exit non-zero. `SHOULD` clauses report. Each clause belongs to one capability; a capability the server does not
offer (or a fixture graph it does not serve) leaves its clauses not checked, with the reason, and the server is
then not certified for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Level = Literal["MUST", "SHOULD"]

CAPABILITIES = {
    "core": "threads, runs/wait, interrupt and resume (graphs: agent, approve, multi, validate, nointerrupt)",
    "streaming": "POST …/runs/stream and join streams in SSE",
    "resumable-streams": "stream_resumable: event ids and Last-Event-ID replay",
    "multitask": "multitask_strategy (reject, enqueue, interrupt, rollback) and cancel",
    "breakpoints": "interrupt_before / interrupt_after on a run",
    "stateless": "runs without a thread (/runs/wait, /runs/stream)",
    "history": "checkpoint history (POST /threads/{id}/history)",
    "schema": "every response matches openapi/openapi.yaml; bad input gets 4xx, never 5xx",
    "time-travel": "state at a past checkpoint, and runs forked from one (GET /threads/{id}/state/{checkpoint_id}, checkpoint_id on runs)",
    "thread-streams": "protocol v2, as the SDKs' client.threads.stream: POST /threads/{id}/commands (run.start, input.respond) and POST /threads/{id}/stream/events",
}


@dataclass(frozen=True)
class Clause:
    id: str
    title: str
    level: Level
    capability: str


CLAUSES: tuple[Clause, ...] = (
    # interrupt surfaces and shape
    Clause("HITL-WAIT-001", "A wait on a run that stops at interrupt() returns `__interrupt__`: [{value, id}]", "MUST", "core"),
    Clause("HITL-WAIT-002", "The wait result of an interrupted run also carries the state values", "MUST", "core"),
    Clause("HITL-WAIT-003", "Wait responses carry Content-Location /threads/{thread_id}/runs/{run_id}", "MUST", "core"),
    Clause("HITL-INT-001", "An interrupt value round-trips exactly (any JSON: nesting, unicode, large numbers, empty containers)", "MUST", "core"),
    Clause("HITL-INT-002", "Interrupt ids are 32 lowercase hex characters", "MUST", "core"),
    Clause("HITL-INT-003", "Parallel interrupts pending at once have distinct ids", "MUST", "core"),
    Clause("HITL-INT-004", "Integers beyond 2^53 (outside RFC 8259's interoperable range) round-trip exactly through interrupt and resume", "SHOULD", "core"),
    Clause("HITL-THREAD-001", "A thread whose run stopped at an interrupt has status `interrupted`", "MUST", "core"),
    Clause("HITL-THREAD-002", "Thread.interrupts maps the task id to [{id, value}] for each pending interrupt", "MUST", "core"),
    Clause("HITL-THREAD-003", "After the resume completes, the thread is `idle` with `interrupts: {}`", "MUST", "core"),
    Clause("HITL-THREAD-004", "Thread.values holds the state values after a run", "MUST", "core"),
    Clause("HITL-STATE-001", "ThreadState.next names the interrupted node", "MUST", "core"),
    Clause("HITL-STATE-002", "ThreadState.tasks[].interrupts lists the pending interrupt on its task", "MUST", "core"),
    Clause("HITL-STATE-003", "ThreadState.interrupts lists every pending interrupt", "MUST", "core"),
    Clause("HITL-STATE-004", "A finished thread's state has `next: []` and no interrupts (no phantom breakpoint)", "MUST", "core"),
    Clause("HITL-SURFACE-001", "Every surface names the same interrupt ids: wait, thread, state tasks, state, stream", "MUST", "core"),
    # runs
    Clause("HITL-RUN-001", "A run that stops at interrupt() reports status `success` (not `interrupted`)", "MUST", "core"),
    Clause("HITL-RUN-002", "A run is readable by id and lists under its thread, newest first", "MUST", "core"),
    # resume
    Clause("HITL-RESUME-001", "Command(resume=v): interrupt() returns v exactly and the run continues (any JSON v)", "MUST", "core"),
    Clause("HITL-RESUME-002", "Command(resume={interrupt_id: v}) resumes that interrupt", "MUST", "core"),
    Clause("HITL-RESUME-003", "With several interrupts pending, a single resume value is refused and they stay pending", "MUST", "core"),
    Clause("HITL-RESUME-004", "A map naming every pending interrupt resumes them all", "MUST", "core"),
    Clause("HITL-RESUME-005", "A map naming some pending interrupts leaves the others pending, with the same ids", "MUST", "core"),
    Clause("HITL-RESUME-006", "A resume map with an unknown id resumes nothing; the same interrupt stays pending", "MUST", "core"),
    Clause("HITL-RESUME-007", "A node that interrupts again (a validation loop) gets a new id each time", "MUST", "core"),
    Clause("HITL-RESUME-008", "A second interrupt() in the same node gets a new id, and the first answer is kept", "MUST", "core"),
    Clause("HITL-RESUME-009", "A resume on a thread with nothing pending does not fail and returns the current values", "SHOULD", "core"),
    Clause("HITL-CMD-001", "Command(update=…) while interrupted applies the update and the node interrupts again", "MUST", "core"),
    Clause("HITL-CMD-002", "Command(update=…, resume=…) applies the update before the node resumes", "MUST", "core"),
    Clause("HITL-INPUT-001", "New input on an interrupted thread abandons the pending interrupt and starts over", "MUST", "core"),
    Clause("HITL-IGNORE-001", "if_not_exists=create is honoured: the run creates the thread", "MUST", "core"),
    # errors
    Clause("HITL-ERR-001", "An unknown thread gets 404 with a JSON {\"detail\"} body", "MUST", "core"),
    Clause("HITL-ERR-002", "An unknown assistant gets 404 or 422 with a JSON {\"detail\"} body", "MUST", "core"),
    Clause("HITL-ERR-003", "An unknown run gets 404 with a JSON {\"detail\"} body", "MUST", "core"),
    Clause("HITL-ERR-004", "A malformed JSON body gets 422 with a JSON {\"detail\"} body", "MUST", "core"),
    Clause("HITL-ERR-005", "A body of the wrong type gets 422 with a {\"detail\"} that names the field", "MUST", "core"),
    Clause("HITL-ERR-006", "A graph error is reported in-band: `__error__` {error, message} on wait, HTTP 200", "MUST", "core"),
    # streaming
    Clause("HITL-SSE-001", "Streams answer 200 with Content-Type text/event-stream", "MUST", "streaming"),
    Clause("HITL-SSE-002", "The first event is `metadata` with the run_id", "MUST", "streaming"),
    Clause("HITL-SSE-003", "Every event has a name and one `data` value that parses as JSON", "MUST", "streaming"),
    Clause("HITL-SSE-004", "Event names follow the modes asked for (`messages-tuple` arrives as `messages`)", "MUST", "streaming"),
    Clause("HITL-SSE-005", "An `updates` stream carries {\"__interrupt__\": [...]} when the run stops at an interrupt", "MUST", "streaming"),
    Clause("HITL-SSE-006", "The last `values` event of an interrupted run carries `__interrupt__`", "MUST", "streaming"),
    Clause("HITL-SSE-007", "Stream responses carry Content-Location naming the run (useStream needs it)", "MUST", "streaming"),
    Clause("HITL-SSE-008", "A graph error ends the stream with an `error` event {error, message}", "MUST", "streaming"),
    Clause("HITL-SSE-009", "Resuming through a stream streams the rest of the run", "MUST", "streaming"),
    Clause("HITL-JOIN-001", "Joining a background run returns its result", "MUST", "streaming"),
    Clause("HITL-JOIN-002", "Join-streaming a background run delivers its events", "SHOULD", "streaming"),
    # resumable streams
    Clause("HITL-RESUMABLE-001", "stream_resumable is honoured: every event has an `id:`, and the ids increase", "MUST", "resumable-streams"),
    Clause("HITL-RESUMABLE-002", "Last-Event-ID: -1 replays the whole run", "MUST", "resumable-streams"),
    Clause("HITL-RESUMABLE-003", "Last-Event-ID: <id> replays exactly the events after it (ids never repeat)", "SHOULD", "resumable-streams"),
    # multitask and cancel
    Clause("HITL-MT-001", "multitask_strategy=reject on a busy thread gets 409 with a {\"detail\"} body", "MUST", "multitask"),
    Clause("HITL-MT-002", "The default strategy enqueues: the second run runs after the first", "MUST", "multitask"),
    Clause("HITL-MT-003", "multitask_strategy=interrupt stops the running run (status `interrupted`)", "MUST", "multitask"),
    Clause("HITL-MT-004", "multitask_strategy=rollback removes the running run", "MUST", "multitask"),
    Clause("HITL-CANCEL-001", "Cancelling an active run answers 202 and the run ends `interrupted`", "MUST", "multitask"),
    # breakpoints
    Clause("HITL-BP-001", "interrupt_before is honoured: the run pauses before the node, thread `interrupted`", "MUST", "breakpoints"),
    Clause("HITL-BP-002", "interrupt_after is honoured: the run pauses after the node", "MUST", "breakpoints"),
    Clause("HITL-BP-003", "A run with `input: null` continues from a breakpoint", "MUST", "breakpoints"),
    # stateless
    Clause("HITL-STATELESS-001", "A stateless wait returns the interrupt like a thread run", "MUST", "stateless"),
    Clause("HITL-STATELESS-002", "A stateless resume is refused with 400 (there is no thread to resume)", "MUST", "stateless"),
    # history
    Clause("HITL-HIST-001", "History lists checkpoints newest first, the interrupted one with its interrupts", "MUST", "history"),
    Clause("HITL-HIST-002", "After a resume, history records it: the interrupted checkpoint's task shows the node's result", "MUST", "history"),
    # time travel
    Clause("HITL-TT-001", "The state at a past checkpoint equals that checkpoint's history entry", "MUST", "time-travel"),
    Clause("HITL-TT-002", "A run forked from the interrupted checkpoint asks again, with a new interrupt id, and the fork resumes", "MUST", "time-travel"),
    # thread streams (protocol v2)
    Clause("HITL-TS-001", "A thread stream reports each interrupt as `input.requested` {interrupt_id, payload}, with the ids and values /state lists", "MUST", "thread-streams"),
    Clause("HITL-TS-002", "A run that stops at interrupt() ends with lifecycle `interrupted`; answered by `input.respond`, the next run ends `completed`", "MUST", "thread-streams"),
    Clause("HITL-TS-003", "`input.respond` to an id the thread does not have pending answers the error `no_such_interrupt`, and the interrupt stays pending", "MUST", "thread-streams"),
    Clause("HITL-TS-004", "`input.respond` to one of two parallel interrupts answers it alone: the other stays pending, with its id", "MUST", "thread-streams"),
    # model and schema
    Clause("HITL-MODEL-001", "Random sequences of create / run / resume (value or map) / new input / read agree with a model", "MUST", "core"),
    Clause("HITL-SCHEMA-001", "Responses to valid requests match the spec: status codes, content types, schemas, headers", "MUST", "schema"),
    Clause("HITL-SCHEMA-002", "Invalid requests (bad types, values, missing fields) never cause a 5xx", "MUST", "schema"),
    Clause("HITL-OK-001", "GET /ok answers 200 (a liveness probe; the suite itself needs only the contract's routes)", "SHOULD", "core"),
)

# Inputs the generated schema checks never send, so a report can say they were not checked (and why).
AVOIDED_INPUTS: tuple[dict[str, str], ...] = (
    {"operation": "POST /threads/{thread_id}/runs*, POST /runs*", "input": "after_seconds", "reason": "a generated delay would park runs for hours"},
    {
        "operation": "POST /threads/search, POST /threads/count",
        "input": "values",
        "reason": "the official dev server (langgraph-api 0.16.7) answers 500 when any thread has `values: null`; not generated, so not checked",
    },
    {
        "operation": "POST /runs/cancel",
        "input": "status",
        "reason": "cancels every pending or running run on the server, other clients' included; sent by thread and ids instead",
    },
    {
        "operation": "POST /threads/{thread_id}/stream/events, GET /threads/{thread_id}/stream",
        "input": "every generated request",
        "reason": "these streams never end (heartbeats hold them open), so a generated request never gets a whole answer; "
        "the thread-streams checks check each /stream/events event they read against the spec",
    },
)

BY_ID = {c.id: c for c in CLAUSES}
assert len(BY_ID) == len(CLAUSES), "clause ids must be unique"
assert all(c.capability in CAPABILITIES for c in CLAUSES)
