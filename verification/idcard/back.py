"""The emblem side (国徽面): issuing authority and validity period."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from verification.errors import NotAnIdCard
from verification.idcard.ocr import OcrEngine, engine

# Dots are often read as ":" or "," on small or tilted photos.
SEP = r"[.\-/年:：,，·]?"
PERIOD_RE = re.compile(
    rf"(\d{{4}}){SEP}(\d{{2}}){SEP}(\d{{2}})日?[-—–~至]+(?:(\d{{4}}){SEP}(\d{{2}}){SEP}(\d{{2}})|(长期))"
)
# 签发机关, also with its first character misread (答发机关).
ISSUER_LABEL = re.compile(r"^.?发机关|^签发机")


@dataclass
class BackReading:
    issuer: str | None
    valid_from: dt.date | None
    valid_until: dt.date | None  # None with `permanent` for 长期
    permanent: bool
    expired: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "side": "back",
            "issuer": self.issuer,
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_until": "长期"
            if self.permanent
            else (self.valid_until.isoformat() if self.valid_until else None),
            "expired": self.expired,
        }


def parse_back(texts: list[str], *, today: dt.date | None = None) -> BackReading:
    """Fields of the emblem side from its OCR lines (upright order)."""
    joined = [re.sub(r"\s+", "", t) for t in texts]
    if not any(word in "".join(joined) for word in ("签发机关", "有效期限", "居民身份证")):
        raise NotAnIdCard("未识别到身份证国徽面，请重新拍摄。", code="not_id_card_back")
    issuer = None
    for i, text in enumerate(joined):
        label = ISSUER_LABEL.match(text)
        if label:
            rest = text[label.end() :].lstrip("关:：")
            issuer = rest or (joined[i + 1] if i + 1 < len(joined) else None)
            break
    valid_from = valid_until = None
    permanent = False
    match = PERIOD_RE.search("".join(t.replace("有效期限", "") for t in joined))
    if match:
        g = match.groups()
        try:
            valid_from = dt.date(int(g[0]), int(g[1]), int(g[2]))
            if g[6]:
                permanent = True
            else:
                valid_until = dt.date(int(g[3]), int(g[4]), int(g[5]))
        except ValueError:
            valid_from = valid_until = None
    today = today or dt.date.today()
    expired = valid_until is not None and valid_until < today
    return BackReading(
        issuer=issuer or None,
        valid_from=valid_from,
        valid_until=valid_until,
        permanent=permanent,
        expired=expired,
    )


def read_back(
    rgb: np.ndarray, *, ocr: OcrEngine | None = None, today: dt.date | None = None
) -> BackReading:
    lines = (ocr or engine()).read(np.ascontiguousarray(rgb[..., ::-1]))
    lines.sort(key=lambda line: (line.center[1], line.center[0]))
    return parse_back([line.text for line in lines], today=today)
