"""Conversations: HITL paths through every fixture graph's behaviours and branches, as plain HTTP.

A conversation records every exchange (status, the headers clients read, the parsed body or SSE events) so that
two servers can be compared: `hitl-contract diff` (diff.py) runs them on both, and the parity tests run them on
the official server and the mock. They need the graphs of `fixtures/graphs` (agent, approve, chat, multi,
nointerrupt, validate), served as the official server's `langgraph.json` or as the mock's bundled scenarios.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from hitl_spec import parse_sse

HEADERS = ("content-type", "location", "content-location", "x-pagination-next")


class Session:
    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.http = httpx.Client(base_url=url.rstrip("/"), timeout=120, headers=headers or {})
        self.log: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []  # what each exchange of `log` sent (kept apart: not compared)

    def call(self, label: str, method: str, path: str, body: Any = None, *, raw: bytes | None = None, headers: dict[str, str] | None = None) -> Any:
        kwargs: dict[str, Any] = {"headers": headers or {}}
        if raw is not None:
            kwargs["content"] = raw
            kwargs["headers"] = {"content-type": "application/json", **kwargs["headers"]}
        elif body is not None:
            kwargs["json"] = body
        self.requests.append({"method": method, "path": path, "body": body if raw is None else raw.decode("utf-8", "replace"), "headers": headers or {}})
        r = self.http.request(method, path, **kwargs)
        media = r.headers.get("content-type", "")
        parsed: Any
        if "text/event-stream" in media:
            parsed = parse_sse(r.content)
        elif r.content.strip():
            parsed = r.json()
        else:
            parsed = None
        self.log.append({"label": label, "status": r.status_code, "headers": {h: r.headers.get(h) for h in HEADERS}, "body": parsed})
        return parsed

    def thread(self) -> str:
        return str(self.call("create thread", "POST", "/threads", {})["thread_id"])

    def surfaces(self, tid: str, label: str) -> None:
        """Every place a thread's interrupt shows: the thread, its state, its history, its runs."""
        self.call(f"{label}: thread", "GET", f"/threads/{tid}")
        self.call(f"{label}: state", "GET", f"/threads/{tid}/state")
        self.call(f"{label}: history", "POST", f"/threads/{tid}/history", {"limit": 20})
        self.call(f"{label}: runs", "GET", f"/threads/{tid}/runs")

    def close(self) -> None:
        self.http.close()


def _wait(s: Session, label: str, tid: str, assistant: str, **body: Any) -> Any:
    return s.call(label, "POST", f"/threads/{tid}/runs/wait", {"assistant_id": assistant, **body})


def agent(s: Session) -> None:
    """The seed flow: interrupt, every surface it shows on, a wrong id, a resume by id map, a late resume, a streamed resume."""
    tid = s.thread()
    s.call("fresh thread", "GET", f"/threads/{tid}")
    s.call("fresh state", "GET", f"/threads/{tid}/state")
    first = _wait(s, "wait with input", tid, "agent", input={"some_text": "original text"})
    s.surfaces(tid, "interrupted")
    run_id = s.log[-1]["body"][0]["run_id"]
    s.call("run", "GET", f"/threads/{tid}/runs/{run_id}")
    s.call("join finished", "GET", f"/threads/{tid}/runs/{run_id}/join")
    iid = first["__interrupt__"][0]["id"]
    _wait(s, "wrong id", tid, "agent", command={"resume": {"0" * 32: "nope"}})
    _wait(s, "resume by id map", tid, "agent", command={"resume": {iid: "Edited text"}})
    s.surfaces(tid, "resumed")
    _wait(s, "resume when idle", tid, "agent", command={"resume": "late"})
    _wait(s, "new input", tid, "agent", input={"some_text": "second"})
    s.call("stream resume", "POST", f"/threads/{tid}/runs/stream", {"assistant_id": "agent", "command": {"resume": "streamed"}, "stream_mode": ["values", "updates"]})
    s.surfaces(tid, "after stream")


