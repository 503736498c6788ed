from __future__ import annotations

import datetime as dt
import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from backend_stub.models import SmsCode
from rules.idnumber import check_character, make
from tests.backend.conftest import AppFactory
from tests.backend.factories import (
    auth,
    make_candidate,
    make_student_record,
    new_student,
    sms_code,
    unique_phone,
)


def register(client: TestClient, body: dict) -> object:
    body = {**body, "sms_code": sms_code(client, body["phone"])}
    return client.post("/api/accounts/new", json=body)


def test_a_new_student_registers_and_is_logged_in(client: TestClient) -> None:
    body = new_student(id_number=make("650102", dt.date(1995, 3, 7), 124))
    response = register(client, body)
    assert response.status_code == 201, response.text
    data = response.json()
    assert data["token"]
    candidate = data["candidate"]
    assert candidate["id_number"] == body["id_number"]
    assert candidate["kind"] == "new"
    assert candidate["sex"] == "女"  # order code 124 is even
    assert candidate["birth_date"] == "1995-03-07"
    assert candidate["exam_district_name"] == "乌鲁木齐市"
    assert [s["status"] for s in candidate["journey"][:3]] == ["done", "current", "todo"]
    me = client.get("/api/me", headers=auth(data["token"]))
    assert me.json()["name"] == "张三"


def test_a_lowercase_check_letter_is_the_same_account(client: TestClient) -> None:
    number = make("110105", dt.date(1949, 12, 31), 2)
    assert number.endswith("X")
    response = register(client, new_student(id_number=number.lower()))
    assert response.status_code == 201
    assert response.json()["candidate"]["id_number"] == number
    again = register(client, new_student(id_number=number))
    assert again.json()["code"] == "id_number_taken"


def test_a_taken_id_number_is_refused(client: TestClient) -> None:
    first = make_candidate(client)
    response = register(client, new_student(id_number=first["id_number"]))
    assert response.status_code == 409
    assert response.json()["code"] == "id_number_taken"
    assert "已注册" in response.json()["message"]
    assert first["id_number"] not in response.text


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("65010219950307123", "id_number_format"),
        ("650102199503071232", "id_number_checksum"),
        (make("650102", dt.date(1995, 3, 7), 123)[:-1] + "X", "id_number_checksum"),
        ("65010219950230123" + check_character("65010219950230123"), "id_number_birth_date"),
        (make("990102", dt.date(1995, 3, 7), 123), "id_number_division"),
    ],
)
def test_an_invalid_id_number_is_refused_with_its_reason(
    client: TestClient, number: str, code: str
) -> None:
    response = register(client, new_student(id_number=number))
    assert response.status_code == 422
    assert response.json()["code"] == code
    assert response.json()["fields"] == ["id_number"]
    assert number not in response.text


def test_a_future_birth_date_is_refused(client: TestClient) -> None:
    number = make("650102", dt.date.today() + dt.timedelta(days=2), 123)
    assert register(client, new_student(id_number=number)).json()["code"] == "id_number_birth_date"


def test_an_abolished_division_code_is_accepted(client: TestClient) -> None:
    # 110103 was Beijing's 崇文区 until 2010; its residents keep their numbers.
    response = register(client, new_student(id_number=make("110103", dt.date(1980, 6, 1), 11)))
    assert response.status_code == 201
    assert response.json()["warnings"] == []


def test_a_division_code_newer_than_the_table_is_a_warning(client: TestClient) -> None:
    # Province 65 exists; district 650199 is not in the table (it may be newer than it).
    response = register(client, new_student(id_number=make("650199", dt.date(2001, 2, 3), 21)))
    assert response.status_code == 201
    assert [w["code"] for w in response.json()["warnings"]] == ["division_unknown"]


def test_a_wrong_sms_code_counts_down_then_locks_the_code(client: TestClient) -> None:
    body = new_student()
    code = sms_code(client, body["phone"])
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        response = client.post("/api/accounts/new", json={**body, "sms_code": wrong})
        assert response.json()["code"] == "sms_code_wrong"
        assert f"还可尝试{left}次" in response.json()["message"]
    response = client.post("/api/accounts/new", json={**body, "sms_code": wrong})
    assert response.json()["code"] == "sms_code_exhausted"
    # Even the right code is dead now: a new one must be requested.
    response = client.post("/api/accounts/new", json={**body, "sms_code": code})
    assert response.json()["code"] == "sms_code_exhausted"


def test_an_expired_sms_code_is_refused(client: TestClient) -> None:
    body = new_student()
    code = sms_code(client, body["phone"])
    with client.app.state.db.sessionmaker() as session:
        session.execute(update(SmsCode).values(expires_at=dt.datetime(2000, 1, 1)))
        session.commit()
    response = client.post("/api/accounts/new", json={**body, "sms_code": code})
    assert response.status_code == 400
    assert response.json()["code"] == "sms_code_expired"


