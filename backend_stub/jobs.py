"""Verification as durable jobs.

An upload that needs the engine (an ID-card photo, a live-check clip, a standard photo)
is stored, recorded as a `VerificationJob` row and handed to the queue (backend_stub.queue);
the API answers 202 with the job at once, and the app polls `GET /api/jobs/{id}`. A worker
process takes the job, runs the engine and the route's own rules (the kind's handler), and
writes what the route would have answered into the row, in the same transaction as the
handler's own rows.

The row, not the queue's message, is the truth:
- a worker claims a job with one conditional UPDATE (queued, or running with a lapsed
  lease), so two messages for one job run it once;
- while it runs, the worker renews the lease; a worker killed mid-job lets the lease lapse
  and the sweep (`requeue_stale`) queues the job again, at most JOB_MAX_ATTEMPTS times;
- the answer is written only if the lease is still this run's (`attempts` is the fencing
  token), so a worker that was given up for dead cannot overwrite a later run's answer;
- a queued job whose message was lost (a process or the queue's server died between the
  commit and the send) is sent again after JOB_REQUEUE_SECONDS.

Limits: all jobs queued or running (JOB_QUEUE_MAX, then 503 with Retry-After), and a
candidate's own (JOBS_PER_CANDIDATE, then 429), taken by conditional UPDATE so parallel
uploads cannot pass them.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from backend_stub.config import Settings
from backend_stub.db import Database, changed, utcnow
from backend_stub.domain.errors import DomainError
from backend_stub.errors import ApiError
from backend_stub.models import Candidate, VerificationJob
from backend_stub.storage import MediaStore
from verification.errors import VerificationError

log = logging.getLogger("zikao.jobs")

ACTIVE = ("queued", "running")
# Seconds between looks at a job while a request waits for it (Prefer: wait=N), and the
# longest wait granted: a held request keeps one of the process's request slots
# (middleware.ConcurrencyLimit). The app polls instead; tests and scripts may wait.
POLL_S = (0.05, 0.1, 0.2, 0.3)
MAX_WAIT_S = 30
# A full queue's Retry-After: about how long a worker takes for one job, times the queue.
RETRY_AFTER_S = 30


@dataclass
class JobContext:
    """What a kind's handler gets: a session whose commit also ends the job, the settings,
    the media store, the candidate and the job's parameters (inputs are media keys)."""

    session: Session
    settings: Settings
    media: MediaStore
    candidate: Candidate
    params: dict[str, Any]
    _inputs: dict[str, bytes] = field(default_factory=dict)

    def input(self, name: str) -> bytes:
        """An input file the job was submitted with."""
        if name not in self._inputs:
            self._inputs[name] = self.media.read(self.params["inputs"][name])
        return self._inputs[name]

    def optional_input(self, name: str) -> bytes | None:
        return self.input(name) if name in self.params["inputs"] else None


# kind → handler(context) → (HTTP status, JSON body). A handler refuses with ApiError,
# DomainError or VerificationError, exactly as its route did; it adds rows to the session
# and never commits the end itself (the runner commits it with the job's answer).
Handler = Callable[[JobContext], tuple[int, dict[str, Any]]]
HANDLERS: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn

    return register


def _load_handlers() -> None:
    # The handlers live beside their routes; importing the routes registers them.
    from backend_stub.routes import idcard, liveness, photo  # noqa: F401


# --- submitting (in the API) -----------------------------------------------------------


def queue_full() -> ApiError:
    error = ApiError(
        503,
        "queue_full",
        f"识别服务繁忙，请稍后再试（约{RETRY_AFTER_S}秒后重新上传）。已保存的资料不受影响。",
        retry_after=RETRY_AFTER_S,
    )
    error.headers = {"Retry-After": str(RETRY_AFTER_S)}
    return error


