"""Dependencies shared by the routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend_stub import catalog, orders
from backend_stub.config import Settings
from backend_stub.db import utcnow
from backend_stub.domain import review
from backend_stub.errors import ApiError
from backend_stub.models import AuthSession, Candidate, ExamSession, Order
from backend_stub.payments import PaymentProvider
from backend_stub.security import new_token, token_digest
from backend_stub.sms import SmsSender


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's session. Closed on the event loop: a teardown that waited for a
    worker thread could wait on threads that wait for its connection."""
    session = request.app.state.db.sessionmaker()
    try:
        yield session
    finally:
        session.close()


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_sms_sender(request: Request) -> SmsSender:
    return request.app.state.sms_sender


def get_secret(request: Request) -> bytes:
    return request.app.state.secret


SessionDep = Annotated[Session, Depends(get_session)]
SecretDep = Annotated[bytes, Depends(get_secret)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SmsSenderDep = Annotated[SmsSender, Depends(get_sms_sender)]

_bearer = HTTPBearer(auto_error=False)


def current_auth_session(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> AuthSession:
    """The live login behind the request's bearer token."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(401, "not_authenticated", "请先登录。")
    auth = session.scalar(
        select(AuthSession).where(AuthSession.token_hash == token_digest(credentials.credentials))
    )
    if auth is None or auth.revoked_at is not None:
        raise ApiError(401, "session_invalid", "登录已失效，请重新登录。")
    if auth.expires_at <= utcnow():
        raise ApiError(401, "session_expired", "登录已过期，请重新登录。")
    return auth


CurrentAuthSession = Annotated[AuthSession, Depends(current_auth_session)]


def current_candidate(session: SessionDep, auth: CurrentAuthSession) -> Candidate:
    candidate = session.get(Candidate, auth.candidate_id)
    if candidate is None:
        raise ApiError(401, "session_invalid", "登录已失效，请重新登录。")
    return candidate


CurrentCandidate = Annotated[Candidate, Depends(current_candidate)]


def open_session(
    session: Session, settings: Settings, candidate: Candidate
) -> tuple[str, AuthSession]:
    """Create a login for `candidate`; returns the token (shown once) and the row."""
    token = new_token()
    now = utcnow()
    auth = AuthSession(
        token_hash=token_digest(token),
        candidate_id=candidate.id,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.SESSION_TTL_SECONDS),
    )
    session.add(auth)
    return token, auth


def get_payments(request: Request) -> PaymentProvider:
    return request.app.state.payments


PaymentsDep = Annotated[PaymentProvider, Depends(get_payments)]


def current_exam(session: SessionDep) -> ExamSession:
    exam = catalog.current_session(session)
    if exam is None:
        raise ApiError(404, "no_exam_session", "暂无开放报考的考试。")
    return exam


CurrentExam = Annotated[ExamSession, Depends(current_exam)]


def owned_order(
    order_id: int, candidate: CurrentCandidate, session: SessionDep, payments: PaymentsDep
) -> Order:
    """The candidate's own order (another candidate's is simply not found), lapsed if
    its 24 hours are over."""
    order = session.get(Order, order_id)
    if order is None or order.candidate_id != candidate.id:
        raise ApiError(404, "order_not_found", "找不到这个订单。")
    if order.status == "pending" and order.expires_at <= utcnow():
        order = orders.close_order(session, order, payments, "lapsed")
    return order


OwnedOrder = Annotated[Order, Depends(owned_order)]


def _editable(part: str) -> Any:
    def dependency(candidate: CurrentCandidate, session: SessionDep) -> Candidate:
        review.check_editable(session, candidate, part)
        return candidate

    return Depends(dependency)


# The current candidate, if the review allows changing this part of their identity.
EditableIdCard = Annotated[Candidate, _editable("idcard")]
EditableLiveness = Annotated[Candidate, _editable("liveness")]
EditablePhoto = Annotated[Candidate, _editable("photo")]
EditableProfile = Annotated[Candidate, _editable("profile")]
EditableMaterials = Annotated[Candidate, _editable("materials")]
