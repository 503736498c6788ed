"""报考: the catalog of an exam session and the candidate's choice."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class SessionOut(BaseModel):
    code: str
    name: str
    opens_at: datetime
    closes_at: datetime
    open: bool


class SiteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    county: str
    name: str
    address: str
    seats_left: int


class DistrictOut(BaseModel):
    code: str
    name: str
    sites: list[SiteOut]


class CourseOut(BaseModel):
    code: str
    name: str
    kind: str
    kind_text: str
    theory_code: str | None
    exam_date: date
    slot: str
    slot_text: str
    fee_fen: int


class MajorOut(BaseModel):
    code: str
    name: str
    level: str
    school: str
    standard: str
    special: bool
    courses: list[CourseOut]


class CatalogOut(BaseModel):
    session: SessionOut
    districts: list[DistrictOut]
    majors: list[MajorOut]
    card_fee_fen: int


class SelectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    site_id: int
    major_code: str = Field(max_length=16)
    course_codes: list[str] = Field(max_length=20)


class EnrollmentOut(BaseModel):
    session: SessionOut
    site_id: int | None
    major_code: str | None
    course_codes: list[str]
    # An order exists: the choice can no longer change.
    locked: bool
    order_id: int | None
