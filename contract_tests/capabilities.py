"""Which capabilities a server offers, decided from behaviour: a check sends the field or calls the route, and only
an answer that says it is unsupported (404, 405, 422 or 501 naming it) means "not offered". A field that is
accepted but not honoured is a failure of its clause, never a skip. The server's own `/openapi.json` is not read.

The user narrows what is certified only by choice: `--capabilities core,streaming` or `--skip-capability NAME`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pytest

from .clauses import CAPABILITIES

UNSUPPORTED = (404, 405, 422, 501)
ROUTE_MISSING = {"not found", "method not allowed", "not implemented"}


def _detail(reply: Any) -> str:
    try:
        body = json.loads(reply.text)
    except ValueError:
        return str(reply.text)
    return str(body.get("detail") or body.get("message") or body) if isinstance(body, dict) else str(body)


def route_missing(reply: Any) -> bool:
    """Whether the answer says the route does not exist: 404/405 with no more than "Not Found" (a missing thread
    or run names itself), or 501."""
    detail = _detail(reply).strip().lower().rstrip(".")
    return bool(reply.status == 501 or (reply.status in (404, 405) and (not detail or detail in ROUTE_MISSING)))


def require_route(reply: Any, route: str) -> None:
    """Skip (not offered) when the answer says the route does not exist."""
    if route_missing(reply):
        pytest.skip(f"not offered: the server answers {route} with {reply.status} {_detail(reply)[:80]!r}")


def require_field(reply: Any, field: str) -> None:
    """Skip (not offered) when the answer refuses the field by name: 404, 405, 422 or 501 whose detail names it."""
    if reply.status in UNSUPPORTED and field in _detail(reply):
        pytest.skip(f"not offered: the server refuses `{field}` ({reply.status} {_detail(reply)[:120]!r})")


@dataclass(frozen=True)
class Scope:
    """The capabilities a run certifies, and the user's choice that narrowed them (None: all of them)."""

    capabilities: tuple[str, ...]
    choice: str | None = None

    @classmethod
    def chosen(cls, only: str | None, skip: Iterable[str]) -> Scope:
        skip = [s.strip() for s in skip if s.strip()]
        wanted = [c.strip() for c in only.split(",") if c.strip()] if only else list(CAPABILITIES)
        unknown = sorted(set(wanted + skip) - set(CAPABILITIES))
        if unknown:
            raise ValueError(f"unknown capability {', '.join(unknown)}; known: {', '.join(CAPABILITIES)}")
        choice = []
        if only:
            choice.append(f"--capabilities {','.join(wanted)}")
        choice += [f"--skip-capability {s}" for s in skip]
        return cls(tuple(c for c in CAPABILITIES if c in wanted and c not in skip), " ".join(choice) or None)

    def __contains__(self, capability: object) -> bool:
        return capability in self.capabilities
