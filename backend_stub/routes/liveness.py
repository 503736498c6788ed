"""人脸识别: digits to read, the recorded clip, the verdict (the lifecycle and its rules:
backend_stub.domain.liveness)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import select

from backend_stub import jobs, uploads
from backend_stub.deps import CurrentCandidate, EditableLiveness, SessionDep, SettingsDep
from backend_stub.domain import liveness as rules
from backend_stub.domain.identity import latest_confirmed_card
from backend_stub.errors import ApiError
from backend_stub.models import Candidate, LiveAttempt, LiveChallenge
from backend_stub.routes.photo import _portrait
from backend_stub.schemas.liveness import (
    AttemptOut,
    ChallengeOut,
    LivenessOut,
)
from verification import liveness
from verification.errors import VerificationError

router = APIRouter(prefix="/api/liveness", tags=["liveness"])

VideoFile = Annotated[UploadFile, File(description="朗读数字的视频 (MP4/MOV/WebM, ≤ 20 MB)")]


def liveness_out(session: SessionDep, candidate: Candidate, max_failures: int) -> LivenessOut:
    attempts = session.scalars(
        select(LiveAttempt)
        .where(LiveAttempt.candidate_id == candidate.id)
        .order_by(LiveAttempt.id.desc())
    ).all()
    state = rules.status(session, candidate, max_failures)
    return LivenessOut(
        status=state,
        message=rules.status_text(state, max_failures),
        attempts_left=rules.attempts_left(session, candidate.id, max_failures),
        attempts=[AttemptOut.model_validate(a) for a in attempts],
    )


@router.get("", response_model=LivenessOut)
def read_liveness(
    candidate: CurrentCandidate, session: SessionDep, settings: SettingsDep
) -> LivenessOut:
    """Where the candidate stands: status, attempts left, every attempt's verdict."""
    return liveness_out(session, candidate, settings.LIVE_MAX_FAILURES)


@router.post("/challenge", response_model=ChallengeOut, status_code=201)
def issue_challenge(
    request: Request, candidate: EditableLiveness, session: SessionDep, settings: SettingsDep
) -> ChallengeOut:
    """Fresh digits to read aloud, valid five minutes, for one upload."""
    if _portrait(session, request.app.state.media, candidate.id) is None:
        raise rules.IDCARD_REQUIRED
    challenge = rules.issue_challenge(session, candidate, settings)
    return ChallengeOut(
        id=challenge.id,
        digits=challenge.digits,
        expires_at=challenge.expires_at,
        attempts_left=rules.attempts_left(session, candidate.id, settings.LIVE_MAX_FAILURES),
    )


@router.post(
    "/{challenge_id}/video",
    status_code=202,
    responses={
        201: {"model": AttemptOut, "description": "检测结果（Prefer: wait=N 且及时完成时）"}
    },
)
async def upload_video(
    challenge_id: int,
    request: Request,
    video: VideoFile,
    candidate: EditableLiveness,
    session: SessionDep,
    settings: SettingsDep,
) -> JSONResponse:
    """Queue the clip for analysis against the challenge and the ID-card portrait: a job
    whose answer is the stored attempt (`AttemptOut`)."""
    # The database work runs off the event loop (a worker thread), as in sync routes.
    challenge = await run_in_threadpool(rules.owned_challenge, session, candidate, challenge_id)
    limit = settings.LIVE_MAX_VIDEO_BYTES
    data = await uploads.read_limited(
        video,
        limit,
        too_large=uploads.video_too_large(limit),
        empty=("video_empty", "没有收到视频，请重新录制。"),
    )

    def take_digits() -> None:
        if latest_confirmed_card(session, candidate.id) is None:
            raise rules.IDCARD_REQUIRED
        rules.claim(session, challenge, candidate, settings)

    await run_in_threadpool(take_digits)
    try:
        job = await jobs.record(
            request,
            candidate.id,
            "liveness",
            {"video": (data, liveness.container_suffix(data))},
            challenge_id=challenge.id,
        )
    except ApiError:
        # Not queued (the queue is full, or a check of this candidate's is still running):
        # the digits were not used.
        await run_in_threadpool(rules.unclaim, session, challenge)
        raise
    await run_in_threadpool(jobs.send, request, job.id)
    return await jobs.respond(request, job)


@jobs.handler("liveness")
def check_video_job(job: jobs.JobContext) -> tuple[int, dict[str, Any]]:
    """In a worker: analyse the clip; store the attempt and its three stills."""
    settings, session, candidate = job.settings, job.session, job.candidate
    data = job.input("video")
    challenge = session.get(LiveChallenge, job.params["challenge_id"])
    assert challenge is not None
    portrait = _portrait(session, job.media, candidate.id)
    if portrait is None:
        raise rules.IDCARD_REQUIRED
    try:
        result = liveness.check_video(
            data,
            challenge.digits,
            portrait,
            settings.ASR_MODEL_DIR,
            settings.FACE_MATCH_THRESHOLD,
            settings.FACE_REVIEW_BAND,
        )
    except VerificationError as exc:
        if not rules.give_back(session, challenge, settings):
            raise ApiError(
                422, exc.code, exc.message + "这组数字已失效，请重新获取数字后再录制。"
            ) from None
        raise

    def store(jpeg_or_video: bytes, suffix: str) -> str:
        return uploads.store(
            job.media, session, settings, candidate.id, "liveness", jpeg_or_video, suffix=suffix
        )

    # Three frames for the exam office (face, mouth open, mouth closed), kept privately.
    stills = {name: store(jpeg, ".jpg") for name, jpeg in result.get("stills", {}).items()}
    attempt = LiveAttempt(
        candidate_id=candidate.id,
        challenge_id=challenge.id,
        video_key=store(data, liveness.container_suffix(data)),
        verdict=result["verdict"],
        reasons=result["reasons"],
        measurements={**result["measurements"], "stills": stills},
    )
    session.add(attempt)
    session.flush()
    return 201, AttemptOut.model_validate(attempt).model_dump(mode="json")
