"""The portrait side (人像面) end to end: orientation, card, quality, OCR, fields, checks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from rules import idnumber
from verification.errors import NotAnIdCard
from verification.idcard import locate, quality
from verification.idcard.back import BackReading
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
    back: BackReading | None = None  # the emblem side, when the photo shows both
    crop: np.ndarray | None = field(default=None, repr=False)  # RGB: the card, straightened

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
            **({"back": self.back.as_dict()} if self.back is not None else {}),
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


def _quarter_turns(down: np.ndarray, lines: list[TextLine] | None = None) -> int:
    """np.rot90's k that makes `down` point down the image. The text lines themselves say
    whether the card lies across or along the photo: lines that run left-right leave only
    0 or 180 degrees (labels misread on a small photo cannot turn it sideways)."""
    dx, dy = float(down[0]), float(down[1])
    across = _lines_run(lines or [])
    if across == "horizontal":
        return 0 if dy >= 0 else 2
    if across == "vertical":
        return 3 if dx > 0 else 1
    if abs(dy) >= abs(dx):
        return 0 if dy > 0 else 2
    return 3 if dx > 0 else 1


def _lines_run(lines: list[TextLine]) -> str | None:
    """Which way most long text lines run in the image (None: too few to tell)."""
    votes = []
    for line in lines:
        if len(line.text.strip()) < 4:
            continue
        extent_x, extent_y = float(np.ptp(line.box[:, 0])), float(np.ptp(line.box[:, 1]))
        if max(extent_x, extent_y) > 2 * min(extent_x, extent_y):
            votes.append(extent_x > extent_y)
    if len(votes) < 3:
        return None
    share = sum(votes) / len(votes)
    return "horizontal" if share >= 0.75 else "vertical" if share <= 0.25 else None


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


ROOM_FOR_SIDE = 0.6  # a free stretch this share of the card's extent may hold its other side


def _room_for_another_side(quad: np.ndarray, shape: tuple[int, ...]) -> bool:
    """Whether the photo beside (or above, or below) the found card could hold the
    card's other side: then the outline alone does not say where the text is."""
    h, w = shape[:2]
    x0, y0 = quad.min(axis=0)
    x1, y1 = quad.max(axis=0)
    across = max(x0, w - x1) / max(x1 - x0, 1.0)
    along = max(y0, h - y1) / max(y1 - y0, 1.0)
    return bool(max(across, along) >= ROOM_FOR_SIDE)


def _read_card_area(bgr: np.ndarray, ocr: OcrEngine) -> list[TextLine]:
    """OCR only the card (plus a margin) when its outline is found: less to detect."""
    quad = locate.find_card(bgr)
    h, w = bgr.shape[:2]
    # No outline, or room beside the card for its other side: read the whole photo.
    if quad is None or _room_for_another_side(quad, bgr.shape):
        return ocr.read(bgr)
    pad = 0.04 * max(float(np.ptp(quad[:, 0])), float(np.ptp(quad[:, 1])))
    x0, y0 = max(0, int(quad[:, 0].min() - pad)), max(0, int(quad[:, 1].min() - pad))
    x1, y1 = min(w, int(quad[:, 0].max() + pad)), min(h, int(quad[:, 1].max() + pad))
    lines = ocr.read(np.ascontiguousarray(bgr[y0:y1, x0:x1]))
    offset = np.array([x0, y0], dtype=np.float32)
    return [TextLine(text=line.text, box=line.box + offset, score=line.score) for line in lines]


FRONT_FIELDS = ("name", "sex", "ethnicity", "birth", "address", "number")


def _fuller(
    bgr: np.ndarray,
    ocr: OcrEngine,
    lines: list[TextLine],
    read: ReadFields,
    homography: np.ndarray | None,
) -> tuple[list[TextLine], ReadFields]:
    """The whole photo's reading instead of the card area's when the area's lacks a
    field and the whole photo's has more of them."""

    def found(fields: ReadFields) -> int:
        return sum(bool(fields.values.get(key)) for key in FRONT_FIELDS)

    if found(read) == len(FRONT_FIELDS):
        return lines, read
    again = ocr.read(bgr)
    second = parse_front(again, homography)
    return (again, second) if found(second) > found(read) else (lines, read)


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
    k = _quarter_turns(down, lines) if down is not None else 0
    if k:
        lines = _rotate_lines(lines, k, bgr.shape)
        bgr = np.ascontiguousarray(np.rot90(bgr, k))
    return bgr, lines, (-k * 90) % 360, mirrored


