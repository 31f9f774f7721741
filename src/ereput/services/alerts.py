"""Alerts after a scan (SPEC §3 `[alerts]`): which new mentions and spike days alert, the
outbox that keeps each alert until it is delivered, and delivery to a webhook (a JSON POST
`{"text": …}`, Slack/Mattermost compatible) and by e-mail (SMTP).

Rules (`alerts.on`):
- `negative_outside`: a new mention in open space whose sentiment is at or below the
  watchlist's `rules.troll_max_sentiment` (no sentiment, no alert);
- `flagged_author`: a new mention whose person carries a flag (SPEC §7 "Flags", counted
  with that mention): troll or invite in any space, ambassador in open space only (a
  member's every community post is not news);
- `mediator`: a new mention by a member whose role is `mediator` (any space);
- `spike`: today's volume, or today's negative volume, in one space exceeds
  `rules.spike_factor` times its average over the 7 days before (at least 3 mentions; days
  cut in the watchlist's time zone); once per day and space.
"New" means first stored by this scan and published in the last `FRESH_DAYS` days: the
backlog a first scan reads is not news.

Guarantees:
- a mention's alerts are queued in the transaction that stores the mention: a scan killed
  at any moment leaves either both or neither, and the next scan delivers what is queued;
- one outbox row per (mention or spike day, channel), unique: at most one alert each;
- a row is marked sent only after its delivery succeeded; a failed delivery keeps it for
  the next scan (no alert is lost). A scan killed after a delivery succeeded but before it
  was marked sends it again at the next scan: at least once there, never lost.
"""

from __future__ import annotations

import contextlib
import functools
import json
import smtplib
import ssl
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import httpx

from ereput import USER_AGENT
from ereput.dates import now, utc_iso
from ereput.errors import AlertError
from ereput.models import EmailAlert, Watchlist
from ereput.render.alerts import AlertView, email_message, webhook_text
from ereput.render.safe import one_line
from ereput.services.people import person_flags
from ereput.spikes import TRAILING, find_spikes
from ereput.store import Store

#: Only mentions published this recently alert (a first scan's backlog does not).
FRESH_DAYS = 7
#: Webhook: alerts per POST and characters per message (chat clients fold long ones).
WEBHOOK_BATCH = 20
WEBHOOK_CHARS = 3500
#: E-mail: alerts per message (one message per scan and watchlist unless more).
EMAIL_BATCH = 200
#: Time-outs of one delivery (seconds): connect, then each read/write; whole POST deadline.
CONNECT_TIMEOUT = 10.0
IO_TIMEOUT = 30.0
WEBHOOK_DEADLINE = 60.0
WEBHOOK_MAX_ANSWER = 64 * 1024

CHANNELS = ("webhook", "email")


def channels(wl: Watchlist) -> tuple[str, ...]:
    """Where this watchlist's alerts go (none when `alerts.on` is empty)."""
    if not wl.alerts.on:
        return ()
    return tuple(
        c
        for c, target in zip(CHANNELS, (wl.alerts.webhook, wl.alerts.email), strict=True)
        if target
    )


def _queue(
    store: Store,
    wl: Watchlist,
    key: str,
    rules: Sequence[str],
    detail: dict[str, Any],
    mention_id: str | None,
    at: datetime,
) -> int:
    queued = 0
    for channel in channels(wl):
        cur = store.conn.execute(
            "INSERT OR IGNORE INTO alerts (watchlist, key, channel, rules, mention_id, detail, "
            "created) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                wl.name,
                key,
                channel,
                json.dumps(list(rules)),
                mention_id,
                json.dumps(detail, ensure_ascii=False),
                utc_iso(at),
            ),
        )
        queued += cur.rowcount
    return queued


# --- rules: call inside the transaction that stored the mentions ---------------------------


