"""Alerts after a scan: a real scan against feeds on 127.0.0.1, a real webhook receiver
(tests/httpserver.py) and a real SMTP server (tests/smtpserver.py). Each alert arrives
exactly once, including after a failed first delivery; hostile strings arrive inert."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from typer.testing import CliRunner

from ereput.cli import app
from ereput.dates import now, utc_iso
from ereput.models import Account, Alerts, Identifier, Item, Space, Watchlist
from ereput.render.alerts import AlertView, email_message, slack_text, slack_url, webhook_text
from ereput.services import alerts
from ereput.store import Mention, Store
from ereput.watchlist import load_watchlists
from httpserver import HTTPTestServer, Response, sequence
from smtpserver import SMTPTestServer

HOOK = "/hooks/T000/B000SECRET"
MARIE = "https://news.example.org/authors/marie"
HOSTILE_TITLE = (
    "<!channel> Acme <!here> <http://evil.example/|click here> [win](http://evil.example/x) "
    "![pixel](http://evil.example/p.gif) @channel @here &amp; done"
)
HOSTILE_NAME = "<!everyone> Marie @all"


@pytest.fixture
def smtp_server():
    with SMTPTestServer() as server:
        yield server


def _today_moment() -> datetime:
    """A moment just past, but today in UTC (the spike rule cuts days)."""
    t = now().replace(microsecond=0)
    midnight = t.replace(hour=0, minute=0, second=0)
    return max(t - timedelta(seconds=30), midnight)


def atom(entries: list[dict]) -> str:
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>News</title>',
        "<id>urn:news</id><updated>2026-01-01T00:00:00Z</updated>",
    ]
    for e in entries:
        uri = f"<uri>{escape(e['uri'])}</uri>" if e.get("uri") else ""
        parts.append(
            f"<entry><id>{escape(e['url'])}</id><title>{escape(e['title'])}</title>"
            f'<link href="{escape(e["url"])}"/><updated>{utc_iso(e["published"])}</updated>'
            f"<author><name>{escape(e['author'])}</name>{uri}</author>"
            f"<summary>{escape(e.get('text', e['title']))}</summary></entry>"
        )
    parts.append("</feed>")
    return "\n".join(parts)


def write_watchlist(
    path: Path, base: str, *, webhook: str, smtp: str, on: str = '["mediator", "spike"]'
) -> Path:
    path.write_text(
        textwrap.dedent(f"""\
        name = "acme"
        title = "Acme Cloud"

        [query]
        terms = ['acme']

        [[community.members]]
        name = "Marie Journaliste"
        role = "mediator"
        identifiers = ["{MARIE}"]

        [[sources]]
        name = "news"
        kind = "feed"
        url = "{base}/news.atom"

        [alerts]
        webhook = "{webhook}"
        on = {on}

        [alerts.email]
        to = ["veille@acme.example.org"]
        smtp = "{smtp}"
        from = "ereput@acme.example.org"
        """),
        encoding="utf-8",
    )
    return path


def invoke(*args: str, db: Path, wl: Path):
    return CliRunner().invoke(app, ["--db", str(db), "-w", str(wl), *args])


def successful_posts(server: HTTPTestServer) -> list[str]:
    """The texts of the webhook POSTs the receiver accepted (each answered in order)."""
    return [json.loads(r.body)["text"] for r in server.requests(HOOK)]


def test_each_alert_arrives_once_even_after_a_failed_first_delivery(
    http_server, smtp_server, tmp_path
):
    today = _today_moment()
    e1 = "https://news.example.org/2026/acme-launch"
    e2 = "https://news.example.org/2026/acme-hostile"
    e3 = "https://news.example.org/2026/acme-prices"
    e4 = "https://news.example.org/2025/acme-old"
    http_server.routes["/news.atom"] = atom(
        [
            {
                "url": e1,
                "title": "Acme Cloud lance une offre",
                "author": "Marie",
                "uri": MARIE,
                "published": today,
            },
            {
                "url": e2,
                "title": HOSTILE_TITLE,
                "author": HOSTILE_NAME,
                "uri": MARIE,
                "published": today,
            },
            # Not a mediator: no alert of its own (it counts towards the spike).
            {
                "url": e3,
                "title": "Acme Cloud publie ses tarifs",
                "author": "Bob",
                "published": today,
            },
            # A mediator, but a month old: a first scan's backlog is not news.
            {
                "url": e4,
                "title": "Acme Cloud en 2025",
                "author": "Marie",
                "uri": MARIE,
                "published": today - timedelta(days=30),
            },
        ]
    )
    # The receiver fails the first POST (500), then accepts; the SMTP server refuses the
    # first message after it was transferred (451).
    http_server.routes[HOOK] = sequence(Response(b"boom", status=500), "ok")
    smtp_server.refuse_data = 1
    wl = write_watchlist(
        tmp_path / "acme.toml",
        http_server.origin,
        webhook=http_server.url(HOOK),
        smtp=smtp_server.url,
    )
    db = tmp_path / "e.db"

    first = invoke("scan", "--json", db=db, wl=wl)
    assert first.exit_code == 1, first.output  # partial: the alerts wait for the next scan
    summary = json.loads(first.stdout)
    assert summary["new"] == 4 and summary["failed"] == []
    # Mediator e1, mediator e2, today's spike in open space: three alerts, two channels.
    assert summary["alerts"]["sent"] == 0 and summary["alerts"]["pending"] == 6
    failed = {f["channel"]: f for f in summary["alerts"]["failed"]}
    assert failed.keys() == {"webhook", "email"}
    assert failed["webhook"]["error"] == "webhook at 127.0.0.1: HTTP 500"
    assert "451" in failed["email"]["error"]
    lines = [x for x in first.stderr.splitlines() if "alerts of acme" in x]
    assert len(lines) == 2 and all("3 kept for the next scan" in x for x in lines)
    assert "SECRET" not in first.stderr  # a webhook URL is a secret: only its host is named
    assert http_server.hits(HOOK) == 1 and smtp_server.messages == []

    second = invoke("scan", "--json", db=db, wl=wl)
    assert second.exit_code == 0, second.output
    again = json.loads(second.stdout)
    assert again["new"] == 0
    assert again["alerts"] == {"sent": 6, "pending": 0, "failed": []}
    texts = successful_posts(http_server)
    assert len(texts) == 2  # the failed one, then the one that went through
    text = texts[1]
    assert text.startswith("ereput · Acme Cloud — 3 new alerts")
    for url in (e1, e2):
        assert text.count(f"<{url}>") == 1
    assert e3 not in text and e4 not in text
    assert text.count("[spike]") == 1 and "open space on " in text
    assert text.count("[mediator]") == 2
    [mail] = smtp_server.messages
    assert mail.rcpt_to == ["<veille@acme.example.org>"]
    assert mail.message["Subject"] == "ereput: 3 new alerts for Acme Cloud"
    body = mail.body
    for url in (e1, e2):
        assert body.count(url) == 1
    assert e3 not in body and e4 not in body and body.count("* spike") == 1

    # Hostile strings from the page come out inert in the webhook text.
    assert "<!" not in text and "<http://evil" not in text
    assert "](" not in text and "@channel" not in text and "@here" not in text
    assert "@all" not in text
    assert "&lt;!channel&gt;" in text and "&amp;amp;" in text

    third = invoke("scan", "--json", db=db, wl=wl)
    assert third.exit_code == 0, third.output
    assert json.loads(third.stdout)["alerts"] == {"sent": 0, "pending": 0, "failed": []}
    assert http_server.hits(HOOK) == 2 and len(smtp_server.messages) == 1


def test_an_smtp_server_refusing_connections_gets_the_alert_next_time(
    http_server, smtp_server, tmp_path
):
    http_server.routes["/news.atom"] = atom(
        [
            {
                "url": "https://news.example.org/a",
                "title": "Acme!",
                "author": "Marie",
                "uri": MARIE,
                "published": _today_moment(),
            }
        ]
    )
    http_server.routes[HOOK] = "ok"
    smtp_server.refuse_connections = 1
    wl = write_watchlist(
        tmp_path / "acme.toml",
        http_server.origin,
        webhook=http_server.url(HOOK),
        smtp=smtp_server.url,
        on='["mediator"]',
    )
    db = tmp_path / "e.db"
    first = invoke("scan", "--json", db=db, wl=wl)
    assert first.exit_code == 1
    got = json.loads(first.stdout)["alerts"]
    assert got["sent"] == 1 and got["pending"] == 1  # the webhook went, the e-mail waits
    assert [f["channel"] for f in got["failed"]] == ["email"]
    assert "421" in got["failed"][0]["error"]
    second = invoke("scan", "--json", db=db, wl=wl)
    assert second.exit_code == 0
    assert json.loads(second.stdout)["alerts"] == {"sent": 1, "pending": 0, "failed": []}
    assert len(smtp_server.messages) == 1 and smtp_server.sessions == 2
    assert http_server.hits(HOOK) == 1


def test_a_scan_killed_while_delivering_loses_no_alert(http_server, smtp_server, tmp_path):
    """SIGKILL while the webhook holds the POST: the mentions and their alerts were committed
    together, nothing was marked sent, so the next scan delivers every alert."""
    urls = [f"https://news.example.org/k{i}" for i in range(2)]
    http_server.routes["/news.atom"] = atom(
        [
            {
                "url": u,
                "title": "Acme!",
                "author": "Marie",
                "uri": MARIE,
                "published": _today_moment(),
            }
            for u in urls
        ]
    )
    http_server.routes[HOOK] = Response("ok", stall=60)
    wl = write_watchlist(
        tmp_path / "acme.toml",
        http_server.origin,
        webhook=http_server.url(HOOK),
        smtp=smtp_server.url,
        on='["mediator"]',
    )
    db = tmp_path / "e.db"
    command = [sys.executable, "-m", "ereput", "--db", str(db), "-w", str(wl), "scan"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not http_server.hits(HOOK) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert http_server.hits(HOOK) == 1, "the scan never reached the webhook"
    finally:
        proc.kill()
        proc.wait()
    assert smtp_server.messages == []

    http_server.routes[HOOK] = "ok"
    again = invoke("scan", "--json", db=db, wl=wl)
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["alerts"] == {"sent": 4, "pending": 0, "failed": []}
    text = successful_posts(http_server)[-1]
    for u in urls:
        assert text.count(f"<{u}>") == 1
        assert smtp_server.messages[0].body.count(u) == 1
    assert len(smtp_server.messages) == 1


# --- the rules, on a real store ---------------------------------------------------------


def load(tmp_path: Path, webhook: str, extra: str = "") -> Watchlist:
    path = tmp_path / "acme.toml"
    path.write_text(
        textwrap.dedent(f"""\
        name = "acme"
        title = "Acme Cloud"
        [query]
        terms = ['acme']
        [community]
        spaces = ["https://forum.acme.example.org/"]
        [[sources]]
        name = "news"
        kind = "feed"
        url = "https://news.example.org/feed.xml"
        [alerts]
        webhook = "{webhook}"
        """)
        + extra,
        encoding="utf-8",
    )
    [wl] = load_watchlists([path])
    return wl


def mention(
    url: str, published: datetime, *, author: Account | None = None, space: Space = Space.OPEN
) -> Mention:
    item = Item(
        url=url, title=f"Acme: {url}", text="about acme", published=published, author=author
    )
    return Mention(
        watchlist="acme",
        source="news",
        source_kind="feed",
        item=item,
        url=url,
        space=space,
        matched=("acme",),
        published=published,
        undated=False,
        fetched=now(),
    )


def store_with(store: Store, wl: Watchlist, mentions: list[tuple[Mention, float | None]]):
    """Store mentions with a sentiment and queue their alerts, as one source's transaction."""
    with store.transaction():
        counts = store.save_mentions([m for m, _ in mentions])
        for m, sentiment in mentions:
            store.conn.execute(
                "UPDATE mentions SET sentiment = ? WHERE id = ?",
                (sentiment, store.mention_id("acme", m.url)),
            )
        alerts.queue_mention_alerts(store, wl, counts.new_ids)
    return counts