def agent_streams(s: Session) -> None:
    """Streams: values and updates, the default mode, a resumable run replayed by join, stateless wait and stream."""
    tid = s.thread()
    s.call("stream input", "POST", f"/threads/{tid}/runs/stream", {"assistant_id": "agent", "input": {"some_text": "orig"}, "stream_mode": ["values", "updates"]})
    s.call("stream default mode", "POST", f"/threads/{tid}/runs/stream", {"assistant_id": "agent", "input": {"some_text": "x"}})
    events = s.call("stream resumable", "POST", f"/threads/{tid}/runs/stream", {"assistant_id": "agent", "command": {"resume": "y"}, "stream_mode": ["updates"], "stream_resumable": True})
    run_id = events[0]["data"]["run_id"]
    s.call("join stream replay", "GET", f"/threads/{tid}/runs/{run_id}/stream", headers={"Last-Event-ID": "-1"})
    s.call("join stream finished", "GET", f"/threads/{tid}/runs/{run_id}/stream")
    s.call("stateless wait", "POST", "/runs/wait", {"assistant_id": "agent", "input": {"some_text": "sl"}})
    s.call("stateless stream", "POST", "/runs/stream", {"assistant_id": "agent", "input": {"some_text": "sl"}, "stream_mode": ["values", "updates"]})


def _approve(s: Session, branch: str, decision: Any) -> None:
    tid = s.thread()
    _wait(s, f"{branch}: propose", tid, "approve", input={"request": "hello"})
    s.surfaces(tid, f"{branch}: interrupted")
    s.call(f"{branch}: resume", "POST", f"/threads/{tid}/runs/stream", {"assistant_id": "approve", "command": {"resume": decision}, "stream_mode": ["updates", "values"]})
    s.surfaces(tid, f"{branch}: done")


def approve(s: Session) -> None:
    """Tool approval, approved: the proposal, its interrupt on every surface, a streamed resume."""
    _approve(s, "approve", {"action": "approve"})


def approve_edit(s: Session) -> None:
    """Tool approval, edited: resume with new arguments."""
    _approve(s, "edit", {"action": "edit", "args": {"to": "alice@example.com"}})


def approve_reject(s: Session) -> None:
    """Tool approval, rejected."""
    _approve(s, "reject", {"action": "reject"})


def multi(s: Session) -> None:
    """Parallel interrupts: a single value with two pending, resumes by id one at a time, two interrupts in one node."""
    tid = s.thread()
    first = _wait(s, "wait", tid, "multi", input={"answers": []})
    s.surfaces(tid, "two pending")
    _wait(s, "single value with two pending", tid, "multi", command={"resume": "x"})
    s.call("thread after error", "GET", f"/threads/{tid}")
    by_q = {i["value"]["q"]: i["id"] for i in first["__interrupt__"]}
    _wait(s, "map with one id", tid, "multi", command={"resume": {by_q["A?"]: "alpha"}})
    s.call("thread after partial", "GET", f"/threads/{tid}")
    _wait(s, "map with the other id", tid, "multi", command={"resume": {by_q["B?"]: "beta"}})
    _wait(s, "first of two in one node", tid, "multi", command={"resume": "one"})
    _wait(s, "second of two in one node", tid, "multi", command={"resume": "two"})
    s.surfaces(tid, "done")


def multi_map(s: Session) -> None:
    """Parallel interrupts answered at once, by a map of both ids."""
    tid = s.thread()
    first = _wait(s, "wait", tid, "multi", input={"answers": []})
    ids = {i["value"]["q"]: i["id"] for i in first["__interrupt__"]}
    s.call("map with both ids", "POST", f"/threads/{tid}/runs/stream", {"assistant_id": "multi", "command": {"resume": {ids["A?"]: "alpha", ids["B?"]: "beta"}}, "stream_mode": ["updates", "values"]})
    s.surfaces(tid, "after map")


def validate(s: Session) -> None:
    """Ask until valid: four invalid answers re-interrupt, then a valid one finishes."""
    tid = s.thread()
    _wait(s, "ask", tid, "validate", input={})
    for value in ("abc", -5, 0, True):
        _wait(s, f"invalid {value!r}", tid, "validate", command={"resume": value})
    s.surfaces(tid, "after invalid answers")
    _wait(s, "valid", tid, "validate", command={"resume": 42})
    s.surfaces(tid, "done")


