"""资格审核, the candidate's side: where the review stands, and 提交审核."""

from __future__ import annotations

from fastapi import APIRouter

from backend_stub.deps import CurrentCandidate, SessionDep
from backend_stub.domain import review
from backend_stub.schemas.review import (
    ReviewOut,
)

router = APIRouter(prefix="/api/review", tags=["review"])


@router.get("", response_model=ReviewOut)
def read_review(candidate: CurrentCandidate, session: SessionDep) -> ReviewOut:
    """Where the candidate's 资格审核 stands and what to do next."""
    return ReviewOut(**review.state(session, candidate))


@router.post("", response_model=ReviewOut, status_code=201)
def submit_review(candidate: CurrentCandidate, session: SessionDep) -> ReviewOut:
    """提交审核 (again, after fixing what was rejected)."""
    review.submit(session, candidate)
    return ReviewOut(**review.state(session, candidate))
