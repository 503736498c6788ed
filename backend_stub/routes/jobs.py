"""识别进度: where a verification job stands, and its answer once done."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from backend_stub import jobs
from backend_stub.deps import CurrentCandidate, SessionDep
from backend_stub.errors import ApiError
from backend_stub.models import VerificationJob

router = APIRouter(prefix="/api/jobs", tags=["jobs"])


@router.get("/{job_id}")
def read_job(job_id: int, candidate: CurrentCandidate, session: SessionDep) -> dict[str, Any]:
    """`status` queued (with `ahead`: jobs before it), running, done (`result_status` and
    `result`, or `error` with the refusal's code and message) or failed (`error`)."""
    job = session.get(VerificationJob, job_id)
    if job is None or job.candidate_id != candidate.id:
        raise ApiError(404, "job_not_found", "未找到该识别任务，请重新上传。")
    return jobs.job_out(session, job)
