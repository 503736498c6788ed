"""证明材料 for the special majors (监所管理, 公安管理, 护理学): uploaded by the candidate,
reviewed by the exam office with the rest of the submission."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from sqlalchemy import func, select

from backend_stub import uploads
from backend_stub.deps import (
    CurrentCandidate,
    CurrentExam,
    EditableMaterials,
    SessionDep,
    SettingsDep,
)
from backend_stub.errors import ApiError
from backend_stub.models import Major, Material
from backend_stub.schemas.materials import (
    MaterialOut,
)

router = APIRouter(prefix="/api/materials", tags=["materials"])

KINDS = {b"%PDF-": ("application/pdf", ".pdf"), b"\xff\xd8\xff": ("image/jpeg", ".jpg")}
CHECKS = {"application/pdf": uploads.check_pdf, "image/jpeg": uploads.check_jpeg}


def _kind(data: bytes) -> tuple[str, str]:
    for magic, kind in KINDS.items():
        if data.startswith(magic):
            return kind
    raise ApiError(415, "material_type", "证明材料只能是 PDF 或 JPG 文件。")


@router.post("", response_model=MaterialOut, status_code=201)
async def upload_material(
    request: Request,
    file: Annotated[UploadFile, File(description="证明材料 (PDF/JPEG)")],
    major_code: Annotated[str, Form(max_length=16)],
    candidate: EditableMaterials,
    exam: CurrentExam,
    session: SessionDep,
    settings: SettingsDep,
) -> MaterialOut:
    """Upload a proof document for a special major (checked by content, size-limited)."""
    major = session.scalar(
        select(Major).where(Major.session_id == exam.id, Major.code == major_code)
    )
    if major is None or not major.special:
        raise ApiError(422, "major_not_special", "该专业无需上传证明材料。")
    limit = settings.MATERIAL_MAX_BYTES
    data = await uploads.read_limited(
        file,
        limit,
        too_large=uploads.material_too_large(limit),
        empty=("material_empty", "没有收到文件，请重新选择。"),
    )
    content_type, suffix = _kind(data)
    CHECKS[content_type](data)
    stored = session.scalar(
        select(func.count(Material.id)).where(Material.candidate_id == candidate.id)
    )
    if (stored or 0) >= settings.MATERIAL_MAX_COUNT:
        raise ApiError(
            409,
            "material_count",
            f"证明材料最多上传{settings.MATERIAL_MAX_COUNT}份。",
        )
    material = Material(
        candidate_id=candidate.id,
        major_code=major.code,
        key=uploads.store(
            request.app.state.media,
            session,
            settings,
            candidate.id,
            "material",
            data,
            suffix=suffix,
        ),
        content_type=content_type,
        size=len(data),
    )
    session.add(material)
    session.commit()
    return MaterialOut.model_validate(material)


@router.get("", response_model=list[MaterialOut])
def read_materials(candidate: CurrentCandidate, session: SessionDep) -> list[MaterialOut]:
    """The candidate's uploaded materials."""
    return [
        MaterialOut.model_validate(m)
        for m in session.scalars(
            select(Material).where(Material.candidate_id == candidate.id).order_by(Material.id)
        )
    ]
