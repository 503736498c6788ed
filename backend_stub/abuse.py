"""What stands between the public internet and the costly or sensitive endpoints that
come before a login: request budgets per client address and for everyone, and the
captcha asked for when a request looks risky (a normal candidate rarely sees one)."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from backend_stub import captcha, guards
from backend_stub.config import Settings
from backend_stub.deps import SessionDep, SettingsDep
from backend_stub.errors import ApiError
from backend_stub.security import keyed_digest

MINUTE = 60


def client_address(request: Request) -> str:
    """The peer's address (uvicorn's --proxy-headers makes it the client's behind a
    trusted proxy)."""
    return request.client.host if request.client is not None else "unknown"


def too_many(retry_after: int) -> ApiError:
    return ApiError(
        429,
        "too_many_requests",
        f"操作过于频繁，请{max(1, retry_after)}秒后再试。",
        retry_after=max(1, retry_after),
    )


def _window_left(window_s: int) -> int:
    return window_s - int(time.time()) % window_s


def count_public_request(request: Request, session: SessionDep, settings: SettingsDep) -> None:
    """Count a request to an unauthenticated endpoint; 429 past the client's or
    everyone's budget for this minute."""
    address = client_address(request)
    if guards.hit(session, f"pub:ip:{address}", window_s=MINUTE) > (
        settings.PUBLIC_PER_CLIENT_PER_MINUTE
    ):
        raise too_many(_window_left(MINUTE))
    if guards.hit(session, "pub:all", window_s=MINUTE) > settings.PUBLIC_GLOBAL_PER_MINUTE:
        raise ApiError(
            503,
            "server_busy",
            "当前访问人数较多，请稍后再试。",
            retry_after=_window_left(MINUTE),
        )


PublicRequest = Annotated[None, Depends(count_public_request)]


def require_captcha(session: Session, secret: bytes, token: str | None, answer: str | None) -> None:
    """Raise unless a live captcha was answered right (428 asks the app to show one)."""
    if not token or not answer:
        raise ApiError(428, "captcha_required", "为了您的账号安全，请输入图形验证码。")
    if not captcha.solve(session, secret, token, answer):
        raise ApiError(400, "captcha_wrong", "图形验证码不正确或已过期，请重新输入。")


def login_failures_key(address: str) -> str:
    return f"loginfail:ip:{address}"


def client_is_risky(session: Session, settings: Settings, address: str) -> bool:
    """Many failed logins from this address lately (any accounts)."""
    return (
        guards.peek(session, login_failures_key(address), window_s=settings.LOGIN_LOCK_SECONDS)
        >= settings.CLIENT_FAILURES_CAPTCHA
    )


def phone_key(secret: bytes, phone: str) -> str:
    """A phone number as a counter key: personal data stays out of the table."""
    return keyed_digest(secret, "phone", phone)[:40]
