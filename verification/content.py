"""What an exam office looks at in a standard photo beyond its format: eyes open, mouth
closed, a neutral expression, the head facing the camera, nothing over the face (hands,
objects, dark glasses, lens glare), forehead and brows clear (no hat, no fringe), even
light, both shoulders in the picture in clothes that do not melt into the background,
and, after background replacement, a clean outline (no halo) and no leftover patches.

Dense landmarks and masks come from models inside the `mediapipe==0.10.14` wheel (face
mesh with iris, hands, selfie segmentation; nothing is downloaded). Each component is a
measurement with a stable problem code; which components apply is per profile
(`rules.photo.Profile.content_checks`). The limits below sit between what good portraits
and made-bad ones measure (benchmarks.photo prints both).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np

from verification.errors import MissingDependency

# Face-mesh indices (MediaPipe's canonical face model).
LEFT_EYE = (33, 133, 159, 145)  # corners, upper lid, lower lid
RIGHT_EYE = (362, 263, 386, 374)
LIPS = (78, 308, 13, 14)  # inner corners, inner upper lip, inner lower lip
NOSE_TIP, LEFT_CHEEK_EDGE, RIGHT_CHEEK_EDGE = 1, 234, 454
# The cheeks: the face's own skin colour and light, left against right.
SKIN = {"left_cheek": 205, "right_cheek": 425}
EYE_CENTRES = (468, 473)  # iris centres (refined landmarks)
EYE_OUTLINES = (
    (33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7),
    (263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249),
)
BROWS_TOP = (105, 334)
MOUTH_CORNERS = (61, 291)
LIP_BODY = (0, 17, 37, 267, 84, 314)  # upper and lower lip, centre and sides

EYES_CLOSED_MAX = 0.12  # lid gap / eye width; open eyes measure 0.2-0.4
MOUTH_OPEN_MIN = 0.12  # inner-lip gap / mouth width; a closed mouth measures under 0.05
CAVITY_DARK = 0.45  # darker than this share of the cheeks' lightness: the mouth's inside
MOUTH_CAVITY_MAX = 0.14  # dark rows at the mouth's centre / its width: closed lips ≤ 0.09
YAW_MAX_DEG = 20.0  # the real test portraits turn up to 14°; the bad class is 25°
PITCH_MAX_DEG = 25.0  # a real test portrait tilts up to 19°
IRIS_VISIBLE_MAX = 0.6  # iris brightness / cheek brightness above this: the eyes are covered
GAP_SKIN_MIN = 10.0  # Lab distance of the lips' gap from the cheeks below this: skin covers it
MOUTH_LINE_MAX = 0.95  # lip line / lips' brightness above this: no lip line, the mouth is covered
LIPS_SKIN_MIN = 10.0  # Lab distance of the lips from the cheeks; real closed lips 30-40
NOSTRIL_LIGHT_MAX = 0.6  # darkest tenth under the nose / cheeks; 0.2-0.45 uncovered, smiles 0.75
DARK_EYES_MAX = 0.42  # eye-region brightness / cheek brightness (dark glasses)
LIGHT_RATIO_MIN = 0.62  # darker cheek / lighter cheek (a half-face shadow)
NOSE_YAW_MAX_DEG = 23.0  # yaw from where the nose tip sits between the cheeks' edges
FOREHEAD_SKIN_MIN = 0.5  # share of the forehead with the cheeks' colour; clear ones measure >0.9
HAIR_TEXTURE_MIN = 14.0  # mean horizontal gradient of what covers it: hair 16-100, cloth 6-9
GLARE_SHARE_MAX = 0.02  # near-white share of a lens outside the eye opening
GLARE_LIGHT = 212  # Lab L (0-255) counted as near-white
SMILE_LIFT_MAX = 0.04  # mouth corners above the lips' centre, per mouth width; neutral ≤ 0
SHOULDER_SIDE_GAP_MAX = 0.45  # background share beside one shoulder minus the other's
CLOTHING_BG_SHARE_MAX = 0.08  # share of the clothes in the background's colour
CLOTHES_FOLDS_MIN = 8.0  # mean gradient there: cloth's folds, not flat background
PATCH_SHARE_MAX = 0.005  # background not of the background colour, in blobs (good photos: 0)
HALO_FLAT_MAX = 0.2  # flat share of the head's outline: good cut-outs up to 0.16, rings 0.13-0.93
HALO_SPECK_MAX = 2.8  # its colour speckle: good cut-outs 1.2-1.8, ragged cuts 3.9-4.7


@dataclass
class Content:
    problems: list[str] = field(default_factory=list)
    measurements: dict[str, Any] = field(default_factory=dict)
    regions: dict[str, list[int]] = field(default_factory=dict)  # code → [x0, y0, x1, y1]


# The graphs are not re-entrant: a server without worker processes runs checks in threads.
_LOCK = threading.Lock()


@cache
def _models() -> tuple[Any, Any, Any]:
    try:
        from mediapipe.python.solutions import face_mesh, hands, selfie_segmentation
    except ImportError as exc:
        raise MissingDependency("缺少照片内容检测组件 mediapipe。") from exc
    return (
        face_mesh.FaceMesh(static_image_mode=True, refine_landmarks=True, max_num_faces=2),
        hands.Hands(static_image_mode=True, max_num_hands=2, min_detection_confidence=0.5),
        selfie_segmentation.SelfieSegmentation(model_selection=0),
    )


def landmarks3d(rgb: np.ndarray) -> np.ndarray | None:
    """The face mesh (478 × (x, y, z) pixels; z is depth at the x scale) of the largest
    face, or None."""
    mesh, _hands, _seg = _models()
    with _LOCK:
        found = mesh.process(np.ascontiguousarray(rgb))
    if not found.multi_face_landmarks:
        return None
    h, w = rgb.shape[:2]
    faces = [
        np.array([(p.x * w, p.y * h, p.z * w) for p in face.landmark], np.float32)
        for face in found.multi_face_landmarks
    ]
    return max(faces, key=lambda p: float(np.ptp(p[:, 0]) * np.ptp(p[:, 1])))


def landmarks(rgb: np.ndarray) -> np.ndarray | None:
    """The face mesh's (x, y) pixels, or None."""
    p3 = landmarks3d(rgb)
    return None if p3 is None else p3[:, :2]


