"""The job queue: Huey, on an SQLite file by default (nothing to install) or on Redis
(QUEUE_URL=redis://…) when API and worker processes run on several machines.

The queue only carries job ids; the jobs themselves are rows (backend_stub.jobs). Huey was
chosen because it has both an embedded store and a server store behind one API, and
process workers with start-up hooks (each loads the models once). It deletes a message
when a worker takes it, so a worker killed mid-job would lose it: the job's lease and the
API's sweep (jobs.requeue_stale) make up for that.

`python -m backend_stub worker` runs the consumer: VERIFY_WORKERS processes, each at a
lower CPU priority than the API (a request that does not need the engine is served first
on a shared machine), each on one thread.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from functools import cache

from huey import Huey, RedisHuey, SqliteHuey
from sqlalchemy import delete

from backend_stub import jobs
from backend_stub.config import Settings, get_settings
from backend_stub.db import Database, utcnow
from backend_stub.models import VerificationWorker
from backend_stub.storage import MediaStore

log = logging.getLogger("zikao.queue")

# Workers poll an SQLite queue at most this far apart when it is empty (Redis blocks).
POLL_MAX_S = 0.5
WORKER_NICE = 5
# A worker writes that it is ready this often; /healthz counts those seen within 3 ×.
READY_EVERY_S = 10
READY_WITHIN_S = 3 * READY_EVERY_S


def make_queue(settings: Settings) -> Huey:
    """The Huey instance for these settings, with the one task it runs."""
    url = settings.QUEUE_URL
    huey: Huey
    if url.startswith("redis"):
        huey = RedisHuey("zikao", url=url, results=False)
    elif not url:
        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
        huey = SqliteHuey("zikao", filename=str(settings.DATA_DIR / "queue.db"), results=False)
    else:
        raise ValueError("QUEUE_URL must be empty (SQLite) or redis://…")

    @huey.task(name="verify")
    def verify(job_id: int) -> None:
        jobs.execute(_runtime(), job_id)

    @huey.on_startup()
    def load_models() -> None:
        _worker_started()

    huey.verify = verify
    return huey


def sender(huey: Huey) -> Callable[[int], None]:
    def send(job_id: int) -> None:
        huey.verify(job_id)

    return send


@cache
def _runtime() -> jobs.Runtime:
    settings = get_settings()
    return jobs.Runtime(settings, Database(settings.database_url), MediaStore(settings.media_dir))


def _worker_started() -> None:
    """In each worker process: lower priority, one thread, the models loaded, then a
    'ready' row kept fresh for /healthz."""
    import verification

    os.nice(WORKER_NICE)
    verification.single_threaded()
    runtime = _runtime()
    started = time.monotonic()
    verification.warm_up(runtime.settings.ASR_MODEL_DIR)
    name = f"{socket.gethostname()}:{os.getpid()}"
    log.info("worker %s ready in %.1f s", name, time.monotonic() - started)

    def beat() -> None:
        ready_at = utcnow()
        while True:
            try:
                with runtime.db.sessionmaker() as session:
                    session.merge(
                        VerificationWorker(name=name, ready_at=ready_at, seen_at=utcnow())
                    )
                    session.commit()
            except Exception as exc:  # the next beat tries again
                log.warning("worker heartbeat failed: %s", type(exc).__name__)
            time.sleep(READY_EVERY_S)

    threading.Thread(target=beat, name="worker-ready", daemon=True).start()


def run_consumer(settings: Settings, processes: int) -> None:
    """The worker command: Huey's consumer with `processes` worker processes (a worker
    that dies is started again by the consumer's health check)."""
    db = Database(settings.database_url)
    with db.sessionmaker() as session:
        # Rows of workers long gone (their heartbeat stopped a day ago) are noise.
        session.execute(
            delete(VerificationWorker).where(
                VerificationWorker.seen_at < utcnow() - timedelta(days=1)
            )
        )
        session.commit()
    db.engine.dispose()  # the worker processes are forked from this one
    huey = make_queue(settings)
    consumer = huey.create_consumer(
        workers=processes,
        worker_type="process",
        periodic=False,
        initial_delay=0.05,
        max_delay=POLL_MAX_S,
        check_worker_health=True,
        health_check_interval=2,
    )
    consumer.run()
