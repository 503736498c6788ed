"""Screen state as small dataclasses, testable without a page (one module: the forms
share their checks, and each dataclass is short)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from mobile.services import checks
from mobile.services.api import ApiClient, Candidate, Reference


@dataclass
class LoginForm:
    account: str = ""
    password: str = ""

    def errors(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        if not self.account.strip():
            errors["account"] = "请填写身份证号或准考证号。"
        if not self.password:
            errors["password"] = "请填写密码。"
        return errors


@dataclass
class _WithPassword:
    phone: str = ""
    sms_code: str = ""
    password: str = ""
    password_repeat: str = ""

    def _credential_errors(self, errors: dict[str, str]) -> None:
        for key, error in (
            ("phone", checks.check_phone(self.phone)),
            ("sms_code", checks.check_sms_code(self.sms_code)),
            ("password", checks.check_password(self.password)),
            ("password_repeat", checks.check_password_repeat(self.password_repeat, self.password)),
        ):
            if error:
                errors[key] = error


@dataclass
class NewStudentForm(_WithPassword):
    """新生注册."""

    name: str = ""
    id_number: str = ""
    exam_district: str = ""
    ethnicity: str = ""
    political_status: str = ""
    education: str = ""
    occupation: str = ""
    hukou: str = ""
    email: str = ""

    CHOICES = {
        "exam_district": "报名地州",
        "ethnicity": "族别",
        "political_status": "政治面貌",
        "education": "学历",
        "occupation": "职业",
        "hukou": "户籍类别",
    }

    def errors(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        for key, error in (
            ("name", checks.check_name(self.name)),
            ("id_number", checks.check_id_number(self.id_number)),
        ):
            if error:
                errors[key] = error
        self._credential_errors(errors)
        for key, label in self.CHOICES.items():
            if error := checks.check_required(getattr(self, key), label):
                errors[key] = error
        return errors

    def payload(self) -> dict[str, str | None]:
        data: dict[str, str | None] = {k: v.strip() for k, v in asdict(self).items()}
        del data["password_repeat"]
        data["password"] = self.password
        data["email"] = data["email"] or None
        return data


@dataclass
class EnrolledStudentForm(_WithPassword):
    """在籍注册."""

    name: str = ""
    id_number: str = ""
    ticket_number: str = ""

    def errors(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        for key, error in (
            ("name", checks.check_name(self.name)),
            ("id_number", checks.check_id_number(self.id_number)),
            ("ticket_number", None if self.ticket_number.strip() else "请填写准考证号。"),
        ):
            if error:
                errors[key] = error
        self._credential_errors(errors)
        return errors

    def payload(self) -> dict[str, str]:
        data = {k: v.strip() for k, v in asdict(self).items()}
        del data["password_repeat"]
        data["password"] = self.password
        return data


@dataclass
class ResetPasswordForm(_WithPassword):
    """找回密码."""

    id_number: str = ""

    def errors(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        if error := checks.check_id_number(self.id_number):
            errors["id_number"] = error
        self._credential_errors(errors)
        return errors

    def sms_errors(self) -> dict[str, str]:
        """What must be right before a code can be requested."""
        errors = {}
        if error := checks.check_id_number(self.id_number):
            errors["id_number"] = error
        if error := checks.check_phone(self.phone):
            errors["phone"] = error
        return errors

    def payload(self) -> dict[str, str]:
        return {
            "id_number": self.id_number.strip(),
            "phone": self.phone.strip(),
            "sms_code": self.sms_code.strip(),
            "new_password": self.password,
        }


@dataclass
class SmsCountdown:
    """The "获取验证码" button's wait after a code was sent."""

    seconds_left: int = 0

    @property
    def ready(self) -> bool:
        return self.seconds_left <= 0

    @property
    def label(self) -> str:
        return "获取验证码" if self.ready else f"{self.seconds_left}秒后重发"

    def start(self, seconds: int) -> None:
        self.seconds_left = seconds

    def tick(self) -> None:
        self.seconds_left = max(0, self.seconds_left - 1)


@dataclass
class AppState:
    """One app session: the API client, the logged-in candidate, cached choices."""

    api: ApiClient = field(default_factory=ApiClient)
    candidate: Candidate | None = None
    reference: Reference | None = None
    # A message to show once on the next screen (e.g. after a password reset).
    notice: str = ""
    # The screen on the page (effects that loop stop when it changes).
    route: str = ""
    # The order the 缴费 screen shows.
    order_id: int | None = None

    @property
    def logged_in(self) -> bool:
        return self.candidate is not None and self.api.token is not None

    def take_notice(self) -> str:
        notice, self.notice = self.notice, ""
        return notice


CARD_FIELDS = ("name", "sex", "ethnicity", "birth", "address", "id_number")
CARD_LABELS = {
    "name": "姓名",
    "sex": "性别",
    "ethnicity": "民族",
    "birth": "出生日期",
    "address": "住址",
    "id_number": "公民身份号码",
}


