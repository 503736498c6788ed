"""The exam plan: sessions, sites, majors and courses — the demo plan loaded on first
start, and the exam office's CSV import.

CSV import (UTF-8, header row, one file per kind; all rows of both files are checked
before anything is written, and a plan with a bad row is not imported at all):

    sites.csv    code,district,county,name,address,capacity
    courses.csv  major_code,major_name,level,school,special,course_code,course_name,
                 kind,theory_code,exam_date,slot,fee_yuan

`district` is a 报名地州 code (e.g. 6501); `kind` is 理论 or 实践 (theory / practical);
`theory_code` names the theory course a practical one needs; `exam_date` is YYYY-MM-DD;
`slot` is 上午 or 下午 (am / pm); `special` is 是 or 否; `fee_yuan` may have two decimals.
A major's standard text may follow in the optional `standard` column.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend_stub.db import utcnow
from backend_stub.models import Course, ExamSession, ExamSite, Major, MajorCourse
from backend_stub.reference import EXAM_DISTRICTS

SLOT_TEXT = {"am": "上午 09:00-11:30", "pm": "下午 14:30-17:00"}
KIND_TEXT = {"theory": "理论", "practical": "实践"}


class PlanError(Exception):
    """A plan file with bad rows: `problems` lists them as (file, line, message)."""

    def __init__(self, problems: list[tuple[str, int, str]]) -> None:
        super().__init__(f"{len(problems)} bad rows")
        self.problems = problems


@dataclass
class Plan:
    """A session's sites, majors and courses, checked and ready to write."""

    sites: list[dict[str, object]] = field(default_factory=list)
    majors: dict[str, dict[str, object]] = field(default_factory=dict)
    courses: dict[str, dict[str, Any]] = field(default_factory=dict)
    offers: set[tuple[str, str]] = field(default_factory=set)  # (major code, course code)


SITE_COLUMNS = ("code", "district", "county", "name", "address", "capacity")
COURSE_COLUMNS = (
    "major_code",
    "major_name",
    "level",
    "school",
    "special",
    "course_code",
    "course_name",
    "kind",
    "theory_code",
    "exam_date",
    "slot",
    "fee_yuan",
)
_CODE = re.compile(r"^[0-9A-Za-z]{2,16}$")


