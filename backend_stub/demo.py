"""Demo data loaded on first start so testers can exercise every path.

The ID numbers are synthetic (valid check digit, nobody's real number).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend_stub.models import StudentRecord
from rules.idnumber import make

# 在籍 students known to the exam office: (准考证号, name, division, birth, order, district).
DEMO_STUDENT_RECORDS = (
    ("010119100001", "阿依古丽·买买提", "650102", dt.date(1998, 5, 14), 182, "6501"),
    ("020119100002", "王建国", "650203", dt.date(1990, 11, 2), 371, "6502"),
)


def seed(session: Session) -> None:
    """Insert the demo records once; later starts leave the data alone."""
    if session.scalar(select(StudentRecord.id).limit(1)) is not None:
        return
    for ticket, name, division, birth, order, district in DEMO_STUDENT_RECORDS:
        session.add(
            StudentRecord(
                ticket_number=ticket,
                name=name,
                id_number=make(division, birth, order),
                exam_district=district,
            )
        )
    session.commit()
