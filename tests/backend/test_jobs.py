"""Verification as durable jobs: 202 and polling, the limits, and a worker's death."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from backend_stub import jobs
from backend_stub.db import utcnow
from backend_stub.errors import ApiError
from backend_stub.models import Candidate, IdCardSubmission, VerificationJob, VerificationWorker
from tests.backend.conftest import AppFactory
from tests.backend.factories import auth, card_photo, make_candidate

ROOT = Path(__file__).resolve().parents[2]
NO_WAIT = {"Prefer": "wait=0"}


def candidate_id(client: TestClient, id_number: str) -> int:
    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        found = session.scalar(select(Candidate.id).where(Candidate.id_number == id_number))
    assert found is not None
    return int(found)


def runtime(client: TestClient) -> jobs.Runtime:
    state = client.app.state  # type: ignore[attr-defined]
    return jobs.Runtime(state.settings, state.db, state.media)


def job_row(client: TestClient, job_id: int) -> VerificationJob:
    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        job = session.get(VerificationJob, job_id)
    assert job is not None
    return job


def in_flight(client: TestClient, cid: int) -> int:
    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        return int(session.scalar(select(Candidate.jobs_in_flight).where(Candidate.id == cid)) or 0)


def poll(client: TestClient, job_id: int, token: str, seconds: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        body = client.get(f"/api/jobs/{job_id}", headers=auth(token)).json()
        if body["status"] in ("done", "failed"):
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.1)


def submit_card(client: TestClient, cid: int, candidate: dict[str, Any]) -> VerificationJob:
    """Record an ID-card job without sending it (as if its message were lost)."""
    state = client.app.state  # type: ignore[attr-defined]
    front = card_photo(name=candidate["name"], id_number=candidate["id_number"])
    with state.db.sessionmaker() as session:
        return jobs.submit(
            session, state.settings, state.media, cid, "idcard", {"front": (front, ".img")}
        )


def age(run: jobs.Runtime, job_id: int, column: str, *, seconds: float) -> None:
    """Set a job's time column `seconds` in the past (a lease lapsed, a message lost)."""
    with run.db.sessionmaker() as session:
        session.execute(
            update(VerificationJob)
            .where(VerificationJob.id == job_id)
            .values({column: utcnow() - timedelta(seconds=seconds)})
        )
        session.commit()


def test_an_upload_is_answered_at_once_with_its_job_which_the_app_polls(
    make_client: AppFactory,
) -> None:
    client = make_client()
    candidate = make_candidate(client, name="王建国")
    front = card_photo(name="王建国", id_number=candidate["id_number"])
    response = client.post(
        "/api/idcard",
        files={"front": ("c.jpg", front, "image/jpeg")},
        headers=auth(candidate["token"]) | NO_WAIT,
    )
    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["location"] == f"/api/jobs/{job['id']}"
    assert job["status"] in ("queued", "running", "done") and job["kind"] == "idcard"
    done = poll(client, job["id"], candidate["token"])
    assert done["status"] == "done" and done["result_status"] == 201
    assert done["result"]["result"]["fields"]["name"] == "王建国"
    # The reading is the candidate's latest, and the job's slot and input file are freed.
    latest = client.get("/api/idcard", headers=auth(candidate["token"])).json()
    assert latest["id"] == done["result"]["id"]
    cid = candidate_id(client, candidate["id_number"])
    assert in_flight(client, cid) == 0
    media = client.app.state.media.root / str(cid)  # type: ignore[attr-defined]
    assert not list(media.glob("job-*"))
    # Nobody else sees it.
    other = make_candidate(client)
    hidden = client.get(f"/api/jobs/{job['id']}", headers=auth(other["token"]))
    assert hidden.status_code == 404 and hidden.json()["code"] == "job_not_found"


