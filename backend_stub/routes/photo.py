from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from backend_stub import jobs, uploads
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
from backend_stub.storage import MediaStore
from verification import photo

router = APIRouter(prefix="/api/photo", tags=["photo"])

PhotoFile = Annotated[UploadFile, File(description="证件照 (JPEG/PNG, ≤ 10 MB)")]


def _portrait(session: Session, media: MediaStore, candidate_id: int) -> bytes | None:
    """The confirmed ID card's portrait, the face the photo must match."""
    submission = latest_confirmed_card(session, candidate_id)
    if submission is None or submission.portrait_key is None:
        return None
    return media.read(submission.portrait_key)


@router.get("/spec", response_model=PhotoSpecOut)
def read_photo_spec(settings: SettingsDep) -> PhotoSpecOut:
    """Which photo rules this exam office applies (the app's instant checks use them)."""
    return PhotoSpecOut(profile=settings.PHOTO_PROFILE)


@router.post(
    "/check",
    status_code=202,
    responses={
        200: {"model": PhotoCheckOut, "description": "检查结果（Prefer: wait=N 且及时完成时）"}
    },
)
async def check_photo(
    request: Request, file: PhotoFile, candidate: CurrentCandidate, settings: SettingsDep
) -> JSONResponse:
    """Every rule of the profile, and the face compared with the ID card's portrait: a
    job whose answer is `PhotoCheckOut`."""
    data = await uploads.read_image(file, settings.MAX_IMAGE_BYTES)
    return await jobs.start(request, candidate.id, "photo-check", {"photo": (data, ".img")})


@jobs.handler("photo-check")
def check_photo_job(job: jobs.JobContext) -> tuple[int, dict[str, Any]]:
    settings = job.settings
    result = photo.review(
        job.input("photo"),
        settings.PHOTO_PROFILE,
        _portrait(job.session, job.media, job.candidate.id),
        settings.FACE_MATCH_THRESHOLD,
        settings.FACE_REVIEW_BAND,
    )
    return 200, PhotoCheckOut(**result).model_dump(mode="json")


@router.post(
    "/fix",
    status_code=202,
    responses={
        200: {"model": PhotoFixOut, "description": "修正结果（Prefer: wait=N 且及时完成时）"}
    },
)
async def fix_photo(
    request: Request,
    file: PhotoFile,
    candidate: CurrentCandidate,
    settings: SettingsDep,
    replace_background: Annotated[bool, Form()] = False,
) -> JSONResponse:
    """一键修正: crop, resize, 300 dpi and file size (and the background when asked and
    allowed): a job whose answer is `PhotoFixOut`."""
    data = await uploads.read_image(file, settings.MAX_IMAGE_BYTES)
    return await jobs.start(
        request,
        candidate.id,
        "photo-fix",
        {"photo": (data, ".img")},
        replace_background=replace_background,
    )


@jobs.handler("photo-fix")
def fix_photo_job(job: jobs.JobContext) -> tuple[int, dict[str, Any]]:
    result = photo.fix_to_dict(
        job.input("photo"), job.settings.PHOTO_PROFILE, bool(job.params["replace_background"])
    )
    answer = PhotoFixOut(
        jpeg_base64=base64.b64encode(result["jpeg"]).decode(),
        report=result["report"],
        check=PhotoCheckOut(**result["check"]),
    )
    return 200, answer.model_dump(mode="json")


@router.post(
    "",
    status_code=202,
    responses={201: {"model": PhotoOut, "description": "已采用（Prefer: wait=N 且及时完成时）"}},
)
async def submit_photo(
    request: Request,
    file: PhotoFile,
    candidate: EditablePhoto,
    session: SessionDep,
    settings: SettingsDep,
) -> JSONResponse:
    """Accept the photo when it passes every rule and its face is the ID card's: a job
    whose answer is `PhotoOut`."""
    data = await uploads.read_image(file, settings.MAX_IMAGE_BYTES)
    if await run_in_threadpool(latest_confirmed_card, session, candidate.id) is None:
        raise IDCARD_REQUIRED
    return await jobs.start(request, candidate.id, "photo", {"photo": (data, ".jpg")})


IDCARD_REQUIRED = ApiError(
    409, "idcard_required", "请先完成身份证识别，证件照需要与身份证照片比对。"
)


@jobs.handler("photo")
def submit_photo_job(job: jobs.JobContext) -> tuple[int, dict[str, Any]]:
    settings, session, candidate = job.settings, job.session, job.candidate
    data = job.input("photo")
    portrait = _portrait(session, job.media, candidate.id)
    if portrait is None:
        raise IDCARD_REQUIRED
    result = photo.review(
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
        key=uploads.store(job.media, session, settings, candidate.id, "photo", data, suffix=".jpg"),
        measurements=result["measurements"],
        face_distance=face["distance"],
        face_verdict=face["verdict"],
    )
    session.add(record)
    session.flush()
    answer = PhotoOut(
        id=record.id,
        profile=record.profile,
        face_verdict=record.face_verdict,
        face_distance=record.face_distance,
        check=PhotoCheckOut(**result),
    )
    return 201, answer.model_dump(mode="json")
