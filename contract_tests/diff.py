"""`hitl-contract diff URL_A URL_B`: the same conversations on two servers, compared after normalisation.

Each conversation of conversations.py runs on server A, then on server B. Both logs go through the normaliser
(normalize.py: ids renamed consistently, timestamps and host fields hidden) and are compared step by step. A
difference is a JSON path inside one step (`body.values.some_text`, `status`, `headers.content-location`)
where the two servers answered differently; a conversation one server could not finish ends in a
`conversation stopped` step, compared like any other.

`--ignore PATTERN` hides differences whose path, or `CONVERSATION:PATH`, matches a shell-style pattern.
"""

from __future__ import annotations

import fnmatch
import json
import shlex
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from .conversations import FLOWS, Session, recorded
from .normalize import Normaliser

MISSING = "<absent>"


@dataclass(frozen=True)
class Difference:
    """One place where the two servers answered the same step differently."""

    conversation: str
    step: int  # 1-based, in the conversation's order
    label: str
    path: str  # a JSON path in the recorded exchange: `status`, `headers.x`, `body.values.x`, `body[2].data`
    a: Any  # the normalised value on server A, or MISSING
    b: Any

    def where(self) -> str:
        return f"{self.conversation}:{self.path}"


@dataclass
class ConversationDiff:
    name: str
    steps: tuple[int, int]  # exchanges recorded on A and on B
    differences: list[Difference] = field(default_factory=list)
    ignored: int = 0
    requests: dict[int, dict[str, Any]] = field(default_factory=dict)  # step -> what A was sent, for a reproduction


@dataclass
class DiffReport:
    a: str
    b: str
    conversations: list[ConversationDiff]
    ignore: list[str]

    @property
    def differences(self) -> list[Difference]:
        return [d for c in self.conversations for d in c.differences]

    def to_json(self) -> str:
        return json.dumps(
            {
                "a": self.a,
                "b": self.b,
                "ignore": self.ignore,
                "identical": not self.differences,
                "conversations": [
                    {"name": c.name, "steps": list(c.steps), "ignored": c.ignored, "differences": [asdict(d) for d in c.differences]}
                    for c in self.conversations
                ],
            },
            indent=2,
            default=str,
        )


