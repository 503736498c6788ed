"""Presentation attacks on the live check, and genuine readings to measure them against
(ISO/IEC 30107-3 style: every attack class in several variants, everything from a seed).

Genuine: the shared real talking-head clip (its speaker faces the camera for ~4 s), with
the issued digits placed on its own mouth openings, so lips and voice agree in time as
in a real reading; varied by framing, mirroring, light, codec and bitrate.

Attacks, each made more than one way so no detector is tuned to one warp:
1. `still_pan`      a photo held up to the camera, panned and zoomed;
2. `still_shake`    a printed photo in a shaking hand (affine and perspective wobble);
3. `talking_photo`  one still portrait with the jaw and lips warped in time with the
                    voice: jaw drop, lip stretch or both, with or without a dark mouth
                    gap, head sway, blinks and sensor noise;
4. `screen_replay`  a genuine clip filmed off a screen (bezel, gamma, moiré, refresh
                    banding, reflection, lower resolution), with earlier digits;
5. `old_digits`     a genuine clip of the same person reading an earlier challenge;
6. `other_person`   a genuine clip of someone else;
7. `dubbed`         a genuine face with a voice that does not follow its lips.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image

from verification.synth import clip

RATE = clip.RATE
FACES = clip.TESTDATA
ATTACKS = (
    "still_pan",
    "still_shake",
    "talking_photo",
    "screen_replay",
    "old_digits",
    "other_person",
    "dubbed",
)
# (still used for the attack, ID-card portrait it is checked against): the same person.
STILLS = (("obama2.jpg", "obama.jpg"), ("obama.jpg", "obama3.jpg"), ("biden.jpg", "biden2.jpg"))
SECONDS = 4.0


@dataclass
class Sample:
    kind: str  # "genuine" or one of ATTACKS
    variant: str
    data: bytes  # the uploaded clip
    portrait: np.ndarray  # RGB: the ID-card portrait it is checked against
    digits: str  # the digits issued for this attempt


def _rgb(name: str) -> np.ndarray:
    return np.asarray(Image.open(FACES / name).convert("RGB"))


# --- landmarks --------------------------------------------------------------------------


def landmarks(image: np.ndarray) -> np.ndarray | None:
    """dlib's 68 points of the largest face, (68, 2) float, or None."""
    import face_recognition
    from face_recognition import api

    boxes = face_recognition.face_locations(image, 1)
    if not boxes:
        return None
    box = max(boxes, key=lambda b: (b[2] - b[0]) * (b[1] - b[3]))
    shape = api._raw_face_landmarks(image, [box], model="large")[0]
    return np.array([(p.x, p.y) for p in shape.parts()], float)


def opening(points: np.ndarray) -> float:
    width = float(np.linalg.norm(points[54] - points[48]))
    gap = np.mean(
        [np.linalg.norm(points[a] - points[b]) for a, b in ((61, 67), (62, 66), (63, 65))]
    )
    return float(gap / max(width, 1.0))


# --- genuine readings -------------------------------------------------------------------


@cache
def _genuine_source() -> tuple[tuple[np.ndarray, ...], int, tuple[float, ...]]:
    """The frontal part of the real clip, its fps and the mouth opening of every frame."""
    frames, fps = clip.talking_frames(SECONDS)
    openings = []
    last = 0.0
    for frame in frames:
        points = landmarks(frame)
        last = opening(points) if points is not None else last
        openings.append(last)
    return tuple(frames), fps, tuple(openings)


@cache
def _syllable(digit: str) -> np.ndarray:
    return _trim(clip.digit_speech(digit, pause=0.0))


def _trim(audio: np.ndarray, floor: float = 0.01) -> np.ndarray:
    loud = np.nonzero(np.abs(audio) > floor)[0]
    return audio[loud[0] : loud[-1] + 1] if loud.size else audio


def mouth_peaks(openings: list[float] | tuple[float, ...], fps: int, count: int) -> list[float]:
    """Times (s) of the `count` widest mouth openings at least 0.4 s apart, in order."""
    values = np.convolve(np.asarray(openings), np.ones(3) / 3, mode="same")
    order = np.argsort(values)[::-1]
    chosen: list[int] = []
    for i in order:
        if 0.3 * fps < i < len(values) - 0.3 * fps and all(abs(i - j) >= 0.4 * fps for j in chosen):
            chosen.append(int(i))
        if len(chosen) == count:
            break
    return sorted(i / fps for i in chosen)


