"""Several API processes share nothing but the database, the media folder and the queue:
a candidate whose requests land on different processes sees one service."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.backend.factories import card_photo, new_student

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_api(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "backend_stub", "--no-worker", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.2)


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def service_env(database_url: str, data: Path, **settings: object) -> dict[str, str]:
    env = {
        **os.environ,
        "DATA_DIR": str(data),
        "DATABASE_URL": database_url,
        "PYTHONUNBUFFERED": "1",
        # One machine here stands for many phones (as in tests/backend/conftest.py).
        "SMS_CAPTCHA_AFTER": "100000",
        "SMS_PER_CLIENT_HOURLY": "100000",
        "PUBLIC_PER_CLIENT_PER_MINUTE": "100000",
        "CLIENT_FAILURES_CAPTCHA": "100000",
    }
    return env | {name: str(value) for name, value in settings.items()}


@contextmanager
def two_apis(env: dict[str, str], data: Path) -> Iterator[tuple[str, str]]:
    processes: list[subprocess.Popen[bytes]] = []
    try:
        # The first migrates and seeds; the second finds it done (a deployment runs the
        # migration once, before the API processes: README).
        first, a = start_api(env, data / "api-a.log")
        processes.append(first)
        second, b = start_api(env, data / "api-b.log")
        processes.append(second)
        yield a, b
    finally:
        stop(processes)


def test_two_api_processes_are_one_service(database_url: str, tmp_path: Path) -> None:
    env = service_env(
        database_url, tmp_path, VERIFY_WORKERS=1, LOGIN_CAPTCHA_AFTER=100, JOBS_PER_CANDIDATE=1
    )
    with two_apis(env, tmp_path) as (a, b):
        body = new_student(name="王建国")
        # An SMS code sent by one process is checked by the other, and throttled by both.
        assert (
            httpx.post(
                f"{a}/api/sms/codes", json={"phone": body["phone"], "purpose": "register"}
            ).status_code
            == 202
        )
        again = httpx.post(
            f"{b}/api/sms/codes", json={"phone": body["phone"], "purpose": "register"}
        )
        assert again.status_code == 429 and again.json()["code"] == "sms_too_frequent"
        code = httpx.post(f"{b}/api/sandbox/sms/latest", json={"phone": body["phone"]}).json()[
            "code"
        ]
        registered = httpx.post(f"{b}/api/accounts/new", json=body | {"sms_code": code})
        assert registered.status_code == 201, registered.text
        # A login on one is a session on the other, and a logout on either ends it.
        login = httpx.post(
            f"{a}/api/auth/login", json={"account": body["id_number"], "password": body["password"]}
        )
        assert login.status_code == 200, login.text
        token = {"Authorization": f"Bearer {login.json()['token']}"}
        assert httpx.get(f"{b}/api/me", headers=token).json()["name"] == "王建国"
        # A job queued through one is the candidate's on the other; its slot is counted
        # for both (one in flight here).
        front = card_photo(name="王建国", id_number=body["id_number"])
        queued = httpx.post(
            f"{a}/api/idcard", files={"front": ("c.jpg", front, "image/jpeg")}, headers=token
        )
        assert queued.status_code == 202, queued.text
        seen = httpx.get(f"{b}{queued.headers['location']}", headers=token).json()
        assert seen["status"] == "queued" and seen["ahead"] == 0
        busy = httpx.post(
            f"{b}/api/idcard", files={"front": ("c.jpg", front, "image/jpeg")}, headers=token
        )
        assert busy.status_code == 429 and busy.json()["code"] == "jobs_in_flight"
        health = httpx.get(f"{b}/healthz").json()
        assert health["status"] == "degraded" and health["queue"]["queued"] == 1
        httpx.post(f"{b}/api/auth/logout", headers=token)
        assert httpx.get(f"{a}/api/me", headers=token).status_code == 401

        # Wrong passwords alternate between the processes: one count, not two.
        def wrong(i: int) -> httpx.Response:
            return httpx.post(
                f"{(a, b)[i % 2]}/api/auth/login",
                json={"account": body["id_number"], "password": f"wrong-{i}"},
                timeout=60,
            )

        lefts = [wrong(i).json().get("attempts_left") for i in range(3)]
        assert lefts == [4, 3, 2]
        # Then a burst on both at once: the lock-out still comes after five in all.
        with ThreadPoolExecutor(8) as pool:
            statuses = [r.status_code for r in pool.map(wrong, range(3, 15))]
        assert statuses.count(401) <= 1 and statuses.count(423) >= 11, statuses
        right = httpx.post(
            f"{b}/api/auth/login", json={"account": body["id_number"], "password": body["password"]}
        )
        assert right.status_code == 423 and right.json()["code"] == "account_locked", right.text
