"""End-to-end: the real backend (SQLite) and the real app in web mode, driven in Chromium."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Browser, sync_playwright

from tests.e2e.flutter import CHROMIUM_ARGS, FlutterPage
from tests.support.postgres import free_port
from verification.synth.video import write_y4m

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
CHROMIUM = "/usr/bin/chromium"


@dataclass
class Servers:
    api_url: str
    app_url: str
    # The backend's DATA_DIR: its SQLite database and private media.
    data_dir: Path

    def captcha_answer(self) -> str:
        """Read the answer of the latest captcha shown, as only the server's key allows
        (a person reads the picture; the test tries every answer against the HMAC)."""
        import hashlib
        import hmac
        import itertools
        import sqlite3

        from backend_stub.captcha import ALPHABET, LENGTH

        key = bytes.fromhex((self.data_dir / "keys" / "server.key").read_text().strip())
        with sqlite3.connect(self.data_dir / "zikao.db") as db:
            (wanted,) = db.execute(
                "SELECT answer_hash FROM captcha WHERE used_at IS NULL ORDER BY id DESC LIMIT 1"
            ).fetchone()
        base = hmac.new(key, b"captcha\x1f", hashlib.sha256)
        for letters in itertools.product(ALPHABET, repeat=LENGTH):
            answer = "".join(letters)
            guess = base.copy()
            guess.update(answer.encode())
            if guess.hexdigest() == wanted:
                return answer
        raise AssertionError("no answer fits the captcha")

    def sms_code(self, phone: str) -> str:
        """Read the latest code from the SMS sandbox, as a tester would."""
        deadline = time.monotonic() + 10
        while True:
            response = httpx.post(f"{self.api_url}/api/sandbox/sms/latest", json={"phone": phone})
            if response.status_code == 200:
                return response.json()["code"]
            if time.monotonic() > deadline:
                raise AssertionError(f"no SMS arrived: {response.text}")
            time.sleep(0.2)


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    data = tmp_path_factory.mktemp("e2e-data")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    api_port, app_port = free_port(), free_port()
    api_url, app_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{app_port}"
    # Unbuffered: the logs are complete even when a process is stopped at the end.
    env = {**os.environ, "DATA_DIR": str(data), "DATABASE_URL": "", "PYTHONUNBUFFERED": "1"}
    # One browser on this machine stands for many candidates, each on their own phone:
    # the per-client SMS and request budgets would otherwise ask it for captchas. The
    # per-account captcha (after two wrong passwords) stays as shipped.
    env |= {
        "SMS_CAPTCHA_AFTER": "100000",
        "SMS_PER_CLIENT_HOURLY": "100000",
        "PUBLIC_PER_CLIENT_PER_MINUTE": "100000",
        "CLIENT_FAILURES_CAPTCHA": "100000",
        # Where a same-phone payment returns to: the app's pay screen.
        "APP_RETURN_URL": f"{app_url}/pay",
    }
    processes: list[subprocess.Popen[bytes]] = []
    try:
        backend_log = ARTIFACTS / "backend.log"
        backend = subprocess.Popen(
            [sys.executable, "-m", "backend_stub", "--port", str(api_port)],
            cwd=ROOT,
            env=env,
            stdout=backend_log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        processes.append(backend)
        _wait_until_up(f"{api_url}/healthz", backend, backend_log)
        app_log = ARTIFACTS / "app.log"
        app = subprocess.Popen(
            [sys.executable, "-m", "mobile", "--web", "--port", str(app_port)],
            cwd=ROOT,
            env={**env, "ZIKAO_API_URL": api_url},
            stdout=app_log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        processes.append(app)
        _wait_until_up(app_url, app, app_log)
        yield Servers(api_url=api_url, app_url=app_url, data_dir=data)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


# Module scope: Playwright's sync API keeps an event loop running while it is open, which
# would break the async tests that run after the browser tests.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run `./dev test`, which installs it")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@contextmanager
def camera_browser(
    frames: list[Image.Image], folder: Path, *, fps: int = 10, sound: Path | None = None
) -> Iterator[Browser]:
    """Chromium whose (fake) camera films `frames`, looped; its microphone plays `sound`
    (a WAV file, looped) or beeps."""
    video = folder / "camera.y4m"
    write_y4m(frames, video, fps=fps)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                *CHROMIUM_ARGS,
                "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream",
                f"--use-file-for-fake-video-capture={video}",
                *([f"--use-file-for-fake-audio-capture={sound}"] if sound else []),
            ],
        )
        yield browser
        browser.close()


def phone(browser: Browser, servers: Servers, name: str) -> tuple[FlutterPage, Any]:
    """A phone-sized page allowed to use the camera; returns it and its context."""
    context = browser.new_context(
        viewport={"width": 412, "height": 860}, permissions=["camera", "microphone"]
    )
    return FlutterPage(context.new_page(), servers.app_url, ARTIFACTS / name), context


@pytest.fixture
def app(
    browser: Browser, servers: Servers, request: pytest.FixtureRequest
) -> Iterator[FlutterPage]:
    """A phone-sized page of the app (412×860)."""
    context = browser.new_context(viewport={"width": 412, "height": 860}, device_scale_factor=1)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    flutter = FlutterPage(page, servers.app_url, ARTIFACTS / request.node.name)
    yield flutter
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        # What the page looked like and what the browser said, for a failure seen in CI.
        flutter.screenshot("failure")
        (flutter.artifacts / "console.txt").write_text("\n".join(console))
        (flutter.artifacts / "controls.txt").write_text(flutter.texts())
    context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    report = yield
    if report.when == "call":
        item.report_call = report  # type: ignore[attr-defined]
    return report
