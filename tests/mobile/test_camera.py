"""Stills from the web camera plugin come mirrored from front cameras: they are flipped back."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from mobile.views.camera import unmirror


def test_unmirror_flips_left_and_right() -> None:
    img = np.zeros((40, 60, 3), np.uint8)
    img[:, :20] = (250, 250, 250)  # a bright left third
    out = io.BytesIO()
    Image.fromarray(img).save(out, "JPEG", quality=95)
    flipped = np.asarray(Image.open(io.BytesIO(unmirror(out.getvalue()))).convert("L"))
    assert flipped.shape == (40, 60)
    assert flipped[:, -15:].mean() > 200  # now on the right
    assert flipped[:, :15].mean() < 30


def test_unmirror_applies_the_exif_turn_first() -> None:
    img = Image.new("RGB", (60, 40), "black")
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned: shown 40 wide, 60 tall
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    assert Image.open(io.BytesIO(unmirror(out.getvalue()))).size == (40, 60)
