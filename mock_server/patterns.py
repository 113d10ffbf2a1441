"""Regular expressions that come from users (the journal's `path` filter, a scenario's `matches` condition) run on
RE2 (google-re2): matching takes linear time, so no pattern, however catastrophic for a backtracking engine
(`(a+)+$`), can stall the event loop. RE2 has no backreferences or lookaround; such a pattern is refused with a
clear message."""

from __future__ import annotations

from typing import Any

import re2  # type: ignore[import-untyped]  # google-re2 ships no type information

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # the error goes back to the client; RE2 would also print it to stderr


class PatternError(ValueError):
    """A pattern RE2 cannot compile; the message says why."""


def compile_pattern(text: str) -> Any:
    """The compiled pattern (with `.search`), or PatternError."""
    try:
        return re2.compile(text, _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise PatternError(f"{text!r} is not a regular expression RE2 accepts ({reason}; no backreferences or lookaround)") from None