GRUMPY = Account(
    site="grumpy.example.org",
    name="Grumpy",
    identifiers=(Identifier("url", "https://grumpy.example.org/"),),
    profile_url="https://grumpy.example.org/",
)


def test_negative_outside_and_flagged_author(http_server, tmp_path):
    http_server.routes[HOOK] = "ok"
    wl = load(tmp_path, http_server.url(HOOK), 'on = ["negative_outside", "flagged_author"]\n')
    t = _today_moment()
    with Store.open(tmp_path / "e.db") as store:
        store.sync_members(wl)
        store_with(
            store,
            wl,
            [
                # Grumpy: three negative mentions in open space, so a troll (SPEC §7).
                (mention("https://grumpy.example.org/1", t, author=GRUMPY), -0.8),
                (mention("https://grumpy.example.org/2", t, author=GRUMPY), -0.6),
                (mention("https://grumpy.example.org/3", t, author=GRUMPY), -0.5),
                # Negative but in the community space: not "outside".
                (mention("https://forum.acme.example.org/t/1", t, space=Space.COMMUNITY), -0.9),
                # Mild, or unknown sentiment: no alert.
                (mention("https://news.example.org/mild", t), -0.1),
                (mention("https://news.example.org/unknown", t), None),
                # Negative but published long ago: not news.
                (mention("https://news.example.org/old", t - timedelta(days=20)), -0.9),
            ],
        )
        got = alerts.deliver(store, [wl])
        assert got.to_json() == {"sent": 3, "pending": 0, "failed": []}
        [text] = successful_posts(http_server)
        for i in (1, 2, 3):
            assert text.count(f"<https://grumpy.example.org/{i}>") == 1
        assert "forum.acme" not in text and "mild" not in text and "unknown" not in text
        assert "/old" not in text
        assert text.count("negative, open space · sentiment -0.") == 3
        # The real person_flags: the third mention makes Grumpy a troll.
        assert text.count("troll") == 3
        rows = store.query("SELECT rules FROM alerts ORDER BY id")
        assert [json.loads(r["rules"]) for r in rows] == [
            ["negative_outside", "flagged_author"]
        ] * 3

        # A mention is new only once: an edit of it, or a re-scan, queues nothing.
        with store.transaction():
            again = store.save_mentions([mention("https://grumpy.example.org/1", t, author=GRUMPY)])
            assert alerts.queue_mention_alerts(store, wl, again.new_ids) == 0
            # Even asked twice about the same mention, the outbox holds one row per channel.
            assert (
                alerts.queue_mention_alerts(
                    store, wl, [store.mention_id("acme", "https://grumpy.example.org/1")]
                )
                == 0
            )
        assert alerts.deliver(store, [wl]).to_json() == {"sent": 0, "pending": 0, "failed": []}
        assert http_server.hits(HOOK) == 1