def person_mask(rgb: np.ndarray) -> np.ndarray:
    """Soft person mask (0..1) from the selfie-segmentation model."""
    _mesh, _hands, seg = _models()
    with _LOCK:
        return np.asarray(seg.process(np.ascontiguousarray(rgb)).segmentation_mask, np.float32)


def hand_points(rgb: np.ndarray) -> list[np.ndarray]:
    _mesh, hands, _seg = _models()
    with _LOCK:
        found = hands.process(np.ascontiguousarray(rgb))
    h, w = rgb.shape[:2]
    return [
        np.array([(p.x * w, p.y * h) for p in hand.landmark], np.float32)
        for hand in (found.multi_hand_landmarks or [])
    ]


def _ratio(p: np.ndarray, corners: tuple[int, int], lids: tuple[int, int]) -> float:
    width = float(np.linalg.norm(p[corners[0]] - p[corners[1]]))
    return float(np.linalg.norm(p[lids[0]] - p[lids[1]])) / max(width, 1.0)


def _patch(image: np.ndarray, centre: np.ndarray, radius: int) -> np.ndarray:
    x, y = int(centre[0]), int(centre[1])
    h, w = image.shape[:2]
    return image[
        max(0, y - radius) : min(h, y + radius + 1), max(0, x - radius) : min(w, x + radius + 1)
    ]


def _box(points: np.ndarray, pad: float = 0.0) -> list[int]:
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    dx, dy = pad * (x1 - x0), pad * (y1 - y0)
    return [int(x0 - dx), int(y0 - dy), int(x1 + dx), int(y1 + dy)]


def _pose(p3: np.ndarray) -> tuple[float, float]:
    """Yaw and pitch in degrees from the mesh's depth: the cheek-to-cheek line turned
    away from the image plane, and the forehead-to-chin line."""
    across = p3[RIGHT_CHEEK_EDGE] - p3[LEFT_CHEEK_EDGE]
    down = p3[152] - p3[10]
    return (
        float(np.degrees(np.arctan2(across[2], across[0]))),
        float(np.degrees(np.arctan2(down[2], down[1]))),
    )


