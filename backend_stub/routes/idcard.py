from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Request, Response, UploadFile
from fastapi.responses import JSONResponse
from sqlalchemy import select

from backend_stub import jobs, uploads
from backend_stub.db import utcnow
from backend_stub.deps import CurrentCandidate, EditableIdCard, SessionDep, SettingsDep
from backend_stub.errors import ApiError
from backend_stub.models import Candidate, IdCardSubmission
from backend_stub.routes.accounts import parse_id_number
from backend_stub.schemas.idcard import CardFieldsIn, IdCardOut
from verification.idcard.reader import read_card

router = APIRouter(prefix="/api/idcard", tags=["idcard"])


def within_one_edit(a: str, b: str) -> bool:
    """True if `a` becomes `b` by at most one inserted, deleted or replaced character."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return a[i + 1 :] == b[i + 1 :] if len(a) == len(b) else a[i:] == b[i + 1 :]
    return True


def account_match(candidate: Candidate, fields: dict[str, Any]) -> dict[str, bool]:
    return {
        "name": fields.get("name") == candidate.name,
        "id_number": fields.get("id_number") == candidate.id_number,
    }


def submission_out(candidate: Candidate, submission: IdCardSubmission) -> IdCardOut:
    fields = submission.confirmed_fields or submission.result.get("fields", {})
    return IdCardOut(
        id=submission.id,
        created_at=submission.created_at,
        result=submission.result,
        account_match=account_match(candidate, fields),
        confirmed=submission.confirmed_at is not None,
        confirmed_fields=submission.confirmed_fields,
    )


def owned_submission(
    submission_id: int, candidate: CurrentCandidate, session: SessionDep
) -> IdCardSubmission:
    """The candidate's own submission; anyone else's is "not found"."""
    submission = session.get(IdCardSubmission, submission_id)
    if submission is None or submission.candidate_id != candidate.id:
        raise ApiError(404, "idcard_not_found", "未找到该身份证照片记录，请重新拍摄。")
    return submission


OwnedSubmission = Annotated[IdCardSubmission, Depends(owned_submission)]


@router.post(
    "",
    status_code=202,
    responses={
        201: {"model": IdCardOut, "description": "读取结果（请求带 Prefer: wait=N 且及时完成时）"}
    },
)
async def upload_idcard(
    request: Request,
    candidate: EditableIdCard,
    settings: SettingsDep,
    front: Annotated[UploadFile, File(description="人像面照片 (JPEG/PNG, ≤ 10 MB)")],
    back: Annotated[UploadFile | None, File(description="国徽面照片，可选")] = None,
) -> JSONResponse:
    """Queue a photo of the ID card for reading: 202 with the job (`GET /api/jobs/{id}`
    gives the reading, as `IdCardOut`, once done). The image is kept privately with what
    was read."""
    front_bytes = await uploads.read_image(front, settings.MAX_IMAGE_BYTES)
    back_bytes = (
        await uploads.read_image(back, settings.MAX_IMAGE_BYTES) if back is not None else None
    )
    return await jobs.start(
        request,
        candidate.id,
        "idcard",
        {"front": (front_bytes, ".img"), "back": (back_bytes, ".img") if back_bytes else None},
    )


@jobs.handler("idcard")
def read_idcard_job(job: jobs.JobContext) -> tuple[int, dict[str, Any]]:
    """In a worker: read the card; keep the images with the reading, or refuse."""
    front_bytes, back_bytes = job.input("front"), job.optional_input("back")
    result, portrait, crop = read_card(front_bytes, back_bytes)
    refused = [w for w in result["quality"]["warnings"] if w["severity"] == "refuse"]
    if refused:
        raise ApiError(422, refused[0]["code"], refused[0]["message"], quality=result["quality"])
    candidate, session = job.candidate, job.session

    def store(kind: str, data: bytes | None, suffix: str) -> str | None:
        if not data:
            return None
        return uploads.store(
            job.media, session, job.settings, candidate.id, kind, data, suffix=suffix
        )

    submission = IdCardSubmission(
        candidate_id=candidate.id,
        front_key=store("idcard-front", front_bytes, ".img"),
        back_key=store("idcard-back", back_bytes, ".img"),
        portrait_key=store("idcard-portrait", portrait, ".jpg"),
        crop_key=store("idcard-crop", crop, ".jpg"),
        result=result,
    )
    session.add(submission)
    session.flush()
    return 201, submission_out(candidate, submission).model_dump(mode="json")


@router.get("", response_model=IdCardOut)
def read_latest_idcard(candidate: CurrentCandidate, session: SessionDep) -> IdCardOut:
    """The candidate's latest ID-card photo and its reading."""
    submission = session.scalar(
        select(IdCardSubmission)
        .where(IdCardSubmission.candidate_id == candidate.id)
        .order_by(IdCardSubmission.id.desc())
        .limit(1)
    )
    if submission is None:
        raise ApiError(404, "idcard_not_found", "还没有上传身份证照片。")
    return submission_out(candidate, submission)


