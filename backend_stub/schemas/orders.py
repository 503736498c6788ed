"""Orders, payment codes and document links."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel


class OrderItemOut(BaseModel):
    code: str
    name: str
    fee_fen: int
    exam_date: str | None = None
    slot: str | None = None


class OrderOut(BaseModel):
    id: int
    out_trade_no: str
    session: str
    status: str
    status_text: str
    major: str
    site: str
    site_address: str
    items: list[OrderItemOut]
    total_fen: int
    created_at: datetime
    expires_at: datetime
    paid_at: datetime | None
    seat_number: int | None
    # Which documents can be downloaded now: "receipt", "ticket".
    documents: list[str]


class PaymentIn(BaseModel):
    # "qr": a code to scan with another phone (WeChat Native / Alipay 当面付);
    # "h5": a page to open on this phone, which hands over to the wallet app
    # (Alipay 手机网站支付 / WeChat H5) and returns to the app.
    channel: Literal["qr", "h5"] = "qr"


class PaymentOut(BaseModel):
    order_id: int
    channel: Literal["qr", "h5"] = "qr"
    # The QR code's content; for "h5" the page the phone opens.
    code_url: str
    expires_at: datetime
    # Seconds the code stays valid (a phone's clock may be off; count down from this).
    expires_in: int
    total_fen: int
    # The sandbox provider: a tester may open the cashier in a browser instead of scanning.
    sandbox: bool


class LinkOut(BaseModel):
    url: str
    expires_at: datetime
