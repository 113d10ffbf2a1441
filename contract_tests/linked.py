"""The spec ready for schemathesis: its OpenAPI links carry the real thread and run ids from one response to the
next request, and the run operations they lead to get the `agent` fixture graph, merged into the bodies
schemathesis generates (a run needs a graph the server serves). Used by HITL-SCHEMA-001 and benchmarks/fuzz.py."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Sequence
from typing import Any

import schemathesis
from schemathesis import GenerationMode

# Streams that never end: the server holds them open with heartbeats until the client leaves, so a generated request
# would never get a whole response. Left out of the generated checks (the report lists them in inputs_not_checked);
# the thread-streams checks read /stream/events and check each event they read against the spec.
ENDLESS = (("post", "/threads/{thread_id}/stream/events"), ("get", "/threads/{thread_id}/stream"))
RUN_LINKS = ("CreateRun", "WaitRun", "StreamRun")  # the links from POST /threads to the three ways to start a run
# Server-side time a generated request must not ask for: `after_seconds` would park a run for hours (and a wait on it).
SLOW_FIELDS = ("after_seconds",)


def finite(spec: dict[str, Any]) -> dict[str, Any]:
    """A copy of `spec` without the `ENDLESS` stream operations (ours or the official server's document)."""
    spec = copy.deepcopy(spec)
    for method, path in ENDLESS:
        operations = spec.get("paths", {}).get(path, {})
        operations.pop(method, None)
        if not set(operations) - {"parameters", "summary", "description"}:
            spec.get("paths", {}).pop(path, None)
    return spec


def linked_schema(spec: dict[str, Any], modes: Sequence[GenerationMode] = (GenerationMode.POSITIVE,)) -> Any:
    """A schemathesis schema of `spec` (a copy, without the endless streams) without hitl-mock's `admin` operations,
    whose run links name the `agent` graph, generating in `modes`. A spec without those links is used as it is."""
    spec = finite(spec)
    links = spec.get("paths", {}).get("/threads", {}).get("post", {}).get("responses", {}).get("200", {}).get("links", {})
    for name in RUN_LINKS:
        if name in links:
            links[name]["requestBody"] = {"assistant_id": "agent"}
    schema = schemathesis.openapi.from_dict(spec).exclude(tag="admin")
    schema.config.generation.update(modes=list(modes))
    return schema


def scope_cancels(case: Any) -> None:
    """A generated `POST /runs/cancel` by `status` would cancel every pending or running run on the server: other
    clients', and the suite's own concurrent checks' (it failed HITL-MT-002 and CANCEL-001 that way). It is sent by
    ids instead, which selects nothing of anyone's; the by-status form is listed as not checked."""
    if case.operation.label == "POST /runs/cancel" and isinstance(case.body, dict) and case.body.get("status") in ("pending", "running", "all"):
        case.body.pop("status")
        case.body.setdefault("thread_id", str(uuid.uuid4()))
        case.body.setdefault("run_ids", [str(uuid.uuid4())])


def drop_slow_fields(case: Any) -> None:
    if isinstance(case.body, dict):
        for key in SLOW_FIELDS:
            case.body.pop(key, None)
