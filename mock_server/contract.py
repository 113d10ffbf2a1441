"""The OpenAPI contract in `openapi/`: loaded once, and the source of every request-body validator.

Bodies are validated with jsonschema-rs against the operation's request schema, rooted as
`{"$ref": "#/components/schemas/<Name>", "components": ...}`: that is how the official server validates,
so a bad body gets the same `{"detail"}` text, naming the bad field and the failed keyword.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

_HERE = Path(__file__).resolve().parent
# The repo's `openapi/` in a checkout; the copy packaged in the wheel otherwise.
SPEC_PATH = next(
    (p for p in (_HERE.parent / "openapi" / "openapi.yaml", _HERE / "_bundled" / "openapi" / "openapi.yaml") if p.is_file()),
    _HERE.parent / "openapi" / "openapi.yaml",
)


class BodyError(Exception):
    """A request body that the contract rejects; `str()` is the `detail` the client gets (HTTP 422)."""


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str
    validator: Any | None  # a jsonschema_rs validator for the JSON body, or None when there is no body

    def validate(self, body: Any) -> None:
        if self.validator is None:
            return
        try:
            self.validator.validate(body)
        except jsonschema_rs.ValidationError as exc:
            raise BodyError(str(exc)) from None


@functools.cache
def load_spec(path: Path = SPEC_PATH) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@functools.cache
def spec_json() -> bytes:
    return json.dumps(load_spec(), separators=(",", ":")).encode()


@functools.cache
def operations() -> dict[str, Operation]:
    """Every operation of the spec by operationId, each with its request-body validator."""
    spec = load_spec()
    components = spec.get("components", {})
    result: dict[str, Operation] = {}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            validator = None
            if schema is not None:
                validator = jsonschema_rs.validator_for(_validation_root(schema, components))
            result[op["operationId"]] = Operation(op["operationId"], method.upper(), path, validator)
    return result


def _inline_properties(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """The schema with each `properties.x: {$ref}` replaced by its target, so errors name `properties.x`."""
    props = schema.get("properties")
    if not isinstance(props, dict):
        return schema
    inlined = {}
    for key, value in props.items():
        if isinstance(value, dict) and "$ref" in value:
            target = schemas[value["$ref"].rsplit("/", 1)[-1]]
            value = {**target, **{k: v for k, v in value.items() if k != "$ref"}}
        inlined[key] = value
    return {**schema, "properties": inlined}


def _referenced(node: Any, schemas: dict[str, Any], found: dict[str, Any]) -> dict[str, Any]:
    """The component schemas `node` reaches through `$ref`s (so each validator compiles only those)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[-1]
            if name not in found:
                found[name] = schemas[name]
                _referenced(schemas[name], schemas, found)
        for value in node.values():
            _referenced(value, schemas, found)
    elif isinstance(node, list):
        for value in node:
            _referenced(value, schemas, found)
    return found


def _validation_root(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """The root a body is validated against, laid out as the official server lays out its validators:
    run bodies through `#/components/schemas/RunCreate...`, other bodies inline. With jsonschema-rs that
    makes every 422 `detail` byte-identical to the official one (e.g. `... in schema["components"]
    ["schemas"]["RunCreateStateful"]["properties"]["stream_mode"]`)."""
    schemas = _referenced(schema, components.get("schemas", {}), {})
    name = schema.get("$ref", "").rsplit("/", 1)[-1]
    if name in schemas:
        schemas[name] = _inline_properties(schemas[name], schemas)
        if not name.startswith("RunCreate"):
            return {**schemas[name], "components": {"schemas": schemas}}
    return {**schema, "components": {"schemas": schemas}}


def operation_for(method: str, path: str) -> Operation:
    """The operation serving `method` on a path template of the spec (e.g. `/threads/{thread_id}/runs/wait`)."""
    for op in operations().values():
        if op.method == method.upper() and op.path == path:
            return op
    raise LookupError(f"{method} {path} is not in {SPEC_PATH.name}")


# -- response checking --------------------------------------------------------------------------------------

import re  # noqa: E402

_PARAM = re.compile(r"\{[^/}]+\}")


@functools.cache
def _path_patterns() -> list[tuple[re.Pattern[str], str]]:
    paths = load_spec()["paths"]
    # Literal segments win over parameters (`/threads/search` before `/threads/{thread_id}`).
    ordered = sorted(paths, key=lambda p: (p.count("{"), -len(p)))
    return [(re.compile("^" + _PARAM.sub("[^/]+", p) + "$"), p) for p in ordered]


def match_path(path: str) -> str | None:
    """The spec's path template for a concrete request path, or None."""
    return next((template for pattern, template in _path_patterns() if pattern.match(path)), None)


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


def check_response(method: str, path: str, status: int, content_type: str, body: bytes) -> list[str]:
    """What in this response disagrees with the spec (an empty list when it conforms)."""
    template = match_path(path)
    if template is None:
        return [f"{method} {path}: path not in the spec"]
    op = load_spec()["paths"][template].get(method.lower())
    if op is None:
        return [f"{method} {template}: method not in the spec"]
    responses = op.get("responses", {})
    key = str(status) if str(status) in responses else ("default" if "default" in responses else None)
    if key is None:
        return [f"{method} {template}: status {status} not documented (documented: {', '.join(responses)})"]
    response = responses[key]
    if "$ref" in response:
        name = response["$ref"].rsplit("/", 1)[-1]
        response = load_spec()["components"]["responses"][name]
        pointer_base: tuple[str, ...] = ("components", "responses", name)
    else:
        pointer_base = ("paths", template, method.lower(), "responses", key)
    content = response.get("content") or {}
    media = content_type.split(";")[0].strip()
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