def reading_on(times: list[float], digits: str, seconds: float) -> np.ndarray:
    """Audio of `digits`, each syllable's loudest part at the matching time in `times`."""
    out = np.zeros(round(seconds * RATE), np.float32)
    for t, digit in zip(times, digits, strict=False):
        syllable = _syllable(digit)
        envelope = np.convolve(np.abs(syllable), np.ones(400) / 400, mode="same")
        start = round(t * RATE) - int(np.argmax(envelope))
        start = max(0, min(len(out) - len(syllable), start))
        out[start : start + len(syllable)] += syllable
    return out + clip.silence(seconds, noise=0.002)


def genuine_reading(digits: str) -> tuple[list[np.ndarray], np.ndarray, int]:
    """The real clip's frames with `digits` read on its own mouth openings."""
    frames, fps, openings = _genuine_source()
    times = mouth_peaks(openings, fps, len(digits))
    return list(frames), reading_on(times, digits, len(frames) / fps), fps


def _framed(frames: list[np.ndarray], variant: int) -> list[np.ndarray]:
    """Camera-side variations of a genuine recording."""
    rng = np.random.default_rng(variant)
    out = frames
    if variant % 2:
        out = [np.ascontiguousarray(f[:, ::-1]) for f in out]
    if variant % 3 == 1:  # darker room
        out = [np.clip(f.astype(np.float32) * 0.6 + 5, 0, 255).astype(np.uint8) for f in out]
    elif variant % 3 == 2:  # warm light and a little noise
        tint = np.array([1.08, 1.0, 0.85], np.float32)
        out = [np.clip(f * tint + rng.normal(0, 3, f.shape), 0, 255).astype(np.uint8) for f in out]
    if variant % 4 >= 2:  # the face larger in the frame
        h, w = out[0].shape[:2]
        crop = (int(w * 0.12), int(h * 0.12), int(w * 0.88), int(h * 0.88))
        out = [np.asarray(Image.fromarray(f).crop(crop).resize((w, h))) for f in out]
    return out


def genuine(digits: str, variant: int = 0) -> Sample:
    frames, audio, fps = genuine_reading(digits)
    container = "webm" if variant % 5 == 4 else "mp4"
    bit_rate = 2_500_000 if variant % 5 == 3 else None
    data = clip.encode(
        _framed(frames, variant), audio, fps=fps, container=container, bit_rate=bit_rate
    )
    return Sample("genuine", f"real clip v{variant} {container}", data, _speaker(), digits)


@cache
def _speaker() -> np.ndarray:
    return np.asarray(clip.portrait_from_talking())


# --- 1, 2: stills -----------------------------------------------------------------------


def _spoken(digits: str, seconds: float) -> np.ndarray:
    return clip.fit_audio(clip.digit_speech(digits), seconds)


def still_pan(digits: str, variant: int = 0) -> Sample:
    name, portrait = STILLS[variant % len(STILLS)]
    frames = clip.still_frames(Image.open(FACES / name), SECONDS)
    data = clip.encode(frames, _spoken(digits, SECONDS))
    return Sample("still_pan", f"{name} pan+zoom", data, _rgb(portrait), digits)


def _face_view(image: np.ndarray, size: tuple[int, int] = (640, 480)) -> np.ndarray:
    """The image cropped around its face (a third of the height), at `size`."""
    points = landmarks(image)
    assert points is not None, "no face in the still"
    face_h = float(points[:, 1].max() - points[:, 1].min()) * 1.3
    cx, cy = points[:, 0].mean(), points[:, 1].mean()
    w, h = size
    ch = 3.0 * face_h
    cw = ch * w / h
    box = (cx - cw / 2, cy - ch / 2, cx + cw / 2, cy + ch / 2)
    view = Image.fromarray(image).transform(
        (w, h), Image.EXTENT, box, Image.BILINEAR, fillcolor=(60, 60, 60)
    )
    return np.asarray(view)


