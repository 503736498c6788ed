"""资格审核: staff accounts, the console, decisions, locking and the audit log."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from backend_stub import catalog
from backend_stub.models import AuditEntry, Candidate, Staff
from backend_stub.security import hash_password
from tests.backend.conftest import AppFactory
from tests.backend.factories import (
    add_live_attempt,
    auth,
    make_candidate,
    proof_pdf,
    verify_identity,
)

PASSWORD = "审核密码-2026-long"


@pytest.fixture
def client(make_client: AppFactory) -> TestClient:
    client = make_client()
    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        catalog.seed_demo(session)
    return client


def add_staff(
    client: TestClient, username: str, *, role: str = "reviewer", districts=("6501",)
) -> None:  # type: ignore[no-untyped-def]
    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        session.add(
            Staff(
                username=username,
                name=f"{username}老师",
                role=role,
                districts=list(districts),
                password_hash=hash_password(PASSWORD),
            )
        )
        session.commit()


def console(client: TestClient, username: str) -> TestClient:
    """A separate browser (its own cookies) logged in to the console."""
    desk = TestClient(client.app, follow_redirects=False)
    response = desk.post("/office/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 303 and response.headers["location"] == "/office"
    return desk


def submitted(client: TestClient, district: str = "6501") -> dict[str, Any]:
    candidate = make_candidate(client, exam_district=district)
    verify_identity(client, candidate["id_number"], review=None)
    response = client.post("/api/review", headers=auth(candidate["token"]))
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "pending"
    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        candidate["db_id"] = session.scalar(
            select(Candidate.id).where(Candidate.id_number == candidate["id_number"])
        )
    return candidate


def csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "no form on the page"
    return found.group(1)


def decide(desk: TestClient, candidate_id: int, **form: Any):  # type: ignore[no-untyped-def]
    """A decision, confirmed on the page that asks for it once more."""
    page = desk.get(f"/office/candidates/{candidate_id}").text
    return desk.post(
        f"/office/candidates/{candidate_id}/decision",
        data={"csrf": csrf(page), "confirm": "yes", **form},
    )


def audit(client: TestClient, candidate_id: int) -> list[str]:
    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        return list(
            session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.candidate_id == candidate_id)
                .order_by(AuditEntry.id)
            )
        )


def test_the_console_needs_a_login_and_a_right_password(client: TestClient) -> None:
    add_staff(client, "li")
    desk = TestClient(client.app, follow_redirects=False)
    assert desk.get("/office").headers["location"] == "/office/login"
    wrong = desk.post("/office/login", data={"username": "li", "password": "guess"})
    assert wrong.headers["location"] == "/office/login?error=1"
    nobody = desk.post("/office/login", data={"username": "nobody", "password": PASSWORD})
    assert nobody.headers["location"] == "/office/login?error=1"  # the same answer
    assert desk.get("/office").status_code == 303


def test_a_submission_waits_in_the_queue_and_nothing_can_change_meanwhile(
    client: TestClient,
) -> None:
    add_staff(client, "li")
    candidate = submitted(client)
    queue = console(client, "li").get("/office").text
    assert candidate["name"] in queue and candidate["id_number"] not in queue
    assert candidate["id_number"][:6] + "********" in queue
    refused = client.patch(
        "/api/me", json={"email": "li@example.com"}, headers=auth(candidate["token"])
    )
    assert refused.status_code == 409 and refused.json()["code"] == "review_pending"
    again = client.post("/api/review", headers=auth(candidate["token"]))
    assert again.status_code == 409 and again.json()["code"] == "review_pending"
    journey = {
        s["key"]: s
        for s in client.get("/api/me", headers=auth(candidate["token"])).json()["journey"]
    }
    assert journey["review"]["status"] == "current" and "审核中" in journey["review"]["detail"]


def test_submitting_needs_the_identity_steps(client: TestClient) -> None:
    token = make_candidate(client)["token"]
    response = client.post("/api/review", headers=auth(token))
    assert response.status_code == 409 and response.json()["code"] == "identity_incomplete"
    state = client.get("/api/me", headers=auth(token)).json()["review"]
    assert state["identity_complete"] is False and "完成身份证识别" in state["message"]


def test_a_complete_identity_is_asked_to_submit_not_to_complete(client: TestClient) -> None:
    candidate = make_candidate(client)
    verify_identity(client, candidate["id_number"], review=None)
    state = client.get("/api/me", headers=auth(candidate["token"])).json()["review"]
    assert state["identity_complete"] is True
    assert state["message"] == "身份证识别、人脸识别和证件照已完成，请提交资格审核。"


def test_reviewers_see_only_their_districts(client: TestClient) -> None:
    add_staff(client, "li", districts=("6501",))
    add_staff(client, "admin", role="admin", districts=())
    elsewhere = submitted(client, district="6531")
    desk = console(client, "li")
    assert elsewhere["name"] not in desk.get("/office").text
    refused = desk.get(f"/office/candidates/{elsewhere['db_id']}")
    assert refused.status_code == 404 and "不在您负责的地区" in refused.text
    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        assert (
            session.scalar(select(AuditEntry.detail).where(AuditEntry.action == "denied"))
            == f"candidate {elsewhere['db_id']}"
        )
    assert desk.get(f"/office/candidates/{elsewhere['db_id']}/media/photo/1").status_code == 404
    assert (
        console(client, "admin").get(f"/office/candidates/{elsewhere['db_id']}").status_code == 200
    )


def test_reject_with_a_reason_resubmit_what_was_rejected_then_approve_and_lock(
    client: TestClient,
) -> None:
    add_staff(client, "li")
    candidate = submitted(client)
    token, cid = candidate["token"], candidate["db_id"]
    desk = console(client, "li")
    page = desk.get(f"/office/candidates/{cid}").text
    assert "身份证" in page and "证件照" in page and "人脸识别" in page
    photo_url = re.search(r'src="(/office/candidates/\d+/media/photo/\d+)"', page)
    assert photo_url and desk.get(photo_url.group(1)).content[:2] == b"\xff\xd8"

    missing = decide(desk, cid, action="reject", reason_code="photo_noncompliant")
    assert missing.status_code == 422  # which part to redo must be said
    rejected = decide(
        desk,
        cid,
        action="reject",
        reason_code="photo_noncompliant",
        reason_text="背景不是蓝色",
        parts=["photo"],
    )
    assert rejected.status_code == 303
    state = client.get("/api/review", headers=auth(token)).json()
    assert state["status"] == "rejected" and state["parts"] == ["photo"]
    assert state["reason"] == "证件照不符合要求：背景不是蓝色"

    # Only the rejected part can change, and it must change before resubmitting.
    other = client.patch("/api/me", json={"email": "li@example.com"}, headers=auth(token))
    assert other.status_code == 409 and other.json()["code"] == "part_not_rejected"
    early = client.post("/api/review", headers=auth(token))
    assert early.status_code == 409 and early.json()["code"] == "rejected_parts_unchanged"
    verify_identity(client, candidate["id_number"], review=None)  # a new photo on file
    assert client.post("/api/review", headers=auth(token)).json()["status"] == "pending"

    assert decide(desk, cid, action="approve").status_code == 303
    assert client.get("/api/review", headers=auth(token)).json()["status"] == "approved"
    locked = client.patch("/api/me", json={"email": "li@example.com"}, headers=auth(token))
    assert locked.status_code == 409 and locked.json()["code"] == "identity_locked"
    challenge = client.post("/api/liveness/challenge", headers=auth(token))
    assert challenge.json()["code"] == "identity_locked"
    assert audit(client, cid) == [
        "view",
        "view_media",
        "view",
        "view",
        "reject",
        "view",
        "approve",
    ]


def test_only_an_administrator_unlocks_and_says_why(client: TestClient) -> None:
    add_staff(client, "li")
    add_staff(client, "admin", role="admin", districts=())
    candidate = submitted(client)
    cid = candidate["db_id"]
    reviewer = console(client, "li")
    decide(reviewer, cid, action="approve")
    page = reviewer.get(f"/office/candidates/{cid}").text
    assert "解锁" not in page
    refused = reviewer.post(
        f"/office/candidates/{cid}/unlock", data={"csrf": csrf_of(reviewer, cid), "reason": "x"}
    )
    assert refused.status_code in (403, 422)
    admin = console(client, "admin")
    no_token = admin.post(
        f"/office/candidates/{cid}/unlock", data={"csrf": "forged", "reason": "考生改名"}
    )
    assert no_token.status_code == 403
    done = admin.post(
        f"/office/candidates/{cid}/unlock",
        data={
            "csrf": csrf(admin.get(f"/office/candidates/{cid}").text),
            "reason": "考生已改名，需更新身份证",
            "confirm": "yes",
        },
    )
    assert done.status_code == 303
    token = candidate["token"]
    assert client.get("/api/review", headers=auth(token)).json()["status"] == "unlocked"
    assert (
        client.patch("/api/me", json={"email": "li@example.com"}, headers=auth(token)).status_code
        == 200
    )
    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        assert (
            session.scalar(select(AuditEntry.detail).where(AuditEntry.action == "unlock"))
            == "考生已改名，需更新身份证"
        )


def csrf_of(desk: TestClient, candidate_id: int) -> str:
    """A reviewer's CSRF token (from any form on the page)."""
    found = re.search(
        r'name="csrf" value="([^"]+)"', desk.get(f"/office/candidates/{candidate_id}").text
    )
    return found.group(1) if found else "none"