def _birth_from_number(read: ReadFields, lines: list[TextLine], id_check: dict[str, Any]) -> None:
    """A birth line too garbled to parse (bilingual cards interleave other script) is
    taken from the valid ID number when the line's digits hold its year, month and day,
    in that order; marked for the candidate to check."""
    import re

    if read.values.get("birth") or not id_check.get("birth_from_id"):
        return
    line = next((ln.text for ln in lines if ln.text.replace(" ", "").startswith("出生")), None)
    if line is None:
        return
    digits = re.sub(r"\D", "", line)
    year, month, day = id_check["birth_from_id"].split("-")
    wanted = [year, str(int(month)), str(int(day))]
    position = 0
    for part in wanted:
        found = digits.find(part, position)
        if found < 0:
            return
        position = found + len(part)
    read.values["birth"] = id_check["birth_from_id"]
    read.confidence["birth"] = 0.5


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


CARD_ASPECT = (1.42, 1.75)  # width / height of a photo that is only the card (1.585 ± crop)
TEXT_SPAN_WHOLE = 0.72  # share of the photo's width the text covers when it is the card
SMALL_SIDE = 800  # px: smaller photos are enlarged to this before OCR
EMBLEM_SEEDS = ("中华人民共和国", "居民身份证", "签发机关", "有效期限")
FRONT_SEEDS = ("姓名", "性别", "民族", "出生", "住址", "公民身份")


def split_sides(lines: list[TextLine]) -> tuple[list[TextLine], list[TextLine]] | None:
    """Both sides in one photo: the portrait side's lines and the emblem side's, split at
    the widest gap between the two groups' anchor lines (side by side or one above the
    other). None when the photo shows one side."""

    def seeds(words: tuple[str, ...]) -> list[TextLine]:
        return [ln for ln in lines if any(w in ln.text.replace(" ", "") for w in words)]

    emblem, front = seeds(EMBLEM_SEEDS), seeds(FRONT_SEEDS)
    front = [ln for ln in front if ln not in emblem]
    numbers = [ln for ln in lines if len(number_like(ln.text)) >= 15]
    if len(emblem) < 2 or len(front) + len(numbers) < 2:
        return None
    a = np.mean([ln.center for ln in emblem], axis=0)
    b = np.mean([ln.center for ln in front + numbers], axis=0)
    axis = b - a
    length = float(np.linalg.norm(axis))
    if length < 1:
        return None
    axis /= length
    # The widest empty stretch between the two anchors, along the line joining them.
    spans = sorted((float(min(ln.box @ axis)), float(max(ln.box @ axis))) for ln in lines)
    lo, hi = float(a @ axis), float(b @ axis)
    best, cut, reach = 0.0, (lo + hi) / 2, -np.inf
    for start, end in spans:
        if reach > -np.inf and lo < start and reach < hi and start - reach > best:
            best, cut = start - reach, (start + reach) / 2
        reach = max(reach, end)
    back_lines = [ln for ln in lines if float(np.array(ln.center) @ axis) < cut]
    front_lines = [ln for ln in lines if float(np.array(ln.center) @ axis) >= cut]
    if _anchor_score(front_lines) < 3 or not looks_like_emblem_side(back_lines):
        return None
    return front_lines, back_lines


