"""Standard photos an exam office would refuse, made from good ones (seeded): hands or a
mask over the face, dark glasses, closed eyes, an open mouth, a half-face shadow, a busy
background, background replacements that leave a halo or a leftover patch, a head turned 24-30°
further (the face mesh re-rendered), a hat, hair over the brows, lens glare, a
closed-mouth smile, a shoulder cut off and clothes in the background's colour. Each defect is
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
    "halo": "cutout_halo",
    "patches": "background_patches",
    "yaw": "head_not_frontal",
    "hat": "headwear",
    "fringe": "brows_covered",
    "glare": "glasses_glare",
    "smile": "expression",
    "one_shoulder": "shoulders",
    "clothing": "clothing_merges",
}
# Drawn like the defects but allowed: clear glasses without glare must pass.
ALLOWED = ("clear_glasses",)


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
        # The old background left around the person (a hard mask cut too wide): a smooth
        # ring, pixels strewn along the edge, or a staircase from a coarse mask.
        old = np.array(rng.choice(((235, 235, 230), (150, 150, 150), (20, 20, 20))), np.float32)
        person = (content.person_mask(rgb) > 0.5).astype(np.uint8)
        wide = cv2.dilate(person, np.ones((3, 3), np.uint8), iterations=rng.choice((6, 9, 12)))
        style = rng.choice(("smooth", "ragged", "blocky"))
        if style == "ragged":  # pixels of the old background strewn along the edge
            wide = cv2.dilate(wide, np.ones((7, 7), np.uint8)) * (
                np.random.default_rng(seed).random(wide.shape) > 0.3
            )
        elif style == "blocky":  # a coarse mask blown up: a staircase outline
            block = rng.choice((8, 12, 16))
            small = cv2.resize(wide, (w // block, h // block), interpolation=cv2.INTER_AREA)
            wide = cv2.resize((small > 0).astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
        ring = (wide.astype(bool) & ~person.astype(bool))[..., None]
        out = np.where(ring, old[None, None, :], out)
    elif defect == "patches":
        # A leftover rectangle of the old background at a top corner or edge.
        old = np.array(rng.choice(((235, 235, 230), (150, 150, 150), (20, 20, 20))), np.float32)
        bw, bh = int(w * rng.uniform(0.12, 0.22)), int(h * rng.uniform(0.08, 0.18))
        x0 = rng.choice((0, w - bw, rng.randrange(0, w - bw)))
        out[:bh, x0 : x0 + bw] = old
    elif defect == "yaw":
        # Further the way the head already turns (back towards the camera would be
        # frontal); the render's angle and the mesh's yaw count in opposite directions.
        yaw, _pitch = content._pose(content.landmarks3d(rgb))
        side = (-1 if yaw > 0 else 1) if abs(yaw) > 3 else rng.choice((-1, 1))
        out = turned(rgb, side * rng.uniform(24, 30)).astype(np.float32)
    elif defect == "hat":
        _hat(out, p, face_w, rng)
    elif defect == "fringe":
        _fringe(out, rgb, p, face_w, rng)
    elif defect in ("glare", "clear_glasses"):
        _glasses(out, p, face_w, rng, glare=defect == "glare")
    elif defect == "smile":
        out = _smile(rgb, p, face_w, rng).astype(np.float32)
    elif defect == "one_shoulder":
        side = rng.choice((-1, 1))
        person = content.person_mask(rgb)
        bg = np.median(rgb[: h // 10].reshape(-1, 3), axis=0).astype(np.float32)
        xx = np.arange(w, dtype=np.float32)[None, :]
        yy = np.arange(h, dtype=np.float32)[:, None]
        # The shoulder beyond the neck on one side, cut away (a crop or a turned body).
        cut = (side * (xx - p[1, 0]) > rng.uniform(0.45, 0.6) * face_w) & (
            yy > p[152, 1] + 0.1 * face_w
        )
        gone = cv2.GaussianBlur((cut & (person > 0.1)).astype(np.float32), (7, 7), 0)[..., None]
        out = out * (1 - gone) + bg[None, None, :] * gone
    elif defect == "clothing":
        # Clothes in the background's own colour (a blue shirt on blue), keeping their folds.
        person = content.person_mask(rgb)
        bg = np.median(rgb[: h // 10].reshape(-1, 3), axis=0).astype(np.float32)
        yy = np.arange(h, dtype=np.float32)[:, None]
        below = yy > p[152, 1] + rng.uniform(0.05, 0.2) * face_w
        not_skin = np.linalg.norm(rgb.astype(np.float32) - skin, axis=2) > 45
        cloth = cv2.GaussianBlur((below & not_skin & (person > 0.3)).astype(np.float32), (5, 5), 0)
        cloth = cloth[..., None]
        grey = out.mean(axis=2, keepdims=True)
        folds = grey / max(1.0, float(np.median(grey[cloth[..., 0] > 0.5])))
        tint = bg * rng.uniform(0.9, 1.05) * np.clip(folds, 0.7, 1.2)
        out = out * (1 - cloth) + tint * cloth
    else:
        raise ValueError(defect)
    return np.clip(out, 0, 255).astype(np.uint8)


def _hat(out: np.ndarray, p: np.ndarray, face_w: float, rng: random.Random) -> None:
    """A cap (dome and a brim) or a beanie over the crown, coming down onto the forehead."""
    import cv2

    colour = np.array(
        rng.choice(((25, 25, 30), (40, 50, 95), (170, 40, 40), (235, 235, 230), (190, 170, 130))),
        np.float32,
    )
    brows = float(min(p[105, 1], p[334, 1]))
    bottom = float(p[10, 1] + rng.uniform(0.45, 0.85) * (brows - p[10, 1]))
    cx = float(p[168, 0])
    half = rng.uniform(0.62, 0.72) * face_w
    layer = np.zeros(out.shape[:2], np.uint8)
    cv2.ellipse(layer, (int(cx), int(bottom)), (int(half), int(0.6 * face_w)), 0, 180, 360, 255, -1)
    if rng.random() < 0.5:  # a brim
        cv2.ellipse(
            layer, (int(cx), int(bottom)), (int(1.1 * half), int(0.08 * face_w)), 0, 0, 360, 255, -1
        )
    mask = cv2.GaussianBlur(layer, (5, 5), 0).astype(np.float32)[..., None] / 255
    yy = np.arange(out.shape[0], dtype=np.float32)[:, None, None]
    shade = 1 - 0.25 * np.clip((yy - bottom + 0.6 * face_w) / (0.6 * face_w), 0, 1)
    texture = np.random.default_rng(rng.randrange(1 << 30)).normal(0, 4, out.shape)
    out[:] = out * (1 - mask) + np.clip(colour * shade + texture, 0, 255) * mask


def _fringe(
    out: np.ndarray, rgb: np.ndarray, p: np.ndarray, face_w: float, rng: random.Random
) -> None:
    """Hair combed down over the forehead and the eyebrows, ending in strands."""
    import cv2

    from verification import content

    brows = float(max(p[105, 1], p[334, 1]))
    eyes = float(min(p[159, 1], p[386, 1]))
    low = brows + rng.uniform(0.3, 0.8) * (eyes - brows)
    top = float(p[10, 1] - 0.2 * face_w)
    cx = float(p[168, 0])
    half = rng.uniform(0.5, 0.6) * face_w
    layer = np.zeros(out.shape[:2], np.uint8)
    points = [(cx - half - 0.1 * face_w, top), (cx + half + 0.1 * face_w, top)]
    tips = rng.randint(7, 12)
    for k in range(tips + 1):
        x = cx + half - 2 * half * k / tips
        if k % 2 == 0:
            y = low + rng.uniform(-0.08, 0.04) * face_w
        else:
            y = low - rng.uniform(0.05, 0.15) * face_w
        points.append((x, y))
    cv2.fillPoly(layer, [np.array(points, np.int32)], 255)
    person = content.person_mask(rgb)
    layer[person < 0.5] = 0  # on the head, not beside it
    mask = cv2.GaussianBlur(layer, (5, 5), 0).astype(np.float32)[..., None] / 255
    # Hair: strands (noise drawn out along the comb's direction) and fine grain.
    hair_colour = np.array(
        rng.choice(((25, 20, 18), (55, 40, 30), (95, 70, 50), (150, 145, 140))), np.float32
    )
    noise = np.random.default_rng(rng.randrange(1 << 30))
    strands = cv2.GaussianBlur(
        noise.normal(0, 1, out.shape[:2]).astype(np.float32), (0, 0), sigmaX=0.8, sigmaY=6
    )
    strands *= rng.uniform(18, 30) / max(1e-3, float(strands.std()))
    angle = rng.uniform(-20, 20)
    turn = cv2.getRotationMatrix2D((float(cx), float(top)), angle, 1.0)
    strands = cv2.warpAffine(strands, turn, strands.shape[::-1], borderMode=cv2.BORDER_REFLECT)
    grain = noise.normal(0, 6, out.shape).astype(np.float32)
    hair = np.clip(hair_colour + strands[..., None] + grain, 0, 255)
    out[:] = out * (1 - mask) + hair * mask


def _glasses(
    out: np.ndarray, p: np.ndarray, face_w: float, rng: random.Random, glare: bool
) -> None:
    """Clear glasses (thin rims, a bridge), and with `glare` a bright reflection on a lens."""
    import cv2

    rim = rng.choice(((20, 20, 20), (60, 45, 35), (160, 160, 165)))
    thick = max(1, int(rng.uniform(0.012, 0.025) * face_w))
    axes = (int(rng.uniform(0.2, 0.24) * face_w), int(rng.uniform(0.13, 0.16) * face_w))
    centres = [(int(p[c, 0]), int(p[c, 1] + 0.02 * face_w)) for c in (468, 473)]
    for c in centres:
        cv2.ellipse(out, c, axes, 0, 0, 360, rim, thick)
    cv2.line(
        out,
        (centres[0][0] + axes[0], centres[0][1]),
        (centres[1][0] - axes[0], centres[1][1]),
        rim,
        thick,
    )
    if glare:
        layer = np.zeros(out.shape[:2], np.float32)
        lenses = rng.choice(([0], [1], [0, 1]))
        for k in lenses:
            cx, cy = centres[k]
            gx = cx + rng.uniform(-0.4, 0.4) * axes[0]
            gy = cy + rng.uniform(-0.4, 0.3) * axes[1]
            ga = (int(rng.uniform(0.35, 0.6) * axes[0]), int(rng.uniform(0.25, 0.5) * axes[1]))
            cv2.ellipse(layer, (int(gx), int(gy)), ga, rng.uniform(-40, 40), 0, 360, 1.0, -1)
        layer = cv2.GaussianBlur(layer, (0, 0), max(1.0, 0.01 * face_w))[..., None]
        strength = rng.uniform(0.8, 0.95)
        out[:] = out * (1 - strength * layer) + 250 * strength * layer


def _displace(
    rgb: np.ndarray, moves: list[tuple[np.ndarray, np.ndarray]], sigma: float
) -> np.ndarray:
    """`rgb` with each anchor point moved by its vector, the pixels around it following
    with a Gaussian falloff."""
    import cv2

    h, w = rgb.shape[:2]
    xx, yy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    map_x, map_y = xx.copy(), yy.copy()
    for anchor, move in moves:
        # Inverse map: a pixel takes what was one move back, weighted around the target.
        target = anchor + move
        weight = np.exp(-((xx - target[0]) ** 2 + (yy - target[1]) ** 2) / (2 * sigma**2))
        map_x -= move[0] * weight
        map_y -= move[1] * weight
    return cv2.remap(rgb, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def _smile(rgb: np.ndarray, p: np.ndarray, face_w: float, rng: random.Random) -> np.ndarray:
    """A closed-mouth smile: the mouth corners drawn up and out, the cheeks a little up."""
    lift = rng.uniform(0.07, 0.11) * face_w
    spread = rng.uniform(0.02, 0.05) * face_w
    moves = [
        (p[61].astype(np.float32), np.array([-spread, -lift], np.float32)),
        (p[291].astype(np.float32), np.array([spread, -lift], np.float32)),
    ]
    return _displace(rgb, moves, rng.uniform(0.06, 0.09) * face_w)


def _winding(tri: np.ndarray) -> float:
    """Twice the signed area of a 2-D triangle: its sign says which way it faces."""
    (ax, ay), (bx, by) = tri[1] - tri[0], tri[2] - tri[0]
    return float(ax * by - ay * bx)


def turned(rgb: np.ndarray, yaw_deg: float) -> np.ndarray:
    """The face turned `yaw_deg` about the vertical axis: the face mesh rendered rotated,
    triangle by triangle (far ones first, hidden ones skipped), over the photo."""
    import cv2
    from mediapipe.python.solutions.face_mesh_connections import FACEMESH_TESSELATION

    from verification import content

    p3 = content.landmarks3d(rgb)
    assert p3 is not None, "no face in the good photo"
    edges = {tuple(sorted(e)) for e in FACEMESH_TESSELATION}
    neighbours: dict[int, set[int]] = {}
    for a, b in edges:
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    triangles = sorted(
        {tuple(sorted((a, b, c))) for a, b in edges for c in neighbours[a] & neighbours[b]}
    )
    centre = p3[:468].mean(axis=0)
    t = np.radians(yaw_deg)
    rot = np.array([[np.cos(t), 0, np.sin(t)], [0, 1, 0], [-np.sin(t), 0, np.cos(t)]], np.float32)
    q3 = (p3 - centre) @ rot.T + centre
    out = rgb.copy()
    order = sorted(triangles, key=lambda tri: -float(q3[list(tri), 2].mean()))
    for tri in order:
        src = p3[list(tri), :2].astype(np.float32)
        dst = q3[list(tri), :2].astype(np.float32)
        if _winding(dst) * _winding(src) <= 0:
            continue  # turned away from the camera
        x0, y0 = np.floor(dst.min(axis=0)).astype(int)
        x1, y1 = np.ceil(dst.max(axis=0)).astype(int) + 1
        if x1 - x0 < 1 or y1 - y0 < 1:
            continue
        m = cv2.getAffineTransform(src, (dst - np.array([x0, y0], np.float32)).astype(np.float32))
        patch = cv2.warpAffine(
            rgb, m, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillConvexPoly(mask, np.round(dst - [x0, y0]).astype(np.int32), 1)
        region = out[y0:y1, x0:x1]
        keep = mask[: region.shape[0], : region.shape[1]].astype(bool)
        region[keep] = patch[: region.shape[0], : region.shape[1]][keep]
    return out