def submit(
    session: Session,
    settings: Settings,
    media: MediaStore,
    candidate_id: int,
    kind: str,
    inputs: dict[str, tuple[bytes, str] | None],
    **params: Any,
) -> VerificationJob:
    """Record a job for `kind` with these input files (bytes, suffix); the caller sends it
    to the queue after this commits."""
    waiting = session.scalar(
        select(func.count()).select_from(VerificationJob).where(VerificationJob.status.in_(ACTIVE))
    )
    if (waiting or 0) >= settings.JOB_QUEUE_MAX:
        raise queue_full()
    taken = changed(
        session,
        update(Candidate)
        .where(
            Candidate.id == candidate_id,
            Candidate.jobs_in_flight < settings.JOBS_PER_CANDIDATE,
        )
        .values(jobs_in_flight=Candidate.jobs_in_flight + 1),
    )
    if taken != 1:
        session.rollback()
        raise ApiError(
            429,
            "jobs_in_flight",
            "上一次上传的资料还在识别中，请等结果出来后再试。",
        )
    keys = {}
    for name, item in inputs.items():
        if item is not None:
            data, suffix = item
            keys[name] = media.put(candidate_id, f"job-{name}", data, suffix=suffix)
    job = VerificationJob(
        candidate_id=candidate_id, kind=kind, status="queued", params={"inputs": keys, **params}
    )
    session.add(job)
    session.commit()
    return job


async def record(
    request: Request,
    candidate_id: int,
    kind: str,
    inputs: dict[str, tuple[bytes, str] | None],
    **params: Any,
) -> VerificationJob:
    """`submit`, off the event loop, with the app's database, settings and media store."""
    app = request.app

    def write() -> VerificationJob:
        with app.state.db.sessionmaker() as session:
            return submit(
                session, app.state.settings, app.state.media, candidate_id, kind, inputs, **params
            )

    return await asyncio.to_thread(write)


async def start(
    request: Request,
    candidate_id: int,
    kind: str,
    inputs: dict[str, tuple[bytes, str] | None],
    **params: Any,
) -> JSONResponse:
    """Record and send a job; the upload route's answer (`respond`)."""
    job = await record(request, candidate_id, kind, inputs, **params)
    await asyncio.to_thread(send, request, job.id)
    return await respond(request, job)


def send(request: Request, job_id: int) -> None:
    """Hand the job to whatever runs it: the queue, or (tests) a thread of this process.
    A send that fails leaves the job queued for the sweep to send again."""
    try:
        request.app.state.jobs_runner(job_id)
    except Exception as exc:  # the queue's server is down: the sweep retries
        log.error("job %s not sent: %s", job_id, type(exc).__name__)


def _prefer_wait(request: Request) -> float:
    """RFC 7240 `Prefer: wait=N`: the client would rather wait N seconds for the answer."""
    for part in request.headers.get("prefer", "").split(","):
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "wait":
            try:
                return max(0.0, min(float(value), MAX_WAIT_S))
            except ValueError:
                return 0.0
    return 0.0


def job_out(session: Session, job: VerificationJob) -> dict[str, Any]:
    """The job as the app polls it: where it stands, how many jobs are ahead of it while
    it waits, and the answer (`result` with its HTTP status, or `error`) once done."""
    ahead = None
    if job.status == "queued":
        ahead = session.scalar(
            select(func.count())
            .select_from(VerificationJob)
            .where(VerificationJob.status == "queued", VerificationJob.id < job.id)
        )
    outcome = job.outcome or {}
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "ahead": ahead,
        "created_at": job.created_at.isoformat() + "Z",
        "result_status": outcome.get("status"),
        "result": outcome.get("body"),
        "error": outcome.get("error"),
    }


def answer(job: VerificationJob) -> JSONResponse:
    """A finished job's answer, as its upload route would have given it."""
    outcome = job.outcome or {}
    if "error" in outcome:
        error = dict(outcome["error"])
        raise ApiError(outcome["status"], error.pop("code"), error.pop("message"), **error)
    return JSONResponse(outcome["body"], status_code=outcome["status"])


async def respond(request: Request, job: VerificationJob) -> JSONResponse:
    """202 with the job (and its address), or, when the client asked to wait and the job
    ends in time, the answer itself."""
    db: Database = request.app.state.db
    wait = _prefer_wait(request)
    deadline = time.monotonic() + wait
    step = 0
    while wait and time.monotonic() < deadline:
        await asyncio.sleep(POLL_S[min(step, len(POLL_S) - 1)])
        step += 1
        current = await asyncio.to_thread(_load, db, job.id)
        if current is not None and current.status not in ACTIVE:
            return answer(current)
    body = await asyncio.to_thread(_out, db, job)
    return JSONResponse(body, status_code=202, headers={"Location": f"/api/jobs/{job.id}"})


