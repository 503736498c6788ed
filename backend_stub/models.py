"""Tables. Schema changes go through Alembic (backend_stub/migrations).

One module on purpose: every table is a short class, and Alembic's autogenerate (and
the test that the migrations build exactly these tables) reads one metadata."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint, text
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
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Failed logins are counted in LoginGuard (per account name, atomically).
    # Bytes of private media stored for this candidate: moved only by a conditional
    # UPDATE against the quota (backend_stub.quota), so parallel uploads cannot overrun it.
    media_bytes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # Verification jobs queued or running for this candidate: taken and given back only by
    # conditional UPDATEs (backend_stub.jobs), so parallel uploads cannot pass the limit.
    jobs_in_flight: Mapped[int] = mapped_column(default=0, server_default="0")


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
    crop_key: Mapped[str | None] = mapped_column(String(128))  # the card, straightened
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
    # Uploads refused as unusable files (they cost no attempt); past a few the digits
    # are spent, so one challenge cannot be hammered with crafted files.
    bad_uploads: Mapped[int] = mapped_column(default=0, server_default="0")


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


class ExamSession(Base):
    """An exam sitting (e.g. 2027年4月) with its registration window."""

    __tablename__ = "exam_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    # When 准考证 can be printed.
    tickets_from: Mapped[datetime]


class ExamSite(Base):
    """An exam site of a session, with its seats: `reserved` only moves by one in a
    conditional UPDATE, so concurrent orders can never take more than `capacity`."""

    __tablename__ = "exam_site"
    __table_args__ = (UniqueConstraint("session_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"), index=True)
    code: Mapped[str] = mapped_column(String(16))
    district: Mapped[str] = mapped_column(String(8))
    county: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(128))
    capacity: Mapped[int]
    reserved: Mapped[int] = mapped_column(default=0)
    # Seat numbers handed out so far (never reused, also after a cancellation).
    seats_numbered: Mapped[int] = mapped_column(default=0)


class Major(Base):
    """专业 of a session's plan."""

    __tablename__ = "major"
    __table_args__ = (UniqueConstraint("session_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"), index=True)
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))
    school: Mapped[str] = mapped_column(String(64))
    standard: Mapped[str] = mapped_column(String(500))
    # 监所管理, 公安管理, 护理学: only with approved materials.
    special: Mapped[bool] = mapped_column(default=False)


class Course(Base):
    """A course sat in this session: when, what it costs, and for a practical
    component the theory course that must be passed first."""

    __tablename__ = "course"
    __table_args__ = (UniqueConstraint("session_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"), index=True)
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    # "theory" or "practical".
    kind: Mapped[str] = mapped_column(String(16))
    theory_code: Mapped[str | None] = mapped_column(String(16))
    exam_date: Mapped[date]
    # "am" or "pm".
    slot: Mapped[str] = mapped_column(String(2))
    fee_fen: Mapped[int]


class MajorCourse(Base):
    """Which courses a major offers."""

    __tablename__ = "major_course"

    major_id: Mapped[int] = mapped_column(
        ForeignKey("major.id", ondelete="CASCADE"), primary_key=True
    )
    course_id: Mapped[int] = mapped_column(
        ForeignKey("course.id", ondelete="CASCADE"), primary_key=True
    )


class PassedCourse(Base):
    """A course the candidate has already passed (from the 考籍 records)."""

    __tablename__ = "passed_course"

    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidate.id", ondelete="CASCADE"), primary_key=True
    )
    course_code: Mapped[str] = mapped_column(String(16), primary_key=True)


