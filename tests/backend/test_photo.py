"""The standard photo through the API: check, fix, and accept only the ID card's person."""

from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.backend.conftest import AppFactory
from tests.backend.factories import auth, card_photo, confirmable_fields, make_candidate
from verification import photo
from verification.synth.portrait import FACES, photo_bytes

HUBEI = photo.profile("hubei")


@pytest.fixture
def client(make_client: AppFactory) -> TestClient:
    return make_client(VERIFY_WORKERS=0)


def candidate_with_idcard(client: TestClient, face: str = "biden2.jpg") -> dict:
    """A candidate whose confirmed ID card shows `face`."""
    candidate = make_candidate(client, name="王建国")
    front = card_photo(
        name="王建国", id_number=candidate["id_number"], portrait=Image.open(FACES / face)
    )
    reading = client.post(
        "/api/idcard",
        files={"front": ("c.jpg", front, "image/jpeg")},
        headers=auth(candidate["token"]),
    ).json()
    fields = confirmable_fields(reading["result"])
    confirmed = client.post(
        f"/api/idcard/{reading['id']}/confirm", json=fields, headers=auth(candidate["token"])
    )
    assert confirmed.status_code == 200, confirmed.text
    return candidate


def post(client: TestClient, path: str, token: str, data: bytes, **form: str):  # type: ignore[no-untyped-def]
    return client.post(
        path, files={"file": ("p.jpg", data, "image/jpeg")}, data=form, headers=auth(token)
    )


def test_the_id_cards_person_in_a_compliant_photo_is_accepted(client: TestClient) -> None:
    candidate = candidate_with_idcard(client)
    fixed = photo.fix(photo_bytes(1, face="biden.jpg"), HUBEI).jpeg
    checked = post(client, "/api/photo/check", candidate["token"], fixed).json()
    assert checked["ok"] and checked["face"]["match"]
    response = post(client, "/api/photo", candidate["token"], fixed)
    assert response.status_code == 201, response.text
    assert response.json()["face_verdict"] == "match"
    journey = {
        s["key"]: s["status"]
        for s in client.get("/api/me", headers=auth(candidate["token"])).json()["journey"]
    }
    assert journey["photo"] == "done"


def test_another_persons_photo_is_refused(client: TestClient) -> None:
    candidate = candidate_with_idcard(client, face="obama.jpg")
    fixed = photo.fix(photo_bytes(2, face="biden.jpg"), HUBEI).jpeg
    response = post(client, "/api/photo", candidate["token"], fixed)
    assert response.status_code == 422
    assert response.json()["code"] == "photo_face_mismatch"


def test_a_non_compliant_photo_lists_its_problems(client: TestClient) -> None:
    candidate = candidate_with_idcard(client)
    raw = photo_bytes(3, face="biden.jpg")
    checked = post(client, "/api/photo/check", candidate["token"], raw).json()
    assert not checked["ok"]
    assert {"wrong_dimensions", "file_too_large", "dpi_not_set"} <= {
        p["code"] for p in checked["problems"]
    }
    response = post(client, "/api/photo", candidate["token"], raw)
    assert response.json()["code"] == "photo_not_compliant"
    assert response.json()["message"].startswith("照片不符合要求")


def test_the_fix_endpoint_returns_a_compliant_photo(client: TestClient) -> None:
    candidate = make_candidate(client)
    body = post(
        client,
        "/api/photo/fix",
        candidate["token"],
        photo_bytes(4, background="white"),
        replace_background="true",
    ).json()
    assert body["report"]["background"].startswith("replaced")
    assert body["check"]["ok"], body["check"]
    assert photo.check(base64.b64decode(body["jpeg_base64"]), HUBEI).ok


def test_a_photo_needs_the_id_card_first(client: TestClient) -> None:
    candidate = make_candidate(client)
    response = post(client, "/api/photo", candidate["token"], photo.fix(photo_bytes(5), HUBEI).jpeg)
    assert response.status_code == 409
    assert response.json()["code"] == "idcard_required"


def test_bad_files_get_clear_errors(client: TestClient) -> None:
    candidate = make_candidate(client)
    response = post(client, "/api/photo/check", candidate["token"], b"GIF89a\x01\x00")
    assert response.status_code == 422
    assert response.json()["code"] == "image_unsupported_type"