def nointerrupt(s: Session) -> None:
    """No interrupt: every stream mode, a graph error (wait and stream), a breakpoint and its continuation."""
    tid = s.thread()
    s.call("stream all modes", "POST", f"/threads/{tid}/runs/stream", {"assistant_id": "nointerrupt", "input": {}, "stream_mode": ["values", "updates", "custom", "messages-tuple"]})
    _wait(s, "fail", tid, "nointerrupt", input={"fail": True})
    s.call("thread in error", "GET", f"/threads/{tid}")
    s.call("stream fail", "POST", f"/threads/{tid}/runs/stream", {"assistant_id": "nointerrupt", "input": {"fail": True}})
    tid2 = s.thread()
    _wait(s, "breakpoint", tid2, "nointerrupt", input={}, interrupt_before=["step2"])
    s.surfaces(tid2, "at breakpoint")
    s.call("continue streamed", "POST", f"/threads/{tid2}/runs/stream", {"assistant_id": "nointerrupt", "input": None, "stream_mode": ["updates"]})


def errors(s: Session) -> None:
    """Errors: unknown and malformed ids, bodies and options; each status and detail."""
    tid = s.thread()
    unknown = "00000000-0000-4000-8000-000000000000"
    s.call("unknown thread", "GET", f"/threads/{unknown}")
    s.call("unknown thread state", "GET", f"/threads/{unknown}/state")
    s.call("run on unknown thread", "POST", f"/threads/{unknown}/runs/wait", {"assistant_id": "agent", "input": {}})
    s.call("non-uuid thread", "GET", "/threads/not-a-uuid")
    s.call("run on non-uuid thread", "POST", "/threads/not-a-uuid/runs/wait", {"assistant_id": "agent", "input": {}})
    s.call("unknown assistant", "POST", f"/threads/{tid}/runs/wait", {"assistant_id": "nope", "input": {}})
    s.call("unknown assistant uuid", "POST", f"/threads/{tid}/runs/wait", {"assistant_id": unknown, "input": {}})
    s.call("malformed json", "POST", f"/threads/{tid}/runs/wait", raw=b"{not json")
    s.call("missing assistant", "POST", f"/threads/{tid}/runs/wait", {"input": {}})
    s.call("bad stream_mode", "POST", f"/threads/{tid}/runs/wait", {"assistant_id": "agent", "stream_mode": 5})
    s.call("bad command", "POST", f"/threads/{tid}/runs/wait", {"assistant_id": "agent", "command": "x"})
    s.call("bad goto", "POST", f"/threads/{tid}/runs/wait", {"assistant_id": "agent", "command": {"goto": 5}})
    s.call("bad strategy", "POST", f"/threads/{tid}/runs/wait", {"assistant_id": "agent", "multitask_strategy": "bogus"})
    s.call("bad interrupt_before", "POST", f"/threads/{tid}/runs/wait", {"assistant_id": "agent", "interrupt_before": "step2"})
    s.call("bad if_exists", "POST", "/threads", {"if_exists": "bogus"})
    s.call("array body", "POST", "/threads", [])
    s.call("duplicate thread", "POST", "/threads", {"thread_id": tid})
    s.call("unknown run", "GET", f"/threads/{tid}/runs/{unknown}")
    s.call("join unknown run", "GET", f"/threads/{tid}/runs/{unknown}/join")
    s.call("cancel unknown run", "POST", f"/threads/{tid}/runs/{unknown}/cancel")
    s.call("delete unknown run", "DELETE", f"/threads/{tid}/runs/{unknown}")
    s.call("join on unknown thread", "GET", f"/threads/{unknown}/runs/{unknown}/join")
    s.call("join stream on unknown thread", "GET", f"/threads/{unknown}/runs/{unknown}/stream")
    s.call("cancel on unknown thread", "POST", f"/threads/{unknown}/runs/{unknown}/cancel")
    s.call("delete run on unknown thread", "DELETE", f"/threads/{unknown}/runs/{unknown}")
    s.call("get run on unknown thread", "GET", f"/threads/{unknown}/runs/{unknown}")
    s.call("stateless resume", "POST", "/runs/wait", {"assistant_id": "agent", "command": {"resume": "x"}})
    s.call("resume a never-run thread", "POST", f"/threads/{tid}/runs/wait", {"assistant_id": "agent", "command": {"resume": "x"}})
    s.call("unknown route", "GET", "/nope")
    s.call("assistant by graph id", "GET", "/assistants/agent")
    s.call("assistants", "POST", "/assistants/search", {"graph_id": "approve"})


