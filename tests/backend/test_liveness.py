"""The live check through the API: challenges, uploads, verdicts, three failures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import update

from backend_stub.db import utcnow
from backend_stub.domain.liveness import make_digits
from backend_stub.models import LiveChallenge
from tests.backend.conftest import AppFactory
from tests.backend.factories import auth, card_photo, confirmable_fields, make_candidate
from tests.support import clips
from verification.synth.portrait import FACES


@pytest.fixture
def client(make_client: AppFactory) -> TestClient:
    return make_client(VERIFY_WORKERS=0)


def candidate_with_card(client: TestClient, portrait: Image.Image) -> dict:
    candidate = make_candidate(client, name="李明")
    front = card_photo(name="李明", id_number=candidate["id_number"], portrait=portrait)
    reading = client.post(
        "/api/idcard",
        files={"front": ("c.jpg", front, "image/jpeg")},
        headers=auth(candidate["token"]),
    ).json()
    confirmed = client.post(
        f"/api/idcard/{reading['id']}/confirm",
        json=confirmable_fields(reading["result"]),
        headers=auth(candidate["token"]),
    )
    assert confirmed.status_code == 200, confirmed.text
    return candidate


def challenge(client: TestClient, token: str) -> dict:
    response = client.post("/api/liveness/challenge", headers=auth(token))
    assert response.status_code == 201, response.text
    return response.json()


def upload(client: TestClient, token: str, challenge_id: int, data: bytes, name: str = "v.mp4"):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/liveness/{challenge_id}/video",
        files={"video": (name, data, "video/mp4")},
        headers=auth(token),
    )


def journey(client: TestClient, token: str) -> dict[str, str]:
    me = client.get("/api/me", headers=auth(token)).json()
    return {s["key"]: s["status"] for s in me["journey"]}


def test_the_genuine_clip_waits_for_a_person_when_no_speech_model_is_configured(
    client: TestClient,
) -> None:
    candidate = candidate_with_card(client, clips.talking_portrait())
    token = candidate["token"]
    issued = challenge(client, token)
    assert len(issued["digits"]) == 4 and issued["attempts_left"] == 3
    response = upload(client, token, issued["id"], clips.talking())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["verdict"] == "review"
    assert [r["code"] for r in body["reasons"]] == ["digits_unverified"]
    assert body["measurements"]["face_distance"] < 0.6
    state = client.get("/api/liveness", headers=auth(token)).json()
    assert state["status"] == "review" and "人工审核" in state["message"]
    # The candidate has done their part; a person decides: shown as waiting, not done.
    assert journey(client, token)["liveness"] == "waiting"
    again = client.post("/api/liveness/challenge", headers=auth(token))
    assert again.status_code == 409 and again.json()["code"] == "liveness_review"


def test_the_genuine_clip_passes_when_the_speech_model_hears_the_digits(
    make_client: AppFactory,
) -> None:
    from verification.speech import BUNDLED_MODEL_DIR

    client = make_client(VERIFY_WORKERS=0, ASR_MODEL_DIR=str(BUNDLED_MODEL_DIR))
    candidate = candidate_with_card(client, clips.talking_portrait())
    token = candidate["token"]
    issued = challenge(client, token)
    # The clip reads clips.DIGITS: issue those (the server's own digits are random).
    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        session.execute(
            update(LiveChallenge)
            .where(LiveChallenge.id == issued["id"])
            .values(digits=clips.DIGITS)
        )
        session.commit()
    body = upload(client, token, issued["id"], clips.talking()).json()
    assert body["verdict"] == "pass", body["reasons"]
    assert body["measurements"]["digits_heard"] == clips.DIGITS
    assert body["measurements"]["recogniser"] == "whisper:faster-whisper-base"
    assert client.get("/api/liveness", headers=auth(token)).json()["status"] == "passed"
    assert journey(client, token)["liveness"] == "done"


def test_three_failures_mean_confirmation_on_site(client: TestClient) -> None:
    candidate = candidate_with_card(client, Image.open(FACES / "obama.jpg"))
    token = candidate["token"]
    expected = [("no_mouth_movement", clips.still_photo()), ("no_speech", clips.silent())]
    expected.append(("face_mismatch", clips.talking()))
    for left, (code, data) in zip((3, 2, 1), expected, strict=True):
        issued = challenge(client, token)
        assert issued["attempts_left"] == left
        body = upload(client, token, issued["id"], data).json()
        assert body["verdict"] == "fail"
        assert code in [r["code"] for r in body["reasons"]]
        assert all(r["message"] for r in body["reasons"])
    state = client.get("/api/liveness", headers=auth(token)).json()
    assert state["status"] == "on_site" and state["attempts_left"] == 0
    assert "现场确认" in state["message"]
    refused = client.post("/api/liveness/challenge", headers=auth(token))
    assert refused.status_code == 409 and refused.json()["code"] == "liveness_on_site"
    assert journey(client, token)["liveness"] == "current"


def test_a_challenge_is_used_once_and_expires(client: TestClient) -> None:
    candidate = candidate_with_card(client, Image.open(FACES / "obama.jpg"))
    token = candidate["token"]
    issued = challenge(client, token)
    assert upload(client, token, issued["id"], clips.still_photo()).status_code == 201
    reused = upload(client, token, issued["id"], clips.still_photo())
    assert reused.status_code == 409 and reused.json()["code"] == "challenge_used"

    late = challenge(client, token)
    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        session.execute(
            update(LiveChallenge)
            .where(LiveChallenge.id == late["id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        session.commit()
    expired = upload(client, token, late["id"], clips.still_photo())
    assert expired.status_code == 409 and expired.json()["code"] == "challenge_expired"
    # Neither refusal cost an attempt.
    assert client.get("/api/liveness", headers=auth(token)).json()["attempts_left"] == 2


def test_a_broken_upload_costs_nothing_and_the_digits_stay_valid(client: TestClient) -> None:
    candidate = candidate_with_card(client, Image.open(FACES / "obama.jpg"))
    token = candidate["token"]
    issued = challenge(client, token)
    broken = upload(client, token, issued["id"], clips.talking()[:4000])
    assert broken.status_code == 422
    assert broken.json()["code"] in ("video_unreadable", "video_too_short")
    assert client.get("/api/liveness", headers=auth(token)).json()["attempts"] == []
    assert upload(client, token, issued["id"], clips.still_photo()).status_code == 201


def test_size_limit_and_other_candidates_challenges(make_client: AppFactory) -> None:
    client = make_client(VERIFY_WORKERS=0, LIVE_MAX_VIDEO_BYTES=100_000)
    owner = candidate_with_card(client, Image.open(FACES / "obama.jpg"))
    issued = challenge(client, owner["token"])
    big = upload(client, owner["token"], issued["id"], clips.talking())
    assert big.status_code == 413 and big.json()["code"] == "video_too_large"
    stranger = make_candidate(client)
    foreign = upload(client, stranger["token"], issued["id"], b"x" * 2000)
    assert foreign.status_code == 404 and foreign.json()["code"] == "challenge_not_found"


def test_no_challenge_before_the_id_card(client: TestClient) -> None:
    candidate = make_candidate(client)
    response = client.post("/api/liveness/challenge", headers=auth(candidate["token"]))
    assert response.status_code == 409 and response.json()["code"] == "idcard_required"


def test_digits_are_easy_to_read() -> None:
    for _ in range(500):
        digits = make_digits(4)
        assert len(digits) == 4 and digits.isdigit()
        assert all(a != b for a, b in zip(digits, digits[1:], strict=False))
        assert max(digits.count(d) for d in digits) < 3


def test_the_office_sees_the_passive_signals_and_three_frames_the_candidate_does_not(
    client: TestClient,
) -> None:
    from backend_stub import catalog
    from backend_stub.models import Candidate
    from tests.backend.test_review import add_staff, console

    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        catalog.seed_demo(session)
    candidate = candidate_with_card(client, clips.talking_portrait())
    issued = challenge(client, candidate["token"])
    body = upload(client, candidate["token"], issued["id"], clips.talking()).json()
    m = body["measurements"]
    assert {"deformation", "upper_change", "lip_sync", "repeated_frames"} <= set(m)
    assert "stills" not in m  # the storage keys stay on the server
    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        db_id = session.query(Candidate.id).filter_by(id_number=candidate["id_number"]).scalar()
        district = session.get(Candidate, db_id).exam_district
    add_staff(client, "live-desk", districts=(district,))
    desk = console(client, "live-desk")
    page = desk.get(f"/office/candidates/{db_id}").text
    assert "面部立体形变" in page and "上半脸变化" in page and "口型同步" in page
    for name in ("face", "mouth_open", "mouth_closed"):
        link = f"/office/candidates/{db_id}/media/still-{name}/{body['id']}"
        assert link in page
        frame = desk.get(link)
        assert frame.status_code == 200 and frame.content[:2] == b"\xff\xd8"
    # Not for the candidate, nor for a frame name that is not one of the three.
    stranger = client.get(
        f"/office/candidates/{db_id}/media/still-face/{body['id']}", follow_redirects=False
    )
    assert stranger.status_code in (303, 401)
    assert desk.get(f"/office/candidates/{db_id}/media/still-other/{body['id']}").status_code == 404
