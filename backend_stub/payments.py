"""Payment providers: the interface the orders use, and the sandbox provider.

The sandbox behaves like WeChat Pay Native / Alipay 当面付 precreate: a trade per QR code
(`code_url`, valid a few minutes, scannable once), query and close, and an asynchronous
notification signed with Ed25519 over `timestamp\\nnonce\\nbody\\n` (the layout of WeChat
Pay v3 signatures). Its ledger is its own table, written in its own transactions, as a
remote provider's would be.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from backend_stub.db import Database, changed, utcnow
from backend_stub.models import SandboxTrade
from backend_stub.security import load_ed25519_key

log = logging.getLogger("zikao.payments")

WAITING, SUCCESS, CLOSED, NOT_FOUND = "WAIT_BUYER_PAY", "TRADE_SUCCESS", "TRADE_CLOSED", "NOT_FOUND"

SIGNATURE_HEADER = "Zikao-Pay-Signature"
TIMESTAMP_HEADER = "Zikao-Pay-Timestamp"
NONCE_HEADER = "Zikao-Pay-Nonce"


class NotificationRejected(Exception):
    """A notification that is not the provider's, or too old to trust."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TradeState:
    """What the provider says about the trades of one order."""

    status: str  # WAIT_BUYER_PAY, TRADE_SUCCESS, TRADE_CLOSED or NOT_FOUND
    transaction_id: str | None = None
    amount_fen: int | None = None
    paid_at: datetime | None = None


@dataclass(frozen=True)
class Notification:
    """A verified payment notification."""

    notify_id: str
    out_trade_no: str
    transaction_id: str
    amount_fen: int
    paid_at: datetime


class PaymentProvider(Protocol):
    name: str

    def precreate(
        self,
        *,
        out_trade_no: str,
        subject: str,
        amount_fen: int,
        expires_at: datetime,
        base_url: str,
        channel: str = "qr",
    ) -> str:
        """Open a trade; returns the `code_url` the QR code carries ("qr"), or the page a
        phone opens to pay with its wallet app and come back ("h5")."""
        ...

    def query(self, out_trade_no: str) -> TradeState:
        """The order's trade state at the provider (paid if any of its trades is)."""
        ...

    def close(self, out_trade_no: str) -> TradeState:
        """Close every open trade of the order; returns the state after closing (a trade
        paid before the close wins: TRADE_SUCCESS)."""
        ...

    def verify_notification(self, headers: dict[str, str], body: bytes) -> Notification:
        """Check a notification's signature and age; raises NotificationRejected."""
        ...


def signed_message(timestamp: str, nonce: str, body: bytes) -> bytes:
    return timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body + b"\n"


