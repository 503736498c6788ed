from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import object_session

from backend_stub import reference, sms
from backend_stub.abuse import PublicRequest
from backend_stub.deps import (
    CurrentCandidate,
    EditableProfile,
    SecretDep,
    SessionDep,
    SettingsDep,
    open_session,
)
from backend_stub.domain import review
from backend_stub.errors import ApiError
from backend_stub.journey import journey
from backend_stub.models import Candidate, StudentRecord
from backend_stub.schemas.accounts import (
    CandidateOut,
    ProfileFields,
    ProfileUpdate,
    RegisterEnrolledIn,
    RegisterNewIn,
    SessionOut,
)
from backend_stub.schemas.common import ErrorOut
from backend_stub.security import hash_password
from rules import idnumber
from rules.errors import InvalidIdNumber

router = APIRouter(prefix="/api", tags=["accounts"])

ID_TAKEN = ApiError(
    409, "id_number_taken", "该身份证号已注册，请直接登录；忘记密码可通过短信找回。"
)


def parse_id_number(text: str) -> idnumber.IdNumber:
    """Validate an ID number, translating the engine's error into an API error."""
    try:
        return idnumber.parse(text)
    except InvalidIdNumber as exc:
        raise ApiError(422, exc.code, exc.message, fields=["id_number"]) from None


def id_warnings(number: idnumber.IdNumber) -> list[ErrorOut]:
    if idnumber.DIVISION_UNKNOWN in number.warnings:
        return [
            ErrorOut(
                code=idnumber.DIVISION_UNKNOWN,
                message="身份证号的地区代码较新，系统暂未收录，请确认号码无误。",
            )
        ]
    return []


def candidate_out(candidate: Candidate) -> CandidateOut:
    number = idnumber.parse(candidate.id_number)
    return CandidateOut(
        name=candidate.name,
        id_number=candidate.id_number,
        kind=candidate.kind,
        ticket_number=candidate.ticket_number,
        phone=candidate.phone,
        exam_district=candidate.exam_district,
        exam_district_name=reference.EXAM_DISTRICTS.get(candidate.exam_district, ""),
        ethnicity=candidate.ethnicity,
        political_status=candidate.political_status,
        education=candidate.education,
        occupation=candidate.occupation,
        hukou=candidate.hukou,
        email=candidate.email,
        sex=number.sex,
        birth_date=number.birth_date.isoformat(),
        created_at=candidate.created_at,
        journey=journey(candidate),
        review=_review_state(candidate),
    )


def _review_state(candidate: Candidate) -> dict[str, Any]:
    session = object_session(candidate)
    return review.state(session, candidate) if session is not None else {}


def _ensure_id_free(session: SessionDep, number: str) -> None:
    if session.scalar(select(Candidate.id).where(Candidate.id_number == number)) is not None:
        raise ID_TAKEN


def _commit_new_candidate(
    session: SessionDep, settings: SettingsDep, candidate: Candidate, warnings: list[ErrorOut]
) -> SessionOut:
    session.add(candidate)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise ID_TAKEN from None
    token, auth = open_session(session, settings, candidate)
    session.commit()
    return SessionOut(
        token=token,
        expires_at=auth.expires_at,
        candidate=candidate_out(candidate),
        warnings=warnings,
    )


@router.post("/accounts/new", response_model=SessionOut, status_code=201)
def register_new_student(
    body: RegisterNewIn,
    session: SessionDep,
    settings: SettingsDep,
    secret: SecretDep,
    _public: PublicRequest,
) -> SessionOut:
    """新生注册: the ID number becomes the account; logs the candidate in. The SMS code
    is checked before anything about the ID number is told."""
    number = parse_id_number(body.id_number)
    sms.consume_code(
        session, settings, secret, phone=body.phone, purpose="register", code=body.sms_code
    )
    _ensure_id_free(session, number.number)
    candidate = Candidate(
        id_number=number.number,
        name=body.name,
        kind="new",
        phone=body.phone,
        password_hash=hash_password(body.password),
        exam_district=body.exam_district,
        **body.model_dump(include=set(ProfileFields.model_fields)),
    )
    return _commit_new_candidate(session, settings, candidate, id_warnings(number))


@router.post("/accounts/enrolled", response_model=SessionOut, status_code=201)
def register_enrolled_student(
    body: RegisterEnrolledIn,
    session: SessionDep,
    settings: SettingsDep,
    secret: SecretDep,
    _public: PublicRequest,
) -> SessionOut:
    """在籍注册: an existing student proves their 准考证号, ID number and name. The SMS
    code is checked first: the exam office's records answer nobody without one."""
    number = parse_id_number(body.id_number)
    sms.consume_code(
        session, settings, secret, phone=body.phone, purpose="register", code=body.sms_code
    )
    _ensure_id_free(session, number.number)
    ticket = body.ticket_number.strip()
    record = session.scalar(select(StudentRecord).where(StudentRecord.ticket_number == ticket))
    if record is None or record.id_number != number.number or record.name != body.name.strip():
        raise ApiError(
            400,
            "student_record_mismatch",
            "准考证号、身份证号与姓名不匹配，请核对后重试；如仍有问题请联系所在地州自考办。",
        )
    if session.scalar(select(Candidate.id).where(Candidate.ticket_number == ticket)) is not None:
        raise ApiError(409, "ticket_number_taken", "该准考证号已注册，请直接登录。")
    candidate = Candidate(
        id_number=number.number,
        name=record.name,
        kind="enrolled",
        ticket_number=ticket,
        phone=body.phone,
        password_hash=hash_password(body.password),
        exam_district=record.exam_district,
    )
    return _commit_new_candidate(session, settings, candidate, id_warnings(number))


@router.get("/me", response_model=CandidateOut)
def read_me(candidate: CurrentCandidate) -> CandidateOut:
    """The logged-in candidate's profile and journey."""
    return candidate_out(candidate)


@router.patch("/me", response_model=CandidateOut)
def update_me(body: ProfileUpdate, candidate: EditableProfile, session: SessionDep) -> CandidateOut:
    """Change profile fields; the ID number, name and exam district never change here."""
    for key, value in body.model_dump(exclude_unset=True).items():
        setattr(candidate, key, value)
    session.commit()
    return candidate_out(candidate)
