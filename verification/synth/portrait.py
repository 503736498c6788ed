"""Portrait photos for the standard-photo tests: a real face (from the shared test faces)
cut out as head and shoulders and placed on a chosen background, size and framing."""

from __future__ import annotations

import random
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from verification.synth.idcard import jpeg_bytes

FACES = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "faces"
BACKGROUNDS = {
    "blue": (67, 142, 219),
    "light_blue": (155, 200, 240),
    "white": (245, 245, 245),
    "red": (200, 30, 40),
    "gray": (150, 150, 150),
}


@cache
def person(name: str = "biden.jpg") -> Image.Image:
    """Head and shoulders of a test face as RGBA: the segmentation model's mask of a
    head-and-shoulders crop (so the model sees the person large, as in a selfie), kept
    inside a head ellipse and a shoulders outline, as one piece. The default face has a
    closed mouth, looks at the camera and stands before a plain wall: obama.jpg,
    obama2.jpg and biden2.jpg smile with open mouths, which a standard photo may not, and
    obama3.jpg has a chandelier behind the head."""
    import cv2
    import face_recognition

    from verification import content

    img = Image.open(FACES / name).convert("RGB")
    top, right, bottom, left = face_recognition.face_locations(np.asarray(img))[0]
    fw, fh = right - left, bottom - top
    cx = (left + right) / 2
    box = (
        max(0, round(cx - 1.8 * fw)),
        max(0, round(top - 0.7 * fh)),
        min(img.width, round(cx + 1.8 * fw)),
        min(img.height, round(bottom + 1.6 * fh)),
    )
    crop = img.crop(box)
    cx, top, bottom = cx - box[0], top - box[1], bottom - box[1]
    outline = Image.new("L", crop.size, 0)
    d = ImageDraw.Draw(outline)
    d.ellipse((cx - 0.8 * fw, top - 0.62 * fh, cx + 0.8 * fw, bottom + 0.15 * fh), fill=255)
    neck = bottom - 0.15 * fh
    d.polygon(
        [
            (cx - 0.45 * fw, neck),
            (cx + 0.45 * fw, neck),
            (cx + 1.7 * fw, bottom + 0.6 * fh),
            (cx + 1.8 * fw, crop.height),
            (cx - 1.8 * fw, crop.height),
            (cx - 1.7 * fw, bottom + 0.6 * fh),
        ],
        fill=255,
    )
    soft = content.person_mask(np.asarray(crop))
    # Sharpened: the model's low-confidence fringe (a lamp behind the head) is dropped.
    keep = np.clip((soft - 0.5) * 4 + 0.5, 0, 1) * (np.asarray(outline) > 0)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(
        (keep > 0.5).astype(np.uint8), connectivity=8
    )
    if count > 2:  # one piece: the person, not a speck of the room
        largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        near = cv2.dilate((labels == largest).astype(np.uint8), np.ones((5, 5), np.uint8))
        keep = keep * near
    out = crop.copy()
    out.putalpha(Image.fromarray((keep * 255).astype(np.uint8)))
    return out


def photo(
    seed: int,
    *,
    background: str = "blue",
    size: tuple[int, int] = (1200, 1600),
    head_scale: float = 0.45,
    offset: tuple[float, float] = (0.0, 0.0),
    face: str = "biden.jpg",
    uneven: bool = False,
) -> Image.Image:
    """A portrait: the person `head_scale` of the height tall, shifted by `offset` (shares)."""
    rng = random.Random(seed)
    w, h = size
    color = np.array(BACKGROUNDS[background], dtype=np.float32)
    canvas = np.ones((h, w, 3), np.float32) * color
    canvas += np.random.default_rng(seed).normal(0, 2.0, canvas.shape)
    if uneven:
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        canvas *= (0.55 + 0.6 * (xx / w))[..., None]
    base = Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8))
    cut = person(face)
    scale = head_scale * h / cut.height * 1.6
    cut = cut.resize((round(cut.width * scale), round(cut.height * scale)), Image.LANCZOS)
    x = round((w - cut.width) / 2 + offset[0] * w + rng.uniform(-0.01, 0.01) * w)
    y = round(h - cut.height + offset[1] * h)
    base.paste(cut, (x, max(y, round(0.02 * h))), cut)
    return base


def photo_bytes(
    seed: int, *, quality: int = 92, exif_orientation: int | None = None, **kwargs
) -> bytes:  # type: ignore[no-untyped-def]
    img = photo(seed, **kwargs)
    if exif_orientation == 6:  # stored turned; the EXIF tag says to turn it back
        img = img.transpose(Image.ROTATE_90)
    elif exif_orientation == 3:
        img = img.transpose(Image.ROTATE_180)
    elif exif_orientation == 8:
        img = img.transpose(Image.ROTATE_270)
    return jpeg_bytes(img, quality=quality, exif_orientation=exif_orientation)
