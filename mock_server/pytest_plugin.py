"""The mock's pytest plugin (registered as `hitl_mock`): the `hitl_mock` fixture for your own tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .testing import MockServer


@pytest.fixture
def hitl_mock() -> Iterator[MockServer]:
    """A fresh hitl-mock (bundled scenarios) on a free port for your own tests; stopped afterwards.
    It has the admin controls as methods: requests(), load_scenario(), set_faults(), set_deviations(), reset()."""
    from .testing import MockServer  # imported here: pytest loads this plugin in every session

    with MockServer() as server:
        yield server
