"""The console's decisions: approve, reject with a reason and the parts to redo, record an
on-site confirmation, unlock. What makes a decision possible is checked first; then it is
asked for once more on a page of its own (the console runs no scripts); then it is
recorded and audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from backend_stub.db import utcnow
from backend_stub.deps import SessionDep, SettingsDep
from backend_stub.domain import review
from backend_stub.domain.liveness import status as liveness_status
from backend_stub.errors import ApiError
from backend_stub.models import Candidate, LiveAttempt, LiveChallenge, Staff, StaffSession
from backend_stub.office.auth import StaffLogin, check_csrf, visible
from backend_stub.office.render import page
from rules.display import masked_id

router = APIRouter(prefix="/office", include_in_schema=False)


@router.post("/candidates/{candidate_id}/decision")
def decide(
    candidate_id: int,
    login: StaffLogin,
    session: SessionDep,
    settings: SettingsDep,
    action: Annotated[str, Form()],
    csrf: Annotated[str, Form()],
    reason_code: Annotated[str, Form()] = "",
    reason_text: Annotated[str, Form(max_length=500)] = "",
    parts: Annotated[list[str] | None, Form()] = None,
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """Approve, reject (reason + parts to redo), or record an on-site confirmation. Each
    decision is asked for once more on a page of its own (the console runs no scripts)."""
    staff, staff_login = login
    check_csrf(staff_login, csrf)
    candidate = visible(session, staff, candidate_id)
    current = review.latest(session, candidate.id)
    chosen = [p for p in (parts or []) if p in review.PARTS]
    # What makes the decision possible is checked before it is asked for again.
    if action == "on_site":
        # Only for a candidate the app sent on site: three failed live checks, none
        # passed or waiting for review.
        if liveness_status(session, candidate, settings.LIVE_MAX_FAILURES) != "on_site":
            raise ApiError(
                409, "on_site_not_due", "该考生未达到现场确认的条件（在线人脸识别3次未通过）。"
            )
    elif action in ("approve", "reject"):
        if current is None or current.status != "pending":
            raise ApiError(409, "not_pending", "该考生没有待审核的提交。")
        if action == "reject" and (reason_code not in review.REASONS or not chosen):
            raise ApiError(422, "reason_required", "请选择不通过的原因和需要重新提交的项目。")
    else:
        raise ApiError(422, "unknown_action", "未知的操作。")
    if confirm != "yes":
        fields = {"action": action, "reason_code": reason_code, "reason_text": reason_text}
        return _confirm_page(
            staff,
            staff_login,
            candidate,
            f"/office/candidates/{candidate.id}/decision",
            [*fields.items(), *(("parts", p) for p in chosen)],
            _question(action, reason_code, chosen),
        )
    if action == "on_site":
        _confirm_on_site(session, candidate)
        review.audit(session, staff, "on_site", candidate.id)
        session.commit()
        return RedirectResponse(f"/office/candidates/{candidate.id}", status_code=303)
    assert current is not None
    detail = ""
    if action == "approve":
        current.status = "approved"
    else:
        current.status, current.reason_code = "rejected", reason_code
        current.reason_text, current.parts = reason_text.strip(), chosen
        detail = f"{reason_code}: {','.join(chosen)}"
    current.decided_at, current.staff_id = utcnow(), staff.id
    review.audit(session, staff, action, candidate.id, detail)
    session.commit()
    return RedirectResponse(f"/office/candidates/{candidate.id}", status_code=303)


QUESTIONS = {
    "approve": "确认审核通过？通过后考生的身份信息将被锁定，考生即可报考。",
    "reject": "确认审核不通过？",
    "on_site": "确认该考生已持身份证到报名点现场核验本人身份？人脸识别将记为通过。",
    "unlock": "确认解锁该考生已审核通过的资料？考生修改后须重新提交审核。",
}


def _question(action: str, reason_code: str, parts: list[str]) -> str:
    question = QUESTIONS.get(action, "确认执行该操作？")
    if action == "reject":
        redo = "、".join(review.PARTS.get(p, p) for p in parts) or "（未选择）"
        question += f"原因：{review.REASONS.get(reason_code, '（未选择）')}；需重新提交：{redo}。"
    return question


def _confirm_page(
    staff: Staff,
    staff_login: StaffSession,
    candidate: Candidate,
    action_url: str,
    fields: list[tuple[str, str]],
    question: str,
) -> HTMLResponse:
    """The decision once more, with 确认 and 返回: a slip of the mouse decides nothing."""
    return page(
        "confirm.html",
        title="请确认",
        staff=staff,
        candidate=candidate,
        masked_id=masked_id(candidate.id_number),
        question=question,
        action_url=action_url,
        fields=fields,
        csrf=staff_login.csrf,
    )


def _confirm_on_site(session: SessionDep, candidate: Candidate) -> None:
    """现场确认完成: the candidate was checked in person; the live check counts as passed."""
    now = utcnow()
    challenge = LiveChallenge(
        candidate_id=candidate.id, digits="", created_at=now, expires_at=now, used_at=now
    )
    session.add(challenge)
    session.flush()
    session.add(
        LiveAttempt(
            candidate_id=candidate.id,
            challenge_id=challenge.id,
            video_key="",
            verdict="pass",
            reasons=[{"code": "on_site", "message": "已到报名点现场确认身份。"}],
            measurements={"on_site": True},
        )
    )


@router.post("/candidates/{candidate_id}/unlock")
def unlock(
    candidate_id: int,
    login: StaffLogin,
    session: SessionDep,
    reason: Annotated[str, Form(min_length=2, max_length=500)],
    csrf: Annotated[str, Form()],
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """An administrator reopens an approved candidate's data, with a recorded reason
    (asked for once more, like every decision)."""
    staff, staff_login = login
    check_csrf(staff_login, csrf)
    if staff.role != "admin":
        review.audit(session, staff, "denied", candidate_id, "unlock")
        session.commit()
        raise ApiError(403, "admin_only", "只有管理员可以解锁。")
    candidate = visible(session, staff, candidate_id)
    current = review.latest(session, candidate.id)
    if current is None or current.status != "approved":
        raise ApiError(409, "not_approved", "只能解锁已审核通过的资料。")
    if confirm != "yes":
        return _confirm_page(
            staff,
            staff_login,
            candidate,
            f"/office/candidates/{candidate.id}/unlock",
            [("reason", reason)],
            QUESTIONS["unlock"] + f"原因：{reason.strip()}",
        )
    current.status = "unlocked"
    review.audit(session, staff, "unlock", candidate.id, reason.strip())
    session.commit()
    return RedirectResponse(f"/office/candidates/{candidate.id}", status_code=303)