def test_an_ambassador_alerts_outside_only(http_server, tmp_path):
    http_server.routes[HOOK] = "ok"
    member = textwrap.dedent("""\
        on = ["flagged_author"]
        [[community.members]]
        name = "Julie Marchand"
        role = "community_manager"
        identifiers = ["https://julie.example.org/"]
        """)
    wl = load(tmp_path, http_server.url(HOOK), member)
    julie = Account(
        site="news.example.org",
        name="Julie",
        identifiers=wl.community.members[0].identifiers,
        profile_url="https://julie.example.org/",
    )
    t = _today_moment()
    with Store.open(tmp_path / "e.db") as store:
        store.sync_members(wl)
        store_with(
            store,
            wl,
            [
                (mention("https://news.example.org/julie", t, author=julie), 0.5),
                (
                    mention(
                        "https://forum.acme.example.org/t/2", t, author=julie, space=Space.COMMUNITY
                    ),
                    0.5,
                ),
            ],
        )
        assert alerts.deliver(store, [wl]).sent == 1
    [text] = successful_posts(http_server)
    assert "<https://news.example.org/julie>" in text and "forum.acme" not in text
    assert "[ambassador (" in text and "(community_manager) on news" in text


def test_spike_once_per_day_and_space(http_server, tmp_path):
    http_server.routes[HOOK] = "ok"
    wl = load(tmp_path, http_server.url(HOOK), 'on = ["spike"]\n')
    t = _today_moment()
    noon = t.replace(hour=12, minute=0, second=0)
    with Store.open(tmp_path / "e.db") as store:
        history = [
            (mention(f"https://news.example.org/d{d}", noon - timedelta(days=d)), 0.2)
            for d in range(1, 8)
        ]
        store_with(store, wl, history)
        with store.transaction():
            assert alerts.queue_spike_alerts(store, wl) == 0  # a quiet day: nothing
        store_with(
            store, wl, [(mention(f"https://news.example.org/t{i}", t), 0.1) for i in range(2)]
        )
        with store.transaction():
            assert alerts.queue_spike_alerts(store, wl) == 0  # 2 < 2 × 1: no spike yet
        store_with(
            store, wl, [(mention(f"https://news.example.org/t{i}", t), -0.7) for i in range(2, 5)]
        )
        with store.transaction():
            assert alerts.queue_spike_alerts(store, wl) == 1  # 5 today against 1 a day
            assert alerts.queue_spike_alerts(store, wl) == 0  # once per day and space
        got = alerts.after_scan(store, [wl])
        assert got.to_json() == {"sent": 1, "pending": 0, "failed": []}
        [text] = successful_posts(http_server)
        assert f"open space on {t.date().isoformat()}: 5 mentions (7-day average 1.0)" in text
        assert "3 negative mentions (7-day average 0.0)" in text
        # More mentions later the same day: no second spike alert.
        store_with(store, wl, [(mention("https://news.example.org/t9", t), -0.9)])
        assert alerts.after_scan(store, [wl]).sent == 0
        [row] = store.query("SELECT key, detail FROM alerts")
        assert row["key"] == f"spike:open:{t.date().isoformat()}"


