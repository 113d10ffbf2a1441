"""`RunSession`: one run's events, as its broker publishes them, normalised into protocol events the way the official
session does (langgraph_api/event_streaming/session.py, `EventStreamingSession`).

Two kinds of source: a protocol run publishes LangGraph's v3 protocol events (already `{type: "event", method,
params}`), a v1 run publishes its stream modes' chunks (`values`, `updates|<ns>`, ...). Both become the same wire
events. The session seeds `lifecycle running`, turns interrupts into `input.requested` (plus an eager root
`lifecycle interrupted`), and ends with the run's terminal lifecycle. Event ids: the broker's `<ms>-<seq>` id of the
source event (`.<n>` for further events made from it), or `synth:<run_id>:<discriminator>` for synthesized ones.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..runs.broker import EntryIds, StreamEvent
from ..wire import dumps, loads
from . import shapes
from .namespaces import AgentTree, Namespace, ns_key

# (event_id, method, params): appends one event to the thread log, which gives it its seq.
Emit = Callable[[str, str, dict[str, Any]], None]
TERMINAL = ("completed", "failed", "interrupted")


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class RunSession:
    def __init__(self, run_id: str, graph_name: str, emit: Emit, status: Callable[[], str | None]) -> None:
        self.run_id = run_id
        self.tree = AgentTree(graph_name)
        self.emit = emit
        self.status = status  # the run's terminal lifecycle once it ended ("running" while not; None: run gone)
        self.pending: dict[str, Namespace] = {}  # interrupt id -> namespace it was requested in
        self.terminal = False
        self._source: str | None = None  # the broker id of the source event being normalised
        self._suffix = 0
        self._ids = EntryIds()  # for source events the broker gave no id (a run that is not resumable)

    # -- envelopes ---------------------------------------------------------------------------------------------

    def _push(self, method: str, ns: Namespace, data: Any, *, node: str | None = None, timestamp: int | None = None, event_id: str | None = None) -> None:
        if method.startswith("custom:") and len(method) > 7:
            data, method = {"name": method[7:], "payload": data}, "custom"
        params: dict[str, Any] = {
            "namespace": ns,
            "timestamp": timestamp if isinstance(timestamp, int) else now_ms(),
            "data": shapes.state_payload(data) if method in ("values", "updates") else data,
        }
        if node is not None:
            params["node"] = node
        self.emit(event_id or self._next_id(), "input.requested" if method == "input" else method, params)

    def _next_id(self) -> str:
        source = self._source or self._mint()
        n, self._suffix = self._suffix, self._suffix + 1
        return source if n == 0 else f"{source}.{n}"

    def _mint(self) -> str:
        """A `<ms>-<n>` id for a source event the broker gave none (a run that is not resumable)."""
        self._source = self._ids.next()
        return self._source

    def _synth(self, *parts: str) -> str:
        return f"synth:{self.run_id}:{'|'.join(parts)}"

    # -- lifecycle ---------------------------------------------------------------------------------------------

    def start(self) -> None:
        """The root `lifecycle running`, always first (even when replaying a finished run)."""
        self.tree.set([], "running")
        self._push("lifecycle", [], {"event": "running", "graph_name": self.tree.root_graph}, event_id=self._synth("lc", "", "running"))

    def _lifecycle(self, ns: Namespace, status: str, graph_name: str | None = None, error: str | None = None, cause: Any = None) -> None:
        name = self.tree.changes(ns, status, graph_name, error is not None or cause is not None)
        if name is None:
            return
        data: dict[str, Any] = {"event": status, "graph_name": name}
        data |= {"error": error} if error is not None else {}
        data |= {"cause": cause} if cause is not None else {}
        self._push("lifecycle", ns, data, event_id=self._synth("lc", ns_key(ns), status))

    def finish(self) -> None:
        """The run has ended (its broker closed): close what is open, then the root's terminal lifecycle."""
        if self.terminal:
            return
        status = self.status()
        if status is None or status in TERMINAL:
            self.terminal = True
        if status not in TERMINAL:
            return
        for node in self.tree.stale([]):
            self._lifecycle(node.namespace, "completed", node.graph_name)
        self._lifecycle([], status)

    def _failed(self, data: bytes) -> None:
        self.terminal = True
        try:
            body = loads(data)
            message = body.get("message", str(body)) if isinstance(body, dict) else str(body)
        except ValueError:
            message = data.decode("utf-8", "replace")
        self._lifecycle([], "failed", error=message)

    def _input_requested(self, ns: Namespace, requests: list[dict[str, Any]]) -> None:
        emitted = False
        for request in requests:
            interrupt_id = request.get("interrupt_id", "")
            if not interrupt_id or interrupt_id in self.pending:
                continue
            self.pending[interrupt_id] = list(ns)
            self._push("input", ns, request, event_id=self._synth("input", ns_key(ns), interrupt_id))
            emitted = True
        if emitted:  # the run stopped for input: the root is interrupted now, not when the run's task ends
            self._lifecycle([], "interrupted")
            self.terminal = True

    # -- ingest ------------------------------------------------------------------------------------------------

    def ingest(self, item: StreamEvent) -> None:
        if item.event == "metadata":
            return
        if item.event == "error":
            self._failed(item.data)
            return
        method, *ns = item.event.split("|")
        self._source, self._suffix = item.id, 0
        try:
            data = loads(item.data)
            if isinstance(data, dict) and data.get("type") == "event" and isinstance(data.get("method"), str) and isinstance(data.get("params"), dict):
                self._protocol_event(method, ns, data)
            else:
                self._chunk(method, ns, data)
        finally:
            self._source = None

    def _chunk(self, method: str, ns: Namespace, data: Any) -> None:
        """A v1 run's chunk (the official session's raw-source path)."""
        if method != "messages":
            self.tree.register(ns)
        if method == "values":
            requests, cleaned = shapes.strip_interrupts(data)
            self._input_requested(ns, requests)
            if shapes.has_state(cleaned):
                self._push("values", ns, cleaned)
        elif method == "messages":
            self.tree.register(ns)
            if isinstance(data, dict) and isinstance(data.get("event"), str):
                self._push("messages", ns, data)
        elif method == "updates":
            self._update(ns, data)
        elif method in ("custom", "tasks", "tools", "checkpoints"):
            self._plain(method, ns, data)

    def _update(self, ns: Namespace, data: Any) -> None:
        node, values = shapes.split_update(data)
        if node == "__interrupt__":
            self._input_requested(ns, shapes.input_requests(data))
            return
        requests, cleaned = shapes.strip_interrupts(values)
        self._input_requested(ns, requests)
        if shapes.has_state(cleaned):
            self._push("updates", ns, cleaned, node=node)
        if node:
            self._child_done(ns, node)

    def _plain(self, method: str, ns: Namespace, data: Any) -> None:
        if method == "custom":
            self._push("custom", ns, {"payload": data})
        elif method == "tasks":
            self._push("tasks", ns, data)
        elif method == "checkpoints":
            if isinstance(data, dict) and isinstance(data.get("id"), str):
                self._push("checkpoints", ns, data, event_id=self._synth("checkpoint", ns_key(ns), data["id"]))
        elif method == "tools":
            node = data.pop("__node", None) if isinstance(data, dict) else None
            self._push("tools", ns, data, node=node if isinstance(node, str) and node else None)
            self._tool_message(ns, data)

    def _protocol_event(self, method: str, ns: Namespace, event: dict[str, Any]) -> None:
        """A protocol run's v3 event (the official session's pre-normalised path)."""
        params = event["params"]
        raw_ns = params.get("namespace")
        ns = list(raw_ns) if isinstance(raw_ns, list) and all(isinstance(s, str) for s in raw_ns) else ns
        method = event.get("method") or method
        data = params.get("data")
        if method == "checkpoints":
            self._plain(method, ns, data)
            return
        if method == "lifecycle":
            self._upstream_lifecycle(ns, data)
            return
        if ns:
            self.tree.register(ns)
        node = params.get("node") if isinstance(params.get("node"), str) and params["node"] else None
        if method == "updates":
            if node is None and isinstance(data, dict) and isinstance(data.get("node"), str):
                node = data["node"] or None
            if node == "__interrupt__":
                self._input_requested(ns, shapes.input_requests(data.get("values") if isinstance(data, dict) else None))
                return
        elif method == "values":
            requests, data = shapes.strip_interrupts(data)
            self._input_requested(ns, shapes.input_requests(params.get("interrupts") or []))
            self._input_requested(ns, requests)
        elif method == "tools" and isinstance(data, dict) and node is None:
            raw = data.pop("__node", None)
            node = raw if isinstance(raw, str) and raw else None
        timestamp = params.get("timestamp") if isinstance(params.get("timestamp"), int) else None
        self._push(method, ns, data, node=node, timestamp=timestamp)
        if method == "tools" and isinstance(data, dict):
            self._tool_message(ns, data)
        if method == "updates" and node is not None:
            self._child_done(ns, node)

    # -- namespaces --------------------------------------------------------------------------------------------

    def _upstream_lifecycle(self, ns: Namespace, data: Any) -> None:
        """LangGraph's lifecycle events: subgraph ones go on the wire; the root's own is the session's to say."""
        if not isinstance(data, dict) or not isinstance(data.get("event"), str):
            if ns:
                self.tree.register(ns)
            return
        inner = data.get("namespace")
        if isinstance(inner, list) and all(isinstance(s, str) for s in inner) and len(inner) > len(ns):
            ns = list(inner)
        if not ns:
            return
        kind = data["event"]
        if kind == "started":
            if ns_key(ns) not in self.tree.announced:
                self.tree.announced.add(ns_key(ns))
                self.tree.set(ns, "started", data.get("graph_name") if isinstance(data.get("graph_name"), str) else None)
                self._push("lifecycle", ns, data)
        elif kind in ("running", *TERMINAL):
            name, error, cause = data.get("graph_name"), data.get("error"), data.get("cause")
            self._lifecycle(ns, kind, name if isinstance(name, str) else None, error if isinstance(error, str) else None, cause if isinstance(cause, dict) else None)
        else:
            self.tree.register(ns)

    def _child_done(self, parent: Namespace, node_name: str) -> None:
        child = self.tree.child_of(parent, node_name)
        if child is not None:
            self._lifecycle(child.namespace, "completed", child.graph_name)

    def _tool_message(self, ns: Namespace, data: dict[str, Any]) -> None:
        """A finished tool call, mirrored on the `messages` channel as a `tool` message (as the official server does)."""
        output = data.get("output")
        if data.get("event") != "tool-finished" or not isinstance(output, dict):
            return
        call_id = data.get("tool_call_id") if isinstance(data.get("tool_call_id"), str) else output.get("tool_call_id")
        call_id = call_id if isinstance(call_id, str) else None
        message_id = output.get("id") if isinstance(output.get("id"), str) and output["id"] else f"tool-{call_id}" if call_id else None
        if message_id is None:
            return
        content = output.get("content")
        text = content if isinstance(content, str) else "" if content is None else dumps(content).decode()
        block = {"type": "text", "text": text}
        where = [*ns, f"tools:{call_id}"] if call_id is not None else ns
        for event in (
            {"event": "message-start", "role": "tool", "id": message_id, **({"tool_call_id": call_id} if call_id else {})},
            {"event": "content-block-start", "index": 0, "content": {"type": "text", "text": ""}},
            {"event": "content-block-delta", "index": 0, "content": block},
            {"event": "content-block-finish", "index": 0, "content": block},
            {"event": "message-finish", "metadata": {}},
        ):
            self._push("messages", where, event)
