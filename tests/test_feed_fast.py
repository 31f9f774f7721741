"""The fast RSS/Atom reader gives exactly what the feedparser path gives (feed_fast.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import test_feed_parse as fixtures
from conftest import CORPUS, manifest
from ereput.fetchers import feed_fast
from ereput.fetchers.feed_parse import PARSER_ENV, ParsedFeed, parse_feed

NOW = datetime(2026, 11, 25, tzinfo=UTC)
FEEDS = sorted(path for path, row in manifest().items() if row["kind"] == "feeds")
# Corpus feeds the fast path hands to feedparser, and why (anything else must read fast):
FALLBACK = {
    "feeds/atom-generic/SamRuby.xml",  # Atom content type="xhtml" (and an xlink namespace)
    "feeds/feedburner/FeedBurnerXHTML.xml",  # Atom content type="xhtml"
    "feeds/typepad/TypePadNews.xml",  # Atom content type="xhtml"
    "feeds/movabletype/touchnokia.ru.atom.xml",  # xml:base
    "feeds/news/rss_2.0_spiegel.xml",  # podlove chapters under feedparser's "psc" prefix
    "feeds/reddit/reddit-atom.rss",  # raw XHTML elements inside <description>
}
XML_FEEDS = [path for path in FEEDS if not path.endswith(".json")]
FIXTURES = {
    name: getattr(fixtures, name)
    for name in ("RSS_091", "RSS_10", "ATOM_EMAIL", "TALKWALKER", "RSS_AUTHORS")
}
SMALL = [
    b'<rss version="2.0"><channel><title>T\x00itle</title><item><title>Ac\x00me</title>'
    b"<link>https://x.org/\x001</link><description>t\x00ext</description>"
    b"<author>bo\x00b@x.org (Bob)</author></item></channel></rss>",
    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><item>'
    "<title>Acmé \udcff ok</title><link>https://x.org/1</link></item></channel></rss>".encode(
        "utf-8", "surrogateescape"
    ),
    b'<feed xmlns="http://www.w3.org/2005/Atom">'
    b'<entry><link href="javascript:alert(1)"/><id>j</id><author><name/></author></entry>'
    b'<entry><link href="data:text/html,x"/><id>d</id></entry>'
    b'<entry><link href="https://x.org/ok"/><author><name>  </name></author></entry></feed>',
    b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><link href="https://x.org/1"/>'
    b"<updated>2026-11-25T20:00:00Z</updated></entry></feed>",
    *(
        f'<rss version="2.0"><channel><item><title>x</title><link>https://x.org/1</link>'
        f"<pubDate>{date}</pubDate></item></channel></rss>".encode()
        for date in (
            "Thu, 01 Jan 1970 00:00:00 +0000",
            "Fri, 01 Jan 2100 00:00:00 +0000",
            "not a date",
            "",
            "0",
            "Sun, 22 Nov 26 10:00:00 EST",  # two-digit year, named zone
            "22 Nov 2026 10:00 PDT",
            "2026-11-22T10:00:00",  # W3CDTF without a zone: UTC
            "2026-11-22",
            "Seg, 24 Set 2018 19:42:40 -0300",  # localized: our own reader
        )
    ),
]


def both(body: bytes, url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[ParsedFeed, ParsedFeed]:
    monkeypatch.setenv(PARSER_ENV, "feedparser")
    slow = parse_feed(body, url, now=NOW)
    monkeypatch.delenv(PARSER_ENV)
    fast = parse_feed(body, url, now=NOW)
    assert slow.parser == "feedparser"
    return slow, fast


def assert_same(slow: ParsedFeed, fast: ParsedFeed) -> None:
    assert fast.title == slow.title
    assert len(fast.items) == len(slow.items)
    for fast_item, slow_item in zip(fast.items, slow.items, strict=True):
        assert fast_item == slow_item
    assert fast == slow


@pytest.mark.parametrize("path", XML_FEEDS)
def test_corpus_feeds_read_the_same_on_both_paths(path, monkeypatch):
    slow, fast = both((CORPUS / path).read_bytes(), fixtures.feed_url(path), monkeypatch)
    assert_same(slow, fast)
    assert fast.parser == ("feedparser" if path in FALLBACK else "fast")


def test_most_corpus_feeds_take_the_fast_path():
    assert len(FALLBACK) * 2 < len(XML_FEEDS)


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fixtures_read_the_same_on_both_paths(name, monkeypatch):
    slow, fast = both(FIXTURES[name], "https://x.example.org/feed.xml", monkeypatch)
    assert_same(slow, fast)
    assert fast.parser == "fast"


@pytest.mark.parametrize("body", SMALL)
def test_small_feeds_read_the_same_on_both_paths(body, monkeypatch):
    slow, fast = both(body, "https://x.org/feed", monkeypatch)
    assert_same(slow, fast)
    assert fast.parser == "fast"


def generated_feed(kind: str, entries: int = 50) -> bytes:
    """A feed like a busy blog's: HTML descriptions with entities, authors, categories."""
    parts = []
    for n in range(entries):
        title = f"Acme &amp; Co. news #{n}: caf&#233; &lt;b&gt;opens&lt;/b&gt;"
        html = (
            f"&lt;p&gt;Acme&#8217;s &lt;b&gt;cloud&lt;/b&gt; post {n} &amp;amp; more: "
            + "lorem ipsum dolor sit amet, consectetur adipiscing elit " * 8
            + "&lt;a href='https://acme.example/x?a=1&amp;amp;b=2'&gt;link&lt;/a&gt;&lt;/p&gt;"
            "&lt;ul&gt;&lt;li&gt;one&lt;/li&gt;&lt;li&gt;two&lt;/li&gt;&lt;/ul&gt;"
        )
        day = 1 + n % 28
        if kind == "rss":
            parts.append(
                f"<item><title>{title}</title>"
                f"<link>https://blog.example.org/{n}?utm_source=rss&amp;x={n}</link>"
                f'<guid isPermaLink="{"true" if n % 2 else "false"}">'
                f"https://blog.example.org/?p={n}</guid>"
                f"<pubDate>{['Mon', 'Tue'][n % 2]}, {day:02d} Nov 2026 10:{n % 60:02d}:00 "
                f"{['+0100', 'GMT', 'EST'][n % 3]}</pubDate>"
                f"<dc:creator><![CDATA[Author {n % 7}]]></dc:creator>"
                f"<category>acme</category><category><![CDATA[news]]></category>"
                f"<description>{html}</description></item>\n"
            )
        else:
            parts.append(
                f'<entry><title type="{["html", "text"][n % 2]}">{title}</title>'
                f'<link rel="alternate" type="text/html" href="/posts/{n}"/>'
                f'<link rel="replies" href="/posts/{n}#comments"/>'
                f"<id>tag:blog.example.org,2026:{n}</id>"
                f"<published>2026-11-{day:02d}T10:{n % 60:02d}:00+01:00</published>"
                f"<updated>2026-11-{day:02d}T11:00:00Z</updated>"
                f"<author><name>Author {n % 7}</name><uri>/authors/{n % 7}</uri>"
                f"<email>author{n % 7}@blog.example.org</email></author>"
                f'<category term="acme"/><category term="news" label="News"/>'
                f'<summary type="html">{html[:200]}</summary>'
                f'<content type="html">{html}</content></entry>\n'
            )
    if kind == "rss":
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>Acme blog</title>'
            "<link>https://blog.example.org/</link><language>en-US</language>"
            '<atom:link rel="self" href="https://blog.example.org/feed"/>'
            + "".join(parts)
            + "</channel></rss>"
        ).encode()
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
        'xml:lang="fr"><title type="html">Acme &amp;lt;blog&amp;gt;</title>'
        "<author><name>Feed Owner</name></author>"
        '<link rel="self" href="https://blog.example.org/atom"/>' + "".join(parts) + "</feed>"
    ).encode()


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_generated_feeds_read_the_same_on_both_paths(kind, monkeypatch):
    body = generated_feed(kind)
    slow, fast = both(body, "https://blog.example.org/feed", monkeypatch)
    assert len(fast.items) == 50
    assert fast.parser == "fast"
    assert_same(slow, fast)


def test_fast_only_raises_on_what_it_cannot_read(monkeypatch):
    monkeypatch.setenv(PARSER_ENV, "fast")
    with pytest.raises(feed_fast.Unsupported):
        parse_feed((CORPUS / "feeds/reddit/reddit-atom.rss").read_bytes(), "https://x.org/f")
    feed = parse_feed(fixtures.RSS_10, "https://blog.example.org/index.rdf", now=NOW)
    assert feed.parser == "fast"


def test_not_well_formed_xml_falls_back(monkeypatch):
    body = b'<rss version="2.0"><channel><item><title>A &nbsp; B</title>'
    body += b"<link>https://x.org/1</link></item></channel></rss>"
    slow, fast = both(body, "https://x.org/feed", monkeypatch)
    assert fast.parser == "feedparser"
    assert_same(slow, fast)
