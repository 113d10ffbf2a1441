#!/usr/bin/env python3
"""Side-by-side benchmark: the mock and the official LangGraph server, same workload, one run.

    .venv/bin/python benchmarks/bench.py                 # both servers (the official one from .venv-reference)
    .venv/bin/python benchmarks/bench.py --no-official   # the mock only
    .venv/bin/python benchmarks/bench.py --quick         # small counts, to check the script itself
    .venv/bin/python benchmarks/bench.py --no-official --baseline HEAD~3 --rounds 3
                                                         # the mock beside itself at a git ref (a no-slowdown check)

The workload is the seed HITL cycle on the `agent` graph of fixtures/graphs (served by all three: the mock with
`--graphs`, the official server, and the floor in process): create a thread, `runs/wait` with input (stops at
the interrupt), `runs/wait` with `command.resume` (finishes); every answer is checked. It prints:
- cycle latency p50/p95, cycles run one after another;
- cycles per second with 1 and with 10 cycles in flight (one client process);
- time from process start to the first 200 on /ok;
- the mock's resident memory after creating N interrupted threads (default 10,000);
- the in-process floor, measured in the same run (benchmarks/floor.py): the same cycle on LangGraph alone (the
  `agent` graph with an in-memory checkpointer, `ainvoke`, no HTTP, no server layer). Its cycles/s at
  concurrency 10 is 10 cycles in flight with `asyncio.gather` on one event loop, in one process; its start is a
  fresh process importing LangGraph and compiling the graph; its RSS is a fresh process holding N interrupted
  threads. Every figure of the mock is also given as a ratio to the floor's.
The client is lean (benchmarks/lean.py): raw HTTP/1.1 with keep-alive, a few microseconds per request, so the
figures measure the server rather than the client (httpx costs about half a millisecond per request, which on a
2-core machine is CPU the server does not get). Sequential cycles use its blocking form, the concurrency
levels its asyncio form with one connection per cycle in flight. For 100 and 500 in flight from several client
processes, see benchmarks/load.py.
With `--baseline REF`, the mock as it was at that git ref is measured too, in alternating rounds (`--rounds`),
and each figure is the median over the rounds, with the change against the baseline.
Targets for the mock on these 2-core machines: p50 <= 2.0x the floor's, cycles/s at concurrency 10 >= 0.7x the
floor's, start <= 1 s, <= 200 MB with 10,000 interrupted threads.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import floor
from lean import AsyncClient, Client, acycle, cycle
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from mock_server.testing import free_port, wait_for_ok

ROOT = Path(__file__).resolve().parent.parent
OFFICIAL = ROOT / ".venv-reference" / "bin" / "langgraph"
console = Console()


@contextmanager
def server(kind: str, source: Path = ROOT, args: Sequence[str] = (), *, graphs: bool = True) -> Iterator[tuple[str, float, int]]:
    """Start a server (`mock` from the code in `source`, with `hitl-mock serve` options `args`, or `official`); yield
    (url, seconds from process start to the first 200 on /ok, pid); always stop it."""
    port = free_port()
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix=f"bench-{kind}-") as tmp:
        if kind == "mock":
            # The graphs of fixtures/graphs, as the official server and the floor run them: one graph on all three
            # (`graphs=False`: the bundled scenarios, what `hitl-mock serve` serves by default).
            served = ["--graphs", str(source / "fixtures" / "graphs" / "langgraph.json")] if graphs else []
            cmd = [sys.executable, "-m", "mock_server.cli", "serve", "--port", str(port), *served, *args]
            cwd = source
            env["PYTHONPATH"] = str(source)  # ahead of the editable install, so `source` is what runs
        else:
            cwd = Path(tmp) / "graphs"
            shutil.copytree(ROOT / "fixtures" / "graphs", cwd, ignore=shutil.ignore_patterns("__pycache__", ".langgraph_api"))
            cmd = [str(OFFICIAL), "dev", "--no-browser", "--no-reload", "--host", "127.0.0.1", "--port", str(port)]
        url = f"http://127.0.0.1:{port}"
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
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


async def interrupted_thread(client: AsyncClient, tag: str) -> None:
    tid = (await client.request("POST", "/threads", {}))["thread_id"]
    await client.request("POST", f"/threads/{tid}/runs/wait", {"assistant_id": "agent", "input": {"some_text": tag}})


Job = Callable[[AsyncClient, str], Awaitable[None]]


async def run_many(url: str, job: Job, count: int, concurrency: int, progress: Progress, label: str) -> float:
    """Run `job` `count` times with `concurrency` in flight (a connection each); return the elapsed seconds."""
    task = progress.add_task(label, total=count)
    queue = iter(range(count))
    clients = [AsyncClient(url) for _ in range(concurrency)]
    for client in clients:
        await client.connect()

    async def worker(client: AsyncClient) -> None:
        for i in queue:
            await job(client, f"c{i}")
            progress.advance(task)

    started = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in clients))
    elapsed = time.perf_counter() - started
    for client in clients:
        client.close()
    return elapsed


def latencies(url: str, count: int, progress: Progress, label: str) -> list[float]:
    task = progress.add_task(label, total=count)
    out = []
    client = Client(url)
    cycle(client, "warm-up")  # connection, imports, first-run caches
    for i in range(count):
        started = time.perf_counter()
        cycle(client, f"s{i}")
        out.append((time.perf_counter() - started) * 1000)
        progress.advance(task)
    client.close()
    return out


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def median_of(rounds: list[dict[str, float | None]]) -> dict[str, float | None]:
    keys = rounds[0].keys()
    return {k: (statistics.median(v) if (v := [r[k] for r in rounds if r[k] is not None]) else None) for k in keys}


def measure(kind: str, cycles: int, throughput: int, threads: int, progress: Progress, source: Path = ROOT, label: str | None = None) -> dict[str, float | None]:
    label = label or kind
    with server(kind, source) as (url, start_s, _):
        lat = latencies(url, cycles, progress, f"{label}: sequential cycles")
        c1 = throughput / asyncio.run(run_many(url, acycle, throughput, 1, progress, f"{label}: concurrency 1"))
        c10 = throughput / asyncio.run(run_many(url, acycle, throughput, 10, progress, f"{label}: concurrency 10"))
    rss = None
    if threads:  # on a fresh process, so the figure is for exactly `threads` interrupted threads
        with server(kind, source) as (url, _, pid):
            asyncio.run(run_many(url, interrupted_thread, threads, 10, progress, f"{label}: {threads:,} interrupted threads"))
            rss = rss_mb(pid)
    return {"p50": floor.percentile(lat, 50), "p95": floor.percentile(lat, 95), "c1": c1, "c10": c10, "start": start_s, "rss": rss}


@contextmanager
def checkout(ref: str) -> Iterator[Path]:
    """The repository's tree at `ref`, in a temporary folder (`git archive`), removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="bench-baseline-") as tmp:
        archive = subprocess.run(["git", "archive", ref], cwd=ROOT, capture_output=True, check=False)
        if archive.returncode:
            raise SystemExit(f"--baseline {ref}: {archive.stderr.decode().strip()}")
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        yield Path(tmp)