def queue_mention_alerts(
    store: Store,
    wl: Watchlist,
    mention_ids: Sequence[str],
    *,
    at: datetime | None = None,
) -> int:
    """Queue the alerts that these newly stored mentions raise; returns the rows queued.

    Call it in the transaction that stored them (the scan does), so that a mention is never
    stored without its alerts."""
    wanted = set(wl.alerts.on) - {"spike"}
    if not mention_ids or not wanted or not channels(wl):
        return 0
    at = at or now()
    rows = []
    for i in range(0, len(mention_ids), 500):
        chunk = list(mention_ids[i : i + 500])
        marks = ",".join("?" * len(chunk))
        rows.extend(
            store.query(
                f"SELECT id, person_id, space, sentiment, author_role FROM mentions "
                f"WHERE id IN ({marks}) AND watchlist = ? AND published >= ?",
                [*chunk, wl.name, utc_iso(at - timedelta(days=FRESH_DAYS))],
            )
        )
    by_person: dict[str, list[dict[str, Any]]] = {}
    if "flagged_author" in wanted:
        persons = sorted({r["person_id"] for r in rows if r["person_id"]})
        by_person = person_flags(store, wl, persons, at=at) if persons else {}
    order = {mid: i for i, mid in enumerate(mention_ids)}
    queued = 0
    for r in sorted(rows, key=lambda r: order[r["id"]]):
        rules: list[str] = []
        detail: dict[str, Any] = {}
        sentiment = r["sentiment"]
        if (
            "negative_outside" in wanted
            and r["space"] == "open"
            and sentiment is not None
            and sentiment <= wl.rules.troll_max_sentiment
        ):
            rules.append("negative_outside")
        # An ambassador alerts when speaking in open space, not at each community post.
        flagged = [
            f
            for f in by_person.get(r["person_id"]) or []
            if f.get("flag") != "ambassador" or r["space"] == "open"
        ]
        if "flagged_author" in wanted and flagged:
            rules.append("flagged_author")
            detail["flags"] = flagged
        if "mediator" in wanted and r["author_role"] == "mediator":
            rules.append("mediator")
        if rules:
            queued += _queue(store, wl, f"mention:{r['id']}", rules, detail, r["id"], at)
    return queued


def _day_bounds(day: date, zone: ZoneInfo) -> str:
    return utc_iso(datetime.combine(day, dtime(), zone).astimezone(UTC))


def queue_spike_alerts(store: Store, wl: Watchlist, *, at: datetime | None = None) -> int:
    """Queue a `spike` alert for each space whose volume (or negative volume) today is a
    spike (`ereput.spikes.find_spikes`); once per day and space. Call in a transaction."""
    if "spike" not in wl.alerts.on or not channels(wl):
        return 0
    at = at or now()
    zone = ZoneInfo(wl.timezone)
    today = at.astimezone(zone).date()
    days = [today - timedelta(days=TRAILING - i) for i in range(TRAILING + 1)]
    bounds = [_day_bounds(d, zone) for d in days] + [_day_bounds(today + timedelta(1), zone)]
    series: dict[str, dict[str, list[int]]] = {
        space: {"volume": [0] * len(days), "negative": [0] * len(days)}
        for space in ("open", "community")
    }
    for published, space, sentiment in store.conn.execute(
        "SELECT published, space, sentiment FROM mentions "
        "WHERE watchlist = ? AND published >= ? AND published < ?",
        (wl.name, bounds[0], bounds[-1]),
    ):
        i = next(k for k in range(len(days)) if published < bounds[k + 1])
        counts = series.setdefault(space, {"volume": [0] * len(days), "negative": [0] * len(days)})
        counts["volume"][i] += 1
        if sentiment is not None and sentiment <= wl.rules.troll_max_sentiment:
            counts["negative"][i] += 1
    queued = 0
    for space, counts in series.items():
        which = [
            name
            for name, values in counts.items()
            if find_spikes(
                values[-1:],
                factor=wl.rules.spike_factor,
                trailing=TRAILING,
                history=values[:-1],
            )
        ]
        if not which:
            continue
        detail = {
            "space": space,
            "date": today.isoformat(),
            "which": which,
            "count": counts["volume"][-1],
            "average": round(sum(counts["volume"][:-1]) / TRAILING, 2),
            "negative": counts["negative"][-1],
            "negative_average": round(sum(counts["negative"][:-1]) / TRAILING, 2),
        }
        key = f"spike:{space}:{today.isoformat()}"
        queued += _queue(store, wl, key, ["spike"], detail, None, at)
    return queued


# --- delivery ------------------------------------------------------------------------------


