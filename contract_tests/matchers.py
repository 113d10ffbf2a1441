"""How `hitl-contract verify` compares a value the scenario predicts with the one a deployment answered.

A matcher is `exact` (the default), `shape` (the same keys and JSON types, recursively), `any`, `{schema: {...}}`
(the deployment's value must satisfy the JSON Schema) or `{regex: "..."}` (the deployment's value is a string
the pattern matches, searched as `re.search` does). Scenario files put them on interrupt steps and `say` /
`message` steps (`compare:`), and on state channels (`state: {key: {type: ..., compare: ...}}`).
"""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema_rs

NAMED = ("exact", "shape", "any")


def problem(matcher: Any) -> str | None:
    """Why `matcher` is not a matcher, or None."""
    if matcher in NAMED:
        return None
    if isinstance(matcher, dict) and len(matcher) == 1:
        (kind, arg), = matcher.items()
        if kind == "schema" and isinstance(arg, dict | bool):
            try:
                jsonschema_rs.validator_for(arg)
            except Exception as exc:  # the library's own error for a bad schema
                return f"a bad JSON Schema: {exc}"
            return None
        if kind == "regex" and isinstance(arg, str):
            try:
                re.compile(arg)
            except re.error as exc:
                return f"a regex that does not compile: {exc}"
            return None
    return f"{json.dumps(matcher)[:80]} is not a matcher: use exact, shape, any, {{schema: {{...}}}} or {{regex: ...}}"


def mismatch(matcher: Any, expected: Any, actual: Any) -> str | None:
    """None when `actual` passes for `expected` under `matcher`; otherwise why not, in a few words."""
    if matcher == "any":
        return None
    if matcher == "shape":
        return _shape(expected, actual, "")
    if isinstance(matcher, dict) and "schema" in matcher:
        errors = [e.message for e in jsonschema_rs.validator_for(matcher["schema"]).iter_errors(actual)]
        return f"does not satisfy the schema: {errors[0]}" if errors else None
    if isinstance(matcher, dict) and "regex" in matcher:
        if not isinstance(actual, str):
            return f"is not a string (the regex {matcher['regex']!r} needs one)"
        return None if re.search(matcher["regex"], actual) else f"does not match the regex {matcher['regex']!r}"
    return None if expected == actual else "differs"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    names: dict[type, str] = {str: "string", list: "array", dict: "object"}
    return names.get(type(value), type(value).__name__)


def _shape(expected: Any, actual: Any, path: str) -> str | None:
    if _kind(expected) != _kind(actual):
        return f"{path or 'the value'} is {_kind(actual)}, expected {_kind(expected)}"
    if isinstance(expected, dict):
        if set(expected) != set(actual):
            extra, missing = sorted(set(actual) - set(expected)), sorted(set(expected) - set(actual))
            return f"{path or 'the value'} has keys {'+' + str(extra) if extra else ''}{' -' + str(missing) if missing else ''}"
        for key in expected:
            found = _shape(expected[key], actual[key], f"{path}.{key}" if path else key)
            if found:
                return found
    if isinstance(expected, list):
        if len(expected) != len(actual):
            return f"{path or 'the value'} has {len(actual)} items, expected {len(expected)}"
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            found = _shape(e, a, f"{path}[{i}]")
            if found:
                return found
    return None
