"""A candidate's account, end to end in a real browser."""

from __future__ import annotations

import datetime as dt
import itertools
import warnings

import httpx
import pytest

from mobile import ids
from rules.idnumber import make
from tests.backend.factories import confirmable_fields
from tests.e2e.conftest import Servers
from tests.e2e.flutter import FlutterPage

pytestmark = pytest.mark.e2e

_seq = itertools.count(1)


def unique_id_number() -> str:
    return make(
        "650102", dt.date(1996, 1, 1) + dt.timedelta(days=next(_seq) * 11), 300 + next(_seq)
    )


# The drop-downs of an ordinary registration (a graduate in 乌鲁木齐市).
URUMQI_GRADUATE = {
    ids.EXAM_DISTRICT: "乌鲁木齐市",
    ids.ETHNICITY: "汉族",
    ids.POLITICAL_STATUS: "群众",
    ids.EDUCATION: "本科",
    ids.OCCUPATION: "专业技术人员",
}


def unique_phone() -> str:
    return f"137{dt.datetime.now():%H%M%S}{next(_seq):02d}"


def confirmed_card_by_api(servers: Servers, headers: dict[str, str], front: bytes) -> None:
    """Read a card photo through the API (its job, polled as the app does) and confirm
    what was read."""
    import time

    response = httpx.post(
        f"{servers.api_url}/api/idcard",
        files={"front": ("c.jpg", front, "image/jpeg")},
        headers=headers,
        timeout=120,
    )
    assert response.status_code == 202, response.text
    job = response.json()
    deadline = time.monotonic() + 300
    while job["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline, job
        time.sleep(0.5)
        job = httpx.get(f"{servers.api_url}/api/jobs/{job['id']}", headers=headers).json()
    assert job["result_status"] == 201, job
    reading = job["result"]
    confirm = httpx.post(
        f"{servers.api_url}/api/idcard/{reading['id']}/confirm",
        json=confirmable_fields(reading["result"]),
        headers=headers,
    )
    assert confirm.status_code == 200, confirm.text


def register_by_api(servers: Servers, *, id_number: str, password: str, name: str = "古丽") -> None:
    phone = unique_phone()
    httpx.post(f"{servers.api_url}/api/sms/codes", json={"phone": phone, "purpose": "register"})
    body = {
        "name": name,
        "id_number": id_number,
        "phone": phone,
        "password": password,
        "sms_code": servers.sms_code(phone),
        "exam_district": "6531",
        "ethnicity": "维吾尔族",
        "political_status": "群众",
        "education": "高中",
        "occupation": "学生",
        "hukou": "农村",
    }
    response = httpx.post(f"{servers.api_url}/api/accounts/new", json=body)
    assert response.status_code == 201, response.text


def fill_registration(
    app: FlutterPage,
    servers: Servers,
    *,
    name: str,
    id_number: str,
    password: str,
    choices: dict[str, str],
    hukou: int,
) -> None:
    """Fill 新生注册, getting the SMS code from the sandbox as a tester would."""
    phone = unique_phone()
    app.fill(ids.NAME, name)
    app.fill(ids.ID_NUMBER, id_number)
    app.fill(ids.PHONE, phone)
    app.click(ids.SEND_SMS)
    try:
        app.wait_for_text(ids.SEND_SMS, "秒后重发", timeout=15_000)
    except AssertionError as first:
        # Seen once in CI, never here: the countdown had not started 30 s after the tap,
        # with no error shown. A candidate taps again; the test does too, and says so in
        # the warnings summary with what the page showed.
        warnings.warn(f"the first tap on 获取验证码 did nothing: {first}", stacklevel=1)
        app.click(ids.SEND_SMS)
        app.wait_for_text(ids.SEND_SMS, "秒后重发", timeout=15_000)
    app.fill(ids.SMS_CODE, servers.sms_code(phone))
    app.fill(ids.PASSWORD, password)
    app.fill(ids.PASSWORD_REPEAT, password)
    for identifier, option in choices.items():
        app.choose(identifier, option)
    app.click(f"{ids.HUKOU}-{hukou}")


def test_a_new_candidate_registers_with_an_sms_code_and_lands_in_profile(
    app: FlutterPage, servers: Servers
) -> None:
    app.open("/login")
    app.wait_for(ids.LOGIN_SUBMIT)
    app.screenshot("01-login")
    app.click(ids.LOGIN_TO_REGISTER_NEW)
    app.wait_for(ids.REGISTER_SUBMIT)
    app.screenshot("02-register-new")

    id_number = unique_id_number()
    fill_registration(
        app,
        servers,
        name="买买提·艾力",
        id_number=id_number,
        password="mima2026",
        hukou=1,
        choices={
            ids.EXAM_DISTRICT: "喀什地区",
            ids.ETHNICITY: "维吾尔族",
            ids.POLITICAL_STATUS: "共青团员",
            ids.EDUCATION: "中专",
            ids.OCCUPATION: "学生",
        },
    )
    app.screenshot("03-register-filled")
    app.click(ids.REGISTER_SUBMIT)

    assert app.text(ids.PROFILE_NAME) == "买买提·艾力"
    assert app.text(ids.PROFILE_ID_NUMBER) == id_number[:6] + "*" * 8 + id_number[-4:]
    assert "注册成功" in app.text(ids.FORM_NOTICE)
    assert "已完成" in app.text(ids.journey_step("account"))
    assert "进行中" in app.text(ids.journey_step("idcard"))
    assert "身份证识别" in app.text(ids.PROFILE_NEXT_STEP)
    app.screenshot("04-profile")

    # Log out, then back in with the new password.
    app.click(ids.LOGOUT)
    app.wait_for(ids.LOGIN_SUBMIT)
    app.fill(ids.LOGIN_ACCOUNT, id_number)
    app.fill(ids.LOGIN_PASSWORD, "mima2026")
    app.click(ids.LOGIN_SUBMIT)
    assert app.text(ids.PROFILE_NAME) == "买买提·艾力"


def test_a_wrong_password_shows_the_chinese_error(app: FlutterPage, servers: Servers) -> None:
    id_number = unique_id_number()
    register_by_api(servers, id_number=id_number, password="right-pass")
    app.open("/login")
    app.fill(ids.LOGIN_ACCOUNT, id_number)
    app.fill(ids.LOGIN_PASSWORD, "wrong-pass")
    app.click(ids.LOGIN_SUBMIT)
    message = app.wait_for_text(ids.FORM_ERROR, "账号或密码错误")
    assert "还可尝试4次" in message
    app.screenshot("login-wrong-password")
    # A second wrong password; the third try is asked for a captcha (图形验证码).
    app.click(ids.LOGIN_SUBMIT)
    app.wait_for_text(ids.FORM_ERROR, "还可尝试3次")
    app.fill(ids.LOGIN_PASSWORD, "right-pass")
    app.click(ids.LOGIN_SUBMIT)
    app.wait_for_text(ids.FORM_ERROR, "图形验证码")
    app.wait_for(ids.CAPTCHA_IMAGE)
    app.screenshot("login-captcha")
    app.fill(ids.CAPTCHA_ANSWER, "ZZZZ")
    app.click(ids.LOGIN_SUBMIT)
    app.wait_for_text(ids.FORM_ERROR, "图形验证码不正确")
    app.fill(ids.CAPTCHA_ANSWER, servers.captcha_answer())
    app.click(ids.LOGIN_SUBMIT)
    app.wait_for(ids.PROFILE_NAME)


def test_a_taken_id_number_is_refused(app: FlutterPage, servers: Servers) -> None:
    id_number = unique_id_number()
    register_by_api(servers, id_number=id_number, password="right-pass")
    app.open("/register/new")
    fill_registration(
        app,
        servers,
        name="王芳",
        id_number=id_number,
        password="secret123",
        hukou=0,
        choices=URUMQI_GRADUATE,
    )
    app.click(ids.REGISTER_SUBMIT)
    message = app.wait_for_text(ids.FORM_ERROR, "该身份证号已注册")
    assert id_number not in message
    app.screenshot("register-taken-id")


def test_a_wrong_sms_code_is_marked_at_its_field(app: FlutterPage, servers: Servers) -> None:
    """The server's refusal lands on the field it is about, in view, not only in a
    banner under a long form."""
    app.open("/register/new")
    fill_registration(
        app,
        servers,
        name="王芳",
        id_number=unique_id_number(),
        password="secret123",
        hukou=0,
        choices=URUMQI_GRADUATE,
    )
    app.fill(ids.SMS_CODE, "000000")
    app.click(ids.REGISTER_SUBMIT)
    app.wait_for_text(ids.FORM_ERROR, "短信验证码不正确")
    app.wait_for_text(ids.SMS_CODE, "短信验证码不正确")
    app.page.wait_for_timeout(600)  # the scroll animates
    box = app.control(ids.SMS_CODE).bounding_box()
    assert box is not None and 56 <= box["y"] <= 860 - box["height"], box
    app.screenshot("register-wrong-sms-code")


def test_instant_checks_run_before_any_request(app: FlutterPage) -> None:
    app.open("/register/new")
    app.fill(ids.ID_NUMBER, "110105194912310021")
    app.click(ids.REGISTER_SUBMIT)
    app.wait_for_text(ids.FORM_ERROR, "需要修改")
    assert "校验位不正确" in app.page.locator("body").inner_text()


def test_the_other_screens_render(app: FlutterPage) -> None:
    app.open("/register/enrolled")
    app.wait_for(ids.TICKET_NUMBER)
    app.screenshot("register-enrolled")
    app.open("/reset")
    app.wait_for(ids.RESET_SUBMIT)
    app.screenshot("reset-password")


def test_the_cjk_font_is_served_to_the_browser(servers: Servers) -> None:
    response = httpx.get(f"{servers.app_url}/fonts/DroidSansFallbackFull.ttf")
    assert response.status_code == 200
    assert response.content[:4] == b"\x00\x01\x00\x00"  # a TrueType font
    assert len(response.content) > 1_000_000  # the full CJK set, not a subset stub
