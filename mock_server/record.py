"""`hitl-mock record`: a proxy in front of a real deployment that writes what it saw as replayable scenarios.

Every request is forwarded unchanged and every answer streamed back unchanged (and as it arrives), so the
client under test works as before. After each run (`POST /threads/{id}/runs/wait` or `/runs/stream`) the
recorder reads the thread's state and history from upstream, with the client's own credentials, and keeps the
run's request and streamed events. recording.py turns them into a `recorded:` document per graph, which
scenarios/replay.py replays with the source's node names, interrupts, token streams and events.

Credentials are never written: requests' headers are not recorded at all. `redact` patterns replace values
(regexes on strings, or `$.`-paths) before a file is written. Recording into a file that exists merges: its
executions, starts and examples stay, and new ones are added.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from hitl_spec import parse_sse

from .recording import ThreadLog, Turn, executions, is_map, subgraph_namespaces
from .scenarios.replay import fingerprint

_RUN = re.compile(r"^/threads/([0-9a-f-]{36})/runs/(wait|stream)$")
_COMMANDS = re.compile(r"^/threads/([0-9a-f-]{36})/commands$")  # thread streams (protocol v2)
SETTLE_SECONDS = 120  # how long the recorder waits for a thread-stream run to finish before reading its state
_HOP = {"host", "content-length", "transfer-encoding", "connection", "keep-alive", "accept-encoding"}
CREDENTIALS = ("authorization", "x-api-key", "cookie")  # forwarded to upstream, never written
REDACTED = "[redacted]"


@dataclass
class Recorder:
    upstream: str
    out: Path
    redact: list[str] = field(default_factory=list)
    threads: dict[str, ThreadLog] = field(default_factory=dict)
    parts: dict[str, dict[str, Any]] = field(default_factory=dict)  # thread -> what it recorded (recording.executions)
    existing: dict[str, dict[str, Any]] = field(default_factory=dict)  # graph -> what its file held before
    written: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        for path in [self.out, *self.out.parent.glob(f"{self.out.stem}.*{self.out.suffix or '.yaml'}")]:
            if path.is_file():
                doc = yaml.safe_load(path.read_text(encoding="utf-8"))
                if isinstance(doc, dict) and isinstance(doc.get("recorded"), dict):
                    self.existing[str(doc["graph_id"])] = doc
                    self.written.append(path)
        self._patterns = [p for p in self.redact if not p.startswith("$")]
        self._paths = [p for p in self.redact if p.startswith("$")]
        for pattern in self._patterns:
            re.compile(pattern)  # a bad one is said before anything is recorded

    async def observe(self, client: httpx.AsyncClient, thread_id: str, body: dict[str, Any], events: list[tuple[str, Any, float]], headers: dict[str, str]) -> None:
        state = (await client.get(f"/threads/{thread_id}/state", params={"subgraphs": "true"}, headers=headers)).json()
        log = self.threads.get(thread_id)
        if log is None:
            log = self.threads[thread_id] = ThreadLog(await self._graph_id(client, str(body.get("assistant_id", "")), headers))
        log.turns.append(Turn(body, state, events))
        log.history = await _history(client, thread_id, "", headers)
        pending = subgraph_namespaces(log.history)
        while pending:  # each subgraph's own checkpoints (and theirs, for subgraphs in subgraphs)
            ns = pending.pop()
            log.subgraphs[ns] = await _history(client, thread_id, ns, headers)
            pending += [n for n in subgraph_namespaces(log.subgraphs[ns]) if n not in log.subgraphs]
        self.parts[thread_id] = executions(log)  # only this thread changed: the others' parts are kept
        self.write()

    async def observe_command(self, client: httpx.AsyncClient, thread_id: str, command: dict[str, Any], headers: dict[str, str]) -> None:
        """A thread-stream `run.start` or `input.respond`, recorded as the run it starts once that run has ended
        (its events come over the thread's own stream, so token chunks are not kept: see recording.py)."""
        params: dict[str, Any] = command["params"] if isinstance(command.get("params"), dict) else {}
        if command.get("method") == "run.start":
            body: dict[str, Any] = {"assistant_id": params.get("assistant_id"), "input": params.get("input")}
        elif command.get("method") == "input.respond":
            entries = params["responses"] if isinstance(params.get("responses"), list) else [params]
            thread = (await client.get(f"/threads/{thread_id}", headers=headers)).json()
            resume = {e.get("interrupt_id"): e.get("response") for e in entries if isinstance(e, dict)}
            body = {"assistant_id": (thread.get("metadata") or {}).get("assistant_id"), "command": {"resume": resume}}
        else:
            return
        deadline = time.monotonic() + SETTLE_SECONDS
        while time.monotonic() < deadline:  # the run it started has ended, and the thread says so
            newest = (await client.get(f"/threads/{thread_id}/runs", params={"limit": 1}, headers=headers)).json()
            running = bool(newest) and newest[0].get("status") in ("pending", "running")
            if not running and (await client.get(f"/threads/{thread_id}", headers=headers)).json().get("status") != "busy":
                break
            await asyncio.sleep(0.05)
        await self.observe(client, thread_id, body, [], headers)

    async def _graph_id(self, client: httpx.AsyncClient, assistant: str, headers: dict[str, str]) -> str:
        if not re.fullmatch(r"[0-9a-f-]{36}", assistant):
            return assistant
        found = await client.get(f"/assistants/{assistant}", headers=headers)
        return str(found.json().get("graph_id", assistant)) if found.status_code == 200 else assistant

    def scenarios(self) -> list[dict[str, Any]]:
        graphs = sorted({log.graph_id for log in self.threads.values()} | set(self.existing))
        return [self._redacted(self._scenario(g)) for g in graphs]

    def _scenario(self, graph: str) -> dict[str, Any]:
        threads = [tid for tid, log in self.threads.items() if log.graph_id == graph]
        logs = [self.threads[tid] for tid in threads]
        old = self.existing.get(graph, {})
        recorded: dict[str, Any] = old.get("recorded") or {}
        for tid in threads:
            recorded = merge_part(recorded, self.parts[tid])
        return {
            "graph_id": graph,
            "description": old.get("description") or f"Recorded from {self.upstream} by hitl-mock record",
            # What was seen, as conversations for `hitl-contract verify`; a recording has no branches of its own
            "examples": _merge(list(old.get("examples") or []), [e for log in logs for e in _examples(log)], key=lambda e: fingerprint([e.get("input"), e.get("resume")])),
            "verify_branches": False,
            "recorded": recorded,
        }

    def _redacted(self, doc: dict[str, Any]) -> dict[str, Any]:
        def walk(value: Any, path: str) -> Any:
            if any(_path_matches(path, p) for p in self._paths):
                return REDACTED
            if isinstance(value, dict):
                return {k: walk(v, f"{path}.{k}") for k, v in value.items()}
            if isinstance(value, list):
                return [walk(v, f"{path}.{i}") for i, v in enumerate(value)]
            if isinstance(value, str):
                for pattern in self._patterns:
                    value = re.sub(pattern, REDACTED, value)
            return value

        return {k: (walk(v, f"$.{k}") if k in ("examples", "recorded") else v) for k, v in doc.items()} if self.redact else doc

    def write(self) -> list[Path]:
        docs = self.scenarios()
        suffix = self.out.suffix or ".yaml"
        paths = [self.out] if len(docs) == 1 else [self.out.with_name(f"{self.out.stem}.{d['graph_id']}{suffix}") for d in docs]
        for path, doc in zip(paths, docs, strict=True):
            path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
        for stale in set(self.written) - set(paths):  # e.g. the single file, once a second graph shows up
            stale.unlink(missing_ok=True)
        self.written = paths
        return paths


async def _history(client: httpx.AsyncClient, thread_id: str, ns: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    body: dict[str, Any] = {"limit": 1000, **({"checkpoint": {"checkpoint_ns": ns}} if ns else {})}
    found = (await client.post(f"/threads/{thread_id}/history", json=body, headers=headers)).json()
    return found if isinstance(found, list) else []


def merge_part(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """A recorded (sub)graph with what `new` adds: starts, executions, and its subgraphs, merged the same way."""
    nodes = {k: list(v) for k, v in (old.get("nodes") or {}).items()}
    for name, found in (new.get("nodes") or {}).items():
        nodes[name] = _merge(nodes.get(name, []), found)
    subgraphs = dict(old.get("subgraphs") or {})
    for name, parts in (new.get("subgraphs") or {}).items():
        for part in parts if isinstance(parts, list) else [parts]:
            subgraphs[name] = merge_part(subgraphs.get(name) or {}, part)
    merged: dict[str, Any] = {"state": {**(old.get("state") or {}), **(new.get("state") or {})}, "starts": _merge(list(old.get("starts") or []), list(new.get("starts") or [])), "nodes": nodes}
    return merged | ({"subgraphs": subgraphs} if subgraphs else {})


def _path_matches(path: str, pattern: str) -> bool:
    """`$.a.b`, `$.a.*.c` (any one key or index), `$..token` (a key at any depth)."""
    if pattern.startswith("$.."):
        return fnmatch.fnmatchcase(path, "*." + pattern[3:])
    return fnmatch.fnmatchcase(path, pattern)


def _merge(old: list[Any], new: list[Any], key: Any = None) -> list[Any]:
    """`old` then what `new` adds (by `key`, default the whole item; an execution that got further replaces one
    that stopped at an unanswered interrupt)."""
    key = key or fingerprint
    out = list(old)
    for item in new:
        if any(key(o) == key(item) for o in out):
            continue
        stopped = next((i for i, o in enumerate(out) if _extends(item, o)), None)
        if stopped is None:
            out.append(item)
        else:
            out[stopped] = item
    return out


def _extends(new: Any, old: Any) -> bool:
    """`new` is `old` recorded further: the same state and answers so far, then more."""
    if not (isinstance(new, dict) and isinstance(old, dict) and "state" in new and "state" in old and "update" not in old):
        return False
    asks_old, asks_new = old.get("asks") or [], new.get("asks") or []
    if fingerprint(new["state"]) != fingerprint(old["state"]) or len(asks_new) < len(asks_old):
        return False
    same = [fingerprint(a.get("interrupt")) == fingerprint(b.get("interrupt")) for a, b in zip(asks_old, asks_new, strict=False)]
    answered = ["answer" not in a or fingerprint(a["answer"]) == fingerprint(b.get("answer")) for a, b in zip(asks_old, asks_new, strict=False)]
    return all(same) and all(answered)


def _examples(log: ThreadLog) -> list[dict[str, Any]]:
    """Each input of the thread with the plain answers that followed it (a map answers in its interrupts' order)."""
    out: list[dict[str, Any]] = []
    for turn in log.turns:
        command = turn.body.get("command") if isinstance(turn.body.get("command"), dict) else None
        if turn.body.get("input") is not None and not command:
            out.append({"name": f"recorded {len(out) + 1}", "input": turn.body["input"], "resume": []})
        elif out and command and "resume" in command:
            resume = command["resume"]
            out[-1]["resume"].append(list(resume.values()) if is_map(resume) and len(resume) > 1 else resume)
    return out


def create_proxy(upstream: str, recorder: Recorder) -> Starlette:
    client = httpx.AsyncClient(base_url=upstream.rstrip("/"), timeout=None)
    # A thread's runs go upstream one at a time while recording, each read back (state, history) before the next
    # starts, so that what is recorded after a run is that run's outcome (concurrent runs on one thread queue here).
    turns: dict[str, asyncio.Lock] = {}

    async def forward(request: Request) -> Response:
        body = await request.body()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        match = _RUN.match(request.url.path) if request.method == "POST" else None
        v2 = _COMMANDS.match(request.url.path) if request.method == "POST" and _starts_run(body) else None
        lock = turns.setdefault((match or v2).group(1), asyncio.Lock()) if (match or v2) else None  # type: ignore[union-attr]
        if lock is not None:
            await lock.acquire()
        try:
            upstream_request = client.build_request(request.method, request.url.path, params=request.query_params, headers=headers, content=body)
            answer = await client.send(upstream_request, stream=True)
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        timed: list[tuple[bytes, float]] = []  # what arrived, and when (seconds), to date each streamed event
        started = time.monotonic()

        async def relay() -> Any:
            async for chunk in answer.aiter_raw():
                if lock is not None:
                    timed.append((chunk, time.monotonic() - started))
                yield chunk

        async def after() -> None:
            try:
                await answer.aclose()
                if answer.status_code == 200 and (match or v2):
                    await _observe(recorder, client, match, v2, body, timed, answer.headers.get("content-type", ""), request)
            finally:
                if lock is not None:
                    lock.release()

        out_headers = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP}
        return StreamingResponse(relay(), status_code=answer.status_code, headers=out_headers, background=BackgroundTask(after))

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]
    app = Starlette(routes=[Route("/{path:path}", forward, methods=methods)])
    app.state.recorder = recorder
    return app


def _starts_run(body: bytes) -> bool:
    """Whether a thread-stream command starts a run (`run.start`, `input.respond`)."""
    try:
        return json.loads(body).get("method") in ("run.start", "input.respond")
    except (ValueError, AttributeError):
        return False


async def _observe(recorder: Recorder, client: httpx.AsyncClient, run: Any, command: Any, body: bytes, timed: list[tuple[bytes, float]], media: str, request: Request) -> None:
    """Record a run that answered 200; best effort: the client already has its answer."""
    credentials = {k: v for k, v in request.headers.items() if k.lower() in CREDENTIALS}
    with contextlib.suppress(ValueError, httpx.HTTPError, KeyError, TypeError, AttributeError):
        if command is not None and json.loads(b"".join(c for c, _ in timed)).get("type") == "success":  # a command taken
            await recorder.observe_command(client, command.group(1), json.loads(body), credentials)
        elif run is not None:
            events = _dated_events(timed) if "text/event-stream" in media else []
            await recorder.observe(client, run.group(1), json.loads(body), events, credentials)


def _dated_events(timed: list[tuple[bytes, float]]) -> list[tuple[str, Any, float]]:
    """The SSE events of a recorded stream, each dated by the arrival of the bytes that completed it."""
    out: list[tuple[str, Any, float]] = []
    buffer = b""
    for chunk, at in timed:
        buffer = (buffer + chunk).replace(b"\r\n", b"\n")
        complete, _, buffer = buffer.rpartition(b"\n\n")
        if complete:
            out += [(str(e.get("event")), e.get("data"), at) for e in parse_sse(complete + b"\n\n")]
    return out
