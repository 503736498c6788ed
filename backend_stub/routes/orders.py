"""我的订单: confirm the 报考 as an order, pay it by QR code, cancel it, download its
documents."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select, update

from backend_stub import documents, orders, tickets
from backend_stub.db import changed, utcnow
from backend_stub.deps import (
    CurrentCandidate,
    CurrentExam,
    OwnedOrder,
    PaymentsDep,
    SessionDep,
    SettingsDep,
)
from backend_stub.domain import documents as document_rules
from backend_stub.domain import settlement
from backend_stub.domain.documents import available as available_documents
from backend_stub.errors import ApiError
from backend_stub.models import (
    DocumentLink,
    ExamSession,
    ExamSite,
    Major,
    Order,
    PaymentCode,
    StandardPhoto,
)
from backend_stub.schemas.orders import (
    LinkOut,
    OrderItemOut,
    OrderOut,
    PaymentIn,
    PaymentOut,
)
from backend_stub.security import token_digest
from rules.display import masked_id

router = APIRouter(tags=["orders"])


def order_out(session: SessionDep, order: Order) -> OrderOut:
    site = session.get(ExamSite, order.site_id)
    major = session.get(Major, order.major_id)
    exam = session.get(ExamSession, order.session_id)
    assert site and major and exam
    return OrderOut(
        id=order.id,
        out_trade_no=order.out_trade_no,
        session=exam.name,
        status=order.status,
        status_text=orders.STATUS_TEXT[order.status],
        major=f"{major.name}（{major.code}）",
        site=site.name,
        site_address=site.address,
        items=[OrderItemOut(**item) for item in order.items],
        total_fen=order.total_fen,
        created_at=order.created_at,
        expires_at=order.expires_at,
        paid_at=order.paid_at,
        seat_number=order.seat_number,
        documents=available_documents(order, exam),
    )


def base_url(request: Request, public_url: str) -> str:
    return public_url.rstrip("/") if public_url else str(request.base_url).rstrip("/")


@router.post("/api/orders", response_model=OrderOut, status_code=201)
def create_order(
    candidate: CurrentCandidate, exam: CurrentExam, session: SessionDep, settings: SettingsDep
) -> OrderOut:
    """Confirm the saved 报考: take a seat and create the order to pay."""
    return order_out(session, orders.place_order(session, candidate, exam, settings))


@router.get("/api/orders", response_model=list[OrderOut])
def read_orders(
    candidate: CurrentCandidate, session: SessionDep, payments: PaymentsDep
) -> list[OrderOut]:
    """我的订单, newest first (orders past their 24 hours show as lapsed)."""
    orders.sweep_lapsed(session, payments, candidate_id=candidate.id)
    found = session.scalars(
        select(Order).where(Order.candidate_id == candidate.id).order_by(Order.id.desc())
    ).all()
    return [order_out(session, order) for order in found]


@router.get("/api/orders/{order_id}", response_model=OrderOut)
def read_order(order: OwnedOrder, session: SessionDep) -> OrderOut:
    """One order and its status."""
    return order_out(session, order)


@router.post("/api/orders/{order_id}/cancel", response_model=OrderOut)
def cancel_order(order: OwnedOrder, session: SessionDep, payments: PaymentsDep) -> OrderOut:
    """Cancel an unpaid order; its seat is given back and the 报考 can change again."""
    if order.status != "pending":
        raise ApiError(
            409, f"order_{order.status}", f"订单{orders.STATUS_TEXT[order.status]}，不能取消。"
        )
    order = orders.close_order(session, order, payments, "cancelled")
    if order.status == "paid":
        raise ApiError(409, "order_paid", "订单已缴费，不能取消。")
    return order_out(session, order)


@router.post("/api/orders/{order_id}/payment", response_model=PaymentOut, status_code=201)
def create_payment(
    order: OwnedOrder,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    payments: PaymentsDep,
    body: PaymentIn | None = None,
) -> PaymentOut:
    """A fresh QR code (valid three minutes, scannable once) or a same-phone payment page
    for the order; any earlier code of the order stops working."""
    channel = body.channel if body is not None else "qr"
    if order.status != "pending":
        raise ApiError(
            409, f"order_{order.status}", f"订单{orders.STATUS_TEXT[order.status]}，无需支付。"
        )
    # A code already paid but not yet notified: settle it instead of charging again.
    if settlement.settle(session, payments, order, payments.close(order.out_trade_no)):
        raise ApiError(409, "order_paid", "订单已缴费。")
    now = utcnow()
    expires_at = min(now + timedelta(seconds=settings.PAYMENT_CODE_TTL_SECONDS), order.expires_at)
    exam = session.get(ExamSession, order.session_id)
    assert exam is not None
    code_url = payments.precreate(
        out_trade_no=order.out_trade_no,
        subject=f"{exam.name}自学考试报考费",
        amount_fen=order.total_fen,
        expires_at=expires_at,
        base_url=base_url(request, settings.PUBLIC_URL),
        channel=channel,
    )
    session.add(
        PaymentCode(
            order_id=order.id,
            provider=payments.name,
            code_url=code_url,
            created_at=now,
            expires_at=expires_at,
        )
    )
    session.commit()
    return PaymentOut(
        order_id=order.id,
        channel=channel,
        code_url=code_url,
        expires_at=expires_at,
        expires_in=int((expires_at - now).total_seconds()),
        total_fen=order.total_fen,
        sandbox=payments.name == "sandbox",
    )


@router.post("/api/orders/{order_id}/query", response_model=OrderOut)
def query_payment(order: OwnedOrder, session: SessionDep, payments: PaymentsDep) -> OrderOut:
    """查询缴费结果: ask the provider, for when its notification has not arrived."""
    if order.status == "pending":
        settlement.settle(session, payments, order, payments.query(order.out_trade_no))
    return order_out(session, order)


@router.post("/api/orders/{order_id}/documents/{kind}", response_model=LinkOut, status_code=201)
def create_document_link(
    kind: Literal["receipt", "ticket"],
    order: OwnedOrder,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
) -> LinkOut:
    """A one-time link (valid one minute) to download a document of a paid order."""
    exam = session.get(ExamSession, order.session_id)
    assert exam is not None
    if kind not in available_documents(order, exam):
        if order.status != "paid":
            raise ApiError(
                409, "order_not_paid", f"订单缴费后才能下载{document_rules.NAMES[kind]}。"
            )
        raise ApiError(409, "ticket_not_released", "准考证尚未开放打印，请留意考试院通知。")
    token = secrets.token_urlsafe(24)
    expires_at = utcnow() + timedelta(seconds=settings.DOCUMENT_LINK_TTL_SECONDS)
    session.add(
        DocumentLink(
            token_hash=token_digest(token), order_id=order.id, kind=kind, expires_at=expires_at
        )
    )
    session.commit()
    return LinkOut(
        url=f"{base_url(request, settings.PUBLIC_URL)}/api/documents/{token}",
        expires_at=expires_at,
    )


@router.get("/api/documents/{token}", response_class=Response)
def download_document(token: str, request: Request, session: SessionDep) -> Response:
    """The PDF behind a one-time link."""
    now = utcnow()
    link = session.scalar(
        select(DocumentLink).where(DocumentLink.token_hash == token_digest(token))
    )
    if link is None or link.expires_at <= now:
        raise ApiError(404, "link_invalid", "下载链接已失效，请在应用中重新下载。")
    used = changed(
        session,
        update(DocumentLink)
        .where(DocumentLink.id == link.id, DocumentLink.used_at.is_(None))
        .values(used_at=now),
    )
    session.commit()
    if used != 1:
        raise ApiError(404, "link_invalid", "下载链接已失效，请在应用中重新下载。")
    order = session.get(Order, link.order_id)
    assert order is not None and order.receipt is not None
    receipt: dict[str, Any] = order.receipt
    if link.kind == "receipt":
        pdf = documents.receipt_pdf(receipt)
    else:
        photo = session.scalar(
            select(StandardPhoto)
            .where(StandardPhoto.candidate_id == order.candidate_id)
            .order_by(StandardPhoto.id.desc())
        )
        image = request.app.state.media.read(photo.key) if photo else None
        settings = request.app.state.settings
        code = tickets.sign(
            settings.DATA_DIR, tickets.facts(receipt, masked_id(receipt["id_number"]))
        )
        pdf = documents.ticket_pdf(
            receipt,
            image,
            verify_url=f"{base_url(request, settings.PUBLIC_URL)}/verify/ticket?c={code}",
            issuer=settings.ISSUING_OFFICE,
        )
    filename = "receipt.pdf" if link.kind == "receipt" else "admission-ticket.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