def test_on_site_confirmation_unlocks_the_journey_after_three_failures(client: TestClient) -> None:
    add_staff(client, "li")
    candidate = make_candidate(client)
    token = candidate["token"]
    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        cid = session.scalar(
            select(Candidate.id).where(Candidate.id_number == candidate["id_number"])
        )
    for _ in range(3):
        add_live_attempt(client, cid)
    assert client.get("/api/liveness", headers=auth(token)).json()["status"] == "on_site"
    desk = console(client, "li")
    page = desk.get(f"/office/candidates/{cid}").text
    assert "现场确认完成" in page
    response = desk.post(
        f"/office/candidates/{cid}/decision",
        data={"csrf": csrf(page), "action": "on_site", "confirm": "yes"},
    )
    assert response.status_code == 303
    assert client.get("/api/liveness", headers=auth(token)).json()["status"] == "passed"
    assert "on_site" in audit(client, cid)


def test_enrollment_waits_for_the_approval(client: TestClient) -> None:
    candidate = submitted(client)
    site = client.get("/api/catalog").json()["districts"][0]["sites"][0]["id"]
    response = client.put(
        "/api/enrollment",
        json={"site_id": site, "major_code": "080901", "course_codes": ["00024"]},
        headers=auth(candidate["token"]),
    )
    assert response.status_code == 409 and response.json()["steps"] == ["review"]


