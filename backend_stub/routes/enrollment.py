"""报考: the plan of the current session, and the candidate's choice of site, major and
courses (changeable until an order exists)."""

from __future__ import annotations

import threading

from fastapi import APIRouter
from sqlalchemy import select

from backend_stub import orders
from backend_stub.catalog import KIND_TEXT, SLOT_TEXT
from backend_stub.db import utcnow
from backend_stub.deps import CurrentCandidate, CurrentExam, SessionDep, SettingsDep
from backend_stub.domain import enrollment as enrollment_rules
from backend_stub.errors import ApiError
from backend_stub.models import Course, Enrollment, ExamSite, Major, MajorCourse
from backend_stub.reference import EXAM_DISTRICTS
from backend_stub.schemas.enrollment import (
    CatalogOut,
    CourseOut,
    DistrictOut,
    EnrollmentOut,
    MajorOut,
    SelectionIn,
    SessionOut,
    SiteOut,
)

router = APIRouter(tags=["enrollment"])


def session_out(exam: CurrentExam) -> SessionOut:
    now = utcnow()
    return SessionOut(
        code=exam.code,
        name=exam.name,
        opens_at=exam.opens_at,
        closes_at=exam.closes_at,
        open=exam.opens_at <= now < exam.closes_at,
    )


def course_out(course: Course) -> CourseOut:
    return CourseOut(
        code=course.code,
        name=course.name,
        kind=course.kind,
        kind_text=KIND_TEXT[course.kind],
        theory_code=course.theory_code,
        exam_date=course.exam_date,
        slot=course.slot,
        slot_text=SLOT_TEXT[course.slot],
        fee_fen=course.fee_fen,
    )


# The plan of an exam session (its majors and courses, its sites' names) changes only by
# importing a new session, which has a new id: it is read once per process, database and
# session.
# Seats left change with every order and are read each time (one light query).
_PLANS: dict[tuple[str, int], tuple[list[MajorOut], list[ExamSite]]] = {}
_PLANS_LOCK = threading.Lock()


def _plan(session: SessionDep, exam: CurrentExam) -> tuple[list[MajorOut], list[ExamSite]]:
    key = (str(session.get_bind().engine.url), exam.id)
    cached = _PLANS.get(key)
    if cached is not None:
        return cached
    sites = list(
        session.scalars(
            select(ExamSite).where(ExamSite.session_id == exam.id).order_by(ExamSite.code)
        ).all()
    )
    for site in sites:
        session.expunge(site)
    offers: dict[int, list[CourseOut]] = {}
    for major_id, course in session.execute(
        select(MajorCourse.major_id, Course)
        .join(Course, Course.id == MajorCourse.course_id)
        .where(Course.session_id == exam.id)
        .order_by(Course.exam_date, Course.slot, Course.code)
    ):
        offers.setdefault(major_id, []).append(course_out(course))
    majors = [
        MajorOut(
            code=m.code,
            name=m.name,
            level=m.level,
            school=m.school,
            standard=m.standard,
            special=m.special,
            courses=offers.get(m.id, []),
        )
        for m in session.scalars(
            select(Major).where(Major.session_id == exam.id).order_by(Major.code)
        ).all()
    ]
    with _PLANS_LOCK:
        return _PLANS.setdefault(key, (majors, sites))


@router.get("/api/catalog", response_model=CatalogOut)
def read_catalog(exam: CurrentExam, session: SessionDep, settings: SettingsDep) -> CatalogOut:
    """The current session's sites (with seats left), majors and their courses."""
    majors, sites = _plan(session, exam)
    seats = dict(
        session.execute(
            select(ExamSite.id, ExamSite.capacity - ExamSite.reserved).where(
                ExamSite.session_id == exam.id
            )
        ).all()
    )
    districts: dict[str, list[SiteOut]] = {}
    for site in sites:
        districts.setdefault(site.district, []).append(
            SiteOut(
                id=site.id,
                code=site.code,
                county=site.county,
                name=site.name,
                address=site.address,
                seats_left=max(0, seats.get(site.id, 0)),
            )
        )
    return CatalogOut(
        session=session_out(exam),
        districts=[
            DistrictOut(code=code, name=EXAM_DISTRICTS.get(code, code), sites=found)
            for code, found in sorted(districts.items())
        ],
        majors=majors,
        card_fee_fen=settings.CARD_FEE_FEN,
    )


def enrollment_out(
    session: SessionDep, candidate: CurrentCandidate, exam: CurrentExam
) -> EnrollmentOut:
    enrollment = session.scalar(
        select(Enrollment).where(
            Enrollment.candidate_id == candidate.id, Enrollment.session_id == exam.id
        )
    )
    order = orders.active_order(session, candidate.id, exam.id)
    major = session.get(Major, enrollment.major_id) if enrollment else None
    return EnrollmentOut(
        session=session_out(exam),
        site_id=enrollment.site_id if enrollment else None,
        major_code=major.code if major else None,
        course_codes=list(enrollment.course_codes) if enrollment else [],
        locked=order is not None,
        order_id=order.id if order else None,
    )


@router.get("/api/enrollment", response_model=EnrollmentOut)
def read_enrollment(
    candidate: CurrentCandidate, exam: CurrentExam, session: SessionDep
) -> EnrollmentOut:
    """The candidate's saved choice for the current session."""
    return enrollment_out(session, candidate, exam)


@router.put("/api/enrollment", response_model=EnrollmentOut)
def save_enrollment(
    body: SelectionIn, candidate: CurrentCandidate, exam: CurrentExam, session: SessionDep
) -> EnrollmentOut:
    """Choose site, major and courses; every rule is checked before anything is saved."""
    enrollment_rules.check_window(exam)
    enrollment_rules.check_identity(candidate)
    if orders.active_order(session, candidate.id, exam.id) is not None:
        raise ApiError(
            409, "enrollment_locked", "已生成订单，不能再修改考点和课程；如需修改，请先取消订单。"
        )
    site, major, courses = enrollment_rules.check_selection(
        session,
        candidate,
        exam,
        site_id=body.site_id,
        major_code=body.major_code,
        course_codes=body.course_codes,
    )
    if site.reserved >= site.capacity:
        raise ApiError(409, "site_full", f"{site.name}座位已满，请选择其他考点。")
    enrollment = session.scalar(
        select(Enrollment).where(
            Enrollment.candidate_id == candidate.id, Enrollment.session_id == exam.id
        )
    )
    if enrollment is None:
        enrollment = Enrollment(candidate_id=candidate.id, session_id=exam.id)
        session.add(enrollment)
    enrollment.site_id = site.id
    enrollment.major_id = major.id
    enrollment.course_codes = [c.code for c in courses]
    enrollment.updated_at = utcnow()
    session.commit()
    return enrollment_out(session, candidate, exam)
