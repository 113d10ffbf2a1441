"""`Settings`: how one mock is configured, as one frozen, typed object passed to `create_app`.

Settings are the starting point. The admin API (`/__mock__/`) can change the deviations, faults and interrupt
format of a running mock; those live in `Controls` (controls.py), which starts from these settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .auth import AuthMode
from .deviations import check_names
from .faults import Fault
from .types import InterruptFormat


@dataclass(frozen=True, slots=True)
class Settings:
    api_url: str = ""  # where clients reach the mock (reported as `langgraph_api_url` in run metadata)
    deviations: frozenset[str] = frozenset()  # deviation profiles switched on (deviations.py)
    faults: tuple[Fault, ...] = ()  # faults in force from the start (faults.py)
    interrupt_format: InterruptFormat = InterruptFormat.CURRENT
    admin: bool = True  # serve `/__mock__/` and keep the request journal
    admin_token: str | None = None  # when set, `/__mock__/` needs it (api/admin_guard.py)
    keepalive_seconds: float = 5.0  # SSE heartbeat and wait-body keepalive interval
    journal_limit: int = 10_000  # requests the journal keeps
    cors_origins: tuple[str, ...] = field(default=("*",))
    max_body: int = 16 * 1024 * 1024  # bytes a request body may have (413 beyond; api/body_limit.py)
    auth: AuthMode | None = None  # API-key or per-user auth, as a deployment answers it (auth.py; `parse_auth` makes one)
    # Bounded memory for a mock left running (retention.py, runs/broker.py, journal.py):
    max_threads: int | None = None  # beyond it, the least recently used idle threads are evicted, checkpoints and all
    # Runs executing at once; the rest wait, pending, in the order they came, as on the official server, whose queue
    # workers run N_JOBS_PER_WORKER at once (10 by default; `langgraph dev` sets 1 unless given
    # --n-jobs-per-worker). Under load this keeps each run's working objects short-lived: with 100 to 500 runs
    # interleaved, they outlived young garbage collections and cost full ones.
    n_jobs_per_worker: int = 10
    journal_bytes: int = 64 * 1024 * 1024  # the journal drops its oldest entries beyond this many request bytes
    sweep_seconds: float = 30.0  # how often threads whose `ttl` has passed are swept
    replay_grace_seconds: float = 60.0  # how long a finished run keeps events for replay (resumable, or never joined)
    stream_backlog: int = 10_000  # events a run keeps for replay, and a stream may fall behind before it is cut off

    def __post_init__(self) -> None:
        object.__setattr__(self, "deviations", frozenset(check_names(set(self.deviations))))
        object.__setattr__(self, "interrupt_format", InterruptFormat(self.interrupt_format))
        object.__setattr__(self, "faults", tuple(self.faults))
        if self.max_body <= 0:
            raise ValueError("max_body must be positive")
        if self.keepalive_seconds <= 0:
            raise ValueError("keepalive_seconds must be positive")
        for name in ("journal_bytes", "sweep_seconds", "stream_backlog"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.replay_grace_seconds < 0:
            raise ValueError("replay_grace_seconds must not be negative")
        if self.n_jobs_per_worker < 1:
            raise ValueError("n_jobs_per_worker must be at least 1")
        if self.max_threads is not None and self.max_threads < 1:
            raise ValueError("max_threads must be at least 1")
