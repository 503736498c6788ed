"""What the backend answers, as typed models (the client returns these, not dicts)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from rules.display import masked_id


class ApiError(Exception):
    """A refusal from the backend (or no backend): a machine code and a Chinese message."""

    def __init__(
        self, code: str, message: str, *, status: int = 0, fields: list[str] | None = None
    ):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields or []


class JourneyStep(BaseModel):
    key: str
    title: str
    status: str
    detail: str = ""


class Candidate(BaseModel):
    name: str
    id_number: str
    kind: str
    ticket_number: str | None = None
    phone: str
    exam_district: str
    exam_district_name: str = ""
    ethnicity: str | None = None
    political_status: str | None = None
    education: str | None = None
    occupation: str | None = None
    hukou: str | None = None
    email: str | None = None
    sex: str
    birth_date: str
    journey: list[JourneyStep] = []
    # 资格审核: status, message, reason, parts (see the backend's review module).
    review: dict[str, Any] = {}

    @property
    def review_status(self) -> str:
        return str(self.review.get("status", "none"))

    @property
    def masked_id_number(self) -> str:
        return masked_id(self.id_number)


class Notice(BaseModel):
    code: str
    message: str


class LoginSession(BaseModel):
    token: str
    expires_at: datetime
    candidate: Candidate
    warnings: list[Notice] = []


class Option(BaseModel):
    key: str
    text: str


class Reference(BaseModel):
    exam_districts: list[Option]
    ethnicities: list[str]
    political_statuses: list[str]
    educations: list[str]
    occupations: list[str]
    hukou_types: list[str]


class IdCardReading(BaseModel):
    """What the backend read from a card photo (see verification.idcard.reader)."""

    id: int
    result: dict[str, Any]
    account_match: dict[str, bool]
    confirmed: bool
    confirmed_fields: dict[str, Any] | None = None

    @property
    def fields(self) -> dict[str, str | None]:
        return self.result.get("fields", {})

    @property
    def warnings(self) -> list[dict[str, str]]:
        return self.result.get("quality", {}).get("warnings", [])
