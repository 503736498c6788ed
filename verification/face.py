"""Face detection, encoding and comparison (face_recognition on dlib, HOG detector).

The threshold is a setting, the distance is always reported, and a band around the
threshold means "a person decides" (the library warns accuracy is lower for East Asian
faces and for children).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache

import numpy as np

from verification import DLIB, facenet
from verification.errors import MissingDependency, UnknownModel

MATCH_THRESHOLD = 0.6  # face_recognition's default tolerance
REVIEW_BAND = 0.06  # distances within this of the threshold go to a person


@dataclass(frozen=True)
class Comparison:
    distance: float | None
    faces_a: int
    faces_b: int
    verdict: str  # "match", "no_match", "review", "no_face"

    @property
    def match(self) -> bool:
        return self.verdict == "match"

    def as_dict(self) -> dict[str, object]:
        return {
            "distance": None if self.distance is None else round(self.distance, 4),
            "match": self.match,
            "verdict": self.verdict,
            "faces_a": self.faces_a,
            "faces_b": self.faces_b,
        }


def _lib():  # type: ignore[no-untyped-def]
    try:
        import face_recognition
    except ImportError as exc:
        raise MissingDependency("缺少人脸比对组件 face_recognition。") from exc
    return face_recognition


def encodings(rgb: np.ndarray, *, max_side: int = 800) -> list[np.ndarray]:
    """128-d encodings of every face, largest first (detected on a copy ≤ `max_side`)."""
    from PIL import Image

    lib = _lib()
    scale = min(1.0, max_side / max(rgb.shape[:2]))
    if scale < 1.0:
        rgb = np.asarray(
            Image.fromarray(rgb).resize((round(rgb.shape[1] * scale), round(rgb.shape[0] * scale)))
        )
    # Small faces (an ID-card portrait) need one upsampling to be found.
    with DLIB:
        locations = lib.face_locations(
            rgb, number_of_times_to_upsample=1 if max(rgb.shape[:2]) > 300 else 2
        )
    locations.sort(key=lambda b: (b[2] - b[0]) * (b[1] - b[3]), reverse=True)
    return descriptors(rgb, locations)


def descriptors(rgb: np.ndarray, boxes: list[tuple[int, int, int, int]]) -> list[np.ndarray]:
    """face_recognition's 128-d encoding of the face in each (top, right, bottom, left) box:
    dlib's 5 landmarks and aligned chip, then dlib's network run with numpy (facenet.py:
    the same numbers, ~30 ms instead of ~180 ms of CPU per face)."""
    net = _network()
    if net is None:
        with DLIB:
            return list(_lib().face_encodings(rgb, boxes, num_jitters=1))
    return [facenet.forward(net, chip) for chip in chips(rgb, boxes)]


def chips(rgb: np.ndarray, boxes: list[tuple[int, int, int, int]]) -> list[np.ndarray]:
    """The aligned 150x150 chip of the face in each box, as dlib cuts it for its network."""
    _lib()
    import dlib
    from face_recognition import api

    rgb = np.ascontiguousarray(rgb)
    with DLIB:
        shapes = api._raw_face_landmarks(rgb, boxes, model="small")
        return [dlib.get_face_chip(rgb, s, facenet.CHIP_SIZE, facenet.CHIP_PADDING) for s in shapes]


@cache
def _network() -> facenet.Network | None:
    try:
        return facenet.bundled()
    except (UnknownModel, OSError):
        # Another model file than the one facenet.py reads: dlib computes, only slower.
        logging.getLogger(__name__).exception("face network not readable; using dlib's")
        return None


def compare(
    a: np.ndarray,
    b: np.ndarray,
    *,
    threshold: float = MATCH_THRESHOLD,
    review_band: float = REVIEW_BAND,
) -> Comparison:
    """Is the largest face in `a` the same person as the largest face in `b`?"""
    ea, eb = encodings(a), encodings(b)
    if not ea or not eb:
        return Comparison(None, len(ea), len(eb), "no_face")
    distance = float(np.linalg.norm(ea[0] - eb[0]))
    if abs(distance - threshold) <= review_band:
        verdict = "review"
    else:
        verdict = "match" if distance < threshold else "no_match"
    return Comparison(distance, len(ea), len(eb), verdict)
