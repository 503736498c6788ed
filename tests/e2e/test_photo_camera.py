"""The standard photo taken with the camera (Chromium's fake camera films a portrait)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from mobile import ids
from tests.e2e.conftest import Servers, camera_browser, phone
from tests.e2e.test_photo import confirmed_candidate
from verification.synth.portrait import photo

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def portrait_camera(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    frame = photo(5, face="biden.jpg", size=(600, 800), head_scale=0.4)
    with camera_browser([frame] * 5, tmp_path_factory.mktemp("camera")) as browser:
        yield browser


def test_a_camera_photo_is_checked_fixed_and_submitted(
    portrait_camera: Browser, servers: Servers
) -> None:
    id_number = confirmed_candidate(servers)
    app, context = phone(portrait_camera, servers, "test_photo_camera")
    try:
        app.open("/login")
        app.fill(ids.LOGIN_ACCOUNT, id_number)
        app.fill(ids.LOGIN_PASSWORD, "mima2026")
        app.click(ids.LOGIN_SUBMIT)
        app.click(ids.journey_step("photo"))
        app.wait_for(ids.PHOTO_TAKE)
        app.page.wait_for_timeout(2500)  # the preview starts
        app.screenshot("01-camera")
        app.click(ids.PHOTO_TAKE)
        problems = app.wait_for_text(ids.PHOTO_PROBLEMS, "需要修改")
        assert "480×640" in problems
        app.wait_for(ids.PHOTO_PREVIEW)
        app.click(ids.PHOTO_FIX)
        app.wait_for_text(ids.PHOTO_PROBLEMS, "符合全部要求", timeout=90_000)
        app.screenshot("02-fixed")
        app.click(ids.PHOTO_SUBMIT)
        assert "证件照已提交" in app.wait_for_text(ids.FORM_NOTICE, "证件照", timeout=90_000)
    finally:
        context.close()