@dataclass
class AlertsSummary:
    """What delivery did: alerts sent (counted per channel), still queued, failures."""

    sent: int = 0
    pending: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"sent": self.sent, "pending": self.pending, "failed": self.failed}


@dataclass(frozen=True)
class _Row:
    id: int
    view: AlertView


def _pending(store: Store, wl: Watchlist, channel: str) -> list[_Row]:
    """The queued alerts of one channel, oldest first. An alert whose mention is no longer
    stored (its author forgotten, or purged) is dropped: it has nothing left to say."""
    rows = store.query(
        "SELECT a.id, a.rules, a.detail, a.mention_id, m.id AS found, m.url, m.title, m.text, "
        "m.author_name, m.author_class, m.author_role, m.space, m.source, m.sentiment, "
        "m.published FROM alerts a LEFT JOIN mentions m ON m.id = a.mention_id "
        "WHERE a.watchlist = ? AND a.channel = ? AND a.sent_at IS NULL ORDER BY a.id",
        [wl.name, channel],
    )
    gone = [r["id"] for r in rows if r["mention_id"] is not None and r["found"] is None]
    if gone:
        with store.transaction():
            store.conn.executemany("DELETE FROM alerts WHERE id = ?", [(i,) for i in gone])
    out = []
    for r in rows:
        if r["id"] in gone:
            continue
        mention = None
        if r["mention_id"] is not None:
            mention = {
                k: r[k]
                for k in (
                    "url",
                    "title",
                    "text",
                    "author_name",
                    "author_class",
                    "author_role",
                    "space",
                    "source",
                    "sentiment",
                    "published",
                )
            }
        view = AlertView(tuple(json.loads(r["rules"])), json.loads(r["detail"]), mention)
        out.append(_Row(r["id"], view))
    return out


def _mark_sent(store: Store, rows: Sequence[_Row]) -> None:
    at = utc_iso(now())
    with store.transaction():
        store.conn.executemany(
            "UPDATE alerts SET sent_at = ?, last_attempt = ?, attempts = attempts + 1, "
            "last_error = NULL WHERE id = ?",
            [(at, at, r.id) for r in rows],
        )


def _mark_failed(store: Store, rows: Sequence[_Row], error: str) -> None:
    at = utc_iso(now())
    with store.transaction():
        store.conn.executemany(
            "UPDATE alerts SET last_attempt = ?, attempts = attempts + 1, last_error = ? "
            "WHERE id = ?",
            [(at, error, r.id) for r in rows],
        )


def _webhook_batches(title: str, rows: Sequence[_Row]) -> Iterable[tuple[list[_Row], str]]:
    batch: list[_Row] = []
    for row in rows:
        trial = [*batch, row]
        if batch and (
            len(trial) > WEBHOOK_BATCH
            or len(webhook_text(title, [r.view for r in trial])) > WEBHOOK_CHARS
        ):
            yield batch, webhook_text(title, [r.view for r in batch])
            batch = [row]
        else:
            batch = trial
    if batch:
        yield batch, webhook_text(title, [r.view for r in batch])


def post_webhook(client: httpx.Client, url: str, text: str) -> None:
    """POST `{"text": text}`; any answer but 2xx, or no answer in time, is a failure. The
    URL is a secret (whoever has it may post): errors name its host only."""
    host = urlsplit(url).hostname or "?"
    deadline = time.monotonic() + WEBHOOK_DEADLINE
    try:
        with client.stream("POST", url, json={"text": text}) as response:
            read = 0
            for chunk in response.iter_raw():
                read += len(chunk)
                if read > WEBHOOK_MAX_ANSWER or time.monotonic() > deadline:
                    break
            status = response.status_code
    except httpx.HTTPError as e:
        reason = one_line(str(e).replace(url, host), 200) or type(e).__name__
        raise AlertError(f"webhook at {host}: {reason}") from None
    if not 200 <= status < 300:
        raise AlertError(f"webhook at {host}: HTTP {status}")


