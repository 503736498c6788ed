"""Is the shot usable? Cheap measurements taken before (and beside) OCR.

Thresholds come from how the measurements behave, not from one generator: glare is the
largest clipped-highlight blob (a plain count of bright pixels is useless on the pale card),
size is what OCR and face matching need, sharpness is only ever a warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

GLARE_RETAKE = 0.02  # share of the card under the largest clipped blob
GLARE_REFUSE = 0.05
MIN_CARD_WIDTH = 400  # px: below this the text is too small to read reliably (real
# scans of 410-450 px read every field; 300 px lose the small ones)
MIN_CARD_SHARE = 0.2  # of the photo's area
MIN_PORTRAIT_HEIGHT = 64  # px: face matching breaks below this
SHARPNESS_WARN = 60.0  # variance of the Laplacian on the card flattened to 1000 px

MESSAGES = {
    "glare": "身份证有反光，请避开灯光或换个角度重新拍摄。",
    "glare_severe": "身份证反光严重，文字被遮挡，请避开灯光重新拍摄。",
    "card_too_small": "身份证在画面中太小，请靠近一些，让卡片占满取景框。",
    "card_cut_off": "身份证有部分在画面外，请将整张卡片放入取景框。",
    "blurry": "照片不够清晰，请对准身份证对焦后重新拍摄。",
    "card_outline_not_found": "未能找到身份证边缘，请将卡片放在深色、平整的桌面上拍摄。",
    "portrait_too_small": "身份证头像太小，无法用于人脸比对，请靠近一些拍摄。",
}
SEVERITY = {
    "glare": "retake",
    "glare_severe": "refuse",
    "card_too_small": "retake",
    "card_cut_off": "retake",
    "blurry": "warn",
    "card_outline_not_found": "warn",
    "portrait_too_small": "warn",
}


@dataclass
class Quality:
    measurements: dict[str, float | int | bool | None] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def add(self, code: str) -> None:
        if code not in self.warnings:
            self.warnings.append(code)

    def portrait(self, height_px: int) -> None:
        """Record the portrait crop; the face fills about 60% of its height."""
        self.measurements["portrait_height_px"] = height_px
        if height_px * 0.6 < MIN_PORTRAIT_HEIGHT:
            self.add("portrait_too_small")

    @property
    def refused(self) -> bool:
        return any(SEVERITY[c] == "refuse" for c in self.warnings)

    def as_dict(self) -> dict[str, object]:
        return {
            "measurements": self.measurements,
            "warnings": [
                {"code": c, "severity": SEVERITY[c], "message": MESSAGES[c]} for c in self.warnings
            ],
        }


# The printed portrait (u0, v0, u1, v1 on the 1000 × 631 flat card): its light background
# is not glare. The text: the fields and the number line, inside the card's margins.
PORTRAIT_REGION = (600, 55, 935, 485)
TEXT_AREA = (60, 40, 950, 600)


def glare_share(flat_bgr: np.ndarray) -> float:
    """Largest blob of clipped highlights (after a light blur) as a share of the flat card,
    outside the portrait."""
    import cv2

    gray = cv2.GaussianBlur(cv2.cvtColor(flat_bgr, cv2.COLOR_BGR2GRAY), (7, 7), 0)
    clipped = (gray >= 250).astype(np.uint8)
    # Only the text matters: the printed portrait's light background and the card's
    # blank margins (white on a render or a scan cut a little wide) are not glare.
    u0, v0, u1, v1 = PORTRAIT_REGION
    clipped[v0:v1, u0:u1] = 0
    height, width = clipped.shape
    tu0, tv0, tu1, tv1 = TEXT_AREA
    text_only = np.zeros_like(clipped)
    text_only[
        tv0 * height // 631 : tv1 * height // 631, tu0 * width // 1000 : tu1 * width // 1000
    ] = 1
    clipped &= text_only
    count, _labels, stats, _ = cv2.connectedComponentsWithStats(clipped, connectivity=8)
    if count <= 1:
        return 0.0
    return float(stats[1:, cv2.CC_STAT_AREA].max()) / clipped.size


def sharpness(flat_bgr: np.ndarray) -> float:
    import cv2

    gray = cv2.cvtColor(flat_bgr, cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def estimate_from_number(
    image_shape: tuple[int, ...], number_box: np.ndarray, *, with_label: bool = False
) -> tuple[float, float, float, float]:
    """The card's extent (x0, y0, x1, y1) guessed from the number line when no outline was
    found: on the card the number spans 0.34-0.93 of the width at 0.86 of the height, and
    0.06-0.93 when OCR read the label 公民身份号码 into the same box (good to about 5%:
    real cards print the number a little further left than the synthetic ones)."""
    x0, x1 = float(number_box[:, 0].min()), float(number_box[:, 0].max())
    cy = float(number_box[:, 1].mean())
    start = 0.06 if with_label else 0.34
    width = (x1 - x0) / (0.93 - start)
    height = width / 1.585
    left, top = x0 - start * width, cy - 0.86 * height
    return left, top, left + width, top + height


# How far (share of the card's width) a card estimated from its number line may reach
# past the photo's edge and still be taken as the whole photo: the estimate is good to
# about 5%.
ESTIMATE_SLACK = 0.07


def _add_glare(quality: Quality, flat_bgr: np.ndarray) -> None:
    glare = glare_share(flat_bgr)
    quality.measurements["glare_share"] = round(glare, 4)
    if glare > GLARE_REFUSE:
        quality.add("glare_severe")
    elif glare > GLARE_RETAKE:
        quality.add("glare")


def measure(
    image: np.ndarray,
    quad: np.ndarray | None,
    flat_bgr: np.ndarray | None,
    *,
    number_box: np.ndarray | None = None,
    number_label: bool = False,
    from_layout: bool = False,
    pixel_scale: float = 1.0,
) -> Quality:
    """Size, framing, glare and sharpness of the card in the photo (BGR). `from_layout`:
    the quad is the card as its text places it (a scan that is the whole card), so its
    edges at the photo's edges are not a card cut off. `pixel_scale`: how much the image
    was enlarged before reading (sizes are judged in the photo's own pixels)."""
    import cv2

    quality = Quality()
    h, w = image.shape[:2]
    quality.measurements.update(image_width=w, image_height=h)
    if quad is None or flat_bgr is None:
        # Glare itself often hides the outline: estimate the card from its number line.
        quality.measurements.update(card_found=False)
        quality.add("card_outline_not_found")
        if number_box is not None:
            x0, y0, x1, y1 = estimate_from_number(image.shape, number_box, with_label=number_label)
            quality.measurements["card_width_px"] = round((x1 - x0) / pixel_scale)
            # Any overhang counts: a photo that is the whole card came through
            # `from_layout` above, so what is left here is a card in a wider scene.
            if x0 < 0 or y0 < 0 or x1 > w or y1 > h:
                quality.add("card_cut_off")
            if (x1 - x0) / pixel_scale < MIN_CARD_WIDTH:
                quality.add("card_too_small")
            crop = image[max(0, int(y0)) : min(h, int(y1)), max(0, int(x0)) : min(w, int(x1))]
            if crop.size:
                _add_glare(quality, cv2.resize(crop, (1000, 631), interpolation=cv2.INTER_AREA))
        return quality

    top = float(np.linalg.norm(quad[1] - quad[0]))
    bottom = float(np.linalg.norm(quad[2] - quad[3]))
    card_width = (top + bottom) / 2 / pixel_scale
    area_share = float(cv2.contourArea(quad.astype(np.float32))) / (w * h)
    margin = min(
        quad[:, 0].min(), quad[:, 1].min(), w - 1 - quad[:, 0].max(), h - 1 - quad[:, 1].max()
    )
    sharp = sharpness(flat_bgr)
    quality.measurements.update(
        card_found="layout" if from_layout else True,
        card_width_px=round(card_width),
        card_area_share=round(area_share, 3),
        edge_margin_px=round(float(margin)),
        sharpness=round(sharp, 1),
    )
    if margin <= 2 and not from_layout:
        quality.add("card_cut_off")
    if card_width < MIN_CARD_WIDTH or area_share < MIN_CARD_SHARE:
        quality.add("card_too_small")
    _add_glare(quality, flat_bgr)
    if sharp < SHARPNESS_WARN:
        quality.add("blurry")
    return quality