def _load(db: Database, job_id: int) -> VerificationJob | None:
    with db.sessionmaker() as session:
        return session.get(VerificationJob, job_id)


def _out(db: Database, job: VerificationJob) -> dict[str, Any]:
    with db.sessionmaker() as session:
        return job_out(session, session.get(VerificationJob, job.id) or job)


# --- running (in a worker) -------------------------------------------------------------


@dataclass
class Runtime:
    """What a worker process needs to run jobs: built once per process."""

    settings: Settings
    db: Database
    media: MediaStore


def _release(session: Session, candidate_id: int) -> None:
    session.execute(
        update(Candidate)
        .where(Candidate.id == candidate_id, Candidate.jobs_in_flight > 0)
        .values(jobs_in_flight=Candidate.jobs_in_flight - 1)
    )


def _claim(runtime: Runtime, job_id: int) -> int | None:
    """Take the job for this run; returns the run's number, or None when the job is not
    this run's to take (done, or running under a live lease elsewhere)."""
    now = utcnow()
    lease = timedelta(seconds=runtime.settings.JOB_LEASE_SECONDS)
    with runtime.db.sessionmaker() as session:
        won = changed(
            session,
            update(VerificationJob)
            .where(
                VerificationJob.id == job_id,
                or_(
                    VerificationJob.status == "queued",
                    and_(VerificationJob.status == "running", VerificationJob.lease_until < now),
                ),
            )
            .values(
                status="running",
                attempts=VerificationJob.attempts + 1,
                started_at=now,
                lease_until=now + lease,
            ),
        )
        session.commit()
        if won != 1:
            return None
        attempt = session.scalar(
            select(VerificationJob.attempts).where(VerificationJob.id == job_id)
        )
        return int(attempt or 0)


def _mine(job_id: int, attempt: int) -> Any:
    return and_(
        VerificationJob.id == job_id,
        VerificationJob.status == "running",
        VerificationJob.attempts == attempt,
    )


def _renew_lease(runtime: Runtime, job_id: int, attempt: int, stop: threading.Event) -> None:
    lease = runtime.settings.JOB_LEASE_SECONDS
    while not stop.wait(lease / 3):
        try:
            with runtime.db.sessionmaker() as session:
                session.execute(
                    update(VerificationJob)
                    .where(_mine(job_id, attempt))
                    .values(lease_until=utcnow() + timedelta(seconds=lease))
                )
                session.commit()
        except Exception as exc:  # the next renewal tries again
            log.warning("lease of job %s not renewed: %s", job_id, type(exc).__name__)


def _error(status: int, code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"status": status, "error": {"code": code, "message": message, **extra}}


def _refusal(exc: Exception) -> dict[str, Any] | None:
    """The answer a route gives for a refusal, or None for an unexpected failure."""
    if isinstance(exc, ApiError):
        detail: dict[str, Any] = dict(exc.detail) if isinstance(exc.detail, dict) else {}
        detail.pop("code", None)
        detail.pop("message", None)
        return _error(exc.status_code, exc.code, exc.message, **detail)
    if isinstance(exc, DomainError):
        api = ApiError.from_domain(exc)
        return _refusal(api)
    if isinstance(exc, VerificationError):
        return _error(422, exc.code, exc.message)
    return None


def _finish(
    runtime: Runtime,
    session: Session,
    job: VerificationJob,
    attempt: int,
    status: str,
    outcome: dict[str, Any],
) -> bool:
    """Write the answer, give back the candidate's slot and drop the inputs, if the job is
    still this run's; False (and nothing written) when a later run took it over."""
    won = changed(
        session,
        update(VerificationJob)
        .where(_mine(job.id, attempt))
        .values(status=status, outcome=outcome, finished_at=utcnow(), lease_until=None),
    )
    if won != 1:
        session.rollback()
        return False
    _release(session, job.candidate_id)
    session.commit()
    for key in job.params.get("inputs", {}).values():
        runtime.media.delete(key)
    return True


