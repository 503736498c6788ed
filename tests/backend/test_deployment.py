"""The grown-up deployment, on loopback: PostgreSQL, Redis as the queue's store, two API
processes and two worker processes (each could be its own machine). One worker is killed
by SIGKILL mid-job and one API process mid-request: nothing is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from backend_stub.db import Database
from backend_stub.models import Candidate, IdCardSubmission, VerificationJob, VerificationWorker
from tests.backend.factories import card_photo, new_student
from tests.backend.test_processes import ROOT, service_env, start_api, stop
from tests.support.redis import RedisServer

CANDIDATES = 6


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    try:
        server = RedisServer()
    except FileNotFoundError as exc:
        pytest.skip(f"Redis leg skipped: {exc}")
    server.start()
    yield server
    server.stop()


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "backend_stub", "worker"],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def register(api: str) -> tuple[dict[str, str], dict[str, str]]:
    body = new_student(name="王建国")
    httpx.post(f"{api}/api/sms/codes", json={"phone": body["phone"], "purpose": "register"})
    code = httpx.post(f"{api}/api/sandbox/sms/latest", json={"phone": body["phone"]}).json()
    created = httpx.post(f"{api}/api/accounts/new", json=body | {"sms_code": code["code"]})
    assert created.status_code == 201, created.text
    return body, {"Authorization": f"Bearer {created.json()['token']}"}


def upload(api: str, headers: dict[str, str], front: bytes) -> httpx.Response:
    return httpx.post(
        f"{api}/api/idcard",
        files={"front": ("c.jpg", front, "image/jpeg")},
        headers=headers,
        timeout=60,
    )


def wait_for(check, seconds: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not (value := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return value


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_killing_a_worker_and_an_api_process_loses_nothing(
    database_url: str, redis: RedisServer, tmp_path: Path
) -> None:
    env = service_env(
        database_url,
        tmp_path,
        QUEUE_URL=redis.url,
        VERIFY_WORKERS=1,
        JOB_LEASE_SECONDS=3,
        JOB_SWEEP_SECONDS=1,
    )
    db = Database(database_url)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        api_a, a = start_api(env, tmp_path / "api-a.log")
        api_b, b = start_api(env, tmp_path / "api-b.log")
        processes += [api_a, api_b]
        processes += [start_worker(env, tmp_path / f"worker-{i}.log") for i in (1, 2)]

        def ready() -> set[int]:
            with db.sessionmaker() as session:
                names = session.scalars(select(VerificationWorker.name)).all()
            return {int(name.rsplit(":", 1)[1]) for name in names}

        first_workers = wait_for(lambda: len(ready()) >= 2 and ready(), 180, "two ready workers")
        assert httpx.get(f"{b}/healthz").json()["workers"]["ready"] == 2

        people = [register((a, b)[i % 2]) for i in range(CANDIDATES)]
        photos = [
            card_photo(name="王建国", id_number=p["id_number"], seed=i)
            for i, (p, _) in enumerate(people)
        ]
        accepted = {}
        for i, ((person, headers), front) in enumerate(zip(people[:-1], photos, strict=False)):
            response = upload((a, b)[i % 2], headers, front)
            assert response.status_code == 202, response.text
            accepted[person["id_number"]] = response.json()["id"]

        # Both workers busy: one of them is killed mid-job (as the OOM killer does).
        def running() -> int:
            with db.sessionmaker() as session:
                return int(
                    session.scalar(
                        select(func.count())
                        .select_from(VerificationJob)
                        .where(VerificationJob.status == "running")
                    )
                    or 0
                )

        wait_for(lambda: running() == 2, 120, "both workers to be busy")
        victim = sorted(first_workers)[0]
        os.kill(victim, signal.SIGKILL)

        # An upload to B dies with B, half sent: the candidate's phone sees an error.
        person, headers = people[-1]
        sent_half = threading.Event()

        def slow_body():  # type: ignore[no-untyped-def]
            boundary = "zikao-test"
            head = (
                f'--{boundary}\r\nContent-Disposition: form-data; name="front"; '
                'filename="c.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
            ).encode()
            data = head + photos[-1] + f"\r\n--{boundary}--\r\n".encode()
            yield data[: len(data) // 2]
            sent_half.set()
            time.sleep(5)
            yield data[len(data) // 2 :]

        outcome: dict[str, object] = {}

        def send() -> None:
            try:
                outcome["response"] = httpx.post(
                    f"{b}/api/idcard",
                    content=slow_body(),
                    headers=headers | {"Content-Type": "multipart/form-data; boundary=zikao-test"},
                    timeout=30,
                )
            except httpx.HTTPError as exc:
                outcome["error"] = exc

        sender = threading.Thread(target=send)
        sender.start()
        assert sent_half.wait(20)
        time.sleep(0.3)
        os.killpg(api_b.pid, signal.SIGKILL)
        sender.join(30)
        assert "error" in outcome, outcome  # not a silent success
        # The phone sends it again; the surviving process takes it.
        retried = upload(a, headers, photos[-1])
        assert retried.status_code == 202, retried.text
        accepted[person["id_number"]] = retried.json()["id"]

        def all_done() -> bool:
            with db.sessionmaker() as session:
                rows = session.scalars(
                    select(VerificationJob).where(VerificationJob.id.in_(accepted.values()))
                ).all()
            return len(rows) == len(accepted) and all(r.status == "done" for r in rows)

        wait_for(all_done, 240, "every job to be answered")
        with db.sessionmaker() as session:
            rows = session.scalars(select(VerificationJob)).all()
            assert len(rows) == CANDIDATES  # the half-sent upload left no job behind
            assert all(r.outcome and r.outcome["status"] == 201 for r in rows), [
                r.outcome for r in rows
            ]
            assert any(r.attempts == 2 for r in rows), "no job was interrupted"
            for number in accepted:
                cid = session.scalar(select(Candidate.id).where(Candidate.id_number == number))
                readings = session.scalar(
                    select(func.count())
                    .select_from(IdCardSubmission)
                    .where(IdCardSubmission.candidate_id == cid)
                )
                assert readings == 1, number
            assert not session.scalar(select(func.sum(Candidate.jobs_in_flight)))
        # The killed worker was replaced.
        assert ready() - first_workers
    finally:
        stop(processes)
        db.engine.dispose()