@dataclass
class IdCardForm:
    """The card's fields as read, editable before the candidate confirms them."""

    name: str = ""
    sex: str = ""
    ethnicity: str = ""
    birth: str = ""
    address: str = ""
    id_number: str = ""
    use_card_name: bool = False
    # Fields the candidate must look at (unread, low confidence, or corrected).
    check: set[str] = field(default_factory=set)
    corrected_number: bool = False

    @classmethod
    def from_reading(cls, result: dict[str, Any]) -> IdCardForm:
        fields = result.get("fields", {})
        id_check = result.get("id_check", {})
        form = cls()
        for key in CARD_FIELDS:
            setattr(form, key, fields.get(key) or "")
        # Unread sex/birth: the number says them; offered, but marked for checking.
        if not form.sex and id_check.get("sex_from_id"):
            form.sex = id_check["sex_from_id"]
        if not form.birth and id_check.get("birth_from_id"):
            form.birth = id_check["birth_from_id"]
        form.check = set(result.get("uncertain", []))
        form.corrected_number = bool(id_check.get("corrected"))
        return form

    def errors(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        if error := checks.check_name(self.name):
            errors["name"] = error
        if self.sex not in ("男", "女"):
            errors["sex"] = "请选择性别。"
        if not self.ethnicity.strip():
            errors["ethnicity"] = "请填写民族。"
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", self.birth.strip()):
            errors["birth"] = "请按“年-月-日”填写，如1990-01-31。"
        if len(self.address.strip()) < 2:
            errors["address"] = "请填写住址。"
        if error := checks.check_id_number(self.id_number):
            errors["id_number"] = error
        return errors

    def payload(self) -> dict[str, object]:
        data: dict[str, object] = {k: getattr(self, k).strip() for k in CARD_FIELDS}
        data["use_card_name"] = self.use_card_name
        return data


def mismatch_notes(account_match: dict[str, bool]) -> list[str]:
    """What the candidate should know when the card and the account disagree."""
    notes = []
    if not account_match.get("id_number", True):
        notes.append(
            "识别出的身份证号与注册账号不一致：请先核对号码是否识别有误。"
            "若注册时填错了身份证号，账号无法修改，需用正确的身份证号重新注册。"
        )
    if not account_match.get("name", True):
        notes.append(
            "识别出的姓名与注册姓名不一致：请核对姓名；若注册时填错，可勾选“以身份证为准更正姓名”。"
        )
    return notes


@dataclass
class EnrollmentChoice:
    """报考: district → site, major, courses; the rules a phone can check before asking
    the backend (which checks them all again)."""

    catalog: dict[str, Any]
    district: str = ""
    site_id: int | None = None
    major_code: str = ""
    courses: list[str] = field(default_factory=list)
    new_student: bool = True

    def sites(self) -> list[dict[str, Any]]:
        for district in self.catalog["districts"]:
            if district["code"] == self.district:
                return district["sites"]
        return []

    def major(self) -> dict[str, Any] | None:
        return next((m for m in self.catalog["majors"] if m["code"] == self.major_code), None)

    def offered(self) -> list[dict[str, Any]]:
        major = self.major()
        return major["courses"] if major else []

    def choose_district(self, code: str) -> None:
        self.district = code
        if self.site_id not in {s["id"] for s in self.sites()}:
            self.site_id = None

    def choose_major(self, code: str) -> None:
        self.major_code = code
        offered = {c["code"] for c in self.offered()}
        self.courses = [c for c in self.courses if c in offered]

    def toggle(self, code: str, chosen: bool) -> None:
        if chosen and code not in self.courses:
            self.courses.append(code)
        elif not chosen and code in self.courses:
            self.courses.remove(code)

    def chosen(self) -> list[dict[str, Any]]:
        return [c for c in self.offered() if c["code"] in self.courses]

    def errors(self) -> list[str]:
        problems = []
        if self.site_id is None:
            problems.append("请选择考点。")
        major = self.major()
        if major is None:
            problems.append("请选择报考专业。")
        if not self.courses:
            problems.append("请至少选择一门课程。")
        slots: dict[tuple[str, str], str] = {}
        for course in self.chosen():
            key = (course["exam_date"], course["slot"])
            if key in slots:
                problems.append(f"{slots[key]}和{course['name']}考试时间相同，只能选其中一门。")
            slots[key] = course["name"]
        return problems

    def total_fen(self) -> int:
        fees = sum(c["fee_fen"] for c in self.chosen())
        card = self.catalog.get("card_fee_fen", 0) if self.new_student and fees else 0
        return fees + card


def countdown_label(seconds: float) -> str:
    """What the 缴费 screen says about the QR code's remaining validity."""
    if seconds <= 0:
        return "二维码已过期，请点击“重新获取二维码”。"
    whole = int(seconds + 0.999)
    return f"请在 {whole // 60:02d}:{whole % 60:02d} 内扫码支付"
