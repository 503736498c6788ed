"""Screen state as small dataclasses, testable without a page."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

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
    def from_reading(cls, result: dict) -> IdCardForm:  # type: ignore[type-arg]
        fields = result.get("fields", {})
        id_check = result.get("id_check", {})
        form = cls(**{k: fields.get(k) or "" for k in CARD_FIELDS})
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
