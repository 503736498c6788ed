"""ID-card upload and confirmation through the API, with the real OCR engine."""

from __future__ import annotations

import datetime as dt
import io
import logging
import random
import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from backend_stub.models import IdCardSubmission
from tests.backend.conftest import AppFactory
from tests.backend.factories import auth, card_photo, confirmable_fields, make_candidate
from verification.synth import idcard as synth


@pytest.fixture
def client(make_client: AppFactory) -> TestClient:
    return make_client(VERIFY_WORKERS=0)


def upload(client: TestClient, token: str, front: bytes, back: bytes | None = None):  # type: ignore[no-untyped-def]
    files = {"front": ("card.jpg", front, "image/jpeg")}
    if back is not None:
        files["back"] = ("back.jpg", back, "image/jpeg")
    return client.post("/api/idcard", files=files, headers=auth(token))


def confirm_body(reading: dict, **overrides: object) -> dict:
    fields = confirmable_fields(reading["result"])
    fields.update(overrides)
    return fields


def test_a_card_is_read_stored_privately_and_confirmed(client: TestClient, tmp_path: Path) -> None:
    candidate = make_candidate(client, name="王建国")
    response = upload(
        client, candidate["token"], card_photo(name="王建国", id_number=candidate["id_number"])
    )
    assert response.status_code == 201, response.text
    reading = response.json()
    assert reading["result"]["fields"]["id_number"] == candidate["id_number"]
    assert reading["result"]["fields"]["name"] == "王建国"
    assert reading["account_match"] == {"name": True, "id_number": True}
    assert reading["confirmed"] is False

    with client.app.state.db.sessionmaker() as session:
        submission = session.get(IdCardSubmission, reading["id"])
        front = tmp_path / "media" / submission.front_key
        portrait = tmp_path / "media" / submission.portrait_key
    assert front.exists() and portrait.exists()
    assert stat.S_IMODE(front.stat().st_mode) == 0o600
    # The key names no personal data.
    assert candidate["id_number"] not in submission.front_key

    confirmed = client.post(
        f"/api/idcard/{reading['id']}/confirm",
        json=confirm_body(reading),
        headers=auth(candidate["token"]),
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["confirmed"] is True
    journey = client.get("/api/me", headers=auth(candidate["token"])).json()["journey"]
    assert [s["status"] for s in journey[:3]] == ["done", "done", "current"]
    latest = client.get("/api/idcard", headers=auth(candidate["token"])).json()
    assert latest["id"] == reading["id"] and latest["confirmed"]


def test_a_card_of_another_number_is_explained(client: TestClient) -> None:
    candidate = make_candidate(client, name="李娜")
    other = make_candidate(client, name="李娜")
    reading = upload(
        client, candidate["token"], card_photo(name="李娜", id_number=other["id_number"])
    ).json()
    assert reading["account_match"] == {"name": True, "id_number": False}
    response = client.post(
        f"/api/idcard/{reading['id']}/confirm",
        json=confirm_body(reading),
        headers=auth(candidate["token"]),
    )
    assert response.status_code == 409
    assert response.json()["code"] == "idcard_number_mismatch"
    assert "与注册账号不一致" in response.json()["message"]
    assert other["id_number"] not in response.text


def test_a_different_name_can_be_taken_from_the_card(client: TestClient) -> None:
    candidate = make_candidate(client, name="张三")
    reading = upload(
        client, candidate["token"], card_photo(name="张叁", id_number=candidate["id_number"])
    ).json()
    assert reading["account_match"]["name"] is False
    url = f"/api/idcard/{reading['id']}/confirm"
    refused = client.post(url, json=confirm_body(reading), headers=auth(candidate["token"]))
    assert refused.json()["code"] == "idcard_name_mismatch"
    accepted = client.post(
        url, json=confirm_body(reading, use_card_name=True), headers=auth(candidate["token"])
    )
    assert accepted.status_code == 200
    assert client.get("/api/me", headers=auth(candidate["token"])).json()["name"] == "张叁"


def test_confirmed_fields_must_agree_with_the_number(client: TestClient) -> None:
    candidate = make_candidate(client, name="赵六")
    reading = upload(
        client, candidate["token"], card_photo(name="赵六", id_number=candidate["id_number"])
    ).json()
    wrong_sex = "女" if reading["result"]["fields"]["sex"] == "男" else "男"
    response = client.post(
        f"/api/idcard/{reading['id']}/confirm",
        json=confirm_body(reading, sex=wrong_sex, birth="1901-01-01"),
        headers=auth(candidate["token"]),
    )
    assert response.status_code == 422
    assert response.json()["code"] == "idcard_fields_conflict"
    assert response.json()["fields"] == ["出生日期", "性别"]


def test_nobody_else_can_see_or_confirm_a_submission(client: TestClient) -> None:
    owner = make_candidate(client, name="孙七")
    intruder = make_candidate(client, name="周八")
    reading = upload(
        client, owner["token"], card_photo(name="孙七", id_number=owner["id_number"])
    ).json()
    response = client.post(
        f"/api/idcard/{reading['id']}/confirm",
        json=confirm_body(reading),
        headers=auth(intruder["token"]),
    )
    assert response.status_code == 404
    assert client.get("/api/idcard", headers=auth(intruder["token"])).status_code == 404
    # The straightened card the reader used: its owner sees it, nobody else does.
    crop = client.get(f"/api/idcard/{reading['id']}/crop", headers=auth(owner["token"]))
    assert crop.status_code == 200 and crop.headers["content-type"] == "image/jpeg"
    card = Image.open(io.BytesIO(crop.content))
    assert card.width == 640 and 1.4 < card.width / card.height < 1.8
    assert crop.headers["cache-control"] == "no-store"
    other = client.get(f"/api/idcard/{reading['id']}/crop", headers=auth(intruder["token"]))
    assert other.status_code == 404
    assert client.get(f"/api/idcard/{reading['id']}/crop").status_code == 401
    assert (
        client.post("/api/idcard", files={"front": ("a.jpg", b"x", "image/jpeg")}).status_code
        == 401
    )


def count_submissions(client: TestClient) -> int:
    with client.app.state.db.sessionmaker() as session:
        return session.scalar(select(func.count(IdCardSubmission.id))) or 0


@pytest.mark.parametrize(
    ("make", "status", "code"),
    [
        (lambda: b"%PDF-1.7 this is a document", 422, "image_unsupported_type"),
        (
            lambda: card_photo(name="钱九", id_number="11010519491231002X")[:20000],
            422,
            "image_truncated",
        ),
        (lambda: b"\xff\xd8\xff" + b"\x00" * (10 * 1024 * 1024 + 10), 413, "image_too_large"),
        (
            lambda: card_photo(
                name="钱九", id_number="11010519491231002X", degradation="heavy_glare", seed=3
            ),
            422,
            "glare_severe",
        ),
    ],
)
def test_bad_uploads_are_refused_and_nothing_is_stored(
    client: TestClient,
    tmp_path: Path,
    make,
    status: int,
    code: str,  # type: ignore[no-untyped-def]
) -> None:
    candidate = make_candidate(client)
    response = upload(client, candidate["token"], make())
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert response.json()["message"]
    assert count_submissions(client) == 0
    assert not any((tmp_path / "media").rglob("*.img"))


def test_the_emblem_side_is_refused_with_a_hint(client: TestClient) -> None:
    candidate = make_candidate(client)
    rng = random.Random(2)
    back = synth.render_back(
        rng=rng, issuer="喀什市公安局", valid_from=dt.date(2016, 1, 1), valid_until=None
    )
    response = upload(client, candidate["token"], synth.jpeg_bytes(synth.photograph(back, rng=rng)))
    assert response.status_code == 422
    assert response.json()["code"] == "emblem_side"


def test_an_empty_upload(client: TestClient) -> None:
    candidate = make_candidate(client)
    response = upload(client, candidate["token"], b"")
    assert response.json()["code"] == "image_empty"


def test_id_numbers_stay_out_of_the_logs(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    candidate = make_candidate(client, name="吴十")
    photo = card_photo(name="吴十", id_number=candidate["id_number"])
    assert upload(client, candidate["token"], photo).status_code == 201
    assert candidate["id_number"] not in caplog.text
    Image.open(io.BytesIO(photo)).verify()
