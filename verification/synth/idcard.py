"""Synthetic resident ID cards (portrait side) and phone photographs of them (one module:
the card's drawing and the camera's degradations are tuned together).

The layout follows the second-generation card (85.6 × 54 mm): labels on the left, the
portrait on the right, the number along the bottom. Everything is drawn from a seed.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import random
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from rules import idnumber
from verification.synth import fonts

CARD_RATIO = 85.6 / 54.0

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
COMPOUND_SURNAMES = [
    "欧阳",
    "司马",
    "上官",
    "诸葛",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "司徒",
    "令狐",
    "夏侯",
]
GIVEN = list(
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红建国志文斌亮鹏辉玲凤云峰海燕雪梅琳晨欣怡子涵浩宇思博嘉轩雨萱佳琪梓豪俊杰婷颖"
)
UYGHUR_NAMES = [
    "阿依古丽",
    "买买提",
    "艾力",
    "古丽娜尔",
    "热依拉",
    "努尔",
    "阿不都",
    "帕提古丽",
    "吐尔逊",
    "麦合木提",
    "迪丽热巴",
    "依明",
]
ETHNICITIES = ["汉"] * 10 + [
    "维吾尔",
    "哈萨克",
    "回",
    "蒙古",
    "柯尔克孜",
    "锡伯",
    "满",
    "壮",
    "藏",
    "土家",
]

# (division code, province + prefecture + county as printed) — real codes.
PLACES = [
    ("650102", "新疆维吾尔自治区乌鲁木齐市天山区"),
    ("650103", "新疆维吾尔自治区乌鲁木齐市沙依巴克区"),
    ("653101", "新疆喀什市"),
    ("652801", "新疆库尔勒市"),
    ("654002", "新疆伊宁市"),
    ("420106", "湖北省武汉市武昌区"),
    ("420111", "湖北省武汉市洪山区"),
    ("510104", "四川省成都市锦江区"),
    ("110105", "北京市朝阳区"),
    ("440305", "广东省深圳市南山区"),
    ("330106", "浙江省杭州市西湖区"),
    ("320102", "江苏省南京市玄武区"),
    ("610113", "陕西省西安市雁塔区"),
    ("370102", "山东省济南市历下区"),
]
STREETS = [
    "人民路",
    "解放北路",
    "友好南路",
    "新华东街",
    "建设路",
    "光明巷",
    "团结路",
    "胜利大街",
    "长江路",
    "和平里",
    "幸福小区",
    "北京南路",
    "中山路",
    "学府街",
]
BUILDINGS = ["号", "号院", "号楼"]


@dataclass(frozen=True)
class CardFields:
    """What the card says."""

    name: str
    sex: str
    ethnicity: str
    birth: dt.date
    address: str
    id_number: str

    def as_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "sex": self.sex,
            "ethnicity": self.ethnicity,
            "birth": self.birth.isoformat(),
            "address": self.address,
            "id_number": self.id_number,
        }


def random_name(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.1:
        return rng.choice(COMPOUND_SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
    if roll < 0.2:
        return rng.choice(UYGHUR_NAMES) + "·" + rng.choice(UYGHUR_NAMES)
    return rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2, 2))))


def random_fields(rng: random.Random, *, valid: bool = True) -> CardFields:
    """Consistent fields: the number encodes the birth date, sex and place."""
    code, place = rng.choice(PLACES)
    birth = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 45))
    order = rng.randrange(1, 999)
    number = idnumber.make(code, birth, order)
    if not valid:
        wrong = "X" if number[-1] != "X" else "0"
        number = number[:-1] + rng.choice(
            [c for c in "0123456789X" if c not in (number[-1], wrong)]
        )
    address = place + rng.choice(STREETS) + f"{rng.randrange(1, 999)}{rng.choice(BUILDINGS)}"
    room = f"{rng.randrange(1, 30)}栋{rng.randrange(1, 6)}单元{rng.randrange(101, 2999)}室"
    # A card prints at most three lines of 11 characters.
    if rng.random() < 0.6 and len(address + room) <= 33:
        address += room
    return CardFields(
        name=random_name(rng),
        sex="男" if order % 2 else "女",
        ethnicity=rng.choice(ETHNICITIES),
        birth=birth,
        address=address,
        id_number=number,
    )


def _background(rng: random.Random, w: int, h: int) -> Image.Image:
    """Pale guilloché-like background in the card's blue-green tones."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.array(
        rng.choice([(232, 240, 242), (236, 242, 236), (240, 238, 236), (230, 238, 246)]),
        dtype=np.float32,
    )
    phase = rng.random() * 6.28
    waves = (
        np.sin(x / 9.0 + np.sin(y / 23.0 + phase) * 3) + np.sin(y / 11.0 + np.cos(x / 31.0) * 2)
    ) * 5
    img = base[None, None, :] + waves[..., None] * np.array([0.6, 0.9, 1.0], dtype=np.float32)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")


