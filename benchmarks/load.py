#!/usr/bin/env python3
"""The mock under load, from several client processes: throughput at each level of cycles in flight, a soak,
and a check that streams dropped mid-way leave nothing behind.

    .venv/bin/python benchmarks/load.py levels               # 10, 100 and 500 cycles in flight, from 10 processes
    .venv/bin/python benchmarks/load.py levels --quick       # small, to check the script (CI)
    .venv/bin/python benchmarks/load.py disconnect           # 1,000 streaming runs dropped mid-stream
    .venv/bin/python benchmarks/load.py soak --cycles 100000 --max-threads 1000   # RSS over 100,000 cycles

`levels` runs the seed HITL cycle (create a thread, `runs/wait` -> interrupt, `runs/wait` with `command.resume`
-> final values) continuously at each level, spread over `--procs` client processes, each an asyncio loop with
one lean keep-alive connection per cycle in flight (benchmarks/lean.py: a few microseconds per request, so the
clients do not take the CPU the server needs). Every cycle is checked (its own interrupt, then its own final
values). Throughput is the cycles that finished inside a measurement window (after a warm-up), divided by the
window; each level is reported as a ratio to the concurrency-10 figure of the same run, and that one as a ratio
to the in-process floor's cycles/s with 10 in flight: the same cycle on LangGraph alone, 10 at a time with
`asyncio.gather` in one process, no HTTP (bench.py `floor`). Dropped connections (the server ending one
before its answer was whole) and wrong answers are counted; either makes the exit status 1. The store is reset
(`POST /__mock__/reset`) before each level, so every level starts from an empty mock.

`soak` runs `--cycles` cycles back to back (default 10 in flight) on a mock started with `--max-threads`, and
samples the server's RSS as it goes: after the warm-up (the first 10% of cycles) it must stay within 10%.
`disconnect` opens `--times` streams (`POST /threads/{id}/runs/stream`, the `chat` graph, which streams tokens
for about 0.3 s), reads the first event and drops the connection (half of them closed, half reset; half of the
runs with `on_disconnect: cancel`), then reads `GET /__mock__/stats`: no active run, subscriber queue, buffered
event or extra task may be left.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from lean import AsyncClient, BadAnswer, Client, Dropped, acycle

ROOT = Path(__file__).resolve().parent.parent


# -- one client process ----------------------------------------------------------------------------------------


async def client_process(spec: dict[str, Any]) -> dict[str, Any]:
    """Run `workers` cycles in flight between the start and stop times the parent sends (or until `cycles` are
    done); report the checked cycles, the latencies of those that ended inside the window, and every failure."""
    clients = [AsyncClient(spec["url"]) for _ in range(spec["workers"])]
    for client in clients:
        await client.connect()
    print(json.dumps({"ready": True}), flush=True)
    times = json.loads(await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline))
    begin, end = times["window"]
    budget = spec.get("cycles") or float("inf")
    out: dict[str, Any] = {"checked": 0, "window": [], "wrong": 0, "dropped": 0, "errors": [], "hung": 0}
    await asyncio.sleep(max(0.0, times["start"] - time.monotonic()))
    cpu = time.process_time()

    async def worker(i: int, client: AsyncClient) -> None:
        nonlocal budget
        n = 0
        while (times["stop"] is None or time.monotonic() < times["stop"]) and budget > 0:
            budget -= 1
            n += 1
            started = time.monotonic()
            try:
                await acycle(client, f"{spec['tag']}-{i}-{n}")
            except (Dropped, BadAnswer) as exc:
                out["dropped" if isinstance(exc, Dropped) else "wrong"] += 1
                if len(out["errors"]) < 5:
                    out["errors"].append(f"{type(exc).__name__}: {exc}")
                continue
            ended = time.monotonic()
            out["checked"] += 1
            if begin <= ended <= end:
                out["window"].append(ended - started)
            if spec.get("progress") and out["checked"] % spec["progress"] == 0:
                print(json.dumps({"progress": out["checked"]}), flush=True)

    tasks = [asyncio.ensure_future(worker(i, c)) for i, c in enumerate(clients)]
    left = None if times["stop"] is None else max(0.0, times["stop"] - time.monotonic()) + 120
    _, pending = await asyncio.wait(tasks, timeout=left)
    out["hung"] = len(pending)  # cycles still unanswered long after the stop: counted, then abandoned
    for task in pending:
        task.cancel()
    out["cpu"] = (time.process_time() - cpu) / max(1e-9, time.monotonic() - times["start"])
    for client in clients:
        client.close()
    return out


# -- the parent ------------------------------------------------------------------------------------------------


def split(total: int, parts: int) -> list[int]:
    parts = max(1, min(parts, total))
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def cpu_seconds(pid: int | None) -> float | None:
    if pid is None:
        return None
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def drive(url: str, in_flight: int, procs: int, *, warmup: float, window: float, cycles: int | None = None, pid: int | None = None, progress: Any = None) -> dict[str, Any]:
    """`in_flight` cycles at a time from `procs` client processes; the merged reports, the throughput in the
    window, and the server's CPU use over it."""
    shares = split(in_flight, procs)
    per_cycles = split(cycles, len(shares)) if cycles else [0] * len(shares)
    children = []
    for k, (workers, budget) in enumerate(zip(shares, per_cycles, strict=True)):
        spec = {"url": url, "workers": workers, "tag": f"p{k}", "cycles": budget, "progress": 100 if progress else 0}
        children.append(await asyncio.create_subprocess_exec(sys.executable, __file__, "_client", json.dumps(spec), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=ROOT))
    for child in children:
        assert child.stdout is not None
        line = await child.stdout.readline()
        if b"ready" not in line:
            raise SystemExit(f"a client process did not start: {line!r}")
    start = time.monotonic() + 0.2
    begin, end = start + warmup, start + warmup + window
    for child in children:
        assert child.stdin is not None
        child.stdin.write(json.dumps({"start": start, "stop": None if cycles else end, "window": [begin, end]}).encode() + b"\n")
        await child.stdin.drain()
    cpu = asyncio.ensure_future(_server_cpu(pid, begin, end))
    reports = await asyncio.gather(*(_report(child, k, progress) for k, child in enumerate(children)))
    merged: dict[str, Any] = {"checked": 0, "window": [], "wrong": 0, "dropped": 0, "errors": [], "hung": 0}
    for report in reports:
        for key in ("checked", "wrong", "dropped", "hung"):
            merged[key] += report[key]
        merged["window"] += report["window"]
        merged["errors"] += report["errors"]
    merged["rate"] = len(merged["window"]) / window if window else 0.0
    merged["client_cpu"] = max(r["cpu"] for r in reports)
    merged["server_cpu"] = await cpu
    return merged


