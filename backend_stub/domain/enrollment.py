"""报考 rules: the registration window, the identity it needs, and a valid choice of site,
major and courses (no two in one half-day, a practical component after its theory)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend_stub.catalog import SLOT_TEXT
from backend_stub.db import utcnow
from backend_stub.domain import review
from backend_stub.domain.errors import DomainError
from backend_stub.domain.identity import IDENTITY_PARTS, completed
from backend_stub.models import (
    Candidate,
    Course,
    ExamSession,
    ExamSite,
    Major,
    MajorCourse,
    PassedCourse,
)

# What 报考 needs: the identity parts, and the exam office's approval.
IDENTITY_STEPS = (*IDENTITY_PARTS, "review")


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
