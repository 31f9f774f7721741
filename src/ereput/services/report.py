"""The weekly report (SPEC §5) as plain data with SPEC §4's JSON keys; renderers format it."""

from __future__ import annotations

import bisect
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ereput.dates import now, parse_when, utc_iso
from ereput.errors import UsageError
from ereput.models import AuthorClass, Space, Watchlist
from ereput.services.lookup import mention_json
from ereput.services.people import latest_urls, report_people
from ereput.spikes import TRAILING, find_spikes
from ereput.store import MENTION_COLUMNS, Store
from ereput.urls import host_of

LINKS = 10  # links to mentions kept per person, spike day or thread in a report


@dataclass(frozen=True)
class Period:
    start: date  # inclusive
    end: date  # inclusive
    label: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        end = self.start - timedelta(days=1)
        start = end - timedelta(days=self.days - 1)
        return Period(start, end, f"{start.isoformat()}..{end.isoformat()}")

    def bounds(self, tz: str) -> tuple[str, str]:
        """The period as a half-open UTC range, days cut in the watchlist's time zone."""
        zone = ZoneInfo(tz)
        lo = datetime.combine(self.start, time(), zone).astimezone(UTC)
        hi = datetime.combine(self.end + timedelta(days=1), time(), zone).astimezone(UTC)
        return utc_iso(lo), utc_iso(hi)


