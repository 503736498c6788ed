"""The standard photo, end to end: choose a raw photo, see what is wrong, 一键修正, submit."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from PIL import Image

from mobile import ids
from tests.backend.factories import card_photo
from tests.e2e.conftest import Servers
from tests.e2e.flutter import FlutterPage
from tests.e2e.test_accounts import confirmed_card_by_api, register_by_api, unique_id_number
from verification.synth.portrait import FACES, photo_bytes

pytestmark = pytest.mark.e2e


def confirmed_candidate(servers: Servers) -> str:
    """A candidate (by API) whose confirmed ID card shows biden2.jpg's face."""
    id_number = unique_id_number()
    register_by_api(servers, id_number=id_number, password="mima2026", name="王建国")
    token = httpx.post(
        f"{servers.api_url}/api/auth/login", json={"account": id_number, "password": "mima2026"}
    ).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    front = card_photo(
        name="王建国", id_number=id_number, portrait=Image.open(FACES / "biden2.jpg")
    )
    confirmed_card_by_api(servers, headers, front)
    return id_number


def choose_photo(app: FlutterPage, id_number: str, path: Path) -> None:
    """Log in, open 证件照 and choose the photo at `path` from the album."""
    app.open("/login")
    app.fill(ids.LOGIN_ACCOUNT, id_number)
    app.fill(ids.LOGIN_PASSWORD, "mima2026")
    app.click(ids.LOGIN_SUBMIT)
    app.click(ids.journey_step("photo"))
    app.wait_for(ids.PHOTO_PICK)
    with app.page.expect_file_chooser() as chooser:
        app.click(ids.PHOTO_PICK)
    chooser.value.set_files(str(path))


def test_a_raw_photo_is_fixed_and_submitted(app: FlutterPage, servers: Servers, tmp_path) -> None:  # type: ignore[no-untyped-def]
    id_number = confirmed_candidate(servers)
    raw = tmp_path / "me.jpg"
    raw.write_bytes(photo_bytes(31, face="biden.jpg", background="blue"))
    choose_photo(app, id_number, raw)
    problems = app.wait_for_text(ids.PHOTO_PROBLEMS, "需要修改")
    assert "480×640" in problems  # found on the phone, before any upload
    # The result is what the candidate sees: the camera is put away, the photo labelled,
    # and 提交 waits for a compliant photo.
    assert (
        app.control(ids.PHOTO_CAMERA).count() == 0 or not app.control(ids.PHOTO_CAMERA).is_visible()
    )
    assert app.text(ids.PHOTO_CAPTION_BEFORE) == "原图"
    assert app.control(ids.PHOTO_SUBMIT).locator("[aria-disabled='true']").count() + (
        app.control(ids.PHOTO_SUBMIT).get_attribute("aria-disabled") == "true"
    )
    app.screenshot("01-problems")
    app.click(ids.PHOTO_FIX)
    app.wait_for_text(ids.PHOTO_PROBLEMS, "符合全部要求", timeout=90_000)
    assert app.text(ids.PHOTO_CAPTION_AFTER) == "修正后"
    app.wait_for_hidden(ids.PHOTO_FIX)
    app.screenshot("02-fixed")
    app.click(ids.PHOTO_SUBMIT)
    assert "证件照已提交" in app.wait_for_text(ids.FORM_NOTICE, "证件照", timeout=90_000)
    assert "已完成" in app.text(ids.journey_step("photo"))


@pytest.mark.parametrize(
    ("defect", "words"), [("dark_glasses", ("墨镜", "眼镜")), ("hat", ("帽子",))]
)
def test_a_problem_in_the_photo_is_framed_where_it_is(
    app: FlutterPage, servers: Servers, tmp_path, defect: str, words: tuple[str, ...]
) -> None:  # type: ignore[no-untyped-def]
    """Dark glasses or a hat on a photo whose file is right: the server's check names them,
    and the preview frames where they are with the number of the problem in the list."""
    import io

    from rules import photo as photo_rules
    from tests.verification.test_content import bad

    rgb = Image.open(io.BytesIO(bad(defect))).convert("RGB")
    spec = photo_rules.PROFILES["hubei"]
    for quality in range(92, 40, -4):  # a file the phone's own checks let through
        buffer = io.BytesIO()
        rgb.save(buffer, "JPEG", quality=quality, dpi=(300, 300))
        if photo_rules.check_file(buffer.getvalue(), spec).ok:
            break
    else:
        pytest.fail("no quality gives a file of the profile's size")
    path = tmp_path / f"{defect}.jpg"
    path.write_bytes(buffer.getvalue())
    id_number = confirmed_candidate(servers)
    choose_photo(app, id_number, path)
    problems = app.wait_for_text(ids.PHOTO_PROBLEMS, "图中1", timeout=90_000)
    assert any(word in problems for word in words), problems
    # 一键修正 cannot take off glasses or a hat: it is not offered, a new photo is asked for.
    assert "无法自动修正" in problems, problems
    app.wait_for_hidden(ids.PHOTO_FIX)
    app.screenshot(f"03-problem-framed-{defect}")
