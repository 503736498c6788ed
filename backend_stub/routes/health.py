from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import func, select, text

from backend_stub import jobs, queue
from backend_stub.db import utcnow
from backend_stub.deps import SessionDep
from backend_stub.models import VerificationWorker

router = APIRouter(tags=["health"])


@router.get("/healthz")
def read_health(request: Request, session: SessionDep) -> dict[str, Any]:
    """The database answers (else 500); the verification queue (jobs waiting, running, the
    oldest wait) and the workers that have loaded their models and were seen lately.
    `status` is "degraded" when jobs wait and no worker is ready."""
    session.execute(text("SELECT 1"))
    state = jobs.queue_state(session)
    inline = request.app.state.settings.VERIFY_WORKERS <= 0
    ready = session.scalar(
        select(func.count())
        .select_from(VerificationWorker)
        .where(VerificationWorker.seen_at > utcnow() - timedelta(seconds=queue.READY_WITHIN_S))
    )
    workers = {"ready": int(ready or 0), "inline": inline}
    waiting = state["queued"] + state["running"]
    degraded = not inline and workers["ready"] == 0 and waiting > 0
    return {"status": "degraded" if degraded else "ok", "queue": state, "workers": workers}