def test_a_refusal_comes_back_through_the_job_with_its_code(make_client: AppFactory) -> None:
    client = make_client()
    candidate = make_candidate(client)
    response = client.post(
        "/api/idcard",
        files={"front": ("c.jpg", b"\xff\xd8\xff not really a jpeg", "image/jpeg")},
        headers=auth(candidate["token"]) | NO_WAIT,
    )
    assert response.status_code == 202
    done = poll(client, response.json()["id"], candidate["token"])
    assert done["status"] == "done" and done["result_status"] == 422
    assert done["error"]["code"] and "。" in done["error"]["message"]
    # Waiting for the answer in the request gives the refusal itself.
    waited = client.post(
        "/api/idcard",
        files={"front": ("c.jpg", b"\xff\xd8\xff not really a jpeg", "image/jpeg")},
        headers=auth(candidate["token"]),
    )
    assert waited.status_code == 422 and waited.json()["code"] == done["error"]["code"]


def test_one_candidate_cannot_take_more_than_their_share_of_the_workers(
    make_client: AppFactory,
) -> None:
    client = make_client(JOBS_PER_CANDIDATE=2)
    candidate = make_candidate(client)
    cid = candidate_id(client, candidate["id_number"])
    state = client.app.state  # type: ignore[attr-defined]

    def one(_: int) -> str:
        with state.db.sessionmaker() as session:
            try:
                jobs.submit(session, state.settings, state.media, cid, "photo-check", {})
            except ApiError as exc:
                return exc.code
        return "queued"

    with ThreadPoolExecutor(12) as pool:
        outcomes = list(pool.map(one, range(24)))
    assert outcomes.count("queued") == 2
    assert outcomes.count("jobs_in_flight") == 22
    assert in_flight(client, cid) == 2
    # Through the API: a 429 in Chinese, and the other candidates are not held up.
    refused = client.post(
        "/api/photo/check",
        files={"file": ("p.jpg", b"x", "image/jpeg")},
        headers=auth(candidate["token"]) | NO_WAIT,
    )
    assert refused.status_code == 429 and refused.json()["code"] == "jobs_in_flight"
    assert "识别中" in refused.json()["message"]
    other = make_candidate(client)
    assert client.get("/api/me", headers=auth(other["token"])).status_code == 200


def test_a_full_queue_says_when_to_come_back(make_client: AppFactory) -> None:
    client = make_client(JOB_QUEUE_MAX=1)
    first = make_candidate(client)
    submit_card(client, candidate_id(client, first["id_number"]), first)
    second = make_candidate(client)
    response = client.post(
        "/api/photo/check",
        files={"file": ("p.jpg", b"x", "image/jpeg")},
        headers=auth(second["token"]) | NO_WAIT,
    )
    assert response.status_code == 503
    assert response.json()["code"] == "queue_full" and "请稍后再试" in response.json()["message"]
    assert int(response.headers["retry-after"]) > 0
    # Nothing was taken from the second candidate's share.
    assert in_flight(client, candidate_id(client, second["id_number"])) == 0


def test_a_job_whose_worker_died_runs_again_and_is_answered_once(
    make_client: AppFactory,
) -> None:
    client = make_client(JOB_LEASE_SECONDS=30)
    candidate = make_candidate(client, name="王建国")
    cid = candidate_id(client, candidate["id_number"])
    job = submit_card(client, cid, candidate)
    run = runtime(client)
    # A worker takes it and dies: its lease lapses.
    first = jobs._claim(run, job.id)
    assert first == 1
    assert jobs._claim(run, job.id) is None  # taken, lease alive: nobody else runs it
    sent: list[int] = []
    assert jobs.requeue_stale(run.db, run.settings, sent.append) == 0
    age(run, job.id, "lease_until", seconds=1)
    assert jobs.requeue_stale(run.db, run.settings, sent.append) == 1
    assert sent == [job.id]
    assert jobs.requeue_stale(run.db, run.settings, sent.append) == 0  # sent once
    jobs.execute(run, job.id)
    row = job_row(client, job.id)
    assert row.status == "done" and row.attempts == 2 and row.outcome is not None
    assert row.outcome["status"] == 201
    # The dead worker's late answer is not taken: the job is the second run's.
    with run.db.sessionmaker() as session:
        stale = session.get(VerificationJob, job.id)
        assert stale is not None
        late = jobs._finish(run, session, stale, first, "done", {"status": 500})
    assert late is False
    assert job_row(client, job.id).outcome == row.outcome
    with run.db.sessionmaker() as session:
        readings = session.scalar(
            select(func.count())
            .select_from(IdCardSubmission)
            .where(IdCardSubmission.candidate_id == cid)
        )
    assert readings == 1
    assert in_flight(client, cid) == 0


