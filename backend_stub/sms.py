"""SMS sending and one-time codes.

A `SmsSender` delivers a message; the default `OutboxSender` writes it to the outbox
table, which is what a real gateway would deliver and what the sandbox reads.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend_stub.config import Settings
from backend_stub.db import utcnow
from backend_stub.errors import ApiError
from backend_stub.models import SmsCode, SmsOutbox
from backend_stub.security import new_sms_code, same_digest, sms_code_digest

PURPOSES = {"register": "注册", "reset_password": "找回密码"}


class SmsSender(Protocol):
    def send(self, session: Session, *, phone: str, body: str) -> None: ...


class OutboxSender:
    """Writes messages to the outbox table in the caller's transaction."""

    def send(self, session: Session, *, phone: str, body: str) -> None:
        session.add(SmsOutbox(phone=phone, body=body))


def issue_code(
    session: Session, sender: SmsSender, settings: Settings, *, phone: str, purpose: str
) -> SmsCode:
    """Create and send a code, within the per-phone rate limits."""
    now = utcnow()
    last = session.scalar(select(func.max(SmsCode.created_at)).where(SmsCode.phone == phone))
    if last is not None:
        wait = settings.SMS_MIN_INTERVAL_SECONDS - (now - last).total_seconds()
        if wait > 0:
            raise ApiError(
                429,
                "sms_too_frequent",
                f"验证码发送过于频繁，请{int(wait) + 1}秒后再试。",
                retry_after=int(wait) + 1,
            )
    sent_today = session.scalar(
        select(func.count(SmsCode.id)).where(
            SmsCode.phone == phone, SmsCode.created_at >= now - timedelta(days=1)
        )
    )
    if (sent_today or 0) >= settings.SMS_DAILY_LIMIT:
        raise ApiError(429, "sms_daily_limit", "该手机号今日获取验证码次数已达上限，请明天再试。")
    code = new_sms_code()
    record = SmsCode(
        phone=phone,
        purpose=purpose,
        code_hash=sms_code_digest(phone, code),
        created_at=now,
        expires_at=now + timedelta(seconds=settings.SMS_CODE_TTL_SECONDS),
    )
    session.add(record)
    minutes = settings.SMS_CODE_TTL_SECONDS // 60
    sender.send(
        session,
        phone=phone,
        body=f"【自考报名】您的{PURPOSES[purpose]}验证码为{code}，{minutes}分钟内有效，请勿泄露给他人。",
    )
    return record


def consume_code(
    session: Session, settings: Settings, *, phone: str, purpose: str, code: str
) -> None:
    """Accept the latest unused code for this phone and purpose once, or raise."""
    now = utcnow()
    record = session.scalar(
        select(SmsCode)
        .where(SmsCode.phone == phone, SmsCode.purpose == purpose, SmsCode.used_at.is_(None))
        .order_by(SmsCode.created_at.desc(), SmsCode.id.desc())
        .limit(1)
        .with_for_update()
    )
    if record is None:
        raise ApiError(400, "sms_code_missing", "请先获取短信验证码。")
    if record.expires_at <= now:
        raise ApiError(400, "sms_code_expired", "短信验证码已过期，请重新获取。")
    if record.guesses >= settings.SMS_MAX_GUESSES:
        raise ApiError(400, "sms_code_exhausted", "验证码错误次数过多，请重新获取。")
    if not same_digest(record.code_hash, sms_code_digest(phone, code.strip())):
        record.guesses += 1
        session.commit()
        left = settings.SMS_MAX_GUESSES - record.guesses
        if left <= 0:
            raise ApiError(400, "sms_code_exhausted", "验证码错误次数过多，请重新获取。")
        raise ApiError(400, "sms_code_wrong", f"短信验证码不正确，还可尝试{left}次。")
    record.used_at = now