def _wobble(image: np.ndarray, n: int, rng: np.random.Generator, *, perspective: bool) -> list:
    """A hand holding a print: a smooth random walk of rotation, shift and scale (and a
    perspective tilt), plus high-frequency tremor."""
    import cv2

    h, w = image.shape[:2]
    walk = np.cumsum(rng.normal(0, 1, (n, 6)), axis=0)
    walk = np.apply_along_axis(lambda c: np.convolve(c, np.ones(7) / 7, "same"), 0, walk)
    walk /= np.abs(walk).max(axis=0) + 1e-6
    frames = []
    for i in range(n):
        angle, dx, dy, scale, px, py = walk[i]
        tremor = rng.normal(0, 0.6, 2)
        m = cv2.getRotationMatrix2D((w / 2, h / 2), 3 * angle, 1 + 0.04 * scale)
        m[:, 2] += (12 * dx + tremor[0], 10 * dy + tremor[1])
        matrix = np.vstack([m, [0, 0, 1]])
        if perspective:
            matrix = matrix @ np.array([[1, 0, 0], [0, 1, 0], [4e-5 * px, 4e-5 * py, 1]])
        frames.append(cv2.warpPerspective(image, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE))
    return frames


def still_shake(digits: str, variant: int = 0) -> Sample:
    name, portrait = STILLS[variant % len(STILLS)]
    rng = np.random.default_rng(100 + variant)
    view = _face_view(_rgb(name))
    frames = _wobble(view, round(SECONDS * 25), rng, perspective=variant % 2 == 1)
    data = clip.encode(frames, _spoken(digits, SECONDS))
    kind = "perspective" if variant % 2 else "affine"
    return Sample("still_shake", f"{name} {kind} wobble", data, _rgb(portrait), digits)


# --- 3: talking photo -------------------------------------------------------------------

WARPS = ("jaw", "lips", "both")


def _envelope(audio: np.ndarray, n: int, fps: int) -> np.ndarray:
    """Speech loudness per video frame, 0..1 (the puppet's mouth follows it)."""
    hop = RATE // fps
    rms = np.array([np.sqrt(np.mean(audio[i * hop : (i + 1) * hop] ** 2)) for i in range(n)])
    rms = np.convolve(rms, np.ones(3) / 3, mode="same")
    return np.clip(rms / (np.percentile(rms, 98) + 1e-6), 0, 1)


