#!/usr/bin/env python3
"""How long `hitl-contract run` takes, against the mock and the official LangGraph server, in one run.

    .venv/bin/python benchmarks/suite_time.py                  # both servers, default profile, default workers
    .venv/bin/python benchmarks/suite_time.py --workers 0 2 8  # also with these worker counts
    .venv/bin/python benchmarks/suite_time.py --no-official    # the mock only
    .venv/bin/python benchmarks/suite_time.py --profile quick  # another profile

Each server is started fresh on the fixture graphs (the mock with its bundled scenarios, the official server on
`fixtures/graphs` from `.venv-reference`). The figure is the wall-clock time of the whole command, from start to
exit, as a CI step sees it: start-up, the probe behind `--workers auto`, every check, the thread clean-up and the
report. It also prints the verdict and the workers chosen. Targets (issue 9, default profile, default workers):
the mock <= 10 s, the official server <= 60 s. The official server is the reference: it is measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import OFFICIAL, ROOT, server

TARGETS = {("mock", "default"): 10.0, ("official", "default"): 60.0}
console = Console()


def time_suite(url: str, profile: str, workers: int | None) -> tuple[float, str, str]:
    """Run the suite once; (seconds, verdict line, workers used)."""
    cmd = [sys.executable, "-m", "contract_tests.cli", "run", url, "--profile", profile]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env={"COLUMNS": "400", "PATH": "/usr/bin:/bin"}, timeout=1800, check=False)
    took = time.perf_counter() - started
    lines = proc.stdout.splitlines()
    verdict = next((line for line in lines if line.startswith(("CERTIFIED", "NOT CERTIFIED"))), f"exit {proc.returncode}: {proc.stderr.strip()[-200:]}")
    chosen = next((m.group(1) for line in lines if (m := re.match(r"workers: (\d+)", line))), str(workers))
    summary = next((line for line in lines if re.match(r"\d+ passed, \d+ failed", line)), "")
    return took, f"{verdict.split(':')[0]} ({summary})" if summary else verdict, chosen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-official", action="store_true", help="measure against the mock only")
    parser.add_argument("--profile", default="default", help="the suite's profile (default: default)")
    parser.add_argument("--workers", type=int, nargs="*", default=[], help="worker counts to try besides the default (auto)")
    args = parser.parse_args()
    kinds = ["mock"] if args.no_official else ["mock", "official"]
    if "official" in kinds and not OFFICIAL.exists():
        console.print(f"[red]{OFFICIAL.relative_to(ROOT)} is missing[/]: run `python3 dev.py test` once (it installs it) or pass --no-official")
        return 2
    table = Table(title=f"hitl-contract run, profile {args.profile}, on {ROOT.name} ({os.cpu_count()} cores)")
    for column in ("server", "--workers", "workers used", "seconds", "target", "verdict"):
        table.add_column(column)
    for kind in kinds:
        with server(kind) as (url, _, _):
            for workers in [None, *args.workers]:
                console.print(f"{kind}: --workers {'auto' if workers is None else workers} …")
                took, verdict, chosen = time_suite(url, args.profile, workers)
                target = TARGETS.get((kind, args.profile)) if workers is None else None
                mark = "" if target is None else (f"<= {target:.0f} s " + ("✓" if took <= target else "✗"))
                table.add_row(kind, "auto" if workers is None else str(workers), chosen, f"{took:.1f}", mark, verdict)
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