def test_an_sms_code_works_once(client: TestClient) -> None:
    body = new_student()
    code = sms_code(client, body["phone"])
    assert client.post("/api/accounts/new", json={**body, "sms_code": code}).status_code == 201
    other = new_student(phone=body["phone"])
    response = client.post("/api/accounts/new", json={**other, "sms_code": code})
    assert response.json()["code"] == "sms_code_missing"


def test_a_code_for_password_reset_does_not_register(make_client: AppFactory) -> None:
    client = make_client(SMS_MIN_INTERVAL_SECONDS=0)
    candidate = make_candidate(client)
    code = sms_code(client, candidate["phone"], "reset_password", id_number=candidate["id_number"])
    body = new_student(phone=candidate["phone"])
    response = client.post("/api/accounts/new", json={**body, "sms_code": code})
    assert response.json()["code"] == "sms_code_missing"


def test_a_failed_registration_keeps_the_sms_code(client: TestClient) -> None:
    taken = make_candidate(client)
    body = new_student()
    code = sms_code(client, body["phone"])
    refused = client.post(
        "/api/accounts/new", json={**body, "id_number": taken["id_number"], "sms_code": code}
    )
    assert refused.json()["code"] == "id_number_taken"
    assert client.post("/api/accounts/new", json={**body, "sms_code": code}).status_code == 201


@pytest.mark.parametrize("password", ["12345", "x" * 21])
def test_the_password_must_have_6_to_20_characters(client: TestClient, password: str) -> None:
    response = register(client, new_student(password=password))
    assert response.status_code == 422
    assert response.json()["fields"] == ["password"]
    assert "密码" in response.json()["message"]


def test_choices_outside_the_form_lists_are_refused(client: TestClient) -> None:
    response = register(client, new_student(ethnicity="火星族", exam_district="9999"))
    assert response.status_code == 422
    assert response.json()["fields"] == ["exam_district", "ethnicity"]
    assert response.json()["message"] == "请检查：报名地州、族别。"


def test_validation_errors_never_echo_the_id_number(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = new_student(phone="not-a-phone")
    response = client.post("/api/accounts/new", json={**body, "sms_code": "123456"})
    assert response.status_code == 422
    assert body["id_number"] not in response.text
    assert body["id_number"] not in caplog.text


def test_an_enrolled_student_registers_with_the_ticket_number(client: TestClient) -> None:
    record = make_student_record(client, name="李四")
    phone = unique_phone()
    body = {
        "name": "李四",
        "id_number": record.id_number,
        "ticket_number": record.ticket_number,
        "phone": phone,
        "password": "secret123",
        "sms_code": sms_code(client, phone),
    }
    response = client.post("/api/accounts/enrolled", json=body)
    assert response.status_code == 201, response.text
    candidate = response.json()["candidate"]
    assert candidate["kind"] == "enrolled"
    assert candidate["ticket_number"] == record.ticket_number
    assert candidate["exam_district"] == "6502"
    other = unique_phone()
    again = client.post(
        "/api/accounts/enrolled", json={**body, "phone": other, "sms_code": sms_code(client, other)}
    )
    assert again.json()["code"] == "id_number_taken"


@pytest.mark.parametrize("field", ["name", "id_number", "ticket_number"])
def test_an_enrolled_student_must_match_the_record(client: TestClient, field: str) -> None:
    record = make_student_record(client, name="王五")
    other = make_student_record(client, name="赵六")
    phone = unique_phone()
    body = {
        "name": "王五",
        "id_number": record.id_number,
        "ticket_number": record.ticket_number,
        "phone": phone,
        "password": "secret123",
        "sms_code": sms_code(client, phone),
    }
    body[field] = {"name": "王六", "id_number": other.id_number, "ticket_number": "999999999"}[
        field
    ]
    response = client.post("/api/accounts/enrolled", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == "student_record_mismatch"


def test_the_profile_can_change_but_not_the_identity(client: TestClient) -> None:
    candidate = make_candidate(client)
    headers = auth(candidate["token"])
    response = client.patch("/api/me", json={"education": "本科", "email": None}, headers=headers)
    assert response.status_code == 200
    assert response.json()["education"] == "本科"
    assert response.json()["email"] is None
    refused = client.patch(
        "/api/me", json={"id_number": make("650102", dt.date(1990, 1, 1), 11)}, headers=headers
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "field_not_editable"
    assert refused.json()["message"] == "身份证号不能在此修改。"
    refused = client.patch("/api/me", json={"exam_district": "6502"}, headers=headers)
    assert refused.json()["code"] == "field_not_editable"
    assert client.get("/api/me", headers=headers).json()["exam_district"] == "6501"


def test_the_profile_needs_a_login(client: TestClient) -> None:
    response = client.get("/api/me")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response.json()["message"] == "请先登录。"
