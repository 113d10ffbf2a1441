"""The app factory: `create_app(graphs, settings)` assembles one mock from its parts.

Routes come from the routers in `api/` (plain lists), errors from `api/errors.py`, and the middleware is, from
the outside in: the admin guard (api/admin_guard.py), CORS, the body limit, the request journal (unless `settings.admin` is off),
auth (auth.py, when `settings.auth` is set), and the controls (HTTP faults and the deviations that change every JSON answer, one layer).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from .api import admin, assistants, protocol, runs, runs_bulk, state, system, thread_stream, threads
from .api.admin_guard import AdminGuard
from .api.body_limit import BodyLimit
from .api.errors import HANDLERS
from .api.middleware import CORS, CORS_OPTIONS, ControlsMiddleware
from .api.routing import IndexedRouter
from .auth import AuthMiddleware
from .journal import JournalMiddleware
from .protocol.hub import ProtocolHub
from .scenarios import LoadedGraph
from .services import Services
from .settings import Settings


def contract_routes() -> list[BaseRoute]:
    """Every route of the LangGraph Server contract the mock serves."""
    return [*system.routes, *assistants.routes, *threads.routes, *state.routes, *runs.routes, *runs_bulk.routes, *thread_stream.routes, *protocol.routes]


def create_app(graphs: Sequence[LoadedGraph], settings: Settings | None = None) -> Starlette:
    """A mock serving `graphs` (an empty store; one checkpointer for all threads), configured by `settings`."""
    settings = settings or Settings()
    svc = Services.build(graphs, settings)
    hub = ProtocolHub(svc.store, settings.stream_backlog, svc.controls.deviations)  # thread streams (protocol v2), fed by every run
    svc.scheduler.observers.append(hub.attach)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        sweeper = asyncio.create_task(svc.sweeper.run(settings.sweep_seconds), name="hitl-mock-ttl-sweeper")
        yield
        sweeper.cancel()
        await svc.scheduler.stop_all()
        await svc.scheduler.webhooks.close()

    middleware = [
        *([Middleware(AdminGuard, token=settings.admin_token)] if settings.admin else []),
        Middleware(CORS, allow_origins=list(settings.cors_origins), **CORS_OPTIONS),
        Middleware(BodyLimit, limit=settings.max_body),
        *([Middleware(JournalMiddleware, journal=svc.journal)] if settings.admin else []),
        *([Middleware(AuthMiddleware, mode=settings.auth)] if settings.auth else []),
        Middleware(ControlsMiddleware, faults=svc.controls.faults, deviations=svc.controls.deviations),
    ]
    routes = [*contract_routes(), *protocol.websocket_routes, *(admin.routes if settings.admin else [])]
    app = Starlette(routes=routes, exception_handlers=HANDLERS, middleware=middleware, lifespan=lifespan)
    app.router = IndexedRouter(routes, lifespan=lifespan)  # the same routes, matched the same, found faster
    app.state.services = svc
    app.state.protocol = hub
    return app
