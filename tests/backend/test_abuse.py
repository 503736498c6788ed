"""What an attacker tried against the API (issue 15), each reproduced: parallel guesses,
enumeration, SMS pumping, unauthenticated cost, crafted uploads, headers, tokens in logs.
Each test fails without the defence it names."""

from __future__ import annotations

import asyncio
import logging
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from backend_stub import captcha, guards
from backend_stub.app import create_app, sweep_once
from backend_stub.config import ConfigError, Settings
from backend_stub.models import (
    Candidate,
    LoginGuard,
    Material,
    PaymentNotice,
    SmsCode,
    SmsOutbox,
)
from backend_stub.security import hash_password
from tests.backend.conftest import AppFactory, real_budgets
from tests.backend.factories import (
    add_live_attempt,
    auth,
    confirmable_fields,
    make_candidate,
    make_student_record,
    new_student,
    proof_pdf,
    read_card,
    sms_code,
    unique_id_number,
    unique_phone,
)


def fresh_window(seconds: int = 60, *, needs: float = 8.0) -> None:
    """Budgets count in fixed windows (a minute, an hour): start a test that fills one
    only when enough of the current window is left for it, so it is not cut in two."""
    left = seconds - time.time() % seconds
    if left < needs:
        time.sleep(left + 0.05)