def analyse(
    rgb: np.ndarray,
    checks: tuple[str, ...],
    background_rgb: np.ndarray | None = None,
) -> Content:
    """The content components named in `checks` on an RGB photo."""
    import cv2

    out = Content()
    m = out.measurements
    p3 = landmarks3d(rgb)
    if p3 is None:
        m["mesh"] = False
        return out
    p = p3[:, :2]
    m["mesh"] = True
    face_w = abs(float(p[RIGHT_CHEEK_EDGE, 0] - p[LEFT_CHEEK_EDGE, 0])) or 1.0
    r = max(2, round(0.04 * face_w))
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    light = lab[..., 0]

    def mean(channel: np.ndarray, index: int, radius: int = r) -> float:
        return float(_patch(channel, p[index], radius).mean())

    cheeks_lab = np.mean(
        [_patch(lab, p[i], r).reshape(-1, 3).mean(axis=0) for i in SKIN.values()], axis=0
    )
    cheeks_l = float(cheeks_lab[0])
    mouth_w = float(np.linalg.norm(p[MOUTH_CORNERS[1]] - p[MOUTH_CORNERS[0]])) or 1.0

    if "eyes_closed" in checks:
        left = _ratio(p, LEFT_EYE[:2], LEFT_EYE[2:])
        right = _ratio(p, RIGHT_EYE[:2], RIGHT_EYE[2:])
        m["eye_openness"] = [round(left, 3), round(right, 3)]
        if min(left, right) < EYES_CLOSED_MAX:
            out.problems.append("eyes_closed")
            out.regions["eyes_closed"] = _box(p[[33, 133, 362, 263, 159, 386]], 0.3)
    if "mouth_open" in checks:
        mouth = _ratio(p, LIPS[:2], LIPS[2:])
        # The mesh can lay closed lips over a dark open mouth; the cavity itself is the
        # other measure: rows between the lips' outer edges, at the centre, that are dark.
        cx = float(p[13, 0] + p[14, 0]) / 2
        y0, y1 = int(min(p[0, 1], p[13, 1])), int(max(p[17, 1], p[14, 1]))
        centre = light[
            max(0, y0) : y1 + 1, max(0, int(cx - 0.2 * mouth_w)) : int(cx + 0.2 * mouth_w) + 1
        ]
        cavity = float(((centre < CAVITY_DARK * cheeks_l).mean(axis=1) > 0.5).sum()) / mouth_w
        m["mouth_openness"], m["mouth_cavity"] = round(mouth, 3), round(cavity, 3)
        if mouth > MOUTH_OPEN_MIN or cavity > MOUTH_CAVITY_MAX:
            out.problems.append("mouth_open")
            out.regions["mouth_open"] = _box(p[[78, 308, 13, 14, 0, 17]], 0.3)
    if "head_pose" in checks:
        yaw, pitch = _pose(p3)
        # The mesh's depth understates a turn; where the nose tip sits between the cheeks'
        # edges does not (a head of round cross-section: offset = tan(yaw) / 2).
        nose = float((p[NOSE_TIP, 0] - p[LEFT_CHEEK_EDGE, 0]) / face_w)
        nose_yaw = float(np.degrees(np.arctan(2 * (nose - 0.5))))
        m["yaw_deg"], m["pitch_deg"] = round(yaw, 1), round(pitch, 1)
        m["nose_yaw_deg"] = round(nose_yaw, 1)
        if abs(yaw) > YAW_MAX_DEG or abs(nose_yaw) > NOSE_YAW_MAX_DEG or abs(pitch) > PITCH_MAX_DEG:
            out.problems.append("head_not_frontal")
            out.regions["head_not_frontal"] = _box(p, 0.05)
    if "dark_glasses" in checks:
        eye_r = max(2, round(0.06 * face_w))
        eyes = np.mean([mean(light, i, eye_r) for i in (159, 386, 145, 374)])
        ratio = float(eyes / max(1.0, cheeks_l))
        m["eye_brightness_ratio"] = round(ratio, 3)
        if ratio < DARK_EYES_MAX:
            out.problems.append("dark_glasses")
            out.regions["dark_glasses"] = _box(p[[33, 133, 362, 263, 159, 386, 145, 374]], 0.4)
    if "occlusion" in checks:
        # What a face shows when nothing covers it: dark irises, lips redder than the
        # cheeks, brows darker than the forehead; and no hand over it.
        iris_r = max(1, round(0.015 * face_w))
        iris = float(np.mean([mean(light, i, iris_r) for i in EYE_CENTRES])) / max(1.0, cheeks_l)
        # The line between closed lips is the darkest part of the mouth.
        slit_r = max(1, round(0.012 * face_w))
        slit = mean(light, 13, slit_r) + mean(light, 14, slit_r)
        around = mean(light, 0) + mean(light, 17)
        mouth_line = float(slit / max(1.0, around))
        # Between the lips: a dark line, a dark open mouth or white teeth — never skin.
        gap_lab = np.mean(
            [_patch(lab, p[i], slit_r).reshape(-1, 3).mean(axis=0) for i in (13, 14)], axis=0
        )
        gap_skin = float(np.linalg.norm(gap_lab - cheeks_lab))
        face_box = _box(p, 0.1)
        hands = [
            _box(hand)
            for hand in hand_points(rgb)
            if (
                (hand[:, 0] > face_box[0])
                & (hand[:, 0] < face_box[2])
                & (hand[:, 1] > face_box[1])
                & (hand[:, 1] < face_box[3])
            ).mean()
            > 0.2
        ]
        m.update(
            iris_darkness=round(iris, 3),
            mouth_line=round(mouth_line, 3),
            mouth_gap_skin=round(gap_skin, 1),
            hands_on_face=len(hands),
        )
        # The lips stand out from the cheeks (darker or redder); under a hand they do not.
        # A broad smile thins them, so this cue waits for a closed mouth.
        lip_r = max(1, round(0.02 * face_w))
        lips_lab = np.mean(
            [_patch(lab, p[i], lip_r).reshape(-1, 3).mean(axis=0) for i in LIP_BODY], axis=0
        )
        lips_skin = float(np.linalg.norm(lips_lab - cheeks_lab))
        # The nostrils under the nose tip are the darkest spots of an uncovered face.
        nostrils = float(np.percentile(_patch(light, p[2], max(2, round(0.06 * face_w))), 10))
        nostrils /= max(1.0, cheeks_l)
        m.update(lips_from_skin=round(lips_skin, 1), nostril_light=round(nostrils, 3))
        # One cue alone can be a face that is simply unusual (pale irises, a thin or
        # moustached lip line): a cover needs the hand model, or two cues agreeing.
        cues = {
            "nostrils": nostrils > NOSTRIL_LIGHT_MAX,
            "lips_like_skin": lips_skin < LIPS_SKIN_MIN and "mouth_open" not in out.problems,
            "eyes": iris > IRIS_VISIBLE_MAX
            and not {"dark_glasses", "eyes_closed"} & set(out.problems),
            "lip_line": mouth_line > MOUTH_LINE_MAX and "mouth_open" not in out.problems,
            "skin_between_lips": gap_skin < GAP_SKIN_MIN,
        }
        m["cover_cues"] = sorted(k for k, v in cues.items() if v)
        if (
            hands
            or sum(cues.values()) >= 2
            or (cues["skin_between_lips"] and mouth_line > MOUTH_LINE_MAX)
        ):
            out.problems.append("face_covered")
            box = (
                _box(p[[33, 133, 362, 263]], 0.4)
                if cues["eyes"]
                else _box(p[[78, 308, 0, 17]], 0.5)
            )
            out.regions["face_covered"] = hands[0] if hands else box
            if "mouth_open" in out.problems and cues["skin_between_lips"]:
                out.problems.remove("mouth_open")  # what looked like an open mouth is a cover
                out.regions.pop("mouth_open", None)
    if "uneven_light" in checks:
        left = mean(light, SKIN["left_cheek"], 2 * r)
        right = mean(light, SKIN["right_cheek"], 2 * r)
        ratio = float(min(left, right) / max(1.0, max(left, right)))
        m["cheek_light_ratio"] = round(ratio, 3)
        if ratio < LIGHT_RATIO_MIN:
            out.problems.append("uneven_light")
            darker = SKIN["left_cheek"] if left < right else SKIN["right_cheek"]
            cx, cy = p[darker]
            out.regions["uneven_light"] = [
                int(cx - 0.25 * face_w),
                int(cy - 0.3 * face_w),
                int(cx + 0.25 * face_w),
                int(cy + 0.3 * face_w),
            ]
    if "forehead" in checks:
        _forehead(out, lab, p, face_w, cheeks_lab)
    if "glasses_glare" in checks:
        _glare(out, lab, p, face_w)
    if "expression" in checks:
        centre = (p[13, 1] + p[14, 1]) / 2
        lift = float((centre - (p[MOUTH_CORNERS[0], 1] + p[MOUTH_CORNERS[1], 1]) / 2) / mouth_w)
        m["smile_lift"] = round(lift, 3)
        if lift > SMILE_LIFT_MAX and "mouth_open" not in out.problems:
            out.problems.append("expression")
            out.regions["expression"] = _box(p[[61, 291, 0, 17]], 0.4)
    # The selfie-segmentation mask, run once for what needs it.
    person = (
        person_mask(rgb)
        if background_rgb is not None and {"shoulders", "cutout"} & set(checks)
        else None
    )
    if "shoulders" in checks and person is not None and background_rgb is not None:
        _shoulders(out, person, lab, p, face_w, cheeks_lab, background_rgb)
    if "cutout" in checks and person is not None and background_rgb is not None:
        flat, speck, patches_share = cutout_quality(
            rgb,
            lab,
            background_rgb,
            chin=float(p[152, 1]),
            cheeks_lab=cheeks_lab,
            soft_mask=person,
        )
        m.update(
            edge_flat_share=round(flat, 3),
            edge_speck=round(speck, 1),
            background_patches=round(patches_share, 4),
        )
        # A hat's cloth is as flat as a ring of old background: with a hat found, the
        # outline's flatness says nothing about the cut.
        flat_ring = flat > HALO_FLAT_MAX and "headwear" not in out.problems
        if flat_ring or speck > HALO_SPECK_MAX:
            out.problems.append("cutout_halo")
            out.regions["cutout_halo"] = _box(p, 0.35)
        if patches_share > PATCH_SHARE_MAX:
            out.problems.append("background_patches")
    return out


