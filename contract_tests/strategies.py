"""Hypothesis strategies for what a client sends through interrupt and resume."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import strategies as st

_ID_LIKE = re.compile(r"^[0-9a-f]{32}$")
# JSON numbers the wire carries exactly: 64-bit integers (orjson's range) and finite floats.
_ints = st.integers(min_value=-(2**63), max_value=2**63 - 1)
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
