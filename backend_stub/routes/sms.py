from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from backend_stub import sms
from backend_stub.deps import SessionDep, SettingsDep, SmsSenderDep
from backend_stub.errors import ApiError
from backend_stub.models import Candidate
from backend_stub.routes.accounts import parse_id_number
from backend_stub.schemas import SmsCodeIn, SmsCodeOut

router = APIRouter(prefix="/api/sms", tags=["sms"])


@router.post("/codes", response_model=SmsCodeOut, status_code=202)
def send_sms_code(
    body: SmsCodeIn, session: SessionDep, settings: SettingsDep, sender: SmsSenderDep
) -> SmsCodeOut:
    """Send a one-time code to a phone (registration or password reset)."""
    if body.purpose == "reset_password":
        if not body.id_number:
            raise ApiError(422, "invalid_input", "请填写身份证号。", fields=["id_number"])
        candidate = session.scalar(
            select(Candidate).where(Candidate.id_number == parse_id_number(body.id_number).number)
        )
        if candidate is None or candidate.phone != body.phone:
            raise ApiError(400, "phone_mismatch", "身份证号与注册手机号不一致。")
    sms.issue_code(session, sender, settings, phone=body.phone, purpose=body.purpose)
    session.commit()
    return SmsCodeOut(
        expires_in=settings.SMS_CODE_TTL_SECONDS, retry_after=settings.SMS_MIN_INTERVAL_SECONDS
    )
