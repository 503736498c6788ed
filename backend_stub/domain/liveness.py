"""人脸识别's lifecycle: digits issued (random, valid a few minutes, usable once, a limited
number an hour), claimed by one upload at a time, given back after an unusable file (a
few times), and where the candidate stands: todo → passed | review | on_site (after
LIVE_MAX_FAILURES failed clips the candidate confirms at the exam office instead)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from backend_stub import guards
from backend_stub.config import Settings
from backend_stub.db import changed, utcnow
from backend_stub.domain.errors import DomainError
from backend_stub.models import Candidate, LiveAttempt, LiveChallenge

CHALLENGE_USED = "这组数字已经使用过，请重新获取数字后再录制。"
CHALLENGE_EXPIRED = "数字已过期，请重新获取数字后再录制。"
IDCARD_REQUIRED = DomainError("idcard_required", "请先完成身份证识别，视频需要与身份证照片比对。")


def status_text(state: str, max_failures: int) -> str:
    return {
        "todo": "请录制朗读数字的短视频完成人脸识别。",
        "passed": "人脸识别已通过。",
        "review": "视频已提交，等待考试机构人工审核。",
        "on_site": f"在线人脸识别已连续{max_failures}次未通过，请携带身份证到报名点现场确认。",
    }[state]


def make_digits(count: int) -> str:
    """Random digits easy to read and hear: no digit twice in a row, none three times."""
    while True:
        digits = "".join(secrets.choice("0123456789") for _ in range(count))
        if all(a != b for a, b in zip(digits, digits[1:], strict=False)) and all(
            digits.count(d) < 3 for d in digits
        ):
            return digits


def failures(session: Session, candidate_id: int) -> int:
    return (
        session.scalar(
            select(func.count(LiveAttempt.id)).where(
                LiveAttempt.candidate_id == candidate_id, LiveAttempt.verdict == "fail"
            )
        )
        or 0
    )


def attempts_left(session: Session, candidate_id: int, max_failures: int) -> int:
    return max(0, max_failures - failures(session, candidate_id))


def status(session: Session, candidate: Candidate, max_failures: int) -> str:
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


def _still_todo(session: Session, candidate: Candidate, settings: Settings) -> None:
    state = status(session, candidate, settings.LIVE_MAX_FAILURES)
    if state != "todo":
        raise DomainError(f"liveness_{state}", status_text(state, settings.LIVE_MAX_FAILURES))


def issue_challenge(session: Session, candidate: Candidate, settings: Settings) -> LiveChallenge:
    """Fresh digits to read aloud, valid LIVE_CHALLENGE_TTL_SECONDS, for one upload."""
    _still_todo(session, candidate, settings)
    if (
        guards.hit(session, f"live:challenge:{candidate.id}", window_s=3600)
        > settings.LIVE_CHALLENGES_PER_HOUR
    ):
        raise DomainError(
            "challenge_limit", "获取数字的次数过多，请一小时后再试。", retry_after=3600
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
    return challenge


def owned_challenge(session: Session, candidate: Candidate, challenge_id: int) -> LiveChallenge:
    """The candidate's own challenge; anyone else's is simply not found."""
    challenge = session.get(LiveChallenge, challenge_id)
    if challenge is None or challenge.candidate_id != candidate.id:
        raise DomainError("challenge_not_found", "找不到这组数字，请重新获取。")
    return challenge


def claim(
    session: Session, challenge: LiveChallenge, candidate: Candidate, settings: Settings
) -> None:
    """Take the digits for one analysis, atomically: two uploads racing for one challenge
    get one analysis."""
    now = utcnow()
    if challenge.used_at is not None:
        raise DomainError("challenge_used", CHALLENGE_USED)
    if challenge.expires_at <= now:
        raise DomainError("challenge_expired", CHALLENGE_EXPIRED)
    _still_todo(session, candidate, settings)
    claimed = changed(
        session,
        update(LiveChallenge)
        .where(LiveChallenge.id == challenge.id, LiveChallenge.used_at.is_(None))
        .values(used_at=now),
    )
    session.commit()
    if claimed != 1:
        raise DomainError("challenge_used", CHALLENGE_USED)


def unclaim(session: Session, challenge: LiveChallenge) -> None:
    """The clip was never analysed (it could not be queued): the digits are unused."""
    session.execute(
        update(LiveChallenge).where(LiveChallenge.id == challenge.id).values(used_at=None)
    )
    session.commit()


def give_back(session: Session, challenge: LiveChallenge, settings: Settings) -> bool:
    """An unusable file costs no attempt: the digits may be recorded again, a few times
    (LIVE_MAX_BAD_UPLOADS); then they are spent, so crafted files cannot be sent without
    end. True if the digits can still be used."""
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
    return released == 1