def synthetic_portrait(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """A drawn head and shoulders, for cards whose face does not matter."""
    w, h = size
    img = Image.new("RGB", size, (250, 250, 250))
    d = ImageDraw.Draw(img)
    skin = rng.choice([(233, 196, 170), (210, 170, 140), (190, 150, 120)])
    d.ellipse(
        (w * 0.05, h * 0.72, w * 0.95, h * 1.3),
        fill=rng.choice([(40, 40, 60), (60, 60, 70), (90, 30, 30)]),
    )
    d.rectangle((w * 0.42, h * 0.55, w * 0.58, h * 0.8), fill=skin)
    d.ellipse((w * 0.25, h * 0.15, w * 0.75, h * 0.68), fill=skin)
    d.chord((w * 0.22, h * 0.08, w * 0.78, h * 0.5), 180, 360, fill=(25, 20, 20))
    for ex in (0.4, 0.6):
        d.ellipse((w * ex - 4, h * 0.4 - 3, w * ex + 4, h * 0.4 + 3), fill=(30, 30, 30))
    d.line((w * 0.44, h * 0.56, w * 0.56, h * 0.56), fill=(150, 80, 80), width=3)
    return img


PHOTO_BOX = (0.615, 0.11, 0.915, 0.75)  # portrait region as fractions of the card


def address_lines(address: str, per_line: int = 11) -> list[str]:
    return [address[i : i + per_line] for i in range(0, len(address), per_line)]


def render_card(
    fields: CardFields,
    *,
    rng: random.Random,
    width: int = 1000,
    portrait: Image.Image | None = None,
    watermark: str | None = None,
) -> Image.Image:
    """The card alone, flat, `width` pixels wide (RGBA, rounded corners transparent)."""
    w, h = width, round(width / CARD_RATIO)
    card = _background(rng, w, h)
    d = ImageDraw.Draw(card)
    unit = h / 631  # layout designed at 1000 × 631
    label_font = fonts.font(fonts.SANS_BOLD if rng.random() < 0.5 else fonts.HEI, round(25 * unit))
    value_face = rng.choice(fonts.CJK_FACES)
    value_font = fonts.font(value_face, round(30 * unit))
    number_font = fonts.font(rng.choice((fonts.DIGITS, fonts.SANS, fonts.SERIF)), round(38 * unit))
    label_color = rng.choice([(40, 110, 160), (60, 120, 170), (50, 100, 140)])
    ink = (rng.randrange(0, 30),) * 3
    lx, vx = 0.063 * w, 0.175 * w

    def label(text: str, x: float, y: float) -> None:
        d.text((x, y), text, font=label_font, fill=label_color, spacing=0)

    def value(text: str, x: float, y: float, font=value_font) -> None:  # type: ignore[no-untyped-def]
        d.text((x, y), text, font=font, fill=ink)

    label("姓  名", lx, 0.115 * h)
    value(fields.name, vx, 0.105 * h)
    label("性  别", lx, 0.245 * h)
    value(fields.sex, vx, 0.235 * h)
    label("民  族", 0.33 * w, 0.245 * h)
    value(fields.ethnicity, 0.44 * w, 0.235 * h)
    label("出  生", lx, 0.375 * h)
    x = vx
    for part, unit_label in (
        (str(fields.birth.year), "年"),
        (str(fields.birth.month), "月"),
        (str(fields.birth.day), "日"),
    ):
        value(part, x, 0.365 * h)
        x += value_font.getlength(part) + 0.015 * w
        label(unit_label, x, 0.375 * h)
        x += label_font.getlength(unit_label) + 0.03 * w
    label("住  址", lx, 0.51 * h)
    for i, line in enumerate(address_lines(fields.address)[:3]):
        value(line, vx, (0.5 + i * 0.1) * h)
    label("公民身份号码", lx, 0.835 * h)
    # The number always spans the same stretch of the card (0.34 to 0.93 of its width).
    glyphs = sum(number_font.getlength(ch) for ch in fields.id_number)
    spacing = max(0.0, (0.59 * w - glyphs) / 17)
    x = 0.34 * w
    for ch in fields.id_number:
        d.text((x, 0.82 * h), ch, font=number_font, fill=ink)
        x += number_font.getlength(ch) + spacing

    box = tuple(
        round(v) for v in (PHOTO_BOX[0] * w, PHOTO_BOX[1] * h, PHOTO_BOX[2] * w, PHOTO_BOX[3] * h)
    )
    size = (box[2] - box[0], box[3] - box[1])
    face = portrait.convert("RGB") if portrait is not None else synthetic_portrait(rng, size)
    face = _cover(face, size)
    # The printed portrait has no background of its own: blend it into the card.
    card.paste(face, box[:2])
    if watermark:
        wm_font = fonts.font(fonts.SANS_BOLD, round(70 * unit))
        layer = Image.new("RGBA", card.size, (0, 0, 0, 0))
        ImageDraw.Draw(layer).text(
            (0.45 * w, 0.42 * h), watermark, font=wm_font, fill=(200, 60, 60, 90)
        )
        card = Image.alpha_composite(card.convert("RGBA"), layer).convert("RGB")

    mask = Image.new("L", card.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, w - 1, h - 1), radius=round(0.04 * h), fill=255)
    card = card.convert("RGBA")
    card.putalpha(mask)
    return card


