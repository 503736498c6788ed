"""The standard photo: checks, fixes and the accepted photo."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class PhotoCheckOut(BaseModel):
    ok: bool
    problems: list[dict[str, str]]
    measurements: dict[str, Any]
    face: dict[str, Any] | None = None


class PhotoFixOut(BaseModel):
    jpeg_base64: str
    report: dict[str, Any]
    check: PhotoCheckOut


class PhotoOut(BaseModel):
    id: int
    profile: str
    face_verdict: str
    face_distance: float | None
    check: PhotoCheckOut


class PhotoSpecOut(BaseModel):
    # A key of rules.photo.PROFILES: the app checks the file against the same spec.
    profile: str
