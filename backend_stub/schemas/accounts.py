"""Accounts: registration, login, SMS codes, captchas, the profile."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from backend_stub import reference
from backend_stub.schemas.common import (
    EMAIL_RE,
    ErrorOut,
    JourneyStep,
    Option,
    _clean_password,
    _clean_phone,
    _one_of,
    clean_name,
    clean_text,
)


class CaptchaFields(BaseModel):
    """The answer to an image captcha, when the server asked for one (428)."""

    captcha_id: str | None = Field(default=None, max_length=64)
    captcha_answer: str | None = Field(default=None, max_length=8)


class CaptchaOut(BaseModel):
    captcha_id: str
    image_png_base64: str
    expires_in: int


class SmsCodeIn(CaptchaFields):
    phone: str
    purpose: Literal["register", "reset_password"]
    # For password reset: the account the phone must belong to.
    id_number: str | None = None

    _phone = field_validator("phone")(_clean_phone)


class SmsCodeOut(BaseModel):
    sent: bool = True
    expires_in: int
    retry_after: int
    message: str = "验证码已发送，请注意查收。"


class SandboxSmsIn(BaseModel):
    phone: str

    _phone = field_validator("phone")(_clean_phone)


class SandboxSmsOut(BaseModel):
    phone: str
    body: str
    code: str | None
    sent_at: datetime


class ProfileFields(BaseModel):
    """The editable profile of the Xinjiang form."""

    ethnicity: str | None = None
    political_status: str | None = None
    education: str | None = None
    occupation: str | None = None
    hukou: str | None = None
    email: str | None = None

    @field_validator("ethnicity")
    @classmethod
    def _ethnicity(cls, v: str | None) -> str | None:
        return _one_of(v, reference.ETHNICITIES)

    @field_validator("political_status")
    @classmethod
    def _political(cls, v: str | None) -> str | None:
        return _one_of(v, reference.POLITICAL_STATUSES)

    @field_validator("education")
    @classmethod
    def _education(cls, v: str | None) -> str | None:
        return _one_of(v, reference.EDUCATIONS)

    @field_validator("occupation")
    @classmethod
    def _occupation(cls, v: str | None) -> str | None:
        return _one_of(v, reference.OCCUPATIONS)

    @field_validator("hukou")
    @classmethod
    def _hukou(cls, v: str | None) -> str | None:
        return _one_of(v, reference.HUKOU_TYPES)

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        v = v.strip()
        if len(v) > 254 or not EMAIL_RE.fullmatch(v):
            raise ValueError("email")
        return v


class ProfileUpdate(ProfileFields):
    """PATCH /api/me: only the profile; anything else is refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


class RegisterNewIn(ProfileFields):
    """新生注册."""

    name: str = Field(min_length=2, max_length=40)
    id_number: str
    phone: str
    sms_code: str = Field(min_length=4, max_length=8)
    password: str
    exam_district: str
    ethnicity: str
    political_status: str
    education: str
    occupation: str
    hukou: str

    _phone = field_validator("phone")(_clean_phone)
    _password = field_validator("password")(_clean_password)
    _name = field_validator("name")(clean_name)

    @field_validator("exam_district")
    @classmethod
    def _district(cls, v: str) -> str:
        if v not in reference.EXAM_DISTRICTS:
            raise ValueError("district")
        return v


class RegisterEnrolledIn(BaseModel):
    """在籍注册: an existing student with a 准考证号."""

    name: str = Field(min_length=2, max_length=40)
    id_number: str
    ticket_number: str = Field(min_length=6, max_length=32)
    phone: str
    sms_code: str = Field(min_length=4, max_length=8)
    password: str

    _phone = field_validator("phone")(_clean_phone)
    _password = field_validator("password")(_clean_password)
    _name = field_validator("name")(clean_name)
    _ticket = field_validator("ticket_number")(clean_text)


class LoginIn(CaptchaFields):
    account: str = Field(min_length=1, max_length=40)
    password: str = Field(min_length=1, max_length=64)


class PasswordResetIn(BaseModel):
    id_number: str
    phone: str
    sms_code: str = Field(min_length=4, max_length=8)
    new_password: str

    _phone = field_validator("phone")(_clean_phone)
    _password = field_validator("new_password")(_clean_password)


class CandidateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    id_number: str
    kind: str
    ticket_number: str | None
    phone: str
    exam_district: str
    exam_district_name: str
    ethnicity: str | None
    political_status: str | None
    education: str | None
    occupation: str | None
    hukou: str | None
    email: str | None
    sex: str
    birth_date: str
    created_at: datetime
    journey: list[JourneyStep]
    # 资格审核: status (none / pending / approved / rejected / unlocked), message, the
    # rejection's reason and the parts to redo.
    review: dict[str, Any] = {}


class SessionOut(BaseModel):
    token: str
    expires_at: datetime
    candidate: CandidateOut
    warnings: list[ErrorOut] = []


class ReferenceOut(BaseModel):
    exam_districts: list[Option]
    ethnicities: list[str]
    political_statuses: list[str]
    educations: list[str]
    occupations: list[str]
    hukou_types: list[str]
