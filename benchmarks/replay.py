#!/usr/bin/env python3
"""Record once, replay fast: the parity conversations of every fixture, recorded from the official server through
`hitl-mock record`, then replayed by the mock, timed side by side in one run.

    .venv/bin/python benchmarks/replay.py            # every fixture conversation
    .venv/bin/python benchmarks/replay.py --quick    # two conversations, to check the script

For each conversation it prints the seconds it took on the official server through the recording proxy (the
source, as a test suite would otherwise run it), then on the replay with `--replay-speed 1` (the recorded token
pacing) and `--replay-speed 0` (instant), and whether the replay differed from the source under the parity
normaliser (it must not).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from bench import server
from rich.console import Console
from rich.table import Table

from contract_tests.conversations import FLOWS, record
from contract_tests.diff import compare_logs
from mock_server.record import Recorder, create_proxy
from mock_server.scenarios.replay import set_speed
from mock_server.testing import MockServer, ServerThread

console = Console(width=None if sys.stdout.isatty() else 130)
CONVERSATIONS = ["agent", "approve", "approve_edit", "approve_reject", "chat_approve", "chat_reject", "multi", "multi_map", "validate", "nointerrupt", "stream_modes"]


def timed(url: str, name: str) -> tuple[list, float]:
    started = time.perf_counter()
    log = record(url, FLOWS[name], keep_going=True)
    return log, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    names = CONVERSATIONS[:2] if args.quick else CONVERSATIONS
    rows: list[tuple[str, float, float, float, int]] = []
    with tempfile.TemporaryDirectory(prefix="replay-") as tmp:
        out = Path(tmp) / "recorded.yaml"
        sources: dict[str, tuple[list, float]] = {}
        with server("official") as (url, _, _), console.status("recording from the official server"):
            recorder = Recorder(url, out)
            with ServerThread(create_proxy(url, recorder)) as proxy:
                sources = {name: timed(proxy.url, name) for name in names}
        with MockServer(scenarios=[Path(tmp)]) as mock, console.status("replaying"):
            for name in names:
                paced = timed(mock.url, name)
                set_speed(0)
                try:
                    instant = timed(mock.url, name)
                finally:
                    set_speed(1)
                differences = len(compare_logs(name, sources[name][0], instant[0]).differences) + len(compare_logs(name, sources[name][0], paced[0]).differences)
                rows.append((name, sources[name][1], paced[1], instant[1], differences))
    table = Table("conversation", "official via the proxy s", "replay s (speed 1)", "replay s (speed 0)", "differences", title="record once, replay fast")
    for name, source, paced_s, instant_s, differences in rows:
        table.add_row(name, f"{source:.2f}", f"{paced_s:.2f}", f"{instant_s:.2f}", str(differences))
    total = [sum(r[i] for r in rows) for i in (1, 2, 3)]
    table.add_row("all", f"{total[0]:.2f}", f"{total[1]:.2f}", f"{total[2]:.2f}", str(sum(r[4] for r in rows)))
    console.print(table)
    return 1 if any(r[4] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
