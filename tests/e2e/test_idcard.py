"""The ID card, end to end: Chromium's fake camera shows a generated card, the app fills
the form from what the backend read, the candidate confirms."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from mobile import ids
from rules.idnumber import parse
from tests.e2e.conftest import Servers, camera_browser, phone
from tests.e2e.test_accounts import register_by_api, unique_id_number
from verification.synth import idcard as synth

pytestmark = pytest.mark.e2e

NAME = "古丽娜尔"
ID_NUMBER = unique_id_number()


@pytest.fixture(scope="module")
def card_camera(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """Chromium whose camera films a photo of this candidate's card."""
    info = parse(ID_NUMBER)
    rng = random.Random(21)
    fields = synth.CardFields(
        name=NAME,
        sex=info.sex,
        ethnicity="维吾尔",
        birth=info.birth_date,
        address="新疆喀什市人民东路18号",
        id_number=info.number,
    )
    photo = synth.photograph(synth.render_card(fields, rng=rng), rng=rng, card_share=0.8)
    with camera_browser([photo] * 5, tmp_path_factory.mktemp("camera")) as browser:
        yield browser


def test_the_camera_photo_fills_the_form_and_is_confirmed(
    card_camera: Browser, servers: Servers
) -> None:
    register_by_api(servers, id_number=ID_NUMBER, password="mima2026", name=NAME)
    app, context = phone(card_camera, servers, "test_idcard")
    try:
        app.open("/login")
        app.fill(ids.LOGIN_ACCOUNT, ID_NUMBER)
        app.fill(ids.LOGIN_PASSWORD, "mima2026")
        app.click(ids.LOGIN_SUBMIT)
        app.click(ids.PROFILE_GO_NEXT)
        app.wait_for(ids.IDCARD_TAKE_PHOTO)
        app.page.wait_for_timeout(2500)  # the preview starts
        app.screenshot("01-camera")
        app.click(ids.IDCARD_TAKE_PHOTO)

        app.wait_for(ids.IDCARD_CONFIRM, timeout=90_000)
        app.screenshot("02-read")
        assert app.value(ids.card_field("id_number")) == ID_NUMBER
        assert app.value(ids.card_field("name")) == NAME
        assert app.value(ids.card_field("address")) == "新疆喀什市人民东路18号"
        app.click(ids.IDCARD_CONFIRM)

        assert "身份证信息已确认" in app.wait_for_text(ids.FORM_NOTICE, "已确认")
        assert "已完成" in app.text(ids.journey_step("idcard"))
        app.screenshot("03-confirmed")
        # Back to the card screen (the browser's back): it shows what was confirmed, not
        # the camera as if nothing had been done.
        app.page.go_back()
        confirmed = app.wait_for_text(ids.IDCARD_CONFIRMED, "已确认")
        assert NAME in confirmed and ID_NUMBER not in confirmed
        app.screenshot("04-back-to-card")
        app.click(ids.IDCARD_NEXT)
        app.wait_for(ids.PROFILE_NAME)
    finally:
        context.close()
