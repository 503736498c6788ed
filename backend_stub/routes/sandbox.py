"""Sandbox-only endpoints for testers. Mounted only when SMS_SANDBOX is on."""

from __future__ import annotations

import re

from fastapi import APIRouter
from sqlalchemy import select

from backend_stub.deps import SessionDep
from backend_stub.errors import ApiError
from backend_stub.models import SmsOutbox
from backend_stub.schemas.accounts import SandboxSmsIn, SandboxSmsOut

router = APIRouter(prefix="/api/sandbox", tags=["sandbox (testing only)"])


@router.post("/sms/latest", response_model=SandboxSmsOut)
def read_latest_sms(body: SandboxSmsIn, session: SessionDep) -> SandboxSmsOut:
    """SANDBOX: the latest message sent to a phone, as a gateway would deliver it."""
    message = session.scalar(
        select(SmsOutbox)
        .where(SmsOutbox.phone == body.phone)
        .order_by(SmsOutbox.id.desc())
        .limit(1)
    )
    if message is None:
        raise ApiError(404, "sms_none", "该手机号没有收到短信。")
    found = re.search(r"验证码为(\d{6})", message.body)
    return SandboxSmsOut(
        phone=message.phone,
        body=message.body,
        code=found and found.group(1),
        sent_at=message.created_at,
    )
