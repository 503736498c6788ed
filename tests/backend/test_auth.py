from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import update

from backend_stub.models import AuthSession, LoginGuard
from tests.backend.conftest import AppFactory
from tests.backend.factories import (
    auth,
    make_candidate,
    make_student_record,
    sms_code,
    unique_phone,
)


def login(client: TestClient, account: str, password: str):  # type: ignore[no-untyped-def]
    return client.post("/api/auth/login", json={"account": account, "password": password})


def test_login_with_the_id_number(client: TestClient) -> None:
    candidate = make_candidate(client)
    response = login(client, candidate["id_number"], candidate["password"])
    assert response.status_code == 200
    token = response.json()["token"]
    assert token != candidate["token"]
    assert client.get("/api/me", headers=auth(token)).json()["id_number"] == candidate["id_number"]


def test_login_with_the_ticket_number(client: TestClient) -> None:
    record = make_student_record(client, name="李四")
    phone = unique_phone()
    client.post(
        "/api/accounts/enrolled",
        json={
            "name": "李四",
            "id_number": record.id_number,
            "ticket_number": record.ticket_number,
            "phone": phone,
            "password": "secret123",
            "sms_code": sms_code(client, phone),
        },
    )
    response = login(client, record.ticket_number, "secret123")
    assert response.status_code == 200
    assert response.json()["candidate"]["ticket_number"] == record.ticket_number


def test_a_wrong_password_says_so_in_chinese(client: TestClient) -> None:
    candidate = make_candidate(client)
    response = login(client, candidate["id_number"], "wrong-password")
    assert response.status_code == 401
    assert response.json()["code"] == "login_failed"
    assert response.json()["message"] == "账号或密码错误，还可尝试4次。"


def test_an_unknown_account_fails_the_same_way(client: TestClient) -> None:
    response = login(client, "650102199001010011", "whatever")
    assert response.status_code == 401
    assert response.json()["code"] == "login_failed"


def test_repeated_failures_lock_the_account(make_client: AppFactory) -> None:
    # The captcha after two failures is tested in test_abuse.py.
    client = make_client(LOGIN_CAPTCHA_AFTER=100)
    candidate = make_candidate(client)
    for _ in range(4):
        assert login(client, candidate["id_number"], "bad-password").status_code == 401
    locked = login(client, candidate["id_number"], "bad-password")
    assert locked.status_code == 423
    assert locked.json()["code"] == "account_locked"
    # The right password does not open a locked account.
    again = login(client, candidate["id_number"], candidate["password"])
    assert again.json()["code"] == "account_locked"
    assert "分钟后再试" in again.json()["message"]
    with client.app.state.db.sessionmaker() as session:
        session.execute(update(LoginGuard).values(locked_until=dt.datetime(2000, 1, 1)))
        session.commit()
    assert login(client, candidate["id_number"], candidate["password"]).status_code == 200


def test_logout_revokes_the_token(client: TestClient) -> None:
    candidate = make_candidate(client)
    headers = auth(candidate["token"])
    assert client.post("/api/auth/logout", headers=headers).status_code == 200
    response = client.get("/api/me", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "session_invalid"


def test_sessions_expire(make_client: AppFactory) -> None:
    client = make_client(SESSION_TTL_SECONDS=3600)
    candidate = make_candidate(client)
    with client.app.state.db.sessionmaker() as session:
        session.execute(update(AuthSession).values(expires_at=dt.datetime(2000, 1, 1)))
        session.commit()
    response = client.get("/api/me", headers=auth(candidate["token"]))
    assert response.status_code == 401
    assert response.json()["code"] == "session_expired"


def test_a_token_in_the_url_is_not_accepted(client: TestClient) -> None:
    candidate = make_candidate(client)
    response = client.get(f"/api/me?token={candidate['token']}&access_token={candidate['token']}")
    assert response.status_code == 401


def test_a_forged_token_is_refused(client: TestClient) -> None:
    make_candidate(client)
    response = client.get("/api/me", headers=auth("forged-token"))
    assert response.json()["code"] == "session_invalid"


def test_password_reset_by_sms(make_client: AppFactory) -> None:
    client = make_client(SMS_MIN_INTERVAL_SECONDS=0)
    candidate = make_candidate(client)
    code = sms_code(client, candidate["phone"], "reset_password", id_number=candidate["id_number"])
    response = client.post(
        "/api/auth/password-reset",
        json={
            "id_number": candidate["id_number"],
            "phone": candidate["phone"],
            "sms_code": code,
            "new_password": "new-secret",
        },
    )
    assert response.status_code == 200
    assert "密码已重设" in response.json()["message"]
    assert login(client, candidate["id_number"], candidate["password"]).status_code == 401
    assert login(client, candidate["id_number"], "new-secret").status_code == 200
    # Logins made with the old password are gone.
    assert client.get("/api/me", headers=auth(candidate["token"])).status_code == 401


def test_password_reset_unlocks_the_account(make_client: AppFactory) -> None:
    client = make_client(SMS_MIN_INTERVAL_SECONDS=0)
    candidate = make_candidate(client)
    for _ in range(5):
        login(client, candidate["id_number"], "bad-password")
    code = sms_code(client, candidate["phone"], "reset_password", id_number=candidate["id_number"])
    client.post(
        "/api/auth/password-reset",
        json={
            "id_number": candidate["id_number"],
            "phone": candidate["phone"],
            "sms_code": code,
            "new_password": "new-secret",
        },
    )
    assert login(client, candidate["id_number"], "new-secret").status_code == 200


def test_password_reset_with_another_phone_is_refused(client: TestClient) -> None:
    """No code goes to a phone that is not the account's, so the reset has none to
    check; the answer says nothing about the account."""
    candidate = make_candidate(client)
    phone = unique_phone()
    sent = client.post(
        "/api/sms/codes",
        json={"phone": phone, "purpose": "reset_password", "id_number": candidate["id_number"]},
    )
    assert sent.status_code == 202
    response = client.post(
        "/api/auth/password-reset",
        json={
            "id_number": candidate["id_number"],
            "phone": phone,
            "sms_code": "123456",
            "new_password": "new-secret",
        },
    )
    assert response.status_code == 400
    assert response.json()["code"] == "sms_code_missing"
