"""HTTP and SSE against the server under test, keeping a transcript of every exchange: when a check fails,
the transcript of its (smallest) failing example is the reproduction, with a curl line per request."""

from __future__ import annotations

import functools
import json
import re
import shlex
import ssl
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

import hitl_spec
from hitl_spec import parse_sse


@dataclass
class Exchange:
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: Any
    status: int
    response_headers: dict[str, str]
    response_text: str

    def curl(self) -> str:
        parts = ["curl", "-sS", "-X", self.method, self.url]
        for key, value in self.request_headers.items():
            shown = "$HITL_API_KEY" if key.lower() == "x-api-key" else (f"${key.upper().replace('-', '_')}" if key.lower() in SECRET_HEADERS else value)
            parts += ["-H", f"{key}: {shown}"]
        if self.request_body is not None:
            parts += ["-d", self.request_body if isinstance(self.request_body, str) else json.dumps(self.request_body)]
        return " ".join(shlex.quote(p) if "$" not in p else '"' + p.replace('"', '\\"') + '"' for p in parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "request": {"method": self.method, "url": self.url, "body": self.request_body},
            "response": {"status": self.status, "content_type": self.response_headers.get("content-type"), "body": self.response_text[:4000]},
            "curl": self.curl(),
        }


@dataclass
class Reply:
    status: int
    headers: httpx.Headers
    text: str

    def json(self) -> Any:
        return json.loads(self.text)

    def events(self) -> list[dict[str, Any]]:
        return parse_sse(self.text.encode())


SECRET_HEADERS = {"x-api-key", "authorization", "cookie"}
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_RUN_PATH = re.compile(r"^/threads/([0-9a-fA-F-]{36})/runs(/wait|/stream)?$")


def _thread_id(text: str) -> str:
    """The created thread's id: the body's `thread_id`, else the first id the text names ("" if none)."""
    try:
        return str(json.loads(text)["thread_id"])
    except (ValueError, KeyError, TypeError):
        found = _UUID.search(text)
        return found.group(0) if found else ""


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context per process: httpx would load the CA bundle for every client (about 20 ms each, measured:
    2.8 s of a 17 s run against the mock), and the suite makes a client per check."""
    return httpx.create_ssl_context()


@dataclass
class Client:
    """The suite's HTTP client. It keeps a transcript (the reproduction when a check fails), checks every response
    against the spec as it arrives (`schema_problems`, for HITL-SCHEMA-001), and remembers the threads it created
    so that `cleanup` can remove them."""

    base_url: str
    headers: dict[str, str] = field(default_factory=dict, repr=False)  # sent with every request (x-api-key, Authorization, ...); kept out of repr, which assertion messages show
    timeout: float = 120.0
    transcript: list[Exchange] = field(default_factory=list)
    schema_problems: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._http = httpx.Client(base_url=self.base_url.rstrip("/"), timeout=self.timeout, headers=self.headers, verify=tls_context())

    def reset(self) -> None:
        """Forget the transcript (at the start of each example, so a failure shows only its own exchanges)."""
        self.transcript = []

    def close(self) -> None:
        self._http.close()

    def request(self, method: str, path: str, body: Any = None, *, raw: str | None = None, headers: dict[str, str] | None = None, params: Any = None) -> Reply:
        headers = dict(headers or {})
        kwargs: dict[str, Any] = {"headers": headers, "params": params}
        sent: Any = None
        if raw is not None:
            headers.setdefault("content-type", "application/json")
            kwargs["content"] = raw.encode()
            sent = raw
        elif body is not None:
            kwargs["json"] = body
            sent = body
            headers.setdefault("content-type", "application/json")
        response = self._http.request(method, path, **kwargs)
        text = response.text
        shown = {**{k: "…" for k in self._http.headers if k.lower() in SECRET_HEADERS}, **headers}
        self.transcript.append(Exchange(method, str(response.request.url), shown, sent, response.status_code, dict(response.headers), text))
        self._check_schema(method, response)
        self.note_created(method, path, sent, response.status_code, text, response.headers)
        return Reply(response.status_code, response.headers, text)

    def _check_schema(self, method: str, response: httpx.Response) -> None:
        self.check_schema(method, response.request.url.path, response.status_code, response.headers.get("content-type", ""), response.content)

    def check_schema(self, method: str, path: str, status: int, content_type: str, body: bytes) -> None:
        """Check one response against the spec; what disagrees goes to `schema_problems`, with the last curl line."""
        if hitl_spec.match_path(path) is None:
            return
        try:
            found = hitl_spec.check_response(method, path, status, content_type, body)
        except ValueError as exc:  # a body that does not parse as what its content type says
            found = [f"{method} {path} {status}: the body does not parse ({exc})"]
        self.schema_problems += [f"{p}\n    $ {self.transcript[-1].curl()}" for p in found]

    def note_created(self, method: str, path: str, sent: Any, status: int, text: str, headers: Any = None) -> None:
        """Remember a thread this request created: POST /threads (200, or 201 when its supersteps failed), a thread
        run with `if_not_exists: create`, or a stateless run with `on_completion: keep` (named by Content-Location)."""
        if method != "POST" or status not in (200, 201):
            return
        if path == "/threads":
            if found := _thread_id(text):  # a 201 says "Thread <id> was created, but …"
                self.created.append(found)
        elif (match := _RUN_PATH.match(path)) and isinstance(sent, dict) and sent.get("if_not_exists") == "create":
            self.created.append(match.group(1))
        elif path in ("/runs", "/runs/wait", "/runs/stream") and isinstance(sent, dict) and sent.get("on_completion") == "keep":
            self.created += _UUID.findall(str((headers or {}).get("content-location", "")) or text)[:1]

    def cleanup(self) -> tuple[int, int, list[str]]:
        """Delete the threads this client created: (created, removed, ids left behind)."""
        created, left = list(dict.fromkeys(self.created)), []
        for tid in created:
            try:
                status = self._http.delete(f"/threads/{tid}").status_code
            except httpx.HTTPError:
                status = 0
            if status not in (200, 202, 204, 404):
                left.append(tid)
        self.created = []
        return len(created), len(created) - len(left), left

    # -- the calls the checks make ------------------------------------------------------------------------

    def create_thread(self, **body: Any) -> str:
        reply = self.request("POST", "/threads", body or {})
        assert reply.status == 200, f"POST /threads answered {reply.status}: {reply.text[:300]}"
        return str(reply.json()["thread_id"])

    def wait(self, thread_id: str | None, assistant: str, **body: Any) -> Reply:
        path = f"/threads/{thread_id}/runs/wait" if thread_id else "/runs/wait"
        return self.request("POST", path, {"assistant_id": assistant, **body})

    def wait_json(self, thread_id: str | None, assistant: str, **body: Any) -> Any:
        reply = self.wait(thread_id, assistant, **body)
        assert reply.status == 200, f"runs/wait answered {reply.status}: {reply.text[:300]}"
        return reply.json()

    def stream(self, thread_id: str | None, assistant: str, **body: Any) -> Reply:
        path = f"/threads/{thread_id}/runs/stream" if thread_id else "/runs/stream"
        return self.request("POST", path, {"assistant_id": assistant, **body})

    def thread(self, thread_id: str) -> Any:
        return self.request("GET", f"/threads/{thread_id}").json()

    def state(self, thread_id: str) -> Any:
        return self.request("GET", f"/threads/{thread_id}/state").json()

    def history(self, thread_id: str, limit: int = 20) -> Any:
        return self.request("POST", f"/threads/{thread_id}/history", {"limit": limit}).json()

    def run(self, thread_id: str, run_id: str) -> Any:
        return self.request("GET", f"/threads/{thread_id}/runs/{run_id}").json()

    def wait_until(self, predicate: Any, timeout: float = 30.0, interval: float = 0.1) -> Any:
        """Poll `predicate` until it returns something truthy (for run and thread statuses)."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"still not true after {timeout:.0f} s")
            time.sleep(interval)


