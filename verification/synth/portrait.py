"""Portrait photos for the standard-photo tests: a real face (from the shared test faces)
cut out as head and shoulders and placed on a chosen background, size and framing."""

from __future__ import annotations

import random
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

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
def person(name: str = "obama.jpg") -> Image.Image:
    """Head and shoulders of a test face as RGBA (soft-edged ellipse + torso)."""
    import face_recognition

    img = Image.open(FACES / name).convert("RGB")
    top, right, bottom, left = face_recognition.face_locations(np.asarray(img))[0]
    fw, fh = right - left, bottom - top
    cx = (left + right) / 2
    mask = Image.new("L", img.size, 0)
    d = ImageDraw.Draw(mask)
    d.ellipse((cx - 0.78 * fw, top - 0.62 * fh, cx + 0.78 * fw, bottom + 0.12 * fh), fill=255)
    neck_top = bottom - 0.1 * fh
    d.polygon(
        [
            (cx - 0.35 * fw, neck_top),
            (cx + 0.35 * fw, neck_top),
            (cx + 1.6 * fw, img.height),
            (cx - 1.6 * fw, img.height),
        ],
        fill=255,
    )
    # Keep only the person inside that outline: GrabCut, seeded with the face as foreground.
    import cv2

    seed = np.where(np.asarray(mask) > 0, cv2.GC_PR_FGD, cv2.GC_BGD).astype(np.uint8)
    seed[top:bottom, left:right] = cv2.GC_FGD
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(
        cv2.cvtColor(np.asarray(img), cv2.COLOR_RGB2BGR),
        seed,
        None,
        bgd,
        fgd,
        5,
        cv2.GC_INIT_WITH_MASK,
    )
    keep = ((seed == cv2.GC_FGD) | (seed == cv2.GC_PR_FGD)).astype(np.uint8) * 255
    mask = Image.fromarray(keep).filter(ImageFilter.GaussianBlur(2))
    out = img.copy()
    out.putalpha(mask)
    box = (
        max(0, round(cx - 1.8 * fw)),
        max(0, round(top - 0.7 * fh)),
        min(img.width, round(cx + 1.8 * fw)),
        min(img.height, round(bottom + 1.6 * fh)),
    )
    return out.crop(box)


def photo(
    seed: int,
    *,
    background: str = "blue",
    size: tuple[int, int] = (1200, 1600),
    head_scale: float = 0.45,
    offset: tuple[float, float] = (0.0, 0.0),
    face: str = "obama.jpg",
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