def _lab(colour: np.ndarray) -> np.ndarray:
    """One RGB colour in OpenCV's 8-bit Lab (L 0-255, a and b around 128)."""
    import cv2

    pixel = np.asarray(colour, np.float32).reshape(1, 1, 3).clip(0, 255).astype(np.uint8)
    return cv2.cvtColor(pixel, cv2.COLOR_RGB2LAB).astype(np.float32)[0, 0]


def _skin_like(lab: np.ndarray, cheeks_lab: np.ndarray) -> np.ndarray:
    """Pixels of the cheeks' hue (a, b close) at a lightness a face's own shading reaches
    (a shiny forehead is lighter, a shaded one darker; both are still skin)."""
    chroma = np.linalg.norm(lab[..., 1:] - cheeks_lab[1:], axis=-1)
    light = lab[..., 0] / max(1.0, float(cheeks_lab[0]))
    return (chroma < 10) & (light > 0.6) & (light < 1.7)


def _forehead(
    out: Content, lab: np.ndarray, p: np.ndarray, face_w: float, cheeks_lab: np.ndarray
) -> None:
    """Headwear or hair over the forehead and brows: the forehead between the hairline and
    the brows should be skin. What covers it is named by its texture: hair is strands
    (strong fine gradients), a hat's cloth is smooth."""
    import cv2

    cx = float(p[168, 0])
    brows = float(min(p[BROWS_TOP[0], 1], p[BROWS_TOP[1], 1]))
    box = [
        int(cx - 0.25 * face_w),
        max(0, int(p[10, 1] - 0.05 * face_w)),
        int(cx + 0.25 * face_w),
        int(brows - 0.06 * face_w),
    ]
    region = lab[box[1] : box[3], max(0, box[0]) : box[2]]
    if region.size == 0:
        return
    skin = _skin_like(region, cheeks_lab)
    share = float(skin.mean())
    out.measurements["forehead_skin"] = round(share, 3)
    if share >= FOREHEAD_SKIN_MIN:
        return
    covered = cv2.erode((~skin).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    gradient = np.abs(cv2.Sobel(region[..., 0], cv2.CV_32F, 1, 0, ksize=3))
    texture = float(gradient[covered].mean()) if covered.any() else 0.0
    out.measurements["forehead_cover_texture"] = round(texture, 1)
    code = "brows_covered" if texture >= HAIR_TEXTURE_MIN else "headwear"
    out.problems.append(code)
    # A hat: the head above the brows; hair: the forehead and both brows.
    top = p[10, 1] - (0.6 if code == "headwear" else 0.05) * face_w
    out.regions[code] = [
        int(cx - 0.6 * face_w),
        max(0, int(top)),
        int(cx + 0.6 * face_w),
        int(brows + 0.08 * face_w),
    ]


def _glare(out: Content, lab: np.ndarray, p: np.ndarray, face_w: float) -> None:
    """Lens glare: near-white, colourless blobs where a lens sits around each eye, the
    eye opening itself left out (its white and its catch-light are not glare)."""
    import cv2

    chroma = np.linalg.norm(lab[..., 1:] - 128, axis=-1)
    white = (lab[..., 0] > GLARE_LIGHT) & (chroma < 15)
    shares, boxes = [], []
    for centre, outline in zip(EYE_CENTRES, EYE_OUTLINES, strict=True):
        lens = np.zeros(lab.shape[:2], np.uint8)
        c = (int(p[centre, 0]), int(p[centre, 1] + 0.02 * face_w))
        axes = (int(0.24 * face_w), int(0.16 * face_w))
        cv2.ellipse(lens, c, axes, 0, 0, 360, 1, -1)
        cv2.fillPoly(lens, [p[list(outline)].astype(np.int32)], 0)
        inside = lens.astype(bool)
        shares.append(float((white & inside).sum()) / max(1, int(inside.sum())))
        boxes.append([c[0] - axes[0], c[1] - axes[1], c[0] + axes[0], c[1] + axes[1]])
    out.measurements["lens_glare"] = round(max(shares), 3)
    if max(shares) > GLARE_SHARE_MAX:
        out.problems.append("glasses_glare")
        out.regions["glasses_glare"] = boxes[int(np.argmax(shares))]


def _shoulders(
    out: Content,
    person_soft: np.ndarray,
    lab: np.ndarray,
    p: np.ndarray,
    face_w: float,
    cheeks_lab: np.ndarray,
    background_rgb: np.ndarray,
) -> None:
    """Both shoulders in the picture, and clothes that do not melt into the background:
    beside each shoulder, how much is background colour (one side far more than the
    other: a shoulder is cut off); and how much of the clothes is (they merge)."""
    import cv2

    h, w = lab.shape[:2]
    chin = float(p[152, 1])
    near_bg = np.linalg.norm(lab - _lab(background_rgb), axis=-1) < 25
    if chin + 0.15 * face_w >= 0.97 * h:
        return  # no shoulders in the frame: the head-size rule speaks for the framing
    # Half a face below the chin; in a tight frame, the lowest rows there are.
    row = int(min(chin + 0.55 * face_w, 0.97 * h))
    half = int(0.08 * face_w)
    rows = slice(max(int(chin + 0.15 * face_w), row - half), min(h, row + half))
    band = near_bg[rows]
    # Clothes have folds and seams; a flat stretch of background colour where a shoulder
    # should be is background (the shoulder is cut off), even where the segmentation
    # model guesses a shoulder.
    gradient = np.abs(cv2.Sobel(lab[..., 0], cv2.CV_32F, 1, 0, ksize=3)) + np.abs(
        cv2.Sobel(lab[..., 0], cv2.CV_32F, 0, 1, ksize=3)
    )
    sides, side_folds = [], []
    for sign in (-1, 1):
        xa, xb = sorted(
            (int(p[NOSE_TIP, 0] + sign * 0.55 * face_w), int(p[NOSE_TIP, 0] + sign * 0.95 * face_w))
        )
        part = band[:, max(0, xa) : min(w, xb)]
        # Beyond the frame counts as missing too.
        outside = max(0, -xa) + max(0, xb - w)
        sides.append(
            (float(part.sum()) + outside * band.shape[0]) / max(1, (xb - xa) * band.shape[0])
        )
        texture = gradient[rows, max(0, xa) : min(w, xb)][part]
        side_folds.append(float(texture.mean()) if texture.size else 0.0)
    gap = abs(sides[0] - sides[1])
    cut = int(np.argmax(sides))
    person = person_soft > 0.5
    below = np.arange(h)[:, None] > chin + 0.3 * face_w
    clothes = person & below & ~_skin_like(lab, cheeks_lab)
    # In a tight frame only a collar's depth of clothes shows: too little to judge.
    tight = chin + 0.3 * face_w >= 0.95 * h
    merged = float(near_bg[clothes].mean()) if clothes.any() and not tight else 0.0
    folds_px = clothes & near_bg
    folds = float(gradient[folds_px].mean()) if folds_px.any() else 0.0
    out.measurements.update(
        shoulder_background=[round(v, 2) for v in sides],
        shoulder_folds=[round(v, 1) for v in side_folds],
        clothes_in_background=round(merged, 3),
        clothes_folds=round(folds, 1),
    )
    y0 = max(0, row - int(0.25 * face_w))
    one_cut = gap > SHOULDER_SIDE_GAP_MAX and side_folds[cut] < CLOTHES_FOLDS_MIN
    if not one_cut and merged > CLOTHING_BG_SHARE_MAX and folds >= CLOTHES_FOLDS_MIN:
        out.problems.append("clothing_merges")
        out.regions["clothing_merges"] = [
            int(p[NOSE_TIP, 0] - 1.0 * face_w),
            y0,
            int(p[NOSE_TIP, 0] + 1.0 * face_w),
            h - 1,
        ]
    elif gap > SHOULDER_SIDE_GAP_MAX or merged > CLOTHING_BG_SHARE_MAX:
        out.problems.append("shoulders")
        x = p[NOSE_TIP, 0] + (1 if cut else -1) * 0.75 * face_w
        out.regions["shoulders"] = [int(x - 0.3 * face_w), y0, int(x + 0.3 * face_w), h - 1]


def cutout_quality(
    rgb: np.ndarray,
    lab: np.ndarray,
    background_rgb: np.ndarray,
    *,
    chin: float,
    cheeks_lab: np.ndarray,
    soft_mask: np.ndarray,
) -> tuple[float, float, float]:
    """How clean the person's outline and the background are. Along the outline of the
    head (a band either side of the segmentation's edge, down to the chin), where the
    colour is not the background's: the share that is flat (a ring of the old background
    left by a cut too wide has no texture; hair and skin do), and the mean speckle (a
    ragged cut leaves pixels of two colours side by side). And the share of the image
    where the background should be that holds sizeable blobs of another colour (leftover
    patches). `lab`: the photo in float Lab; `soft_mask`: its `person_mask`."""
    import cv2

    mask = soft_mask > 0.5
    if mask.mean() < 0.05:
        return 0.0, 0.0, 0.0
    kernel = np.ones((3, 3), np.uint8)
    person = mask.astype(np.uint8)
    h, w = rgb.shape[:2]
    reach = max(2, round(8 * max(h, w) / 640))
    band = (
        cv2.dilate(person, kernel, iterations=reach) - cv2.erode(person, kernel, iterations=reach)
    ).astype(bool)
    band[int(chin) :, :] = False  # the head, not the shoulders
    bg_lab = _lab(background_rgb)
    outline = band & (np.linalg.norm(lab - bg_lab, axis=-1) > 30)
    outline &= ~_skin_like(lab, cheeks_lab)  # ears and cheeks are smooth by nature
    light = lab[..., 0]
    # Texture among the outline's own pixels (the background beside them left out, so a
    # thin ring is judged by itself).
    weight = outline.astype(np.float32)
    total = np.maximum(cv2.blur(weight, (5, 5)), 1e-3)
    mean = cv2.blur(light * weight, (5, 5)) / total
    spread = np.sqrt(np.maximum(cv2.blur(light * light * weight, (5, 5)) / total - mean * mean, 0))
    flat = float((outline & (spread < 3)).sum()) / max(1, int(outline.sum()))
    # Speckle in colour at half size: a JPEG keeps colour at half resolution, so a ragged
    # cut shows there as neighbours of two hues; hair and skin change hue smoothly.
    half = cv2.resize(lab, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    rough = cv2.resize(
        band.astype(np.uint8), half.shape[1::-1], interpolation=cv2.INTER_NEAREST
    ).astype(bool) & (np.linalg.norm(half - bg_lab, axis=-1) > 20)
    median = cv2.medianBlur(half.clip(0, 255).astype(np.uint8), 3).astype(np.float32)
    speckle = np.linalg.norm(half[..., 1:] - median[..., 1:], axis=-1)
    speck = float(speckle[rough].mean()) if rough.any() else 0.0
    distance = np.linalg.norm(rgb.astype(np.float32) - background_rgb[None, None, :], axis=2)
    far = cv2.dilate(person, kernel, iterations=10) == 0
    odd = (far & (distance > 45)).astype(np.uint8)
    blobs, _labels, stats, _ = cv2.connectedComponentsWithStats(odd, connectivity=8)
    big = [a for a in stats[1:, cv2.CC_STAT_AREA] if a > 0.001 * odd.size] if blobs > 1 else []
    return flat, speck, float(sum(big)) / odd.size


def _guided(guide: np.ndarray, src: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """He et al.'s guided filter (grey guide): `src` smoothed but following the edges of
    `guide`, so a coarse mask snaps to the photo's own outline (hair, collar)."""
    import cv2

    size = (2 * radius + 1, 2 * radius + 1)

    def box(x: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(x, -1, size, borderType=cv2.BORDER_REFLECT)

    mean_i, mean_p = box(guide), box(src)
    var_i = box(guide * guide) - mean_i * mean_i
    cov = box(guide * src) - mean_i * mean_p
    a = cov / (var_i + eps)
    b = mean_p - a * mean_i
    return box(a) * guide + box(b)


def cutout_alpha(rgb: np.ndarray) -> np.ndarray:
    """The person's alpha (0..1): the segmentation model's soft mask, kept to the one
    piece that is the person (no specks of the room), snapped to the photo's edges by a
    guided filter and steepened so the blended band is a pixel or two wide."""
    import cv2

    soft = person_mask(rgb)
    h, w = soft.shape
    core = (soft > 0.5).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(core, connectivity=8)
    if count > 2:
        core = (labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))).astype(np.uint8)
    reach = max(3, round(0.012 * max(h, w)))
    near = cv2.dilate(core, np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)).astype(np.float32)
    soft = soft * near
    guide = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255
    alpha = _guided(guide, soft, max(2, round(0.008 * max(h, w))), 1e-3)
    alpha = np.clip((alpha - 0.5) * 2.5 + 0.5, 0, 1) * near
    return cv2.GaussianBlur(alpha.astype(np.float32), (3, 3), 0)


def replace_background(rgb: np.ndarray, colour: tuple[int, int, int]) -> tuple[np.ndarray, float]:
    """The person over `colour` (`cutout_alpha`). Along the edge the photo's pixels still
    hold some of the old background; there the person's colour is taken from just inside
    the outline instead, so no ring of the old background is left. Returns the image and
    the mean width in pixels of the blended band along the outline."""
    import cv2

    alpha = cutout_alpha(rgb)
    solid = (alpha > 0.97).astype(np.float32)
    k = (9, 9)
    weight = cv2.blur(solid, k)
    inside = (
        cv2.blur(rgb.astype(np.float32) * solid[..., None], k) / np.maximum(weight, 1e-3)[..., None]
    )
    person = np.where(((alpha < 0.97) & (weight > 0.05))[..., None], inside, rgb.astype(np.float32))
    a = alpha[..., None]
    out = person * a + np.array(colour, np.float32)[None, None, :] * (1 - a)
    blended = float(((alpha > 0.05) & (alpha < 0.95)).sum()) / max(
        1.0, float((alpha > 0.5).sum()) ** 0.5 * 4
    )
    return np.clip(out, 0, 255).astype(np.uint8), round(blended, 3)
