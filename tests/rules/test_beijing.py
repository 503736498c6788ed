from __future__ import annotations

from datetime import UTC, datetime

from rules import beijing


def test_utc_from_the_api_is_shown_eight_hours_later() -> None:
    # The API sends naive UTC; late evening UTC is the next morning in Beijing.
    assert beijing.minutes("2026-12-04T17:50:09") == "2026-12-05 01:50"
    assert beijing.seconds(datetime(2026, 12, 4, 1, 50, 9)) == "2026-12-04 09:50:09"
    assert beijing.minutes(datetime(2026, 12, 4, 1, 50, tzinfo=UTC)) == "2026-12-04 09:50"
    assert beijing.minutes("2026-12-04T01:50:00+00:00") == "2026-12-04 09:50"


def test_a_deadline_at_midnight_ends_on_the_day_before() -> None:
    # A window that closes at 2027-08-16 00:00 Beijing time (16:00 UTC the day before).
    assert beijing.last_day("2027-08-15T16:00:00") == "2027-08-15"
    assert beijing.day("2027-08-15T16:00:00") == "2027-08-16"