class SandboxProvider:
    """The provider testers pay with: trades in `sandbox_trade`, a cashier page at the
    `code_url`, notifications signed with the sandbox's key."""

    name = "sandbox"

    def __init__(self, db: Database, key_file: Path, *, max_age_seconds: int = 300) -> None:
        self.db = db
        self._key = load_ed25519_key(key_file)
        self.public_key = self._key.public_key()
        self.max_age_seconds = max_age_seconds

    # The provider's side ----------------------------------------------------------

    def precreate(
        self,
        *,
        out_trade_no: str,
        subject: str,
        amount_fen: int,
        expires_at: datetime,
        base_url: str,
        channel: str = "qr",
    ) -> str:
        token = secrets.token_urlsafe(24)
        with self.db.sessionmaker() as session:
            session.add(
                SandboxTrade(
                    token=token,
                    out_trade_no=out_trade_no,
                    subject=subject,
                    amount_fen=amount_fen,
                    status=WAITING,
                    created_at=utcnow(),
                    expires_at=expires_at,
                )
            )
            session.commit()
        url = f"{base_url.rstrip('/')}/sandbox/pay/{token}"
        # The same cashier stands for the wallets' same-phone pages; it then offers the
        # way back to the app.
        return url + "?via=h5" if channel == "h5" else url

    def query(self, out_trade_no: str) -> TradeState:
        with self.db.sessionmaker() as session:
            trades = session.scalars(
                select(SandboxTrade).where(SandboxTrade.out_trade_no == out_trade_no)
            ).all()
        for trade in trades:
            if trade.status == SUCCESS:
                return TradeState(SUCCESS, trade.transaction_id, trade.amount_fen, trade.paid_at)
        if not trades:
            return TradeState(NOT_FOUND)
        now = utcnow()
        if any(t.status == WAITING and t.expires_at > now for t in trades):
            return TradeState(WAITING)
        return TradeState(CLOSED)

    def close(self, out_trade_no: str) -> TradeState:
        with self.db.sessionmaker() as session:
            session.execute(
                update(SandboxTrade)
                .where(SandboxTrade.out_trade_no == out_trade_no, SandboxTrade.status == WAITING)
                .values(status=CLOSED)
            )
            session.commit()
        return self.query(out_trade_no)

    def trade(self, token: str) -> SandboxTrade | None:
        with self.db.sessionmaker() as session:
            return session.scalar(select(SandboxTrade).where(SandboxTrade.token == token))

    def scan(self, token: str) -> SandboxTrade | None:
        """Open the cashier for a code: only the first scan of a live code gets it."""
        now = utcnow()
        with self.db.sessionmaker() as session:
            opened = changed(
                session,
                update(SandboxTrade)
                .where(
                    SandboxTrade.token == token,
                    SandboxTrade.status == WAITING,
                    SandboxTrade.scanned_at.is_(None),
                    SandboxTrade.expires_at > now,
                )
                .values(scanned_at=now),
            )
            session.commit()
        return self.trade(token) if opened == 1 else None

    def pay(self, token: str) -> SandboxTrade | None:
        """The tester pays: the trade succeeds unless it was closed or has expired."""
        now = utcnow()
        transaction_id = "SBX" + now.strftime("%Y%m%d") + secrets.token_hex(8).upper()
        with self.db.sessionmaker() as session:
            try:
                paid = changed(
                    session,
                    update(SandboxTrade)
                    .where(
                        SandboxTrade.token == token,
                        SandboxTrade.status == WAITING,
                        SandboxTrade.expires_at > now,
                    )
                    .values(status=SUCCESS, paid_at=now, transaction_id=transaction_id),
                )
                session.commit()
            except IntegrityError:  # another code of the same order was paid: no charge
                session.rollback()
                self.decline(token)
                return None
        return self.trade(token) if paid == 1 else None

    def decline(self, token: str) -> None:
        with self.db.sessionmaker() as session:
            session.execute(
                update(SandboxTrade)
                .where(SandboxTrade.token == token, SandboxTrade.status == WAITING)
                .values(status=CLOSED)
            )
            session.commit()

    def notification(
        self, trade: SandboxTrade, *, timestamp: int | None = None
    ) -> tuple[dict[str, str], bytes]:
        """The signed notification for a paid trade: headers and body."""
        assert trade.paid_at is not None and trade.transaction_id is not None
        body = json.dumps(
            {
                "notify_id": secrets.token_hex(16),
                "event_type": "TRANSACTION.SUCCESS",
                "out_trade_no": trade.out_trade_no,
                "transaction_id": trade.transaction_id,
                "amount_fen": trade.amount_fen,
                "paid_at": trade.paid_at.isoformat(),
            },
            separators=(",", ":"),
        ).encode()
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        nonce = secrets.token_hex(16)
        signature = self._key.sign(signed_message(stamp, nonce, body))
        headers = {
            TIMESTAMP_HEADER: stamp,
            NONCE_HEADER: nonce,
            SIGNATURE_HEADER: base64.b64encode(signature).decode(),
        }
        return headers, body

    # The merchant's side ----------------------------------------------------------

    def verify_notification(self, headers: dict[str, str], body: bytes) -> Notification:
        from cryptography.exceptions import InvalidSignature

        lowered = {k.lower(): v for k, v in headers.items()}
        stamp = lowered.get(TIMESTAMP_HEADER.lower(), "")
        nonce = lowered.get(NONCE_HEADER.lower(), "")
        signature = lowered.get(SIGNATURE_HEADER.lower(), "")
        if not (stamp.isdigit() and nonce and signature):
            raise NotificationRejected("unsigned")
        try:
            self.public_key.verify(base64.b64decode(signature), signed_message(stamp, nonce, body))
        except (InvalidSignature, ValueError):
            raise NotificationRejected("bad_signature") from None
        if abs(time.time() - int(stamp)) > self.max_age_seconds:
            raise NotificationRejected("stale")
        try:
            data = json.loads(body)
            return Notification(
                notify_id=str(data["notify_id"]),
                out_trade_no=str(data["out_trade_no"]),
                transaction_id=str(data["transaction_id"]),
                amount_fen=int(data["amount_fen"]),
                paid_at=datetime.fromisoformat(data["paid_at"]),
            )
        except (ValueError, KeyError, TypeError):
            raise NotificationRejected("malformed") from None
