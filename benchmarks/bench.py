#!/usr/bin/env python3
"""Side-by-side benchmark: the mock and the official LangGraph server, same workload, one run.

    .venv/bin/python benchmarks/bench.py                 # both servers (the official one from .venv-reference)
    .venv/bin/python benchmarks/bench.py --no-official   # the mock only
    .venv/bin/python benchmarks/bench.py --quick         # small counts, to check the script itself

The workload is the seed HITL cycle on the `agent` graph: create a thread, `runs/wait` with input (stops at
the interrupt), `runs/wait` with `command.resume` (finishes). It prints:
- cycle latency p50/p95, cycles run one after another;
- cycles per second with 1 and with 10 cycles in flight;
- time from process start to the first 200 on /ok;
- the mock's resident memory after creating N interrupted threads (default 10,000).
Targets for the mock on these 2-core machines: p50 <= 5 ms, >= 300 cycles/s at concurrency 10,
start <= 1 s, <= 200 MB with 10,000 interrupted threads.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from mock_server.testing import free_port, wait_for_ok

ROOT = Path(__file__).resolve().parent.parent
OFFICIAL = ROOT / ".venv-reference" / "bin" / "langgraph"
console = Console()


@contextmanager
def server(kind: str) -> Iterator[tuple[str, float, int]]:
    """Start a server; yield (url, seconds from process start to the first 200 on /ok, pid); always stop it."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix=f"bench-{kind}-") as tmp:
        if kind == "mock":
            cmd = [sys.executable, "-m", "mock_server.cli", "serve", "--port", str(port)]
            cwd = ROOT
        else:
            cwd = Path(tmp) / "graphs"
            shutil.copytree(ROOT / "fixtures" / "graphs", cwd, ignore=shutil.ignore_patterns("__pycache__", ".langgraph_api"))
            cmd = [str(OFFICIAL), "dev", "--no-browser", "--no-reload", "--host", "127.0.0.1", "--port", str(port)]
        url = f"http://127.0.0.1:{port}"
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            try:
                wait_for_ok(url, proc, timeout=120)
            except RuntimeError as exc:
                raise SystemExit(f"{kind} server: {exc}") from None
            yield url, time.perf_counter() - started, proc.pid
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


async def cycle(client: httpx.AsyncClient) -> None:
    tid = (await client.post("/threads", json={})).json()["thread_id"]
    first = (await client.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "agent", "input": {"some_text": "t"}})).json()
    assert first["__interrupt__"][0]["value"] == {"text_to_revise": "t"}, first
    final = (await client.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "agent", "command": {"resume": "r"}})).json()
    assert final == {"some_text": "r"}, final


async def interrupted_thread(client: httpx.AsyncClient) -> None:
    tid = (await client.post("/threads", json={})).json()["thread_id"]
    await client.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "agent", "input": {"some_text": "t"}})


async def run_many(url: str, job, count: int, concurrency: int, progress: Progress, label: str) -> float:
    """Run `job` `count` times with `concurrency` in flight; return the elapsed seconds."""
    task = progress.add_task(label, total=count)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=600, limits=limits) as client:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(count):
            queue.put_nowait(i)

        async def worker() -> None:
            while not queue.empty():
                queue.get_nowait()
                await job(client)
                progress.advance(task)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started


async def latencies(url: str, count: int, progress: Progress, label: str) -> list[float]:
    task = progress.add_task(label, total=count)
    out = []
    async with httpx.AsyncClient(base_url=url, timeout=600) as client:
        await cycle(client)  # warm-up: connection, imports, first-run caches
        for _ in range(count):
            started = time.perf_counter()
            await cycle(client)
            out.append((time.perf_counter() - started) * 1000)
            progress.advance(task)
    return out


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1] if len(values) > 1 else values[0]


