from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile

from backend_stub import uploads
from backend_stub.deps import CurrentCandidate, EditablePhoto, SessionDep, SettingsDep
from backend_stub.domain.identity import latest_confirmed_card
from backend_stub.errors import ApiError
from backend_stub.models import StandardPhoto
from backend_stub.schemas.photo import (
    PhotoCheckOut,
    PhotoFixOut,
    PhotoOut,
    PhotoSpecOut,
)
from verification import photo

router = APIRouter(prefix="/api/photo", tags=["photo"])

PhotoFile = Annotated[UploadFile, File(description="证件照 (JPEG/PNG, ≤ 10 MB)")]


def _portrait(session: SessionDep, request: Request, candidate_id: int) -> bytes | None:
    """The confirmed ID card's portrait, the face the photo must match."""
    submission = latest_confirmed_card(session, candidate_id)
    if submission is None or submission.portrait_key is None:
        return None
    return request.app.state.media.read(submission.portrait_key)


async def _run(request: Request, fn: Any, *args: Any) -> Any:
    return await request.app.state.verifier.run(fn, *args)


@router.get("/spec", response_model=PhotoSpecOut)
def read_photo_spec(settings: SettingsDep) -> PhotoSpecOut:
    """Which photo rules this exam office applies (the app's instant checks use them)."""
    return PhotoSpecOut(profile=settings.PHOTO_PROFILE)


@router.post("/check", response_model=PhotoCheckOut)
async def check_photo(
    request: Request,
    file: PhotoFile,
    candidate: CurrentCandidate,
    session: SessionDep,
    settings: SettingsDep,
) -> PhotoCheckOut:
    """Every rule of the profile, and the face compared with the ID card's portrait."""
    data = await uploads.read_image(file, settings.MAX_IMAGE_BYTES)
    result = await _run(
        request,
        photo.review,
        data,
        settings.PHOTO_PROFILE,
        _portrait(session, request, candidate.id),
        settings.FACE_MATCH_THRESHOLD,
        settings.FACE_REVIEW_BAND,
    )
    return PhotoCheckOut(**result)


@router.post("/fix", response_model=PhotoFixOut)
async def fix_photo(
    request: Request,
    file: PhotoFile,
    candidate: CurrentCandidate,
    settings: SettingsDep,
    replace_background: Annotated[bool, Form()] = False,
) -> PhotoFixOut:
    """一键修正: crop, resize, 300 dpi and file size (and the background when asked and allowed)."""
    data = await uploads.read_image(file, settings.MAX_IMAGE_BYTES)
    result = await _run(
        request, photo.fix_to_dict, data, settings.PHOTO_PROFILE, replace_background
    )
    return PhotoFixOut(
        jpeg_base64=base64.b64encode(result["jpeg"]).decode(),
        report=result["report"],
        check=PhotoCheckOut(**result["check"]),
    )


@router.post("", response_model=PhotoOut, status_code=201)
async def submit_photo(
    request: Request,
    file: PhotoFile,
    candidate: EditablePhoto,
    session: SessionDep,
    settings: SettingsDep,
) -> PhotoOut:
    """Accept the photo when it passes every rule and its face is the ID card's."""
    data = await uploads.read_image(file, settings.MAX_IMAGE_BYTES)
    portrait = _portrait(session, request, candidate.id)
    if portrait is None:
        raise ApiError(409, "idcard_required", "请先完成身份证识别，证件照需要与身份证照片比对。")
    result = await _run(
        request,
        photo.review,
        data,
        settings.PHOTO_PROFILE,
        portrait,
        settings.FACE_MATCH_THRESHOLD,
        settings.FACE_REVIEW_BAND,
    )
    if not result["ok"]:
        first = result["problems"][0]
        raise ApiError(
            422,
            "photo_not_compliant",
            f"照片不符合要求：{first['message']}",
            problems=result["problems"],
        )
    face = result["face"]
    if face is None or face["verdict"] in ("no_face", "no_match"):
        raise ApiError(
            422, "photo_face_mismatch", "证件照与身份证照片不是同一人，请上传本人近期证件照。"
        )
    record = StandardPhoto(
        candidate_id=candidate.id,
        profile=settings.PHOTO_PROFILE,
        key=uploads.store(request, session, settings, candidate.id, "photo", data, suffix=".jpg"),
        measurements=result["measurements"],
        face_distance=face["distance"],
        face_verdict=face["verdict"],
    )
    session.add(record)
    session.commit()
    return PhotoOut(
        id=record.id,
        profile=record.profile,
        face_verdict=record.face_verdict,
        face_distance=record.face_distance,
        check=PhotoCheckOut(**result),
    )