def _region(lines: list[TextLine], shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """The part of the photo holding `lines`' card: the card's extent as its number line
    places it, widened to every line, with a small margin."""
    boxes = np.concatenate([ln.box for ln in lines])
    x0, y0 = boxes.min(axis=0)
    x1, y1 = boxes.max(axis=0)
    number = next((ln for ln in lines if len(number_like(ln.text)) >= 15), None)
    if number is not None:
        ex0, ey0, ex1, ey1 = quality.estimate_from_number(
            shape, number.box, with_label=_has_number_label(number.text)
        )
        x0, y0, x1, y1 = min(x0, ex0), min(y0, ey0), max(x1, ex1), max(y1, ey1)
    pad = 0.03 * (x1 - x0)
    h, w = shape[:2]
    return (
        max(0, int(x0 - pad)),
        max(0, int(y0 - pad)),
        min(w, int(x1 + pad)),
        min(h, int(y1 + pad)),
    )


def _has_number_label(text: str) -> bool:
    return any(word in text for word in ("公民", "身份", "号码"))


def _whole_image_card(
    shape: tuple[int, ...], number: TextLine, lines: list[TextLine]
) -> np.ndarray | None:
    """A scan or a tight photo with no outline to find: when the number line places the
    card on (nearly) the whole photo, or the text spans most of its width and the card
    fits, the photo's corners are the card's."""
    h, w = shape[:2]
    x0, y0, x1, y1 = quality.estimate_from_number(
        shape, number.box, with_label=_has_number_label(number.text)
    )
    slack = quality.ESTIMATE_SLACK * (x1 - x0)
    fits = x0 > -slack and y0 > -slack and x1 < w + slack and y1 < h + slack
    fills = x0 < 2 * slack and y0 < 2 * slack and x1 > w - 2 * slack and y1 > h - 2 * slack
    boxes = np.concatenate([line.box for line in lines])
    text_span = float(np.ptp(boxes[:, 0])) / w  # the text covers 0.06-0.93 of a card
    card_shaped = CARD_ASPECT[0] <= w / h <= CARD_ASPECT[1]  # a card is 85.6 × 54 mm
    if not (fits and card_shaped and (fills or text_span >= TEXT_SPAN_WHOLE)):
        return None
    return np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=np.float32)


def read_front(
    rgb: np.ndarray, *, ocr: OcrEngine | None = None, whole: bool = True
) -> FrontReading:
    """Read the portrait side from an upright-by-EXIF RGB photo. A photo of both sides
    is read side by side: the portrait side's crop is read again on its own, and the
    emblem side's lines give the issuer and the validity (`FrontReading.back`)."""
    import cv2

    from verification.idcard.back import parse_back

    ocr = ocr or engine()
    bgr = np.ascontiguousarray(rgb[..., ::-1])
    longest = max(bgr.shape[:2])
    scale = 1.0
    if longest < SMALL_SIDE:
        # A small image (a 300-px photo, one side of a two-sided scan): OCR reads its
        # small print better enlarged.
        scale = SMALL_SIDE / longest
        bgr = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    bgr, lines, rotation, mirrored = _upright(bgr, ocr)
    back = None
    if looks_like_emblem_side(lines):
        sides = split_sides(lines) if whole else None
        if sides is None:
            raise NotAnIdCard("这是身份证国徽面，请拍摄有照片的人像面。", code="emblem_side")
        front_lines, back_lines = sides
        back_lines.sort(key=lambda line: (line.center[1], line.center[0]))
        back = parse_back([line.text for line in back_lines])
        x0, y0, x1, y1 = _region(front_lines, bgr.shape)
        crop = np.ascontiguousarray(bgr[y0:y1, x0:x1, ::-1])
        reading = read_front(crop, ocr=ocr, whole=False)
        reading.rotation, reading.mirrored, reading.back = rotation, mirrored, back
        return reading
    if _anchor_score(lines) < 2:
        raise NotAnIdCard()

    number_line = next((line for line in lines if len(number_like(line.text)) >= 15), None)
    quad = locate.find_card(bgr)
    from_layout = False
    if quad is None and number_line is not None:
        quad = _whole_image_card(bgr.shape, number_line, lines)
        from_layout = quad is not None
    homography = locate.to_card_coordinates(quad) if quad is not None else None
    flat = locate.flatten(bgr, quad) if quad is not None else None
    read = parse_front(lines, homography)
    if not from_layout and quad is not None and not _room_for_another_side(quad, bgr.shape):
        # Only the card's area was read: a field it missed (a lone character the detector
        # passed over) is looked for once more in the whole photo.
        lines, read = _fuller(bgr, ocr, lines, read, homography)
    shot = quality.measure(
        bgr,
        quad,
        flat,
        number_box=number_line.box if number_line is not None else None,
        number_label=number_line is not None and _has_number_label(number_line.text),
        from_layout=from_layout,
        pixel_scale=scale,
    )
    number, id_check = _check_number(read)
    _birth_from_number(read, lines, id_check)

    portrait = None
    if flat is not None:
        u0, v0, u1, v1 = PORTRAIT_BOX
        # Back to the photo's own resolution: the flat card may be smaller than the shot.
        width = float(shot.measurements.get("card_width_px", locate.FLAT_W)) * scale  # type: ignore[arg-type]
        zoom = max(1.0, width / locate.FLAT_W)
        if zoom > 1.0:
            big = cv2.warpPerspective(
                bgr,
                np.diag([zoom, zoom, 1.0]) @ homography,  # type: ignore[operator]
                (round(locate.FLAT_W * zoom), round(locate.FLAT_H * zoom)),
                flags=cv2.INTER_AREA,
            )
        else:
            big = flat
        crop = big[round(v0 * zoom) : round(v1 * zoom), round(u0 * zoom) : round(u1 * zoom)]
        portrait = np.ascontiguousarray(crop[..., ::-1])
        # Judged in the photo's own pixels (an enlarged photo adds none).
        shot.portrait(int(min(crop.shape[0], width / locate.FLAT_W * (v1 - v0)) / scale))

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
        crop=_straightened(bgr, flat, lines),
    )


