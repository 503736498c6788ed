"""Refusals of the service's rules. The domain says what is wrong (a stable code, a
Chinese message, details for the app); the HTTP status is attached at the edge, in one
place (backend_stub.errors.STATUS)."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule refused: `code` for programs, `message` for the candidate, `extra` details."""

    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra
