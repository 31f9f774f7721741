"""The weekly report (SPEC §5) as plain data with SPEC §4's JSON keys; renderers format it."""

from __future__ import annotations

import bisect
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ereput.dates import now, utc_iso
from ereput.errors import UsageError
from ereput.models import AuthorClass, Space, Watchlist
from ereput.services.lookup import mention_json
from ereput.store import MENTION_COLUMNS, Store
from ereput.urls import host_of

AMBASSADOR_ROLES = ("customer", "designer", "brand", "community_manager")


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
        try:
            end = date.fromisoformat(until) if until else local_today
            start = date.fromisoformat(since) if since else end - timedelta(days=6)
        except ValueError:
            raise UsageError("--since/--until take dates such as 2026-11-16") from None
        if end < start:
            raise UsageError("--until is before --since")
        return Period(start, end, f"{start.isoformat()}..{end.isoformat()}")
    this_monday = local_today - timedelta(days=local_today.weekday())
    start = this_monday - timedelta(days=7)
    iso = start.isocalendar()
    return Period(start, start + timedelta(days=6), f"{iso.year}-W{iso.week:02d}")


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

    zone = ZoneInfo(wl.timezone)
    days = [period.start + timedelta(days=i) for i in range(period.days)]
    edges = [utc_iso(datetime.combine(d, time(), zone)) for d in days]
    counts = {s.value: [0] * len(days) for s in Space}
    for r in q(f"SELECT published, space {base}", args):
        counts[r[1]][bisect.bisect_right(edges, r[0]) - 1] += 1
    daily = [
        {"date": d.isoformat(), "community": counts["community"][i], "open": counts["open"][i]}
        for i, d in enumerate(days)
    ]

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

    # Outside: identified authors in open spaces.
    outside = q(
        f"SELECT person_id, max(author_name) AS name, count(*) AS n, "
        f"count(DISTINCT source) AS sources {base} AND space = 'open' "
        f"AND author_class = 'identified' GROUP BY person_id ORDER BY n DESC, sources DESC, name "
        f"LIMIT 10",
        args,
    )
    new_authors = q(
        f"SELECT person_id, max(author_name) AS name, count(*) AS n {base} "
        f"AND author_class = 'identified' GROUP BY person_id "
        f"HAVING NOT EXISTS (SELECT 1 FROM mentions p WHERE p.person_id = mentions.person_id "
        f"AND p.watchlist = ? AND p.published < ?) ORDER BY n DESC, name, person_id LIMIT 20",
        [*args, wl.name, lo],
    )
    open_total = sum(quadrants["open"].values())
    anonymous_share = round(quadrants["open"]["anonymous"] / open_total, 3) if open_total else None

    # Ambassadors: brand-side members speaking in open spaces within the rules' window.
    window_lo = utc_iso(
        datetime.fromisoformat(hi.replace("Z", "+00:00")) - timedelta(days=wl.rules.window_days)
    )
    marks = ",".join("?" * len(AMBASSADOR_ROLES))
    ambassadors = [
        {
            "person_id": r[0],
            "name": r[1],
            "role": r[2],
            "open_mentions": r[3],
            "why": f"{r[2]} member with {r[3]} mention(s) in open spaces in the last "
            f"{wl.rules.window_days} days",
        }
        for r in q(
            f"SELECT m.person_id, m.name, m.role, count(*) FROM members m JOIN mentions x "
            f"ON x.person_id = m.person_id AND x.watchlist = m.watchlist WHERE m.watchlist = ? "
            f"AND x.space = 'open' AND x.published >= ? AND x.published < ? "
            f"AND m.role IN ({marks}) GROUP BY m.person_id ORDER BY count(*) DESC",
            [wl.name, window_lo, hi, *AMBASSADOR_ROLES],
        )
    ]

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
        "previous": {"start": prev.start.isoformat(), "end": prev.end.isoformat()},
        "totals": {"mentions": total, "previous": previous, "delta": total - previous},
        "quadrants": quadrants,
        "sentiment": sentiment,
        "daily": daily,
        "top_sources": top_sources,
        "top_domains": [{"domain": d, "mentions": n} for d, n in domains.most_common(10)],
        "community": {
            "active_members": len(active),
            "by_role": dict(sorted(by_role.items())),
            "dunbar_limit": wl.community.dunbar_limit,
            "over_limit": len(active) > wl.community.dunbar_limit,
        },
        "outside": {
            "most_mediatized": [
                {
                    "person_id": r["person_id"],
                    "name": r["name"],
                    "mentions": r["n"],
                    "sources": r["sources"],
                    "reach": None,
                }
                for r in outside
            ],
            "new_authors": [
                {"person_id": r["person_id"], "name": r["name"], "mentions": r["n"]}
                for r in new_authors
            ],
            "anonymous_share": anonymous_share,
        },
        "invite_candidates": [],
        "trolls": [],
        "ambassadors": ambassadors,
        "top_threads": top_threads,
    }


def period_mentions(store: Store, wl: Watchlist, period: Period) -> list[dict[str, Any]]:
    """The period's mentions, oldest first (the CSV export)."""
    lo, hi = period.bounds(wl.timezone)
    rows = store.query(
        f"SELECT {MENTION_COLUMNS} FROM mentions WHERE watchlist = ? AND published >= ? "
        f"AND published < ? ORDER BY published, id",
        [wl.name, lo, hi],
    )
    return [mention_json(r) for r in rows]
