from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter
from sqlalchemy import select, update

from backend_stub import sms
from backend_stub.db import utcnow
from backend_stub.deps import CurrentAuthSession, SessionDep, SettingsDep, open_session
from backend_stub.errors import ApiError
from backend_stub.models import AuthSession, Candidate
from backend_stub.routes.accounts import candidate_out, parse_id_number
from backend_stub.schemas import LoginIn, OkOut, PasswordResetIn, SessionOut
from backend_stub.security import hash_password, verify_password
from verification.idcard import idnumber

router = APIRouter(prefix="/api/auth", tags=["auth"])

# Verified against when the account does not exist, so both paths cost the same.
_DUMMY_HASH = hash_password("not-a-real-password")


def _find_account(session: SessionDep, account: str) -> Candidate | None:
    text = idnumber.normalize(account)
    if len(text) == 18:
        return session.scalar(select(Candidate).where(Candidate.id_number == text))
    return session.scalar(select(Candidate).where(Candidate.ticket_number == account.strip()))


def _locked_error(minutes: int) -> ApiError:
    return ApiError(
        423,
        "account_locked",
        f"密码错误次数过多，账号已锁定，请{minutes}分钟后再试，或通过“找回密码”重设密码。",
    )


@router.post("/login", response_model=SessionOut)
def login(body: LoginIn, session: SessionDep, settings: SettingsDep) -> SessionOut:
    """Log in with the ID number or 准考证号 and the password."""
    candidate = _find_account(session, body.account)
    if candidate is None:
        verify_password(_DUMMY_HASH, body.password)
        raise ApiError(401, "login_failed", "账号或密码错误。")
    now = utcnow()
    if candidate.locked_until is not None and candidate.locked_until > now:
        minutes = int((candidate.locked_until - now).total_seconds() // 60) + 1
        raise _locked_error(minutes)
    if not verify_password(candidate.password_hash, body.password):
        candidate.failed_logins += 1
        left = settings.LOGIN_MAX_FAILURES - candidate.failed_logins
        if left <= 0:
            candidate.failed_logins = 0
            candidate.locked_until = now + timedelta(seconds=settings.LOGIN_LOCK_SECONDS)
            session.commit()
            raise _locked_error(settings.LOGIN_LOCK_SECONDS // 60)
        session.commit()
        raise ApiError(
            401, "login_failed", f"账号或密码错误，还可尝试{left}次。", attempts_left=left
        )
    candidate.failed_logins = 0
    candidate.locked_until = None
    token, auth = open_session(session, settings, candidate)
    session.commit()
    return SessionOut(token=token, expires_at=auth.expires_at, candidate=candidate_out(candidate))


@router.post("/logout", response_model=OkOut)
def logout(auth: CurrentAuthSession, session: SessionDep) -> OkOut:
    """Revoke the current login."""
    auth.revoked_at = utcnow()
    session.commit()
    return OkOut(message="已退出登录。")


@router.post("/password-reset", response_model=OkOut)
def reset_password(body: PasswordResetIn, session: SessionDep, settings: SettingsDep) -> OkOut:
    """Set a new password with an SMS code; every existing login is revoked."""
    number = parse_id_number(body.id_number)
    candidate = session.scalar(select(Candidate).where(Candidate.id_number == number.number))
    if candidate is None or candidate.phone != body.phone:
        raise ApiError(400, "phone_mismatch", "身份证号与注册手机号不一致。")
    sms.consume_code(
        session, settings, phone=body.phone, purpose="reset_password", code=body.sms_code
    )
    candidate.password_hash = hash_password(body.new_password)
    candidate.failed_logins = 0
    candidate.locked_until = None
    session.execute(
        update(AuthSession)
        .where(AuthSession.candidate_id == candidate.id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    session.commit()
    return OkOut(message="密码已重设，请使用新密码登录。")
