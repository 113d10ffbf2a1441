"""`hitl-mock record`: a proxy in front of a real deployment that writes what it saw as a scenario.

Every request is forwarded unchanged and every answer streamed back unchanged, so the client under test
works as before. After each run (`POST /threads/{id}/runs/wait` or `/runs/stream`) the recorder reads the
thread's state from upstream and notes the turn: the input or resume value, then either the pause (the
values and the interrupt value) or the end (the final values). The scenario it writes replays those
paths: the same input gets the same values and interrupt, an answer seen before continues as it did,
and any other answer asks again. It does not replay token streams or parallel interrupts (a pause with
several interrupts is recorded with its first).
"""

from __future__ import annotations

import json
import re
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

_RUN = re.compile(r"^/threads/([0-9a-f-]{36})/runs/(wait|stream)$")
_HOP = {"host", "content-length", "transfer-encoding", "connection", "keep-alive", "accept-encoding"}


@dataclass
class Pause:
    """A point where the recorded run stopped: the state values then, and the interrupt (None at the end)."""

    values: Any
    interrupt: Any = None
    ended: bool = False
    answers: dict[str, Pause] = field(default_factory=dict)  # resume value (as JSON) -> what followed


@dataclass
class Recorder:
    upstream: str
    out: Path
    graphs: dict[str, dict[str, Pause]] = field(default_factory=dict)  # graph -> input (as JSON) -> first pause
    cursor: dict[str, tuple[str, Pause]] = field(default_factory=dict)  # thread -> (graph, where it is now)
    written: list[Path] = field(default_factory=list)

    async def observe(self, client: httpx.AsyncClient, thread_id: str, body: dict[str, Any]) -> None:
        graph = await self._graph_id(client, str(body.get("assistant_id", "")))
        state = (await client.get(f"/threads/{thread_id}/state")).json()
        interrupts = state.get("interrupts") or []
        pause = Pause(state.get("values"), interrupts[0]["value"] if interrupts else None, ended=not state.get("next"))
        command = body.get("command") or {}
        if "resume" in command and thread_id in self.cursor:
            _, at = self.cursor[thread_id]
            pause = at.answers.setdefault(_key(command["resume"]), pause)
        elif body.get("input") is not None:
            pause = self.graphs.setdefault(graph, {}).setdefault(_key(body["input"]), pause)
        else:
            return
        self.cursor[thread_id] = (graph, pause)
        self.write()

    async def _graph_id(self, client: httpx.AsyncClient, assistant: str) -> str:
        if not re.fullmatch(r"[0-9a-f-]{36}", assistant):
            return assistant
        found = await client.get(f"/assistants/{assistant}")
        return found.json().get("graph_id", assistant) if found.status_code == 200 else assistant

    def scenarios(self) -> list[dict[str, Any]]:
        return [_scenario(graph, inputs, self.upstream) for graph, inputs in self.graphs.items()]

    def write(self) -> list[Path]:
        docs = self.scenarios()
        paths = [self.out] if len(docs) == 1 else [self.out.with_name(f"{self.out.stem}.{d['graph_id']}{self.out.suffix or '.yaml'}") for d in docs]
        for path, doc in zip(paths, docs, strict=True):
            path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
        for stale in set(self.written) - set(paths):  # e.g. the single file, once a second graph shows up
            stale.unlink(missing_ok=True)
        self.written = paths
        return paths


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _input_condition(raw: dict[str, Any]) -> dict[str, Any] | bool:
    checks = []
    for key, value in raw.items():
        if key == "messages" and isinstance(value, list) and value and isinstance(value[-1], dict):
            checks.append({"value": "{last_human}", "equals": value[-1].get("content")})
        else:
            checks.append({"value": f"{{state.{key}}}", "equals": value})
    return {"all": checks} if checks else True


