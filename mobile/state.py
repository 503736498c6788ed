"""Screen state as small dataclasses, testable without a page."""

from __future__ import annotations

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
