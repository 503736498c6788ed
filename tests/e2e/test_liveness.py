"""人脸识别, end to end: Chromium's fake camera films the talking person and its fake
microphone reads digits; the app records, uploads and shows the verdict."""

from __future__ import annotations

import wave
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Browser

from mobile import ids
from tests.backend.factories import card_photo
from tests.e2e.conftest import Servers, camera_browser, phone
from tests.e2e.test_accounts import confirmed_card_by_api, register_by_api, unique_id_number
from tests.support import clips
from verification.synth import clip

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def talking_camera(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    folder = tmp_path_factory.mktemp("camera")
    frames, fps = clip.talking_frames(4.0)
    sound = folder / "digits.wav"
    speech = clip.fit_audio(clip.digit_speech("3729", pause=0.3), 4.0)
    with wave.open(str(sound), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(clip.RATE)
        out.writeframes((np.clip(speech, -1, 1) * 32767).astype(np.int16).tobytes())
    images = [Image.fromarray(f) for f in frames]
    with camera_browser(images, folder, fps=fps, sound=sound) as browser:
        yield browser


def candidate_with_card(servers: Servers) -> tuple[str, dict[str, str]]:
    id_number = unique_id_number()
    register_by_api(servers, id_number=id_number, password="mima2026", name="李明")
    token = httpx.post(
        f"{servers.api_url}/api/auth/login", json={"account": id_number, "password": "mima2026"}
    ).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    front = card_photo(name="李明", id_number=id_number, portrait=clips.talking_portrait())
    confirmed_card_by_api(servers, headers, front)
    return id_number, headers


def test_a_recorded_clip_is_uploaded_and_its_verdict_shown(
    talking_camera: Browser, servers: Servers
) -> None:
    id_number, headers = candidate_with_card(servers)
    app, context = phone(talking_camera, servers, "test_liveness")
    try:
        app.open("/login")
        app.fill(ids.LOGIN_ACCOUNT, id_number)
        app.fill(ids.LOGIN_PASSWORD, "mima2026")
        app.click(ids.LOGIN_SUBMIT)
        app.click(ids.PROFILE_GO_NEXT)
        digits = app.wait_for_text(ids.LIVE_DIGITS, " ")
        assert len(digits.replace(" ", "")) == 4
        assert "还可尝试 3 次" in app.text(ids.LIVE_ATTEMPTS)
        app.page.wait_for_timeout(2500)  # the preview starts
        app.screenshot("01-digits")
        assert "本人手持手机" in app.text(ids.LIVE_TIPS)
        app.click(ids.LIVE_RECORD)
        # A countdown to get ready, then the red dot with the seconds left; at six
        # seconds the recording stops by itself and says so.
        app.wait_for_text(ids.LIVE_REC, "秒后开始录制")
        app.wait_for_text(ids.LIVE_REC, "录制中 · 还剩", timeout=10_000)
        app.screenshot("02-recording")
        app.wait_for_text(ids.LIVE_REC, "自动停止", timeout=15_000)
        verdict = app.wait_for_text(ids.LIVE_RESULT, "人工审核", timeout=120_000)
        app.screenshot("03-verdict")
        assert "考试机构" in verdict
        # After a verdict the journey goes on: no dead end.
        app.click(ids.LIVE_NEXT)
        app.wait_for(ids.PROFILE_NAME)
        state = httpx.get(f"{servers.api_url}/api/liveness", headers=headers).json()
        assert state["status"] == "review"
        m = state["attempts"][0]["measurements"]
        assert m["face_presence"] >= 0.8 and m["speech_s"] > 0.5
        assert m["face_distance"] < 0.6
    finally:
        context.close()
