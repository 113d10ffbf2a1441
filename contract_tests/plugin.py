"""The pytest plugin: `pytest --hitl-url URL` runs the conformance suite against URL inside any pytest run.

It adds the suite's tests to the session, gives them a client and the server's capabilities, and turns
test outcomes into clause outcomes (a clause fails when any of its checks fails, passes when they all
pass, and is skipped, with the reason, when they are all skipped). Only failed MUST clauses fail the run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .client import Client
from .report import ClauseResult, Report, collect

SUITE = Path(__file__).resolve().parent / "suite"


@dataclass(frozen=True)
class Profile:
    """How far the property-based checks go: hypothesis examples per check, state-machine steps, schema cases."""

    name: str
    examples: int
    steps: int
    schema_examples: int


PROFILES = {
    "quick": Profile("quick", examples=3, steps=5, schema_examples=2),
    "default": Profile("default", examples=8, steps=8, schema_examples=4),
    "thorough": Profile("thorough", examples=100, steps=25, schema_examples=40),
}


@dataclass
class Capabilities:
    graphs: set[str]
    paths: set[str] | None  # the server's own /openapi.json paths, when it publishes one
    run_fields: set[str] | None

    def has_path(self, path: str) -> bool:
        return self.paths is None or path in self.paths

    def has_field(self, name: str) -> bool:
        return self.run_fields is None or name in self.run_fields


@dataclass
class Outcome:
    nodeid: str
    clauses: tuple[str, ...]
    outcome: str  # passed | failed | skipped
    message: str = ""
    transcript: list[dict[str, Any]] = field(default_factory=list)


def clause(*ids: str) -> pytest.MarkDecorator:
    """Mark a check as proving these clauses."""
    return pytest.mark.hitl_clause(*ids)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hitl-contract", "HITL contract conformance suite")
    group.addoption("--hitl-url", default=None, help="run the conformance suite against this server")
    group.addoption("--hitl-api-key", default=os.environ.get("HITL_API_KEY"), help="x-api-key for the server (or HITL_API_KEY)")
    group.addoption("--hitl-profile", default="default", choices=sorted(PROFILES), help="how many examples the property checks try")
    group.addoption("--hitl-json", default=None, help="write the clause report as JSON here")
    group.addoption("--hitl-junit", default=None, help="write the clause report as JUnit XML (one test case per clause) here")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "hitl_clause(*ids): the conformance clauses a check proves")
    if not config.getoption("hitl_url", None):
        return
    if str(SUITE) not in config.args and not any(str(a).startswith(str(SUITE)) for a in config.args):
        config.args.append(str(SUITE))
    from hypothesis import HealthCheck, settings

    profile = PROFILES[config.getoption("hitl_profile")]
    settings.register_profile(
        f"hitl-{profile.name}",
        max_examples=profile.examples,
        stateful_step_count=profile.steps,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    settings.load_profile(f"hitl-{profile.name}")
    config.stash[_OUTCOMES] = []


_OUTCOMES = pytest.StashKey[list[Outcome]]()
REPORT = pytest.StashKey[Report]()


@pytest.fixture(scope="session")
def hitl_profile(request: pytest.FixtureRequest) -> Profile:
    return PROFILES[request.config.getoption("hitl_profile")]


@pytest.fixture(scope="session")
def hitl_url(request: pytest.FixtureRequest) -> str:
    url = request.config.getoption("hitl_url")
    if not url:
        pytest.skip("no --hitl-url given")
    return str(url).rstrip("/")


@pytest.fixture(scope="session")
def capabilities(hitl_url: str, request: pytest.FixtureRequest) -> Capabilities:
    """What the server offers: its graphs (/assistants/search) and, if it publishes /openapi.json, its routes and run fields."""
    probe = Client(hitl_url, request.config.getoption("hitl_api_key"))
    try:
        found = probe.request("POST", "/assistants/search", {"limit": 100})
        graphs = {a.get("graph_id") for a in found.json()} if found.status == 200 else set()
        paths = run_fields = None
        spec = probe.request("GET", "/openapi.json")
        if spec.status == 200:
            try:
                document = spec.json()
                paths = set(document.get("paths", {}))
                schema = document.get("components", {}).get("schemas", {}).get("RunCreateStateful", {})
                run_fields = set(schema.get("properties", {})) or None
            except ValueError:
                pass
    finally:
        probe.close()
    return Capabilities(graphs, paths, run_fields)


@pytest.fixture
def client(hitl_url: str, request: pytest.FixtureRequest) -> Iterator[Client]:
    """A client whose transcript becomes the reproduction if the check fails."""
    c = Client(hitl_url, request.config.getoption("hitl_api_key"))
    request.node.stash[_CLIENT] = c
    yield c
    c.close()


_CLIENT = pytest.StashKey[Client]()


@pytest.fixture
def needs(capabilities: Capabilities) -> Callable[..., None]:
    """`needs(graphs=[...], path=..., field=...)`: skip, with the reason, when the server lacks it."""

    def check(*, graphs: tuple[str, ...] = (), path: str | None = None, field: str | None = None) -> None:
        missing = [g for g in graphs if g not in capabilities.graphs]
        if missing:
            pytest.skip(f"the server does not serve the fixture graph(s) {', '.join(missing)} (serve fixtures/graphs)")
        if path and not capabilities.has_path(path):
            pytest.skip(f"the server does not offer {path}")
        if field and not capabilities.has_field(field):
            pytest.skip(f"the server's run bodies have no `{field}`")

    return check


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    outcomes = item.config.stash.get(_OUTCOMES, None)
    marker = item.get_closest_marker("hitl_clause")
    if outcomes is None or marker is None:
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        message = ""
        if report.failed:
            message = str((getattr(report.longrepr, "reprcrash", None) and report.longrepr.reprcrash.message) or report.longreprtext)[:2000]
        elif report.skipped:
            message = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            message = message.removeprefix("Skipped: ")
        client = item.stash.get(_CLIENT, None)
        transcript = [e.to_json() for e in client.transcript[-12:]] if client and report.failed else []
        state = "failed" if report.failed else ("skipped" if report.skipped else "passed")
        outcomes.append(Outcome(item.nodeid, tuple(marker.args), state, message, transcript))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    outcomes = config.stash.get(_OUTCOMES, None)
    if outcomes is None:
        return
    report = collect(outcomes, url=config.getoption("hitl_url"), profile=config.getoption("hitl_profile"))
    config.stash[REPORT] = report
    if path := config.getoption("hitl_json"):
        Path(path).write_text(report.to_json())
    if path := config.getoption("hitl_junit"):
        Path(path).write_text(report.to_junit())
    # Only MUST clauses gate; a failed SHOULD clause is reported, not fatal.
    if exitstatus == pytest.ExitCode.TESTS_FAILED and not report.must_failures():
        session.exitstatus = pytest.ExitCode.OK


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    report = config.stash.get(REPORT, None)
    if report is not None:
        from rich.console import Console

        report.print(Console(file=terminalreporter._tw._file, force_terminal=terminalreporter._tw.hasmarkup, width=max(120, terminalreporter._tw.fullwidth)))


__all__ = ["PROFILES", "Capabilities", "ClauseResult", "Profile", "clause"]
