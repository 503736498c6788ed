"""What an exam office looks at in a standard photo beyond its format: eyes open, mouth
closed, the head facing the camera, nothing over the face (hands, objects, dark glasses),
even light, and a clean cut-out after background replacement.

Dense landmarks and masks come from models inside the `mediapipe==0.10.14` wheel (face
mesh with iris, hands, selfie segmentation; nothing is downloaded). Each component is a
measurement with a stable problem code; which components apply is per profile
(`rules.photo.Profile.content_checks`). The limits below sit between what good portraits
and made-bad ones measure (benchmarks.photo prints both).
"""

from __future__ import annotations

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
# Patches of skin where nothing should cover the face, in pairs where light is compared.
SKIN = {
    "forehead": 151,
    "left_cheek": 205,
    "right_cheek": 425,
    "nose": 4,
    "chin": 199,
    "upper_lip": 164,
}
EYE_CENTRES = (468, 473)  # iris centres (refined landmarks)

EYES_CLOSED_MAX = 0.12  # lid gap / eye width; open eyes measure 0.2-0.4
MOUTH_OPEN_MIN = 0.12  # inner-lip gap / mouth width; a closed mouth measures under 0.05
YAW_MAX = 0.12  # nose tip off the middle of the cheeks, as a share of the face's width
PITCH_RANGE = (0.25, 0.75)  # nose tip between the eyes (0) and the chin (1)
SKIN_DISTANCE_MAX = 38.0  # Lab distance of a skin patch from the face's own skin
DARK_EYES_MAX = 0.42  # eye-region brightness / cheek brightness (dark glasses)
LIGHT_RATIO_MIN = 0.62  # darker cheek / lighter cheek (a half-face shadow)
HALO_MAX = 28.0  # colour distance of the band just outside the person from the background
PATCH_SHARE_MAX = 0.006  # background not of the background colour, in blobs


@dataclass
class Content:
    problems: list[str] = field(default_factory=list)
    measurements: dict[str, Any] = field(default_factory=dict)
    regions: dict[str, list[int]] = field(default_factory=dict)  # code → [x0, y0, x1, y1]


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


def landmarks(rgb: np.ndarray) -> np.ndarray | None:
    """The face mesh (478 × (x, y) pixels) of the largest face, or None."""
    mesh, _hands, _seg = _models()
    found = mesh.process(np.ascontiguousarray(rgb))
    if not found.multi_face_landmarks:
        return None
    h, w = rgb.shape[:2]
    faces = [
        np.array([(p.x * w, p.y * h) for p in face.landmark], np.float32)
        for face in found.multi_face_landmarks
    ]
    return max(faces, key=lambda p: float(np.ptp(p[:, 0]) * np.ptp(p[:, 1])))


def person_mask(rgb: np.ndarray) -> np.ndarray:
    """Soft person mask (0..1) from the selfie-segmentation model."""
    _mesh, _hands, seg = _models()
    return np.asarray(seg.process(np.ascontiguousarray(rgb)).segmentation_mask, np.float32)


def hand_points(rgb: np.ndarray) -> list[np.ndarray]:
    _mesh, hands, _seg = _models()
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
    return image[max(0, y - radius) : min(h, y + radius + 1), max(0, x - radius) : min(w, x + radius + 1)]


def _box(points: np.ndarray, pad: float = 0.0) -> list[int]:
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    dx, dy = pad * (x1 - x0), pad * (y1 - y0)
    return [int(x0 - dx), int(y0 - dy), int(x1 + dx), int(y1 + dy)]


