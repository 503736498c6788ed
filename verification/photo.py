"""The standard e-photo (电子证件照): a checker that says what is wrong and how to fix it,
and a fixer (crop, resize, 300 dpi, file size, optionally the background).

The specs and the file rules live in `rules.photo` (the phone runs them too); `check` adds
the face and background rules (dlib via face_recognition, OpenCV) on the server. The
checker and the fixer share their measurements, hence one module.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from rules.photo import (
    DEFAULT_PROFILE,
    MESSAGES,
    PROFILES,
    CheckResult,
    Problem,
    Profile,
    measure_file,
)
from verification import DLIB
from verification.errors import BadImage, VerificationError

__all__ = ["DEFAULT_PROFILE", "MESSAGES", "PROFILES", "CheckResult", "Problem", "Profile"]


def profile(key: str | None) -> Profile:
    try:
        return PROFILES[key or DEFAULT_PROFILE]
    except KeyError:
        raise VerificationError(f"未知的照片规格：{key}", code="photo_profile_unknown") from None


def check_file(data: bytes, spec: Profile) -> CheckResult:
    """The file rules (rules.photo), after the upload checks that refuse a file outright
    (type, bombs, animation, CMYK …: BadImage)."""
    from verification.imageio import open_checked

    return measure_file(open_checked(data), data, spec)


@dataclass
class Face:
    top: int
    right: int
    bottom: int
    left: int
    eye_angle: float | None  # degrees; 0 when the eyes are level

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def center_x(self) -> float:
        return (self.left + self.right) / 2


def find_faces(rgb: np.ndarray, *, max_side: int = 640, upsample: int = 1) -> list[Face]:
    """Faces (HOG detector on a copy at most `max_side` px), in `rgb`'s coordinates.

    `upsample=0` is four times faster and finds faces down to ~80 px at `max_side`."""
    try:
        import face_recognition
    except ImportError as exc:
        from verification.errors import MissingDependency

        raise MissingDependency("缺少人脸检测组件 face_recognition。") from exc
    from PIL import Image

    scale = min(1.0, max_side / max(rgb.shape[:2]))
    small = rgb
    if scale < 1.0:
        small = np.asarray(
            Image.fromarray(rgb).resize(
                (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale)),
                Image.BILINEAR,
                reducing_gap=2.0,
            )
        )
    with DLIB:
        locations = face_recognition.face_locations(
            small, number_of_times_to_upsample=upsample, model="hog"
        )
        landmarks = (
            face_recognition.face_landmarks(small, locations, model="small") if locations else []
        )
    faces = []
    for (top, right, bottom, left), marks in zip(locations, landmarks, strict=True):
        angle = None
        if "left_eye" in marks and "right_eye" in marks:
            (lx, ly), (rx, ry) = (
                np.mean(marks["left_eye"], axis=0),
                np.mean(marks["right_eye"], axis=0),
            )
            angle = float(np.degrees(np.arctan2(ry - ly, rx - lx)))
        faces.append(
            Face(
                round(top / scale),
                round(right / scale),
                round(bottom / scale),
                round(left / scale),
                angle,
            )
        )
    return faces


# The first, unupsampled search: finds faces of at least 80 px at this size (a sixth of
# the photo's longer side), which every usable ID photo has.
COARSE_SIDE = 480


def locate_face(rgb: np.ndarray, *, max_side: int = 640) -> list[Face]:
    """The faces `find_faces(rgb)` finds, cheaper for one large face: found without
    upsampling first, then searched again upsampled only around it, at the same scale (so
    the box is the one the full search gives). Anything else: the full search."""
    coarse = find_faces(rgb, max_side=COARSE_SIDE, upsample=0)
    if len(coarse) != 1:
        return find_faces(rgb, max_side=max_side, upsample=1)
    face = coarse[0]
    pad = round(0.35 * face.height)
    y0, y1 = max(0, face.top - pad), min(rgb.shape[0], face.bottom + pad)
    x0, x1 = max(0, face.left - pad), min(rgb.shape[1], face.right + pad)
    scale = min(1.0, max_side / max(rgb.shape[:2]))
    region = rgb[y0:y1, x0:x1]
    refined = find_faces(region, max_side=round(max(region.shape[:2]) * scale), upsample=1)
    if len(refined) != 1:
        return find_faces(rgb, max_side=max_side, upsample=1)
    f = refined[0]
    return [Face(f.top + y0, f.right + x0, f.bottom + y0, f.left + x0, f.eye_angle)]


def head_top(rgb: np.ndarray, face: Face, background: np.ndarray) -> int:
    """The crown: the highest row above the face, in its columns, that is not background.

    Falls back to the face box top minus half its height (hair) when unclear.
    """
    x0, x1 = max(0, face.left), min(rgb.shape[1], face.right)
    region = rgb[: face.top, x0:x1].astype(np.float32)
    fallback = max(0, round(face.top - 0.5 * face.height))
    if region.size == 0:
        return fallback
    distance = np.linalg.norm(region - background[None, None, :], axis=2)
    rows = np.nonzero((distance > 45).mean(axis=1) > 0.25)[0]
    if rows.size == 0:
        return fallback
    top = int(rows.min())
    # Hair reaches at most about one face height above the eyebrows.
    return max(top, round(face.top - 0.9 * face.height))


def border_background(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """The background's mean colour, and how uneven it is: the largest colour distance
    between regions where only background should be (the two top corners, the top edge
    and the upper side edges) plus the texture inside them. Shadows, gradients and objects
    raise it; a head that reaches one side edge does not (the median region is used)."""
    h, w = rgb.shape[:2]
    cw, ch = max(2, w // 8), max(2, h // 10)
    regions = [
        rgb[:ch, :cw],
        rgb[:ch, w - cw :],
        rgb[: h // 20 + 1, w // 3 : 2 * w // 3],
        rgb[h // 6 : h // 3, : w // 16 + 1],
        rgb[h // 6 : h // 3, w - w // 16 - 1 :],
    ]
    means = np.array([r.reshape(-1, 3).astype(np.float32).mean(axis=0) for r in regions])
    texture = [float(r.reshape(-1, 3).astype(np.float32).std(axis=0).mean()) for r in regions[:3]]
    colour = np.median(means, axis=0)
    corners = means[:3]  # never covered by a centred head
    spread = float(max(np.linalg.norm(a - b) for a in corners for b in corners)) + max(texture)
    return colour, spread


def _hsv(rgb: np.ndarray) -> tuple[float, float, float]:
    import colorsys

    h, s, v = colorsys.rgb_to_hsv(*(float(c) / 255 for c in rgb))
    return h * 360, s, v


def check(data: bytes, spec: Profile) -> CheckResult:
    """Every rule: the file rules, then face, composition, background and exposure."""
    import cv2

    from verification.imageio import load_upright, open_checked, sniff

    result = check_file(data, spec)
    rgb = load_upright(open_checked(data), sniff(data) or "").rgb
    h, w = rgb.shape[:2]
    faces = find_faces(rgb)
    bg, spread = border_background(rgb)
    hue, sat, val = _hsv(bg)
    result.measurements.update(
        faces=len(faces),
        background_rgb=[round(float(c)) for c in bg],
        background_spread=round(spread, 1),
        background_hsv=[round(hue), round(sat, 2), round(val, 2)],
    )
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    chroma = float(np.abs(rgb.astype(np.int16) - gray[..., None]).mean())
    result.measurements["chroma"] = round(chroma, 1)
    if chroma < 3:
        result.add("grayscale")
    elif not (
        spec.hue[0] <= hue <= spec.hue[1] and sat >= spec.min_saturation and val >= spec.min_value
    ):
        result.add("background_color", bg=spec.background_name)
    if spread > 25:
        result.add("background_uneven")
    if not faces:
        # The face detector gives up on a face half covered (a hat, a mask, hands): the
        # face mesh may still find it and say what covers it, which tells the candidate
        # more than "no face".
        _content(result, rgb, spec, bg, face_found=False)
        if not HIDE_THE_FACE & set(result.measurements["content"]["codes"]):
            result.add("no_face")
        return result
    if len(faces) > 1:
        result.add("several_faces")
    face = max(faces, key=lambda f: f.height)
    crown = head_top(rgb, face, bg)
    head_share = (face.bottom - crown) / h
    top_share = crown / h
    offset = (face.center_x - w / 2) / w
    face_gray = gray[max(0, face.top) : face.bottom, max(0, face.left) : face.right]
    sharp = (
        float(cv2.Laplacian(face_gray, cv2.CV_64F).var() * (face.height / 200) ** 2)
        if face_gray.size
        else 0.0
    )
    brightness = float(face_gray.mean()) if face_gray.size else 0.0
    result.measurements.update(
        face_box=[face.left, face.top, face.right, face.bottom],
        head_share=round(head_share, 3),
        top_margin=round(top_share, 3),
        center_offset=round(offset, 3),
        eye_angle=None if face.eye_angle is None else round(face.eye_angle, 1),
        face_sharpness=round(sharp, 1),
        face_brightness=round(brightness, 1),
    )
    if head_share < spec.head_share[0]:
        result.add("head_too_small")
    elif head_share > spec.head_share[1]:
        result.add("head_too_large")
    if not spec.top_margin[0] <= top_share <= spec.top_margin[1]:
        result.add("head_top_margin")
    if abs(offset) > spec.center_tolerance:
        result.add("head_off_center")
    if face.eye_angle is not None and abs(face.eye_angle) > 8:
        result.add("head_tilted")
    if sharp < 15:
        result.add("blurry")
    if brightness < 60:
        result.add("too_dark")
    elif brightness > 225:
        result.add("too_bright")
    _content(result, rgb, spec, bg)
    return result


# What keeps the face detector from a face the mesh still finds, said instead of "no face".
HIDE_THE_FACE = {
    "face_covered",
    "headwear",
    "brows_covered",
    "dark_glasses",
    "glasses_glare",
    "head_not_frontal",
}
CONTENT_SIDE = 800  # px: the content models see at most this (a 12 MP photo is shrunk)


def _content(
    result: CheckResult, rgb: np.ndarray, spec: Profile, bg: np.ndarray, face_found: bool = True
) -> None:
    """What is in the picture (verification.content): eyes, mouth, pose, cover, light,
    the cut-out. Regions of each problem go to the app to mark on the photo."""
    import cv2

    from verification import content

    scale = min(1.0, CONTENT_SIDE / max(rgb.shape[:2]))
    small = (
        rgb
        if scale == 1.0
        else cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    )
    found = content.analyse(small, spec.content_checks, bg)
    codes = found.problems
    if not face_found and "face_covered" in codes:
        # The mesh laid over a covered face lands askew: what it says of the eyes, brows
        # and mouth then is noise; the cover is the reason.
        codes = ["face_covered"]
    result.measurements["content"] = {**found.measurements, "codes": codes}
    regions = {code: box for code, box in found.regions.items() if code in codes}
    if regions:
        result.measurements["problem_regions"] = {
            code: [round(v / scale) for v in box] for code, box in regions.items()
        }
    for code in codes:
        result.add(code)


class CannotFix(VerificationError):
    """The photo cannot be turned into a compliant one (no face, too little detail …)."""

    code = "photo_cannot_fix"


@dataclass
class FixResult:
    jpeg: bytes
    report: dict[str, Any]


def _encode(img: Any, spec: Profile) -> bytes:
    """Land the JPEG inside the byte range: search quality, then trade chroma and smoothing.
    Never pads the file."""
    from PIL import ImageFilter

    def at(quality: int, subsampling: int, source: Any) -> bytes:
        buffer = io.BytesIO()
        source.save(
            buffer,
            "JPEG",
            quality=quality,
            subsampling=subsampling,
            dpi=(spec.dpi, spec.dpi),
            optimize=True,
        )
        return buffer.getvalue()

    for subsampling, radius in ((2, 0.0), (2, 0.8), (2, 1.5)):
        source = img.filter(ImageFilter.GaussianBlur(radius)) if radius else img
        lo, hi = 5, 95
        best = None
        while lo <= hi:
            mid = (lo + hi) // 2
            data = at(mid, subsampling, source)
            if len(data) > spec.max_bytes:
                hi = mid - 1
            elif len(data) < spec.min_bytes:
                lo = mid + 1
            else:
                best = data
                lo = mid + 1  # the highest quality that still fits
        if best is not None:
            return best
        if len(at(95, 0, img)) < spec.min_bytes:
            raise CannotFix(
                "照片细节太少，压缩后仍达不到最小文件大小，请使用更清晰的原始照片。",
                code="photo_too_little_detail",
            )
    raise CannotFix(
        "照片细节过多，无法压缩到规定大小，请在纯色背景前重新拍摄。", code="photo_too_detailed"
    )


def fix(data: bytes, spec: Profile, *, replace_background: bool = False) -> FixResult:
    """Crop to the profile's composition around the face, resize, set dpi, fit the size."""
    from PIL import Image

    if replace_background and not spec.background_edit_allowed:
        raise CannotFix(
            "该考试规定不得修改照片底色，请在规定颜色的背景前重新拍摄。",
            code="background_edit_not_allowed",
        )
    from verification.imageio import load_upright, open_checked, sniff

    image = open_checked(data)
    if image.format == "JPEG":
        # Decode a 12-megapixel photo at a fraction of its size: the output is 480 px wide.
        image.draft("RGB", (spec.width * 2, spec.height * 2))
    rgb = load_upright(image, sniff(data) or "").rgb
    image = Image.fromarray(rgb)
    faces = locate_face(rgb)
    if not faces:
        raise CannotFix(MESSAGES["no_face"], code="no_face")
    if len(faces) > 1:
        raise CannotFix(MESSAGES["several_faces"], code="several_faces")
    face = faces[0]
    bg, _spread = border_background(rgb)
    if face.eye_angle is not None and abs(face.eye_angle) > 2:
        # Level the eyes (a head held slightly askew), filling the corners with background.
        # Turned about the face's own centre, the face's box stays where it was (no second
        # search); bilinear is enough for a picture then shrunk two to four times.
        centre = (face.center_x, (face.top + face.bottom) / 2)
        image = image.rotate(
            face.eye_angle,
            resample=Image.BILINEAR,
            center=centre,
            fillcolor=tuple(int(c) for c in bg),
        )
        rgb = np.asarray(image)
        face = replace(face, eye_angle=0.0)
    crown = head_top(rgb, face, bg)
    head = face.bottom - crown
    target_head = sum(spec.head_share) / 2
    target_top = sum(spec.top_margin) / 2
    out_h = head / target_head
    out_w = out_h * spec.width / spec.height
    top = crown - target_top * out_h
    left = face.center_x - out_w / 2
    box = (round(left), round(top), round(left + out_w), round(top + out_h))
    # Outside the photo: extend with the background colour rather than fail.
    canvas = Image.new("RGB", (box[2] - box[0], box[3] - box[1]), tuple(int(c) for c in bg))
    canvas.paste(image, (-box[0], -box[1]))
    out = canvas.resize((spec.width, spec.height), Image.LANCZOS, reducing_gap=3.0)
    report: dict[str, Any] = {
        "profile": spec.key,
        "crop": list(box),
        "source_size": [rgb.shape[1], rgb.shape[0]],
        "background": "kept",
    }
    if replace_background:
        from verification import content

        replaced, edges = content.replace_background(np.asarray(out), spec.background_rgb)
        out = Image.fromarray(replaced)
        report["background"] = "replaced (selfie segmentation, soft edge)"
        report["edge_band_px"] = edges
    jpeg = _encode(out, spec)
    report["kilobytes"] = round(len(jpeg) / 1024, 1)
    return FixResult(jpeg=jpeg, report=report)


