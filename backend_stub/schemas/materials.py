"""Proof documents of the special majors."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class MaterialOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    major_code: str
    content_type: str
    size: int
    created_at: datetime
