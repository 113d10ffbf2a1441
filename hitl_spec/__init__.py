"""The OpenAPI contract (`openapi/openapi.yaml`) as package data, shared by the mock (`mock_server`) and the
conformance suite (`contract_tests`), which never import each other.

It offers what both sides read from the spec: the document itself, the path templates, the enums it defines,
SSE parsing, and `check_response`, which says what in a response disagrees with the spec.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

_HERE = Path(__file__).resolve().parent
# The repository's `openapi/` in a checkout (and an editable install); the copy packaged in the wheel otherwise.
SPEC_PATH = next(
    (p for p in (_HERE.parent / "openapi" / "openapi.yaml", _HERE / "openapi" / "openapi.yaml") if p.is_file()),
    _HERE.parent / "openapi" / "openapi.yaml",
)
METHODS = ("get", "post", "put", "patch", "delete")
_PARAM = re.compile(r"\{[^/}]+\}")


@functools.cache
def load_spec(path: Path = SPEC_PATH) -> dict[str, Any]:
    """The spec as a dict (loaded once; treat it as read-only)."""
    with path.open(encoding="utf-8") as fh:
        loaded: dict[str, Any] = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return loaded


@functools.cache
def spec_json() -> bytes:
    """The spec as compact JSON, as `GET /openapi.json` serves it."""
    return json.dumps(load_spec(), separators=(",", ":")).encode()


def resolve(pointer: str) -> Any:
    """The node at a JSON pointer of the spec, e.g. `#/components/schemas/ThreadStatus`."""
    node: Any = load_spec()
    for part in pointer.removeprefix("#/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def enum_values(pointer: str) -> tuple[str, ...]:
    """The `enum` of the schema at `pointer` (through one `$ref`, and inside a parameter's `schema`)."""
    node = resolve(pointer)
    if "$ref" in node:
        node = resolve(node["$ref"])
    if "schema" in node and "enum" not in node:
        node = node["schema"]
    return tuple(node["enum"])


# -- paths ----------------------------------------------------------------------------------------------------


@functools.cache
def _path_patterns() -> list[tuple[re.Pattern[str], str]]:
    paths = load_spec()["paths"]
    # Literal segments win over parameters (`/threads/search` before `/threads/{thread_id}`).
    ordered = sorted(paths, key=lambda p: (p.count("{"), -len(p)))
    return [(re.compile("^" + _PARAM.sub("[^/]+", p) + "$"), p) for p in ordered]


def match_path(path: str) -> str | None:
    """The spec's path template for a concrete request path, or None."""
    return next((template for pattern, template in _path_patterns() if pattern.match(path)), None)


# -- SSE ------------------------------------------------------------------------------------------------------


def parse_sse(body: bytes) -> list[dict[str, Any]]:
    """SSE frames as `{event, data, id?}` dicts (comments skipped; data parsed as JSON)."""
    events = []
    for frame in body.replace(b"\r\n", b"\n").split(b"\n\n"):
        item: dict[str, Any] = {}
        data_lines = []
        for line in frame.split(b"\n"):
            if not line or line.startswith(b":"):
                continue
            key, _, value = line.decode().partition(":")
            value = value[1:] if value.startswith(" ") else value
            if key == "data":
                data_lines.append(value)
            elif key in ("event", "id"):
                item[key] = value
        if data_lines:
            item["data"] = json.loads("\n".join(data_lines))
        if item:
            events.append(item)
    return events


# -- response checking ----------------------------------------------------------------------------------------


def _decode_json_content(schema: Any) -> Any:
    """The schema with each JSON-text string (`contentMediaType: application/json` + `contentSchema`)
    replaced by its `contentSchema`, to validate SSE events whose `data` has been parsed."""
    if isinstance(schema, dict):
        if schema.get("contentMediaType") == "application/json" and "contentSchema" in schema:
            return _decode_json_content(schema["contentSchema"])
        return {k: _decode_json_content(v) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_decode_json_content(v) for v in schema]
    return schema


@functools.cache
def _schema_validator(pointer: tuple[str, ...], decode_content: bool = False) -> Any:
    spec = load_spec()
    node: Any = spec
    for part in pointer:
        node = node[part]
    root = {**node, "components": spec.get("components", {})}
    return jsonschema_rs.validator_for(_decode_json_content(root) if decode_content else root)


def _documented_response(method: str, template: str, status: int) -> tuple[dict[str, Any], tuple[str, ...]] | str:
    """The spec's response object for this status and the pointer to it, or what is wrong."""
    op = load_spec()["paths"][template].get(method.lower())
    if op is None:
        return f"{method} {template}: method not in the spec"
    responses = op.get("responses", {})
    key = str(status) if str(status) in responses else ("default" if "default" in responses else None)
    if key is None:
        return f"{method} {template}: status {status} not documented (documented: {', '.join(responses)})"
    response = responses[key]
    if "$ref" in response:
        name = response["$ref"].rsplit("/", 1)[-1]
        return load_spec()["components"]["responses"][name], ("components", "responses", name)
    return response, ("paths", template, method.lower(), "responses", key)


def check_response(method: str, path: str, status: int, content_type: str, body: bytes) -> list[str]:
    """What in this response disagrees with the spec (an empty list when it conforms)."""
    template = match_path(path)
    if template is None:
        return [f"{method} {path}: path not in the spec"]
    found = _documented_response(method, template, status)
    if isinstance(found, str):
        return [found]
    response, pointer_base = found
    content = response.get("content") or {}
    media = content_type.split(";", maxsplit=1)[0].strip()
    if not content:
        return [] if not body.strip() else [f"{method} {template} {status}: documented without a body, got {body[:80]!r}"]
    if media not in content:
        return [f"{method} {template} {status}: content type {media!r} not documented ({', '.join(content)})"]
    if "schema" not in content[media]:
        return []
    sse = media == "text/event-stream"
    validator = _schema_validator((*pointer_base, "content", media, "schema"), decode_content=sse)
    instances = parse_sse(body) if sse else [json.loads(body)]
    problems = []
    for instance in instances:
        for error in validator.iter_errors(instance):
            problems.append(f"{method} {template} {status}: {str(error).splitlines()[0]} (at {list(error.instance_path)})")
    return problems
