"""Image captchas (图形验证码), drawn by the server and asked for only when a request
looks risky (backend_stub.abuse decides when).

A captcha is four characters from an alphabet without look-alikes (no 0/O, 1/I/L),
each turned and shifted, over noise lines and dots. It is valid a few minutes and is
checked once: right or wrong, the next try needs a new picture, so answers cannot be
guessed against one image.
"""

from __future__ import annotations

import io
import random
import secrets
from datetime import timedelta
from functools import cache
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend_stub.db import changed, utcnow
from backend_stub.models import Captcha
from backend_stub.security import keyed_digest, same_digest, token_digest

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 4
SIZE = (160, 60)
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def new_answer() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


@cache
def _font() -> Any:
    from PIL import ImageFont

    try:
        return ImageFont.truetype(FONT, 34)
    except OSError:
        return ImageFont.load_default(size=34)


def render(answer: str) -> bytes:
    """The picture of `answer` as PNG."""
    from PIL import Image, ImageDraw, ImageFilter

    rng = random.Random(secrets.randbits(64))
    image = Image.new("RGB", SIZE, (rng.randint(225, 250),) * 3)
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        draw.line(
            [(rng.randint(0, SIZE[0]), rng.randint(0, SIZE[1])) for _ in range(2)],
            fill=tuple(rng.randint(120, 200) for _ in range(3)),
            width=2,
        )
    step = (SIZE[0] - 16) // len(answer)
    for i, char in enumerate(answer):
        glyph = Image.new("RGBA", (48, 56), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text(
            (8, 6), char, font=_font(), fill=tuple(rng.randint(10, 110) for _ in range(3))
        )
        glyph = glyph.rotate(rng.uniform(-28, 28), resample=Image.Resampling.BICUBIC)
        image.paste(glyph, (8 + i * step + rng.randint(-3, 3), rng.randint(-2, 8)), glyph)
    for _ in range(220):
        draw.point(
            (rng.randrange(SIZE[0]), rng.randrange(SIZE[1])),
            fill=tuple(rng.randint(80, 200) for _ in range(3)),
        )
    out = io.BytesIO()
    image.filter(ImageFilter.SMOOTH).save(out, format="PNG")
    return out.getvalue()


def issue(session: Session, key: bytes, *, ttl_seconds: int) -> tuple[str, str, bytes]:
    """A new captcha: its token, its answer (for the caller's tests only) and the PNG."""
    token, answer = secrets.token_urlsafe(18), new_answer()
    session.add(
        Captcha(
            token_hash=token_digest(token),
            answer_hash=keyed_digest(key, "captcha", answer),
            expires_at=utcnow() + timedelta(seconds=ttl_seconds),
        )
    )
    session.commit()
    return token, answer, render(answer)


def solve(session: Session, key: bytes, token: str, answer: str) -> bool:
    """True if `answer` is this live captcha's; the captcha is spent either way."""
    now = utcnow()
    digest = token_digest(token)
    spent = changed(
        session,
        update(Captcha)
        .where(Captcha.token_hash == digest, Captcha.used_at.is_(None), Captcha.expires_at > now)
        .values(used_at=now),
    )
    session.commit()
    if spent != 1:
        return False
    expected = session.scalar(select(Captcha.answer_hash).where(Captcha.token_hash == digest))
    given = keyed_digest(key, "captcha", answer.strip().upper())
    return expected is not None and same_digest(expected, given)
