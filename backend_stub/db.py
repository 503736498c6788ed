"""Database engine and sessions (SQLAlchemy 2)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import CursorResult, Delete, Engine, Update, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

# Requests handled at once (the rest queue in front, see middleware.ConcurrencyLimit) and the
# connections kept for them: more connections than requests, so a request that holds one
# never waits behind requests that wait for one.
MAX_REQUESTS = 32
POOL_SIZE = 48


class Base(DeclarativeBase):
    pass


def utcnow() -> datetime:
    """Naive UTC now: stored the same way on SQLite and PostgreSQL."""
    return datetime.now(UTC).replace(tzinfo=None)


def changed(session: Session, statement: Update | Delete) -> int:
    """Run a conditional UPDATE or DELETE; how many rows it changed (1 means this request
    won the race the condition describes)."""
    result = session.execute(statement)
    assert isinstance(result, CursorResult)
    return result.rowcount


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=POOL_SIZE,
            max_overflow=0,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(
        url, pool_pre_ping=True, pool_size=POOL_SIZE // 2, max_overflow=POOL_SIZE // 2
    )


class Database:
    """An engine and its session factory; one per app instance."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
