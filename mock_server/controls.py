"""`Controls`: what the admin API can change on a running mock (deviations, faults, interrupt format), as
one object that starts from the `Settings` and is handed to each part that consults it."""

from __future__ import annotations

from .deviations import Deviations
from .faults import Faults
from .settings import Settings
from .types import InterruptFormat


class Controls:
    def __init__(self, settings: Settings) -> None:
        self.deviations = Deviations(settings.deviations)
        self.faults = Faults(settings.faults)
        self.interrupt_format = settings.interrupt_format

    @property
    def legacy_interrupts(self) -> bool:
        return self.interrupt_format == InterruptFormat.LEGACY