def fmt(key: str, value: float | None) -> str:
    if value is None:
        return "not measured"
    if key in ("c1", "c10"):
        return f"{value:.0f} /s" if value >= 10 else f"{value:.2f} /s"
    return {"p50": "{:.2f} ms", "p95": "{:.2f} ms", "start": "{:.2f} s", "rss": "{:.0f} MB"}[key].format(value)


def change(new: float | None, old: float | None) -> str:
    return "" if new is None or old is None or not old else f"{(new - old) / old * 100:+.1f}%"


def ratio(value: float | None, base: float | None) -> str:
    return "" if value is None or not base else f"{value / base:.2f}x"


Check = Callable[[float, float | None], bool]
ROWS: list[tuple[str, str, str, Check | None]] = [
    ("cycle latency p50 (sequential)", "p50", "<= 2.0x the floor", lambda v, f: f is not None and v <= 2.0 * f),
    ("cycle latency p95 (sequential)", "p95", "", None),
    ("cycles/s, concurrency 1", "c1", "", None),
    ("cycles/s, concurrency 10", "c10", ">= 0.7x the floor", lambda v, f: f is not None and v >= 0.7 * f),
    ("start to first /ok", "start", "<= 1 s", lambda v, f: v <= 1),
    ("RSS after {threads:,} interrupted threads", "rss", "<= 200 MB", lambda v, f: v <= 200),
]


