"""资格审核 end to end: the candidate submits; a reviewer at the console rejects the photo
with a reason; the candidate sees why, takes a new photo and resubmits; the reviewer
approves; the candidate's identity is then read-only."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest
from playwright.sync_api import Browser
from sqlalchemy import select

from backend_stub.db import Database, utcnow
from backend_stub.models import Candidate, LiveAttempt, LiveChallenge, StandardPhoto
from mobile import ids
from tests.e2e.conftest import ROOT, Servers
from tests.e2e.flutter import FlutterPage
from tests.e2e.test_photo import confirmed_candidate
from verification.synth.portrait import photo_bytes

pytestmark = pytest.mark.e2e

STAFF_PASSWORD = "kaowuyuan-2026-shenhe"


def add_reviewer(servers: Servers) -> None:
    """With the real command, as an exam office would."""
    done = subprocess.run(
        [sys.executable, "-m", "backend_stub", "add-staff", "zhang", "--name", "张老师"]
        + ["--districts", "6531", "--password-stdin"],
        input=STAFF_PASSWORD + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "DATA_DIR": str(servers.data_dir), "DATABASE_URL": ""},
    )
    assert done.returncode == 0, done.stderr


def finish_identity(servers: Servers, id_number: str) -> None:
    """The live check passed and a photo is on file (their screens have their own tests)."""
    db = Database(f"sqlite:///{servers.data_dir / 'zikao.db'}")
    now = utcnow()
    with db.sessionmaker() as session:
        cid = session.scalar(select(Candidate.id).where(Candidate.id_number == id_number))
        challenge = LiveChallenge(candidate_id=cid, digits="3729", expires_at=now, used_at=now)
        session.add(challenge)
        session.flush()
        session.add_all(
            [
                LiveAttempt(
                    candidate_id=cid,
                    challenge_id=challenge.id,
                    video_key="",
                    verdict="pass",
                    reasons=[],
                    measurements={},
                ),
                StandardPhoto(
                    candidate_id=cid,
                    profile="hubei",
                    key="none",
                    measurements={},
                    face_distance=0.3,
                    face_verdict="match",
                ),
            ]
        )
        session.commit()
    db.engine.dispose()


def test_reject_resubmit_approve_then_read_only(
    app: FlutterPage, browser: Browser, servers: Servers, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    add_reviewer(servers)
    id_number = confirmed_candidate(servers)  # district 6531, a real ID card read
    finish_identity(servers, id_number)

    app.open("/login")
    app.fill(ids.LOGIN_ACCOUNT, id_number)
    app.fill(ids.LOGIN_PASSWORD, "mima2026")
    app.click(ids.LOGIN_SUBMIT)
    assert "提交资格审核" in app.text(ids.PROFILE_REVIEW)
    app.click(ids.PROFILE_SUBMIT_REVIEW)
    assert "审核中" in app.wait_for_text(ids.PROFILE_REVIEW, "审核中")

    desk = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    desk.goto(f"{servers.api_url}/office/login")
    desk.fill("#username", "zhang")
    desk.fill("#password", STAFF_PASSWORD)
    desk.click("#login")
    desk.get_by_role("link", name="王建国").first.click()
    assert "王建国" in desk.title()
    desk.select_option("#reason", "photo_noncompliant")
    desk.fill("#reason-text", "照片背景有阴影")
    desk.check("#part-photo")
    desk.click("#reject")
    assert "确认审核不通过" in desk.locator("#question").inner_text()
    desk.screenshot(path=str(app.artifacts / "console-confirm.png"))
    desk.click("#confirm")
    assert desk.locator("#status").inner_text() == "审核未通过"
    desk.screenshot(path=str(app.artifacts / "console-rejected.png"))

    app.click(ids.PROFILE_REFRESH)
    reason = app.wait_for_text(ids.PROFILE_REVIEW, "照片背景有阴影")
    assert "证件照不符合要求" in reason and "请重新完成：证件照" in reason
    app.screenshot("01-rejected")

    raw = tmp_path / "new.jpg"
    raw.write_bytes(photo_bytes(33, face="biden.jpg", background="blue"))
    app.click(ids.journey_step("photo"))
    app.wait_for(ids.PHOTO_PICK)
    with app.page.expect_file_chooser() as chooser:
        app.click(ids.PHOTO_PICK)
    chooser.value.set_files(str(raw))
    app.click(ids.PHOTO_FIX)
    app.wait_for_text(ids.PHOTO_PROBLEMS, "符合全部要求", timeout=90_000)
    app.click(ids.PHOTO_SUBMIT)
    app.wait_for_text(ids.FORM_NOTICE, "证件照已提交", timeout=90_000)
    app.click(ids.PROFILE_SUBMIT_REVIEW)
    app.wait_for_text(ids.PROFILE_REVIEW, "审核中")

    desk.reload()
    desk.click("#approve")
    desk.click("#confirm")
    assert desk.locator("#status").inner_text() == "审核通过"

    app.click(ids.PROFILE_REFRESH)
    assert "已锁定" in app.wait_for_text(ids.PROFILE_REVIEW, "已锁定")
    app.screenshot("02-approved")
    token = httpx.post(
        f"{servers.api_url}/api/auth/login", json={"account": id_number, "password": "mima2026"}
    ).json()["token"]
    refused = httpx.patch(
        f"{servers.api_url}/api/me",
        json={"email": "wang@example.com"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert refused.status_code == 409 and refused.json()["code"] == "identity_locked"
    desk.context.close()
