"""The fast RSS/Atom reader gives exactly what the feedparser path gives (feed_fast.py)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from html.entities import html5
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import feedparser
import pytest
from feedparser.datetimes import _parse_date
from hypothesis import given, settings
from hypothesis import strategies as st

import test_feed_parse as fixtures
from conftest import CORPUS, manifest
from ereput import urls
from ereput.fetchers import feed_fast, feed_parse
from ereput.fetchers.feed_parse import PARSER_ENV, ParsedFeed, parse_feed
from ereput.identifiers import url_identifier
from ereput.models import Identifier

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


# --- the fast helpers give what the slow ones give ------------------------------------------

_HTML_TAGS = sorted(
    feed_parse._INLINE_TAGS
    | feed_parse._FLOW_TAGS
    | feed_parse._PHRASE_BLOCKS
    | feed_parse._VOID_TAGS
    | {"a", "table", "td", "script", "title", "body"}
)
_ENTITY_NAMES = sorted(html5)
_HTML_TOKENS = st.one_of(
    st.sampled_from(_HTML_TAGS).map(lambda t: f"<{t}>"),
    st.sampled_from(_HTML_TAGS).map(lambda t: f"</{t}>"),
    st.sampled_from(_HTML_TAGS).map(lambda t: f"<{t.upper()} class='x' data-y=z/>"),
    st.sampled_from(['<a href="https://x.org/?a=1&amp;b=2">', "<img src=x alt='a b'>", "<br/>"]),
    st.sampled_from(
        ["<!-- c -->", "<!---->", "<!-- a -- b -->", "<!-->", "<!DOCTYPE html>", "<?x?>"]
    ),
    st.sampled_from(_ENTITY_NAMES).map(lambda n: f"&{n}"),
    st.integers(0, 0x10FFFF).map(lambda n: f"&#{n};"),
    st.integers(0, 0x10FFFF).map(lambda n: f"&#x{n:X};"),
    st.sampled_from([" ", "\n", "\t", "\r\n", "\xa0", "&", "& ", "<", ">", "a<b", "\x0c", "\x01"]),
    st.text(min_size=1, max_size=8),
    st.sampled_from(["word", "Acme", "café", "x", "1"]),
)


@settings(max_examples=3000, deadline=None)
@given(st.lists(_HTML_TOKENS, max_size=30).map("".join))
def test_simple_html_reads_like_lxml(html):
    html = feed_parse.clean(html, feed_parse.MAX_HTML)
    text = feed_parse._simple_html_text(html)
    if text is not None:
        assert " ".join(text.split()) == feed_parse._lxml_html_text(html)


@pytest.mark.parametrize(
    "html",
    [
        "<p>Acme&#8217;s <b>cloud</b> &amp; more</p><ul><li>one</li><li>two</li></ul>",
        "a<br>b<br/>c<hr>d",
        "x<img src=a> <b>y</b>",
        "<div>a<span>b</span> c</div>d<!-- note -->e",
        "Tom & Jerry &hellip; &nbsp;caf&eacute;",
    ],
)
def test_common_html_takes_the_simple_path(html):
    text = feed_parse._simple_html_text(html)
    assert text is not None
    assert " ".join(text.split()) == feed_parse._lxml_html_text(html)


def _corpus_html_fields() -> list[str]:
    fields = []
    for path in XML_FEEDS:
        parsed = feedparser.parse(
            (CORPUS / path).read_bytes(), sanitize_html=False, resolve_relative_uris=False
        )
        for entry in parsed.entries:
            fields += [c.get("value") or "" for c in entry.get("content", [])]
            fields += [entry.get("summary") or "", entry.get("title") or ""]
    return fields


def test_simple_html_reads_every_corpus_field_like_lxml():
    simple = 0
    for html in _corpus_html_fields():
        html = feed_parse.clean(html, feed_parse.MAX_HTML)
        text = feed_parse._simple_html_text(html)
        if text is not None:
            simple += 1
            assert " ".join(text.split()) == feed_parse._lxml_html_text(html), html[:200]
    assert simple > 300  # most real feed HTML takes the simple path


def _slow_canonical(url, base=None):
    try:
        return urls._canonical(url, base)
    except (ValueError, UnicodeError, TypeError, AttributeError):
        return None


_HOSTS = [
    "x.org", "Blog.Example.ORG", "a-b.c_d.example", "x..org", "x.org.", "[::1]", "x.org:80",
    "x.org:8080", "x.org:443", "café.fr", "~u.x", "127.0.1.1", "u@x.org", "",
]  # fmt: skip
_PATH_PIECES = [
    "/", "a", "b-c", "%2f", "%2F", "%zz", "%", ";", "p;q", "é", "'", "(x)", "..", ":", "@", "~",
    "?", "//", " ", "\t",
]  # fmt: skip
_QUERY_PAIRS = [
    "a=1", "utm_source=rss", "UTM_x=1", "fbclid=2", "b", "c=%41", "e=?", "f=%e9", "utm%5Fa=1",
    "g=;", "", "d=x y", " utm_z=1",
]  # fmt: skip
_URL_PARTS = st.tuples(
    st.sampled_from(["http", "https", "HTTPS", "Http", "ftp", "javascript"]),
    st.sampled_from(["://", ":/", "://user@", "///"]),
    st.sampled_from(_HOSTS),
    st.lists(st.sampled_from(_PATH_PIECES), max_size=6).map("".join),
    st.one_of(st.none(), st.lists(st.sampled_from(_QUERY_PAIRS), max_size=4).map("&".join)),
    st.one_of(st.none(), st.sampled_from(["", "top", "comment-12", "p7", "c3", "x#y", "post_1 "])),
)


def _url(parts):
    scheme, sep, host, path, query, fragment = parts
    url = f"{scheme}{sep}{host}{path}"
    if query is not None:
        url += "?" + query
    if fragment is not None:
        url += "#" + fragment
    return url


@settings(max_examples=3000, deadline=None)
@given(
    _URL_PARTS.map(_url),
    st.sampled_from([None, "", "https://feeds.example.org/f", "http://x.org/a/", "http://[x/", 7]),
)
def test_canonical_url_fast_path_gives_the_full_result(url, base):
    assert urls.canonical_url(url, base) == _slow_canonical(url, base)


@settings(max_examples=2000, deadline=None)
@given(_URL_PARTS.map(_url))
def test_host_and_redirect_fast_paths_give_the_full_results(url):
    try:
        slow_host = urls._host(urlsplit(urls._STRIPPED.sub("", url).strip()).hostname or "")
    except (ValueError, UnicodeError):
        slow_host = ""
    assert urls.host_of(url) == slow_host
    assert urls.unwrap_redirect(url) == url == (urls._redirect_target(url) or url)
    canonical = urls.canonical_url(url)
    if canonical is not None:
        parts = urlsplit(canonical)
        slow = urlunsplit(parts._replace(path=parts.path.rstrip("/") or "/", fragment=""))
        assert url_identifier(url) == Identifier("url", slow)


def test_redirects_still_unwrap():
    target = "https://news.example.com/a?id=1"
    google = "https://www.google.com/url?rct=j&sa=t&url=" + quote(target, safe="")
    assert urls.unwrap_redirect(google) == target
    assert urls.unwrap_redirect("https://www.goo\tgle.com/url?url=" + quote(target)) == target


_DATES = st.one_of(
    st.builds(
        "{}, {:02d} {} {:04d} {:02d}:{:02d}:{:02d} {}".format,
        st.sampled_from(["Mon", "Tue", "Wed", "Sun", "Xyz"]),
        st.integers(0, 32),
        st.sampled_from(["Jan", "Feb", "May", "Dec", "Foo"]),
        st.integers(1, 9999),
        st.integers(0, 25),
        st.integers(0, 61),
        st.integers(0, 61),
        st.sampled_from(["+0000", "-0330", "+1400", "GMT", "EST", "+99", "-2359"]),
    ),
    st.builds(
        "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}{}{}".format,
        st.integers(1, 9999),
        st.integers(0, 13),
        st.integers(0, 32),
        st.integers(0, 25),
        st.integers(0, 61),
        st.integers(0, 61),
        st.sampled_from(["", ".5", ".999999999", ".9999999999999999999"]),
        st.sampled_from(["Z", "+00:00", "-05:30", "+14:00", "-23:59", "", "+0100"]),
    ),
    st.text(max_size=30),
)


@settings(max_examples=3000, deadline=None)
@given(_DATES)
def test_parse_date_gives_what_feedparser_gives(value):
    assert feed_fast.parse_date(value) == _parse_date(value)


def _entries(body: bytes, direct: bool, monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    with monkeypatch.context() as patch:
        if not direct:
            patch.setattr(feed_fast, "_ITEM_TAGS", frozenset())
        _, data = feed_parse.xml_bytes(feed_parse.decode_body(body).lstrip())
        entries = feed_fast.parse(data)["entries"]
    # Direct entries leave their dates to be parsed when read.
    return [{k: feed_fast.resolve(v) for k, v in e.items()} for e in entries]


# The entry keys `feed_parse` reads.
_READ = (
    "feedburner_origlink", "link", "id", "guidislink", "content", "summary_detail", "summary",
    "author_detail", "title", "title_detail", "published_parsed", "updated_parsed",
    "published", "updated",
)  # fmt: skip


@pytest.mark.parametrize(
    "body",
    [
        pytest.param((CORPUS / path).read_bytes(), id=path)
        for path in XML_FEEDS
        if path not in FALLBACK
    ]
    + [pytest.param(generated_feed(kind), id=kind) for kind in ("rss", "atom")]
    + [pytest.param(body, id=f"small{n}") for n, body in enumerate(SMALL)],
)
def test_direct_items_equal_the_replay(body, monkeypatch):
    slow = _entries(body, False, monkeypatch)
    fast = _entries(body, True, monkeypatch)
    assert len(fast) == len(slow)
    for fast_entry, slow_entry in zip(fast, slow, strict=True):
        assert {k: fast_entry.get(k) for k in _READ} == {k: slow_entry.get(k) for k in _READ}


def test_the_benchmark_workload_reads_the_same_on_both_paths(monkeypatch):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    try:
        from benchmarks.feeds import entries, render
    finally:
        sys.path.pop(0)
    for n in range(4):
        slow, fast = both(render(n, entries(n)), f"http://127.0.1.{n + 1}:8080/f.xml", monkeypatch)
        assert fast.parser == "fast"
        assert_same(slow, fast)


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_entries_a_prefilter_skips_never_have_their_dates_parsed(kind, monkeypatch):
    # Half of the fast reader's time on a scan's feeds went to dates of entries that the
    # prefilter then dropped.
    read: list[str] = []
    real = feed_fast.parse_date
    monkeypatch.setattr(feed_fast, "parse_date", lambda v: read.append(v) or real(v))
    body = generated_feed(kind)
    feed = parse_feed(
        body, "https://blog.example.org/feed", now=NOW, keep=lambda t, _: "#3:" in t[0]
    )
    [item] = feed.items
    assert item.title.startswith("Acme & Co. news #3:")
    assert item.published is not None and item.published.day == 4
    assert len(read) == 1  # its own date, and no other
    assert feed.parser == "fast"
