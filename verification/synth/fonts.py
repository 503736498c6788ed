"""Fonts for synthetic media, from Debian packages the setup installs."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PIL import ImageFont

# (path, face index): CJK fonts that also carry Latin digits.
SANS = (Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"), 2)  # SC face
SANS_BOLD = (Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"), 2)
SERIF = (Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"), 2)
HEI = (Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), 0)
DIGITS = (Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"), 0)

CJK_FACES = (SANS, SERIF, HEI)


@cache
def font(face: tuple[Path, int], size: int) -> ImageFont.FreeTypeFont:
    path, index = face
    if not path.exists():
        raise FileNotFoundError(
            f"font {path} is missing: run ./dev test or ./dev run to install it"
        )
    return ImageFont.truetype(str(path), size=size, index=index)
