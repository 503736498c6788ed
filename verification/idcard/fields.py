"""Reading the six printed fields from the OCR lines of an upright card.

Labels anchor the fields (姓名 性别 民族 出生 住址 公民身份号码); when glare hides a label
the card's layout (positions in card coordinates) stands in for it.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from verification.idcard.locate import project
from verification.idcard.ocr import TextLine

WATERMARKS = ("样证", "样本", "样张", "复印无效", "仅供", "SAMPLE")
LABELS = {
    "name": ("姓名",),
    "sex": ("性别",),
    "ethnicity": ("民族",),
    "birth": ("出生",),
    "address": ("住址",),
    "number": ("公民身份号码", "公民身份证号码", "公民身份号", "身份号码"),
}
# Where each value sits on the flattened card (u from 0 to 1000, v from 0 to 631).
REGIONS = {
    "name": (140, 30, 600, 125),
    "sex": (140, 125, 300, 205),
    "ethnicity": (300, 125, 610, 205),
    "birth": (140, 205, 610, 290),
    "address": (140, 290, 612, 500),
    "number": (250, 480, 1000, 631),
}
EMBLEM_WORDS = ("中华人民共和国", "居民身份证", "签发机关", "有效期限")
BIRTH_RE = re.compile(r"(\d{4})\D{0,2}?年?\D{0,2}?(\d{1,2})\D{0,2}?月?\D{0,2}?(\d{1,2})")
NUMBER_CHARS = re.compile(r"[0-9A-Za-z×|!〇*]")


@dataclass
class ReadFields:
    """What the card says as read, with per-field confidence and how each was found."""

    values: dict[str, str | None] = field(default_factory=dict)
    confidence: dict[str, float] = field(default_factory=dict)
    via_layout: set[str] = field(default_factory=set)


DOTS = str.maketrans({"・": "·", "•": "·", "‧": "·", "．": "·", "∙": "·"})


def _clean(text: str) -> str:
    # NFKC: full-width digits and letters (common in rotated lines) become ASCII.
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).translate(DOTS)
    # Symbols (☑ □ ● …) are never printed in a field: OCR made them of a speck or a corner.
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("So", "Sm", "Sk"))
    for mark in WATERMARKS:
        text = text.replace(mark, "")
    return text


def _strip_label(text: str, key: str) -> str:
    for label in LABELS[key]:
        if text.startswith(label):
            text = text[len(label) :]
            break
    return text.lstrip(":：;；,，.。、")


@cache
def ethnicities() -> tuple[str, ...]:
    """The 56 names as printed (data/ethnicities.txt)."""
    path = Path(__file__).with_name("data") / "ethnicities.txt"
    names = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return tuple(n for n in names if n and not n.startswith("#"))


def closest_ethnicity(read: str) -> tuple[str, float]:
    """The official name `read` most likely is, and how sure (1.0: exactly; 0.6: one
    character off, missing or extra; otherwise what was read, at 0.3 — a value that is
    not one of the 56 is shown for the candidate to correct, never silently replaced)."""
    value = read.removesuffix("族") if len(read) > 1 else read
    if value in ethnicities():
        return value, 1.0
    near = [n for n in ethnicities() if len(n) >= 2 and _one_edit(value, n)]
    if len(near) == 1:
        return near[0], 0.6
    return value, 0.3


def _one_edit(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def _starts_with_label(text: str, key: str) -> bool:
    return any(text.startswith(label) for label in LABELS[key])


def number_like(text: str) -> str:
    """The characters of `text` that can belong to an ID number."""
    return "".join(NUMBER_CHARS.findall(unicodedata.normalize("NFKC", text)))


def looks_like_emblem_side(lines: list[TextLine]) -> bool:
    joined = "".join(_clean(line.text) for line in lines)
    return sum(word in joined for word in EMBLEM_WORDS) >= 2


class _Layout:
    """Card coordinates of each line, when the card's corners are known."""

    def __init__(self, lines: list[TextLine], homography: np.ndarray | None) -> None:
        self.uv: list[tuple[float, float] | None] = []
        for line in lines:
            if homography is None:
                self.uv.append(None)
            else:
                u, v = project(np.array(line.center), homography)[0]
                self.uv.append((float(u), float(v)))

    def inside(self, index: int, key: str) -> bool:
        uv = self.uv[index]
        if uv is None:
            return False
        u0, v0, u1, v1 = REGIONS[key]
        return u0 <= uv[0] <= u1 and v0 <= uv[1] <= v1


