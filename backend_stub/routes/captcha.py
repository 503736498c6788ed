from __future__ import annotations

import base64

from fastapi import APIRouter

from backend_stub import captcha
from backend_stub.abuse import PublicRequest
from backend_stub.deps import SecretDep, SessionDep
from backend_stub.schemas.accounts import CaptchaOut

router = APIRouter(prefix="/api/captcha", tags=["captcha"])

TTL_SECONDS = 5 * 60


@router.post("", response_model=CaptchaOut, status_code=201)
def create_captcha(session: SessionDep, secret: SecretDep, _public: PublicRequest) -> CaptchaOut:
    """A new image captcha (图形验证码), valid five minutes, answered once."""
    token, _answer, png = captcha.issue(session, secret, ttl_seconds=TTL_SECONDS)
    return CaptchaOut(
        captcha_id=token,
        image_png_base64=base64.b64encode(png).decode(),
        expires_in=TTL_SECONDS,
    )