def print_table(results: dict[str, dict[str, float | None]], threads: int, baseline: str | None) -> None:
    table = Table(title="hitl-mock vs its references — one cycle = create thread, wait -> interrupt, wait(resume) -> final")
    columns = ["metric", "mock", "mock / floor"]
    if baseline:
        columns += [f"mock @ {baseline}", "change"]
    if "official" in results:
        columns += ["official", "official / floor"]
    columns += ["in-process floor", "mock target"]
    for column in columns:
        table.add_column(column, justify="left" if column in ("metric", "mock target") else "right")
    for label, key, target, ok in ROWS:
        value, floor_value = results["mock"][key], results["floor"][key]
        mark = "" if ok is None or value is None else (" ✓" if ok(value, floor_value) else " ✗")
        cells = [label.format(threads=threads), fmt(key, value), ratio(value, floor_value)]
        if baseline:
            cells += [fmt(key, results["baseline"][key]), change(value, results["baseline"][key])]
        if "official" in results:
            cells += [fmt(key, results["official"][key]), ratio(results["official"][key], floor_value)]
        cells += [fmt(key, floor_value), target + mark]
        table.add_row(*cells)
    console.print(table)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-official", action="store_true", help="measure the mock only")
    parser.add_argument("--quick", action="store_true", help="small counts (checks the script, not the figures)")
    parser.add_argument("--threads", type=int, default=None, help="interrupted threads for the memory figure (default 10,000)")
    parser.add_argument("--baseline", metavar="REF", default=None, help="also measure the mock at this git ref (e.g. HEAD~1)")
    parser.add_argument("--rounds", type=int, default=None, help="alternating rounds of mock and baseline (default 3 with --baseline, else 1)")
    args = parser.parse_args()
    # 2,000 cycles per concurrency level (about 6 s for the mock): with 300, one level lasted under a second and the
    # ratio to the floor moved by up to 0.05 between runs of the same code.
    mock_cycles, mock_tp, official_cycles, official_tp = (200, 2000, 10, 10) if not args.quick else (5, 10, 2, 2)
    threads = args.threads if args.threads is not None else (10_000 if not args.quick else 50)
    rounds = args.rounds or (3 if args.baseline else 1)
    if not args.no_official and not OFFICIAL.exists():
        console.print(f"[red]{OFFICIAL.relative_to(ROOT)} is missing[/]: run `python3 dev.py test` once (it installs it) or pass --no-official")
        return 2
    # The floor first, on a quiet machine: no server is running yet.
    results: dict[str, dict[str, float | None]] = {"floor": floor.measure(mock_cycles, mock_tp, threads)}
    with Progress(console=console, transient=True) as progress, (checkout(args.baseline) if args.baseline else contextlib.nullcontext(None)) as old:
        mine: list[dict[str, float | None]] = []
        theirs: list[dict[str, float | None]] = []
        for i in range(rounds):
            # Alternate which goes first: measured against itself, the second of a pair ran about 10% faster.
            pair = [(mine, ROOT, "mock"), *([(theirs, old, f"mock @ {args.baseline}")] if old is not None else [])]
            for into, source, name in pair if i % 2 == 0 else pair[::-1]:
                into.append(measure("mock", mock_cycles, mock_tp, threads, progress, source=source, label=f"{name}, round {i + 1}"))
        results["mock"] = median_of(mine)
        if theirs:
            results["baseline"] = median_of(theirs)
        if not args.no_official:
            # The official server takes about 1 s per run (queue polling): fewer cycles, and no 10,000 threads (hours).
            results["official"] = measure("official", official_cycles, official_tp, 0, progress)
    print_table(results, threads, args.baseline)
    counts = f"mock: {mock_cycles} sequential cycles, {mock_tp} per concurrency level, median of {rounds} round(s)"
    if "official" in results:
        counts += f"; official: {official_cycles} sequential cycles, {official_tp} per concurrency level"
    console.print(f"[dim]{counts}; in-process floor (LangGraph alone, no HTTP, {floor.loop_name()}; benchmarks/floor.py): the same counts; {os.cpu_count()} cores[/]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