def send_email(cfg: EmailAlert, subject: str, body: str) -> None:
    """One plain-text message through `smtp://host:port` (plain; STARTTLS when the server
    offers it and a user is given) or `smtps://` (TLS). The password never appears in
    errors."""
    u = urlsplit(cfg.smtp)
    tls = u.scheme == "smtps"
    host = u.hostname or "localhost"
    port = u.port or (465 if tls else 25)
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = cfg.sender
    msg["To"] = ", ".join(cfg.to)
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(domain=cfg.sender.rpartition("@")[2] or None)
    msg.set_content(body, cte="quoted-printable")
    try:
        smtp: smtplib.SMTP
        if tls:
            smtp = smtplib.SMTP_SSL(
                host, port, timeout=IO_TIMEOUT, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(host, port, timeout=IO_TIMEOUT)
        with smtp:
            if u.username:
                smtp.ehlo()
                if not tls and smtp.has_extn("starttls"):
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                smtp.login(unquote(u.username), unquote(u.password or ""))
            smtp.send_message(msg)
    except (smtplib.SMTPException, OSError) as e:
        reason = one_line(str(e), 200) or type(e).__name__
        if u.password:
            reason = reason.replace(u.password, "***")
        raise AlertError(f"e-mail via {host}:{port}: {reason}") from None


def deliver(store: Store, watchlists: Sequence[Watchlist]) -> AlertsSummary:
    """Send every queued alert of these watchlists; failures stay queued for the next
    scan. Each batch is marked sent as soon as it is delivered."""
    summary = AlertsSummary()
    with contextlib.ExitStack() as stack:
        client: httpx.Client | None = None
        for wl in watchlists:
            targets = channels(wl)
            # Alerts queued for a channel since removed from the watchlist have nowhere to go.
            marks = ",".join("?" * len(targets)) or "''"
            with store.transaction():
                store.conn.execute(
                    f"DELETE FROM alerts WHERE watchlist = ? AND sent_at IS NULL "
                    f"AND channel NOT IN ({marks})",
                    [wl.name, *targets],
                )
            title = wl.title or wl.name
            for channel in targets:
                rows = _pending(store, wl, channel)
                batches: list[tuple[list[_Row], Callable[[], None]]] = []
                if rows and wl.alerts.webhook and channel == "webhook":
                    if client is None:
                        client = stack.enter_context(
                            httpx.Client(
                                timeout=httpx.Timeout(IO_TIMEOUT, connect=CONNECT_TIMEOUT),
                                follow_redirects=False,
                                headers={"User-Agent": USER_AGENT},
                            )
                        )
                    post = functools.partial(post_webhook, client, wl.alerts.webhook)
                    batches = [
                        (batch, functools.partial(post, text))
                        for batch, text in _webhook_batches(title, rows)
                    ]
                elif rows and wl.alerts.email and channel == "email":
                    mail = functools.partial(send_email, wl.alerts.email)
                    for i in range(0, len(rows), EMAIL_BATCH):
                        batch = rows[i : i + EMAIL_BATCH]
                        message = email_message(title, [r.view for r in batch])
                        batches.append((batch, functools.partial(mail, *message)))
                left = list(rows)
                for batch, send in batches:
                    try:
                        send()
                    except AlertError as e:
                        _mark_failed(store, left, str(e))
                        summary.failed.append(
                            {
                                "watchlist": wl.name,
                                "channel": channel,
                                "error": str(e),
                                "pending": len(left),
                            }
                        )
                        break
                    _mark_sent(store, batch)
                    summary.sent += len(batch)
                    left = left[len(batch) :]
            if targets:
                marks = ",".join("?" * len(targets))
                summary.pending += store.conn.execute(
                    f"SELECT count(*) FROM alerts WHERE watchlist = ? AND sent_at IS NULL "
                    f"AND channel IN ({marks})",
                    [wl.name, *targets],
                ).fetchone()[0]
    return summary


def after_scan(store: Store, watchlists: Sequence[Watchlist]) -> AlertsSummary:
    """What a scan does last: queue today's spikes, then deliver everything queued."""
    for wl in watchlists:
        if channels(wl):
            with store.transaction():
                queue_spike_alerts(store, wl)
    return deliver(store, watchlists)


__all__ = [
    "AlertsSummary",
    "after_scan",
    "channels",
    "deliver",
    "queue_mention_alerts",
    "queue_spike_alerts",
]