def at_once(count: int, call: Callable[[int], Any]) -> list[Any]:
    """`count` calls released together from a barrier."""
    start = threading.Barrier(count)

    def run(i: int) -> Any:
        start.wait()
        return call(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def login(client: TestClient, account: str, password: str, **extra: Any):  # type: ignore[no-untyped-def]
    return client.post("/api/auth/login", json={"account": account, "password": password, **extra})


def solved_captcha(client: TestClient) -> dict[str, str]:
    """A captcha made by the server's own code, with its answer (as a person reads it)."""
    app: Any = client.app
    with app.state.db.sessionmaker() as session:
        token, answer, _png = captcha.issue(session, app.state.secret, ttl_seconds=300)
    return {"captcha_id": token, "captcha_answer": answer}


# 1. Login lock-out under parallel guesses ------------------------------------------


def test_parallel_wrong_passwords_get_no_more_guesses_than_the_limit(
    make_client: AppFactory,
) -> None:
    # The captcha would hide the race; the lock-out alone must hold.
    client = make_client(LOGIN_CAPTCHA_AFTER=1000)
    candidate = make_candidate(client)
    answers = at_once(40, lambda i: login(client, candidate["id_number"], f"wrong-{i}"))
    codes = [a.json()["code"] for a in answers]
    # At most five guesses are checked: four answer "wrong", the fifth locks.
    assert codes.count("login_failed") <= 4
    assert set(codes) <= {"login_failed", "account_locked"}
    assert codes.count("account_locked") >= 36
    right = login(client, candidate["id_number"], candidate["password"])
    assert right.status_code == 423 and right.json()["code"] == "account_locked"


def test_a_right_password_hidden_in_a_batch_of_wrong_ones_is_refused(
    make_client: AppFactory,
) -> None:
    client = make_client(LOGIN_CAPTCHA_AFTER=1000)
    candidate = make_candidate(client)
    # Four wrong guesses use four of the five places; then a batch with the right one.
    for i in range(4):
        assert login(client, candidate["id_number"], f"wrong-{i}").status_code == 401
    answers = at_once(
        20,
        lambda i: login(
            client, candidate["id_number"], candidate["password"] if i == 7 else f"x-{i}"
        ),
    )
    statuses = [a.status_code for a in answers]
    # One place was left: at most one guess of the batch is checked. If it was a wrong
    # one it locks (423, like the rest); if it was the right one it logs in. Never a 401.
    assert statuses.count(401) == 0, statuses
    assert statuses.count(200) <= 1 and statuses.count(423) >= 19, statuses


# 5. Enumeration: answers and lock-outs look the same for accounts that do not exist --


def test_login_answers_the_same_for_an_unknown_account(make_client: AppFactory) -> None:
    client = make_client(LOGIN_CAPTCHA_AFTER=1000)
    candidate = make_candidate(client)
    unknown = unique_id_number()
    for tries_left in (4, 3, 2, 1):
        known_answer = login(client, candidate["id_number"], "wrong-password")
        unknown_answer = login(client, unknown, "wrong-password")
        assert known_answer.status_code == unknown_answer.status_code == 401
        assert known_answer.json() == unknown_answer.json()
        assert known_answer.json()["attempts_left"] == tries_left
    assert (
        login(client, candidate["id_number"], "x").json()
        == login(client, unknown, "x").json()
        == login(client, unknown, "y").json()
    )
    assert login(client, unknown, "y").json()["code"] == "account_locked"


def test_registration_with_a_bogus_code_tells_nothing_about_the_id_number(
    client: TestClient,
) -> None:
    candidate = make_candidate(client)
    bogus = new_student(sms_code="123456")
    taken = client.post("/api/accounts/new", json={**bogus, "id_number": candidate["id_number"]})
    fresh = client.post("/api/accounts/new", json={**bogus, "id_number": unique_id_number()})
    assert taken.status_code == fresh.status_code == 400
    assert taken.json() == fresh.json()


def test_enrolled_registration_with_a_bogus_code_is_no_oracle_on_the_records(
    client: TestClient,
) -> None:
    record = make_student_record(client, name="李四")
    body = {
        "id_number": record.id_number,
        "ticket_number": record.ticket_number,
        "phone": unique_phone(),
        "password": "secret123",
        "sms_code": "123456",
    }
    right = client.post("/api/accounts/enrolled", json={**body, "name": "李四"})
    wrong = client.post("/api/accounts/enrolled", json={**body, "name": "王五"})
    assert right.status_code == wrong.status_code == 400
    assert right.json() == wrong.json()


# Captcha: risk-based -------------------------------------------------------------


def test_a_login_after_two_failures_needs_a_captcha(make_client: AppFactory) -> None:
    client = make_client(**real_budgets())
    candidate = make_candidate(client)
    for _ in range(2):
        assert login(client, candidate["id_number"], "wrong").status_code == 401
    asked = login(client, candidate["id_number"], candidate["password"])
    assert asked.status_code == 428 and asked.json()["code"] == "captcha_required"
    picture = client.post("/api/captcha")
    assert picture.status_code == 201
    import base64

    assert base64.b64decode(picture.json()["image_png_base64"])[:8] == b"\x89PNG\r\n\x1a\n"
    wrong = login(
        client,
        candidate["id_number"],
        candidate["password"],
        captcha_id=picture.json()["captcha_id"],
        captcha_answer="ZZZZ",
    )
    assert wrong.status_code == 400 and wrong.json()["code"] == "captcha_wrong"
    solved = solved_captcha(client)
    ok = login(client, candidate["id_number"], candidate["password"], **solved)
    assert ok.status_code == 200, ok.text
    # A captcha is spent once used, right or wrong.
    again = login(client, candidate["id_number"], candidate["password"], **solved)
    assert again.status_code == 200  # no failures left on the account: none needed
    for _ in range(2):
        login(client, candidate["id_number"], "wrong")
    reused = login(client, candidate["id_number"], candidate["password"], **solved)
    assert reused.json()["code"] == "captcha_wrong"


def test_a_client_guessing_many_accounts_is_asked_for_captchas(make_client: AppFactory) -> None:
    fresh_window(Settings().LOGIN_LOCK_SECONDS)
    budgets = real_budgets() | {"CLIENT_FAILURES_CAPTCHA": 10}
    client = make_client(**budgets)
    codes = [login(client, unique_id_number(), "guess").json()["code"] for _ in range(12)]
    assert codes[:10] == ["login_failed"] * 10
    assert codes[10:] == ["captcha_required"] * 2


# 6. SMS pumping -------------------------------------------------------------------


def test_one_client_cannot_pump_codes_to_many_phones(make_client: AppFactory) -> None:
    fresh_window(3600, needs=20)
    # The shipped captcha threshold; an hourly cap small enough to reach in one burst.
    client = make_client(**real_budgets() | {"SMS_PER_CLIENT_HOURLY": 10})
    answers = at_once(
        30,
        lambda i: client.post(
            "/api/sms/codes", json={"phone": unique_phone(), "purpose": "register"}
        ),
    )
    statuses = [a.status_code for a in answers]
    free = Settings().SMS_CAPTCHA_AFTER
    # Two free codes, captchas asked for up to the hourly budget, then refusals.
    assert statuses.count(202) == free
    assert statuses.count(428) == 10 - free
    assert statuses.count(429) == 30 - 10
    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        assert session.scalar(select(func.count(SmsOutbox.id))) == free
    # A solved captcha does not reopen the hourly budget.
    late = client.post(
        "/api/sms/codes",
        json={"phone": unique_phone(), "purpose": "register", **solved_captcha(client)},
    )
    assert late.status_code == 429 and late.json()["code"] == "sms_client_limit"


def test_a_solved_captcha_lets_a_third_code_through(make_client: AppFactory) -> None:
    client = make_client(**real_budgets())
    for _ in range(2):
        assert sms_code(client, unique_phone()).isdigit()
    phone = unique_phone()
    asked = client.post("/api/sms/codes", json={"phone": phone, "purpose": "register"})
    assert asked.status_code == 428
    sent = client.post(
        "/api/sms/codes", json={"phone": phone, "purpose": "register", **solved_captcha(client)}
    )
    assert sent.status_code == 202


def test_codes_sent_in_all_are_capped(make_client: AppFactory) -> None:
    fresh_window()
    client = make_client(SMS_GLOBAL_PER_MINUTE=5)
    answers = at_once(
        12,
        lambda i: client.post(
            "/api/sms/codes", json={"phone": unique_phone(), "purpose": "register"}
        ),
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(202) == 5 and statuses.count(503) == 7


def test_one_phone_gets_one_code_per_interval_even_in_parallel(client: TestClient) -> None:
    phone = unique_phone()
    answers = at_once(
        20, lambda i: client.post("/api/sms/codes", json={"phone": phone, "purpose": "register"})
    )
    assert sorted(a.status_code for a in answers).count(202) == 1


def test_parallel_guesses_at_an_sms_code_are_counted(client: TestClient) -> None:
    phone = unique_phone()
    sms_code(client, phone)
    answers = at_once(
        30,
        lambda i: client.post(
            "/api/auth/password-reset",
            json={
                "id_number": unique_id_number(),
                "phone": phone,
                "sms_code": f"{i:06d}",
                "new_password": "secret123",
            },
        ),
    )
    # The codes were for registration: every guess is for a missing reset code...
    assert {a.json()["code"] for a in answers} == {"sms_code_missing"}
    body = new_student(phone=phone)
    answers = at_once(
        30,
        lambda i: client.post("/api/accounts/new", json={**body, "sms_code": f"9{i:05d}"}),
    )
    # ...and at most SMS_MAX_GUESSES are compared with the registration code.
    assert [a.json()["code"] for a in answers].count("sms_code_wrong") <= 4
    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        assert session.scalar(select(SmsCode.guesses).where(SmsCode.phone == phone)) == 5


def test_sms_codes_are_stored_keyed_and_the_outbox_is_purged(client: TestClient) -> None:
    import hashlib

    phone = unique_phone()
    code = sms_code(client, phone)
    app: Any = client.app
    with app.state.db.sessionmaker() as session:
        stored = session.scalar(select(SmsCode.code_hash).where(SmsCode.phone == phone))
        assert stored != hashlib.sha256(f"{phone}:{code}".encode()).hexdigest()
        assert code not in stored
        session.execute(update(SmsOutbox).values(created_at=SmsOutbox.created_at - _minutes(6)))
        session.commit()
    sweep_once(app)
    with app.state.db.sessionmaker() as session:
        assert session.scalar(select(func.count(SmsOutbox.id))) == 0


def _minutes(n: int) -> Any:
    from datetime import timedelta

    return timedelta(minutes=n)


# 7. Unauthenticated cost ------------------------------------------------------------


def test_a_client_flooding_public_endpoints_is_slowed(make_client: AppFactory) -> None:
    fresh_window()
    client = make_client(PUBLIC_PER_CLIENT_PER_MINUTE=20, CLIENT_FAILURES_CAPTCHA=1000)
    codes = [login(client, unique_id_number(), "x").status_code for _ in range(25)]
    assert codes[:20] == [401] * 20 and set(codes[20:]) == {429}
    assert "秒后再试" in login(client, unique_id_number(), "x").json()["message"]


def test_everyone_together_has_a_budget_too(make_client: AppFactory) -> None:
    fresh_window()
    client = make_client(PUBLIC_GLOBAL_PER_MINUTE=3)
    statuses = [client.post("/api/captcha").status_code for _ in range(5)]
    assert statuses == [201, 201, 201, 503, 503]


def test_password_hashes_use_owasp_argon2id_and_old_ones_are_rehashed(
    client: TestClient,
) -> None:
    from argon2 import PasswordHasher

    candidate = make_candidate(client)
    app: Any = client.app
    with app.state.db.sessionmaker() as session:
        stored = session.scalar(
            select(Candidate.password_hash).where(Candidate.id_number == candidate["id_number"])
        )
        assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        old = PasswordHasher().hash(candidate["password"])  # argon2-cffi's default, 64 MiB
        session.execute(update(Candidate).values(password_hash=old))
        session.commit()
    assert login(client, candidate["id_number"], candidate["password"]).status_code == 200
    with app.state.db.sessionmaker() as session:
        rehashed = session.scalar(select(Candidate.password_hash))
        assert rehashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_hashing_runs_a_bounded_number_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """100 parallel logins do not take 100 × the hash's memory at once."""
    import os

    from argon2 import PasswordHasher

    from backend_stub import security

    inside, most = 0, 0
    lock = threading.Lock()
    real = PasswordHasher.verify

    def counting(self: Any, *args: Any) -> Any:
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        try:
            return real(self, *args)
        finally:
            with lock:
                inside -= 1

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    stored = hash_password("secret123")
    at_once(40, lambda i: security.verify_password(stored, f"guess-{i}"))
    assert most <= max(2, os.cpu_count() or 2)


def test_junk_notifications_are_bounded_in_size_and_in_rows(make_client: AppFactory) -> None:
    fresh_window()
    client = make_client(NOTIFY_REJECTED_RECORDED_PER_MINUTE=20)
    big = client.post("/api/payments/notify/sandbox", content=b"{" + b" " * 300_000 + b"}")
    assert big.status_code == 413
    for _ in range(60):
        assert client.post("/api/payments/notify/sandbox", content=b"{}").status_code == 401
    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        rows = session.scalar(select(func.count(PaymentNotice.id)))
    assert rows == 20


def test_a_body_without_length_is_cut_off_at_the_limit(make_client: AppFactory) -> None:
    """A 50 MB upload with no Content-Length: refused after the limit, the rest unread."""
    client = make_client()
    app = client.app
    chunk = b"x" * 65536
    head = (
        b'--zz\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n%PDF-1.4\n"
    )
    pulled = 0

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        body = head if pulled == 1 else chunk
        return {"type": "http.request", "body": body, "more_body": pulled < 800}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/materials",
        "raw_path": b"/api/materials",
        "query_string": b"",
        "headers": [(b"content-type", b"multipart/form-data; boundary=zz")],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "scheme": "http",
        "http_version": "1.1",
        "root_path": "",
        "app": app,
    }
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 413
    limit = Settings().MATERIAL_MAX_BYTES + 64 * 1024
    assert pulled * len(chunk) <= limit + 2 * len(chunk)


# 2. Crafted videos cost a bounded amount, and not without end ------------------------


def test_unusable_videos_spend_the_digits_after_a_few(make_client: AppFactory) -> None:
    from tests.backend.test_liveness import candidate_with_card, challenge, upload
    from tests.support import clips

    client = make_client(VERIFY_WORKERS=0)
    candidate = candidate_with_card(client, clips.talking_portrait())
    token = candidate["token"]
    issued = challenge(client, token)
    junk = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 4000
    codes = [upload(client, token, issued["id"], junk).json() for _ in range(4)]
    assert [c["code"] for c in codes[:3]] == ["video_unreadable"] * 3
    assert "这组数字已失效" in codes[2]["message"]
    assert codes[3]["code"] == "challenge_used"
    state = client.get("/api/liveness", headers=auth(token)).json()
    assert state["attempts_left"] == 3  # unusable files still cost no attempt


def test_digits_cannot_be_asked_for_without_end(make_client: AppFactory) -> None:
    from tests.backend.test_liveness import candidate_with_card
    from tests.support import clips

    client = make_client(VERIFY_WORKERS=0, LIVE_CHALLENGES_PER_HOUR=3)
    candidate = candidate_with_card(client, clips.talking_portrait())
    statuses = [
        client.post("/api/liveness/challenge", headers=auth(candidate["token"])).status_code
        for _ in range(4)
    ]
    assert statuses == [201, 201, 201, 429]


# 4. The name and the card's fields -------------------------------------------------


def test_card_confirmation_refuses_crafted_names_and_a_second_confirmation(
    make_client: AppFactory,
) -> None:
    client = make_client(VERIFY_WORKERS=0)
    candidate = make_candidate(client, name="李明")
    token = candidate["token"]
    reading = read_card(client, token, name="李明", id_number=candidate["id_number"])
    fields = confirmable_fields(reading["result"])
    url = f"/api/idcard/{reading['id']}/confirm"
    for crafted in (
        {"name": "<img src=x onerror=alert(1)>", "use_card_name": True},
        {"name": "李\u202e明", "use_card_name": True},
        {"name": "李\u200b明"},
        {"address": fields["address"] + "\x00"},
        {"address": fields["address"] + "\x07"},
        {"ethnicity": "汉\u200d"},
    ):
        refused = client.post(url, json={**fields, **crafted}, headers=auth(token))
        assert refused.status_code == 422, (crafted, refused.text)
    elsewhere = client.post(
        url, json={**fields, "name": "王小二", "use_card_name": True}, headers=auth(token)
    )
    assert elsewhere.status_code == 409 and elsewhere.json()["code"] == "idcard_name_not_on_card"
    assert client.get("/api/me", headers=auth(token)).json()["name"] == "李明"
    assert client.post(url, json=fields, headers=auth(token)).status_code == 200
    again = client.post(url, json={**fields, "address": "别处"}, headers=auth(token))
    assert again.status_code == 409 and again.json()["code"] == "idcard_already_confirmed"


def test_use_card_name_takes_the_name_read_from_the_card(make_client: AppFactory) -> None:
    client = make_client(VERIFY_WORKERS=0)
    candidate = make_candidate(client, name="李敏")  # typed wrong at registration
    token = candidate["token"]
    reading = read_card(client, token, name="李明", id_number=candidate["id_number"])
    fields = confirmable_fields(reading["result"])
    assert fields["name"] == "李明"
    confirmed = client.post(
        f"/api/idcard/{reading['id']}/confirm",
        json={**fields, "use_card_name": True},
        headers=auth(token),
    )
    assert confirmed.status_code == 200, confirmed.text
    assert client.get("/api/me", headers=auth(token)).json()["name"] == "李明"


# 3. On-site confirmation only when it is due ---------------------------------------


def test_on_site_confirmation_needs_three_failed_live_checks(make_client: AppFactory) -> None:
    from backend_stub.models import LiveAttempt, Staff, StaffSession
    from tests.backend.test_review import PASSWORD, console

    client = make_client()
    app: Any = client.app
    with app.state.db.sessionmaker() as session:
        session.add(
            Staff(
                username="li",
                name="李老师",
                role="admin",
                districts=[],
                password_hash=hash_password(PASSWORD),
            )
        )
        session.commit()
    candidate = make_candidate(client)
    with app.state.db.sessionmaker() as session:
        cid = session.scalar(
            select(Candidate.id).where(Candidate.id_number == candidate["id_number"])
        )
    add_live_attempt(client, cid)
    desk = console(client, "li")
    with app.state.db.sessionmaker() as session:
        token = session.scalar(select(StaffSession.csrf))
    forged = desk.post(
        f"/office/candidates/{cid}/decision", data={"csrf": token, "action": "on_site"}
    )
    assert forged.status_code == 409
    with app.state.db.sessionmaker() as session:
        assert (
            session.scalar(select(func.count(LiveAttempt.id)).where(LiveAttempt.verdict == "pass"))
            == 0
        )
    state = client.get("/api/liveness", headers=auth(candidate["token"])).json()
    assert state["status"] == "todo"


# 8. Staff login ------------------------------------------------------------------


def test_staff_logins_lock_out_and_unknown_names_take_as_long(make_client: AppFactory) -> None:
    from tests.backend.test_review import PASSWORD, add_staff

    client = make_client()
    add_staff(client, "li")
    desk = TestClient(client.app, follow_redirects=False)

    def attempt(username: str, password: str) -> tuple[str, float]:
        began = time.perf_counter()
        response = desk.post("/office/login", data={"username": username, "password": password})
        return response.headers["location"], time.perf_counter() - began

    # Interleaved, so load on the machine falls on both alike; before the dummy hash an
    # unknown name answered about 6x faster.
    known, unknown = [], []
    for i in range(4):
        known.append(attempt("li", f"wrong-{i}")[1])
        unknown.append(attempt(f"nobody{i}", "wrong")[1])
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 1 / 3 < ratio < 3, (known, unknown)
    # One more wrong guess locks the account; the right password then waits.
    assert attempt("li", "wrong-5")[0] == "/office/login?error=locked"
    assert attempt("li", PASSWORD)[0] == "/office/login?error=locked"
    page = desk.get("/office/login?error=locked").text
    assert "登录失败次数过多" in page


def test_parallel_staff_guesses_are_counted(make_client: AppFactory) -> None:
    from tests.backend.test_review import add_staff

    client = make_client()
    add_staff(client, "li")

    def guess(i: int) -> str:
        # Wrong guesses only: a right password taking one of the places would log in and
        # clear the count, as it should (only someone who has the password can).
        desk = TestClient(client.app, follow_redirects=False)
        password = f"wrong-{i}"
        return desk.post("/office/login", data={"username": "li", "password": password}).headers[
            "location"
        ]

    places = at_once(30, guess)
    assert places.count("/office/login?error=1") <= 4
    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        lock = session.scalars(select(LoginGuard)).all()
    assert any(g.locked_until is not None for g in lock)


# 9. Headers, cookies, uploads ------------------------------------------------------


def test_pages_and_data_carry_strict_headers(make_client: AppFactory) -> None:
    client = make_client()
    page = client.get("/office/login")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "script-src" not in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    data = client.get("/api/reference")
    assert data.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in data.headers["content-security-policy"]
    assert data.headers["cache-control"] == "no-store"


def test_the_staff_cookie_is_secure_over_https(make_client: AppFactory) -> None:
    from tests.backend.test_review import PASSWORD, add_staff

    client = make_client()
    add_staff(client, "li")
    desk = TestClient(client.app, base_url="https://testserver", follow_redirects=False)
    response = desk.post("/office/login", data={"username": "li", "password": PASSWORD})
    cookie = response.headers["set-cookie"].lower()
    assert "secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    assert "strict-transport-security" in response.headers


def _special_candidate(client: TestClient) -> dict[str, Any]:
    from backend_stub import catalog

    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        catalog.seed_demo(session)
    return make_candidate(client)


def upload_material(client: TestClient, token: str, data: bytes, name: str = "a.pdf"):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/materials",
        data={"major_code": "100701"},
        files={"file": (name, data, "application/pdf")},
        headers=auth(token),
    )


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-<html><script>alert(1)</script></html>",
        b"%PDF-1.4\n" + b"0" * 4000,
        b"\xff\xd8\xff\xe0<html><script>alert(1)</script>",
    ],
    ids=["html-as-pdf", "pdf-header-only", "html-as-jpeg"],
)
def test_materials_must_open_as_what_they_claim(make_client: AppFactory, data: bytes) -> None:
    client = make_client()
    candidate = _special_candidate(client)
    response = upload_material(client, candidate["token"], data)
    assert response.status_code == 415 and response.json()["code"] == "material_unreadable"


