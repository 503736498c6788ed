"""Times as candidates read them: stored and sent in UTC, shown and printed in Beijing
time (Asia/Shanghai, UTC+8 all year; no daylight saving since 1991)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8), "北京时间")


def to_beijing(value: datetime | str) -> datetime:
    """A UTC time (naive ones are UTC, as the API sends them) in Beijing time."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BEIJING)


def minutes(value: datetime | str) -> str:
    """`2026-12-04 17:50` in Beijing time."""
    return to_beijing(value).strftime("%Y-%m-%d %H:%M")


def seconds(value: datetime | str) -> str:
    """`2026-12-04 17:50:09` in Beijing time."""
    return to_beijing(value).strftime("%Y-%m-%d %H:%M:%S")


def day(value: datetime | str) -> str:
    """`2026-12-04`, the Beijing calendar day."""
    return to_beijing(value).strftime("%Y-%m-%d")


def last_day(value: datetime | str) -> str:
    """The last Beijing day before a deadline that falls at midnight (a window that
    closes at 2027-08-16 00:00 ends on 2027-08-15)."""
    return day(to_beijing(value) - timedelta(microseconds=1))
