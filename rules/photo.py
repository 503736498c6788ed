"""The standard e-photo (电子证件照) rules both sides apply: a spec per exam, as data, and
the checks of the file alone (format, size, dimensions, dpi) with Pillow — the phone runs
them for instant feedback; the server (verification.photo) adds the face and background
rules, and refuses what these refuse."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from typing import Any

MAX_PIXELS = 40_000_000  # a 12 MP phone photo is 12 M; anything past this is a bomb


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
    # What the exam office looks at in the picture (verification.content): every profile
    # here asks for all of it; a profile that allowed, say, glasses would leave one out.
    content_checks: tuple[str, ...] = (
        "eyes_closed",
        "mouth_open",
        "head_pose",
        "occlusion",
        "dark_glasses",
        "uneven_light",
        "forehead",
        "glasses_glare",
        "expression",
        "shoulders",
        "cutout",
    )


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
    "eyes_closed": "请睁开双眼、正视镜头后重新拍摄。",
    "mouth_open": "请自然闭合嘴巴（不要张嘴或露齿）后重新拍摄。",
    "head_not_frontal": "请正对镜头，不要侧脸、仰头或低头。",
    "face_covered": "面部有遮挡（手、口罩、头发或其他物品），请露出完整面部后重新拍摄。",
    "dark_glasses": "请摘下墨镜或有色眼镜后重新拍摄。",
    "uneven_light": "脸部光线不均匀（一侧有阴影），请在光线均匀处重新拍摄。",
    "headwear": "请摘下帽子或头饰，露出额头和双眉后重新拍摄。",
    "brows_covered": "头发遮挡了额头或眉毛，请把头发梳开、露出双眉后重新拍摄。",
    "glasses_glare": "镜片反光遮挡了眼睛，请调整角度避开反光，或摘下眼镜后重新拍摄。",
    "expression": "请保持自然、平和的表情（不要笑或做表情）后重新拍摄。",
    "shoulders": "须露出完整、对称的双肩，请正对镜头、拍到双肩后重新拍摄。",
    "clothing_merges": "衣服颜色与背景色相近，请换一件与背景颜色明显不同的衣服后重新拍摄。",
    "cutout_halo": "人像边缘残留原背景或有锯齿（换底不干净），请在规定颜色背景前重新拍摄。",
    "background_patches": "背景中有残留的杂色块，请在纯色背景前重新拍摄。",
    "unreadable": "无法读取这张图片，请重新拍摄，或选择JPG格式的照片。",
}


# What 一键修正 (verification.photo.fix) puts right: the file, the framing, and with a new
# background the background. The rest (eyes, mouth, a hat, glasses, light…) needs a new
# photo, and the app says so instead of offering the fix.
FILE_CODES = frozenset(
    {"not_jpeg", "wrong_dimensions", "file_too_small", "file_too_large", "dpi_not_set"}
)  # what measure_file finds
FIXABLE = FILE_CODES | frozenset(
    {
        "head_too_small",
        "head_too_large",
        "head_off_center",
        "head_top_margin",
        "head_tilted",
    }
)
FIXABLE_WITH_NEW_BACKGROUND = frozenset(
    {"background_color", "background_uneven", "cutout_halo", "background_patches"}
)


def fixable(codes: list[str], spec: Profile) -> bool:
    """Whether 一键修正 would put right at least one of these problems."""
    can = FIXABLE | (FIXABLE_WITH_NEW_BACKGROUND if spec.background_edit_allowed else frozenset())
    return any(code in can for code in codes)


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


def measure_file(image: Any, data: bytes, spec: Profile) -> CheckResult:
    """The rules a phone can check with Pillow alone, without decoding the pixels: format,
    file size, dimensions (as displayed, after EXIF orientation) and dpi. `image` is
    `data` opened lazily by Pillow."""
    result = CheckResult()
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


def check_file(data: bytes, spec: Profile) -> CheckResult:
    """`measure_file` for the phone: a file Pillow cannot open safely is a problem too."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_PIXELS:
            raise ValueError("too many pixels")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning, OSError, ValueError):
        result = CheckResult()
        result.add("unreadable")
        return result
    return measure_file(image, data, spec)
