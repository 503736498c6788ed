"""资格审核: a candidate's submission for the exam office's review, its decision, and what
the candidate may still change (nothing once approved; only the rejected parts after a
rejection; nothing while a person is looking)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend_stub.db import utcnow
from backend_stub.domain import identity
from backend_stub.domain.errors import DomainError
from backend_stub.models import (
    AuditEntry,
    Candidate,
    IdCardSubmission,
    LiveAttempt,
    Material,
    Review,
    Staff,
    StandardPhoto,
)

PARTS = {
    "idcard": "身份证信息",
    "liveness": "人脸识别",
    "photo": "证件照",
    "profile": "报名信息",
    "materials": "证明材料",
}
REASONS = {
    "idcard_unclear": "身份证照片不清晰或识别信息有误",
    "face_mismatch": "人脸识别视频与身份证照片不是同一人",
    "photo_noncompliant": "证件照不符合要求",
    "profile_wrong": "报名信息填写有误",
    "materials_missing": "证明材料不齐全",
    "other": "其他原因",
}
STATUS_TEXT = {
    "none": "完成身份证识别、人脸识别和证件照后，请提交资格审核。",
    "pending": "资料已提交，考试机构审核中，审核期间资料不能修改。",
    "approved": "资格审核已通过，身份信息已锁定。",
    "rejected": "资格审核未通过，请按原因修改后重新提交。",
    "unlocked": "考试机构已解锁您的资料，请修改后重新提交审核。",
}


def latest(session: Session, candidate_id: int) -> Review | None:
    return session.scalar(
        select(Review).where(Review.candidate_id == candidate_id).order_by(Review.id.desc())
    )


def status(session: Session, candidate_id: int) -> str:
    return identity.review_status(session, candidate_id)


def check_editable(session: Session, candidate: Candidate, part: str) -> None:
    """Refuse a change to `part` (idcard, liveness, photo, profile) the review forbids."""
    review = latest(session, candidate.id)
    if review is None or review.status == "unlocked":
        return
    if review.status == "approved":
        raise DomainError(
            "identity_locked", "资格审核已通过，身份信息已锁定；如需修改，请联系考试机构。"
        )
    if review.status == "pending":
        raise DomainError("review_pending", "资料正在审核中，暂不能修改。")
    if part not in review.parts:
        redo = "、".join(PARTS[p] for p in review.parts) or "无"
        raise DomainError(
            "part_not_rejected",
            f"审核未通过的项目是：{redo}；{PARTS[part]}无需修改。",
        )


def _redone_since(session: Session, candidate_id: int, part: str, since: datetime) -> bool:
    if part == "idcard":
        query = select(IdCardSubmission.id).where(
            IdCardSubmission.candidate_id == candidate_id, IdCardSubmission.confirmed_at > since
        )
    elif part == "photo":
        query = select(StandardPhoto.id).where(
            StandardPhoto.candidate_id == candidate_id, StandardPhoto.created_at > since
        )
    elif part == "materials":
        query = select(Material.id).where(
            Material.candidate_id == candidate_id, Material.created_at > since
        )
    elif part == "liveness":
        query = select(LiveAttempt.id).where(
            LiveAttempt.candidate_id == candidate_id,
            LiveAttempt.created_at > since,
            LiveAttempt.verdict.in_(identity.LIVE_DONE),
        )
    else:  # the profile has no history: the candidate says it is fixed
        return True
    return session.scalar(query.limit(1)) is not None


def submit(session: Session, candidate: Candidate) -> Review:
    """提交审核: identity complete, nothing pending or approved, rejected parts redone."""
    missing = identity.missing_parts(candidate)
    if missing:
        raise DomainError(
            "identity_incomplete",
            f"请先完成{'、'.join(PARTS[m] for m in missing)}，再提交审核。",
            steps=missing,
        )
    review = latest(session, candidate.id)
    if review is not None and review.status in ("pending", "approved"):
        raise DomainError(f"review_{review.status}", STATUS_TEXT[review.status])
    if review is not None and review.status == "rejected" and review.decided_at:
        stale = [
            p
            for p in review.parts
            if not _redone_since(session, candidate.id, p, review.decided_at)
        ]
        if stale:
            raise DomainError(
                "rejected_parts_unchanged",
                f"请先重新完成：{'、'.join(PARTS[p] for p in stale)}，再提交审核。",
                parts=stale,
            )
    new = Review(candidate_id=candidate.id, status="pending", submitted_at=utcnow(), parts=[])
    session.add(new)
    session.commit()
    return new


def state(session: Session, candidate: Candidate) -> dict[str, Any]:
    """What the candidate's app shows about the review."""
    review = latest(session, candidate.id)
    current = review.status if review else "none"
    reason = None
    if review is not None and review.status == "rejected":
        reason = REASONS.get(review.reason_code or "", "")
        if review.reason_text:
            reason = f"{reason}：{review.reason_text}" if reason else review.reason_text
    message = STATUS_TEXT[current]
    complete = identity.identity_complete(candidate)
    if current == "none" and complete:
        message = "身份证识别、人脸识别和证件照已完成，请提交资格审核。"
    return {
        "status": current,
        "message": message,
        # The candidate's own steps are done: 提交资格审核 can be offered.
        "identity_complete": complete,
        "reason": reason,
        "parts": list(review.parts) if review and review.status == "rejected" else [],
        "decided_at": review.decided_at if review else None,
    }


def audit(
    session: Session, staff: Staff, action: str, candidate_id: int | None, detail: str = ""
) -> None:
    session.add(
        AuditEntry(staff_id=staff.id, candidate_id=candidate_id, action=action, detail=detail)
    )


def materials_approved(session: Session, candidate_id: int, major_code: str) -> bool:
    """Materials for this special major were part of a submission the office approved."""
    review = latest(session, candidate_id)
    if review is None or review.status != "approved":
        return False
    return (
        session.scalar(
            select(Material.id)
            .where(
                Material.candidate_id == candidate_id,
                Material.major_code == major_code,
                Material.created_at <= review.submitted_at,
            )
            .limit(1)
        )
        is not None
    )
