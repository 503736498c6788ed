"""The portrait side (人像面) end to end: orientation, card, quality, OCR, fields, checks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rules import idnumber
from verification.errors import NotAnIdCard
from verification.idcard import locate, quality
from verification.idcard.fields import ReadFields, looks_like_emblem_side, number_like, parse_front
from verification.idcard.ocr import OcrEngine, TextLine, engine

FIELDS = ("name", "sex", "ethnicity", "birth", "address", "id_number")
PORTRAIT_BOX = quality.PORTRAIT_REGION
LEFT_COLUMN = ("姓名", "性别", "出生", "住址", "公民身份")


@dataclass
class FrontReading:
    """Everything read from one photo of the portrait side."""

    fields: dict[str, str | None]
    confidence: dict[str, float]
    id_check: dict[str, Any]
    quality: quality.Quality
    rotation: int = 0  # degrees the photo was turned (clockwise) to make the card upright
    mirrored: bool = False
    portrait: np.ndarray | None = field(default=None, repr=False)  # RGB crop of the photo
    lines: list[str] = field(default_factory=list, repr=False)

    @property
    def uncertain(self) -> list[str]:
        """Fields the candidate should look at before confirming."""
        flagged = [k for k in FIELDS if not self.fields.get(k) or self.confidence.get(k, 0) < 0.9]
        if self.id_check.get("corrected") or not self.id_check.get("valid"):
            flagged.append("id_number")
        return sorted(set(flagged), key=FIELDS.index)

    def as_dict(self) -> dict[str, Any]:
        return {
            "side": "front",
            "fields": self.fields,
            "confidence": self.confidence,
            "uncertain": self.uncertain,
            "id_check": self.id_check,
            "quality": self.quality.as_dict(),
            "orientation": {"rotation": self.rotation, "mirrored": self.mirrored},
            "portrait": None
            if self.portrait is None
            else {"width": int(self.portrait.shape[1]), "height": int(self.portrait.shape[0])},
        }


def _anchor_score(lines: list[TextLine]) -> int:
    """How much of a card this reading shows: labels found plus a number-like line."""
    joined = "".join(line.text for line in lines)
    score = sum(label in joined for label in ("姓名", "性别", "民族", "出生", "住址", "公民身份"))
    score += 2 * any(len(number_like(line.text)) >= 15 for line in lines)
    return score


def _down_vector(lines: list[TextLine]) -> np.ndarray | None:
    """Which way is "down" on the card, in image coordinates."""
    column = [
        (i, line)
        for i, line in enumerate(lines)
        if any(line.text.replace(" ", "").startswith(label) for label in LEFT_COLUMN)
    ]
    if len(column) >= 2:
        order = sorted(
            column,
            key=lambda item: next(
                k
                for k, label in enumerate(LEFT_COLUMN)
                if item[1].text.replace(" ", "").startswith(label)
            ),
        )
        first, last = np.array(order[0][1].center), np.array(order[-1][1].center)
        if np.linalg.norm(last - first) > 1:
            return last - first
    numbers = [line for line in lines if len(number_like(line.text)) >= 15]
    others = [line for line in lines if line not in numbers]
    if numbers and others:
        return np.array(numbers[0].center) - np.mean([line.center for line in others], axis=0)
    return None


def _quarter_turns(down: np.ndarray) -> int:
    """np.rot90's k that makes `down` point down the image."""
    dx, dy = float(down[0]), float(down[1])
    if abs(dy) >= abs(dx):
        return 0 if dy > 0 else 2
    return 3 if dx > 0 else 1


def _rotate_lines(lines: list[TextLine], k: int, shape: tuple[int, ...]) -> list[TextLine]:
    """The same lines in the coordinates of np.rot90(image, k): no second OCR needed, the
    recogniser already read each line the right way round."""
    turned = []
    for line in lines:
        pts, w = line.box.copy(), shape[1]
        for turn in range(k % 4):
            # A quarter turn counter-clockwise maps (x, y) to (y, w - 1 - x).
            pts = np.stack([pts[:, 1], (w - 1) - pts[:, 0]], axis=1)
            w = shape[0] if turn % 2 == 0 else shape[1]
        turned.append(TextLine(text=line.text, box=locate.order_corners(pts), score=line.score))
    return turned


def _read_card_area(bgr: np.ndarray, ocr: OcrEngine) -> list[TextLine]:
    """OCR only the card (plus a margin) when its outline is found: less to detect."""
    quad = locate.find_card(bgr)
    if quad is None:
        return ocr.read(bgr)
    h, w = bgr.shape[:2]
    pad = 0.04 * max(float(np.ptp(quad[:, 0])), float(np.ptp(quad[:, 1])))
    x0, y0 = max(0, int(quad[:, 0].min() - pad)), max(0, int(quad[:, 1].min() - pad))
    x1, y1 = min(w, int(quad[:, 0].max() + pad)), min(h, int(quad[:, 1].max() + pad))
    lines = ocr.read(np.ascontiguousarray(bgr[y0:y1, x0:x1]))
    offset = np.array([x0, y0], dtype=np.float32)
    return [TextLine(text=line.text, box=line.box + offset, score=line.score) for line in lines]