def test_a_pdf_that_runs_a_script_is_refused(make_client: AppFactory) -> None:
    import io

    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    client = make_client()
    candidate = _special_candidate(client)
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(proof_pdf())))
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
        {
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert('x');"),
        }
    )
    out = io.BytesIO()
    writer.write(out)
    response = upload_material(client, candidate["token"], out.getvalue())
    assert response.status_code == 415 and response.json()["code"] == "material_active_content"
    assert upload_material(client, candidate["token"], proof_pdf()).status_code == 201


def test_parallel_uploads_cannot_overrun_the_storage_quota(make_client: AppFactory) -> None:
    client = make_client(MEDIA_QUOTA_BYTES=3_000_000)
    candidate = _special_candidate(client)
    pdf = proof_pdf() + b"%" + b"0" * 999_000 + b"\n"  # a padded, valid PDF of ~1 MB
    answers = at_once(12, lambda i: upload_material(client, candidate["token"], pdf))
    statuses = [a.status_code for a in answers]
    assert statuses.count(201) == 3 and statuses.count(507) == 9
    assert {a.json()["code"] for a in answers if a.status_code == 507} == {"storage_quota"}
    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        assert session.scalar(select(func.count(Material.id))) == 3


# 10. Production switch -------------------------------------------------------------


