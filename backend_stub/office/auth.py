"""Console logins: the staff cookie, lock-outs alike for unknown names, CSRF, and who may
see which candidate."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from backend_stub import guards
from backend_stub.abuse import PublicRequest
from backend_stub.db import utcnow
from backend_stub.deps import SecretDep, SessionDep, SettingsDep
from backend_stub.domain import review
from backend_stub.errors import ApiError
from backend_stub.models import Candidate, Staff, StaffSession
from backend_stub.office.render import page
from backend_stub.security import dummy_hash, keyed_digest, token_digest, verify_password

router = APIRouter(prefix="/office", include_in_schema=False)

COOKIE = "zikao_office"
SESSION_HOURS = 10
LOGIN_ERRORS = {
    "1": "用户名或密码错误。",
    "locked": "登录失败次数过多，请15分钟后再试。",
}


class LoginRequired(Exception):
    """No valid console login: the page redirects to the login form."""


def _login(request: Request, session: SessionDep) -> tuple[Staff, StaffSession]:
    token = request.cookies.get(COOKIE)
    if not token:
        raise LoginRequired
    login = session.scalar(
        select(StaffSession).where(StaffSession.token_hash == token_digest(token))
    )
    if login is None or login.revoked_at is not None or login.expires_at <= utcnow():
        raise LoginRequired
    staff = session.get(Staff, login.staff_id)
    if staff is None:
        raise LoginRequired
    return staff, login


StaffLogin = Annotated[tuple[Staff, StaffSession], Depends(_login)]


def check_csrf(login: StaffSession, csrf: str) -> None:
    if not secrets.compare_digest(login.csrf, csrf):
        raise ApiError(403, "csrf", "页面已过期，请刷新后重试。")


def visible(session: SessionDep, staff: Staff, candidate_id: int) -> Candidate:
    """The candidate, if this staff member may see them (admins: all; reviewers: their
    districts). Anything else is not found — and recorded."""
    candidate = session.get(Candidate, candidate_id)
    if candidate is None or (
        staff.role != "admin" and candidate.exam_district not in staff.districts
    ):
        review.audit(session, staff, "denied", None, f"candidate {candidate_id}")
        session.commit()
        raise ApiError(404, "not_found", "没有这位考生，或不在您负责的地区。")
    return candidate


@router.get("/login", response_class=HTMLResponse)
def login_form(error: str = "") -> HTMLResponse:
    """The console's login form."""
    return page("login.html", title="考试机构登录", error=LOGIN_ERRORS.get(error, ""))


@router.post("/login")
def log_in(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=128)],
    session: SessionDep,
    settings: SettingsDep,
    secret: SecretDep,
    _public: PublicRequest,
) -> Response:
    """Check the password; the login lives in an HttpOnly, same-site cookie (Secure over
    HTTPS). Lock-out per username, known or not, and the same time either way."""
    name = username.strip()
    staff = session.scalar(select(Staff).where(Staff.username == name))
    key = f"s:{staff.id}" if staff else "sn:" + keyed_digest(secret, "staff", name)[:64]
    guard = guards.LoginGuards(
        max_failures=settings.LOGIN_MAX_FAILURES, lock_seconds=settings.LOGIN_LOCK_SECONDS
    )
    if guard.reserve(session, key) is not None:
        return RedirectResponse("/office/login?error=locked", status_code=303)
    stored = staff.password_hash if staff is not None else dummy_hash()
    if not verify_password(stored, password) or staff is None:
        locked = guard.failed(session, key).locked_for
        return RedirectResponse(
            f"/office/login?error={'locked' if locked else '1'}", status_code=303
        )
    guard.succeeded(session, key)
    token = secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            token_hash=token_digest(token),
            csrf=secrets.token_urlsafe(24),
            staff_id=staff.id,
            expires_at=utcnow() + timedelta(hours=SESSION_HOURS),
        )
    )
    review.audit(session, staff, "login", None)
    session.commit()
    response = RedirectResponse("/office", status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        max_age=SESSION_HOURS * 3600,
        secure=request.url.scheme == "https" or settings.ENVIRONMENT == "production",
    )
    return response


@router.post("/logout")
def log_out(login: StaffLogin, session: SessionDep) -> Response:
    """End the console login."""
    login[1].revoked_at = utcnow()
    session.commit()
    response = RedirectResponse("/office/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response
