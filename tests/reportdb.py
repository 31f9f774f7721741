"""A small fixed database for report tests (golden files, injection, the HTML screenshot):
a fictitious brand over two weeks, built from fixed mentions through the store's API.

2026-W47 (16–22 November, Europe/Paris) is the report's week: a quiet week before it,
then a negative burst on Tuesday 17 (a spike), a community thread, members speaking in open
spaces, a persistent critic, a friendly blogger and anonymous comments.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from ereput.identifiers import url_identifier
from ereput.models import Account, Community, Item, Member, Query, Source, Space, Watchlist
from ereput.services.report import Period, period_for
from ereput.store import Mention, Store

ZONE = ZoneInfo("Europe/Paris")
WEEK = "2026-W47"
FETCHED = datetime(2026, 11, 23, 6, 0, tzinfo=ZONE)
FORUM = "https://forum.acme.example"

WATCHLIST = Watchlist(
    name="acme",
    title="Acme Cloud",
    timezone="Europe/Paris",
    query=Query(terms=('"Acme Cloud"', "acme.io")),
    sources=(
        Source("acme-forum", "discourse", f"{FORUM}/"),
        Source("news", "feed", "https://news.example.org/feed.xml"),
        Source("blogs", "blog", "https://blog.kevin.example/"),
        Source("social", "mastodon", "https://social.example/"),
    ),
    community=Community(
        spaces=(f"{FORUM}/",),
        members=(
            Member(
                "Julie Marchand",
                "community_manager",
                (url_identifier(f"{FORUM}/u/julie"),),
            ),
            Member("Marc Petit", "customer", (url_identifier(f"{FORUM}/u/marc"),)),
            Member("Sofia Lopez", "mediator", (url_identifier("https://press.example/sofia"),)),
        ),
        dunbar_limit=150,
    ),
)


def account(site: str, name: str, profile: str | None = None) -> Account:
    ids = (url_identifier(profile),) if profile else ()
    return Account(site, name, ids, profile)


JULIE = account("forum.acme.example", "Julie (Acme)", f"{FORUM}/u/julie")
MARC = account("forum.acme.example", "marc_p", f"{FORUM}/u/marc")
KEVIN = account("blog.kevin.example", "Kévin D.", "https://blog.kevin.example/about")
LEA = account("social.example", "Léa Moreau", "https://social.example/@lea")
SOFIA = account("news.example.org", "Sofia Lopez", "https://press.example/sofia")
ANON = account("news.example.org", "Anonymous")
BOB = account("forum.acme.example", "bob")
TOM = account("tom.example", "Tom Weber", "https://tom.example/")

# (day of November, hour, source, kind, URL, author, title, text, sentiment, thread root)
Row = tuple[int, int, str, str, str, Account | None, str, str, float | None, str | None]

# fmt: off
ROWS: list[Row] = [
    # The week before: one quiet mention a day (the spike's trailing average).
    (9, 10, "news", "feed", "https://news.example.org/a/1", SOFIA, "Acme Cloud opens Lyon",
     "Acme Cloud opens a region in Lyon.", 0.2, None),
    (10, 11, "news", "feed", "https://news.example.org/a/2", ANON, "Acme Cloud prices",
     "acme.io changes its prices.", -0.1, None),
    (11, 9, "social", "mastodon", "https://social.example/@lea/1", LEA, "",
     "Trying Acme Cloud for my side project.", 0.5, None),
    (12, 15, "acme-forum", "discourse", f"{FORUM}/t/welcome/1/1", JULIE, "Welcome",
     "Welcome to the Acme Cloud forum.", 0.6, None),
    (13, 14, "blogs", "blog", "https://blog.kevin.example/2026/first", KEVIN,
     "Acme Cloud, first look", "Acme Cloud is slow.", -0.4, None),
    (14, 16, "news", "feed", "https://news.example.org/a/3", SOFIA, "Acme Cloud hires",
     "Acme Cloud hires in Lyon.", 0.1, None),
    (15, 12, "social", "mastodon", "https://social.example/@lea/2", LEA, "",
     "Acme Cloud support answered in ten minutes.", 0.7, None),
    # The report's week.
    (16, 9, "acme-forum", "discourse", f"{FORUM}/t/outage/42/1", MARC,
     "Volumes unavailable this morning", "My Acme Cloud volumes are unavailable.", -0.5, None),
    (17, 8, "acme-forum", "discourse", f"{FORUM}/t/outage/42/2", JULIE, "",
     "We are on it, sorry for the trouble.", 0.2, f"{FORUM}/t/outage/42/1"),
    (17, 9, "acme-forum", "discourse", f"{FORUM}/t/outage/42/3", BOB, "",
     "Same here, nothing works.", -0.6, f"{FORUM}/t/outage/42/1"),
    (17, 10, "blogs", "blog", "https://blog.kevin.example/2026/outage", KEVIN,
     "Acme Cloud down again", "Acme Cloud is down again. Leave while you can.", -0.8, None),
    (17, 11, "news", "feed", "https://news.example.org/a/4", SOFIA, "Acme Cloud outage",
     "An outage hits Acme Cloud customers.", -0.4, None),
    (17, 12, "news", "feed", "https://news.example.org/a/4#comment-1", ANON, "",
     "acme.io lost my data, disgusting.", -0.9, "https://news.example.org/a/4"),
    (17, 13, "news", "feed", "https://news.example.org/a/4#comment-2", ANON, "",
     "Acme Cloud: never again.", -0.7, "https://news.example.org/a/4"),
    (17, 15, "social", "mastodon", "https://social.example/@julie/9", JULIE, "",
     "Acme Cloud status: the storage incident is fixed.", 0.3, None),
    (18, 10, "acme-forum", "discourse", f"{FORUM}/t/outage/42/4", MARC, "",
     "Back to normal, thanks.", 0.4, f"{FORUM}/t/outage/42/1"),
    (18, 18, "blogs", "blog", "https://blog.kevin.example/2026/refund", KEVIN,
     "Acme Cloud refund?", "Still no refund from Acme Cloud.", -0.6, None),
    (19, 9, "social", "mastodon", "https://social.example/@lea/3", LEA, "",
     "Acme Cloud explained the outage well, respect.", 0.6, None),
    (19, 20, "blogs", "blog", "https://tom.example/2026/acme-cloud", TOM,
     "Why I chose Acme Cloud", "Acme Cloud, six months later: happy.", 0.8, None),
    (20, 17, "social", "mastodon", "https://social.example/@marc/1", MARC, "",
     "Acme Cloud post-mortem is out: acme.io/blog", 0.2, None),
    (22, 21, "news", "feed", "https://news.example.org/a/5", SOFIA,
     "Acme Cloud after the storm", "Acme Cloud customers stay.", 0.0, None),
]
# fmt: on


def build(path: Path, rows: list[Row] | None = None) -> Store:
    """The fixed database at `path` (rows: ROWS unless given)."""
    store = Store.open(path)
    store.sync_sources(WATCHLIST)
    store.sync_members(WATCHLIST)
    mentions = []
    sentiments = []
    for day, hour, source, kind, url, author, title, text, sentiment, thread in rows or ROWS:
        published = datetime(2026, 11, day, hour, 0, tzinfo=ZONE)
        item = Item(
            url=url,
            title=title,
            text=text,
            published=published,
            author=author,
            thread_url=thread,
            parent_url=thread,
        )
        space = Space.COMMUNITY if url.startswith(FORUM) else Space.OPEN
        matched = () if thread and "acme" not in text.lower() else ('"Acme Cloud"',)
        fetched = min(published + timedelta(hours=1), FETCHED)
        mentions.append(
            Mention("acme", source, kind, item, url, space, matched, published, False, fetched)
        )
        sentiments.append((sentiment, url))
    with store.transaction():
        store.save_mentions(mentions)
        # Sentiment is scored by the scan; a fixed database sets it directly.
        store.conn.executemany(
            "UPDATE mentions SET sentiment = ? WHERE watchlist = 'acme' AND url = ?", sentiments
        )
    return store


def period() -> Period:
    return period_for(WATCHLIST.timezone, week=WEEK)