def test_production_refuses_to_start_with_testers_conveniences(tmp_path: Any) -> None:
    with pytest.raises(ConfigError) as refused:
        create_app(Settings(ENVIRONMENT="production", DATA_DIR=tmp_path, DATABASE_URL="sqlite://"))
    message = str(refused.value)
    assert "SMS_SANDBOX" in message and "PAYMENT_PROVIDER" in message
    assert "SECRET_KEY" in message
    with pytest.raises(ConfigError) as refused:
        create_app(
            Settings(
                ENVIRONMENT="production",
                SMS_SANDBOX=False,
                SECRET_KEY="k" * 40,
                DATA_DIR=tmp_path,
                DATABASE_URL="sqlite://",
            )
        )
    assert "SMS_SANDBOX" not in str(refused.value) and "PAYMENT_PROVIDER" in str(refused.value)


def test_api_docs_are_off_unless_enabled(client: TestClient) -> None:
    assert client.get("/docs").status_code == 404
    assert client.get("/openapi.json").status_code == 404


# 11. Loose ends --------------------------------------------------------------------


def test_a_payment_whose_notice_was_lost_is_settled_without_the_candidate(
    make_client: AppFactory,
) -> None:
    from backend_stub import catalog
    from tests.backend.test_orders import ordered

    client = make_client()
    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        catalog.seed_demo(session)
    token, order = ordered(client)
    code = client.post(f"/api/orders/{order['id']}/payment", headers=auth(token)).json()
    app: Any = client.app
    # Paid at the provider; the notification never arrives (a crash, an outage).
    trade_token = code["code_url"].rsplit("/", 1)[1]
    assert app.state.payments.pay(trade_token) is not None
    assert client.get(f"/api/orders/{order['id']}", headers=auth(token)).json()["status"] == (
        "pending"
    )
    sweep_once(app)  # what a restart and each sweep run
    paid = client.get(f"/api/orders/{order['id']}", headers=auth(token)).json()
    assert paid["status"] == "paid"


def test_single_use_tokens_never_reach_the_access_log(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    access = logging.getLogger("uvicorn.access")
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        # Exactly how uvicorn's access log writes a request line.
        for path in ("/sandbox/pay/SeCrEtToKeN123", "/api/documents/DoCtOkEn456?x=1"):
            access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", path, "1.1", 200)
    assert "SeCrEtToKeN123" not in caplog.text and "DoCtOkEn456" not in caplog.text
    assert "/sandbox/pay/[redacted]" in caplog.text


def test_guard_counters_are_atomic(client: TestClient) -> None:
    app: Any = client.app

    def bump(_i: int) -> int:
        with app.state.db.sessionmaker() as session:
            return guards.hit(session, "test:key", window_s=3600)

    counts = at_once(40, bump)
    assert sorted(counts) == list(range(1, 41))
