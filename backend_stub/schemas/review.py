"""资格审核 as the candidate sees it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class ReviewOut(BaseModel):
    # none, pending, approved, rejected, unlocked
    status: str
    message: str
    # Why it was rejected (a reason from the office's list, and its note).
    reason: str | None
    # What to redo after a rejection: idcard, liveness, photo, profile.
    parts: list[str]
    decided_at: datetime | None