@router.get("/{submission_id}/crop", response_class=Response)
def read_crop(submission: OwnedSubmission, request: Request) -> Response:
    """The card as the reader straightened it (JPEG), for its owner to compare."""
    if not submission.crop_key:
        raise ApiError(404, "idcard_crop_missing", "这张照片没有可显示的身份证画面。")
    try:
        data = request.app.state.media.read(submission.crop_key)
    except (OSError, ValueError):
        raise ApiError(404, "idcard_crop_missing", "这张照片没有可显示的身份证画面。") from None
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.post("/{submission_id}/confirm", response_model=IdCardOut)
def confirm_idcard(
    body: CardFieldsIn,
    submission: OwnedSubmission,
    candidate: EditableIdCard,
    session: SessionDep,
) -> IdCardOut:
    """Confirm the card's fields (as corrected by the candidate); they must fit the account.
    A submission is confirmed once: other values need a new photo."""
    if submission.confirmed_at is not None:
        raise ApiError(
            409,
            "idcard_already_confirmed",
            "这张身份证照片的信息已经确认。如需更正，请重新拍摄身份证。",
        )
    number = parse_id_number(body.id_number)
    conflicts = []
    if number.birth_date != body.birth:
        conflicts.append("出生日期")
    if number.sex != body.sex:
        conflicts.append("性别")
    if conflicts:
        raise ApiError(
            422,
            "idcard_fields_conflict",
            f"{'、'.join(conflicts)}与身份证号码不符，请对照身份证逐项核对。",
            fields=conflicts,
        )
    if number.number != candidate.id_number:
        raise ApiError(
            409,
            "idcard_number_mismatch",
            "身份证号码与注册账号不一致。请核对识别结果；若确认是注册时填错了身份证号，"
            "账号无法修改，请用正确的身份证号重新注册。",
        )
    name = body.name
    if name != candidate.name:
        if not body.use_card_name:
            raise ApiError(
                409,
                "idcard_name_mismatch",
                "身份证上的姓名与注册姓名不一致。请核对识别结果；若注册时姓名填错，可选择“以身份证为准”更正姓名。",
            )
        read = submission.result.get("fields", {}).get("name")
        if not isinstance(read, str) or not within_one_edit(name, read):
            # "以身份证为准" takes the card's name: what was read from this photo, with at
            # most one character corrected where the reading erred.
            raise ApiError(
                409,
                "idcard_name_not_on_card",
                "更正后的姓名与身份证照片上识别的姓名不符，无法以身份证为准更正。请重新拍摄清晰的身份证照片。",
            )
        candidate.name = name
    submission.confirmed_fields = body.model_dump(mode="json", exclude={"use_card_name"}) | {
        "id_number": number.number,
        "name": name,
    }
    submission.confirmed_at = utcnow()
    session.commit()
    return submission_out(candidate, submission)