def stream_modes(s: Session) -> None:
    """The less common stream modes: tasks, checkpoints and debug, through an interrupt and a resume."""
    for mode in ("tasks", "checkpoints", "debug"):
        tid = s.thread()
        s.call(f"{mode}: ask", "POST", f"/threads/{tid}/runs/stream", {"assistant_id": "agent", "input": {"some_text": "x"}, "stream_mode": [mode]})
        s.call(f"{mode}: resume", "POST", f"/threads/{tid}/runs/stream", {"assistant_id": "agent", "command": {"resume": "y"}, "stream_mode": [mode]})


def bulk(s: Session) -> None:
    """Batches of stateless runs, and cancelling runs by status; their validation errors."""
    unknown = "00000000-0000-4000-8000-000000000000"
    s.call("batch", "POST", "/runs/batch", [{"assistant_id": "agent", "input": {"some_text": "a"}}, {"assistant_id": "agent", "input": {"some_text": "b"}}])
    s.call("batch empty", "POST", "/runs/batch", [])
    s.call("batch bad item", "POST", "/runs/batch", [{"input": {}}])
    s.call("batch object", "POST", "/runs/batch", {"assistant_id": "agent"})
    s.call("batch unknown assistant", "POST", "/runs/batch", [{"assistant_id": "nope", "input": {}}])
    tid = s.thread()
    run = s.call("a delayed run", "POST", f"/threads/{tid}/runs", {"assistant_id": "agent", "input": {"some_text": "x"}, "after_seconds": 30})
    s.call("cancel the pending runs", "POST", "/runs/cancel", {"status": "pending"})
    s.call("the cancelled run", "GET", f"/threads/{tid}/runs/{run['run_id']}")
    s.call("cancel, nothing pending", "POST", "/runs/cancel", {"status": "pending"})
    s.call("cancel unknown ids", "POST", "/runs/cancel", {"thread_id": tid, "run_ids": [unknown]})
    s.call("cancel on an unknown thread", "POST", "/runs/cancel", {"thread_id": unknown, "run_ids": [unknown]})
    s.call("cancel, empty body", "POST", "/runs/cancel", {})
    s.call("cancel, bad status", "POST", "/runs/cancel", {"status": "bogus"})


