"""How money and ID numbers are written for people, the same on screens, in the console
and on printed documents."""

from __future__ import annotations


def amount(fen: int) -> str:
    """`90.00`: fen as yuan with two decimals."""
    return f"{fen // 100}.{fen % 100:02d}"


def yuan(fen: int) -> str:
    """`¥90.00`."""
    return f"¥{amount(fen)}"


def masked_id(number: str) -> str:
    """An ID number as shown and printed: the six-digit division code and the last four
    characters (`650102********3023`); nothing of the birth date."""
    return number[:6] + "*" * (len(number) - 10) + number[-4:] if len(number) > 10 else "****"
