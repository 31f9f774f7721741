"""The feed workload of issue 3, generated deterministically, with its ground truth.

N feeds × 50 entries (about 68 KB a feed), RSS 2.0 and Atom alternating, served from
250 loopback hosts (127.0.1.1–127.0.1.250, feed i on host i % 250 + 1). Authors come
from a pool of a few thousand names (some with accents) and recur across feeds; Atom
bylines carry a profile URI and sometimes an e-mail, RSS ones a `dc:creator` name or an
`e-mail (Name)` `<author>`. About 5% of entries name the brand ("Acme Cloud", "ACME
cloud", "Acmé Cloud", "acme.io"…) and about 2% are decoys that must not match
("Acmeville", "acmecorp", "Acme Clouds", "acme.iota", and "Acme Cloud" next to
"Acme Corporation" and "coyote", which the watchlist excludes).

Everything derives from `(seed, feed index, version)`: a feed can be generated alone (the
10,000-feed run writes them one by one) and a "changed" feed is the same feed at a later
version: ten new entries on top, the ten oldest gone.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

ENTRIES = 50
HOSTS = 250
SEED = 20261116
BRAND_SHARE = 0.05
DECOY_SHARE = 0.02
ANONYMOUS_SHARE = 0.03
NEW_PER_VERSION = 10  # a changed feed: this many new entries on top, as many old ones gone
EPOCH = datetime(2025, 6, 1, tzinfo=UTC)  # entries are dated before it: always plausible


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


BRAND_VARIANTS = (
    "Acme Cloud",
    "ACME cloud",
    "Acmé Cloud",
    "acme cloud",
    "ACMÉ CLOUD",
    "acme.io",
    "ACME.IO",
    "Acmé.io",
)
# Each must NOT match terms '"Acme Cloud"', 'acme.io' with exclude '"Acme Corporation" coyote'.
DECOYS = (
    "Acmeville",
    "acmecorp",
    "Acme Clouds",
    "acme.iota",
    "AcmeCloud",
    "Acme Cloud, said Acme Corporation to the coyote",
    "the coyote ordered an Acme Cloud from Acme Corporation",
)

FIRST = _words(
    "Julie Sébastien Hélène Noël Zoé Anaïs Jérôme Chloé Léa Raphaël Inès Loïc Mathis Clément "
    "Amélie Benoît Françoise Gaëlle Joël Maëlle Émile Agnès Björn Søren Jürgen Åsa Zoë Nuño "
    "Iñaki José María Renée Ève Ana Paul Emma Lucas Hugo Arthur Louis Jules Adam Liam Nina "
    "Sarah Laura Tom Alice Marc Anne Pierre Marie Jean Claire Nicolas David Thomas Camille "
    "Olivia Noah Mia Ethan Ava Leo Ella Max Ida Oscar Elsa Felix Nora Axel Vera Ivan Olga "
    "Yuki Kenji Mei Wei Aiko Ravi Priya Omar Leila Karim Yasmin Tariq Fatima Diego Lucía"
)
LAST = _words(
    "Marchand Farcis Lefèvre Dupré Bélanger Girard Moreau Lambert Rousseau Fontaine Mercier "
    "Bonnet Gauthier Chevalier Garçon Roché Müller Schäfer Größ Jørgensen Ångström Núñez Peña "
    "Ibáñez Smith Jones Brown Taylor Wilson Evans Thomas Roberts Walker Wright Martin Bernard "
    "Dubois Durand Leroy Simon Laurent Michel Garcia Petit Robert Richard Moulin Nakamura "
    "Tanaka Chen Wang Kumar Singh Haddad Rahman Costa Silva Rossi Bianchi Novak Kowalski "
    "Nowak Horvat Ivanova Popescu Andersen Nielsen Virtanen Korhonen Fischer Weber"
)
WORDS = _words(
    "cloud hosting server uptime latency deploy cluster region pricing invoice support ticket "
    "migration backup storage network outage dashboard api token billing account upgrade "
    "container kubernetes database replica snapshot bandwidth monitoring alert incident team "
    "customer feature release review tutorial benchmark performance security update patch the "
    "a of to and in for on with is was are this that it we they our new fast slow good bad "
    "great poor really very quite still again today yesterday week month service provider "
    "experience answer question problem solution price cost plan free trial contract"
)
TOPICS = ("review", "news", "howto", "opinion", "outage", "pricing", "release", "forum")


@dataclass(frozen=True)
class Author:
    name: str
    uri: str
    email: str | None


@dataclass(frozen=True)
class Entry:
    feed: int
    url: str  # as written in the feed (not canonical: upper-case hosts, utm_* parameters)
    title: str
    html: str
    author: Author | None
    published: datetime
    guid: str
    kind: str  # "brand", "decoy" or "plain"

    @property
    def matches(self) -> bool:
        return self.kind == "brand"


def author_pool(seed: int = SEED, size: int = 3000) -> list[Author]:
    rng = random.Random(f"{seed}:authors")
    pool = []
    for i in range(size):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        slug = f"u{i:05d}"
        email = f"{slug}@mail{rng.randrange(20)}.example.net" if rng.random() < 0.3 else None
        site = rng.choice(("people.example.net", "blogs.example.com", "forum.example.org"))
        pool.append(Author(name=name, uri=f"https://{site}/profile/{slug}", email=email))
    return pool


def host_of(feed: int) -> str:
    return f"127.0.1.{feed % HOSTS + 1}"


def feed_path(feed: int) -> str:
    return f"feeds/{feed:05d}.xml"


def is_atom(feed: int) -> bool:
    return feed % 2 == 1


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _entry(rng: random.Random, feed: int, serial: int, authors: list[Author]) -> Entry:
    """Entry number `serial` of `feed` (serials grow with time: higher is newer)."""
    roll = rng.random()
    kind = "brand" if roll < BRAND_SHARE else "decoy" if roll < BRAND_SHARE + DECOY_SHARE else ""
    kind = kind or "plain"
    title = _sentence(rng, rng.randint(5, 9)).capitalize()
    paragraphs = [_sentence(rng, rng.randint(37, 55)) for _ in range(3)]
    if kind != "plain":
        phrase = rng.choice(BRAND_VARIANTS if kind == "brand" else DECOYS)
        where = rng.randrange(4)
        if where == 0:
            title = f"{title} — {phrase}"
        else:
            words = paragraphs[where - 1].split()
            at = rng.randrange(len(words))
            words.insert(at, f"<b>{escape(phrase)}</b>" if rng.random() < 0.5 else escape(phrase))
            paragraphs[where - 1] = " ".join(words)
    html = "".join(f"<p>{p}</p>" for p in paragraphs)
    author = None if rng.random() < ANONYMOUS_SHARE else rng.choice(authors)
    site = rng.randrange(400)
    topic = rng.choice(TOPICS)
    host = f"BLOG{site}.Example.org" if site % 7 == 0 else f"blog{site}.example.org"
    url = f"https://{host}/{topic}/{feed:05d}-{serial:04d}-{_sentence(rng, 3).replace(' ', '-')}"
    if rng.random() < 0.2:
        url += "?utm_source=rss&utm_medium=feed"
    published = EPOCH - timedelta(hours=3 * (1200 - serial), minutes=feed % 360)
    return Entry(
        feed=feed,
        url=url,
        title=title,
        html=html,
        author=author,
        published=published,
        guid=f"tag:bench.example,2025:{feed}:{serial}",
        kind=kind,
    )


def entries(feed: int, version: int = 0, seed: int = SEED) -> list[Entry]:
    """The 50 entries of `feed` at `version`, newest first."""
    authors = _authors(seed)
    newest = 1000 + version * NEW_PER_VERSION
    out = []
    for serial in range(newest, newest - ENTRIES, -1):
        # Seeded per entry: an entry is the same in every version that still shows it.
        out.append(_entry(random.Random(f"{seed}:{feed}:{serial}"), feed, serial, authors))
    return out


_POOLS: dict[int, list[Author]] = {}


def _authors(seed: int) -> list[Author]:
    if seed not in _POOLS:
        _POOLS[seed] = author_pool(seed)
    return _POOLS[seed]


def render(feed: int, items: list[Entry]) -> bytes:
    return (_atom if is_atom(feed) else _rss)(feed, items).encode("utf-8")


def _rss(feed: int, items: list[Entry]) -> str:
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel>\n'
        f"<title>Bench feed {feed}</title>\n<link>http://{host_of(feed)}/</link>\n"
        f"<description>Generated feed {feed}</description>\n<language>en</language>\n"
    ]
    for e in items:
        if e.author is None:
            byline = ""
        elif e.author.email:
            byline = f"<author>{escape(e.author.email)} ({escape(e.author.name)})</author>\n"
        else:
            byline = f"<dc:creator>{escape(e.author.name)}</dc:creator>\n"
        parts.append(
            f"<item>\n<title>{escape(e.title)}</title>\n<link>{escape(e.url)}</link>\n"
            f'<guid isPermaLink="false">{e.guid}</guid>\n'
            f"<pubDate>{format_datetime(e.published)}</pubDate>\n{byline}"
            f"<description>{escape(e.html)}</description>\n</item>\n"
        )
    parts.append("</channel>\n</rss>\n")
    return "".join(parts)


def _atom(feed: int, items: list[Entry]) -> str:
    updated = items[0].published.isoformat() if items else EPOCH.isoformat()
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">\n'
        f"<title>Bench feed {feed}</title>\n<id>tag:bench.example,2025:feed:{feed}</id>\n"
        f"<updated>{updated}</updated>\n"
        f'<link rel="alternate" href="http://{host_of(feed)}/"/>\n'
    ]
    for e in items:
        byline = ""
        if e.author is not None:
            email = f"<email>{escape(e.author.email)}</email>" if e.author.email else ""
            byline = (
                f"<author><name>{escape(e.author.name)}</name>"
                f"<uri>{escape(e.author.uri)}</uri>{email}</author>\n"
            )
        stamp = e.published.isoformat()
        parts.append(
            f"<entry>\n<title>{escape(e.title)}</title>\n"
            f'<link rel="alternate" type="text/html" href={quoteattr(e.url)}/>\n'
            f"<id>{e.guid}</id>\n<published>{stamp}</published>\n<updated>{stamp}</updated>\n"
            f'{byline}<content type="html">{escape(e.html)}</content>\n</entry>\n'
        )
    parts.append("</feed>\n")
    return "".join(parts)


@dataclass
class Workload:
    """Feeds written under `root/127.0.1.N/feeds/`, and what each version of them says."""

    root: Path
    feeds: int
    versions: dict[int, int]  # feed -> current version (0 unless changed)

    def url(self, feed: int, port: int) -> str:
        return f"http://{host_of(feed)}:{port}/{feed_path(feed)}"

    def file(self, feed: int) -> Path:
        return self.root / host_of(feed) / feed_path(feed)

    def truth(self, feeds: range | None = None, *, all_versions: bool = True) -> Iterator[Entry]:
        """Every entry ever published by the feeds (every version up to the current one)."""
        seen: set[str] = set()
        for feed in feeds if feeds is not None else range(self.feeds):
            last = self.versions.get(feed, 0)
            for version in range(last + 1) if all_versions else (last,):
                for e in entries(feed, version):
                    if e.guid not in seen:
                        seen.add(e.guid)
                        yield e

    def change(self, feeds: list[int], version: int, mtime: float) -> None:
        """Rewrite `feeds` at `version`, with a new mtime (nginx's ETag is mtime and size)."""
        for feed in feeds:
            path = self.file(feed)
            path.write_bytes(render(feed, entries(feed, version)))
            os.utime(path, (mtime, mtime))
            self.versions[feed] = version


def generate(root: Path, feeds: int, mtime: float | None = None) -> Workload:
    """Write `feeds` feeds at version 0 under `root`; a fixed mtime keeps ETags stable."""
    stamp = mtime if mtime is not None else EPOCH.timestamp()
    for host in range(1, HOSTS + 1):
        (root / f"127.0.1.{host}" / "feeds").mkdir(parents=True, exist_ok=True)
    work = Workload(root=root, feeds=feeds, versions={})
    for feed in range(feeds):
        path = work.file(feed)
        path.write_bytes(render(feed, entries(feed)))
        os.utime(path, (stamp, stamp))
    return work
