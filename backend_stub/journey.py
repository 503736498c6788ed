"""The candidate's journey: which step is done, which comes next."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import object_session

from backend_stub.models import (
    Candidate,
    DocumentLink,
    IdCardSubmission,
    LiveAttempt,
    Order,
    StandardPhoto,
)
from backend_stub.schemas import JourneyStep

STEPS: tuple[tuple[str, str], ...] = (
    ("account", "账号注册"),
    ("idcard", "身份证识别"),
    ("liveness", "人脸识别"),
    ("photo", "证件照"),
    ("review", "资格审核"),
    ("enrollment", "报考"),
    ("payment", "缴费"),
    ("documents", "打印准考证"),
)

_DETAILS = {
    "idcard": "请拍摄身份证人像面，系统将自动识别并填写信息。",
    "liveness": "请录制一段朗读数字的短视频，完成人脸识别。",
    "review": "请提交资格审核，考试机构审核通过后即可报考。",
    "enrollment": "请选择考点、专业和课程，确认后生成订单。",
    "payment": "请在24小时内扫码缴费，逾期订单失效。",
    "documents": "可下载报考回执单和准考证。",
}


def completed(candidate: Candidate) -> set[str]:
    """The steps this candidate has finished."""
    done = {"account"}
    session = object_session(candidate)
    if session is not None and session.scalar(
        select(IdCardSubmission.id)
        .where(
            IdCardSubmission.candidate_id == candidate.id,
            IdCardSubmission.confirmed_at.is_not(None),
        )
        .limit(1)
    ):
        done.add("idcard")
    # The candidate's part is done once a clip passed or waits for a person's decision.
    if session is not None and session.scalar(
        select(LiveAttempt.id)
        .where(
            LiveAttempt.candidate_id == candidate.id,
            LiveAttempt.verdict.in_(("pass", "review")),
        )
        .limit(1)
    ):
        done.add("liveness")
    if session is not None and session.scalar(
        select(StandardPhoto.id).where(StandardPhoto.candidate_id == candidate.id).limit(1)
    ):
        done.add("photo")
    if session is not None:
        from backend_stub.review import status as review_status

        if review_status(session, candidate.id) == "approved":
            done.add("review")
        statuses = set(
            session.scalars(select(Order.status).where(Order.candidate_id == candidate.id))
        )
        if statuses & {"pending", "paid"}:
            done.add("enrollment")
        if "paid" in statuses:
            done.add("payment")
            if session.scalar(
                select(DocumentLink.id)
                .join(Order, Order.id == DocumentLink.order_id)
                .where(Order.candidate_id == candidate.id, DocumentLink.used_at.is_not(None))
                .limit(1)
            ):
                done.add("documents")
    return done


def _liveness_waits(candidate: Candidate) -> bool:
    """The live check waits for a person: a clip in review, none passed."""
    session = object_session(candidate)
    if session is None:
        return False
    verdicts = set(
        session.scalars(select(LiveAttempt.verdict).where(LiveAttempt.candidate_id == candidate.id))
    )
    return "review" in verdicts and "pass" not in verdicts


def journey(candidate: Candidate) -> list[JourneyStep]:
    """Step statuses for `candidate`: "done", "waiting" (the candidate's part is done, a
    person at the exam office decides), "current" or "todo"."""
    done = completed(candidate)
    steps: list[JourneyStep] = []
    current_given = False
    for key, title in STEPS:
        if key == "liveness" and key in done and _liveness_waits(candidate):
            steps.append(
                JourneyStep(
                    key=key,
                    title=title,
                    status="waiting",
                    detail="视频已提交，等待考试机构人工确认。",
                )
            )
            continue
        if key in done:
            status = "done"
        elif not current_given:
            status, current_given = "current", True
        else:
            status = "todo"
        detail = _DETAILS.get(key, "") if status == "current" else ""
        session = object_session(candidate)
        if key == "review" and key not in done and session is not None:
            from backend_stub import review

            detail = review.STATUS_TEXT[review.status(session, candidate.id)]
        steps.append(JourneyStep(key=key, title=title, status=status, detail=detail))
    return steps
