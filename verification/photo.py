"""The standard e-photo (电子证件照): a spec per exam, a checker that says what is wrong and
how to fix it, and a fixer (crop, resize, 300 dpi, file size, optionally the background).

`check_file` needs only Pillow, so the phone runs it for instant feedback; `check` adds the
face and background rules (dlib via face_recognition, OpenCV) on the server.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from verification.errors import BadImage, VerificationError


@dataclass(frozen=True)
class Profile:
    """One exam's photo rules, as data."""

    key: str
    title: str
    width: int
    height: int
    min_bytes: int
    max_bytes: int
    dpi: int
    # Allowed background: hue range (degrees), minimum saturation and value (0-1), HSV.
    background_name: str
    hue: tuple[float, float]
    min_saturation: float
    min_value: float
    background_rgb: tuple[int, int, int]  # what the fixer paints
    head_share: tuple[float, float]  # crown to chin, as a share of the height
    top_margin: tuple[float, float]  # above the crown, as a share of the height
    center_tolerance: float  # face centre off the middle, as a share of the width
    background_edit_allowed: bool


PROFILES: dict[str, Profile] = {
    "hubei": Profile(
        key="hubei",
        title="湖北自考（蓝底 480×640，20-40KB）",
        width=480,
        height=640,
        min_bytes=20 * 1024,
        max_bytes=40 * 1024,
        dpi=300,
        background_name="蓝色",
        hue=(190, 230),
        min_saturation=0.35,
        min_value=0.45,
        background_rgb=(67, 142, 219),
        head_share=(0.50, 0.75),
        top_margin=(0.04, 0.16),
        center_tolerance=0.08,
        background_edit_allowed=True,
    ),
    "sichuan": Profile(
        key="sichuan",
        title="四川自考（浅蓝底 360×480，≤30KB）",
        width=360,
        height=480,
        min_bytes=8 * 1024,
        max_bytes=30 * 1024,
        dpi=300,
        background_name="浅蓝色",
        hue=(185, 225),
        min_saturation=0.15,
        min_value=0.65,
        background_rgb=(155, 200, 240),
        head_share=(0.60, 0.80),
        top_margin=(0.05, 0.15),
        center_tolerance=0.08,
        background_edit_allowed=False,
    ),
}
DEFAULT_PROFILE = "hubei"

MESSAGES = {
    "not_jpeg": "照片须为JPG格式，请用“一键修正”转换。",
    "wrong_dimensions": "照片尺寸应为{w}×{h}像素（宽×高），当前为{aw}×{ah}。",
    "file_too_small": "文件太小（{kb}KB），应在{lo}-{hi}KB之间，请使用更清晰的原图。",
    "file_too_large": "文件太大（{kb}KB），应在{lo}-{hi}KB之间，可用“一键修正”压缩。",
    "dpi_not_set": "照片分辨率应设为{dpi}dpi，可用“一键修正”设置。",
    "background_color": "背景应为{bg}，当前背景颜色不符合要求，请在{bg}背景前重新拍摄。",
    "background_uneven": "背景不均匀（有阴影或杂物），请在纯色背景前重新拍摄。",
    "no_face": "未检测到人脸，请正对镜头、露出完整面部后重新拍摄。",
    "several_faces": "照片中有多张人脸，只能有本人一人。",
    "head_too_small": "头部在照片中太小，请靠近一些或使用“一键修正”裁剪。",
    "head_too_large": "头部在照片中太大，请离镜头远一些重新拍摄。",
    "head_off_center": "头部没有居中，请使用“一键修正”或重新拍摄。",
    "head_top_margin": "头顶上方留白不合适，请使用“一键修正”重新裁剪。",
    "head_tilted": "头部歪斜，请保持头部端正、双眼水平后重新拍摄。",
    "blurry": "照片模糊，请对焦后重新拍摄。",
    "too_dark": "照片太暗，请在光线充足处重新拍摄。",
    "too_bright": "照片曝光过度，请避免强光直射后重新拍摄。",
    "grayscale": "须为彩色照片，不能使用黑白照片。",
}


@dataclass
class Problem:
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass
class CheckResult:
    problems: list[Problem] = field(default_factory=list)
    measurements: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, code: str, **values: Any) -> None:
        self.problems.append(Problem(code, MESSAGES[code].format(**values)))

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "problems": [p.as_dict() for p in self.problems],
            "measurements": self.measurements,
        }


def profile(key: str | None) -> Profile:
    try:
        return PROFILES[key or DEFAULT_PROFILE]
    except KeyError:
        raise VerificationError(f"未知的照片规格：{key}", code="photo_profile_unknown") from None


def check_file(data: bytes, spec: Profile) -> CheckResult:
    """The rules a phone can check with Pillow alone, without decoding the pixels: format,
    file size, dimensions (as displayed, after EXIF orientation) and dpi."""
    from verification.imageio import open_checked

    result = CheckResult()
    image = open_checked(data)  # raises BadImage (type, bombs, animation, CMYK …)
    kb = round(len(data) / 1024, 1)
    w, h = image.size
    if image.getexif().get(0x0112, 1) in (5, 6, 7, 8):
        w, h = h, w
    dpi = image.info.get("dpi")
    fmt = "JPEG" if image.format == "MPO" else image.format
    result.measurements.update(
        format=fmt,
        width=w,
        height=h,
        kilobytes=kb,
        dpi=[round(float(v)) for v in dpi] if dpi else None,
    )
    if fmt != "JPEG":
        result.add("not_jpeg")
    if (w, h) != (spec.width, spec.height):
        result.add("wrong_dimensions", w=spec.width, h=spec.height, aw=w, ah=h)
    lo, hi = spec.min_bytes // 1024, spec.max_bytes // 1024
    if len(data) < spec.min_bytes:
        result.add("file_too_small", kb=kb, lo=lo, hi=hi)
    elif len(data) > spec.max_bytes:
        result.add("file_too_large", kb=kb, lo=lo, hi=hi)
    if not dpi or any(round(float(v)) != spec.dpi for v in dpi):
        result.add("dpi_not_set", dpi=spec.dpi)
    return result


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
    return result


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
        centre = (face.center_x, (face.top + face.bottom) / 2)
        image = image.rotate(
            face.eye_angle,
            resample=Image.BICUBIC,
            center=centre,
            fillcolor=tuple(int(c) for c in bg),
        )
        rgb = np.asarray(image)
        faces = locate_face(rgb) or faces
        face = max(faces, key=lambda f: f.height)
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
        out, edges = replace_background_grabcut(out, spec)
        report["background"] = "replaced (GrabCut, no model)"
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