class Enrollment(Base):
    """报考: the candidate's choice of site, major and courses for one session; it can
    change until an order exists."""

    __tablename__ = "enrollment"
    __table_args__ = (UniqueConstraint("candidate_id", "session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("exam_site.id"))
    major_id: Mapped[int] = mapped_column(ForeignKey("major.id"))
    course_codes: Mapped[list[str]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Order(Base):
    """An order for an enrollment. Money in fen. `active_key` is set while the order is
    pending or paid, and unique: one live order per candidate and session."""

    __tablename__ = "exam_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    out_trade_no: Mapped[str] = mapped_column(String(32), unique=True)
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidate.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("exam_site.id"))
    major_id: Mapped[int] = mapped_column(ForeignKey("major.id"))
    # [{"code", "name", "fee_fen", "exam_date", "slot"} | {"code": "card_fee", ...}]
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    total_fen: Mapped[int]
    # pending → paid | cancelled | lapsed
    status: Mapped[str] = mapped_column(String(16), index=True)
    active_key: Mapped[str | None] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    closed_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]
    transaction_id: Mapped[str | None] = mapped_column(String(64))
    seat_number: Mapped[int | None]
    # Written once, when the order is paid; never changed after.
    receipt: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class PaymentCode(Base):
    """A QR code issued for an order: valid a few minutes; a new one closes the old."""

    __tablename__ = "payment_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("exam_order.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(16))
    code_url: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class PaymentNotice(Base):
    """Every payment notification received, verified or not, and what it did."""

    __tablename__ = "payment_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    # The provider's own notification id; NULL when the notice could not be verified.
    notify_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    out_trade_no: Mapped[str | None] = mapped_column(String(32), index=True)
    transaction_id: Mapped[str | None] = mapped_column(String(64))
    amount_fen: Mapped[int | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    # applied, duplicate, refund_due (money for an order that is no longer payable),
    # rejected (bad signature, stale or replayed).
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(String(200), default="")


class SandboxTrade(Base):
    """The sandbox provider's own ledger, as a real provider keeps it on its side. Like a
    real provider it takes at most one payment per `out_trade_no` (a partial unique
    index), however many codes were issued for it."""

    __tablename__ = "sandbox_trade"
    __table_args__ = (
        Index(
            "ux_sandbox_trade_paid_once",
            "out_trade_no",
            unique=True,
            sqlite_where=text("status = 'TRADE_SUCCESS'"),
            postgresql_where=text("status = 'TRADE_SUCCESS'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    out_trade_no: Mapped[str] = mapped_column(String(32), index=True)
    subject: Mapped[str] = mapped_column(String(128))
    amount_fen: Mapped[int]
    # WAIT_BUYER_PAY → TRADE_SUCCESS | TRADE_CLOSED
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    scanned_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]
    transaction_id: Mapped[str | None] = mapped_column(String(64), unique=True)


class DocumentLink(Base):
    """A one-time download link for a PDF of a paid order (the app opens it in the
    browser; the bearer token never goes into a URL)."""

    __tablename__ = "document_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("exam_order.id", ondelete="CASCADE"))
    # "receipt" (报考回执单) or "ticket" (准考证).
    kind: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class Staff(Base):
    """An exam-office account (separate from candidates): a reviewer for some districts,
    or an administrator (all districts, may unlock). Created by the command-line tool."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    # "reviewer" or "admin".
    role: Mapped[str] = mapped_column(String(16))
    districts: Mapped[list[str]] = mapped_column(JSON)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StaffSession(Base):
    """A console login (an HttpOnly cookie); only the token's SHA-256 is stored."""

    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf: Mapped[str] = mapped_column(String(64))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Review(Base):
    """One submission for 资格审核 and its decision. The latest row is the candidate's
    state: pending → approved (identity locked) | rejected (the listed parts can be
    redone and resubmitted); an administrator's unlock turns approved into unlocked."""

    __tablename__ = "review"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidate.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), index=True)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    reason_code: Mapped[str | None] = mapped_column(String(32))
    reason_text: Mapped[str] = mapped_column(String(500), default="")
    # Parts to redo after a rejection: idcard, liveness, photo, profile.
    parts: Mapped[list[str]] = mapped_column(JSON, default=list)


class AuditEntry(Base):
    """Who looked at or decided on a candidate's evidence, and when."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("candidate.id"), index=True)
    # view, view_media, approve, reject, on_site, unlock, login, denied
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(String(500), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Material(Base):
    """A proof document for a special major (监所管理, 公安管理, 护理学): PDF or JPEG,
    stored privately, reviewed with the rest of the candidate's submission."""

    __tablename__ = "material"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidate.id", ondelete="CASCADE"), index=True
    )
    major_code: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(128))
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LoginGuard(Base):
    """Consecutive failed logins for one account name (a candidate's, a staff member's, or
    one that does not exist: all behave alike, so the lock-out reveals nothing). Keyed by
    an HMAC of the name; `failures` counts guesses in flight too (backend_stub.guards).
    The same rows serve as gates that open once per interval (`guards.pass_gate`: one
    SMS code per phone a minute), `locked_until` being when they open next."""

    __tablename__ = "login_guard"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RateCounter(Base):
    """Requests counted per key (a client address, a phone, everyone) in fixed windows;
    incremented by one atomic upsert."""

    __tablename__ = "rate_counter"

    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(default=0)


class Captcha(Base):
    """An image captcha: its answer's HMAC, valid a few minutes, checked once."""

    __tablename__ = "captcha"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    answer_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]


class VerificationJob(Base):
    """One run of the verification engine on an upload (backend_stub.jobs): the durable
    record the queue's message points at. The inputs are files in the media store until
    the job ends; `outcome` is the answer the upload's route would have given."""

    __tablename__ = "verification_job"
    __table_args__ = (Index("ix_verification_job_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidate.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    # queued → running → done (an answer, possibly a refusal) or failed (no answer).
    status: Mapped[str] = mapped_column(String(16), default="queued")
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    enqueued_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    # A running job whose lease has passed lost its worker: it is queued again.
    lease_until: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class VerificationWorker(Base):
    """A worker process that has loaded the models: /healthz counts the ones seen lately."""

    __tablename__ = "verification_worker"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    ready_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
