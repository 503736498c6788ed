"""人脸识别: digits to read, the recorded clip, the verdict (the lifecycle and its rules:
backend_stub.domain.liveness)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile
from sqlalchemy import select

from backend_stub import uploads
from backend_stub.deps import CurrentCandidate, EditableLiveness, SessionDep, SettingsDep
from backend_stub.domain import liveness as rules
from backend_stub.errors import ApiError
from backend_stub.models import Candidate, LiveAttempt
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
    if _portrait(session, request, candidate.id) is None:
        raise rules.IDCARD_REQUIRED
    challenge = rules.issue_challenge(session, candidate, settings)
    return ChallengeOut(
        id=challenge.id,
        digits=challenge.digits,
        expires_at=challenge.expires_at,
        attempts_left=rules.attempts_left(session, candidate.id, settings.LIVE_MAX_FAILURES),
    )


@router.post("/{challenge_id}/video", response_model=AttemptOut, status_code=201)
async def upload_video(
    challenge_id: int,
    request: Request,
    video: VideoFile,
    candidate: EditableLiveness,
    session: SessionDep,
    settings: SettingsDep,
) -> AttemptOut:
    """Analyse the clip against the challenge and the ID-card portrait; store the attempt."""
    challenge = rules.owned_challenge(session, candidate, challenge_id)
    limit = settings.LIVE_MAX_VIDEO_BYTES
    data = await uploads.read_limited(
        video,
        limit,
        too_large=uploads.video_too_large(limit),
        empty=("video_empty", "没有收到视频，请重新录制。"),
    )
    rules.claim(session, challenge, candidate, settings)
    portrait = _portrait(session, request, candidate.id)
    if portrait is None:
        raise rules.IDCARD_REQUIRED
    try:
        result = await request.app.state.verifier.run(
            liveness.check_video,
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
    # Three frames for the exam office (face, mouth open, mouth closed), kept privately.
    stills = {
        name: uploads.store(
            request, session, settings, candidate.id, "liveness", jpeg, suffix=".jpg"
        )
        for name, jpeg in result.get("stills", {}).items()
    }
    attempt = LiveAttempt(
        candidate_id=candidate.id,
        challenge_id=challenge.id,
        video_key=uploads.store(
            request,
            session,
            settings,
            candidate.id,
            "liveness",
            data,
            suffix=liveness.container_suffix(data),
        ),
        verdict=result["verdict"],
        reasons=result["reasons"],
        measurements={**result["measurements"], "stills": stills},
    )
    session.add(attempt)
    session.commit()
    return AttemptOut.model_validate(attempt)