def replace_background_grabcut(img: Any, spec: Profile) -> tuple[Any, float]:
    """Paint the profile's background behind the person: GrabCut seeded with the face and
    shoulders as foreground and the top corners as background. Returns the new image and
    the mean width in pixels of the blended band along the outline (0 = a hard cut;
    a few pixels = a soft edge; much more = GrabCut was unsure)."""
    import cv2
    from PIL import Image

    rgb = np.asarray(img)
    h, w = rgb.shape[:2]
    mask = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
    mask[h // 3 :, w // 6 : w - w // 6] = cv2.GC_PR_FGD
    mask[round(h * 0.25) : round(h * 0.7), round(w * 0.33) : round(w * 0.67)] = cv2.GC_FGD
    mask[round(h * 0.85) :, round(w * 0.3) : round(w * 0.7)] = cv2.GC_FGD
    mask[: h // 14, :] = cv2.GC_BGD
    mask[: h // 2, : w // 12] = cv2.GC_BGD
    mask[: h // 2, w - w // 12 :] = cv2.GC_BGD
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(
        cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), mask, None, bgd, fgd, 4, cv2.GC_INIT_WITH_MASK
    )
    alpha = np.where((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD), 1.0, 0.0).astype(np.float32)
    alpha = cv2.GaussianBlur(alpha, (5, 5), 0)[..., None]
    color = np.array(spec.background_rgb, dtype=np.float32)[None, None, :]
    out = rgb.astype(np.float32) * alpha + color * (1 - alpha)
    edge = alpha[..., 0]
    blended = float(((edge > 0.05) & (edge < 0.95)).sum()) / max(
        1.0, float((edge > 0.5).sum()) ** 0.5 * 4
    )
    return Image.fromarray(np.clip(out, 0, 255).astype(np.uint8)), round(blended, 3)


__all__ = [
    "PROFILES",
    "BadImage",
    "CannotFix",
    "CheckResult",
    "Profile",
    "check",
    "check_file",
    "fix",
    "profile",
]


def review(
    data: bytes,
    profile_key: str,
    portrait_jpeg: bytes | None,
    threshold: float = 0.6,
    band: float = 0.06,
) -> dict[str, Any]:
    """Everything the server decides about an uploaded photo: the checker's result and, when
    the ID card's portrait is known, whether the faces match. (A plain function, so it can
    run in a worker process.)"""
    from verification.face import compare
    from verification.imageio import decode

    result = check(data, profile(profile_key)).as_dict()
    result["face"] = None
    if portrait_jpeg is not None and result["measurements"].get("faces"):
        result["face"] = compare(
            decode(data).rgb, decode(portrait_jpeg).rgb, threshold=threshold, review_band=band
        ).as_dict()
    return result


def fix_to_dict(data: bytes, profile_key: str, replace_background: bool) -> dict[str, Any]:
    """`fix` for a worker process: the fixed JPEG, the report and the fixed photo's check."""
    spec = profile(profile_key)
    fixed = fix(data, spec, replace_background=replace_background)
    return {"jpeg": fixed.jpeg, "report": fixed.report, "check": check(fixed.jpeg, spec).as_dict()}
