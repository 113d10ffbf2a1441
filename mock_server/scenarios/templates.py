"""Scenario values and conditions. A value is a template: `"{state.some_text}"` alone is the value itself (any
JSON type); inside a longer string it is formatted with `str()`, as an f-string would; `{{` and `}}` are literal
braces. Conditions (`equals`, `in`, `contains`, `matches`, `schema`, `exists`, `all`, `any`, `not`) test them."""

from __future__ import annotations

import functools
import re
from typing import Any

import jsonschema

from ..patterns import compile_pattern

_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)*)\}")
_SINGLE = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)*)\}$")


def lookup(path: str, scope: dict[str, Any]) -> Any:
    """`a.b.0.c` in scope; a missing key or index gives None (so conditions can test for absence)."""
    head, *rest = path.split(".")
    value = scope.get(head)
    for part in rest:
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, (list, tuple)) and re.fullmatch(r"-?\d+", part):
            index = int(part)
            value = value[index] if -len(value) <= index < len(value) else None
        else:
            value = getattr(value, part, None) if hasattr(value, "model_fields") else None
    return value


def render(template: Any, scope: dict[str, Any]) -> Any:
    if isinstance(template, str):
        single = _SINGLE.match(template)
        if single:
            return lookup(single.group(1), scope)

        def sub(m: re.Match[str]) -> str:
            if m.group(0) == "{{":
                return "{"
            if m.group(0) == "}}":
                return "}"
            return str(lookup(m.group(1), scope))

        return _TOKEN.sub(sub, template)
    if isinstance(template, dict):
        return {key: render(value, scope) for key, value in template.items()}
    if isinstance(template, list):
        return [render(item, scope) for item in template]
    return template


@functools.lru_cache(maxsize=256)
def _pattern(text: str) -> Any:
    return compile_pattern(text)  # checked when the scenario was loaded


def check(condition: Any, scope: dict[str, Any]) -> bool:
    if not isinstance(condition, dict):
        return bool(render(condition, scope))
    if "all" in condition:
        return all(check(c, scope) for c in condition["all"])
    if "any" in condition:
        return any(check(c, scope) for c in condition["any"])
    if "not" in condition:
        return not check(condition["not"], scope)
    value = render(condition.get("value"), scope)
    if "equals" in condition:
        return bool(value == render(condition["equals"], scope))
    if "in" in condition:
        return value in render(condition["in"], scope)
    if "contains" in condition:
        needle = render(condition["contains"], scope)
        return isinstance(value, (str, list, dict)) and (needle in value if not isinstance(value, str) else str(needle) in value)
    if "matches" in condition:
        return isinstance(value, str) and _pattern(condition["matches"]).search(value) is not None
    if "schema" in condition:
        return satisfies(value, condition["schema"])
    if "exists" in condition:
        return (value is not None) == bool(condition["exists"])
    return bool(value)


def satisfies(value: Any, schema: Any) -> bool:
    return jsonschema.Draft202012Validator(schema).is_valid(value)
