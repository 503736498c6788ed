"""Small factories: valid candidates, codes and payloads, unique per call."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from fastapi.testclient import TestClient

from backend_stub.models import StudentRecord
from rules.idnumber import make

_seq = itertools.count(1)


def unique_phone() -> str:
    return f"139{next(_seq):08d}"


def unique_id_number(*, division: str = "650102", female: bool = False) -> str:
    n = next(_seq)
    birth = dt.date(1990, 1, 1) + dt.timedelta(days=n * 37 % 9000)
    order = (n * 2 % 998) + (0 if female else 1)
    return make(division, birth, order)


def sms_code(client: TestClient, phone: str, purpose: str = "register", **extra: Any) -> str:
    response = client.post("/api/sms/codes", json={"phone": phone, "purpose": purpose, **extra})
    assert response.status_code == 202, response.text
    latest = client.post("/api/sandbox/sms/latest", json={"phone": phone})
    assert latest.status_code == 200, latest.text
    return latest.json()["code"]


def new_student(**overrides: Any) -> dict[str, Any]:
    """A valid 新生 registration body (without the SMS code)."""
    body: dict[str, Any] = {
        "name": "张三",
        "id_number": unique_id_number(),
        "phone": unique_phone(),
        "password": "secret123",
        "exam_district": "6501",
        "ethnicity": "汉族",
        "political_status": "群众",
        "education": "高中",
        "occupation": "学生",
        "hukou": "城镇",
        "email": "zhangsan@example.com",
    }
    body.update(overrides)
    return body


def make_candidate(client: TestClient, **overrides: Any) -> dict[str, Any]:
    """Register a new student through the API; returns the body plus `token`."""
    body = new_student(**overrides)
    body["sms_code"] = sms_code(client, body["phone"])
    response = client.post("/api/accounts/new", json=body)
    assert response.status_code == 201, response.text
    return {**body, "token": response.json()["token"]}


def make_student_record(client: TestClient, **overrides: Any) -> StudentRecord:
    """An existing student (考籍) as the exam office would have it."""
    values: dict[str, Any] = {
        "ticket_number": f"0101{next(_seq):08d}",
        "id_number": unique_id_number(),
        "name": "李四",
        "exam_district": "6502",
    }
    values.update(overrides)
    record = StudentRecord(**values)
    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        session.add(record)
        session.commit()
    return record


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def card_photo(
    *, name: str, id_number: str, seed: int = 1, degradation: str = "clean", portrait: Any = None
) -> bytes:
    """A phone photo of an ID card printed with this name and number (JPEG bytes)."""
    import random

    from rules.idnumber import parse
    from verification.synth import idcard as synth

    rng = random.Random(seed)
    info = parse(id_number)
    fields = synth.CardFields(
        name=name,
        sex=info.sex,
        ethnicity="汉",
        birth=info.birth_date,
        address="新疆维吾尔自治区乌鲁木齐市天山区人民路12号",
        id_number=info.number,
    )
    card = synth.render_card(fields, rng=rng, portrait=portrait)
    return synth.jpeg_bytes(synth.photograph(card, rng=rng, degradation=degradation))


def confirmable_fields(result: dict[str, Any]) -> dict[str, Any]:
    """The fields of an ID-card reading as the app offers them for confirmation: what OCR
    missed of sex and birth date comes from the number (the candidate checks it)."""
    fields = dict(result["fields"])
    fields["sex"] = fields["sex"] or result["id_check"]["sex_from_id"]
    fields["birth"] = fields["birth"] or result["id_check"]["birth_from_id"]
    return fields


def add_identity(
    session: Any, candidate_ids: list[int], photo_key: str, *, review: str | None = "approved"
) -> None:
    """A confirmed ID card, a passed live check and an accepted photo for each candidate,
    and (unless `review` is None) a review in that state: what the identity screens and
    the exam office leave behind (they have their own tests)."""
    from backend_stub.db import utcnow
    from backend_stub.models import (
        IdCardSubmission,
        LiveAttempt,
        LiveChallenge,
        Review,
        StandardPhoto,
    )

    now = utcnow()
    challenges = [
        LiveChallenge(candidate_id=cid, digits="3729", created_at=now, expires_at=now, used_at=now)
        for cid in candidate_ids
    ]
    session.add_all(challenges)
    session.flush()
    for cid, challenge in zip(candidate_ids, challenges, strict=True):
        session.add_all(
            [
                IdCardSubmission(
                    candidate_id=cid,
                    front_key="none",
                    result={},
                    confirmed_fields={},
                    confirmed_at=now,
                ),
                LiveAttempt(
                    candidate_id=cid,
                    challenge_id=challenge.id,
                    video_key="none",
                    verdict="pass",
                    reasons=[],
                    measurements={},
                ),
                StandardPhoto(
                    candidate_id=cid,
                    profile="hubei",
                    key=photo_key,
                    measurements={},
                    face_distance=0.3,
                    face_verdict="match",
                ),
            ]
        )
        if review is not None:
            session.add(
                Review(
                    candidate_id=cid,
                    status=review,
                    submitted_at=now,
                    decided_at=None if review == "pending" else now,
                    parts=[],
                )
            )


def verify_identity(client: TestClient, id_number: str, *, review: str | None = "approved") -> None:
    """Give this candidate a verified identity, with a real standard photo on file (and a
    review in state `review`)."""
    import io

    from PIL import Image
    from sqlalchemy import select

    from backend_stub.models import Candidate

    app: Any = client.app
    buffer = io.BytesIO()
    Image.new("RGB", (480, 640), (60, 120, 220)).save(buffer, "JPEG", quality=90)
    with app.state.db.sessionmaker() as session:
        candidate = session.scalar(select(Candidate).where(Candidate.id_number == id_number))
        key = app.state.media.put(candidate.id, "photo", buffer.getvalue(), suffix=".jpg")
        add_identity(session, [candidate.id], key, review=review)
        session.commit()


def verified_candidates(session: Any, count: int) -> list[int]:
    """`count` verified candidates written straight to the database (for load tests)."""
    from backend_stub.models import Candidate

    candidates = [
        Candidate(
            id_number=unique_id_number(),
            name="考生",
            kind="new",
            phone=unique_phone(),
            password_hash="-",
            exam_district="6501",
        )
        for _ in range(count)
    ]
    session.add_all(candidates)
    session.flush()
    add_identity(session, [c.id for c in candidates], "none")
    session.flush()
    return [c.id for c in candidates]


def proof_pdf(text: str = "Nurse licence") -> bytes:
    """A real one-page PDF, as a candidate's scanner or phone would export it."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=14)
    pdf.cell(text=text)
    return bytes(pdf.output())


def add_live_attempt(
    client: TestClient,
    candidate_id: int,
    verdict: str = "fail",
    measurements: dict[str, Any] | None = None,
) -> None:
    """A live-check attempt as the API leaves one behind (its clip is not needed)."""
    from backend_stub.db import utcnow
    from backend_stub.models import LiveAttempt, LiveChallenge

    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        now = utcnow()
        challenge = LiveChallenge(
            candidate_id=candidate_id, digits="3729", expires_at=now, used_at=now
        )
        session.add(challenge)
        session.flush()
        session.add(
            LiveAttempt(
                candidate_id=candidate_id,
                challenge_id=challenge.id,
                video_key="",
                verdict=verdict,
                reasons=[],
                measurements=measurements or {},
            )
        )
        session.commit()


def read_card(client: TestClient, token: str, *, name: str, id_number: str) -> dict[str, Any]:
    """Upload a photo of a card printed with this name and number; returns the reading."""
    front = card_photo(name=name, id_number=id_number)
    response = client.post(
        "/api/idcard", files={"front": ("c.jpg", front, "image/jpeg")}, headers=auth(token)
    )
    assert response.status_code == 201, response.text
    return response.json()
