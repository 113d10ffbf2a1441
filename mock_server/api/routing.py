"""`IndexedRouter`: Starlette's router, trying first only the routes that could match a request.

Starlette tries every route in order until one matches: a regular expression per route, about 15 of them before
`POST /threads/{thread_id}/runs/wait`, which was 3% of the mock's CPU per HITL cycle (py-spy). This router
indexes the routes by method, first path segment and number of segments, and tries, in their order, only those
that can match the request fully. When none does, Starlette's own scan runs, and answers as it would (405 for a
path served with another method, the trailing-slash redirect, 404), so what matches is exactly what Starlette
would match: the first route in order that matches fully."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, Route, Router
from starlette.types import Lifespan, Receive, Scope, Send

Key = tuple[str, str | None, int]


def _shape(path: str) -> tuple[str | None, int] | None:
    """(first segment if it is literal, number of segments) of a route path; None if a segment can span several."""
    if ":path}" in path:
        return None
    segments = path.strip("/").split("/")
    return (None if "{" in segments[0] else segments[0]), len(segments)


def _could_match(route: Route, shape: tuple[str | None, int] | None, method: str, first: str | None, count: int) -> bool:
    """Whether `route` (of that shape) can match a request of this method, first segment and segment count."""
    if route.methods is not None and method not in route.methods:
        return False
    if shape is None:
        return True
    literal, segments = shape
    return segments == count and (literal is None or literal == first)


class IndexedRouter(Router):
    def __init__(self, routes: Sequence[BaseRoute], lifespan: Lifespan[Any] | None = None) -> None:
        super().__init__(routes, lifespan=lifespan)
        self._routes = [(r, _shape(r.path)) for r in self.routes if isinstance(r, Route)]
        shapes = [shape for _, shape in self._routes]
        self._literals = frozenset(s[0] for s in shapes if s is not None and s[0] is not None)
        self._methods = frozenset(m for r, _ in self._routes for m in (r.methods or ()))
        self._longest = max((s[1] for s in shapes if s is not None), default=0)
        self._index: dict[Key, tuple[Route, ...]] = {}

    def _candidates(self, method: str, path: str) -> tuple[Route, ...] | None:
        """The routes that could match `method path` fully, in order; None when the index cannot tell."""
        if method not in self._methods:
            return None
        segments = path.strip("/").split("/")
        first = segments[0] if segments[0] in self._literals else None
        count = len(segments) if len(segments) <= self._longest else 0
        key = (method, first, count)
        found = self._index.get(key)
        if found is None:  # at most one entry per method, known first segment and length: the index stays small
            found = self._index[key] = tuple(r for r, shape in self._routes if _could_match(r, shape, method, first, count))
        return found

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route in self._candidates(scope["method"], get_route_path(scope)) or ():
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.setdefault("router", self)
                    scope["route"] = route
                    scope.update(child_scope)
                    await route.handle(scope, receive, send)
                    return
        await super().app(scope, receive, send)