async def _server_cpu(pid: int | None, begin: float, end: float) -> float | None:
    await asyncio.sleep(max(0.0, begin - time.monotonic()))
    first = cpu_seconds(pid)
    await asyncio.sleep(max(0.0, end - time.monotonic()))
    last = cpu_seconds(pid)
    return None if first is None or last is None else (last - first) / (end - begin)


async def _report(child: asyncio.subprocess.Process, k: int, progress: Any) -> dict[str, Any]:
    assert child.stdout is not None
    result: dict[str, Any] | None = None
    async for line in child.stdout:
        message = json.loads(line)
        if "progress" in message and progress:
            progress(k, message["progress"])
        elif "checked" in message:
            result = message
    await child.wait()
    if result is None:
        raise SystemExit(f"client process {k} died (exit {child.returncode})")
    return result


def percentile(values: list[float], p: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def reset(url: str) -> None:
    client = Client(url)
    client.request("POST", "/__mock__/reset", None)
    client.close()


def stats(url: str) -> dict[str, Any]:
    client = Client(url)
    try:
        found: dict[str, Any] = client.request("GET", "/__mock__/stats")
        return found
    finally:
        client.close()


# -- levels ---------------------------------------------------------------------------------------------------


def levels(args: argparse.Namespace) -> int:
    import floor
    from bench import console, server
    from rich.table import Table

    base = floor.cycles(args.floor_cycles, args.floor_cycles * 10)  # before the server starts, on a quiet machine
    rows: list[tuple[int, dict[str, Any]]] = []
    with server("mock") as (url, _, pid):
        for level in args.levels:
            reset(url)
            rows.append((level, asyncio.run(drive(url, level, args.procs, warmup=args.warmup, window=args.window, pid=pid))))
    c10 = next((r["rate"] for level, r in rows if level == 10), rows[0][1]["rate"])
    table = Table(title="hitl-mock under load — one cycle = create thread, wait -> interrupt, wait(resume) -> final")
    columns = ("in flight", "client procs", "cycles/s", "x c10", "x floor c10", "p50", "p95", "checked", "wrong", "dropped", "server CPU", "CPU/cycle", "busiest client", "target")
    for column in columns:
        table.add_column(column, justify="left" if column == "target" else "right")
    failed = False
    for level, r in rows:
        bad = r["wrong"] + r["dropped"] + r["hung"]
        failed = failed or bool(bad)
        ratio, to_floor = r["rate"] / c10, r["rate"] / base["c10"]
        target = ("x floor >= 0.7 " + ("✓" if to_floor >= 0.7 else "✗")) if level == 10 else ("x c10 >= 0.9 " + ("✓" if ratio >= 0.9 else "✗"))
        cpu = r["server_cpu"]
        table.add_row(
            str(level), str(len(split(level, args.procs))), f"{r['rate']:.0f} /s", f"{ratio:.2f}", f"{to_floor:.2f}",
            f"{percentile(r['window'], 50) * 1000:.1f} ms", f"{percentile(r['window'], 95) * 1000:.1f} ms", str(r["checked"]), str(r["wrong"]),
            str(r["dropped"] + r["hung"]), "" if cpu is None else f"{cpu:.0%}", "" if not cpu or not r["rate"] else f"{cpu / r['rate'] * 1000:.2f} ms",
            f"{r['client_cpu']:.0%}", target + ("" if not bad else " ✗ errors"),
        )
    console.print(table)
    console.print(
        f"[dim]floor (LangGraph alone, in process, no HTTP, {floor.loop_name()}): {base['c10']:.0f} cycles/s with 10 in flight, {base['c1']:.0f} /s one at a time, "
        f"p50 {base['p50']:.2f} ms; window {args.window:g} s after {args.warmup:g} s of warm-up per level; {os.cpu_count()} cores. "
        "CPU/cycle: the server's CPU time per cycle in the window (steadier than cycles/s when other processes share the machine)[/]"
    )
    for _, r in rows:
        for error in r["errors"][:3]:
            console.print(f"[red]{error}[/]")
    return 1 if failed else 0


# -- soak -----------------------------------------------------------------------------------------------------


def soak(args: argparse.Namespace) -> int:
    from bench import console, server

    extra = ["--max-threads", str(args.max_threads)] if args.max_threads else []
    with server("mock", args=extra) as (url, _, pid):
        counts: dict[int, int] = {}
        samples: list[tuple[float, int, float]] = []

        async def run() -> dict[str, Any]:
            started = time.monotonic()
            job = asyncio.ensure_future(drive(url, args.in_flight, args.procs, warmup=0, window=0, cycles=args.cycles, progress=counts.__setitem__))
            while not job.done():
                samples.append((time.monotonic() - started, sum(counts.values()), rss_mb(pid)))
                await asyncio.wait([job], timeout=args.sample)
            result = job.result()
            result["elapsed"] = time.monotonic() - started
            samples.append((result["elapsed"], result["checked"], rss_mb(pid)))
            return result

        result = asyncio.run(run())
        threads = stats(url)["threads"]
    after = [rss for _, done, rss in samples if done >= args.cycles * 0.1]
    spread = max(after) / min(after) - 1 if after else float("nan")
    for elapsed, done, rss in [*samples[:-1:max(1, len(samples) // 20)], samples[-1]]:
        console.print(f"{elapsed:7.1f} s  {done:>8,} cycles  RSS {rss:6.1f} MB")
    bad = result["wrong"] + result["dropped"] + result["hung"]
    flat = spread <= 0.10
    console.print(
        f"{result['checked']:,} cycles checked in {result['elapsed']:.0f} s ({result['checked'] / result['elapsed']:.0f} /s), {bad} failed; "
        f"threads kept at the end: {threads:,}; RSS after warm-up {min(after):.1f} to {max(after):.1f} MB "
        f"({spread:+.1%} spread; flat within 10%: {'✓' if flat else '✗'})"
    )
    for error in result["errors"][:3]:
        console.print(f"[red]{error}[/]")
    return 0 if flat and not bad else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    lv = sub.add_parser("levels", help="throughput at 10, 100 and 500 cycles in flight")
    lv.add_argument("--levels", type=lambda t: [int(x) for x in t.split(",")], default=None, help="cycles in flight, comma-separated (default 10,100,500)")
    lv.add_argument("--procs", type=int, default=None, help="client processes (default 10)")
    lv.add_argument("--warmup", type=float, default=None, help="seconds before the window, per level (default 3)")
    lv.add_argument("--window", type=float, default=None, help="seconds measured, per level (default 15)")
    so = sub.add_parser("soak", help="cycles back to back; RSS over time")
    so.add_argument("--cycles", type=int, default=None, help="default 100,000")
    so.add_argument("--max-threads", type=int, default=1000, help="passed to hitl-mock serve (0: not passed)")
    so.add_argument("--in-flight", type=int, default=10)
    so.add_argument("--procs", type=int, default=2)
    so.add_argument("--sample", type=float, default=2.0, help="seconds between RSS samples")
    dc = sub.add_parser("disconnect", help="streams dropped mid-way; nothing may be left")
    dc.add_argument("--times", type=int, default=None, help="default 1,000")
    dc.add_argument("--in-flight", type=int, default=20)
    for p in (lv, so, dc):
        p.add_argument("--quick", action="store_true", help="small counts (checks the script, not the figures)")
    args = parser.parse_args()
    q = args.quick
    if args.mode == "levels":
        args.levels = args.levels or ([10, 40] if q else [10, 100, 500])
        args.procs, args.warmup, args.window = args.procs or (2 if q else 10), args.warmup or (0.5 if q else 3), args.window or (1.5 if q else 15)
        args.floor_cycles = 20 if q else 200
        return levels(args)
    if args.mode == "soak":
        args.cycles = args.cycles or (300 if q else 100_000)
        return soak(args)
    args.times = args.times or (40 if q else 1000)
    from disconnect import check

    return check(args)


if __name__ == "__main__" and sys.argv[1:2] == ["_client"]:
    print(json.dumps(asyncio.run(client_process(json.loads(sys.argv[2])))), flush=True)
    sys.exit(0)


if __name__ == "__main__":
    sys.exit(main())
