"""Hypothesis strategies for what a client sends through interrupt and resume."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import strategies as st

_ID_LIKE = re.compile(r"^[0-9a-f]{32}$")
# JSON numbers every implementation carries exactly (RFC 8259 section 6): integers within +-(2^53 - 1) and finite
# doubles. Larger integers lose precision in any server that parses JSON numbers as doubles (JavaScript does); they
# are HITL-INT-004 (SHOULD), with BIG_INTEGERS.
_ints = st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1)
BIG_INTEGERS = (2**53 + 1, -(2**53 + 1), 2**63 - 1)
_floats = st.floats(allow_nan=False, allow_infinity=False)
# Any unicode but NUL (the official server rewrites U+0000 to U+FFFD) and lone surrogates (not valid UTF-8).
_text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=40)
_keys = _text.filter(lambda k: not _ID_LIKE.match(k) and k != "__interrupt__")


def json_values(max_leaves: int = 25) -> st.SearchStrategy[Any]:
    """Arbitrary JSON: nested objects and arrays, unicode, large numbers, empty containers."""
    scalars = st.none() | st.booleans() | _ints | _floats | _text
    return st.recursive(
        scalars,
        lambda children: st.lists(children, max_size=5) | st.dictionaries(_keys, children, max_size=5),
        max_leaves=max_leaves,
    )


def resume_values() -> st.SearchStrategy[Any]:
    """JSON a client may resume with. Not top-level null (`resume: null` is a run error on the official
    server) and not an object whose keys all look like interrupt ids (that is a resume map), empty `{}` included."""
    return json_values().filter(lambda v: v is not None and not (isinstance(v, dict) and all(_ID_LIKE.match(k) for k in v)))


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON values, in any language: a number equals a number of the same value whether it was written as
    an integer or a float (`7.0` is `7`; a double may come back as `62803582454488460` for `6.280358245448846e16`),
    but `true` is not `1`, and object keys and array order count."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b if isinstance(a, int) and isinstance(b, int) else float(a) == float(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    return type(a) is type(b) and bool(a == b)
