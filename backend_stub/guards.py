"""Counters that guard something, each moved by one atomic statement so that parallel
requests cannot slip past them (SQLite and PostgreSQL alike):

- `hit`: requests per key in a fixed window (a client address, a phone, everyone);
- `LoginGuards`: consecutive failed logins per account name. A guess is *reserved*
  before the password is checked — `failures` counts guesses in flight — so N parallel
  wrong passwords take N of the LOGIN_MAX_FAILURES places and the rest are refused:

      reserve:  failures < max and not locked  →  failures + 1      (else: locked)
      wrong:    failures >= max                →  locked_until = now + lock, failures = 0
      right:                                   →  failures = 0, locked_until = NULL

  Names that belong to no account get a guard too, so the lock-out and the number of
  tries left look the same whether or not an account exists.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from backend_stub.db import changed, utcnow
from backend_stub.models import LoginGuard, RateCounter


def _insert(session: Session, model: type) -> Any:
    """INSERT … ON CONFLICT for the session's database (both dialects spell it alike)."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(model)


def hit(session: Session, key: str, *, window_s: int, now: float | None = None) -> int:
    """Count one request for `key` in the current window; returns the count including
    this one. Commits (a refused request still counts)."""
    start = int((time.time() if now is None else now) // window_s * window_s)
    statement = (
        _insert(session, RateCounter)
        .values(key=key, window_start=start, count=1)
        .on_conflict_do_update(
            index_elements=["key", "window_start"], set_={"count": RateCounter.count + 1}
        )
        .returning(RateCounter.count)
    )
    count = session.execute(statement).scalar_one()
    session.commit()
    return int(count)


def peek(session: Session, key: str, *, window_s: int, now: float | None = None) -> int:
    """The count of the current window, without counting."""
    start = int((time.time() if now is None else now) // window_s * window_s)
    value = session.scalar(
        select(RateCounter.count).where(RateCounter.key == key, RateCounter.window_start == start)
    )
    return int(value or 0)


def forget_old(session: Session, *, older_than_s: int) -> None:
    """Drop windows that ended long ago (the sweeper calls this)."""
    session.execute(
        delete(RateCounter).where(RateCounter.window_start < time.time() - older_than_s)
    )
    session.commit()


def _guard_row(session: Session, key: str, now: datetime) -> None:
    """Make sure the guard row `key` exists (open, no failures), whoever asks first."""
    session.execute(
        _insert(session, LoginGuard)
        .values(key=key, failures=0, updated_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
    )


def _open(now: datetime) -> Any:
    """The SQL condition "this guard row is not locked at `now`"."""
    return (LoginGuard.locked_until.is_(None)) | (LoginGuard.locked_until <= now)


def _locked_for(session: Session, key: str, now: datetime) -> int:
    """Seconds until the guard row `key` opens (0: open)."""
    until = session.scalar(select(LoginGuard.locked_until).where(LoginGuard.key == key))
    if until is None or until <= now:
        return 0
    return max(1, int((until - now).total_seconds()))


def pass_gate(session: Session, key: str, *, seconds: int) -> int:
    """Let one request through per `seconds` for `key`, exactly (no window edges): 0 if
    this one passes, else the seconds to wait. The gate is a guard row whose
    `locked_until` is the next time it opens, moved by one conditional UPDATE."""
    now = utcnow()
    _guard_row(session, key, now)
    opened = changed(
        session,
        update(LoginGuard)
        .where(
            LoginGuard.key == key,
            _open(now),
        )
        .values(locked_until=now + timedelta(seconds=seconds), updated_at=now),
    )
    session.commit()
    if opened == 1:
        return 0
    return max(1, _locked_for(session, key, now))


@dataclass(frozen=True)
class Verdict:
    """What a login guard says: `locked_for` seconds (0: not locked) and tries left."""

    locked_for: int
    left: int


class LoginGuards:
    def __init__(self, *, max_failures: int, lock_seconds: int) -> None:
        self.max_failures = max_failures
        self.lock_seconds = lock_seconds

    def failures(self, session: Session, key: str) -> int:
        value = session.scalar(select(LoginGuard.failures).where(LoginGuard.key == key))
        return int(value or 0)

    def reserve(self, session: Session, key: str) -> Verdict | None:
        """Take one guess for `key`; None when it may be checked, else the lock."""
        now = utcnow()
        _guard_row(session, key, now)
        taken = changed(
            session,
            update(LoginGuard)
            .where(
                LoginGuard.key == key,
                LoginGuard.failures < self.max_failures,
                _open(now),
            )
            .values(failures=LoginGuard.failures + 1, locked_until=None, updated_at=now),
        )
        session.commit()
        if taken == 1:
            return None
        return Verdict(_locked_for(session, key, now) or self.lock_seconds, 0)

    def failed(self, session: Session, key: str) -> Verdict:
        """The reserved guess was wrong: lock when the places are used up."""
        now = utcnow()
        session.execute(
            update(LoginGuard)
            .where(LoginGuard.key == key, LoginGuard.failures >= self.max_failures)
            .values(
                failures=0,
                locked_until=now + timedelta(seconds=self.lock_seconds),
                updated_at=now,
            )
        )
        session.commit()
        locked_for = _locked_for(session, key, now)
        if locked_for:
            return Verdict(locked_for, 0)
        return Verdict(0, max(0, self.max_failures - self.failures(session, key)))

    def succeeded(self, session: Session, key: str) -> None:
        session.execute(
            update(LoginGuard)
            .where(LoginGuard.key == key)
            .values(failures=0, locked_until=None, updated_at=utcnow())
        )
        session.commit()

    def clear(self, session: Session, key: str) -> None:
        """A password reset by SMS lifts the lock (in the caller's transaction)."""
        session.execute(
            update(LoginGuard)
            .where(LoginGuard.key == key)
            .values(failures=0, locked_until=None, updated_at=utcnow())
        )
