#!/usr/bin/env python3
"""Fuzz the mock with schemathesis, from two specs, and count what matters: server errors and error bodies that
are not JSON. Exit 1 if there is any.

    .venv/bin/python benchmarks/fuzz.py                     # 5,000 generated requests per spec
    .venv/bin/python benchmarks/fuzz.py --requests 300      # a smaller run (CI)

The specs:
- `openapi/openapi.yaml`, this project's contract (without the `admin` operations: a generated
  `PUT /__mock__/faults` would inject server errors on purpose);
- the official server's `/openapi.json`, saved from langgraph-api 0.16.7 in `tests/reference/`. The mock does
  not serve every route in it (crons, store, …); those must still answer JSON 404/405, never a 5xx.

For each spec, half the budget goes to generated valid and invalid requests on every operation, and half to
schemathesis's state machine. Following the spec's OpenAPI links, the state machine reaches real threads and
runs; the official spec has no links. The table shows, for each spec:
- how many requests were sent;
- how many answered 5xx, and how many error bodies (4xx/5xx) were not JSON;
- of the requests to served operations naming a thread (an id path parameter), how many named one that existed
  (no 404). The generated half points three requests in four at real threads and runs from a pool (`Pool`);
- how many requests went to operations of the official spec the mock does not serve (they must get JSON 404/405).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import FlakyStrategyDefinition, Unsatisfiable
from rich.console import Console
from rich.table import Table
from schemathesis import GenerationMode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import ROOT, server

from contract_tests.linked import drop_slow_fields, finite, linked_schema
from hitl_spec import load_spec

OFFICIAL_SPEC = ROOT / "tests" / "reference" / "official-openapi-langgraph-api-0.16.7.json"
console = Console()


class Pool:
    """Real threads, each with a run at an interrupt, that generated requests are pointed at: three requests in four
    get a real `thread_id` (and a `run_id` of that thread); the fourth keeps its generated ids, malformed or
    unknown. A thread a request deleted (or whose run it deleted) is replaced before it is used again."""

    def __init__(self, url: str, size: int = 16) -> None:
        self.http = httpx.Client(base_url=url, timeout=60)
        self.slots: list[tuple[str, str] | None] = [None] * size
        self.count = 0
        self.aimed: int | None = None  # the slot the request being sent was pointed at

    def _fill(self, slot: int) -> tuple[str, str]:
        thread_id = self.http.post("/threads", json={}).json()["thread_id"]
        run_id = self.http.post(f"/threads/{thread_id}/runs", json={"assistant_id": "agent", "input": {"some_text": "fuzz"}}).json()["run_id"]
        self.http.get(f"/threads/{thread_id}/runs/{run_id}/join")
        self.slots[slot] = (thread_id, run_id)
        return thread_id, run_id

    def aim(self, case: Any) -> None:
        self.count += 1
        self.aimed = None
        params = case.path_parameters
        if not params or "thread_id" not in params or self.count % 4 == 0:
            return
        self.aimed = self.count % len(self.slots)
        thread_id, run_id = self.slots[self.aimed] or self._fill(self.aimed)
        params["thread_id"] = thread_id
        if "run_id" in params:
            params["run_id"] = run_id

    def after(self, case: Any, status: int) -> None:
        if self.aimed is not None and case.method.upper() == "DELETE" and status < 300:
            self.slots[self.aimed] = None


class Tally:
    def __init__(self) -> None:
        self.requests = self.real_ids = self.with_ids = self.unserved = 0
        self.served = {(m.upper(), path) for path, ops in load_spec()["paths"].items() for m in ops}  # what the mock serves
        self.server_errors: list[str] = []
        self.non_json: list[str] = []
        self.slow: list[str] = []

    def record(self, case: Any, response: Any, took: float = 0.0) -> None:
        self.requests += 1
        if took > 2:
            self.slow.append(f"{took:.1f} s {case.operation.label}: {case.as_curl_command()[:300]}")
        label, status = case.operation.label, response.status_code
        content_type = (response.headers.get("content-type") or [""])[0]  # schemathesis keeps every header as a list
        if status >= 500:
            self.server_errors.append(f"{status} {label}: {case.as_curl_command()[:300]}")
        if status >= 400 and not str(content_type).startswith("application/json"):
            self.non_json.append(f"{status} {label} ({content_type or 'no content type'}): {response.text[:100]!r}")
        if (case.method.upper(), case.operation.path) not in self.served:
            self.unserved += 1  # an operation of the official spec the mock does not serve (yet): a JSON 404/405
        elif "{thread_id}" in case.operation.path:
            self.with_ids += 1
            self.real_ids += status != 404


def _specs(which: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    if which in ("ours", "both"):
        found["openapi/openapi.yaml"] = load_spec()
    if which in ("official", "both"):
        found[f"official /openapi.json ({OFFICIAL_SPEC.name})"] = json.loads(OFFICIAL_SPEC.read_text())
    return found


def _operations(schema: Any) -> list[Any]:
    return [r.ok() for r in schema.get_all_operations() if hasattr(r, "ok")]


def _timed_call(case: Any, url: str) -> tuple[Any, float]:
    drop_slow_fields(case)
    started = time.perf_counter()
    response = case.call(base_url=url, timeout=60)
    return response, time.perf_counter() - started


def fuzz_operations(schema: Any, url: str, budget: int, tally: Tally, pool: Pool | None = None) -> None:
    operations = _operations(schema)
    per = max(1, budget // (2 * len(operations)))
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(max_examples=per, deadline=None, database=None, suppress_health_check=list(HealthCheck), derandomize=True)
            @given(case=operation.as_strategy(generation_mode=mode))
            def send(case: Any) -> None:
                if pool is not None:
                    pool.aim(case)
                response, took = _timed_call(case, url)
                tally.record(case, response, took)
                if pool is not None:
                    pool.after(case, response.status_code)

            try:
                send()
            except Unsatisfiable:
                pass


def fuzz_links(spec: dict[str, Any], url: str, budget: int, tally: Tally, pool: Pool) -> None:
    """schemathesis's state machine, run until `budget` more requests were sent (runs use the `agent` graph)."""
    linked = linked_schema(spec, modes=(GenerationMode.POSITIVE, GenerationMode.NEGATIVE))
    start = tally.requests

    def call(self: Any, case: Any, **kwargs: Any) -> Any:
        response, took = _timed_call(case, url)
        tally.record(case, response, took)
        return response

    def validate_response(self: Any, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any) -> None:
        return None  # counted in `call`; a failure here would stop the machine

    try:
        machine = type("Fuzz", (linked.as_state_machine(),), {"call": call, "validate_response": validate_response})
    except Exception as exc:  # a spec with no links has no state machine
        console.print(f"  no state machine for this spec ({type(exc).__name__}); generated requests instead")
        fuzz_operations(linked, url, budget, tally, pool)
        return
    rounds = 0
    while tally.requests - start < budget and rounds < 1000:
        rounds += 1
        try:
            machine.run(settings=settings(max_examples=25, stateful_step_count=10, deadline=None, database=None, suppress_health_check=list(HealthCheck)))
        except FlakyStrategyDefinition:
            pass  # the server's state moved on between two tries of one sequence: start new sequences


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=5000, help="generated requests per spec (default 5,000)")
    parser.add_argument("--spec", choices=("ours", "official", "both"), default="both")
    args = parser.parse_args()
    table = Table(title=f"schemathesis against the mock, about {args.requests} requests per spec")
    for column in ("spec", "requests", "5xx", "non-JSON error bodies", "naming a real thread/run (of those naming one)", "to routes not served", "seconds"):
        table.add_column(column)
    problems: list[str] = []
    # The mock as `hitl-mock serve` runs it by default, on the bundled scenarios (the README's fuzz figures).
    with server("mock", graphs=False) as (url, _, _):
        for name, spec in _specs(args.spec).items():
            console.print(f"fuzzing with {name} …")
            tally, started = Tally(), time.perf_counter()
            pool = Pool(url)
            fuzz_operations(schemathesis.openapi.from_dict(finite(spec)).exclude(tag="admin"), url, args.requests // 2, tally, pool)
            fuzz_links(spec, url, args.requests - tally.requests, tally, pool)
            took = time.perf_counter() - started
            real = f"{tally.real_ids:,} of {tally.with_ids:,} ({tally.real_ids / max(1, tally.with_ids):.0%})"
            table.add_row(name, str(tally.requests), str(len(tally.server_errors)), str(len(tally.non_json)), real, f"{tally.unserved:,}", f"{took:.0f}")
            problems += [f"{name}: {p}" for p in tally.server_errors[:10] + tally.non_json[:10]]
            for slow in tally.slow[:5]:
                console.print(f"[yellow]slow:[/] {slow}")
    console.print(table)
    for problem in problems:
        console.print(f"[red]{problem}[/]")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
