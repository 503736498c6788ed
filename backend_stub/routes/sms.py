from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import select

from backend_stub import abuse, guards, sms
from backend_stub.abuse import PublicRequest
from backend_stub.deps import SecretDep, SessionDep, SettingsDep, SmsSenderDep
from backend_stub.errors import ApiError
from backend_stub.models import Candidate
from backend_stub.routes.accounts import parse_id_number
from backend_stub.schemas.accounts import SmsCodeIn, SmsCodeOut

router = APIRouter(prefix="/api/sms", tags=["sms"])

HOUR = 3600


@router.post("/codes", response_model=SmsCodeOut, status_code=202)
def send_sms_code(
    body: SmsCodeIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    secret: SecretDep,
    sender: SmsSenderDep,
    _public: PublicRequest,
) -> SmsCodeOut:
    """Send a one-time code to a phone (registration or password reset). Past a couple
    of codes an hour from one client a captcha is needed; codes per client and in all
    are capped (SMS pumping)."""
    address = abuse.client_address(request)
    asked = guards.hit(session, f"sms:ip:{address}", window_s=HOUR)
    if asked > settings.SMS_PER_CLIENT_HOURLY:
        raise ApiError(
            429,
            "sms_client_limit",
            "本设备获取验证码的次数过多，请一小时后再试。",
            retry_after=HOUR,
        )
    if asked > settings.SMS_CAPTCHA_AFTER:
        abuse.require_captcha(session, secret, body.captcha_id, body.captcha_answer)
    if guards.hit(session, "sms:all", window_s=60) > settings.SMS_GLOBAL_PER_MINUTE:
        raise ApiError(503, "sms_busy", "短信发送繁忙，请稍后再试。", retry_after=60)
    out = SmsCodeOut(
        expires_in=settings.SMS_CODE_TTL_SECONDS, retry_after=settings.SMS_MIN_INTERVAL_SECONDS
    )
    if body.purpose == "reset_password":
        if not body.id_number:
            raise ApiError(422, "invalid_input", "请填写身份证号。", fields=["id_number"])
        candidate = session.scalar(
            select(Candidate).where(Candidate.id_number == parse_id_number(body.id_number).number)
        )
        out.message = "如果该手机号是此账号的注册手机号，验证码已发送，请注意查收。"
        if candidate is None or candidate.phone != body.phone:
            # The same answer either way: whether an account exists, or which phone it
            # has, is not told to whoever asks.
            return out
    sms.issue_code(
        session,
        sender,
        settings,
        secret,
        phone=body.phone,
        purpose=body.purpose,
        phone_key=abuse.phone_key(secret, body.phone),
    )
    session.commit()
    return out