def test_spike_days_are_cut_in_the_watchlist_time_zone(tmp_path):
    wl = replace(
        load(tmp_path, "https://hooks.example.org/x", 'on = ["spike"]\n'),
        timezone="Pacific/Auckland",
    )
    at = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # 26 November, 01:00 in Auckland
    with Store.open(tmp_path / "e.db") as store:
        with store.transaction():
            store.save_mentions(
                [
                    mention(f"https://news.example.org/a{i}", at - timedelta(minutes=30))
                    for i in range(3)
                ]  # 00:30 on the 26th there
                + [mention("https://news.example.org/b", at - timedelta(minutes=90))]  # the 25th
            )
            assert alerts.queue_spike_alerts(store, wl, at=at) == 1
        [row] = store.query("SELECT key, detail FROM alerts")
    assert row["key"] == "spike:open:2026-11-26"
    assert json.loads(row["detail"])["count"] == 3


# --- delivery ---------------------------------------------------------------------------


def test_a_webhook_failing_mid_way_keeps_the_rest_exactly_once(http_server, tmp_path):
    # 45 alerts: three POSTs of at most 20; the second fails, then everything recovers.
    http_server.routes[HOOK] = sequence("ok", Response(b"", status=503), "ok")
    wl = load(tmp_path, http_server.url(HOOK), 'on = ["negative_outside"]\n')
    t = _today_moment()
    urls = [f"https://news.example.org/n{i:02d}" for i in range(45)]
    with Store.open(tmp_path / "e.db") as store:
        store_with(store, wl, [(mention(u, t), -0.9) for u in urls])
        first = alerts.deliver(store, [wl])
        assert first.sent > 0 and first.sent + first.pending == 45
        assert [f["pending"] for f in first.failed] == [45 - first.sent]
        second = alerts.deliver(store, [wl])
        assert second.sent == 45 - first.sent and second.pending == 0 and not second.failed
        accepted = [x for i, x in enumerate(successful_posts(http_server)) if i != 1]
        assert all(x.count("\n• ") <= alerts.WEBHOOK_BATCH for x in accepted)
        everything = "\n".join(accepted)
        for u in urls:
            assert everything.count(f"<{u}>") == 1
        attempts = store.query("SELECT attempts, sent_at FROM alerts WHERE sent_at IS NOT NULL")
        assert len(attempts) == 45 and max(r["attempts"] for r in attempts) == 2


