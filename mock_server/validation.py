"""Request-body validation, read from the spec (`hitl_spec`): one validator per operation.

Bodies are validated with jsonschema-rs against the operation's request schema, rooted as
`{"$ref": "#/components/schemas/<Name>", "components": ...}`: that is how the official server validates,
so a bad body gets the same `{"detail"}` text, naming the bad field and the failed keyword.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import jsonschema_rs

from hitl_spec import METHODS, SPEC_PATH, load_spec


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
def operations() -> dict[str, Operation]:
    """Every operation of the spec by operationId, each with its request-body validator."""
    spec = load_spec()
    components = spec.get("components", {})
    result: dict[str, Operation] = {}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
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


@functools.cache
def _by_route() -> dict[tuple[str, str], Operation]:
    return {(op.method, op.path): op for op in operations().values()}


def operation_for(method: str, path: str) -> Operation:
    """The operation serving `method` on a path template of the spec (e.g. `/threads/{thread_id}/runs/wait`)."""
    found = _by_route().get((method.upper(), path))
    if found is None:
        raise LookupError(f"{method} {path} is not in {SPEC_PATH.name}")
    return found


@functools.cache
def _config_validator() -> Any:
    return jsonschema_rs.validator_for(load_spec()["components"]["schemas"]["Config"])


def validate_config(config: Any) -> None:
    """An assistant's `config`, checked against the `Config` schema alone as the official server checks it
    (`ConfigValidator`), so the 422 detail names e.g. `schema["properties"]["tags"]`. Raises `BodyError`."""
    try:
        _config_validator().validate(config)
    except jsonschema_rs.ValidationError as exc:
        raise BodyError(str(exc)) from None