def execute(runtime: Runtime, job_id: int) -> None:
    """Run one job (a worker's task body; tests call it in a thread)."""
    if not HANDLERS:
        _load_handlers()
    attempt = _claim(runtime, job_id)
    if attempt is None:
        return
    stop = threading.Event()
    renewer = threading.Thread(
        target=_renew_lease, args=(runtime, job_id, attempt, stop), name="job-lease", daemon=True
    )
    renewer.start()
    try:
        with runtime.db.sessionmaker() as session:
            job = session.get(VerificationJob, job_id)
            assert job is not None
            if attempt > runtime.settings.JOB_MAX_ATTEMPTS:
                outcome = _error(
                    503,
                    "verification_interrupted",
                    "识别多次中断，请重新上传。",
                )
                _finish(runtime, session, job, attempt, "failed", outcome)
                log.error("job %s (%s) gave up after %s runs", job_id, job.kind, attempt - 1)
                return
            candidate = session.get(Candidate, job.candidate_id)
            assert candidate is not None
            context = JobContext(session, runtime.settings, runtime.media, candidate, job.params)
            started = time.monotonic()
            try:
                status, body = HANDLERS[job.kind](context)
                outcome, state = {"status": status, "body": body}, "done"
            except Exception as exc:
                session.rollback()
                refusal = _refusal(exc)
                if refusal is None:
                    log.exception("job %s (%s) failed", job_id, job.kind)
                    refusal = _error(500, "verification_failed", "识别出错，请重新上传。")
                    state = "failed"
                else:
                    state = "done"
                outcome = refusal
            if _finish(runtime, session, job, attempt, state, outcome):
                log.info(
                    "job %s (%s) %s in %.2f s, run %s",
                    job_id,
                    job.kind,
                    outcome["status"],
                    time.monotonic() - started,
                    attempt,
                )
    finally:
        stop.set()


def requeue_stale(db: Database, settings: Settings, send_job: Callable[[int], None]) -> int:
    """Queue again the running jobs whose worker died (lease lapsed) and the queued jobs no
    worker took for JOB_REQUEUE_SECONDS (a lost message); returns how many were sent."""
    now = utcnow()
    stale = now - timedelta(seconds=settings.JOB_REQUEUE_SECONDS)
    lost = or_(
        # Its worker died: sent again once per run that died (and again if that was lost).
        and_(
            VerificationJob.status == "running",
            VerificationJob.lease_until < now,
            or_(
                VerificationJob.enqueued_at <= VerificationJob.started_at,
                VerificationJob.enqueued_at < stale,
            ),
        ),
        and_(VerificationJob.status == "queued", VerificationJob.enqueued_at < stale),
    )
    sent = 0
    with db.sessionmaker() as session:
        for job_id in session.scalars(select(VerificationJob.id).where(lost)).all():
            # Of several API processes sweeping, the one that moves enqueued_at sends it.
            won = changed(
                session,
                update(VerificationJob)
                .where(VerificationJob.id == job_id, lost)
                .values(enqueued_at=now),
            )
            session.commit()
            if won != 1:
                continue
            try:
                send_job(job_id)
                sent += 1
            except Exception as exc:  # the queue is down: the next sweep
                log.error("job %s not sent again: %s", job_id, type(exc).__name__)
    return sent


def queue_state(session: Session) -> dict[str, Any]:
    """Jobs waiting and running, and how long the oldest has waited (for /healthz)."""
    counts = dict(
        session.execute(
            select(VerificationJob.status, func.count())
            .where(VerificationJob.status.in_(ACTIVE))
            .group_by(VerificationJob.status)
        ).all()
    )
    oldest = session.scalar(
        select(func.min(VerificationJob.created_at)).where(VerificationJob.status == "queued")
    )
    return {
        "queued": int(counts.get("queued", 0)),
        "running": int(counts.get("running", 0)),
        "oldest_queued_s": round((utcnow() - oldest).total_seconds(), 1) if oldest else 0.0,
    }
