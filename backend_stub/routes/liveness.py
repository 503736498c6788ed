"""人脸识别: digits to read, the recorded clip, the verdict; three failures → on site."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, File, Request, UploadFile
from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select, update

from backend_stub import guards, uploads
from backend_stub.db import changed, utcnow
from backend_stub.deps import CurrentCandidate, EditableLiveness, SessionDep, SettingsDep
from backend_stub.errors import ApiError
from backend_stub.models import Candidate, LiveAttempt, LiveChallenge
from backend_stub.routes.photo import _portrait
from verification import liveness
from verification.errors import VerificationError

router = APIRouter(prefix="/api/liveness", tags=["liveness"])

VideoFile = Annotated[UploadFile, File(description="朗读数字的视频 (MP4/MOV/WebM, ≤ 20 MB)")]

STATUS_TEXT = {
    "todo": "请录制朗读数字的短视频完成人脸识别。",
    "passed": "人脸识别已通过。",
    "review": "视频已提交，等待考试机构人工审核。",
    "on_site": "在线人脸识别已连续3次未通过，请携带身份证到报名点现场确认。",
}


class ChallengeOut(BaseModel):
    id: int
    digits: str
    expires_at: datetime
    attempts_left: int


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    verdict: str
    reasons: list[dict[str, str]]
    measurements: dict[str, Any]


class LivenessOut(BaseModel):
    status: str
    message: str
    attempts_left: int
    attempts: list[AttemptOut]


def make_digits(count: int) -> str:
    """Random digits easy to read and hear: no digit twice in a row, none three times."""
    while True:
        digits = "".join(secrets.choice("0123456789") for _ in range(count))
        if all(a != b for a, b in zip(digits, digits[1:], strict=False)) and all(
            digits.count(d) < 3 for d in digits
        ):
            return digits


def failures(session: SessionDep, candidate_id: int) -> int:
    return (
        session.scalar(
            select(func.count(LiveAttempt.id)).where(
                LiveAttempt.candidate_id == candidate_id, LiveAttempt.verdict == "fail"
            )
        )
        or 0
    )


def status(session: Any, candidate: Candidate, max_failures: int) -> str:
    """todo / passed / review (a person decides) / on_site (too many failures)."""
    verdicts = set(
        session.scalars(select(LiveAttempt.verdict).where(LiveAttempt.candidate_id == candidate.id))
    )
    if "pass" in verdicts:
        return "passed"
    if "review" in verdicts:
        return "review"
    if failures(session, candidate.id) >= max_failures:
        return "on_site"
    return "todo"


def liveness_out(session: SessionDep, candidate: Candidate, max_failures: int) -> LivenessOut:
    attempts = session.scalars(
        select(LiveAttempt)
        .where(LiveAttempt.candidate_id == candidate.id)
        .order_by(LiveAttempt.id.desc())
    ).all()
    state = status(session, candidate, max_failures)
    return LivenessOut(
        status=state,
        message=STATUS_TEXT[state],
        attempts_left=max(0, max_failures - failures(session, candidate.id)),
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
        raise ApiError(409, "idcard_required", "请先完成身份证识别，视频需要与身份证照片比对。")
    state = status(session, candidate, settings.LIVE_MAX_FAILURES)
    if state != "todo":
        raise ApiError(409, f"liveness_{state}", STATUS_TEXT[state])
    if (
        guards.hit(session, f"live:challenge:{candidate.id}", window_s=3600)
        > settings.LIVE_CHALLENGES_PER_HOUR
    ):
        raise ApiError(
            429, "challenge_limit", "获取数字的次数过多，请一小时后再试。", retry_after=3600
        )
    now = utcnow()
    challenge = LiveChallenge(
        candidate_id=candidate.id,
        digits=make_digits(settings.LIVE_DIGITS),
        created_at=now,
        expires_at=now + timedelta(seconds=settings.LIVE_CHALLENGE_TTL_SECONDS),
    )
    session.add(challenge)
    session.commit()
    return ChallengeOut(
        id=challenge.id,
        digits=challenge.digits,
        expires_at=challenge.expires_at,
        attempts_left=max(0, settings.LIVE_MAX_FAILURES - failures(session, candidate.id)),
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
    challenge = session.get(LiveChallenge, challenge_id)
    if challenge is None or challenge.candidate_id != candidate.id:
        raise ApiError(404, "challenge_not_found", "找不到这组数字，请重新获取。")
    limit = settings.LIVE_MAX_VIDEO_BYTES
    data = await uploads.read_limited(
        video,
        limit,
        too_large=(
            "video_too_large",
            f"视频超过{limit // (1024 * 1024)}MB，请录制 3-6 秒的短视频。",
        ),
        empty=("video_empty", "没有收到视频，请重新录制。"),
    )
    now = utcnow()
    if challenge.used_at is not None:
        raise ApiError(409, "challenge_used", liveness.REASONS["challenge_used"])
    if challenge.expires_at <= now:
        raise ApiError(409, "challenge_expired", liveness.REASONS["challenge_expired"])
    state = status(session, candidate, settings.LIVE_MAX_FAILURES)
    if state != "todo":
        raise ApiError(409, f"liveness_{state}", STATUS_TEXT[state])
    # Claim the digits atomically: two uploads racing for one challenge get one analysis.
    claimed = changed(
        session,
        update(LiveChallenge)
        .where(LiveChallenge.id == challenge.id, LiveChallenge.used_at.is_(None))
        .values(used_at=now),
    )
    session.commit()
    if claimed != 1:
        raise ApiError(409, "challenge_used", liveness.REASONS["challenge_used"])
    portrait = _portrait(session, request, candidate.id)
    if portrait is None:
        raise ApiError(409, "idcard_required", "请先完成身份证识别，视频需要与身份证照片比对。")
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
        # An unusable file costs no attempt: the same digits may be recorded again, a
        # few times; then they are spent (crafted files cannot be sent without end).
        session.execute(
            update(LiveChallenge)
            .where(LiveChallenge.id == challenge.id)
            .values(bad_uploads=LiveChallenge.bad_uploads + 1)
        )
        released = changed(
            session,
            update(LiveChallenge)
            .where(
                LiveChallenge.id == challenge.id,
                LiveChallenge.bad_uploads < settings.LIVE_MAX_BAD_UPLOADS,
            )
            .values(used_at=None),
        )
        session.commit()
        if released != 1:
            raise ApiError(
                422, exc.code, exc.message + "这组数字已失效，请重新获取数字后再录制。"
            ) from None
        raise ApiError(422, exc.code, exc.message) from None
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
        measurements=result["measurements"],
    )
    session.add(attempt)
    session.commit()
    return AttemptOut.model_validate(attempt)