def test_an_unreachable_webhook_names_its_host_only(tmp_path):
    wl = load(tmp_path, "http://127.0.0.1:1/hooks/T000/B000SECRET", 'on = ["mediator"]\n')
    with Store.open(tmp_path / "e.db") as store, store.transaction():
        store.conn.execute(
            "INSERT INTO alerts (watchlist, key, channel, rules, created) "
            "VALUES ('acme', 'spike:open:2026-11-25', 'webhook', '[\"spike\"]', ?)",
            (utc_iso(now()),),
        )
    with Store.open(tmp_path / "e.db") as store:
        got = alerts.deliver(store, [wl])
        assert got.sent == 0 and got.pending == 1
        [failure] = got.failed
        assert failure["error"].startswith("webhook at 127.0.0.1: ")
        assert "SECRET" not in failure["error"]
        [row] = store.query("SELECT attempts, last_error, sent_at FROM alerts")
        assert row["attempts"] == 1 and row["sent_at"] is None
        assert row["last_error"] == failure["error"]


def test_alerts_whose_channel_was_removed_or_mention_forgotten_are_dropped(http_server, tmp_path):
    http_server.routes[HOOK] = "ok"
    wl = load(tmp_path, http_server.url(HOOK), 'on = ["negative_outside"]\n')
    t = _today_moment()
    with Store.open(tmp_path / "e.db") as store:
        store_with(
            store, wl, [(mention(f"https://news.example.org/{i}", t), -0.9) for i in range(2)]
        )
        with store.transaction():
            store.conn.execute(
                "DELETE FROM mentions WHERE id = ?",
                (store.mention_id("acme", "https://news.example.org/0"),),
            )
        assert alerts.deliver(store, [wl]).to_json() == {"sent": 1, "pending": 0, "failed": []}
        store_with(store, wl, [(mention("https://news.example.org/2", t), -0.9)])
        quiet = replace(wl, alerts=Alerts())
        assert alerts.deliver(store, [quiet]).to_json() == {"sent": 0, "pending": 0, "failed": []}
        assert store.query("SELECT count(*) AS n FROM alerts WHERE sent_at IS NULL")[0]["n"] == 0