def _rows(text: str, name: str, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        raise PlanError([(name, 1, f"缺少列：{', '.join(missing)}")])
    return [
        (number, {k: (v or "").strip() for k, v in row.items() if k})
        for number, row in enumerate(reader, start=2)
    ]


def parse_plan(sites_csv: str, courses_csv: str) -> Plan:
    """Check both files completely; raises PlanError listing every bad row."""
    plan = Plan()
    problems: list[tuple[str, int, str]] = []
    for line, row in _rows(sites_csv, "sites.csv", SITE_COLUMNS):
        try:
            if not _CODE.match(row["code"]):
                raise ValueError("考点代码应为2-16位字母或数字")
            if row["district"] not in EXAM_DISTRICTS:
                raise ValueError(f"未知的地州代码 {row['district']}")
            if not row["name"] or not row["county"]:
                raise ValueError("考点名称和县区不能为空")
            capacity = int(row["capacity"])
            if not 1 <= capacity <= 100_000:
                raise ValueError("座位数应在1到100000之间")
            if any(s["code"] == row["code"] for s in plan.sites):
                raise ValueError(f"考点代码 {row['code']} 重复")
        except (ValueError, KeyError) as exc:
            problems.append(("sites.csv", line, str(exc)))
            continue
        plan.sites.append({**row, "capacity": capacity})
    course_rows = _rows(courses_csv, "courses.csv", COURSE_COLUMNS)
    for line, row in course_rows:
        try:
            major_code, course_code = row["major_code"], row["course_code"]
            if not _CODE.match(major_code) or not _CODE.match(course_code):
                raise ValueError("专业代码和课程代码应为2-16位字母或数字")
            kind = {"理论": "theory", "实践": "practical"}.get(row["kind"])
            if kind is None:
                raise ValueError("课程类型应为“理论”或“实践”")
            slot = {"上午": "am", "下午": "pm"}.get(row["slot"])
            if slot is None:
                raise ValueError("考试时段应为“上午”或“下午”")
            exam_date = dt.date.fromisoformat(row["exam_date"])
            try:
                fee = Decimal(row["fee_yuan"])
            except InvalidOperation:
                raise ValueError("报考费应为金额，如 35 或 35.00") from None
            if fee < 0 or fee != fee.quantize(Decimal("0.01")):
                raise ValueError("报考费应为金额，如 35 或 35.00")
            if row["special"] not in ("是", "否"):
                raise ValueError("特殊专业一栏应为“是”或“否”")
            if kind == "practical" and not row["theory_code"]:
                raise ValueError("实践课程须填写对应的理论课程代码")
            course = {
                "code": course_code,
                "name": row["course_name"],
                "kind": kind,
                "theory_code": row["theory_code"] or None,
                "exam_date": exam_date,
                "slot": slot,
                "fee_fen": int(fee * 100),
            }
            if not course["name"]:
                raise ValueError("课程名称不能为空")
            known = plan.courses.get(course_code)
            if known is not None and known != course:
                raise ValueError(f"课程 {course_code} 与前面的行不一致")
            major = {
                "code": major_code,
                "name": row["major_name"],
                "level": row["level"],
                "school": row["school"],
                "standard": row.get("standard", ""),
                "special": row["special"] == "是",
            }
            if not major["name"]:
                raise ValueError("专业名称不能为空")
            known_major = plan.majors.get(major_code)
            if known_major is not None and known_major != major:
                raise ValueError(f"专业 {major_code} 与前面的行不一致")
        except ValueError as exc:
            problems.append(("courses.csv", line, str(exc)))
            continue
        plan.courses[course_code] = course
        plan.majors[major_code] = major
        plan.offers.add((major_code, course_code))
    for line, row in course_rows:
        theory = row.get("theory_code")
        if theory and theory not in plan.courses:
            problems.append(("courses.csv", line, f"理论课程 {theory} 不在计划中"))
    if not plan.sites and not any(p[0] == "sites.csv" for p in problems):
        problems.append(("sites.csv", 1, "没有考点"))
    if not plan.courses and not any(p[0] == "courses.csv" for p in problems):
        problems.append(("courses.csv", 1, "没有课程"))
    if problems:
        raise PlanError(sorted(problems))
    return plan


def write_plan(
    session: Session,
    plan: Plan,
    *,
    code: str,
    name: str,
    opens_at: dt.datetime,
    closes_at: dt.datetime,
    tickets_from: dt.datetime,
) -> ExamSession:
    """Add a session with its plan in one transaction (the caller commits)."""
    if session.scalar(select(ExamSession.id).where(ExamSession.code == code)) is not None:
        raise PlanError([("sites.csv", 1, f"考试批次 {code} 已存在")])
    exam = ExamSession(
        code=code, name=name, opens_at=opens_at, closes_at=closes_at, tickets_from=tickets_from
    )
    session.add(exam)
    session.flush()
    for site in plan.sites:
        session.add(ExamSite(session_id=exam.id, reserved=0, seats_numbered=0, **site))
    majors = {c: Major(session_id=exam.id, **m) for c, m in plan.majors.items()}
    courses = {c: Course(session_id=exam.id, **v) for c, v in plan.courses.items()}
    session.add_all([*majors.values(), *courses.values()])
    session.flush()
    for major_code, course_code in sorted(plan.offers):
        session.add(MajorCourse(major_id=majors[major_code].id, course_id=courses[course_code].id))
    session.flush()
    return exam


def current_session(session: Session) -> ExamSession | None:
    """The session whose registration window is open now, else the next one, else the
    latest."""
    now = utcnow()
    sessions = session.scalars(select(ExamSession).order_by(ExamSession.opens_at)).all()
    for exam in sessions:
        if exam.opens_at <= now < exam.closes_at:
            return exam
    upcoming = [e for e in sessions if e.opens_at > now]
    if upcoming:
        return upcoming[0]
    return sessions[-1] if sessions else None


# The demo plan: course codes, names and the 35 元 fee follow published plans of real
# provinces; the sites and capacities are made up.
DEMO_SITES = """code,district,county,name,address,capacity
650101,6501,天山区,新疆大学考点,乌鲁木齐市天山区胜利路666号,400
650102,6501,沙依巴克区,新疆财经大学考点,乌鲁木齐市沙依巴克区北京中路449号,300
650103,6501,新市区,乌鲁木齐市第一中学考点,乌鲁木齐市新市区北京南路365号,200
650201,6502,克拉玛依区,克拉玛依市第一中学考点,克拉玛依市克拉玛依区迎宾路58号,150
653101,6531,喀什市,喀什大学考点,喀什市学府大道558号,250
654001,6540,伊宁市,伊犁师范大学考点,伊宁市解放西路448号,200
"""

_SCHEDULE = {
    "00024": ("普通逻辑", "理论", "", "2027-04-10", "上午"),
    "00018": ("计算机应用基础", "理论", "", "2027-04-10", "下午"),
    "00019": ("计算机应用基础（实践）", "实践", "00018", "2027-04-11", "下午"),
    "00031": ("心理学", "理论", "", "2027-04-10", "上午"),
    "00144": ("企业管理概论", "理论", "", "2027-04-11", "上午"),
    "03708": ("中国近现代史纲要", "理论", "", "2027-04-10", "上午"),
    "03709": ("马克思主义基本原理概论", "理论", "", "2027-04-10", "下午"),
    "00015": ("英语（二）", "理论", "", "2027-04-11", "上午"),
    "02331": ("数据结构", "理论", "", "2027-04-11", "下午"),
    "00054": ("管理学原理", "理论", "", "2027-04-11", "下午"),
    "00147": ("人力资源管理（一）", "理论", "", "2027-04-10", "下午"),
    "00369": ("监所管理学", "理论", "", "2027-04-11", "上午"),
    "00860": ("公安学基础", "理论", "", "2027-04-11", "上午"),
    "03179": ("生物化学（三）", "理论", "", "2027-04-10", "下午"),
}
_MAJORS = {
    "080901": (
        "计算机科学与技术",
        "本科",
        "新疆大学",
        "否",
        "00024 00018 00019 03708 03709 00015 02331",
    ),
    "120206": (
        "人力资源管理",
        "本科",
        "新疆财经大学",
        "否",
        "00031 00144 03708 03709 00015 00054 00147",
    ),
    "030109": ("监所管理", "专科", "新疆警察学院", "是", "00369 03708 00031"),
    "030401": ("公安管理", "本科", "新疆警察学院", "是", "00860 03709 00015"),
    "100701": ("护理学", "本科", "新疆医科大学", "是", "03179 03709 00015"),
}
_STANDARD = "考完全部课程且成绩合格，思想品德鉴定合格，可申请毕业。"


def demo_courses_csv() -> str:
    lines = [",".join((*COURSE_COLUMNS, "standard"))]
    for major_code, (major, level, school, special, codes) in _MAJORS.items():
        for code in codes.split():
            name, kind, theory, date, slot = _SCHEDULE[code]
            lines.append(
                ",".join(
                    (major_code, major, level, school, special, code, name, kind, theory)
                    + (date, slot, "35", _STANDARD)
                )
            )
    return "\n".join(lines) + "\n"


def seed_demo(session: Session) -> None:
    """Load the demo plan once: the 2027年4月 session, registration open for 90 days from
    the first start (so testers can always register), 准考证 printable at once."""
    if session.scalar(select(ExamSession.id).limit(1)) is not None:
        return
    now = utcnow().replace(microsecond=0)
    write_plan(
        session,
        parse_plan(DEMO_SITES, demo_courses_csv()),
        code="2027-04",
        name="2027年4月",
        opens_at=now - dt.timedelta(days=1),
        closes_at=now + dt.timedelta(days=90),
        tickets_from=now - dt.timedelta(days=1),
    )
    session.commit()