def talking_photo(digits: str, variant: int = 0) -> Sample:
    """A still whose jaw and lips are warped open and shut with the voice."""
    import cv2

    name, portrait = STILLS[variant % len(STILLS)]
    warp = WARPS[variant % len(WARPS)]
    rng = np.random.default_rng(200 + variant)
    sway, blink, dark = variant % 2 == 0, variant % 3 != 1, variant % 4 != 3
    noise = variant % 5 in (1, 4)
    view = _face_view(_rgb(name))
    points = landmarks(view)
    assert points is not None
    h, w = view.shape[:2]
    fps = 25
    n = round(SECONDS * fps)
    audio = _spoken(digits, SECONDS)
    level = _envelope(audio, n, fps)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    mouth = points[48:68]
    mx, my = mouth[:, 0].mean(), mouth[:, 1].mean()
    mw = float(np.linalg.norm(points[54] - points[48]))
    chin = points[8]
    face_w = float(points[16, 0] - points[0, 0])
    # Weights: the jaw below the mouth line (fading out under the chin and to the sides),
    # the lips around the mouth.
    below = 1 / (1 + np.exp(-(ys - my) / (0.06 * face_w)))
    under_chin = np.exp(-(np.maximum(0, ys - chin[1]) ** 2) / (2 * (0.15 * face_w) ** 2))
    sideways = np.exp(-((xs - mx) ** 2) / (2 * (0.33 * face_w) ** 2))
    jaw_weight = below * under_chin * sideways
    lip_weight = np.exp(-(((xs - mx) / (0.7 * mw)) ** 2 + ((ys - my) / (0.45 * mw)) ** 2))
    eyes = [points[36:42], points[42:48]]
    blink_at = set(rng.choice(np.arange(10, n - 10), 2, replace=False)) if blink else set()
    frames = []
    for i in range(n):
        a = level[i]
        dy = np.zeros_like(ys)
        dx = np.zeros_like(xs)
        if warp in ("jaw", "both"):
            dy += 0.45 * mw * a * jaw_weight
        if warp in ("lips", "both"):
            dy += 0.25 * mw * a * lip_weight * np.sign(ys - my)
            dx += 0.12 * mw * a * lip_weight * np.sign(xs - mx)
        if any(abs(i - b) <= 1 for b in blink_at):
            for eye in eyes:
                ex, ey = eye[:, 0].mean(), eye[:, 1].mean()
                ew = float(eye[:, 0].max() - eye[:, 0].min())
                weight = np.exp(-(((xs - ex) / (0.9 * ew)) ** 2 + ((ys - ey) / (0.6 * ew)) ** 2))
                dy += 0.35 * ew * weight * np.sign(ys - ey)
        frame = cv2.remap(view, xs - dx, ys - dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        if dark and a > 0.05:
            # The gap between the lips: upper inner lip where it was, lower moved down.
            upper = points[60:65]
            lower = points[[64, 65, 66, 67, 60]].copy()
            lower[:, 1] += 0.45 * mw * a * (1 if warp != "lips" else 0.5)
            gap = np.vstack([upper, lower]).astype(np.int32)
            shade = frame.copy()
            cv2.fillPoly(shade, [gap], (45, 20, 22))
            frame = cv2.addWeighted(shade, min(1.0, 2 * a), frame, 1 - min(1.0, 2 * a), 0)
        frames.append(frame)
    if sway:
        frames = [
            f2
            for f2 in _swayed(frames, rng)  # the whole picture moves, as a held photo does
        ]
    if noise:
        frames = [np.clip(f + rng.normal(0, 4, f.shape), 0, 255).astype(np.uint8) for f in frames]
    label = f"{name} {warp}{' +sway' if sway else ''}{' +blink' if blink else ''}"
    label += f"{' +gap' if dark else ''}{' +noise' if noise else ''}"
    container = "webm" if variant % 4 == 1 else "mp4"
    data = clip.encode(frames, audio, fps=fps, container=container)
    return Sample("talking_photo", f"{label} {container}", data, _rgb(portrait), digits)


def _swayed(frames: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    import cv2

    h, w = frames[0].shape[:2]
    phase = rng.uniform(0, 6.28, 3)
    out = []
    for i, frame in enumerate(frames):
        t = i / 25
        m = cv2.getRotationMatrix2D(
            (w / 2, h / 2), 2.5 * np.sin(1.3 * t + phase[0]), 1 + 0.02 * np.sin(0.9 * t)
        )
        m[:, 2] += (8 * np.sin(1.1 * t + phase[1]), 6 * np.sin(0.7 * t + phase[2]))
        out.append(cv2.warpAffine(frame, m, (w, h), borderMode=cv2.BORDER_REFLECT))
    return out


# --- 4-7: replays -----------------------------------------------------------------------


def screen_replay(digits: str, variant: int = 0, *, earlier: str = "5814") -> Sample:
    """A genuine recording of `earlier` played on a monitor and filmed with a phone."""
    import cv2

    rng = np.random.default_rng(300 + variant)
    frames, audio, fps = genuine_reading(earlier)
    h, w = frames[0].shape[:2]
    scale = (0.72, 0.85, 0.62)[variant % 3]
    sw, sh = int(w * scale), int(h * scale)
    ox, oy = (w - sw) // 2, (h - sh) // 2
    gamma = (0.8, 1.25, 1.0)[variant % 3]
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    out = []
    for i, frame in enumerate(frames):
        small = cv2.resize(frame, (sw // 2, sh // 2), interpolation=cv2.INTER_AREA)
        screen = cv2.resize(small, (sw, sh), interpolation=cv2.INTER_LINEAR).astype(np.float32)
        screen = 255 * (screen / 255) ** gamma
        if variant % 2 == 0:  # moiré between the pixel grid and the camera's sensor
            screen *= 1 + 0.07 * np.sin(0.9 * xx + 0.35 * yy + 0.2 * i)[..., None]
        if variant % 3 != 2:  # a rolling refresh band
            band = 1 - 0.12 * np.exp(-(((yy - (i * 9) % sh) / 18) ** 2))
            screen *= band[..., None]
        canvas = np.full((h, w, 3), (35, 33, 30), np.float32)  # desk and bezel
        cv2.rectangle(canvas, (ox - 14, oy - 14), (ox + sw + 14, oy + sh + 14), (12, 12, 12), -1)
        canvas[oy : oy + sh, ox : ox + sw] = screen
        if variant % 2 == 1:  # a window's reflection
            glow = np.exp(
                -(((xx - 0.7 * sw) / (0.25 * sw)) ** 2 + ((yy - 0.3 * sh) / (0.3 * sh)) ** 2)
            )
            canvas[oy : oy + sh, ox : ox + sw] += 60 * glow[..., None]
        out.append(np.clip(canvas, 0, 255).astype(np.uint8))
    out = _wobble_frames(out, rng)
    # The speaker's sound through the room: muffled and with a little echo.
    muffled = np.convolve(audio, np.ones(6) / 6, mode="same")
    echo = np.concatenate([np.zeros(1200, np.float32), muffled[:-1200]]) * 0.3
    data = clip.encode(out, (muffled + echo).astype(np.float32), fps=fps)
    return Sample("screen_replay", f"monitor v{variant}", data, _speaker(), digits)


def _wobble_frames(frames: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    import cv2

    h, w = frames[0].shape[:2]
    walk = np.cumsum(rng.normal(0, 0.3, (len(frames), 3)), axis=0)
    out = []
    for frame, (angle, dx, dy) in zip(frames, walk, strict=True):
        m = cv2.getRotationMatrix2D((w / 2, h / 2), float(angle), 1.0)
        m[:, 2] += (float(dx) * 3, float(dy) * 3)
        out.append(cv2.warpAffine(frame, m, (w, h), borderMode=cv2.BORDER_REPLICATE))
    return out


def old_digits(digits: str, variant: int = 0) -> Sample:
    """A genuine recording made for an earlier challenge, uploaded again."""
    earlier = _other_digits(digits, variant)
    sample = genuine(earlier, variant)
    return Sample("old_digits", f"read {earlier}", sample.data, sample.portrait, digits)


def other_person(digits: str, variant: int = 0) -> Sample:
    sample = genuine(digits, variant)
    portrait = ("obama.jpg", "biden2.jpg", "obama3.jpg")[variant % 3]
    return Sample("other_person", f"vs {portrait}", sample.data, _rgb(portrait), digits)


def dubbed(digits: str, variant: int = 0) -> Sample:
    """The real face, and the digits read at times that do not follow its lips."""
    frames, fps, openings = _genuine_source()
    seconds = len(frames) / fps
    if variant % 2 == 0:
        audio = _spoken(digits, seconds)  # read straight through, from the start
    else:
        # Placed on the mouth's narrowest moments instead of its openings.
        closed = [-o for o in openings]
        audio = reading_on(mouth_peaks(closed, fps, len(digits)), digits, seconds)
    data = clip.encode(list(frames), audio, fps=fps)
    kind = "read through" if variant % 2 == 0 else "on closed mouth"
    return Sample("dubbed", kind, data, _speaker(), digits)


def _other_digits(digits: str, seed: int) -> str:
    rng = random.Random(seed)
    while True:
        other = "".join(rng.choice("0123456789") for _ in digits)
        if other != digits and all(a != b for a, b in zip(other, other[1:], strict=False)):
            return other


MAKERS = {
    "still_pan": still_pan,
    "still_shake": still_shake,
    "talking_photo": talking_photo,
    "screen_replay": screen_replay,
    "old_digits": old_digits,
    "other_person": other_person,
    "dubbed": dubbed,
}


def attack(kind: str, digits: str, variant: int = 0) -> Sample:
    return MAKERS[kind](digits, variant)


def write(sample: Sample, folder: Path) -> Path:
    """The clip and its portrait as files (for the command line)."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{sample.kind}-{sample.variant}".replace(" ", "_").replace("+", "")
    (folder / f"{stem}.video").write_bytes(sample.data)
    Image.fromarray(sample.portrait).save(folder / f"{stem}.portrait.jpg")
    return folder / f"{stem}.video"
