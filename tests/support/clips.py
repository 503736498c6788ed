"""Live-check clips, built once per test run (espeak-ng speech + PyAV encoding)."""

from __future__ import annotations

from functools import cache

from PIL import Image

from verification.synth import clip
from verification.synth.portrait import FACES

DIGITS = "3729"  # what the clips say; the API tests' challenges get other digits


@cache
def talking(container: str = "mp4") -> bytes:
    """The talking-head clip's person reading digits (face present, lips moving)."""
    return clip.talking(DIGITS, container=container)


@cache
def still_photo() -> bytes:
    """A printed photo of obama.jpg moved in front of the camera while digits play."""
    return clip.still(Image.open(FACES / "obama.jpg"), DIGITS)


@cache
def silent() -> bytes:
    frames, fps = clip.talking_frames(4.0)
    return clip.encode(frames, clip.silence(4.0), fps=fps)


@cache
def talking_portrait() -> Image.Image:
    """The talking person's face, as an ID-card portrait would show it."""
    return clip.portrait_from_talking()
