"""Tables. Schema changes go through Alembic (backend_stub/migrations)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from backend_stub.db import Base, utcnow


class Candidate(Base):
    """A candidate's account; the ID number is the account name and never changes."""

    __tablename__ = "candidate"

    id: Mapped[int] = mapped_column(primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    # "new" (新生) or "enrolled" (在籍, already holds a 准考证号).
    kind: Mapped[str] = mapped_column(String(16))
    ticket_number: Mapped[str | None] = mapped_column(String(32), unique=True)
    phone: Mapped[str] = mapped_column(String(16), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    exam_district: Mapped[str] = mapped_column(String(8))
    ethnicity: Mapped[str | None] = mapped_column(String(32))
    political_status: Mapped[str | None] = mapped_column(String(32))
    education: Mapped[str | None] = mapped_column(String(32))
    occupation: Mapped[str | None] = mapped_column(String(64))
    hukou: Mapped[str | None] = mapped_column(String(8))
    email: Mapped[str | None] = mapped_column(String(254))
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StudentRecord(Base):
    """考籍: an existing student known to the exam office, who registers as 在籍."""

    __tablename__ = "student_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_number: Mapped[str] = mapped_column(String(32), unique=True)
    id_number: Mapped[str] = mapped_column(String(18), index=True)
    name: Mapped[str] = mapped_column(String(64))
    exam_district: Mapped[str] = mapped_column(String(8))


class AuthSession(Base):
    """A login. Only the token's SHA-256 is stored."""

    __tablename__ = "auth_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidate.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class SmsCode(Base):
    """A one-time code sent to a phone for one purpose."""

    __tablename__ = "sms_code"
    __table_args__ = (Index("ix_sms_code_phone_purpose", "phone", "purpose", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(16))
    # "register" or "reset_password".
    purpose: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    guesses: Mapped[int] = mapped_column(default=0)


class SmsOutbox(Base):
    """What a real SMS gateway would deliver; the sandbox reads codes from here."""

    __tablename__ = "sms_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(16), index=True)
    body: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IdCardSubmission(Base):
    """One photo of the ID card, what the engine read from it, and what the candidate confirmed."""

    __tablename__ = "idcard_submission"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidate.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    front_key: Mapped[str] = mapped_column(String(128))
    back_key: Mapped[str | None] = mapped_column(String(128))
    portrait_key: Mapped[str | None] = mapped_column(String(128))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    confirmed_fields: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    confirmed_at: Mapped[datetime | None]


class StandardPhoto(Base):
    """An accepted standard e-photo (证件照), stored privately, matched with the ID card."""

    __tablename__ = "standard_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidate.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    profile: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(128))
    measurements: Mapped[dict[str, Any]] = mapped_column(JSON)
    face_distance: Mapped[float | None]
    # "match", or "review" when a person at the exam office must compare the faces.
    face_verdict: Mapped[str] = mapped_column(String(16))


class LiveChallenge(Base):
    """Digits issued for one live-check attempt: bound to the candidate, valid five
    minutes, usable once."""

    __tablename__ = "live_challenge"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidate.id", ondelete="CASCADE"), index=True
    )
    digits: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class LiveAttempt(Base):
    """One uploaded live-check video and its verdict (pass / fail / review)."""

    __tablename__ = "live_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidate.id", ondelete="CASCADE"), index=True
    )
    challenge_id: Mapped[int] = mapped_column(ForeignKey("live_challenge.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    video_key: Mapped[str] = mapped_column(String(128))
    verdict: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    measurements: Mapped[dict[str, Any]] = mapped_column(JSON)