def _upright(bgr: np.ndarray, ocr: OcrEngine) -> tuple[np.ndarray, list[TextLine], int, bool]:
    """Turn and unmirror the photo until the card reads upright; returns the OCR of it."""
    lines = _read_card_area(bgr, ocr)
    mirrored = False
    if _anchor_score(lines) < 3:
        flipped = np.ascontiguousarray(bgr[:, ::-1])
        flipped_lines = _read_card_area(flipped, ocr)
        if _anchor_score(flipped_lines) > _anchor_score(lines):
            bgr, lines, mirrored = flipped, flipped_lines, True
    down = _down_vector(lines)
    k = _quarter_turns(down) if down is not None else 0
    if k:
        lines = _rotate_lines(lines, k, bgr.shape)
        bgr = np.ascontiguousarray(np.rot90(bgr, k))
    return bgr, lines, (-k * 90) % 360, mirrored


def _check_number(read: ReadFields) -> tuple[str | None, dict[str, Any]]:
    raw = read.values.get("number")
    birth = None
    if read.values.get("birth"):
        birth = dt.date.fromisoformat(read.values["birth"])  # type: ignore[arg-type]
    check: dict[str, Any] = {
        "valid": False,
        "division": None,
        "birth_from_id": None,
        "sex_from_id": None,
        "conflicts": [],
        "corrected": False,
    }
    if not raw:
        check["conflicts"].append("id_number_unread")
        return None, check
    recovery = idnumber.recover(raw, birth=birth, sex=read.values.get("sex"))
    if recovery.valid is None:
        check["conflicts"].append("id_number_invalid")
        return recovery.number or None, check
    info = recovery.valid
    check.update(
        valid=True,
        division=info.division,
        birth_from_id=info.birth_date.isoformat(),
        sex_from_id=info.sex,
        corrected=recovery.corrected,
    )
    if info.warnings:
        check["conflicts"].append(idnumber.DIVISION_UNKNOWN)
    if birth is not None and birth != info.birth_date:
        check["conflicts"].append("birth_mismatch")
    if read.values.get("sex") and read.values["sex"] != info.sex:
        check["conflicts"].append("sex_mismatch")
    return info.number, check


def read_front(rgb: np.ndarray, *, ocr: OcrEngine | None = None) -> FrontReading:
    """Read the portrait side from an upright-by-EXIF RGB photo."""
    import cv2

    ocr = ocr or engine()
    bgr = np.ascontiguousarray(rgb[..., ::-1])
    bgr, lines, rotation, mirrored = _upright(bgr, ocr)
    if looks_like_emblem_side(lines):
        raise NotAnIdCard("这是身份证国徽面，请拍摄有照片的人像面。", code="emblem_side")
    if _anchor_score(lines) < 2:
        raise NotAnIdCard()

    quad = locate.find_card(bgr)
    homography = locate.to_card_coordinates(quad) if quad is not None else None
    flat = locate.flatten(bgr, quad) if quad is not None else None
    read = parse_front(lines, homography)
    number_line = next((line for line in lines if len(number_like(line.text)) >= 15), None)
    shot = quality.measure(
        bgr, quad, flat, number_box=number_line.box if number_line is not None else None
    )
    number, id_check = _check_number(read)

    portrait = None
    if flat is not None:
        u0, v0, u1, v1 = PORTRAIT_BOX
        # Back to the photo's own resolution: the flat card may be smaller than the shot.
        scale = max(1.0, shot.measurements.get("card_width_px", locate.FLAT_W) / locate.FLAT_W)  # type: ignore[operator]
        if scale > 1.0:
            big = cv2.warpPerspective(
                bgr,
                np.diag([scale, scale, 1.0]) @ homography,  # type: ignore[operator]
                (round(locate.FLAT_W * scale), round(locate.FLAT_H * scale)),
                flags=cv2.INTER_AREA,
            )
        else:
            big = flat
        crop = big[round(v0 * scale) : round(v1 * scale), round(u0 * scale) : round(u1 * scale)]
        portrait = np.ascontiguousarray(crop[..., ::-1])
        shot.portrait(int(crop.shape[0]))

    values = read.values
    fields = {
        "name": values.get("name"),
        "sex": values.get("sex"),
        "ethnicity": values.get("ethnicity"),
        "birth": values.get("birth"),
        "address": values.get("address"),
        "id_number": number,
    }
    confidence = {("id_number" if k == "number" else k): v for k, v in read.confidence.items()}
    return FrontReading(
        fields=fields,
        confidence=confidence,
        id_check=id_check,
        quality=shot,
        rotation=rotation,
        mirrored=mirrored,
        portrait=portrait,
        lines=[line.text for line in lines],
    )


def read_card(
    front: bytes, back: bytes | None = None, *, ocr: OcrEngine | None = None
) -> tuple[dict[str, Any], bytes | None]:
    """Decode and read one or both sides: the JSON the CLI and the backend return, and the
    card's portrait as JPEG (for face matching), when the card's outline was found.

    Raises `BadImage` or `NotAnIdCard` (with stable codes) for unusable uploads.
    """
    from verification.idcard.back import read_back
    from verification.imageio import decode

    reading = read_front(decode(front).rgb, ocr=ocr)
    result = reading.as_dict()
    if back is not None:
        back_reading = read_back(decode(back).rgb, ocr=ocr)
        result["back"] = back_reading.as_dict()
        if back_reading.expired:
            result["quality"]["warnings"].append(
                {
                    "code": "card_expired",
                    "severity": "refuse",
                    "message": "身份证已过有效期，请使用有效身份证。",
                }
            )
    return result, encode_jpeg(reading.portrait) if reading.portrait is not None else None


def encode_jpeg(rgb: np.ndarray, quality: int = 92) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()
