"""报考 rules, orders and their payment: the state changes, each one a conditional
UPDATE so concurrent requests (two taps, a crowd for the last seats, a notification
racing a cancel) cannot oversell a site or charge an order twice.

Order states: pending → paid | cancelled | lapsed. A pending order holds one seat at its
site; cancelling or lapsing gives it back.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend_stub.config import Settings
from backend_stub.db import changed, utcnow
from backend_stub.domain import enrollment as enrollment_rules
from backend_stub.domain import settlement
from backend_stub.domain.errors import DomainError
from backend_stub.models import (
    Candidate,
    Enrollment,
    ExamSession,
    ExamSite,
    Major,
    Order,
)
from backend_stub.payments import PaymentProvider

log = logging.getLogger("zikao.orders")

STATUS_TEXT = {
    "pending": "待缴费",
    "paid": "已缴费",
    "cancelled": "已取消",
    "lapsed": "已失效",
}
CARD_FEE_CODE = "card_fee"


def active_order(session: Session, candidate_id: int, session_id: int) -> Order | None:
    return session.scalar(
        select(Order).where(
            Order.candidate_id == candidate_id,
            Order.session_id == session_id,
            Order.status.in_(("pending", "paid")),
        )
    )


def new_trade_no() -> str:
    return "ZK" + utcnow().strftime("%Y%m%d%H%M%S") + secrets.token_hex(4).upper()


def place_order(
    session: Session, candidate: Candidate, exam: ExamSession, settings: Settings
) -> Order:
    """Confirm the saved 报考 as an order: the seat is taken in the same transaction as
    the order is written, so a refused order holds no seat."""
    enrollment_rules.check_window(exam)
    enrollment_rules.check_identity(candidate)
    enrollment = session.scalar(
        select(Enrollment).where(
            Enrollment.candidate_id == candidate.id, Enrollment.session_id == exam.id
        )
    )
    if enrollment is None:
        raise DomainError("enrollment_missing", "请先选择考点、专业和课程。")
    existing = active_order(session, candidate.id, exam.id)
    if existing is not None:
        raise DomainError(
            "order_exists", "本次考试已有订单，请在“我的订单”中查看。", order_id=existing.id
        )
    full = session.get(ExamSite, enrollment.site_id)
    if full is not None and full.reserved >= full.capacity:  # most refusals at peak: say it early
        raise DomainError("site_full", f"{full.name}座位已满，请选择其他考点。")
    major = session.get(Major, enrollment.major_id)
    assert major is not None
    site, major, courses = enrollment_rules.check_selection(
        session,
        candidate,
        exam,
        site_id=enrollment.site_id,
        major_code=major.code,
        course_codes=enrollment.course_codes,
    )
    items: list[dict[str, Any]] = [
        {
            "code": c.code,
            "name": c.name,
            "fee_fen": c.fee_fen,
            "exam_date": c.exam_date.isoformat(),
            "slot": c.slot,
        }
        for c in courses
    ]
    first_paid = session.scalar(
        select(Order.id).where(Order.candidate_id == candidate.id, Order.status == "paid").limit(1)
    )
    if candidate.kind == "new" and first_paid is None and settings.CARD_FEE_FEN:
        items.append(
            {"code": CARD_FEE_CODE, "name": "考籍证工本费", "fee_fen": settings.CARD_FEE_FEN}
        )
    now = utcnow()
    session.commit()  # end any read; the seat UPDATE below opens the write transaction
    seat = changed(
        session,
        update(ExamSite)
        .where(ExamSite.id == site.id, ExamSite.reserved < ExamSite.capacity)
        .values(reserved=ExamSite.reserved + 1),
    )
    if seat != 1:
        session.rollback()
        raise DomainError("site_full", f"{site.name}座位已满，请选择其他考点。")
    order = Order(
        out_trade_no=new_trade_no(),
        candidate_id=candidate.id,
        session_id=exam.id,
        site_id=site.id,
        major_id=major.id,
        items=items,
        total_fen=sum(int(i["fee_fen"]) for i in items),
        status="pending",
        active_key=f"{candidate.id}:{exam.id}",
        created_at=now,
        expires_at=now + timedelta(seconds=settings.ORDER_TTL_SECONDS),
    )
    session.add(order)
    try:
        session.commit()
    except IntegrityError:  # a second confirm raced this one: its order stands, not ours
        session.rollback()
        existing = active_order(session, candidate.id, exam.id)
        raise DomainError(
            "order_exists",
            "本次考试已有订单，请在“我的订单”中查看。",
            order_id=existing.id if existing else None,
        ) from None
    return order


def _release_seat(session: Session, site_id: int) -> None:
    session.execute(
        update(ExamSite)
        .where(ExamSite.id == site_id, ExamSite.reserved > 0)
        .values(reserved=ExamSite.reserved - 1)
    )


def close_order(session: Session, order: Order, provider: PaymentProvider, status: str) -> Order:
    """Cancel or lapse a pending order: close its trades first; if one was paid in the
    meantime the payment wins and the order is paid, not closed."""
    assert status in ("cancelled", "lapsed")
    if order.status != "pending":
        return order
    if settlement.settle(session, provider, order, provider.close(order.out_trade_no)):
        return order
    session.commit()
    closed = changed(
        session,
        update(Order)
        .where(Order.id == order.id, Order.status == "pending")
        .values(status=status, active_key=None, closed_at=utcnow()),
    )
    if closed == 1:
        _release_seat(session, order.site_id)
    session.commit()
    session.refresh(order)
    return order


def sweep_lapsed(
    session: Session, provider: PaymentProvider, *, candidate_id: int | None = None
) -> int:
    """Lapse pending orders past their 24 hours (all, or one candidate's); returns how
    many lapsed."""
    query = select(Order).where(Order.status == "pending", Order.expires_at <= utcnow())
    if candidate_id is not None:
        query = query.where(Order.candidate_id == candidate_id)
    lapsed = 0
    for order in session.scalars(query).all():
        if close_order(session, order, provider, "lapsed").status == "lapsed":
            lapsed += 1
    return lapsed