def time_travel(s: Session) -> None:
    """Read past checkpoints, fork a run and a state update from them, copy the thread."""
    unknown = "00000000-0000-4000-8000-000000000000"
    tid = s.thread()
    _wait(s, "ask", tid, "agent", input={"some_text": "original"})
    history = s.call("history at the interrupt", "POST", f"/threads/{tid}/history", {"limit": 10})
    asked, older = history[0]["checkpoint"]["checkpoint_id"], history[-1]["checkpoint"]["checkpoint_id"]
    s.call("state at the interrupt", "GET", f"/threads/{tid}/state/{asked}")
    s.call("state at the input", "GET", f"/threads/{tid}/state/{older}?subgraphs=true")
    s.call("state at, by body", "POST", f"/threads/{tid}/state/checkpoint", {"checkpoint": {"checkpoint_id": asked, "checkpoint_ns": ""}})
    s.call("state at an unknown checkpoint", "GET", f"/threads/{tid}/state/{unknown}")
    s.call("state at, no checkpoint", "POST", f"/threads/{tid}/state/checkpoint", {})
    s.call("state at, unknown thread", "GET", f"/threads/{unknown}/state/{asked}")
    _wait(s, "resume", tid, "agent", command={"resume": "first answer"})
    s.call("history before the interrupt", "POST", f"/threads/{tid}/history", {"limit": 10, "before": {"configurable": {"checkpoint_id": asked}}})
    _wait(s, "fork a run from the interrupt", tid, "agent", input=None, checkpoint_id=asked)
    _wait(s, "answer the fork", tid, "agent", command={"resume": "second answer"})
    s.call("edit the past", "POST", f"/threads/{tid}/state", {"values": {"some_text": "edited"}, "checkpoint_id": older})
    s.surfaces(tid, "after the edit")
    copied = s.call("copy", "POST", f"/threads/{tid}/copy")
    s.surfaces(copied["thread_id"], "the copy")
    s.surfaces(tid, "the source after the copy")
    s.call("copy an unknown thread", "POST", f"/threads/{unknown}/copy")
    s.call("copy a malformed id", "POST", "/threads/nope/copy")
    empty = s.thread()
    s.call("copy a thread that never ran", "POST", f"/threads/{empty}/copy")


def _chat(s: Session, decision: Any) -> None:
    tid = s.thread()
    modes = ["messages-tuple", "values"]
    human = {"messages": [{"type": "human", "content": "Send an email to Bob"}]}
    s.call("ask", "POST", f"/threads/{tid}/runs/stream", {"assistant_id": "chat", "input": human, "stream_mode": modes})
    s.surfaces(tid, "asking")
    s.call("decide", "POST", f"/threads/{tid}/runs/stream", {"assistant_id": "chat", "command": {"resume": decision}, "stream_mode": modes})
    s.surfaces(tid, "done")


def chat_approve(s: Session) -> None:
    """Chat: a streamed plan (messages), approved."""
    _chat(s, "approve")


def chat_reject(s: Session) -> None:
    """Chat: a streamed plan (messages), rejected."""
    _chat(s, "reject")


def durability(s: Session) -> None:
    """`durability` and `checkpoint_during` reach LangGraph: `exit` (or `checkpoint_during: false`) writes the run's
    checkpoints only when it stops, so the history is shorter."""
    for label, extra in (("durability exit", {"durability": "exit"}), ("durability sync", {"durability": "sync"}), ("checkpoint_during false", {"checkpoint_during": False})):
        tid = s.thread()
        _wait(s, f"{label}: wait", tid, "multi", input={"answers": []}, **extra)
        s.call(f"{label}: history", "POST", f"/threads/{tid}/history", {"limit": 20})
        s.call(f"{label}: run", "GET", f"/threads/{tid}/runs")


FLOWS: dict[str, Callable[[Session], None]] = {
    f.__name__: f
    for f in (agent, agent_streams, approve, approve_edit, approve_reject, multi, multi_map, validate, nointerrupt, chat_approve, chat_reject, errors, time_travel, stream_modes, bulk, durability)
}


STOPPED = "conversation stopped"  # the label of the entry a conversation that raised ends with


def record(url: str, flow: Callable[[Session], None], headers: dict[str, str] | None = None, *, keep_going: bool = False) -> list[dict[str, Any]]:
    """The exchanges of one conversation on the server at `url`. A conversation that raises (an answer it could
    not read on: no interrupt where one was due, a connection lost) raises, or with `keep_going` ends its log with
    a `conversation stopped` entry naming the error, so that a diff shows where the two servers parted."""
    return recorded(url, flow, headers, keep_going=keep_going).log


def recorded(url: str, flow: Callable[[Session], None], headers: dict[str, str] | None = None, *, keep_going: bool = False) -> Session:
    """As `record`, the whole session: its log and the requests beside it."""
    session = Session(url, headers)
    try:
        flow(session)
    except Exception as exc:
        if not keep_going:
            raise
        session.log.append({"label": STOPPED, "status": None, "headers": {}, "body": f"{type(exc).__name__}: {exc}"})
        session.requests.append({})
    finally:
        session.close()
    return session
