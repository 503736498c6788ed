"""Decoding uploaded images safely: type by content, size limits, EXIF orientation."""

from __future__ import annotations

import io
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from verification.errors import BadImage

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 12 MP phone photo is 12 M; anything past this is a bomb
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "MPO": "image/jpeg"}


@dataclass(frozen=True, slots=True)
class Decoded:
    """An upright RGB image and what the file said about itself."""

    rgb: np.ndarray
    format: str
    exif_orientation: int


def sniff(data: bytes) -> str | None:
    """The image type by its first bytes, whatever the file name says."""
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftyphevc"):
        return "HEIC"
    return None


def open_checked(data: bytes, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS) -> Any:
    """Open an upload lazily (nothing decoded yet) after the checks that need no decoding:
    size, type by content, pixel count, animation. Raises `BadImage` with a precise code."""
    from PIL import Image

    if len(data) > max_bytes:
        raise BadImage(
            f"图片超过{max_bytes // (1024 * 1024)}MB，请压缩后重新上传。", code="image_too_large"
        )
    kind = sniff(data)
    if kind == "HEIC":
        raise BadImage(
            "暂不支持HEIC格式，请在手机相机设置中选择“兼容性最佳”(JPG)后重新拍摄。",
            code="image_unsupported_type",
        )
    if kind is None:
        raise BadImage("文件不是JPG或PNG图片，请重新选择。", code="image_unsupported_type")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise BadImage("图片尺寸过大，请使用普通手机照片。", code="image_too_many_pixels") from None
    except (OSError, SyntaxError, ValueError):
        raise BadImage("图片文件不完整或已损坏，请重新拍摄。", code="image_truncated") from None
    if image.width * image.height > max_pixels:
        raise BadImage("图片尺寸过大，请使用普通手机照片。", code="image_too_many_pixels")
    if getattr(image, "n_frames", 1) > 1 and image.format != "MPO":
        raise BadImage("不支持动图，请上传静态照片。", code="image_animated")
    if image.mode not in ("RGB", "L", "RGBA", "P", "LA"):
        raise BadImage(
            "不支持该图片的颜色格式（如CMYK或16位），请转为普通JPG后上传。",
            code="image_unsupported_mode",
        )
    return image


_LOADING = threading.Lock()


@contextmanager
def _strict_loading() -> Iterator[None]:
    """Truncated files must fail: face_recognition switches Pillow's global
    LOAD_TRUNCATED_IMAGES on when imported, which would fill the missing part with grey."""
    from PIL import ImageFile

    with _LOADING:
        previous = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = previous


def load_upright(image: Any, kind: str) -> Decoded:
    """Decode an image from `open_checked`, apply its EXIF orientation, convert to RGB."""
    from PIL import ImageOps

    try:
        orientation = image.getexif().get(0x0112, 1)
        with _strict_loading():
            image.load()
    except (OSError, SyntaxError, ValueError):
        raise BadImage("图片文件不完整或已损坏，请重新拍摄。", code="image_truncated") from None
    fmt = image.format or kind
    image = ImageOps.exif_transpose(image)
    return Decoded(
        rgb=np.asarray(image.convert("RGB")), format=fmt, exif_orientation=int(orientation)
    )


def decode(data: bytes, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS) -> Decoded:
    """Decode an upload into an upright RGB array, or raise `BadImage` with a precise code."""
    image = open_checked(data, max_bytes=max_bytes, max_pixels=max_pixels)
    return load_upright(image, sniff(data) or "")
