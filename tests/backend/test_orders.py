"""报考, orders, payment and documents through the API, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from backend_stub import catalog, orders, tickets
from backend_stub.config import Settings
from backend_stub.db import utcnow
from backend_stub.domain.errors import DomainError
from backend_stub.models import (
    Candidate,
    Enrollment,
    ExamSession,
    ExamSite,
    Major,
    Order,
    PassedCourse,
    PaymentNotice,
    SandboxTrade,
)
from backend_stub.payments import (
    NONCE_HEADER,
    TIMESTAMP_HEADER,
    SandboxProvider,
)
from tests.backend.conftest import AppFactory
from tests.backend.factories import auth, make_candidate, verified_candidates, verify_identity

CS = "080901"  # 计算机科学与技术: 00024 普通逻辑 and 03708 中国近现代史纲要 share a half-day


@pytest.fixture
def client(make_client: AppFactory) -> TestClient:
    client = make_client()
    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        catalog.seed_demo(session)
    return client


def verified(client: TestClient, **overrides: Any) -> dict[str, Any]:
    candidate = make_candidate(client, **overrides)
    verify_identity(client, candidate["id_number"])
    return candidate


def site_id(client: TestClient, code: str = "650101") -> int:
    for district in client.get("/api/catalog").json()["districts"]:
        for site in district["sites"]:
            if site["code"] == code:
                return site["id"]
    raise AssertionError(code)


def choose(client: TestClient, token: str, courses: list[str], **extra: Any):  # type: ignore[no-untyped-def]
    body = {"site_id": site_id(client), "major_code": CS, "course_codes": courses, **extra}
    return client.put("/api/enrollment", json=body, headers=auth(token))


def ordered(client: TestClient, courses: tuple[str, ...] = ("00024", "00018")) -> tuple[str, dict]:
    token = verified(client)["token"]
    assert choose(client, token, list(courses)).status_code == 200
    response = client.post("/api/orders", headers=auth(token))
    assert response.status_code == 201, response.text
    return token, response.json()


def seats_left(client: TestClient, code: str = "650101") -> int:
    for district in client.get("/api/catalog").json()["districts"]:
        for site in district["sites"]:
            if site["code"] == code:
                return site["seats_left"]
    raise AssertionError(code)


def sandbox(client: TestClient) -> SandboxProvider:
    return client.app.state.payments  # type: ignore[attr-defined]


def token_of(code_url: str) -> str:
    return code_url.rsplit("/", 1)[1]


def test_the_catalog_lists_sites_majors_and_courses(client: TestClient) -> None:
    body = client.get("/api/catalog").json()
    assert body["session"]["name"] == "2027年4月" and body["session"]["open"]
    urumqi = next(d for d in body["districts"] if d["code"] == "6501")
    assert urumqi["name"] == "乌鲁木齐市" and urumqi["sites"][0]["seats_left"] == 400
    cs = next(m for m in body["majors"] if m["code"] == CS)
    logic = next(c for c in cs["courses"] if c["code"] == "00024")
    assert (logic["name"], logic["fee_fen"], logic["slot_text"][:2]) == ("普通逻辑", 3500, "上午")
    practical = next(c for c in cs["courses"] if c["code"] == "00019")
    assert practical["kind"] == "practical" and practical["theory_code"] == "00018"
    assert {m["code"] for m in body["majors"] if m["special"]} == {"030109", "030401", "100701"}


def test_choosing_needs_a_verified_identity(client: TestClient) -> None:
    token = make_candidate(client)["token"]
    response = choose(client, token, ["00024"])
    assert response.status_code == 409
    assert response.json()["code"] == "identity_incomplete"
    assert "身份证识别" in response.json()["message"]


@pytest.mark.parametrize(
    ("courses", "extra", "status", "code"),
    [
        ([], {}, 422, "no_courses"),
        (["00144"], {}, 422, "course_not_in_major"),
        (["00024", "03708"], {}, 409, "slot_conflict"),
        (["00019"], {}, 409, "theory_not_passed"),
        (["00369"], {"major_code": "030109"}, 409, "major_needs_materials"),
        (["00024"], {"site_id": 999999}, 422, "site_unknown"),
    ],
)
def test_every_rule_refuses_with_its_code(
    client: TestClient, courses: list[str], extra: dict, status: int, code: str
) -> None:
    token = verified(client)["token"]
    response = choose(client, token, courses, **extra)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert client.get("/api/enrollment", headers=auth(token)).json()["course_codes"] == []


def test_a_practical_course_after_its_theory_is_passed(client: TestClient) -> None:
    candidate = verified(client)
    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        row = session.scalar(select(Candidate).where(Candidate.id_number == candidate["id_number"]))
        session.add(PassedCourse(candidate_id=row.id, course_code="00018"))
        session.commit()
    response = choose(client, candidate["token"], ["00019", "00024"])
    assert response.status_code == 200, response.text
    assert response.json()["course_codes"] == ["00024", "00019"]


def test_outside_the_window_nothing_can_be_chosen(client: TestClient) -> None:
    token = verified(client)["token"]
    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        session.execute(update(ExamSession).values(closes_at=utcnow() - dt.timedelta(minutes=1)))
        session.commit()
    response = choose(client, token, ["00024"])
    assert response.status_code == 409 and response.json()["code"] == "window_closed"
    assert client.post("/api/orders", headers=auth(token)).json()["code"] == "window_closed"


def test_an_order_costs_35_yuan_a_course_plus_the_card_fee_and_locks_the_choice(
    client: TestClient,
) -> None:
    before = seats_left(client)
    token, order = ordered(client)
    assert order["status"] == "pending" and order["status_text"] == "待缴费"
    assert [i["code"] for i in order["items"]] == ["00024", "00018", "card_fee"]
    assert order["total_fen"] == 35_00 * 2 + 20_00
    assert seats_left(client) == before - 1
    assert client.get("/api/enrollment", headers=auth(token)).json()["locked"]
    locked = choose(client, token, ["00024"])
    assert locked.status_code == 409 and locked.json()["code"] == "enrollment_locked"
    again = client.post("/api/orders", headers=auth(token))
    assert again.status_code == 409 and again.json()["order_id"] == order["id"]
    journey = {
        s["key"]: s["status"] for s in client.get("/api/me", headers=auth(token)).json()["journey"]
    }
    assert journey["enrollment"] == "done" and journey["payment"] != "done"


def test_an_enrolled_student_pays_no_card_fee(client: TestClient) -> None:
    candidate = verified(client)
    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        session.execute(
            update(Candidate)
            .where(Candidate.id_number == candidate["id_number"])
            .values(kind="enrolled")
        )
        session.commit()
    assert choose(client, candidate["token"], ["00024"]).status_code == 200
    order = client.post("/api/orders", headers=auth(candidate["token"])).json()
    assert order["total_fen"] == 35_00


def test_cancelling_gives_the_seat_back_and_unlocks_the_choice(client: TestClient) -> None:
    before = seats_left(client)
    token, order = ordered(client)
    response = client.post(f"/api/orders/{order['id']}/cancel", headers=auth(token))
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert seats_left(client) == before
    assert choose(client, token, ["00024"]).status_code == 200
    assert client.post("/api/orders", headers=auth(token)).status_code == 201
    twice = client.post(f"/api/orders/{order['id']}/cancel", headers=auth(token))
    assert twice.status_code == 409 and twice.json()["code"] == "order_cancelled"


def test_an_unpaid_order_lapses_after_24_hours(client: TestClient) -> None:
    before = seats_left(client)
    token, order = ordered(client)
    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        session.execute(update(Order).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
        session.commit()
    mine = client.get("/api/orders", headers=auth(token)).json()
    assert [o["status"] for o in mine] == ["lapsed"] and mine[0]["status_text"] == "已失效"
    assert seats_left(client) == before
    pay = client.post(f"/api/orders/{order['id']}/payment", headers=auth(token))
    assert pay.status_code == 409 and pay.json()["code"] == "order_lapsed"


def test_the_sweep_lapses_orders_nobody_looks_at(client: TestClient) -> None:
    ordered(client)
    ordered(client)
    app = client.app
    with app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        session.execute(update(Order).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
        session.commit()
        assert orders.sweep_lapsed(session, app.state.payments) == 2  # type: ignore[attr-defined]
        assert orders.sweep_lapsed(session, app.state.payments) == 0  # type: ignore[attr-defined]


def test_paying_by_qr_code(client: TestClient) -> None:
    token, order = ordered(client)
    pay = client.post(f"/api/orders/{order['id']}/payment", headers=auth(token))
    assert pay.status_code == 201, pay.text
    code_url = pay.json()["code_url"]
    expires = dt.datetime.fromisoformat(pay.json()["expires_at"])
    assert dt.timedelta(minutes=2) < expires - utcnow() <= dt.timedelta(minutes=3)
    path = code_url.split("://", 1)[1].split("/", 1)[1]
    cashier = client.get("/" + path)
    assert "新疆维吾尔自治区教育考试院" in cashier.text and "¥90.00" in cashier.text
    assert "已失效" in client.get("/" + path).text  # a code is scanned once
    paid = client.post("/" + path, data={"action": "pay"})
    assert "支付成功" in paid.text
    body = client.get(f"/api/orders/{order['id']}", headers=auth(token)).json()
    assert body["status"] == "paid" and body["status_text"] == "已缴费"
    assert body["seat_number"] == 1 and body["documents"] == ["receipt", "ticket"]
    again = client.post(f"/api/orders/{order['id']}/payment", headers=auth(token))
    assert again.status_code == 409 and again.json()["code"] == "order_paid"
    cancel = client.post(f"/api/orders/{order['id']}/cancel", headers=auth(token))
    assert cancel.status_code == 409 and cancel.json()["code"] == "order_paid"
    me = client.get("/api/me", headers=auth(token)).json()
    assert {s["key"]: s["status"] for s in me["journey"]}["payment"] == "done"
    assert me["ticket_number"]


def test_a_new_code_closes_the_old_one(client: TestClient) -> None:
    token, order = ordered(client)
    first = client.post(f"/api/orders/{order['id']}/payment", headers=auth(token)).json()
    client.post(f"/api/orders/{order['id']}/payment", headers=auth(token))
    assert sandbox(client).pay(token_of(first["code_url"])) is None
    assert (
        client.get(f"/api/orders/{order['id']}", headers=auth(token)).json()["status"] == "pending"
    )


def test_an_expired_code_cannot_be_paid(client: TestClient) -> None:
    token, order = ordered(client)
    code = client.post(f"/api/orders/{order['id']}/payment", headers=auth(token)).json()
    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        session.execute(update(SandboxTrade).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
        session.commit()
    path = "/" + code["code_url"].split("://", 1)[1].split("/", 1)[1]
    assert "已失效" in client.get(path).text
    assert "支付失败" in client.post(path, data={"action": "pay"}).text


def test_query_settles_a_payment_whose_notification_was_lost(client: TestClient) -> None:
    token, order = ordered(client)
    code = client.post(f"/api/orders/{order['id']}/payment", headers=auth(token)).json()
    assert sandbox(client).pay(token_of(code["code_url"])) is not None  # no notification sent
    assert (
        client.get(f"/api/orders/{order['id']}", headers=auth(token)).json()["status"] == "pending"
    )
    queried = client.post(f"/api/orders/{order['id']}/query", headers=auth(token))
    assert queried.json()["status"] == "paid"


def notify(client: TestClient, headers: dict[str, str], body: bytes):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/payments/notify/sandbox",
        content=body,
        headers={**headers, "Content-Type": "application/json"},
    )


def notices(client: TestClient) -> list[tuple[str, str]]:
    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        return [(n.outcome, n.detail) for n in session.scalars(select(PaymentNotice))]


def paid_trade(client: TestClient, token: str, order: dict) -> SandboxTrade:
    code = client.post(f"/api/orders/{order['id']}/payment", headers=auth(token)).json()
    trade = sandbox(client).pay(token_of(code["code_url"]))
    assert trade is not None
    return trade


def test_forged_stale_and_replayed_notifications_change_nothing(
    client: TestClient, make_client: AppFactory, tmp_path: Any
) -> None:
    token, order = ordered(client)
    trade = paid_trade(client, token, order)
    headers, body = sandbox(client).notification(trade)
    # Same body, signed by another key (another sandbox's).
    other = SandboxProvider(client.app.state.db, tmp_path / "other.pem")  # type: ignore[attr-defined]
    forged_headers, _ = other.notification(trade)
    forged_headers[TIMESTAMP_HEADER], forged_headers[NONCE_HEADER] = (
        headers[TIMESTAMP_HEADER],
        headers[NONCE_HEADER],
    )
    assert notify(client, forged_headers, body).status_code == 401
    tampered = body.replace(b'"amount_fen":9000', b'"amount_fen":1')
    assert notify(client, headers, tampered).status_code == 401
    assert notify(client, {}, body).status_code == 401
    stale_headers, stale_body = sandbox(client).notification(
        trade, timestamp=int(utcnow().replace(tzinfo=dt.UTC).timestamp()) - 3600
    )
    assert notify(client, stale_headers, stale_body).status_code == 401
    assert (
        client.get(f"/api/orders/{order['id']}", headers=auth(token)).json()["status"] == "pending"
    )
    assert notices(client) == [
        ("rejected", "bad_signature"),
        ("rejected", "bad_signature"),
        ("rejected", "unsigned"),
        ("rejected", "stale"),
    ]
    assert notify(client, headers, body).json()["outcome"] == "applied"
    assert notify(client, headers, body).json()["outcome"] == "duplicate"  # delivered again
    second_headers, second_body = sandbox(client).notification(trade)  # a retry, new id
    assert notify(client, second_headers, second_body).json()["outcome"] == "duplicate"
    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        row = session.get(Order, order["id"])
        assert row.status == "paid" and row.transaction_id == trade.transaction_id
        assert row.receipt["total_fen"] == 9000


def test_a_late_notification_for_a_closed_order_is_kept_for_refund(client: TestClient) -> None:
    token, order = ordered(client)
    code = client.post(f"/api/orders/{order['id']}/payment", headers=auth(token)).json()
    client.post(f"/api/orders/{order['id']}/cancel", headers=auth(token))
    # The provider took the money anyway (its close raced the buyer): it notifies.
    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        session.execute(
            update(SandboxTrade)
            .where(SandboxTrade.token == token_of(code["code_url"]))
            .values(status="TRADE_SUCCESS", paid_at=utcnow(), transaction_id="SBXLATE1")
        )
        session.commit()
    trade = sandbox(client).trade(token_of(code["code_url"]))
    assert trade is not None
    headers, body = sandbox(client).notification(trade)
    assert notify(client, headers, body).json()["outcome"] == "refund_due"
    assert (
        client.get(f"/api/orders/{order['id']}", headers=auth(token)).json()["status"]
        == "cancelled"
    )
    assert notices(client) == [("refund_due", "order_cancelled")]


def _at_once(start: threading.Barrier, call: Any, *args: Any, **kwargs: Any) -> Any:
    start.wait()
    return call(*args, **kwargs)


def test_a_notification_racing_a_cancel_never_leaves_money_without_an_order(
    client: TestClient,
) -> None:
    """Pay (cashier + notification) and cancel at the same moment, many times: either the
    order is paid and the cancel refused, or it is cancelled and the payment refused."""
    outcomes = set()
    for _ in range(12):
        token, order = ordered(client)
        code = client.post(f"/api/orders/{order['id']}/payment", headers=auth(token)).json()
        path = "/" + code["code_url"].split("://", 1)[1].split("/", 1)[1]
        start = threading.Barrier(2)
        with ThreadPoolExecutor(2) as pool:
            paid = pool.submit(_at_once, start, client.post, path, data={"action": "pay"})
            cancelled = pool.submit(
                _at_once,
                start,
                client.post,
                f"/api/orders/{order['id']}/cancel",
                headers=auth(token),
            )
            paid_text, cancel_status = paid.result().text, cancelled.result().status_code
        status = client.get(f"/api/orders/{order['id']}", headers=auth(token)).json()["status"]
        with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
            successes = session.scalar(
                select(func.count(SandboxTrade.id)).where(
                    SandboxTrade.out_trade_no == order["out_trade_no"],
                    SandboxTrade.status == "TRADE_SUCCESS",
                )
            )
        if status == "paid":
            assert "支付成功" in paid_text and cancel_status == 409 and successes == 1
        else:
            assert status == "cancelled" and "支付失败" in paid_text and cancel_status == 200
            assert successes == 0
        outcomes.add(status)
    assert all(outcome != "refund_due" for outcome, _ in notices(client))


def test_documents_of_a_paid_order(client: TestClient) -> None:
    import io

    from pypdf import PdfReader

    token, order = ordered(client)
    early = client.post(f"/api/orders/{order['id']}/documents/receipt", headers=auth(token))
    assert early.status_code == 409 and early.json()["code"] == "order_not_paid"
    trade = paid_trade(client, token, order)
    notify(client, *sandbox(client).notification(trade))
    me = client.get("/api/me", headers=auth(token)).json()
    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        id_number = session.get(Order, order["id"]).receipt["id_number"]
    texts = {}
    for kind in ("receipt", "ticket"):
        link = client.post(f"/api/orders/{order['id']}/documents/{kind}", headers=auth(token))
        assert link.status_code == 201, link.text
        assert token not in link.json()["url"] and id_number not in link.json()["url"]
        path = "/" + link.json()["url"].split("://", 1)[1].split("/", 1)[1]
        pdf = client.get(path)
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        reader = PdfReader(io.BytesIO(pdf.content))
        texts[kind] = reader.pages[0].extract_text()
        if kind == "ticket":
            images = reader.pages[0].images
            assert len(images) == 2, "the standard photo and the check code are on the ticket"
            ticket_images = [image.data for image in images]
        assert client.get(path).json()["code"] == "link_invalid"  # once
    # Downloaded: the journey's last step is done, not left 进行中.
    steps = client.get("/api/me", headers=auth(token)).json()["journey"]
    assert {s["key"]: s["status"] for s in steps}["documents"] == "done"
    masked = id_number[:6] + "********" + id_number[-4:]
    for text in texts.values():
        assert masked in text and id_number not in text
        assert me["ticket_number"] in text and "普通逻辑" in text
    assert "报考回执单" in texts["receipt"] and "90.00" in texts["receipt"]
    # Paid just now: printed in Beijing time, eight hours ahead of the stored UTC.
    from rules import beijing

    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        paid_at = session.scalar(select(Order.paid_at).where(Order.id == order["id"]))
    assert f"{beijing.seconds(paid_at)}（北京时间）" in texts["receipt"].replace("\n", "")
    assert "UTC" not in texts["receipt"]
    assert "准考证" in texts["ticket"] and "第001考场" in texts["ticket"]
    assert (
        "座位号 01" in texts["ticket"] and "签发机构：新疆维吾尔自治区教育考试院" in texts["ticket"]
    )
    assert "09:00-11:30" in texts["ticket"]
    # The door check: the QR code printed on the ticket opens the office's page, valid.
    url = next(filter(None, map(read_qr, ticket_images)))
    assert "/verify/ticket?c=" in url and id_number not in url
    checked = client.get("/" + url.split("://", 1)[1].split("/", 1)[1])
    assert "准考证有效" in checked.text and me["ticket_number"] in checked.text
    assert "第001考场" not in checked.text and "<td id='room'>1</td>" in checked.text
    # A forged code (another seat, the same signature) is refused.
    payload, signature = url.split("c=", 1)[1].split(".")
    forged_payload = tickets._b64(tickets._unb64(payload).replace(b'"seat":1', b'"seat":9'))
    forged = client.get(f"/verify/ticket?c={forged_payload}.{signature}")
    assert "准考证无效" in forged.text
    # The same check from the command line, for a door without the page.
    import os
    import subprocess
    import sys

    env = {**os.environ, "DATA_DIR": str(client.app.state.settings.DATA_DIR)}  # type: ignore[attr-defined]
    command = [sys.executable, "-m", "backend_stub", "verify-ticket"]
    ok = subprocess.run([*command, url], env=env, capture_output=True, text=True)
    assert ok.returncode == 0 and "有效" in ok.stdout and "第001考场 01号座位" in ok.stdout
    bad = subprocess.run(
        [*command, f"{forged_payload}.{signature}"], env=env, capture_output=True, text=True
    )
    assert bad.returncode == 1 and "无效" in bad.stderr


def read_qr(image: bytes) -> str:
    import cv2
    import numpy as np

    decoded = cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_COLOR)
    text, _points, _ = cv2.QRCodeDetectorAruco().detectAndDecode(decoded)
    return text


def test_someone_elses_order_is_not_found(client: TestClient) -> None:
    _token, order = ordered(client)
    stranger = verified(client)["token"]
    for method, suffix in (
        ("get", ""),
        ("post", "/cancel"),
        ("post", "/payment"),
        ("post", "/query"),
    ):
        response = getattr(client, method)(
            f"/api/orders/{order['id']}{suffix}", headers=auth(stranger)
        )
        assert response.status_code == 404 and response.json()["code"] == "order_not_found"


def test_1000_candidates_racing_for_the_last_50_seats_get_exactly_50(
    make_client: AppFactory,
) -> None:
    """The seat is taken by a conditional UPDATE in the order's transaction: concurrent
    confirmations on one database never take more seats than the site has."""
    client = make_client()
    app = client.app
    db = app.state.db  # type: ignore[attr-defined]
    with db.sessionmaker() as session:
        catalog.seed_demo(session)
        exam = session.scalar(select(ExamSession))
        site = session.scalar(select(ExamSite).where(ExamSite.code == "650103"))
        major = session.scalar(select(Major).where(Major.code == CS))
        site.reserved = site.capacity - 50
        candidate_ids = verified_candidates(session, 1000)
        session.add_all(
            Enrollment(
                candidate_id=cid,
                session_id=exam.id,
                site_id=site.id,
                major_id=major.id,
                course_codes=["00024"],
            )
            for cid in candidate_ids
        )
        session.commit()
        exam_id, site_id_ = exam.id, site.id
    settings: Settings = app.state.settings  # type: ignore[attr-defined]

    def confirm(cid: int) -> str:
        with db.sessionmaker() as session:
            candidate = session.get(Candidate, cid)
            exam = session.get(ExamSession, exam_id)
            try:
                orders.place_order(session, candidate, exam, settings)
            except DomainError as exc:
                return exc.code
            return "ok"

    start = threading.Barrier(16)

    def worker(ids: list[int]) -> list[str]:
        start.wait()
        return [confirm(cid) for cid in ids]

    with ThreadPoolExecutor(16) as pool:
        results = [
            r
            for chunk in pool.map(worker, [candidate_ids[i::16] for i in range(16)])
            for r in chunk
        ]
    assert results.count("ok") == 50
    assert results.count("site_full") == 950
    with db.sessionmaker() as session:
        site = session.get(ExamSite, site_id_)
        assert site.reserved == site.capacity
        assert session.scalar(select(func.count(Order.id)).where(Order.status == "pending")) == 50


def test_the_exam_office_imports_its_plan_from_csv(client: TestClient) -> None:
    sites = "code,district,county,name,address,capacity\nA1,6501,天山区,一中,地址,10\n"
    courses = (
        ",".join(catalog.COURSE_COLUMNS)
        + "\n080901,计算机,本科,新疆大学,否,00024,普通逻辑,理论,,2027-10-17,上午,35\n"
    )
    plan = catalog.parse_plan(sites, courses)
    assert plan.courses["00024"]["fee_fen"] == 3500
    bad_sites = sites + "A2,9999,某区,二中,地址,10\nA3,6501,某区,三中,地址,-1\n"
    bad_courses = courses + "080901,计算机,本科,新疆大学,否,00019,实践,实践,,2027-10-17,下午,35\n"
    bad_courses += "080901,计算机,本科,新疆大学,否,00031,心理学,理论,,2027-13-01,上午,35\n"
    with pytest.raises(catalog.PlanError) as error:
        catalog.parse_plan(bad_sites, bad_courses)
    assert [(f, line) for f, line, _ in error.value.problems] == [
        ("courses.csv", 3),
        ("courses.csv", 4),
        ("sites.csv", 3),
        ("sites.csv", 4),
    ]
    assert "未知的地州代码" in error.value.problems[2][2]
    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        now = utcnow()
        catalog.write_plan(
            session,
            plan,
            code="2027-10",
            name="2027年10月",
            opens_at=now,
            closes_at=now,
            tickets_from=now,
        )
        session.commit()
        assert session.scalar(select(func.count(ExamSession.id))) == 2
    assert json.loads(client.get("/api/catalog").content)["session"]["code"] == "2027-04"


def test_a_double_tap_on_pay_cannot_charge_twice(client: TestClient) -> None:
    """Two codes issued at once and both paid: the provider takes one payment per order."""
    token, order = ordered(client)
    start = threading.Barrier(2)
    with ThreadPoolExecutor(2) as pool:
        codes = [
            pool.submit(
                _at_once,
                start,
                client.post,
                f"/api/orders/{order['id']}/payment",
                headers=auth(token),
            )
            for _ in range(2)
        ]
        urls = [c.result().json()["code_url"] for c in codes]
    paths = ["/" + u.split("://", 1)[1].split("/", 1)[1] for u in urls]
    start = threading.Barrier(2)
    with ThreadPoolExecutor(2) as pool:
        pages = [
            pool.submit(_at_once, start, client.post, p, data={"action": "pay"}) for p in paths
        ]
        texts = [p.result().text for p in pages]
    assert sum("支付成功" in t for t in texts) == 1
    assert client.get(f"/api/orders/{order['id']}", headers=auth(token)).json()["status"] == "paid"
    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        assert (
            session.scalar(
                select(func.count(SandboxTrade.id)).where(SandboxTrade.status == "TRADE_SUCCESS")
            )
            == 1
        )
    assert all(outcome != "refund_due" for outcome, _ in notices(client))


def test_the_import_command_reports_bad_rows_and_imports_nothing(tmp_path: Any) -> None:
    import subprocess
    import sys

    sites = tmp_path / "sites.csv"
    courses = tmp_path / "courses.csv"
    sites.write_text(
        "code,district,county,name,address,capacity\nA1,6501,天山区,一中,地址,10\n"
        "A2,9999,某区,二中,地址,10\n",
        encoding="utf-8",
    )
    courses.write_text(
        ",".join(catalog.COURSE_COLUMNS)
        + "\n080901,计算机,本科,新疆大学,否,00024,普通逻辑,理论,,2027-10-17,上午,35\n",
        encoding="utf-8",
    )
    command = [
        sys.executable,
        "-m",
        "backend_stub",
        "import-plan",
        str(sites),
        str(courses),
        *("--code", "2027-10", "--name", "2027年10月", "--opens", "2027-08-01"),
        *("--closes", "2027-08-15", "--tickets", "2027-10-08"),
    ]
    env = {"DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    refused = subprocess.run(command, capture_output=True, text=True, env=env)
    assert refused.returncode == 1
    assert "sites.csv 第3行：未知的地州代码 9999" in refused.stderr
    sites.write_text(sites.read_text(encoding="utf-8").replace("9999", "6502"), encoding="utf-8")
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert "2 个考点，1 个专业，1 门课程" in done.stdout


def test_a_same_phone_payment_opens_the_cashier_and_leads_back_to_the_app(
    make_client: AppFactory,
) -> None:
    client = make_client(APP_RETURN_URL="https://app.example.cn/pay")
    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        catalog.seed_demo(session)
    token, order = ordered(client)
    qr = client.post(f"/api/orders/{order['id']}/payment", headers=auth(token)).json()
    here = client.post(
        f"/api/orders/{order['id']}/payment", json={"channel": "h5"}, headers=auth(token)
    ).json()
    assert qr["channel"] == "qr" and here["channel"] == "h5"
    assert here["code_url"].endswith("?via=h5")
    path = "/" + here["code_url"].split("://", 1)[1].split("/", 1)[1]
    page = client.get(path).text
    assert "?via=h5" in page  # the form keeps the channel
    # The QR code issued before stopped working: one open trade at a time.
    qr_path = "/" + qr["code_url"].split("://", 1)[1].split("/", 1)[1]
    assert "二维码已失效" in client.get(qr_path).text
    paid = client.post(path, data={"action": "pay"}).text
    assert "支付成功" in paid and "href='https://app.example.cn/pay'" in paid
    # The way back is configured, never taken from the request.
    assert (
        "evil"
        not in client.post(path + "&return=https://evil.example", data={"action": "pay"}).text
    )
    status = client.get(f"/api/orders/{order['id']}", headers=auth(token)).json()["status"]
    assert status == "paid"