def _deskewed(lines: list[TextLine], homography: np.ndarray | None) -> list[TextLine]:
    """The lines in level coordinates: on the flat card when its corners are known,
    otherwise turned by the median slope of the long lines (a card held at 15°)."""
    if homography is not None:
        return [
            TextLine(line.text, project(line.box, homography).astype(np.float32), line.score)
            for line in lines
        ]
    slopes = [
        np.arctan2(*(line.box[1] - line.box[0])[::-1])
        for line in lines
        if line.width > 2 * line.height
    ]
    if not slopes:
        return lines
    angle = -float(np.median(slopes))
    rot = np.array(
        [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]], dtype=np.float32
    )
    return [TextLine(line.text, line.box @ rot.T, line.score) for line in lines]


def parse_front(lines: list[TextLine], homography: np.ndarray | None = None) -> ReadFields:
    """The six fields from upright OCR lines; `homography` maps the image onto the flat card."""
    out = ReadFields()
    lines = _deskewed([line for line in lines if _clean(line.text)], homography)
    lines.sort(key=lambda line: (line.center[1], line.center[0]))
    layout = _Layout(lines, np.eye(3) if homography is not None else None)
    texts = [_clean(line.text) for line in lines]
    heights = [line.height for line in lines] or [1.0]
    row_tol = 0.6 * float(np.median(heights))
    used: set[int] = set()

    def same_row_right_of(i: int) -> list[int]:
        y, x = lines[i].center[1], lines[i].center[0]
        return sorted(
            (
                j
                for j in range(len(lines))
                if j != i
                and j not in used
                and abs(lines[j].center[1] - y) < row_tol
                and lines[j].center[0] > x
            ),
            key=lambda j: lines[j].center[0],
        )

    def label_index(key: str) -> int | None:
        for i, text in enumerate(texts):
            if _starts_with_label(text, key):
                return i
        if key == "name":  # 姓名 with its second character misread (姓色, 姓各)
            for i, text in enumerate(texts[:4]):
                if text.startswith("姓") and len(text) >= 4 and not text[2:3].isdigit():
                    texts[i] = "姓名" + text[2:]
                    return i
        return None

    def take(key: str, value: str, indices: list[int], *, layout_used: bool = False) -> None:
        if not value:
            return
        out.values[key] = value
        out.confidence[key] = round(min(lines[i].score for i in indices), 3)
        used.update(indices)
        if layout_used:
            out.via_layout.add(key)

    # 公民身份号码 first: it is the most distinctive line.
    best: tuple[int, str] | None = None
    for i, text in enumerate(texts):
        candidate = number_like(_strip_label(text, "number"))
        if len(candidate) >= 15 and (
            best is None or abs(len(candidate) - 18) < abs(len(best[1]) - 18)
        ):
            best = (i, candidate)
    if best is not None:
        take("number", best[1], [best[0]])
    number_row_y = lines[best[0]].center[1] if best else None

    # Single-line fields: label + value in one box, or the value in the box to its right.
    for key in ("name", "ethnicity", "sex"):
        i = label_index(key)
        if i is None:
            continue
        rest = _strip_label(texts[i], key)
        if key == "sex":
            rest = re.split(r"[民名]族", rest)[0]
            rest = rest[:1] if rest[:1] in ("男", "女") else rest
        if rest:
            take(key, rest, [i])
            continue
        right = same_row_right_of(i)
        if key == "sex":
            right = [j for j in right if texts[j][:1] in "男女"]
        if right:
            take(key, _strip_label(texts[right[0]], key), [i, right[0]])
    # "性别男民族汉" read as one line (also with a label misread: 名族, 期女民族汉).
    for i, text in enumerate(texts):
        match = re.match(r"性别?(.)[民名]族?(.+)", text) or re.match(
            r"^.{0,2}?([男女])[民名]族(.+)$", text
        )
        if match and "sex" not in out.values:
            take("sex", match.group(1), [i])
        if match and "ethnicity" not in out.values:
            take("ethnicity", match.group(2), [i])

    # Birth: year, month and day, in one line or split over boxes of one row.
    for i, text in enumerate(texts):
        if i in used and not _starts_with_label(text, "birth"):
            continue
        if not re.search(r"\d{4}", text):
            continue
        row = [i, *(j for j in same_row_right_of(i) if re.search(r"\d", texts[j]))]
        for width in range(1, len(row) + 1):
            joined = "".join(_strip_label(texts[j], "birth") for j in row[:width])
            match = BIRTH_RE.search(joined)
            if match and ("年" in joined or "月" in joined or layout.inside(i, "birth")):
                try:
                    date = dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
                except ValueError:
                    continue
                take("birth", date.isoformat(), row[:width])
                break
        if "birth" in out.values:
            break

    # Address: the value lines from the 住址 row down to the number row.
    start = label_index("address")
    if start is not None:
        top = float(lines[start].box[:, 1].min()) - 0.3 * row_tol
        x_left, x_right = float(lines[start].box[:, 0].min()), float(lines[start].box[:, 0].max())
        # Where the label ends, also when the first address line was read in the same box.
        label_right = x_left + (x_right - x_left) * 2 / max(2, len(texts[start]))
        picked = [start] if _strip_label(texts[start], "address") else []
        for j in range(len(lines)):
            if j == start or j in used:
                continue
            cy = lines[j].center[1]
            if cy < top or (number_row_y is not None and cy > number_row_y - row_tol):
                continue
            if float(lines[j].box[:, 0].min()) < x_left + 0.6 * (label_right - x_left):
                continue  # the label column (e.g. 公民身份号码 read separately)
            if layout.uv[j] is not None and layout.uv[j][0] > REGIONS["address"][2]:  # type: ignore[index]
                continue  # inside the portrait
            if _starts_with_label(texts[j], "number") or any(
                _starts_with_label(texts[j], k) for k in ("name", "sex", "ethnicity", "birth")
            ):
                continue  # a label word never goes into the address
            picked.append(j)
        picked.sort(key=lambda j: (lines[j].center[1], lines[j].center[0]))
        value = "".join(_strip_label(texts[j], "address") for j in picked)
        take("address", value, picked or [start])

    # Layout fallbacks for whatever no label anchored (glare, a label read wrong).
    for key in ("name", "sex", "ethnicity", "birth", "address"):
        if key in out.values:
            continue
        indices = [
            i
            for i in range(len(lines))
            if i not in used
            and layout.inside(i, key)
            and not any(
                _starts_with_label(texts[i], k) and not _strip_label(texts[i], k) for k in LABELS
            )
        ]
        if not indices:
            continue
        indices.sort(key=lambda j: (lines[j].center[1], lines[j].center[0]))
        if key == "address":
            value = "".join(_strip_label(texts[j], "address") for j in indices)
        elif key == "birth":
            match = BIRTH_RE.search("".join(texts[j] for j in indices))
            if not match:
                continue
            try:
                value = dt.date(
                    int(match.group(1)), int(match.group(2)), int(match.group(3))
                ).isoformat()
            except ValueError:
                continue
        elif key == "sex":
            value = next((t[:1] for t in (texts[j] for j in indices) if t[:1] in "男女"), "")
        else:
            value = _strip_label(texts[indices[0]], key)
            indices = indices[:1]
        take(key, value, indices, layout_used=True)

    if out.values.get("address"):
        from verification.idcard import places

        address, changed = places.correct(out.values["address"])  # type: ignore[arg-type]
        if changed:  # a place name put right: shown for the candidate to check
            out.values["address"] = address
            out.confidence["address"] = min(out.confidence.get("address", 1.0), 0.8)
    if out.values.get("ethnicity"):
        name, sure = closest_ethnicity(out.values["ethnicity"])  # type: ignore[arg-type]
        out.values["ethnicity"] = name
        out.confidence["ethnicity"] = min(out.confidence.get("ethnicity", 1.0), sure)

    if out.values.get("sex") not in (None, "男", "女"):
        # Only 男 or 女 can be printed there; anything else was misread.
        del out.values["sex"]
        out.confidence.pop("sex", None)
    return out