def analyse(
    rgb: np.ndarray,
    checks: tuple[str, ...],
    background_rgb: np.ndarray | None = None,
) -> Content:
    """The content components named in `checks` on an RGB photo."""
    import cv2

    out = Content()
    m = out.measurements
    p = landmarks(rgb)
    if p is None:
        m["mesh"] = False
        return out
    m["mesh"] = True
    face_w = float(p[RIGHT_CHEEK_EDGE, 0] - p[LEFT_CHEEK_EDGE, 0]) or 1.0
    patch_r = max(2, round(0.04 * abs(face_w)))
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)

    if "eyes_closed" in checks:
        left = _ratio(p, LEFT_EYE[:2], LEFT_EYE[2:])
        right = _ratio(p, RIGHT_EYE[:2], RIGHT_EYE[2:])
        m["eye_openness"] = [round(left, 3), round(right, 3)]
        if min(left, right) < EYES_CLOSED_MAX:
            out.problems.append("eyes_closed")
            out.regions["eyes_closed"] = _box(p[[33, 133, 362, 263, 159, 386]], 0.3)
    if "mouth_open" in checks:
        mouth = _ratio(p, LIPS[:2], LIPS[2:])
        m["mouth_openness"] = round(mouth, 3)
        if mouth > MOUTH_OPEN_MIN:
            out.problems.append("mouth_open")
            out.regions["mouth_open"] = _box(p[[78, 308, 13, 14, 0, 17]], 0.3)
    if "head_pose" in checks:
        yaw = float((p[NOSE_TIP, 0] - p[LEFT_CHEEK_EDGE, 0]) / face_w - 0.5)
        eyes_y = float((p[159, 1] + p[386, 1]) / 2)
        chin_y = float(p[152, 1])
        pitch = float((p[NOSE_TIP, 1] - eyes_y) / max(1.0, chin_y - eyes_y))
        m["yaw_share"], m["pitch_share"] = round(yaw, 3), round(pitch, 3)
        if abs(yaw) > YAW_MAX or not PITCH_RANGE[0] <= pitch <= PITCH_RANGE[1]:
            out.problems.append("head_not_frontal")
    if "occlusion" in checks:
        face_box = _box(p, 0.1)
        covered = []
        for hand in hand_points(rgb):
            inside = (
                (hand[:, 0] > face_box[0])
                & (hand[:, 0] < face_box[2])
                & (hand[:, 1] > face_box[1])
                & (hand[:, 1] < face_box[3])
            )
            if inside.mean() > 0.2:
                covered.append(_box(hand))
        m["hands_on_face"] = len(covered)
        patches = {k: _patch(lab, p[i], patch_r).reshape(-1, 3).mean(axis=0) for k, i in SKIN.items()}
        skin = np.median(np.array(list(patches.values())), axis=0)
        distances = {k: float(np.linalg.norm(v - skin)) for k, v in patches.items()}
        m["skin_distance"] = {k: round(v, 1) for k, v in distances.items()}
        odd = [k for k, d in distances.items() if d > SKIN_DISTANCE_MAX]
        if covered or len(odd) >= 1:
            out.problems.append("face_covered")
            out.regions["face_covered"] = covered[0] if covered else _box(p[[SKIN[k] for k in odd]], 0.5)
    if "dark_glasses" in checks:
        cheeks = np.concatenate(
            [_patch(gray, p[SKIN["left_cheek"]], patch_r).ravel(), _patch(gray, p[SKIN["right_cheek"]], patch_r).ravel()]
        )
        eye_r = max(2, round(0.06 * abs(face_w)))
        eyes = np.concatenate([_patch(gray, p[i], eye_r).ravel() for i in (159, 386, 145, 374)])
        ratio = float(eyes.mean() / max(1.0, cheeks.mean()))
        m["eye_brightness_ratio"] = round(ratio, 3)
        if ratio < DARK_EYES_MAX:
            out.problems.append("dark_glasses")
            out.regions["dark_glasses"] = _box(p[[33, 133, 362, 263, 159, 386, 145, 374]], 0.4)
    if "uneven_light" in checks:
        left = _patch(gray, p[SKIN["left_cheek"]], 2 * patch_r).mean()
        right = _patch(gray, p[SKIN["right_cheek"]], 2 * patch_r).mean()
        ratio = float(min(left, right) / max(1.0, max(left, right)))
        m["cheek_light_ratio"] = round(ratio, 3)
        if ratio < LIGHT_RATIO_MIN:
            out.problems.append("uneven_light")
    if "cutout" in checks and background_rgb is not None:
        halo, patches_share = cutout_quality(rgb, background_rgb)
        m["halo"], m["background_patches"] = round(halo, 1), round(patches_share, 4)
        if halo > HALO_MAX:
            out.problems.append("cutout_halo")
        if patches_share > PATCH_SHARE_MAX:
            out.problems.append("background_patches")
    return out


def cutout_quality(rgb: np.ndarray, background_rgb: np.ndarray) -> tuple[float, float]:
    """How clean the person's outline and the background are: the median colour distance
    from the background colour of a thin band just outside the person (a halo of the old
    background or a ragged cut raises it), and the share of the image where the background
    should be that holds sizeable blobs of another colour (leftover patches)."""
    import cv2

    mask = person_mask(rgb) > 0.5
    if mask.mean() < 0.05:
        return 0.0, 0.0
    kernel = np.ones((3, 3), np.uint8)
    person = mask.astype(np.uint8)
    outer = cv2.dilate(person, kernel, iterations=6) - cv2.dilate(person, kernel, iterations=2)
    h = rgb.shape[0]
    outer[int(0.85 * h) :, :] = 0  # the shoulders meet the bottom edge, not the background
    distance = np.linalg.norm(rgb.astype(np.float32) - background_rgb[None, None, :], axis=2)
    band = distance[outer.astype(bool)]
    halo = float(np.median(band)) if band.size else 0.0
    far = cv2.dilate(person, kernel, iterations=10) == 0
    odd = (far & (distance > 45)).astype(np.uint8)
    count, _labels, stats, _ = cv2.connectedComponentsWithStats(odd, connectivity=8)
    big = [a for a in stats[1:, cv2.CC_STAT_AREA] if a > 0.001 * odd.size] if count > 1 else []
    return halo, float(sum(big)) / odd.size


def replace_background(rgb: np.ndarray, colour: tuple[int, int, int]) -> tuple[np.ndarray, float]:
    """The person over `colour` with the segmentation model's soft mask (hair edges
    feathered, nothing of the old background left in rectangles). Returns the image and
    the mean width in pixels of the blended band along the outline."""
    import cv2

    alpha = person_mask(rgb)
    alpha = cv2.GaussianBlur(alpha, (5, 5), 0)
    # Pull the soft edge slightly inwards so no ring of the old background shows.
    alpha = np.clip((alpha - 0.15) / 0.7, 0.0, 1.0)[..., None]
    out = rgb.astype(np.float32) * alpha + np.array(colour, np.float32)[None, None, :] * (1 - alpha)
    edge = alpha[..., 0]
    blended = float(((edge > 0.05) & (edge < 0.95)).sum()) / max(1.0, float((edge > 0.5).sum()) ** 0.5 * 4)
    return np.clip(out, 0, 255).astype(np.uint8), round(blended, 3)
