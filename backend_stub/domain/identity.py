"""Where a candidate's identity stands: which steps are done, one definition each.

- the ID card is done once a submission is confirmed (`latest_confirmed_card`);
- the live check is done once a clip passed or waits for a person (`LIVE_DONE`);
- the photo is done once a standard photo is on file;
- the identity is complete when those three are (`IDENTITY_PARTS`), and approved when
  the exam office's latest review says so.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from backend_stub.models import (
    Candidate,
    DocumentLink,
    IdCardSubmission,
    LiveAttempt,
    Order,
    Review,
    StandardPhoto,
)

# A clip that passed, or that a person decides on: the candidate's part is done.
LIVE_DONE = ("pass", "review")
# The steps the candidate does to prove who they are, before the exam office reviews.
IDENTITY_PARTS = ("idcard", "liveness", "photo")


def latest_confirmed_card(session: Session, candidate_id: int) -> IdCardSubmission | None:
    """The ID card the candidate confirmed last (its portrait is the face to match)."""
    return session.scalar(
        select(IdCardSubmission)
        .where(
            IdCardSubmission.candidate_id == candidate_id,
            IdCardSubmission.confirmed_at.is_not(None),
        )
        .order_by(IdCardSubmission.id.desc())
        .limit(1)
    )


def review_status(session: Session, candidate_id: int) -> str:
    """none, pending, approved, rejected or unlocked: the latest review's state."""
    status = session.scalar(
        select(Review.status)
        .where(Review.candidate_id == candidate_id)
        .order_by(Review.id.desc())
        .limit(1)
    )
    return status or "none"


def completed(candidate: Candidate) -> set[str]:
    """The journey steps this candidate has finished."""
    done = {"account"}
    session = object_session(candidate)
    if session is None:
        return done
    if latest_confirmed_card(session, candidate.id) is not None:
        done.add("idcard")
    verdicts = set(
        session.scalars(select(LiveAttempt.verdict).where(LiveAttempt.candidate_id == candidate.id))
    )
    if verdicts & set(LIVE_DONE):
        done.add("liveness")
    if session.scalar(
        select(StandardPhoto.id).where(StandardPhoto.candidate_id == candidate.id).limit(1)
    ):
        done.add("photo")
    if review_status(session, candidate.id) == "approved":
        done.add("review")
    statuses = set(session.scalars(select(Order.status).where(Order.candidate_id == candidate.id)))
    if statuses & {"pending", "paid"}:
        done.add("enrollment")
    if "paid" in statuses:
        done.add("payment")
        if session.scalar(
            select(DocumentLink.id)
            .join(Order, Order.id == DocumentLink.order_id)
            .where(Order.candidate_id == candidate.id, DocumentLink.used_at.is_not(None))
            .limit(1)
        ):
            done.add("documents")
    return done


def missing_parts(candidate: Candidate) -> list[str]:
    """The identity parts still to do, in journey order."""
    done = completed(candidate)
    return [part for part in IDENTITY_PARTS if part not in done]


def identity_complete(candidate: Candidate) -> bool:
    return not missing_parts(candidate)


def live_check_waits(candidate: Candidate) -> bool:
    """The live check waits for a person: a clip in review, none passed."""
    session = object_session(candidate)
    if session is None:
        return False
    verdicts = set(
        session.scalars(select(LiveAttempt.verdict).where(LiveAttempt.candidate_id == candidate.id))
    )
    return "review" in verdicts and "pass" not in verdicts
