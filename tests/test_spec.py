"""The contract itself: a valid OpenAPI 3.1 document, served by the mock route for route, and a
response check that really rejects what disagrees with it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from openapi_spec_validator import validate

import hitl_spec
from mock_server import validation
from mock_server.api import admin
from mock_server.app import contract_routes

ROOT = Path(__file__).resolve().parent.parent


def test_the_spec_is_valid_openapi_3_1():
    spec = hitl_spec.load_spec()
    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_every_operation_is_served_and_every_route_is_specified():
    specified = {(op.method, op.path) for op in validation.operations().values()}
    served = {(method, r.path) for r in [*contract_routes(), *admin.routes] for method in r.methods - {"HEAD"}}
    assert specified == served


def test_operations_have_ids_tags_and_summaries():
    for path, item in hitl_spec.load_spec()["paths"].items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue  # path-level `parameters`
            assert op.get("operationId") and op.get("tags") and op.get("summary"), (method, path)


def test_the_interrupt_and_command_schemas_are_typed():
    schemas = hitl_spec.load_spec()["components"]["schemas"]
    assert set(schemas["Interrupt"]["required"]) == {"value", "id"}
    assert schemas["Interrupt"]["properties"]["id"]["pattern"] == "^[0-9a-f]{32}$"
    assert {"resume", "update", "goto"} <= set(schemas["Command"]["properties"])


@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        ("GET", "/threads/0193e0b1-0000-7000-8000-000000000001", 200, {"thread_id": "x", "status": "paused"}),
        ("POST", "/threads/0193e0b1-0000-7000-8000-000000000001/runs/wait", 200, {"__interrupt__": [{"value": 1, "id": "not-hex"}]}),
        ("GET", "/threads/0193e0b1-0000-7000-8000-000000000001/runs/0193e0b1-0000-7000-8000-000000000002", 200, {"run_id": "r", "status": "interrupted-ish"}),
        ("GET", "/threads/0193e0b1-0000-7000-8000-000000000001", 404, {"message": "no detail key"}),
        ("POST", "/threads", 201, {}),
    ],
)
def test_the_response_check_rejects_what_disagrees(method, path, status, body):
    assert hitl_spec.check_response(method, path, status, "application/json", json.dumps(body).encode())


def test_the_response_check_reads_sse_events():
    path = "/threads/0193e0b1-0000-7000-8000-000000000001/runs/stream"
    good = b'event: metadata\r\ndata: {"run_id":"0193e0b1-0000-7000-8000-000000000002","attempt":1}\r\n\r\n'
    assert hitl_spec.check_response("POST", path, 200, "text/event-stream; charset=utf-8", good) == []
    bad = b'event: metadata\r\ndata: {"attempt":1}\r\n\r\n'
    assert hitl_spec.check_response("POST", path, 200, "text/event-stream; charset=utf-8", bad)
    bad_interrupt = b'event: updates\r\ndata: {"__interrupt__":[{"value":1}]}\r\n\r\n'
    assert hitl_spec.check_response("POST", path, 200, "text/event-stream; charset=utf-8", bad_interrupt)


def test_request_validation_reads_the_spec():
    op = validation.operation_for("POST", "/threads/{thread_id}/runs/wait")
    op.validate({"assistant_id": "agent", "command": {"resume": "x", "bogus": 1}, "unknown": 2})
    with pytest.raises(validation.BodyError, match="interrupt_before"):
        op.validate({"assistant_id": "agent", "interrupt_before": "step2"})
    with pytest.raises(validation.BodyError, match="goto"):
        op.validate({"assistant_id": "agent", "command": {"goto": 5}})


def test_the_mock_serves_the_spec(mock):
    with mock.http() as http:
        assert http.get("/openapi.json").json() == hitl_spec.load_spec()


def test_the_mocks_enums_are_read_against_the_spec():
    from enum import StrEnum

    from mock_server import types

    for enum, pointer in types.SPEC_ENUMS.items():
        types.check_enum(enum, pointer)  # what importing the module already did
    drifted = StrEnum("RunStatus", {"PENDING": "pending", "DONE": "done"})
    with pytest.raises(RuntimeError, match=r"RunStatus disagrees with the spec .*'interrupted'"):
        types.check_enum(drifted, types.SPEC_ENUMS[types.RunStatus])


def test_what_is_not_served_is_listed_in_the_readme_and_the_spec():
    """Every path of the official server's /openapi.json with an operation the contract leaves out is named (itself,
    or a prefix of it such as `/runs/crons…`) in the README's "Not served yet" table and in the spec's description."""
    official = json.loads((ROOT / "tests" / "reference" / "official-openapi-langgraph-api-0.16.7.json").read_text())
    ours = hitl_spec.load_spec()["paths"]
    missing = sorted({path for path, item in official["paths"].items() for method in item if method in hitl_spec.METHODS and method not in ours.get(path, {})})
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("Not served yet") : readme.index("These differences are deliberate")]
    described = hitl_spec.load_spec()["info"]["description"]
    for where, text in (("README", table), ("spec", described[described.index("Not in this contract") :])):
        named = {m.rstrip("…") for m in re.findall(r"`(?:[A-Z]+ )?(/[^`\s]*)`", text)}
        assert [p for p in missing if not any(p.startswith(n) for n in named)] == [], f"official paths the {where} does not name"
        assert [n for n in named if n in ours] == [], f"the {where} lists as not served paths that are served"
