"""人脸识别: digits issued, attempts and where the candidate stands."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


class ChallengeOut(BaseModel):
    id: int
    digits: str
    expires_at: datetime
    attempts_left: int


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    verdict: str
    reasons: list[dict[str, str]]
    measurements: dict[str, Any]

    @field_validator("measurements")
    @classmethod
    def _without_media_keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in value.items() if k != "stills"}


class LivenessOut(BaseModel):
    status: str
    message: str
    attempts_left: int
    attempts: list[AttemptOut]
