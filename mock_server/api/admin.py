"""`/__mock__/`: the mock's own controls, under the reserved prefix `/__mock__/` (documented in the spec, tag `admin`):
the request journal, scenarios loaded and removed at run time, a full reset, deviation profiles, and live counts
(`stats`). `hitl-mock serve --no-admin` turns them off."""

from __future__ import annotations

import asyncio
from typing import Any

import yaml
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..deviations import DEVIATIONS
from ..engine import Assistant
from ..faults import parse_faults
from ..scenarios import ScenarioError, compile_scenario
from ..types import InterruptFormat
from ..wire import loads
from .common import error_response as _detail
from .common import json_response as _json
from .common import services

# -- deviations -----------------------------------------------------------------------------------------------


def _deviations(request: Request) -> Response:
    return _json({"active": sorted(services(request).controls.deviations.active), "available": DEVIATIONS})


async def get_deviations(request: Request) -> Response:
    return _deviations(request)


async def set_deviations(request: Request) -> Response:
    """Replace the active deviation profiles: `{"active": ["plain-text-404", ...]}` (`[]` switches all off)."""
    try:
        names = loads(await request.body())["active"]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise TypeError
        services(request).controls.deviations.set(names)
    except ValueError as exc:
        return _detail(422, str(exc) if "deviation" in str(exc) else 'expected {"active": [<profile name>, ...]}')
    except (KeyError, TypeError):
        return _detail(422, 'expected {"active": [<profile name>, ...]}')
    return _deviations(request)


# -- interrupt format -------------------------------------------------------------------------------------------


async def get_interrupt_format(request: Request) -> Response:
    return _json({"format": services(request).controls.interrupt_format})


async def set_interrupt_format(request: Request) -> Response:
    """`{"format": "legacy"}`: interrupts as older servers sent them (value, resumable, ns, when); `current` is the default."""
    try:
        wanted = loads(await request.body())["format"]
    except (ValueError, KeyError, TypeError):
        wanted = None
    if wanted not in tuple(InterruptFormat):
        return _detail(422, 'expected {"format": "current" | "legacy"}')
    services(request).controls.interrupt_format = InterruptFormat(wanted)
    return await get_interrupt_format(request)


# -- faults ---------------------------------------------------------------------------------------------------


async def get_faults(request: Request) -> Response:
    return _json({"faults": services(request).controls.faults.to_wire()})


async def set_faults(request: Request) -> Response:
    """Replace the faults in force: `{"faults": [{"status": 503, "route": "POST /threads", "on_call": 2}, ...]}`."""
    try:
        body = loads(await request.body())
        faults = parse_faults(body.get("faults") if isinstance(body, dict) else None)
    except ValueError as exc:
        return _detail(422, str(exc))
    services(request).controls.faults.set(faults)
    return await get_faults(request)


# -- journal --------------------------------------------------------------------------------------------------


async def list_requests(request: Request) -> Response:
    q = request.query_params
    try:
        since = int(q["since"]) if "since" in q else None
        entries = services(request).journal.find(q.get("method"), q.get("path"), since)
    except ValueError as exc:
        return _detail(422, f"bad filter: {exc}")
    return _json([e.to_wire() for e in entries])


async def clear_requests(request: Request) -> Response:
    services(request).journal.clear()
    return Response(status_code=204)


# -- scenarios ------------------------------------------------------------------------------------------------


def _graph(a: Assistant) -> dict[str, Any]:
    return {"graph_id": a.graph_id, "assistant_id": a.assistant_id, "source": a.source, "description": a.description}


async def list_scenarios(request: Request) -> Response:
    return _json([_graph(a) for a in services(request).engine.assistants.values()])


async def load_scenario(request: Request) -> Response:
    """Add (or replace) a scenario from its YAML or JSON text; it is served at once under its graph_id."""
    raw = await request.body()
    try:
        doc = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError as exc:
        return _detail(422, f"not valid YAML or JSON: {' '.join(str(exc).split())}")
    try:
        loaded = compile_scenario(doc, "<loaded at run time>")
    except ScenarioError as exc:
        return _detail(422, str(exc))
    engine = services(request).engine
    replaced = loaded.graph_id in engine.assistants
    assistant = engine.register(loaded.graph_id, loaded.graph, loaded.source, loaded.description, loaded.faults)
    return _json(_graph(assistant), 200 if replaced else 201)


async def remove_scenario(request: Request) -> Response:
    graph_id = request.path_params["graph_id"]
    engine = services(request).engine
    if graph_id not in engine.assistants:
        return _detail(404, f"no graph {graph_id!r}")
    engine.unregister(graph_id)
    return Response(status_code=204)


# -- stats ----------------------------------------------------------------------------------------------------


async def stats(request: Request) -> Response:
    """Live counts, read only: what the mock holds right now, so a load test can check that nothing outlives its
    request (a dropped stream leaves no task, subscriber queue or buffered event behind)."""
    svc = services(request)
    runs = list(svc.store.runs.values())
    brokers = [run.events for run in runs]
    return _json(
        {
            "threads": len(svc.store.threads),
            "runs": len(runs),
            "active_runs": sum(run.active for run in runs),
            "run_tasks": sum(run.running for run in runs),
            "tasks": len(asyncio.all_tasks()),  # every live asyncio task, this request's own included
            # The broker keeps these private; counted here rather than given a public API for one read-only view.
            "subscribers": sum(len(b._subscribers or ()) for b in brokers),
            "buffered_events": sum(len(b._buffer or ()) for b in brokers),
            "checkpointed_threads": len(svc.engine.checkpointer.storage),
            "journal_entries": len(svc.journal.entries),
        }
    )


# -- reset ----------------------------------------------------------------------------------------------------


async def reset(request: Request) -> Response:
    """Forget every thread, run, checkpoint and journal entry; deviations, faults and loaded scenarios stay."""
    await services(request).reset()
    return Response(status_code=204)


routes = [
    Route("/__mock__/deviations", get_deviations, methods=["GET"]),
    Route("/__mock__/deviations", set_deviations, methods=["PUT"]),
    Route("/__mock__/interrupt-format", get_interrupt_format, methods=["GET"]),
    Route("/__mock__/interrupt-format", set_interrupt_format, methods=["PUT"]),
    Route("/__mock__/faults", get_faults, methods=["GET"]),
    Route("/__mock__/faults", set_faults, methods=["PUT"]),
    Route("/__mock__/requests", list_requests, methods=["GET"]),
    Route("/__mock__/requests", clear_requests, methods=["DELETE"]),
    Route("/__mock__/scenarios", list_scenarios, methods=["GET"]),
    Route("/__mock__/scenarios", load_scenario, methods=["POST"]),
    Route("/__mock__/scenarios/{graph_id}", remove_scenario, methods=["DELETE"]),
    Route("/__mock__/reset", reset, methods=["POST"]),
    Route("/__mock__/stats", stats, methods=["GET"]),
]
