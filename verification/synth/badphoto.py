"""Standard photos an exam office would refuse, made from good ones (seeded): hands or a
mask over the face, dark glasses, closed eyes, an open mouth, a half-face shadow, a busy
background, and background replacements that leave a halo or patches. Each defect is
drawn more than one way (sizes, colours, sides) so no check is tuned to one drawing."""

from __future__ import annotations

import random

import numpy as np

DEFECTS = {
    "hands": "face_covered",
    "mask": "face_covered",
    "dark_glasses": "dark_glasses",
    "eyes_closed": "eyes_closed",
    "mouth_open": "mouth_open",
    "shadow": "uneven_light",
    "busy_background": "background_uneven",
    "halo": "background_patches",
}


def _skin(rgb: np.ndarray, p: np.ndarray) -> np.ndarray:
    from verification.content import SKIN

    samples = [
        rgb[int(p[i, 1]), int(p[i, 0])].astype(np.float32)
        for i in (SKIN["left_cheek"], SKIN["right_cheek"])
    ]
    return np.mean(samples, axis=0)


def _hand(
    canvas: np.ndarray,
    centre: tuple[float, float],
    size: float,
    colour: np.ndarray,
    angle: float,
    rng: random.Random,
) -> None:
    """A hand seen from the front: a palm and four fingers and a thumb, shaded."""
    import cv2

    layer = np.zeros(canvas.shape[:2], np.uint8)
    cx, cy = centre
    palm = (int(0.42 * size), int(0.5 * size))
    cv2.ellipse(layer, (int(cx), int(cy)), palm, angle, 0, 360, 255, -1)
    for k in range(4):
        dx = (k - 1.5) * 0.22 * size
        length = size * (0.55 + 0.1 * (k in (1, 2)))
        tip = (
            cx + dx + np.sin(np.radians(angle)) * length,
            cy - np.cos(np.radians(angle)) * length,
        )
        cv2.line(
            layer,
            (int(cx + dx), int(cy - 0.2 * size)),
            (int(tip[0]), int(tip[1])),
            255,
            max(2, int(0.17 * size)),
        )
    side = rng.choice((-1, 1))
    cv2.line(
        layer,
        (int(cx), int(cy)),
        (int(cx + side * 0.7 * size), int(cy - 0.35 * size)),
        255,
        max(2, int(0.2 * size)),
    )
    mask = cv2.GaussianBlur(layer, (5, 5), 0).astype(np.float32)[..., None] / 255
    shade = colour * rng.uniform(0.85, 1.1)
    texture = np.random.default_rng(rng.randrange(1 << 30)).normal(0, 6, canvas.shape)
    canvas[:] = canvas * (1 - mask) + np.clip(shade + texture, 0, 255) * mask