def _cover(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Scale and centre-crop `img` to fill `size`."""
    tw, th = size
    scale = max(tw / img.width, th / img.height)
    img = img.resize(
        (max(tw, round(img.width * scale)), max(th, round(img.height * scale))), Image.LANCZOS
    )
    left, top = (img.width - tw) // 2, (img.height - th) // 2
    return img.crop((left, top, left + tw, top + th))


DEGRADATIONS = (
    "clean",
    "perspective",
    "tilt",
    "rot90",
    "rot180",
    "rot270",
    "mirror",
    "blur",
    "jpeg50",
    "uneven_light",
    "glare",
    "heavy_glare",
    "small",
)


def _table(rng: random.Random, w: int, h: int) -> np.ndarray:
    base = np.array(
        rng.choice([(120, 90, 60), (70, 70, 75), (150, 140, 130), (40, 50, 60), (180, 170, 150)]),
        dtype=np.float32,
    )
    noise = (
        np.asarray(
            Image.effect_noise((w, h), 18).filter(ImageFilter.GaussianBlur(2)), dtype=np.float32
        )
        - 128
    )
    return np.clip(base[None, None, :] + noise[..., None] * 0.5, 0, 255)


def _perspective_coeffs(
    src: list[tuple[float, float]], dst: list[tuple[float, float]]
) -> list[float]:
    """Coefficients PIL needs to map output (dst) points back to input (src) points."""
    rows = []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    a = np.array(rows, dtype=np.float64)
    b = np.array([c for pt in src for c in pt], dtype=np.float64)
    return list(np.linalg.solve(a, b))


def photograph(
    card: Image.Image,
    *,
    rng: random.Random,
    degradation: str = "clean",
    out_width: int = 1280,
    card_share: float | None = None,
) -> Image.Image:
    """A 4:3 phone photo of the card lying on a table, with one degradation applied."""
    if degradation == "small":
        out_width = 640
    w, h = out_width, round(out_width * 3 / 4)
    share = card_share if card_share is not None else rng.uniform(0.68, 0.86)
    cw = share * w
    ch = cw / CARD_RATIO
    cx, cy = w / 2 + rng.uniform(-0.05, 0.05) * w, h / 2 + rng.uniform(-0.05, 0.05) * h
    angle = math.radians(
        rng.uniform(-3, 3) if degradation != "tilt" else rng.choice((-1, 1)) * rng.uniform(8, 15)
    )
    corners = []
    for dx, dy in ((-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)):
        x, y = dx * cw, dy * ch
        corners.append(
            (
                cx + x * math.cos(angle) - y * math.sin(angle),
                cy + x * math.sin(angle) + y * math.cos(angle),
            )
        )
    jitter = 0.07 if degradation == "perspective" else 0.01
    corners = [
        (x + rng.uniform(-jitter, jitter) * cw, y + rng.uniform(-jitter, jitter) * ch)
        for x, y in corners
    ]
    if degradation == "perspective":
        # A keystone: the far edge shorter than the near one.
        squeeze = rng.uniform(0.04, 0.09) * cw
        corners[0] = (corners[0][0] + squeeze, corners[0][1])
        corners[1] = (corners[1][0] - squeeze, corners[1][1])

    src = [(0, 0), (card.width, 0), (card.width, card.height), (0, card.height)]
    warped = card.transform(
        (w, h), Image.PERSPECTIVE, _perspective_coeffs(src, corners), Image.BICUBIC
    )
    photo = _table(rng, w, h)
    alpha = np.asarray(warped.getchannel("A"), dtype=np.float32)[..., None] / 255
    rgb = np.asarray(warped.convert("RGB"), dtype=np.float32)
    photo = photo * (1 - alpha) + rgb * alpha

    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    light = 1.0 + 0.06 * (xx / w - 0.5)
    if degradation == "uneven_light":
        gx, gy = rng.uniform(0, w), rng.uniform(0, h)
        light = 0.45 + 0.55 * np.exp(-(((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * (0.6 * w) ** 2)))
    photo = photo * light[..., None]
    if degradation in ("glare", "heavy_glare"):
        # A specular highlight on the card: saturated in its core.
        radius = (0.055 if degradation == "glare" else 0.13) * cw
        gx = rng.uniform(cx - 0.35 * cw, cx + 0.1 * cw)
        gy = rng.uniform(cy - 0.25 * ch, cy + 0.25 * ch)
        blob = np.exp(-(((xx - gx) ** 2 + ((yy - gy) * 1.4) ** 2) / (2 * radius**2)))
        photo = photo + blob[..., None] * 420
    photo = np.clip(
        photo
        + rng.gauss(0, 1) * np.random.default_rng(rng.randrange(2**32)).normal(0, 3, photo.shape),
        0,
        255,
    )
    img = Image.fromarray(photo.astype(np.uint8), "RGB")
    if degradation == "blur":
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(1.2, 1.8)))
    else:
        img = img.filter(ImageFilter.GaussianBlur(0.5))
    if degradation == "rot90":
        img = img.transpose(Image.ROTATE_90)
    elif degradation == "rot180":
        img = img.transpose(Image.ROTATE_180)
    elif degradation == "rot270":
        img = img.transpose(Image.ROTATE_270)
    elif degradation == "mirror":
        img = img.transpose(Image.FLIP_LEFT_RIGHT)
    return img


def jpeg_bytes(
    img: Image.Image, *, quality: int = 90, exif_orientation: int | None = None
) -> bytes:
    """Encode as a phone would; optionally record an EXIF orientation tag."""
    buffer = io.BytesIO()
    kwargs = {}
    if exif_orientation:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        kwargs["exif"] = exif.tobytes()
    img.save(buffer, "JPEG", quality=quality, **kwargs)
    return buffer.getvalue()


def sample(seed: int, degradation: str = "clean", **kwargs) -> tuple[CardFields, bytes]:  # type: ignore[no-untyped-def]
    """One photographed card as JPEG bytes with the fields it shows."""
    rng = random.Random(seed)
    fields = random_fields(rng)
    card = render_card(fields, rng=rng, portrait=kwargs.pop("portrait", None))
    photo = photograph(card, rng=rng, degradation=degradation, **kwargs)
    quality = 50 if degradation == "jpeg50" else 90
    return fields, jpeg_bytes(photo, quality=quality)


def render_back(
    *,
    rng: random.Random,
    issuer: str,
    valid_from: dt.date,
    valid_until: dt.date | None,
    width: int = 1000,
) -> Image.Image:
    """The emblem side (国徽面): title, issuing authority and validity period."""
    w, h = width, round(width / CARD_RATIO)
    card = _background(rng, w, h)
    d = ImageDraw.Draw(card)
    unit = h / 631
    d.ellipse(
        (0.07 * w, 0.08 * h, 0.25 * w, 0.37 * h), outline=(200, 40, 40), width=round(8 * unit)
    )
    d.text(
        (0.33 * w, 0.1 * h),
        "中华人民共和国",
        font=fonts.font(fonts.SANS_BOLD, round(58 * unit)),
        fill=(20, 20, 20),
    )
    d.text(
        (0.3 * w, 0.3 * h),
        "居民身份证",
        font=fonts.font(fonts.SANS_BOLD, round(74 * unit)),
        fill=(20, 20, 20),
    )
    label, value = (
        fonts.font(fonts.SANS_BOLD, round(26 * unit)),
        fonts.font(fonts.SANS, round(30 * unit)),
    )
    d.text((0.24 * w, 0.68 * h), "签发机关", font=label, fill=(20, 20, 20))
    d.text((0.42 * w, 0.67 * h), issuer, font=value, fill=(20, 20, 20))
    d.text((0.24 * w, 0.82 * h), "有效期限", font=label, fill=(20, 20, 20))
    until = "长期" if valid_until is None else f"{valid_until:%Y.%m.%d}"
    d.text((0.42 * w, 0.81 * h), f"{valid_from:%Y.%m.%d}-{until}", font=value, fill=(20, 20, 20))
    return card.convert("RGBA")
