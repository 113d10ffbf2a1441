"""The Locust file of `hitl-contract load`: simulated reviewers on the fixture graphs, the load profiles, the live
progress line and the final report. Locust runs it (headless, web UI, master or worker); `hitl-contract load`
builds the command line (load_cli.py). Locust imports this file by its path, so its imports are absolute. Custom options start with `--hitl-`; Locust sends them from the master to
its workers. Request headers for the deployment come from the environment (`HITL_LOAD_HEADERS`, JSON), so that
credentials never appear in a process list.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import sys
import time
from typing import Any

import gevent
from locust import FastHttpUser, LoadTestShape, constant, events, task
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from contract_tests.load.checks import CHECK, JOURNEY, CorrectnessFailure
from contract_tests.load.graphs import JOURNEYS
from contract_tests.load.journeys import PROFILES, Calibration, Journey, Options
from contract_tests.load.report import summarise, write_report
from contract_tests.load.transport import HttpFailure, Transport

CALIBRATION = Calibration()  # shared by the reviewers of this process


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    group = parser.add_argument_group("hitl-contract load")
    group.add_argument("--hitl-graphs", default=",".join(JOURNEYS), help="the fixture graphs to run journeys on")
    group.add_argument("--hitl-assistants", default="{}", help="JSON {graph: assistant_id} (default: the graph id)")
    group.add_argument("--hitl-modes", default="wait,stream", help="how steps run: wait, stream or both")
    group.add_argument("--hitl-think", type=float, default=0.5, help="mean think time in seconds")
    group.add_argument("--hitl-reconnect", type=float, default=0.5, help="share of streams dropped and rejoined")
    group.add_argument("--hitl-profile", default="steady", choices=PROFILES, help="the load profile")
    group.add_argument("--hitl-duration", type=float, default=60.0, help="seconds of load")
    group.add_argument("--hitl-users", type=int, default=10, help="reviewers at the peak")
    group.add_argument("--hitl-spawn-rate", type=float, default=10.0, help="reviewers started or stopped per second")
    group.add_argument("--hitl-json", default="", help="write the report as JSON here")
    group.add_argument("--hitl-quiet", action="store_true", help="no live progress line")


class Reviewer(FastHttpUser):
    """A person reviewing: one journey after another, each on a new thread."""

    wait_time = constant(0)
    network_timeout = 120.0
    connection_timeout = 30.0

    def on_start(self) -> None:
        options = self.environment.parsed_options
        self.graphs = [g.strip() for g in options.hitl_graphs.split(",") if g.strip()]
        self.assistants = json.loads(options.hitl_assistants or "{}")
        self.options = Options(
            modes=tuple(m.strip() for m in options.hitl_modes.split(",") if m.strip()),
            think=options.hitl_think,
            reconnect=options.hitl_reconnect,
        )
        headers = json.loads(os.environ.get("HITL_LOAD_HEADERS") or "{}")
        self.http = Transport(self.client, self.host or "", headers, self.environment.events.request.fire)
        self.rng = random.Random()

    def _report(self, kind: str, failure: CorrectnessFailure | None) -> None:
        self.environment.events.request.fire(request_type=CHECK, name=kind, response_time=0, response_length=0, exception=failure, context={})

    @task
    def journey(self) -> None:
        graph = self.rng.choice(self.graphs)
        journey = Journey(self.http, self.assistants.get(graph, graph), graph, self.options, self._report, CALIBRATION, gevent.sleep, self.rng)
        started = time.perf_counter()
        error: Exception | None = None
        try:
            journey.begin()
            JOURNEYS[graph](journey)
        except HttpFailure as exc:  # counted by Locust as an HTTP error already
            error = exc
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            # an answer the journey needs is missing or malformed: that is the server's answer, not a crash here
            error = exc
            self._report("journey-completes", CorrectnessFailure("journey-completes", f"{graph} thread {journey.thread_id}: {type(exc).__name__}: {exc}"))
        self.environment.events.request.fire(request_type=JOURNEY, name=graph, response_time=(time.perf_counter() - started) * 1000, response_length=0, exception=error, context={})


class Profile(LoadTestShape):
    """steady: all users for the whole duration. ramp: up linearly over the first half, then held. spike: a fifth
    of them, all of them in the middle third, then a fifth again."""

    def tick(self) -> tuple[int, float] | None:
        options = self.runner.environment.parsed_options if self.runner else None
        if options is None:
            return None
        t, duration = self.get_run_time(), options.hitl_duration
        users, rate = options.hitl_users, options.hitl_spawn_rate
        if t >= duration:
            return None
        if options.hitl_profile == "ramp":
            return max(1, math.ceil(users * min(1.0, t / max(duration / 2, 1e-9)))), rate
        if options.hitl_profile == "spike":
            third = duration / 3
            return (users if third <= t < 2 * third else max(1, users // 5)), rate
        return users, rate


@events.init.add_listener
def _init(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        return
    options = environment.parsed_options
    if options is not None and options.headless:
        logging.getLogger("locust.stats_logger").disabled = True  # our table replaces Locust's
        if not options.hitl_quiet:
            gevent.spawn(_progress, environment)


def _progress(environment: Environment) -> None:
    live = sys.stderr.isatty()
    while True:
        gevent.sleep(1.0 if live else 5.0)
        runner = environment.runner
        if runner is None:
            return
        s = summarise(environment.stats, environment.parsed_options, workers=_workers(environment))
        line = (
            f"[{s['elapsed_s']:5.0f} s] users {runner.user_count:4d}  journeys {s['journeys']['completed']} "
            f"({s['journeys']['per_s']:.1f}/s)  checks {s['checks_total']}  correctness failures "
            f"{s['correctness_failures']}  http errors {s['http_errors']}"
        )
        print(("\r" + line) if live else line, end="" if live else "\n", file=sys.stderr, flush=True)


WORKERS_SEEN = [0]  # the most worker processes connected at once (a master's workers leave as it quits)


def _workers(environment: Environment) -> int:
    runner = environment.runner
    if not isinstance(runner, MasterRunner):
        return 1
    WORKERS_SEEN[0] = max(WORKERS_SEEN[0], len(runner.clients))
    return WORKERS_SEEN[0]


@events.test_start.add_listener
def _started(environment: Environment, **_: Any) -> None:
    _workers(environment)


@events.quitting.add_listener
def _quitting(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner) or environment.parsed_options is None:
        return
    summary = summarise(environment.stats, environment.parsed_options, workers=_workers(environment))
    if sys.stderr.isatty():
        print(file=sys.stderr)
    write_report(summary, environment.parsed_options.hitl_json or None)
    environment.process_exit_code = summary["exit_code"]