def test_a_job_that_keeps_losing_its_worker_fails_clearly_and_frees_the_slot(
    make_client: AppFactory,
) -> None:
    client = make_client(JOB_MAX_ATTEMPTS=2)
    candidate = make_candidate(client)
    cid = candidate_id(client, candidate["id_number"])
    job = submit_card(client, cid, candidate)
    run = runtime(client)
    for _ in range(2):
        assert jobs._claim(run, job.id) is not None
        age(run, job.id, "lease_until", seconds=1)
    jobs.execute(run, job.id)
    done = poll(client, job.id, candidate["token"], seconds=5)
    assert done["status"] == "failed"
    assert done["error"]["code"] == "verification_interrupted"
    assert "重新上传" in done["error"]["message"]
    assert in_flight(client, cid) == 0


def test_a_job_whose_message_was_lost_is_sent_again(make_client: AppFactory) -> None:
    client = make_client(JOB_REQUEUE_SECONDS=60)
    candidate = make_candidate(client)
    job = submit_card(client, candidate_id(client, candidate["id_number"]), candidate)
    run = runtime(client)
    sent: list[int] = []
    assert jobs.requeue_stale(run.db, run.settings, sent.append) == 0  # just queued
    age(run, job.id, "enqueued_at", seconds=61)
    assert jobs.requeue_stale(run.db, run.settings, sent.append) == 1
    assert jobs.requeue_stale(run.db, run.settings, sent.append) == 0
    assert sent == [job.id]


def worker_pids(client: TestClient) -> set[int]:
    """Worker processes that have loaded their models, from their readiness rows."""
    with client.app.state.db.sessionmaker() as session:  # type: ignore[attr-defined]
        names = session.scalars(select(VerificationWorker.name)).all()
    return {int(name.rsplit(":", 1)[1]) for name in names}


def wait_for(check: Any, seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while not (value := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)
    return value


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_worker_killed_mid_job_loses_nothing(
    make_client: AppFactory, database_url: str, tmp_path: Path
) -> None:
    """The real queue (Huey on SQLite) and a real worker process, killed by SIGKILL (as
    the OOM killer does) while it reads a card: the consumer starts a new worker, the
    API's sweep sends the job again, and the candidate gets one reading."""
    settings = {"VERIFY_WORKERS": 1, "JOB_LEASE_SECONDS": 3, "JOB_SWEEP_SECONDS": 1}
    env = {
        **os.environ,
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": database_url,
        "PYTHONUNBUFFERED": "1",
        **{name: str(value) for name, value in settings.items()},
    }
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "backend_stub", "worker"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        client = make_client(**settings)
        with client:  # the lifespan runs the sweep
            first = wait_for(lambda: worker_pids(client), 120, "a ready worker")
            health = client.get("/healthz").json()
            assert health["workers"]["ready"] >= 1 and not health["workers"]["inline"]
            candidate = make_candidate(client, name="王建国")
            front = card_photo(name="王建国", id_number=candidate["id_number"], seed=3)
            response = client.post(
                "/api/idcard",
                files={"front": ("c.jpg", front, "image/jpeg")},
                headers=auth(candidate["token"]) | NO_WAIT,
            )
            assert response.status_code == 202
            job_id = response.json()["id"]
            wait_for(lambda: job_row(client, job_id).status == "running", 60, "the job to start")
            for pid in first:
                os.kill(pid, signal.SIGKILL)
            assert job_row(client, job_id).status == "running"  # killed mid-job
            done = poll(client, job_id, candidate["token"], seconds=120)
            assert done["status"] == "done" and done["result_status"] == 201, done
            row = job_row(client, job_id)
            assert row.attempts == 2
            assert done["result"]["result"]["fields"]["name"] == "王建国"
            assert worker_pids(client) - first, "the consumer did not start a new worker"
            assert in_flight(client, candidate_id(client, candidate["id_number"])) == 0
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
        log.close()
