from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from backend_stub.deps import SessionDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def read_health(session: SessionDep) -> dict[str, str]:
    """Liveness and database reachability."""
    session.execute(text("SELECT 1"))
    return {"status": "ok"}