def surfaces(client: Client, thread_id: str) -> dict[str, list[dict[str, Any]]]:
    """The pending interrupts as each surface that the server has lists them. A surface the server lacks (no
    `interrupts` key) is left out: its own clause (HITL-STATE-003 for `state.interrupts`) fails for that, and the
    checks that only need the pending interrupts do not fail with it."""
    thread = client.thread(thread_id)
    found = state_surfaces(client.state(thread_id))
    if "interrupts" in thread:
        found["thread.interrupts"] = [i for items in (thread["interrupts"] or {}).values() for i in items]
    return found


def state_surfaces(state: dict[str, Any], prefix: str = "state") -> dict[str, list[dict[str, Any]]]:
    """The interrupts a ThreadState (from /state or one history entry) lists: on its tasks, and at the top level
    when it has that key."""
    found = {f"{prefix}.tasks[].interrupts": [i for t in state.get("tasks") or [] for i in t.get("interrupts") or []]}
    if "interrupts" in state:
        found[f"{prefix}.interrupts"] = list(state["interrupts"] or [])
    return found


def pending_ids(client: Client, thread_id: str) -> dict[str, list[str]]:
    """The pending interrupt ids as each surface the server has lists them."""
    return {name: sorted(i["id"] for i in items) for name, items in surfaces(client, thread_id).items()}


def pending(client: Client, thread_id: str) -> list[dict[str, Any]]:
    """The pending interrupts ({id, value}), for the checks that resume by id: from the state's tasks, else from
    `state.interrupts`, else from the thread. Those checks then do not fail because one surface lacks them (each
    surface has its own clause: HITL-STATE-002, HITL-STATE-003, HITL-SURFACE-001)."""
    found = surfaces(client, thread_id)
    for name in ("state.tasks[].interrupts", "state.interrupts", "thread.interrupts"):
        if found.get(name):
            return found[name]
    return []
