"""The ID card: what was read, and the fields as the candidate confirms them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from backend_stub.schemas.common import (
    clean_name,
    clean_text,
)


class CardFieldsIn(BaseModel):
    """The six fields as the candidate confirms them (corrected where OCR erred)."""

    name: str = Field(min_length=1, max_length=40)
    sex: Literal["男", "女"]
    ethnicity: str = Field(min_length=1, max_length=16)
    birth: date
    address: str = Field(min_length=2, max_length=120)
    id_number: str
    # The account's name was typed wrong at registration: take the card's.
    use_card_name: bool = False

    _name = field_validator("name")(clean_name)
    _text = field_validator("ethnicity", "address")(clean_text)


class IdCardOut(BaseModel):
    id: int
    created_at: datetime
    result: dict[str, Any]
    account_match: dict[str, bool]
    confirmed: bool
    confirmed_fields: dict[str, Any] | None = None
