"""Presentation-attack detection for the live check: passive signals measured on the face
landmarks of every kept frame, each reported with its value and its own reason code.

A photo, however it is moved or animated, is a flat picture: between frames its points
follow one 2-D (affine or perspective) motion, and only what the animator warps changes
shape. A head is a 3-D object that turns, tilts and moves its brows and eyelids while it
reads aloud, so the eye corners, brows, nose bridge and cheek contour do not follow one
affine motion, and the upper face's texture changes. Measured (benchmarks.attacks):
- `deformation`: the median, over frames, of the mean distance (in interocular
  distances) of the upper-face points from the best affine fit to the clip's median
  face. Landmark jitter alone gives ~0.01; a talking head 0.06 and more.
- `upper_change`: the mean absolute grey-level change (0–255) of the brows-to-nose patch
  after aligning it to the middle frame (landmarks, then ECC). A warped still: 1–9;
  a talking head: 25 and more.
- `lip_sync`: how much wider the mouth is on the spoken syllables (loudness peaks) than
  on the same syllables shifted in time (a z-score): lips that make the sounds open on
  them; a voice laid over other lips scatters around 0. Measured on the one real talking
  clip here (a singer whose mouth never rests, the hardest case), landmarks at 16 per
  second: genuine placements 0.2–2.5, dubbed ones -1.0–0.04. The cut at 0.1 is thin,
  so a low score only sends the clip to a person (at 8 per second the two overlapped).
- `repeated_frames`: the share of consecutive kept frames that are identical (a frozen
  or looped picture).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from verification import DLIB

# Brow ends, eye corners, the contour at eye level and the top of the nose: the points
# that a 2-D motion of a picture moves together and a turning head does not.
UPPER = [17, 21, 22, 26, 36, 39, 42, 45, 0, 16, 27]
# Below these a clip's face moved as a flat picture (landmark jitter on a still is ~0.01
# and ~2 grey levels; a speaking head is several times more).
DEFORMATION_FLAT = 0.03
UPPER_CHANGE_FLAT = 10.0
LIP_SYNC_MIN = 0.1  # z-score; below it the voice is no better placed than chance
REPEATED_MAX = 0.5
SYLLABLE_GAP_S = 0.25


@dataclass
class Track:
    """The 68 landmarks of the face on every kept frame where it was found."""

    indices: list[int]  # kept-frame indices
    times: np.ndarray  # (n,) seconds
    points: np.ndarray  # (n, 68, 2)


def track(frames: list[Any], detected: dict[int, list[tuple[int, int, int, int]]]) -> Track:
    """Landmarks on every kept frame: the box comes from the nearest face detection,
    or from the previous frame's landmarks when that is closer (the face moves)."""
    from face_recognition import api

    seeds = sorted(i for i, boxes in detected.items() if boxes)
    indices: list[int] = []
    points: list[np.ndarray] = []
    previous: tuple[int, tuple[int, int, int, int]] | None = None
    if not seeds:
        return Track([], np.zeros(0), np.zeros((0, 68, 2)))
    for index, frame in enumerate(frames):
        nearest = min(seeds, key=lambda i: abs(i - index))
        box = detected[nearest][0]
        if previous is not None and index - previous[0] < abs(nearest - index):
            box = previous[1]
        elif abs(nearest - index) > max(4, len(frames) // max(1, len(seeds))):
            continue
        with DLIB:
            shapes = api._raw_face_landmarks(frame.gray, [box], model="large")
        if not shapes:
            continue
        p = np.array([(q.x, q.y) for q in shapes[0].parts()], float)
        if np.linalg.norm(p[45] - p[36]) < 6:
            continue
        indices.append(index)
        points.append(p)
        (x0, y0), (x1, y1) = p.min(axis=0), p.max(axis=0)
        height = y1 - y0
        previous = (index, (int(y0 - 0.25 * height), int(x1), int(y1), int(x0)))
    times = np.array([frames[i].time for i in indices])
    return Track(indices, times, np.array(points) if points else np.zeros((0, 68, 2)))


def mouth_openings(track: Track) -> np.ndarray:
    """Inner-lip gap over mouth width, per tracked frame."""
    p = track.points
    if not len(p):
        return np.zeros(0)
    width = np.linalg.norm(p[:, 54] - p[:, 48], axis=1)
    gap = np.mean(
        [np.linalg.norm(p[:, a] - p[:, b], axis=1) for a, b in ((61, 67), (62, 66), (63, 65))],
        axis=0,
    )
    return gap / np.maximum(width, 1.0)


def _affine_to(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    import cv2

    matrix, _ = cv2.estimateAffine2D(
        source.astype(np.float32), target.astype(np.float32), method=cv2.LMEDS
    )
    return matrix if matrix is not None else np.eye(2, 3)


def deformation(track: Track) -> float | None:
    """How far the upper-face points stray from one affine motion (interocular units)."""
    if len(track.points) < 4:
        return None
    reference = np.median(track.points, axis=0)
    scale = float(np.linalg.norm(reference[45] - reference[36]))
    errors = []
    for p in track.points:
        matrix = _affine_to(p[UPPER], reference[UPPER])
        moved = np.c_[p[UPPER], np.ones(len(UPPER))] @ matrix.T
        errors.append(float(np.mean(np.linalg.norm(moved - reference[UPPER], axis=1))) / scale)
    return float(np.median(errors))


def upper_change(frames: list[Any], track: Track) -> float | None:
    """Grey-level change of the brows-to-nose patch once aligned to the middle frame."""
    import cv2

    if len(track.points) < 4:
        return None
    middle = len(track.indices) // 2
    ref_points = track.points[middle]
    ref_gray = frames[track.indices[middle]].gray
    scale = float(np.linalg.norm(ref_points[45] - ref_points[36]))
    x0, x1 = int(ref_points[17:27, 0].min()), int(ref_points[17:27, 0].max())
    y0, y1 = int(ref_points[17:27, 1].min() - 0.3 * scale), int(ref_points[33, 1])
    x0, y0 = max(0, x0), max(0, y0)
    template = ref_gray[y0:y1, x0:x1].astype(np.float32)
    if template.shape[0] < 12 or template.shape[1] < 12:
        return None
    changes = []
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 1e-4)
    for k, index in enumerate(track.indices):
        if k == middle:
            continue
        matrix = _affine_to(track.points[k][UPPER], ref_points[UPPER])
        warped = cv2.warpAffine(frames[index].gray, matrix, ref_gray.shape[::-1])
        patch = warped[y0:y1, x0:x1].astype(np.float32)
        fine = np.eye(2, 3, dtype=np.float32)
        try:
            _cc, fine = cv2.findTransformECC(
                template, patch, fine, cv2.MOTION_AFFINE, criteria, None, 1
            )
            patch = cv2.warpAffine(
                patch, fine, patch.shape[::-1], flags=cv2.INTER_LINEAR + cv2.WARP_INVERSE_MAP
            )
        except cv2.error:
            pass  # no convergence: the landmark alignment stands
        m = 4
        changes.append(float(np.mean(np.abs(patch[m:-m, m:-m] - template[m:-m, m:-m]))))
    return float(np.median(changes)) if changes else None


def syllables(audio: np.ndarray, rate: int, speaking: np.ndarray, chunk_s: float) -> list[float]:
    """Times of loudness peaks inside speech, at least SYLLABLE_GAP_S apart."""
    hop = int(0.02 * rate)
    if len(audio) < hop * 3:
        return []
    frames = len(audio) // hop
    loud = np.sqrt(np.mean(audio[: frames * hop].reshape(frames, hop) ** 2, axis=1))
    loud = np.convolve(loud, np.ones(5) / 5, mode="same")
    peaks = []
    floor = 0.3 * float(loud.max())
    for i in range(1, frames - 1):
        t = i * hop / rate
        k = int(t / chunk_s)
        in_speech = bool(speaking.size and speaking[max(0, k - 2) : k + 3].any())
        if in_speech and loud[i] >= floor and loud[i] >= loud[i - 1] and loud[i] > loud[i + 1]:
            if peaks and t - peaks[-1][0] < SYLLABLE_GAP_S:
                if loud[i] > peaks[-1][1]:
                    peaks[-1] = (t, float(loud[i]))
                continue
            peaks.append((t, float(loud[i])))
    return [t for t, _ in peaks]


def lip_sync(track: Track, openings: np.ndarray, syllable_times: list[float]) -> float | None:
    """How much wider the mouth is on the spoken syllables than on the same syllables
    shifted in time, in standard deviations of the shifted ones (a z-score).

    Lips that make the sounds are open on them (allowing 0–0.12 s of lag either way);
    a voice laid over another recording's lips is no better placed than chance."""
    if len(openings) < 8 or len(syllable_times) < 3:
        return None
    times, values = track.times, (openings - openings.mean()) / (openings.std() + 1e-6)
    start, end = float(times[0]), float(times[-1])
    span = end - start
    if span < 1.5:
        return None

    def placed(offset: float) -> float:
        best = -np.inf
        for lag in (-0.12, -0.06, 0.0, 0.06, 0.12):
            shifted = start + np.mod(np.asarray(syllable_times) + offset + lag - start, span)
            best = max(best, float(np.interp(shifted, times, values).mean()))
        return best

    actual = placed(0.0)
    null = np.array([placed(o) for o in np.arange(0.4, span - 0.4, 0.1)])
    if len(null) < 5:
        return None
    return float((actual - null.mean()) / (null.std() + 1e-6))


def repeated_frames(frames: list[Any]) -> float:
    """Share of consecutive kept frames whose grey levels are the same (mean change < 0.5)."""
    if len(frames) < 3:
        return 0.0
    same = 0
    for a, b in zip(frames, frames[1:], strict=False):
        ga, gb = a.gray, b.gray
        if ga.shape == gb.shape:
            same += float(np.mean(np.abs(ga.astype(np.int16) - gb.astype(np.int16)))) < 0.5
    return same / (len(frames) - 1)
