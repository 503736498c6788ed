"""The candidate's journey: which step is done, which comes next."""

from __future__ import annotations

from sqlalchemy.orm import object_session

from backend_stub.domain import review
from backend_stub.domain.identity import completed, live_check_waits, review_status
from backend_stub.models import Candidate
from backend_stub.schemas.common import JourneyStep

__all__ = ["STEPS", "completed", "journey"]

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


def journey(candidate: Candidate) -> list[JourneyStep]:
    """Step statuses for `candidate`: "done", "waiting" (the candidate's part is done, a
    person at the exam office decides), "current" or "todo"."""
    done = completed(candidate)
    steps: list[JourneyStep] = []
    current_given = False
    for key, title in STEPS:
        if key == "liveness" and key in done and live_check_waits(candidate):
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
            detail = review.STATUS_TEXT[review_status(session, candidate.id)]
        steps.append(JourneyStep(key=key, title=title, status=status, detail=detail))
    return steps