def make(rgb: np.ndarray, defect: str, seed: int = 0) -> np.ndarray:
    """`rgb` (a good standard photo) with `defect` drawn in."""
    import cv2

    from verification import content

    rng = random.Random(seed)
    p = content.landmarks(rgb)
    assert p is not None, "no face in the good photo"
    out = rgb.astype(np.float32).copy()
    h, w = rgb.shape[:2]
    face_w = float(p[454, 0] - p[234, 0])
    skin = _skin(rgb, p)
    if defect == "hands":
        count = rng.choice((1, 2))
        for k in range(count):
            x = p[1, 0] + (k - (count - 1) / 2) * 0.5 * face_w + rng.uniform(-0.1, 0.1) * face_w
            y = p[1, 1] + rng.uniform(0.0, 0.35) * face_w
            _hand(out, (x, y), face_w * rng.uniform(0.45, 0.6), skin, rng.uniform(-25, 25), rng)
    elif defect == "mask":
        colour = rng.choice(((230, 235, 240), (120, 170, 210), (40, 40, 45)))
        top = float(p[6, 1] + rng.uniform(0.3, 0.5) * (p[1, 1] - p[6, 1]))
        poly = np.array(
            [
                (p[234, 0], top),
                (p[454, 0], top),
                (p[454, 0] - 0.1 * face_w, p[152, 1]),
                (p[234, 0] + 0.1 * face_w, p[152, 1]),
            ],
            np.int32,
        )
        cv2.fillPoly(out, [poly], colour)
    elif defect == "dark_glasses":
        tone = rng.uniform(15, 50)
        for c in (468, 473):
            axes = (int(rng.uniform(0.17, 0.22) * face_w), int(rng.uniform(0.11, 0.15) * face_w))
            cv2.ellipse(
                out, (int(p[c, 0]), int(p[c, 1])), axes, 0, 0, 360, (tone, tone, tone + 5), -1
            )
        cv2.line(
            out,
            (int(p[468, 0]), int(p[468, 1])),
            (int(p[473, 0]), int(p[473, 1])),
            (tone, tone, tone),
            max(2, int(0.03 * face_w)),
        )
    elif defect == "eyes_closed":
        for corners, upper, _lower in (((33, 133), 159, 145), ((362, 263), 386, 374)):
            a, b = p[corners[0]], p[corners[1]]
            centre = (a + b) / 2
            width = float(np.linalg.norm(b - a))
            lid = rgb[int(p[upper, 1] - 0.25 * width), int(p[upper, 0])].astype(np.float32)
            colour = lid * rng.uniform(0.9, 1.0)
            cv2.ellipse(
                out,
                (int(centre[0]), int(centre[1])),
                (int(0.62 * width), int(0.32 * width)),
                0,
                0,
                360,
                colour.tolist(),
                -1,
            )
            cv2.ellipse(
                out,
                (int(centre[0]), int(centre[1] + 0.05 * width)),
                (int(0.5 * width), int(0.12 * width)),
                0,
                0,
                180,
                (40, 30, 30),
                max(1, int(0.05 * width)),
            )
    elif defect == "mouth_open":
        width = float(np.linalg.norm(p[308] - p[78]))
        centre = (p[13] + p[14]) / 2
        gap = rng.uniform(0.25, 0.45) * width
        cv2.ellipse(
            out,
            (int(centre[0]), int(centre[1] + 0.3 * gap)),
            (int(0.42 * width), int(gap / 2)),
            0,
            0,
            360,
            (50, 20, 25),
            -1,
        )
        if rng.random() < 0.5:  # teeth
            cv2.ellipse(
                out,
                (int(centre[0]), int(centre[1] - 0.05 * gap)),
                (int(0.33 * width), int(0.12 * gap)),
                0,
                0,
                360,
                (230, 225, 215),
                -1,
            )
    elif defect == "shadow":
        xx = np.arange(w, dtype=np.float32)[None, :]
        edge = p[1, 0] + rng.uniform(-0.05, 0.05) * face_w
        side = rng.choice((-1, 1))
        ramp = 1 / (1 + np.exp(side * (xx - edge) / (0.04 * face_w)))
        depth = rng.uniform(0.35, 0.55)
        person = content.person_mask(rgb)
        factor = 1 - (1 - depth) * ramp * person
        out *= factor[..., None]
    elif defect == "busy_background":
        person = cv2.GaussianBlur(content.person_mask(rgb), (5, 5), 0)[..., None]
        noise = np.random.default_rng(seed)
        blocks = noise.uniform(30, 230, (h // 40 + 1, w // 40 + 1, 3)).astype(np.float32)
        texture = cv2.resize(
            blocks,
            (w, h),
            interpolation=cv2.INTER_NEAREST if rng.random() < 0.5 else cv2.INTER_CUBIC,
        )
        out = out * person + texture * (1 - person)
    elif defect == "halo":
        # The old background left around the person (a hard mask cut too wide), and
        # sometimes a leftover rectangle of it.
        old = np.array(rng.choice(((235, 235, 230), (150, 150, 150), (20, 20, 20))), np.float32)
        person = (content.person_mask(rgb) > 0.5).astype(np.uint8)
        wide = cv2.dilate(person, np.ones((3, 3), np.uint8), iterations=rng.choice((6, 9, 12)))
        if rng.random() < 0.5:  # ragged
            wide = cv2.dilate(wide, np.ones((7, 7), np.uint8)) * (
                np.random.default_rng(seed).random(wide.shape) > 0.3
            )
        ring = (wide.astype(bool) & ~person.astype(bool))[..., None]
        out = np.where(ring, old[None, None, :], out)
        if rng.random() < 0.5:
            x0 = rng.choice((0, w - w // 5))
            out[: h // 6, x0 : x0 + w // 5] = old
    else:
        raise ValueError(defect)
    return np.clip(out, 0, 255).astype(np.uint8)