def measure(kind: str, cycles: int, throughput: int, threads: int, progress: Progress) -> dict[str, float | None]:
    with server(kind) as (url, start_s, _):
        lat = asyncio.run(latencies(url, cycles, progress, f"{kind}: sequential cycles"))
        c1 = throughput / asyncio.run(run_many(url, cycle, throughput, 1, progress, f"{kind}: concurrency 1"))
        c10 = throughput / asyncio.run(run_many(url, cycle, throughput, 10, progress, f"{kind}: concurrency 10"))
    rss = None
    if threads:  # on a fresh process, so the figure is for exactly `threads` interrupted threads
        with server(kind) as (url, _, pid):
            asyncio.run(run_many(url, interrupted_thread, threads, 10, progress, f"{kind}: {threads:,} interrupted threads"))
            rss = rss_mb(pid)
    return {"p50": percentile(lat, 50), "p95": percentile(lat, 95), "c1": c1, "c10": c10, "start": start_s, "rss": rss}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-official", action="store_true", help="measure the mock only")
    parser.add_argument("--quick", action="store_true", help="small counts (checks the script, not the figures)")
    parser.add_argument("--threads", type=int, default=None, help="interrupted threads for the memory figure (default 10,000)")
    args = parser.parse_args()
    mock_cycles, mock_tp, official_cycles, official_tp = (200, 300, 10, 10) if not args.quick else (5, 10, 2, 2)
    threads = args.threads if args.threads is not None else (10_000 if not args.quick else 50)
    if not args.no_official and not OFFICIAL.exists():
        console.print(f"[red]{OFFICIAL.relative_to(ROOT)} is missing[/]: run `python3 dev.py test` once (it installs the official server) or pass --no-official")
        return 2
    results: dict[str, dict[str, float | None]] = {}
    with Progress(console=console, transient=True) as progress:
        results["mock"] = measure("mock", mock_cycles, mock_tp, threads, progress)
        if not args.no_official:
            # The official server takes about 1 s per run (queue polling): fewer cycles, and no 10,000 threads
            # (that would be hours).
            results["official"] = measure("official", official_cycles, official_tp, 0, progress)

    def fmt(key: str, value: float | None) -> str:
        if value is None:
            return "not measured"
        if key in ("c1", "c10"):
            return f"{value:.0f} /s" if value >= 10 else f"{value:.2f} /s"
        return {"p50": "{:.1f} ms", "p95": "{:.1f} ms", "start": "{:.2f} s", "rss": "{:.0f} MB"}[key].format(value)

    rows = [
        ("cycle latency p50 (sequential)", "p50", "<= 5 ms", lambda v: v <= 5),
        ("cycle latency p95 (sequential)", "p95", "", None),
        ("cycles/s, concurrency 1", "c1", "", None),
        ("cycles/s, concurrency 10", "c10", ">= 300 /s", lambda v: v >= 300),
        ("start to first /ok", "start", "<= 1 s", lambda v: v <= 1),
        (f"RSS after {threads:,} interrupted threads", "rss", "<= 200 MB", lambda v: v <= 200),
    ]
    table = Table(title="hitl-mock vs the official LangGraph server (langgraph dev) — one cycle = create thread, wait -> interrupt, wait(resume) -> final")
    table.add_column("metric")
    table.add_column("mock", justify="right")
    if "official" in results:
        table.add_column("official", justify="right")
    table.add_column("mock target")
    for label, key, target, ok in rows:
        value = results["mock"][key]
        mark = "" if ok is None or value is None else (" ✓" if ok(value) else " ✗")
        cells = [label, fmt(key, value)]
        if "official" in results:
            cells.append(fmt(key, results["official"][key]))
        table.add_row(*cells, target + mark)
    console.print(table)
    counts = f"mock: {mock_cycles} sequential cycles, {mock_tp} per concurrency level"
    if "official" in results:
        counts += f"; official: {official_cycles} sequential cycles, {official_tp} per concurrency level"
    console.print(f"[dim]{counts}; {os.cpu_count()} cores[/]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
