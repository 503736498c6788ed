"""The candidate's journey: which step is done, which comes next."""

from __future__ import annotations

from backend_stub.models import Candidate
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
}


def journey(candidate: Candidate) -> list[JourneyStep]:
    """Step statuses for `candidate`: "done", "current" or "todo"."""
    done = {"account"}
    steps: list[JourneyStep] = []
    current_given = False
    for key, title in STEPS:
        if key in done:
            status = "done"
        elif not current_given:
            status, current_given = "current", True
        else:
            status = "todo"
        steps.append(
            JourneyStep(
                key=key,
                title=title,
                status=status,
                detail=_DETAILS.get(key, "") if status == "current" else "",
            )
        )
    return steps
