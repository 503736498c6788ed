"""报考 rules, orders and their payment: the state changes, each one a conditional
UPDATE so concurrent requests (two taps, a crowd for the last seats, a notification
racing a cancel) cannot oversell a site or charge an order twice.

Order states: pending → paid | cancelled | lapsed. A pending order holds one seat at its
site; cancelling or lapsing gives it back.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend_stub import review
from backend_stub.catalog import SLOT_TEXT
from backend_stub.config import Settings
from backend_stub.db import changed, utcnow
from backend_stub.domain.errors import DomainError
from backend_stub.domain.identity import IDENTITY_PARTS, completed
from backend_stub.models import (
    Candidate,
    Course,
    Enrollment,
    ExamSession,
    ExamSite,
    Major,
    MajorCourse,
    Order,
    PassedCourse,
    PaymentCode,
    PaymentNotice,
)
from backend_stub.payments import SUCCESS, Notification, PaymentProvider, TradeState

log = logging.getLogger("zikao.orders")

# What 报考 needs: the identity parts, and the exam office's approval.
IDENTITY_STEPS = (*IDENTITY_PARTS, "review")
STATUS_TEXT = {
    "pending": "待缴费",
    "paid": "已缴费",
    "cancelled": "已取消",
    "lapsed": "已失效",
}
CARD_FEE_CODE = "card_fee"


def check_window(exam: ExamSession) -> None:
    now = utcnow()
    if now < exam.opens_at:
        raise DomainError("window_not_open", f"{exam.name}报考尚未开始，请在报名时间内报考。")
    if now >= exam.closes_at:
        raise DomainError("window_closed", f"{exam.name}报考已截止。")


def check_identity(candidate: Candidate) -> None:
    done = completed(candidate)
    missing = [step for step in IDENTITY_STEPS if step not in done]
    if missing:
        names = {
            "idcard": "身份证识别",
            "liveness": "人脸识别",
            "photo": "证件照",
            "review": "资格审核（待考试机构审核通过）",
        }
        raise DomainError(
            "identity_incomplete",
            f"请先完成{'、'.join(names[m] for m in missing)}，再报考。",
            steps=missing,
        )


def check_selection(
    session: Session,
    candidate: Candidate,
    exam: ExamSession,
    *,
    site_id: int,
    major_code: str,
    course_codes: Sequence[str],
) -> tuple[ExamSite, Major, list[Course]]:
    """Apply the 报考 rules; returns the site, major and courses (in exam order)."""
    site = session.get(ExamSite, site_id)
    if site is None or site.session_id != exam.id:
        raise DomainError("site_unknown", "请选择本次考试的考点。")
    major = session.scalar(
        select(Major).where(Major.session_id == exam.id, Major.code == major_code)
    )
    if major is None:
        raise DomainError("major_unknown", "请选择本次开考的专业。")
    if major.special and not review.materials_approved(session, candidate.id, major.code):
        raise DomainError(
            "major_needs_materials",
            f"{major.name}专业须上传证明材料并经考试机构审核通过后才能报考。",
        )
    codes = list(dict.fromkeys(course_codes))
    if not codes:
        raise DomainError("no_courses", "请至少选择一门课程。")
    offered = {
        c.code: c
        for c in session.scalars(
            select(Course)
            .join(MajorCourse, MajorCourse.course_id == Course.id)
            .where(MajorCourse.major_id == major.id)
        )
    }
    unknown = [c for c in codes if c not in offered]
    if unknown:
        raise DomainError(
            "course_not_in_major",
            f"课程 {'、'.join(unknown)} 不属于{major.name}专业的开考课程。",
            courses=unknown,
        )
    courses = sorted((offered[c] for c in codes), key=lambda c: (c.exam_date, c.slot, c.code))
    taken: dict[tuple[object, str], Course] = {}
    for course in courses:
        other = taken.get((course.exam_date, course.slot))
        if other is not None:
            raise DomainError(
                "slot_conflict",
                f"{other.name}和{course.name}同在{course.exam_date:%m月%d日}"
                f"{SLOT_TEXT[course.slot][:2]}考试，只能选其中一门。",
                courses=[other.code, course.code],
            )
        taken[(course.exam_date, course.slot)] = course
    passed = set(
        session.scalars(
            select(PassedCourse.course_code).where(PassedCourse.candidate_id == candidate.id)
        )
    )
    for course in courses:
        if course.kind == "practical" and course.theory_code not in passed:
            theory = session.scalar(
                select(Course.name).where(
                    Course.session_id == exam.id, Course.code == course.theory_code
                )
            )
            raise DomainError(
                "theory_not_passed",
                f"{course.name}须在{theory or course.theory_code}（{course.theory_code}）"
                "考试合格后才能报考。",
                courses=[course.code],
            )
    return site, major, courses


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
    check_window(exam)
    check_identity(candidate)
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
    site, major, courses = check_selection(
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
    if settle(session, provider, order, provider.close(order.out_trade_no)):
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


def settle(session: Session, provider: PaymentProvider, order: Order, state: TradeState) -> bool:
    """Apply a payment the provider reports (from a query or a close) to `order`; True
    if the provider says it was paid."""
    if state.status != SUCCESS:
        return False
    assert state.transaction_id and state.amount_fen is not None and state.paid_at
    record_payment(
        session,
        provider.name,
        notify_id=None,
        out_trade_no=order.out_trade_no,
        transaction_id=state.transaction_id,
        amount_fen=state.amount_fen,
        paid_at=state.paid_at,
    )
    session.refresh(order)
    return True


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


def reconcile_open(session: Session, provider: PaymentProvider) -> int:
    """Ask the provider about every pending order that was given a payment code and
    settle the ones it says are paid; returns how many were. A notification lost in a
    crash, an outage or a restart is recovered here, with no candidate action."""
    open_orders = session.scalars(
        select(Order).where(
            Order.status == "pending",
            Order.id.in_(select(PaymentCode.order_id)),
        )
    ).all()
    settled = 0
    for order in open_orders:
        if settle(session, provider, order, provider.query(order.out_trade_no)):
            settled += 1
    return settled


def record_payment(
    session: Session,
    provider: str,
    *,
    notify_id: str | None,
    out_trade_no: str,
    transaction_id: str,
    amount_fen: int,
    paid_at: object,
) -> str:
    """Apply a payment the provider confirmed (by notification or query), once.

    Returns the outcome: applied, duplicate, or refund_due (money for an order that is
    closed, already paid by another trade, or for another amount — kept for a refund,
    never turned into a paid order silently).
    """
    session.commit()
    order = session.scalar(select(Order).where(Order.out_trade_no == out_trade_no))
    outcome, detail = "refund_due", ""
    if order is None:
        detail = "unknown_order"
    elif amount_fen != order.total_fen:
        detail = "amount_mismatch"
    else:
        now = utcnow()
        paid = changed(
            session,
            update(Order)
            .where(Order.id == order.id, Order.status == "pending")
            .values(status="paid", paid_at=now, transaction_id=transaction_id),
        )
        if paid == 1:
            outcome = "applied"
            _finish_paid_order(session, order.id)
        else:
            session.rollback()
            session.refresh(order)
            if order.status == "paid" and order.transaction_id == transaction_id:
                outcome = "duplicate"
            else:
                detail = f"order_{order.status}"
    notice = PaymentNotice(
        provider=provider,
        notify_id=notify_id,
        out_trade_no=out_trade_no,
        transaction_id=transaction_id,
        amount_fen=amount_fen,
        outcome=outcome,
        detail=detail,
    )
    session.add(notice)
    try:
        session.commit()
    except IntegrityError:  # the same notification, delivered twice at once
        session.rollback()
        return "duplicate"
    if outcome == "refund_due":
        log.warning("payment kept for refund: order %s (%s)", out_trade_no, detail)
    return outcome


def _finish_paid_order(session: Session, order_id: int) -> None:
    """Number the seat, give a new student a 准考证号, and freeze the receipt."""
    order = session.get(Order, order_id)
    assert order is not None
    session.refresh(order)
    seat = session.execute(
        update(ExamSite)
        .where(ExamSite.id == order.site_id)
        .values(seats_numbered=ExamSite.seats_numbered + 1)
        .returning(ExamSite.seats_numbered)
    ).scalar_one()
    site = session.get(ExamSite, order.site_id)
    exam = session.get(ExamSession, order.session_id)
    major = session.get(Major, order.major_id)
    candidate = session.get(Candidate, order.candidate_id)
    assert site and exam and major and candidate
    if candidate.ticket_number is None:
        candidate.ticket_number = f"{site.district}{exam.code[2:4]}{candidate.id:06d}"
    order.seat_number = seat
    order.receipt = {
        "out_trade_no": order.out_trade_no,
        "transaction_id": order.transaction_id,
        "paid_at": order.paid_at.isoformat() if order.paid_at else None,
        "session": exam.name,
        "name": candidate.name,
        "id_number": candidate.id_number,
        "ticket_number": candidate.ticket_number,
        "major": f"{major.code} {major.name}（{major.level}）",
        "site": {"code": site.code, "name": site.name, "address": site.address},
        "county": site.county,
        "seat_number": seat,
        "items": order.items,
        "total_fen": order.total_fen,
    }


def apply_notification(session: Session, provider: str, notice: Notification) -> str:
    if session.scalar(select(PaymentNotice.id).where(PaymentNotice.notify_id == notice.notify_id)):
        return "duplicate"
    return record_payment(
        session,
        provider,
        notify_id=notice.notify_id,
        out_trade_no=notice.out_trade_no,
        transaction_id=notice.transaction_id,
        amount_fen=notice.amount_fen,
        paid_at=notice.paid_at,
    )


def reject_notification(session: Session, provider: str, reason: str) -> None:
    """Log a notification that failed verification (nothing from it is trusted)."""
    session.rollback()
    session.add(PaymentNotice(provider=provider, outcome="rejected", detail=reason))
    session.commit()
    log.warning("payment notification rejected (%s)", reason)
