from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import select, update

from backend_stub import abuse, guards, sms
from backend_stub.abuse import PublicRequest
from backend_stub.config import Settings
from backend_stub.db import utcnow
from backend_stub.deps import CurrentAuthSession, SecretDep, SessionDep, SettingsDep, open_session
from backend_stub.errors import ApiError
from backend_stub.models import AuthSession, Candidate
from backend_stub.routes.accounts import candidate_out, parse_id_number
from backend_stub.schemas.accounts import LoginIn, PasswordResetIn, SessionOut
from backend_stub.schemas.common import OkOut
from backend_stub.security import (
    dummy_hash,
    hash_password,
    keyed_digest,
    needs_rehash,
    verify_password,
)
from rules import idnumber

router = APIRouter(prefix="/api/auth", tags=["auth"])


def _normalized(account: str) -> str:
    text = idnumber.normalize(account)
    return text if len(text) == 18 else account.strip()


def _find_account(session: SessionDep, account: str) -> Candidate | None:
    text = _normalized(account)
    if len(text) == 18:
        return session.scalar(select(Candidate).where(Candidate.id_number == text))
    return session.scalar(select(Candidate).where(Candidate.ticket_number == text))


def candidate_guard_key(candidate_id: int) -> str:
    return f"c:{candidate_id}"


def _guard_key(secret: bytes, candidate: Candidate | None, account: str) -> str:
    """One guard per account (whether named by ID number or 准考证号); a name that is no
    account gets its own, so both behave alike."""
    if candidate is not None:
        return candidate_guard_key(candidate.id)
    return "n:" + keyed_digest(secret, "login", _normalized(account))[:64]


def login_guards(settings: Settings) -> guards.LoginGuards:
    return guards.LoginGuards(
        max_failures=settings.LOGIN_MAX_FAILURES, lock_seconds=settings.LOGIN_LOCK_SECONDS
    )


def _locked_error(seconds: int) -> ApiError:
    minutes = max(1, -(-seconds // 60))
    return ApiError(
        423,
        "account_locked",
        f"密码错误次数过多，账号已锁定，请{minutes}分钟后再试，或通过“找回密码”重设密码。",
    )


@router.post("/login", response_model=SessionOut)
def login(
    body: LoginIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    secret: SecretDep,
    _public: PublicRequest,
) -> SessionOut:
    """Log in with the ID number or 准考证号 and the password. Answers are the same for
    an account that does not exist; a captcha is asked for after failures."""
    address = abuse.client_address(request)
    candidate = _find_account(session, body.account)
    key = _guard_key(secret, candidate, body.account)
    guard = login_guards(settings)
    if guard.failures(session, key) >= settings.LOGIN_CAPTCHA_AFTER or abuse.client_is_risky(
        session, settings, address
    ):
        abuse.require_captcha(session, secret, body.captcha_id, body.captcha_answer)
    locked = guard.reserve(session, key)
    if locked is not None:
        raise _locked_error(locked.locked_for)
    # Off the account's row: the hash is checked with no transaction open.
    stored = candidate.password_hash if candidate is not None else dummy_hash()
    if not verify_password(stored, body.password) or candidate is None:
        guards.hit(session, abuse.login_failures_key(address), window_s=settings.LOGIN_LOCK_SECONDS)
        verdict = guard.failed(session, key)
        if verdict.locked_for:
            raise _locked_error(verdict.locked_for)
        raise ApiError(
            401,
            "login_failed",
            f"账号或密码错误，还可尝试{verdict.left}次。",
            attempts_left=verdict.left,
        )
    guard.succeeded(session, key)
    if needs_rehash(candidate.password_hash):
        candidate.password_hash = hash_password(body.password)
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
def reset_password(
    body: PasswordResetIn,
    session: SessionDep,
    settings: SettingsDep,
    secret: SecretDep,
    _public: PublicRequest,
) -> OkOut:
    """Set a new password with an SMS code; every existing login is revoked and the
    lock-out lifted. The code is checked first: without it nothing about the account
    is told."""
    number = parse_id_number(body.id_number)
    sms.consume_code(
        session, settings, secret, phone=body.phone, purpose="reset_password", code=body.sms_code
    )
    candidate = session.scalar(select(Candidate).where(Candidate.id_number == number.number))
    if candidate is None or candidate.phone != body.phone:
        raise ApiError(400, "phone_mismatch", "身份证号与注册手机号不一致。")
    candidate.password_hash = hash_password(body.new_password)
    login_guards(settings).clear(session, candidate_guard_key(candidate.id))
    session.execute(
        update(AuthSession)
        .where(AuthSession.candidate_id == candidate.id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    session.commit()
    return OkOut(message="密码已重设，请使用新密码登录。")
