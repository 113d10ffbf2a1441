"""`ApiError`: a request the contract refuses, answered as `{"detail": ...}` with its HTTP status.

Raised anywhere below the HTTP layer (threads, scheduler, engine adapters); `api/errors.py` turns it into the
response, in one place.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ApiError(Exception):
    status: int
    detail: str

    def __str__(self) -> str:
        return f"{self.status}: {self.detail}"


def invalid_uuid(what: str) -> ApiError:
    return ApiError(422, f"Invalid {what} ID: must be a UUID")