# --- rendering --------------------------------------------------------------------------


def test_slack_text_neutralises_fetched_strings():
    assert slack_text("<!channel> hi") == "&lt;!channel&gt; hi"
    assert slack_text("<http://evil|click>") == "&lt;http://evil|click&gt;"
    assert slack_text("a & b") == "a &amp; b"
    assert "@channel" not in slack_text("@channel @here")
    link = slack_text("[click](http://evil.example/)")
    assert "](" not in link and "http://evil.example/" in link
    assert slack_text("bidi \u202eevil\u202c\nnext") == "bidi evil next"
    assert len(slack_text("x" * 5000, 160)) == 160
    assert slack_url("https://ex.org/a?b=1&c=2") == "<https://ex.org/a?b=1&amp;c=2>"
    assert slack_url("https://ex.org/a|Your bank>") == "<https://ex.org/a%7CYour%20bank%3E>"
    assert slack_url("javascript:alert(1)") == "" and slack_url(None) == ""


def test_messages_read_well():
    views = [
        AlertView(
            ("negative_outside", "flagged_author"),
            {"flags": [{"flag": "troll", "why": "3 mentions, average -0.63"}]},
            {
                "url": "https://grumpy.example.org/1",
                "title": "Acme is a scam",
                "text": "",
                "author_name": "Grumpy",
                "author_class": "identified",
                "author_role": None,
                "space": "open",
                "source": "news",
                "sentiment": -0.8,
                "published": "2026-11-25T09:12:00Z",
            },
        ),
        AlertView(
            ("spike",),
            {
                "space": "open",
                "date": "2026-11-25",
                "which": ["volume"],
                "count": 9,
                "average": 1.5,
                "negative": 0,
                "negative_average": 0,
            },
        ),
    ]
    assert webhook_text("Acme Cloud", views) == (
        "ereput · Acme Cloud — 2 new alerts\n"
        "• [negative, open space · sentiment -0.80; troll (3 mentions, average -0.63)] "
        "Grumpy (identified) on news: “Acme is a scam” <https://grumpy.example.org/1>\n"
        "• [spike] open space on 2026-11-25: 9 mentions (7-day average 1.5)"
    )
    subject, body = email_message("Acme\nCloud", views)
    assert subject == "ereput: 2 new alerts for Acme Cloud"
    assert "  Grumpy (identified) on news, 2026-11-25 09:12:00 UTC\n" in body
    assert "  https://grumpy.example.org/1\n" in body


def test_alerts_are_kept_in_the_outbox_table(tmp_path):
    with Store.open(tmp_path / "e.db") as store:
        columns = [r["name"] for r in store.query("PRAGMA table_info(alerts)")]
    assert columns == [
        "id",
        "watchlist",
        "key",
        "channel",
        "rules",
        "mention_id",
        "detail",
        "created",
        "attempts",
        "last_error",
        "last_attempt",
        "sent_at",
    ]