def paths(a: Any, b: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Where two JSON values differ: (path, value in a, value in b), innermost first-level differences."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[tuple[str, Any, Any]] = []
        for key in sorted(set(a) | set(b), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in b:
                out.append((sub, a[key], MISSING))
            elif key not in a:
                out.append((sub, MISSING, b[key]))
            else:
                out += paths(a[key], b[key], sub)
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in paths(x, y, f"{path}[{i}]")]
    return [] if a == b else [(path, a, b)]


def ignored(difference: Difference, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(difference.path, p) or fnmatch.fnmatchcase(difference.where(), p) for p in patterns)


def compare_logs(name: str, log_a: list[dict[str, Any]], log_b: list[dict[str, Any]], ignore: Iterable[str] = ()) -> ConversationDiff:
    """The differences between two recordings of one conversation, after normalisation (one normaliser per
    server, so each names its own ids in the order it showed them)."""
    a, b = Normaliser()(log_a), Normaliser()(log_b)
    result = ConversationDiff(name, (len(a), len(b)))
    patterns = list(ignore)
    for i in range(max(len(a), len(b))):
        step_a = a[i] if i < len(a) else None
        step_b = b[i] if i < len(b) else None
        label = (step_a or step_b or {}).get("label", "?")
        if step_a is None or step_b is None:
            found = [("", step_a if step_a is not None else MISSING, step_b if step_b is not None else MISSING)]
        else:
            found = paths({k: v for k, v in step_a.items() if k != "label"}, {k: v for k, v in step_b.items() if k != "label"})
            if step_a["label"] != step_b["label"]:
                found.insert(0, ("label", step_a["label"], step_b["label"]))
        for path, x, y in found:
            difference = Difference(name, i + 1, label, path, x, y)
            if ignored(difference, patterns):
                result.ignored += 1
            else:
                result.differences.append(difference)
    return result


def run_diff(
    url_a: str,
    url_b: str,
    names: list[str],
    *,
    headers_a: dict[str, str] | None = None,
    headers_b: dict[str, str] | None = None,
    ignore: Iterable[str] = (),
    progress: Callable[[str], None] = lambda _: None,
) -> DiffReport:
    """Run the named conversations on both servers and compare them."""
    patterns = list(ignore)
    out: list[ConversationDiff] = []
    for name in names:
        session_a = recorded(url_a, FLOWS[name], headers_a, keep_going=True)
        progress(f"{name}: recorded on A")
        session_b = recorded(url_b, FLOWS[name], headers_b, keep_going=True)
        progress(f"{name}: recorded on B")
        diff = compare_logs(name, session_a.log, session_b.log, patterns)
        diff.requests = _requests(session_a, diff)
        out.append(diff)
    return DiffReport(url_a, url_b, out, patterns)


def _requests(session: Session, diff: ConversationDiff) -> dict[int, dict[str, Any]]:
    steps = {d.step for d in diff.differences}
    return {s: session.requests[s - 1] for s in steps if s - 1 < len(session.requests) and session.requests[s - 1]}


def curl(base: str, request: dict[str, Any]) -> str:
    """A shell line that sends `request` (as conversations.py recorded it) to `base`."""
    parts = ["curl", "-sS", "-X", request["method"], shlex.quote(base.rstrip("/") + request["path"])]
    for name, value in (request.get("headers") or {}).items():
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    if request.get("body") is not None:
        body = request["body"] if isinstance(request["body"], str) else json.dumps(request["body"])
        parts += ["-H", "'content-type: application/json'", "-d", shlex.quote(body)]
    return " ".join(parts)


def _short(value: Any, limit: int = 160) -> str:
    text = value if value == MISSING else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def print_diff(report: DiffReport, console: Any, per_step: int = 8) -> None:
    """The report for a terminal: one line per conversation, then every differing step with its paths (at most
    `per_step` each; all of them are in --json) and the request A was sent there."""
    from rich.markup import escape as esc
    from rich.table import Table

    table = Table(title=f"A = {report.a}   B = {report.b}")
    for column in ("conversation", "steps (A / B)", "differences", "ignored"):
        table.add_column(column)
    for c in report.conversations:
        shown = f"[red]{len(c.differences)}[/]" if c.differences else "[green]0[/]"
        table.add_row(c.name, f"{c.steps[0]} / {c.steps[1]}", shown, str(c.ignored))
    console.print(table)
    for c in report.conversations:
        steps: dict[int, list[Difference]] = {}
        for d in c.differences:
            steps.setdefault(d.step, []).append(d)
        for step, found in steps.items():
            console.print(f"\n[bold]{c.name}[/], step {step} ([italic]{esc(found[0].label)}[/]):")
            for d in found[:per_step]:
                console.print(f"  {esc(d.path or '(the whole step)')}:\n    A: {esc(_short(d.a))}\n    B: {esc(_short(d.b))}")
            if len(found) > per_step:
                console.print(f"  … and {len(found) - per_step} more paths (see --json)")
            if step in c.requests:
                console.print(f"  [dim]A was sent: {esc(curl(report.a, c.requests[step]))}[/]")
    total = len(report.differences)
    hidden = sum(c.ignored for c in report.conversations)
    note = f" ({hidden} ignored by --ignore)" if hidden else ""
    if total:
        console.print(f"\n[red]{total} differences[/] in {sum(1 for c in report.conversations if c.differences)} of {len(report.conversations)} conversations{note}")
    else:
        console.print(f"\n[green]no differences[/] in {len(report.conversations)} conversations{note}")
