"""Payments applied to orders, once: from the provider's notifications, from a query (查询
缴费结果, a cancel racing a payment), and from the reconciler that asks the provider about
every open trade (a notification lost in a crash is not waited for)."""

from __future__ import annotations

import logging

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend_stub.db import changed, utcnow
from backend_stub.models import (
    Candidate,
    ExamSession,
    ExamSite,
    Major,
    Order,
    PaymentCode,
    PaymentNotice,
)
from backend_stub.payments import SUCCESS, Notification, PaymentProvider, TradeState

log = logging.getLogger("zikao.orders")


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