def _scenario(graph: str, inputs: dict[str, Pause], upstream: str) -> dict[str, Any]:
    nodes: dict[str, list[dict[str, Any]]] = {}
    keys: set[str] = set()

    def emit(pause: Pause) -> str:
        """Two nodes per pause: `stepN` sets the recorded values (a node's writes land when it returns),
        then `askN` interrupts, where the state already shows them."""
        index = len([n for n in nodes if n.startswith("step")])
        name, ask_name = f"step{index}", f"ask{index}"
        nodes[name] = nodes[ask_name] = []  # reserve the names before the children take theirs
        steps: list[dict[str, Any]] = []
        if isinstance(pause.values, dict) and pause.values:
            keys.update(pause.values)
            steps.append({"update": _literal(pause.values)})
        if pause.interrupt is None or (pause.ended and not pause.answers):
            del nodes[ask_name]
            nodes[name] = [*steps, {"goto": "END"}]
            return name
        nodes[name] = [*steps, {"goto": ask_name}]
        steps = []
        ask: dict[str, Any] = {"interrupt": _literal(pause.interrupt), "as": "answer"}
        answers = [json.loads(k) for k in pause.answers]
        if answers:  # any answer not seen while recording asks again
            ask |= {"until": {"enum": answers}, "retry": _literal(pause.interrupt)}
        steps.append(ask)
        for key, nxt in pause.answers.items():
            steps.append({"if": {"value": "{answer}", "equals": _literal(json.loads(key))}, "then": [{"goto": emit(nxt)}]})
        steps.append({"goto": "END"})
        nodes[ask_name] = steps
        return name

    route: list[dict[str, Any]] = []
    nodes["start"] = route
    for key, first in inputs.items():
        route.append({"if": _input_condition(json.loads(key)), "then": [{"goto": emit(first)}]})
    route.append({"raise": {"type": "ValueError", "message": "hitl-mock replay: this input was not seen while recording"}})
    return {
        "graph_id": graph,
        "description": f"Recorded from {upstream} by hitl-mock record",
        # What was seen, as conversations for `hitl-contract verify`; its branches are the recording's own
        # (an answer not seen re-asks), not the deployment's, so verify runs the examples only.
        "examples": _examples(inputs),
        "verify_branches": False,
        "state": dict.fromkeys(sorted(keys), "any"),
        "edges": [["START", "start"]],
        "nodes": nodes,
    }


def _examples(inputs: dict[str, Pause]) -> list[dict[str, Any]]:
    """Every recorded path, from an input through the answers seen to where the recording stopped."""
    out: list[dict[str, Any]] = []

    def walk(raw: Any, pause: Pause, answers: list[Any]) -> None:
        if not pause.answers:
            out.append({"name": f"recorded {len(out) + 1}", "input": raw, "resume": answers})
        for key, nxt in pause.answers.items():
            walk(raw, nxt, [*answers, json.loads(key)])

    for key, first in inputs.items():
        walk(json.loads(key), first, [])
    return out


def _literal(value: Any) -> Any:
    """A recorded value as a template that renders to itself (braces escaped)."""
    if isinstance(value, str):
        return value.replace("{", "{{").replace("}", "}}")
    if isinstance(value, list):
        return [_literal(v) for v in value]
    if isinstance(value, dict):
        return {k: _literal(v) for k, v in value.items()}
    return value


def create_proxy(upstream: str, recorder: Recorder) -> Starlette:
    client = httpx.AsyncClient(base_url=upstream.rstrip("/"), timeout=None)

    async def forward(request: Request) -> Response:
        body = await request.body()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        upstream_request = client.build_request(request.method, request.url.path, params=request.query_params, headers=headers, content=body)
        answer = await client.send(upstream_request, stream=True)
        match = _RUN.match(request.url.path) if request.method == "POST" else None

        async def after() -> None:
            await answer.aclose()
            if match and answer.status_code == 200:
                try:
                    await recorder.observe(client, match.group(1), json.loads(body))
                except (ValueError, httpx.HTTPError, KeyError):
                    pass  # recording is best effort; the client already has its answer

        out_headers = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP}
        return StreamingResponse(answer.aiter_raw(), status_code=answer.status_code, headers=out_headers, background=BackgroundTask(after))

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]
    app = Starlette(routes=[Route("/{path:path}", forward, methods=methods)])
    app.state.recorder = recorder
    return app
