"""Keeping uploads: the per-candidate storage quota, and proof documents checked by
parsing them whole (a file is what it opens as, not what its first bytes claim)."""

from __future__ import annotations

import io

from fastapi import UploadFile
from sqlalchemy import update
from sqlalchemy.orm import Session

from backend_stub.config import Settings
from backend_stub.db import changed
from backend_stub.errors import ApiError
from backend_stub.models import Candidate
from backend_stub.storage import MediaStore

# A document with more pages than this is not a certificate.
MAX_PDF_PAGES = 50
MAX_IMAGE_PIXELS = 40_000_000
# Names that make a PDF act when it is opened: scripts, launched programs, attachments.
_ACTIVE_PDF = (b"/JavaScript", b"/JS", b"/Launch", b"/EmbeddedFile", b"/RichMedia", b"/XFA")


def _mb(limit: int) -> int:
    return limit // (1024 * 1024)


# The refusal of each kind of file that is too large: the routes and the body limit at the
# edge (middleware.BodyLimit) say the same.
def image_too_large(limit: int) -> tuple[str, str]:
    return "image_too_large", f"图片超过{_mb(limit)}MB，请压缩后重新上传。"


def video_too_large(limit: int) -> tuple[str, str]:
    return "video_too_large", f"视频超过{_mb(limit)}MB，请录制 3-6 秒的短视频。"


def material_too_large(limit: int) -> tuple[str, str]:
    return "material_too_large", f"证明材料不能超过{_mb(limit)}MB。"


async def read_limited(
    upload: UploadFile, limit: int, *, too_large: tuple[str, str], empty: tuple[str, str]
) -> bytes:
    """The whole file of an upload, refusing more than `limit` bytes without reading them
    all (the body as a whole is limited while it streams: middleware.BodyLimit)."""
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise ApiError(413, *too_large)
    if not data:
        raise ApiError(422, *empty)
    return data


async def read_image(upload: UploadFile, limit: int) -> bytes:
    return await read_limited(
        upload,
        limit,
        too_large=image_too_large(limit),
        empty=("image_empty", "没有收到图片，请重新拍摄。"),
    )


def store(
    media: MediaStore,
    session: Session,
    settings: Settings,
    candidate_id: int,
    kind: str,
    data: bytes,
    *,
    suffix: str,
) -> str:
    """Count `data` against the candidate's quota (one conditional UPDATE, so parallel
    uploads cannot overrun it), then save it; returns the media key."""
    taken = changed(
        session,
        update(Candidate)
        .where(
            Candidate.id == candidate_id,
            Candidate.media_bytes + len(data) <= settings.MEDIA_QUOTA_BYTES,
        )
        .values(media_bytes=Candidate.media_bytes + len(data)),
    )
    session.commit()
    if taken != 1:
        raise ApiError(
            507,
            "storage_quota",
            "您上传的文件已达存储上限，请联系所在地州自考办。",
        )
    return media.put(candidate_id, kind, data, suffix=suffix)


def _unreadable(kind: str) -> ApiError:
    return ApiError(415, "material_unreadable", f"文件无法作为{kind}打开，请重新导出或拍摄后上传。")


def check_pdf(data: bytes) -> None:
    """A PDF that opens, has pages, and does nothing when opened."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data), strict=True)
        pages = len(reader.pages)
        if not 1 <= pages <= MAX_PDF_PAGES:
            raise ValueError("page count")
        for page in reader.pages:
            _ = page.mediabox
        root = reader.root_object
        # An /OpenAction that is a destination ([page /FitH]) only sets the view; one
        # that is an action dictionary runs something.
        opener = root.get("/OpenAction")
        active = "/AA" in root or (opener is not None and hasattr(opener.get_object(), "keys"))
    except Exception:  # pypdf raises many kinds for a broken file
        raise _unreadable("PDF") from None
    if active or any(name in data for name in _ACTIVE_PDF):
        raise ApiError(
            415,
            "material_active_content",
            "PDF中含有脚本或附件，请用“打印为PDF”重新导出后上传。",
        )


def check_jpeg(data: bytes) -> None:
    """A JPEG that decodes whole, of a sane size."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "JPEG" or image.width * image.height > MAX_IMAGE_PIXELS:
                raise ValueError("not a JPEG of a sane size")
            image.load()
    except Exception:  # Pillow raises many kinds for a broken file
        raise _unreadable("JPG图片") from None
