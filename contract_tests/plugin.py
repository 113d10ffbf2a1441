"""The pytest plugin: `pytest --hitl-url URL` runs the conformance suite against URL inside any pytest run.

It adds the suite's checks to the session, gives them a client, and turns check outcomes into clause outcomes:
a clause fails when any of its checks fails, passes when they all pass, and is "not checked", with the reason,
when they are all skipped. The gate only ever adds failures: pytest's own status (a failing test of yours, an
error, an interruption) is kept as it is; a failed SHOULD clause is reported as an expected failure (`x`); and a
run that leaves MUST clauses of its scope unchecked fails, because it certifies nothing for them.
Checks may run in pytest-xdist workers (`-n N`); their outcomes travel in the test reports.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .capabilities import Scope
from .clauses import BY_ID
from .client import Client
from .outcomes import DERIVED, THREADS_KEY, Litter, Outcome, outcomes_in, threads_in
from .report import Report, collect

SUITE = Path(__file__).resolve().parent / "suite"
SCHEMA_CLAUSE = "HITL-SCHEMA-001"


@dataclass(frozen=True)
class Profile:
    """How far the property-based checks go: hypothesis examples per check, state-machine steps, schema cases."""

    name: str
    examples: int
    steps: int
    schema_examples: int
    shrink_seconds: int  # how long Hypothesis may shrink one failure (each try replays requests on the server)

    def share(self) -> int:
        """Examples per shard: a property check is split into len(SHARDS) seeded parts that run at once."""
        return -(-self.examples // len(SHARDS))


# Each property check is split into seeded shards that share its examples. They are independent checks, so the
# workers run them at once: against a server that takes a second per run, one unsplit model check took a minute.
SHARDS = range(4)

PROFILES = {
    "quick": Profile("quick", examples=3, steps=5, schema_examples=2, shrink_seconds=20),
    "default": Profile("default", examples=8, steps=8, schema_examples=4, shrink_seconds=45),
    "thorough": Profile("thorough", examples=100, steps=25, schema_examples=40, shrink_seconds=300),
}


@dataclass
class Session:
    """What the controlling process gathers: outcomes, litter, and the failures that keep the run red."""

    scope: Scope
    outcomes: list[Outcome]
    litter: Litter
    collected: set[str]  # clause ids with a check in this session


def clause(*ids: str) -> pytest.MarkDecorator:
    """Mark a check as proving these clauses."""
    return pytest.mark.hitl_clause(*ids)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hitl-contract", "HITL contract conformance suite")
    group.addoption("--hitl-url", default=None, help="run the conformance suite against this server")
    group.addoption("--hitl-api-key", default=os.environ.get("HITL_API_KEY"), help="x-api-key for the server (or HITL_API_KEY)")
    group.addoption(
        "--hitl-header",
        action="append",
        default=[h for h in os.environ.get("HITL_HEADERS", "").splitlines() if h.strip()],
        help="'Name: value' sent with every request, e.g. 'Authorization: Bearer …' (repeatable; or HITL_HEADERS, one per line)",
    )
    group.addoption("--hitl-profile", default="default", choices=sorted(PROFILES), help="how many examples the property checks try")
    group.addoption("--hitl-capabilities", default=None, help="certify only these capabilities (comma-separated)")
    group.addoption("--hitl-skip-capability", action="append", default=[], help="leave this capability out of the certification (repeatable)")
    group.addoption("--hitl-keep-threads", action="store_true", help="do not delete the threads the suite created")
    group.addoption("--hitl-json", default=None, help="write the clause report as JSON here")
    group.addoption("--hitl-junit", default=None, help="write the clause report as JUnit XML (one test case per clause) here")


def headers_from(values: list[str]) -> dict[str, str]:
    """`Name: value` strings as a header dict; raises ValueError for one without a colon."""
    found = {}
    for value in values:
        name, sep, rest = value.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"a header is 'Name: value', not {value!r}")
        found[name.strip()] = rest.strip()
    return found


def request_headers(values: list[str], api_key: str | None) -> dict[str, str]:
    """What every request of the suite carries: the `Name: value` headers and, with an API key, x-api-key."""
    return {**headers_from(values), **({"x-api-key": api_key} if api_key else {})}


def sent_headers(config: pytest.Config) -> dict[str, str]:
    return request_headers(config.getoption("hitl_header"), config.getoption("hitl_api_key"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "hitl_clause(*ids): the conformance clauses a check proves")
    if not config.getoption("hitl_url", None):
        return
    if str(SUITE) not in config.args and not any(str(a).startswith(str(SUITE)) for a in config.args):
        config.args.append(str(SUITE))
    try:
        scope = Scope.chosen(config.getoption("hitl_capabilities"), config.getoption("hitl_skip_capability"))
        headers_from(config.getoption("hitl_header"))
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    _hypothesis_profile(PROFILES[config.getoption("hitl_profile")])
    state = Session(scope, [], Litter(), set())
    config.stash[_SESSION] = state
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(Collector(state), "hitl-contract-collector")


def _hypothesis_profile(profile: Profile) -> None:
    from hypothesis import HealthCheck, settings
    from hypothesis.internal.conjecture import engine

    # Hypothesis shrinks a failure for up to 300 s (engine.MAX_SHRINKING_SECONDS, read when shrinking starts; no
    # public setting). Every try replays the sequence on the server: against langgraphjs dev one failing model
    # shard shrank for 320 s. The profile caps it; a shrink cut short still reports the smallest example found.
    engine.MAX_SHRINKING_SECONDS = profile.shrink_seconds

    settings.register_profile(
        f"hitl-{profile.name}",
        max_examples=profile.examples,
        stateful_step_count=profile.steps,
        deadline=None,
        database=None,
        derandomize=True,  # the same examples every run: reports and smallest examples are reproducible
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    settings.load_profile(f"hitl-{profile.name}")


_SESSION = pytest.StashKey[Session]()
REPORT = pytest.StashKey[Report]()
_CLIENT = pytest.StashKey[Client]()


def _clauses_of(item: pytest.Item) -> tuple[str, ...]:
    marker = item.get_closest_marker("hitl_clause")
    return tuple(marker.args) if marker else ()


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the checks whose clauses are all outside the chosen capabilities."""
    state = config.stash.get(_SESSION, None)
    if state is None:
        return
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        clauses = _clauses_of(item)
        in_scope = not clauses or any(BY_ID[c].capability in state.scope for c in clauses if c in BY_ID)
        (keep if in_scope else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    state.collected = {c for item in keep for c in _clauses_of(item)} | ({SCHEMA_CLAUSE} if any(_clauses_of(i) for i in keep) else set())


@pytest.fixture(scope="session")
def hitl_profile(request: pytest.FixtureRequest) -> Profile:
    return PROFILES[request.config.getoption("hitl_profile")]


@pytest.fixture(scope="session")
def hitl_url(request: pytest.FixtureRequest) -> str:
    url = request.config.getoption("hitl_url")
    if not url:
        pytest.skip("no --hitl-url given")
    return str(url).rstrip("/")


def new_client(config: pytest.Config, url: str) -> Client:
    return Client(url, headers=sent_headers(config))


@pytest.fixture(scope="session")
def served_graphs(hitl_url: str, request: pytest.FixtureRequest) -> set[str]:
    """The graphs the server serves (POST /assistants/search)."""
    probe = new_client(request.config, hitl_url)
    try:
        found = probe.request("POST", "/assistants/search", {"limit": 100})
        return {a.get("graph_id") for a in found.json()} if found.status == 200 else set()
    finally:
        probe.close()


@pytest.fixture
def client(hitl_url: str, request: pytest.FixtureRequest) -> Iterator[Client]:
    """A client whose transcript becomes the reproduction if the check fails; it removes the threads it made."""
    c = new_client(request.config, hitl_url)
    request.node.stash[_CLIENT] = c
    yield c
    if not request.config.getoption("hitl_keep_threads"):
        created, removed, left = c.cleanup()
    else:
        created, removed, left = len(set(c.created)), 0, list(dict.fromkeys(c.created))
    request.node.user_properties.append((THREADS_KEY, json.dumps([created, removed, left])))
    c.close()


@pytest.fixture
def needs(served_graphs: set[str]) -> Callable[..., None]:
    """`needs(graphs=[...])`: skip, with the reason, when the server does not serve those fixture graphs."""

    def check(*, graphs: tuple[str, ...] = ()) -> None:
        missing = [g for g in graphs if g not in served_graphs]
        if missing:
            pytest.skip(f"the server does not serve the fixture graph(s) {', '.join(missing)} (serve fixtures/graphs)")

    return check


def _describe(exc: BaseException) -> str:
    notes = [n for n in getattr(exc, "__notes__", []) if not n.startswith("You can reproduce")]
    return "\n".join([f"{type(exc).__name__}: {exc}", *notes])


def _failure_message(call: pytest.CallInfo[None], report: pytest.TestReport) -> str:
    """What failed, for the report: each of a group's failures (Hypothesis reports distinct failures as a group)
    with its falsifying example, not just "found 2 distinct failures"."""
    exc = call.excinfo.value if call.excinfo is not None else None
    if isinstance(exc, BaseExceptionGroup):
        parts = [f"{len(exc.exceptions)} distinct failures:", *(f"({i}) {_describe(e)}" for i, e in enumerate(exc.exceptions, 1))]
        return "\n".join(parts)[:4000]
    crash = getattr(report.longrepr, "reprcrash", None)
    return str(crash.message if crash is not None else report.longreprtext)[:2000]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    report = (yield).get_result()
    clauses = _clauses_of(item)
    if not clauses or not (report.when == "call" or (report.when == "setup" and not report.passed)):
        return
    message = ""
    if report.failed:
        message = _failure_message(call, report)
    elif report.skipped:
        message = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        message = message.removeprefix("Skipped: ")
    client = item.stash.get(_CLIENT, None)
    transcript = [e.to_json() for e in client.transcript[-12:]] if client and report.failed else []
    state = "failed" if report.failed else ("skipped" if report.skipped else "passed")
    report.user_properties.append(Outcome(item.nodeid, clauses, state, message, transcript).to_property())
    if client is not None and client.transcript and SCHEMA_CLAUSE not in clauses:
        problems = client.schema_problems
        detail = "responses that disagree with the spec:\n" + "\n".join(problems[:5]) if problems else ""
        schema = Outcome(f"{item.nodeid}{DERIVED}", (SCHEMA_CLAUSE,), "failed" if problems else "passed", detail)
        report.user_properties.append(schema.to_property())
    if report.failed and all(BY_ID[c].level == "SHOULD" for c in clauses if c in BY_ID):
        report.outcome, report.wasxfail = "skipped", f"SHOULD clause {', '.join(clauses)} failed: {message.splitlines()[0] if message else ''}"


class Collector:
    """Registered on the controlling process: gathers outcomes and litter from every test report (this process's
    or an xdist worker's)."""

    def __init__(self, state: Session) -> None:
        self.state = state

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "teardown":
            self.state.outcomes += outcomes_in(report.user_properties)
            return
        for created, removed, left in threads_in(report.user_properties):
            self.state.litter.add(created, removed, left)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    state = config.stash.get(_SESSION, None)
    if state is None or hasattr(config, "workerinput"):  # an xdist worker: its controller reports
        return
    complete = exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) and not session.shouldfail and not session.shouldstop
    report = collect(
        state.outcomes, url=config.getoption("hitl_url"), profile=config.getoption("hitl_profile"), scope=state.scope,
        complete=complete, collected=state.collected, litter=state.litter,
    )
    config.stash[REPORT] = report
    if path := config.getoption("hitl_json"):
        Path(path).write_text(report.to_json())
    if path := config.getoption("hitl_junit"):
        Path(path).write_text(report.to_junit())
    if exitstatus == pytest.ExitCode.OK and not report.certified():
        session.exitstatus = pytest.ExitCode.TESTS_FAILED  # the gate only adds: uncertified MUST clauses in scope


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    report = config.stash.get(REPORT, None)
    if report is not None:
        from rich.console import Console

        from .render import print_report

        tw = terminalreporter._tw
        print_report(report, Console(file=tw._file, force_terminal=tw.hasmarkup, width=max(120, tw.fullwidth)))


__all__ = ["PROFILES", "SHARDS", "Profile", "clause"]
