"""SMS sending and one-time codes.

A `SmsSender` delivers a message; the default `OutboxSender` writes it to the outbox
table, which is what a real gateway would deliver and what the sandbox reads (rows are
purged once their code has expired: `purge_outbox`). Codes themselves are stored only
as an HMAC under the server's key.

Every limit is atomic: the per-phone spacing and daily cap are counted by upsert
(backend_stub.guards) as well as read from the sent codes, and a guess at a code takes
its place by a conditional UPDATE before it is compared.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from backend_stub import guards
from backend_stub.config import Settings
from backend_stub.db import changed, utcnow
from backend_stub.domain.errors import DomainError
from backend_stub.models import SmsCode, SmsOutbox
from backend_stub.security import keyed_digest, new_sms_code, same_digest

PURPOSES = {"register": "注册", "reset_password": "找回密码"}
# The form field a refused code points the app to.
FIELD = ["sms_code"]
DAY = 24 * 3600


class SmsSender(Protocol):
    def send(self, session: Session, *, phone: str, body: str) -> None: ...


class OutboxSender:
    """Writes messages to the outbox table in the caller's transaction."""

    def send(self, session: Session, *, phone: str, body: str) -> None:
        session.add(SmsOutbox(phone=phone, body=body))


def code_digest(secret: bytes, phone: str, code: str) -> str:
    return keyed_digest(secret, "sms", phone, code)


def _too_frequent(wait: float) -> DomainError:
    return DomainError(
        "sms_too_frequent",
        f"验证码发送过于频繁，请{int(wait) + 1}秒后再试。",
        retry_after=int(wait) + 1,
    )


DAILY_LIMIT = DomainError("sms_daily_limit", "该手机号今日获取验证码次数已达上限，请明天再试。")


def issue_code(
    session: Session,
    sender: SmsSender,
    settings: Settings,
    secret: bytes,
    *,
    phone: str,
    purpose: str,
    phone_key: str,
) -> SmsCode:
    """Create and send a code, within the per-phone rate limits."""
    now = utcnow()
    last = session.scalar(select(func.max(SmsCode.created_at)).where(SmsCode.phone == phone))
    if last is not None:
        wait = settings.SMS_MIN_INTERVAL_SECONDS - (now - last).total_seconds()
        if wait > 0:
            raise _too_frequent(wait)
    sent_today = session.scalar(
        select(func.count(SmsCode.id)).where(
            SmsCode.phone == phone, SmsCode.created_at >= now - timedelta(days=1)
        )
    )
    if (sent_today or 0) >= settings.SMS_DAILY_LIMIT:
        raise DAILY_LIMIT
    # Parallel requests all read "nothing sent yet" above; these counters let one through.
    interval = settings.SMS_MIN_INTERVAL_SECONDS
    if interval > 0:
        wait = guards.pass_gate(session, f"sms:{phone_key}", seconds=interval)
        if wait:
            raise _too_frequent(wait - 1)
    if guards.hit(session, f"sms:phone-day:{phone_key}", window_s=DAY) > settings.SMS_DAILY_LIMIT:
        raise DAILY_LIMIT
    code = new_sms_code()
    record = SmsCode(
        phone=phone,
        purpose=purpose,
        code_hash=code_digest(secret, phone, code),
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
    session: Session, settings: Settings, secret: bytes, *, phone: str, purpose: str, code: str
) -> None:
    """Accept the latest unused code for this phone and purpose once, or raise. The
    guess is counted before the comparison, atomically."""
    now = utcnow()
    record = session.scalar(
        select(SmsCode)
        .where(SmsCode.phone == phone, SmsCode.purpose == purpose, SmsCode.used_at.is_(None))
        .order_by(SmsCode.created_at.desc(), SmsCode.id.desc())
        .limit(1)
    )
    if record is None:
        raise DomainError("sms_code_missing", "请先获取短信验证码。", fields=FIELD)
    if record.expires_at <= now:
        raise DomainError("sms_code_expired", "短信验证码已过期，请重新获取。", fields=FIELD)
    exhausted = DomainError("sms_code_exhausted", "验证码错误次数过多，请重新获取。", fields=FIELD)
    taken = changed(
        session,
        update(SmsCode)
        .where(
            SmsCode.id == record.id,
            SmsCode.used_at.is_(None),
            SmsCode.guesses < settings.SMS_MAX_GUESSES,
        )
        .values(guesses=SmsCode.guesses + 1),
    )
    session.commit()
    if taken != 1:
        raise exhausted
    if not same_digest(record.code_hash, code_digest(secret, phone, code.strip())):
        guesses = session.scalar(select(SmsCode.guesses).where(SmsCode.id == record.id)) or 0
        left = settings.SMS_MAX_GUESSES - guesses
        if left <= 0:
            raise exhausted
        raise DomainError("sms_code_wrong", f"短信验证码不正确，还可尝试{left}次。", fields=FIELD)
    used = changed(
        session,
        update(SmsCode)
        .where(SmsCode.id == record.id, SmsCode.used_at.is_(None))
        .values(used_at=now),
    )
    if used != 1:  # the same code, sent twice at once: only one request gets it
        session.rollback()
        raise DomainError("sms_code_missing", "请先获取短信验证码。", fields=FIELD)


def purge_outbox(session: Session, settings: Settings) -> None:
    """Delete delivered messages whose codes can no longer be used."""
    cutoff = utcnow() - timedelta(seconds=settings.SMS_CODE_TTL_SECONDS)
    session.execute(delete(SmsOutbox).where(SmsOutbox.created_at < cutoff))
    session.commit()