def test_the_staff_command_creates_accounts_without_default_passwords(tmp_path: Any) -> None:
    env = {"DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    base = [sys.executable, "-m", "backend_stub", "add-staff"]
    no_district = subprocess.run(
        [*base, "li", "--name", "李老师", "--password-stdin"],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        env=env,
    )
    assert no_district.returncode == 2 and "--districts" in no_district.stderr
    short = subprocess.run(
        [*base, "li", "--name", "李老师", "--districts", "6501", "--password-stdin"],
        input="short\n",
        capture_output=True,
        text=True,
        env=env,
    )
    assert short.returncode == 2 and "至少10位" in short.stderr
    made = subprocess.run(
        [*base, "li", "--name", "李老师", "--districts", "6501,6502", "--password-stdin"],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        env=env,
    )
    assert made.returncode == 0, made.stderr
    assert "已创建审核员 li" in made.stdout


def test_special_major_materials_are_reviewed_then_the_major_can_be_chosen(
    client: TestClient,
) -> None:
    add_staff(client, "li")
    candidate = make_candidate(client)
    token = candidate["token"]
    verify_identity(client, candidate["id_number"], review=None)
    headers = auth(token)
    not_special = client.post(
        "/api/materials",
        data={"major_code": "080901"},
        files={"file": ("a.pdf", b"%PDF-1.4 proof", "application/pdf")},
        headers=headers,
    )
    assert not_special.status_code == 422 and not_special.json()["code"] == "major_not_special"
    wrong_type = client.post(
        "/api/materials",
        data={"major_code": "100701"},
        files={"file": ("a.pdf", b"GIF89a....", "application/pdf")},
        headers=headers,
    )
    assert wrong_type.status_code == 415 and wrong_type.json()["code"] == "material_type"
    too_large = client.post(
        "/api/materials",
        data={"major_code": "100701"},
        files={"file": ("a.pdf", b"%PDF-" + b"0" * (5 * 1024 * 1024), "application/pdf")},
        headers=headers,
    )
    assert too_large.status_code == 413
    uploaded = client.post(
        "/api/materials",
        data={"major_code": "100701"},
        files={"file": ("护士资格证.pdf", proof_pdf(), "application/pdf")},
        headers=headers,
    )
    assert uploaded.status_code == 201 and uploaded.json()["content_type"] == "application/pdf"
    assert [m["major_code"] for m in client.get("/api/materials", headers=headers).json()] == [
        "100701"
    ]

    site = client.get("/api/catalog").json()["districts"][0]["sites"][0]["id"]
    nursing = {"site_id": site, "major_code": "100701", "course_codes": ["03179"]}
    client.post("/api/review", headers=headers)
    desk = console(client, "li")
    cid = submitted_id(client, candidate["id_number"])
    page = desk.get(f"/office/candidates/{cid}").text
    link = re.search(r'href="(/office/candidates/\d+/media/material/\d+)"', page)
    assert link and desk.get(link.group(1)).content.startswith(b"%PDF-")
    decide(desk, cid, action="approve")
    chosen = client.put("/api/enrollment", json=nursing, headers=headers)
    assert chosen.status_code == 200, chosen.text
    locked = client.post(
        "/api/materials",
        data={"major_code": "100701"},
        files={"file": ("b.pdf", b"%PDF-1.4 more", "application/pdf")},
        headers=headers,
    )
    assert locked.json()["code"] == "identity_locked"


def submitted_id(client: TestClient, id_number: str) -> int:
    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        return session.scalar(select(Candidate.id).where(Candidate.id_number == id_number))


def test_a_decision_is_asked_for_once_more_before_it_counts(client: TestClient) -> None:
    add_staff(client, "li")
    candidate = submitted(client)
    cid = candidate["db_id"]
    desk = console(client, "li")
    page = desk.get(f"/office/candidates/{cid}").text
    asked = desk.post(
        f"/office/candidates/{cid}/decision", data={"csrf": csrf(page), "action": "approve"}
    )
    assert asked.status_code == 200
    assert "确认审核通过" in asked.text and 'id="confirm"' in asked.text
    assert client.get("/api/review", headers=auth(candidate["token"])).json()["status"] == (
        "pending"
    )
    confirmed = desk.post(
        f"/office/candidates/{cid}/decision",
        data={"csrf": csrf(asked.text), "action": "approve", "confirm": "yes"},
    )
    assert confirmed.status_code == 303
    assert client.get("/api/review", headers=auth(candidate["token"])).json()["status"] == (
        "approved"
    )


def test_the_console_is_styled_and_shows_the_measured_mouth_movement(client: TestClient) -> None:
    add_staff(client, "li")
    css = client.get("/office/static/console.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    page = console(client, "li").get("/office")
    assert "/office/static/console.css" in page.text
    assert "'self'" in page.headers["content-security-policy"].split("style-src")[1]
    candidate = submitted(client)
    cid = candidate["db_id"]
    add_live_attempt(client, cid, measurements={"face_distance": 0.41, "mouth_movement": 0.137})
    evidence = console(client, "li").get(f"/office/candidates/{cid}").text
    assert "<td>0.137</td>" in evidence  # 口型变化, as measured


def test_the_queue_takes_the_same_queries_for_one_candidate_or_many(client: TestClient) -> None:
    from sqlalchemy import event

    add_staff(client, "li")
    desk = console(client, "li")
    engine = client.app.state.db.engine  # type: ignore[attr-defined]
    statements: list[str] = []

    def counted() -> int:
        statements.clear()
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert desk.get("/office").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(statements)

    submitted(client)
    one = counted()
    for _ in range(5):
        submitted(client)
    many = counted()
    assert many == one, statements
    assert desk.get("/office").text.count('class="candidate"') == 6
