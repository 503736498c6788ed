"""Which documents a paid order offers: the 报考回执单 at once, the 准考证 once the exam
office releases tickets for the session."""

from __future__ import annotations

from backend_stub.db import utcnow
from backend_stub.models import ExamSession, Order

NAMES = {"receipt": "报考回执单", "ticket": "准考证"}


def available(order: Order, exam: ExamSession) -> list[str]:
    if order.status != "paid":
        return []
    return ["receipt", "ticket"] if exam.tickets_from <= utcnow() else ["receipt"]