def period_for(
    tz: str,
    *,
    week: str | None = None,
    since: str | None = None,
    until: str | None = None,
    month: str | None = None,
    today: date | None = None,
) -> Period:
    """Read the report's period: `--week 2026-W47`, `--month 2026-11`, `--since/--until`
    (inclusive dates), else the last complete ISO week in the watchlist's time zone."""
    if week:
        m = re.fullmatch(r"(\d{4})-?W(\d{1,2})", week.strip(), re.I)
        if not m:
            raise UsageError(f"--week takes an ISO week such as 2026-W47, not {week!r}")
        try:
            start = date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
        except ValueError as e:
            raise UsageError(f"--week {week}: {e}") from None
        return Period(start, start + timedelta(days=6), f"{m.group(1)}-W{int(m.group(2)):02d}")
    if month:
        m = re.fullmatch(r"(\d{4})-(\d{2})", month.strip())
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise UsageError(f"--month takes a month such as 2026-11, not {month!r}")
        start = date(int(m.group(1)), int(m.group(2)), 1)
        nxt = date(start.year + start.month // 12, start.month % 12 + 1, 1)
        return Period(start, nxt - timedelta(days=1), month)
    local_today = today or now().astimezone(ZoneInfo(tz)).date()
    if since or until:
        end = _day(until, tz) if until else local_today
        start = _day(since, tz) if since else end - timedelta(days=6)
        if end < start:
            raise UsageError("--until is before --since")
        return Period(start, end, f"{start.isoformat()}..{end.isoformat()}")
    this_monday = local_today - timedelta(days=local_today.weekday())
    start = this_monday - timedelta(days=7)
    iso = start.isocalendar()
    return Period(start, start + timedelta(days=6), f"{iso.year}-W{iso.week:02d}")


def _day(text: str, tz: str) -> date:
    """A `--since/--until` value as a day in the watchlist's time zone: `2026-11-16`, an
    ISO-8601 timestamp, or `7d`/`2w` (SPEC §4)."""
    text = text.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        return parse_when(text, tz).astimezone(ZoneInfo(tz)).date()


def build_report(store: Store, wl: Watchlist, period: Period) -> dict[str, Any]:
    lo, hi = period.bounds(wl.timezone)
    prev = period.previous()
    plo, phi = prev.bounds(wl.timezone)
    q = store.query
    base = "FROM mentions WHERE watchlist = ? AND published >= ? AND published < ?"
    args = [wl.name, lo, hi]

    total = q(f"SELECT count(*) {base}", args)[0][0]
    previous = q(f"SELECT count(*) {base}", [wl.name, plo, phi])[0][0]

    quadrants = {s.value: {c.value: 0 for c in AuthorClass} for s in Space}
    for r in q(f"SELECT space, author_class, count(*) {base} GROUP BY 1, 2", args):
        quadrants[r[0]][r[1]] = r[2]

    sentiment = {s.value: None for s in Space}
    for r in q(f"SELECT space, avg(sentiment) {base} AND sentiment IS NOT NULL GROUP BY 1", args):
        sentiment[r[0]] = round(r[1], 3)

    daily, spikes = _daily(store, wl, period)

    top_sources = [
        {"source": r[0], "domain": host_of(r[1]) or "", "mentions": r[2]}
        for r in q(
            f"SELECT source, min(url), count(*) AS n {base} GROUP BY source "
            "ORDER BY n DESC, source LIMIT 10",
            args,
        )
    ]
    domains = Counter[str]()
    for r in q(f"SELECT url {base}", args):
        domains[host_of(r[0]) or ""] += 1

    # Community: members active in the period, by role, against the Dunbar threshold.
    active = q(
        "SELECT DISTINCT m.person_id, m.role, m.name FROM members m JOIN mentions x "
        "ON x.person_id = m.person_id AND x.watchlist = m.watchlist "
        "WHERE m.watchlist = ? AND x.published >= ? AND x.published < ?",
        args,
    )
    by_role = Counter(r["role"] for r in active)

    # Outside and to act on: reach and flags over the rules' window (services.people).
    people = report_people(store, wl, lo, hi)
    new_authors = q(
        f"SELECT person_id, max(author_name) AS name, count(*) AS n {base} "
        f"AND author_class = 'identified' GROUP BY person_id "
        f"HAVING NOT EXISTS (SELECT 1 FROM mentions p WHERE p.person_id = mentions.person_id "
        f"AND p.watchlist = ? AND p.published < ?) ORDER BY n DESC, name, person_id LIMIT 20",
        [*args, wl.name, lo],
    )
    open_total = sum(quadrants["open"].values())
    anonymous_share = round(quadrants["open"]["anonymous"] / open_total, 3) if open_total else None

    threads = q(
        f"SELECT thread_url, count(*) AS n, sum(context) AS ctx {base} "
        f"GROUP BY thread_url HAVING n > 1 ORDER BY n DESC LIMIT 10",
        args,
    )
    top_threads = []
    for r in threads:
        root = q(
            f"SELECT {MENTION_COLUMNS} FROM mentions WHERE id = ? AND watchlist = ? AND url = ?",
            [Store.mention_id(wl.name, r[0]), wl.name, r[0]],
        )
        top_threads.append(
            {
                "thread_url": r[0],
                "title": root[0]["title"] if root else "",
                "mentions": r[1],
                "replies": r[1] - (1 if root else 0),
            }
        )

    return {
        "watchlist": wl.name,
        "title": wl.title or wl.name,
        "timezone": wl.timezone,
        "period": {
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "label": period.label,
        },
        "previous": {
            "start": prev.start.isoformat(),
            "end": prev.end.isoformat(),
            **_figures(store, wl, plo, phi),
        },
        "totals": {"mentions": total, "previous": previous, "delta": total - previous},
        "quadrants": quadrants,
        "sentiment": sentiment,
        "daily": daily,
        "spikes": spikes,
        "top_sources": top_sources,
        "top_domains": [{"domain": d, "mentions": n} for d, n in domains.most_common(10)],
        "community": {
            "active_members": len(active),
            "by_role": dict(sorted(by_role.items())),
            "dunbar_limit": wl.community.dunbar_limit,
            "over_limit": len(active) > wl.community.dunbar_limit,
        },
        "outside": {
            "most_mediatized": people["most_mediatized"],
            "new_authors": [
                {
                    "person_id": r["person_id"],
                    "name": r["name"],
                    "mentions": r["n"],
                    "links": latest_urls(store, wl.name, r["person_id"], lo, hi, LINKS),
                }
                for r in new_authors
            ],
            "anonymous_share": anonymous_share,
        },
        "invite_candidates": people["invite_candidates"],
        "trolls": people["trolls"],
        "ambassadors": people["ambassadors"],
        "flag_counts": people["flag_counts"],
        "top_threads": top_threads,
    }


def _figures(store: Store, wl: Watchlist, lo: str, hi: str) -> dict[str, Any]:
    """The figures a report compares with the previous period: grid, sentiment, members."""
    base = "FROM mentions WHERE watchlist = ? AND published >= ? AND published < ?"
    args = [wl.name, lo, hi]
    quadrants = {s.value: {c.value: 0 for c in AuthorClass} for s in Space}
    sentiment: dict[str, float | None] = {s.value: None for s in Space}
    negative = 0
    for r in store.query(
        f"SELECT space, author_class, count(*), sum(sentiment <= ?) {base} GROUP BY 1, 2",
        [wl.rules.troll_max_sentiment, *args],
    ):
        quadrants[r[0]][r[1]] = r[2]
        negative += r[3] or 0
    for r in store.query(
        f"SELECT space, avg(sentiment) {base} AND sentiment IS NOT NULL GROUP BY 1", args
    ):
        sentiment[r[0]] = round(r[1], 3)
    active = store.query(
        "SELECT count(DISTINCT m.person_id) FROM members m JOIN mentions x "
        "ON x.person_id = m.person_id AND x.watchlist = m.watchlist "
        "WHERE m.watchlist = ? AND x.published >= ? AND x.published < ?",
        args,
    )[0][0]
    open_total = sum(quadrants["open"].values())
    return {
        "quadrants": quadrants,
        "sentiment": sentiment,
        "negative": negative,
        "active_members": active,
        "anonymous_share": (
            round(quadrants["open"]["anonymous"] / open_total, 3) if open_total else None
        ),
    }


def _daily(
    store: Store, wl: Watchlist, period: Period
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Volume per day by space, negative volume (sentiment at or below the rules'
    `troll_max_sentiment`, as the `spike` alert counts it), and the spike days
    (`ereput.spikes`), each judged against the `TRAILING` days before it (days before
    the period included)."""
    zone = ZoneInfo(wl.timezone)
    first = period.start - timedelta(days=TRAILING)
    days = [first + timedelta(days=i) for i in range(period.days + TRAILING)]
    edges = [utc_iso(datetime.combine(d, time(), zone)) for d in days]
    _, hi = period.bounds(wl.timezone)
    n = len(days)
    counts = {s.value: [0] * n for s in Space}
    negative = [0] * n
    for r in store.query(
        "SELECT published, space, sentiment FROM mentions WHERE watchlist = ? "
        "AND published >= ? AND published < ?",
        [wl.name, edges[0], hi],
    ):
        i = bisect.bisect_right(edges, r[0]) - 1
        counts[r[1]][i] += 1
        if r[2] is not None and r[2] <= wl.rules.troll_max_sentiment:
            negative[i] += 1
    total = [c + o for c, o in zip(counts["community"], counts["open"], strict=True)]
    factor = wl.rules.spike_factor
    k = TRAILING
    on_volume = set(find_spikes(total[k:], factor=factor, trailing=k, history=total[:k]))
    on_negative = set(find_spikes(negative[k:], factor=factor, trailing=k, history=negative[:k]))
    daily: list[dict[str, Any]] = []
    spikes: list[dict[str, Any]] = []
    for j, d in enumerate(days[k:]):
        i = j + k
        kinds = [
            kind for kind, hit in (("volume", on_volume), ("negative", on_negative)) if j in hit
        ]
        daily.append(
            {
                "date": d.isoformat(),
                "community": counts["community"][i],
                "open": counts["open"][i],
                "negative": negative[i],
                "spike": bool(kinds),
            }
        )
        if not kinds:
            continue
        series = total if "volume" in kinds else negative
        lo_day, hi_day = edges[i], edges[i + 1] if i + 1 < n else hi
        links = store.query(
            "SELECT url FROM mentions WHERE watchlist = ? AND published >= ? AND published < ? "
            "ORDER BY coalesce(sentiment, 0), published LIMIT ?",
            [wl.name, lo_day, hi_day, LINKS],
        )
        spikes.append(
            {
                "date": d.isoformat(),
                "on": kinds,
                "mentions": total[i],
                "negative": negative[i],
                "trailing_average": round(sum(series[i - k : i]) / k, 2),
                "factor": factor,
                "links": [r[0] for r in links],
            }
        )
    return daily, spikes


def period_mentions(store: Store, wl: Watchlist, period: Period) -> list[dict[str, Any]]:
    """The period's mentions, oldest first (the CSV export)."""
    lo, hi = period.bounds(wl.timezone)
    rows = store.query(
        f"SELECT {MENTION_COLUMNS} FROM mentions WHERE watchlist = ? AND published >= ? "
        f"AND published < ? ORDER BY published, id",
        [wl.name, lo, hi],
    )
    return [mention_json(r) for r in rows]
