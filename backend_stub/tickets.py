"""The 准考证's check at the door: its exam room, and a QR code signed by the exam office.

The code carries what the invigilator compares with the candidate and their ID card
(name, masked ID number, 准考证号, session, site, room and seat) and an Ed25519 signature
over it. Anyone with the office's public key can check it offline; the backend's page
`/verify/ticket?c=…` and `python -m backend_stub verify-ticket CODE` check it too (and say
whether the order is still paid).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend_stub.security import load_ed25519_key

# Seats per exam room (考场): a seat number counts through the site's rooms.
ROOM_SEATS = 30


def room_and_seat(seat_number: int) -> tuple[int, int]:
    """考场号 and 座位号 of the site's n-th seat."""
    return (seat_number - 1) // ROOM_SEATS + 1, (seat_number - 1) % ROOM_SEATS + 1


def key_file(data_dir: Path) -> Path:
    return data_dir / "keys" / "ticket-ed25519.pem"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def facts(receipt: dict[str, Any], masked_id: str) -> dict[str, Any]:
    """What the code states about the candidate and the seat (from the frozen receipt)."""
    room, seat = room_and_seat(int(receipt["seat_number"]))
    return {
        "v": 1,
        "ticket": receipt["ticket_number"],
        "name": receipt["name"],
        "id": masked_id,
        "session": receipt["session"],
        "site": receipt["site"]["name"],
        "room": room,
        "seat": seat,
        "order": receipt["out_trade_no"],
    }


def sign(data_dir: Path, stated: dict[str, Any]) -> str:
    """`payload.signature`, both base64url: short enough for a QR code on paper."""
    payload = json.dumps(stated, ensure_ascii=False, separators=(",", ":")).encode()
    signature = load_ed25519_key(key_file(data_dir)).sign(payload)
    return f"{_b64(payload)}.{_b64(signature)}"


@dataclass(frozen=True)
class Checked:
    valid: bool
    facts: dict[str, Any]
    reason: str = ""


def check(data_dir: Path, code: str) -> Checked:
    """Verify a code (or the URL that carries it) against the office's key."""
    from cryptography.exceptions import InvalidSignature

    text = code.strip()
    if "c=" in text:
        text = text.split("c=", 1)[1].split("&", 1)[0]
    try:
        payload_text, signature_text = text.split(".", 1)
        payload, signature = _unb64(payload_text), _unb64(signature_text)
        load_ed25519_key(key_file(data_dir)).public_key().verify(signature, payload)
        stated = json.loads(payload)
    except (ValueError, binascii.Error, InvalidSignature):
        return Checked(False, {}, "二维码无效或被篡改，不是考试机构签发的准考证。")
    return Checked(True, stated)