CROP_WIDTH = 640  # px: the straightened card shown back to the candidate


def _straightened(bgr: np.ndarray, flat: np.ndarray | None, lines: list[TextLine]) -> np.ndarray:
    """The card as it was read (upright, flattened when its corners are known; otherwise
    the part of the photo holding its text), RGB at CROP_WIDTH."""
    import cv2

    if flat is None:  # no corners: the part of the photo holding the card's text
        x0, y0, x1, y1 = _region(lines, bgr.shape) if lines else (0, 0, *bgr.shape[1::-1])
        flat = bgr[y0:y1, x0:x1]
    h, w = flat.shape[:2]
    small = cv2.resize(
        flat, (CROP_WIDTH, max(1, round(h * CROP_WIDTH / w))), interpolation=cv2.INTER_AREA
    )
    return np.ascontiguousarray(small[..., ::-1])


class CardRead(NamedTuple):
    result: dict[str, Any]
    portrait: bytes | None  # JPEG: the card's portrait, for face matching
    crop: bytes | None  # JPEG: the card straightened, for the candidate to see


def read_card(front: bytes, back: bytes | None = None, *, ocr: OcrEngine | None = None) -> CardRead:
    """Decode and read one or both sides: the JSON the CLI and the backend return, the
    card's portrait as JPEG (for face matching) when the card's corners are known, and
    the straightened card the fields were read from.

    Raises `BadImage` or `NotAnIdCard` (with stable codes) for unusable uploads.
    """
    from verification.idcard.back import read_back
    from verification.imageio import decode

    reading = read_front(decode(front).rgb, ocr=ocr)
    result = reading.as_dict()
    back_reading = reading.back
    if back is not None:
        back_reading = read_back(decode(back).rgb, ocr=ocr)
        result["back"] = back_reading.as_dict()
    if back_reading is not None:
        if back_reading.expired:
            result["quality"]["warnings"].append(
                {
                    "code": "card_expired",
                    "severity": "refuse",
                    "message": "身份证已过有效期，请使用有效身份证。",
                }
            )
    return CardRead(
        result,
        encode_jpeg(reading.portrait) if reading.portrait is not None else None,
        encode_jpeg(reading.crop, quality=85) if reading.crop is not None else None,
    )


def encode_jpeg(rgb: np.ndarray, quality: int = 92) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()
