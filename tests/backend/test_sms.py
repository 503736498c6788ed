from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from backend_stub.models import SmsCode, SmsOutbox
from tests.backend.conftest import AppFactory
from tests.backend.factories import make_candidate, sms_code, unique_id_number, unique_phone


def test_a_code_goes_to_the_outbox_and_the_sandbox_reads_it(client: TestClient) -> None:
    phone = unique_phone()
    response = client.post("/api/sms/codes", json={"phone": phone, "purpose": "register"})
    assert response.status_code == 202
    assert response.json()["expires_in"] == 300
    with client.app.state.db.sessionmaker() as session:
        outbox = session.scalars(select(SmsOutbox).where(SmsOutbox.phone == phone)).all()
        stored = session.scalars(select(SmsCode).where(SmsCode.phone == phone)).one()
    assert len(outbox) == 1
    code = re.search(r"验证码为(\d{6})", outbox[0].body).group(1)  # type: ignore[union-attr]
    # Only a digest of the code is stored.
    assert code not in stored.code_hash
    latest = client.post("/api/sandbox/sms/latest", json={"phone": phone}).json()
    assert latest["code"] == code


def test_a_second_code_within_a_minute_is_refused(client: TestClient) -> None:
    phone = unique_phone()
    sms_code(client, phone)
    response = client.post("/api/sms/codes", json={"phone": phone, "purpose": "register"})
    assert response.status_code == 429
    assert response.json()["code"] == "sms_too_frequent"
    assert "秒后再试" in response.json()["message"]


def test_the_daily_limit_per_phone(make_client: AppFactory) -> None:
    client = make_client(SMS_MIN_INTERVAL_SECONDS=0, SMS_DAILY_LIMIT=3)
    phone = unique_phone()
    for _ in range(3):
        sms_code(client, phone)
    response = client.post("/api/sms/codes", json={"phone": phone, "purpose": "register"})
    assert response.status_code == 429
    assert response.json()["code"] == "sms_daily_limit"


def test_a_malformed_phone_is_named_in_chinese(client: TestClient) -> None:
    response = client.post("/api/sms/codes", json={"phone": "12345", "purpose": "register"})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"
    assert response.json()["fields"] == ["phone"]
    assert "手机号" in response.json()["message"]


def test_a_reset_code_needs_the_registered_phone(make_client: AppFactory) -> None:
    """Sent only to the account's phone; the answer is the same either way, so it tells
    nobody whether an account exists or which phone it has."""
    client = make_client(SMS_MIN_INTERVAL_SECONDS=0)
    candidate = make_candidate(client)
    other = unique_phone()
    answers = [
        client.post(
            "/api/sms/codes",
            json={"phone": phone, "purpose": "reset_password", "id_number": number},
        )
        for phone, number in (
            (other, candidate["id_number"]),
            (unique_phone(), unique_id_number()),
            (candidate["phone"], candidate["id_number"]),
        )
    ]
    assert {a.status_code for a in answers} == {202}
    assert len({a.text for a in answers}) == 1
    assert candidate["id_number"] not in answers[0].text
    assert client.post("/api/sandbox/sms/latest", json={"phone": other}).status_code == 404
    delivered = client.post("/api/sandbox/sms/latest", json={"phone": candidate["phone"]})
    assert "找回密码" in delivered.json()["body"]


def test_the_sandbox_is_gone_when_switched_off(make_client: AppFactory) -> None:
    client = make_client(SMS_SANDBOX=False)
    response = client.post("/api/sandbox/sms/latest", json={"phone": unique_phone()})
    assert response.status_code == 404
