"""Timestamps as ereput stores and accepts them.

Stored timestamps are ISO-8601 UTC strings with a `Z` ("2026-11-16T09:30:00Z"): they sort
as text, so SQLite range queries on them use plain indexes.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from ereput.errors import UsageError

EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)


def utc_iso(dt: datetime) -> str:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now() -> datetime:
    return datetime.now(UTC)


def from_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def plausible(dt: datetime | None, fetched: datetime) -> bool:
    """SPEC §7: a date before 1990 or more than a day in the future is not believed."""
    return dt is not None and EARLIEST <= dt <= fetched + timedelta(days=1)


_RELATIVE = re.compile(r"^(\d+)\s*([hdwm])$")


def parse_when(text: str, tz: str = "UTC", *, end_of_day: bool = False) -> datetime:
    """Read a command-line date: `2026-11-16`, an ISO-8601 timestamp, or `7d`/`2w`/`12h`/`1m`.

    A bare date is a day in the watchlist's time zone; with `end_of_day` it means the end of
    that day (so `--until 2026-11-22` includes all of the 22nd).
    """
    text = text.strip()
    m = _RELATIVE.match(text)
    if m:
        n, unit = int(m.group(1)), m.group(2)
        delta = {
            "h": timedelta(hours=n),
            "d": timedelta(days=n),
            "w": timedelta(weeks=n),
            "m": timedelta(days=30 * n),
        }[unit]
        return now() - delta
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            start = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(tz))
            if end_of_day:
                start += timedelta(days=1)
            return start.astimezone(UTC)
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"cannot read the date {text!r}: use 2026-11-16, an ISO-8601 timestamp, or 7d/2w"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=ZoneInfo(tz))
    return dt.astimezone(UTC)
