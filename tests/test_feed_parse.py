from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from conftest import CORPUS, manifest
from ereput.errors import ParseError
from ereput.fetchers.feed_parse import ParsedFeed, parse_feed
from ereput.identifiers import url_identifier
from ereput.models import Identifier, Item
from ereput.urls import canonical_url

NOW = datetime(2026, 11, 25, tzinfo=UTC)  # dates more than a day after this are refused
MANIFEST = manifest()
FEEDS = sorted(path for path, row in MANIFEST.items() if row["kind"] == "feeds")
# Where each corpus feed was served from, when its links are relative to it.
FEED_URLS = {"feeds/atom-generic/SamRuby.xml": "http://intertwingly.net/blog/index.atom"}


def feed_url(path: str) -> str:
    return FEED_URLS.get(path, "https://feeds.example.org/feed")


def parse_corpus(path: str) -> ParsedFeed:
    return parse_feed((CORPUS / path).read_bytes(), feed_url(path), now=NOW)


def when(text: str | int) -> datetime:
    """A manifest date: ISO-8601 or RFC 822."""
    try:
        return datetime.fromisoformat(str(text))
    except ValueError:
        return parsedate_to_datetime(str(text))


def authors_of(items: list[Item]) -> list[str]:
    names: list[str] = []
    for item in items:
        if item.author and item.author.name and item.author.name not in names:
            names.append(item.author.name)
    return names


def uri_identifier(item: Item) -> str | None:
    assert item.author is not None
    return next((i.value for i in item.author.identifiers if i.kind == "url"), None)


def test_the_corpus_has_feeds():
    assert len(FEEDS) >= 16
    # The social/ files are ActivityPub objects, API JSON and HTML pages: none is a feed.
    for path, row in MANIFEST.items():
        if row["kind"] == "social" and path.endswith((".xml", ".rss", ".atom")):
            pytest.fail(f"{path} looks like a feed: add it to FEEDS")


@pytest.mark.parametrize("path", FEEDS)
def test_corpus_feed_ground_truth(path):
    expected = MANIFEST[path]["expected"]
    feed = parse_corpus(path)
    items = feed.items

    if "title" in expected:
        assert feed.title == " ".join(expected["title"].split())
    if "entries" in expected:
        assert len(items) == expected["entries"]
    if "authors" in expected:  # display names, first appearance order, "/u/" read as the user
        assert authors_of(items) == expected["authors"]
    if expected.get("entry_author_names_empty"):
        assert all(item.author is None for item in items)
    if "entries_with_author" in expected:
        assert sum(item.author is not None for item in items) == expected["entries_with_author"]
    if "authors_from_description" in expected:
        assert (
            sum(item.author is not None for item in items) == expected["authors_from_description"]
        )
    if "feed_author" in expected:  # inherited by every entry that has no author of its own
        want = expected["feed_author"]
        uri = want.get("uri") or want.get("url")
        for item in items:
            assert item.author is not None and item.author.name == want["name"]
            assert uri_identifier(item) == url_identifier(uri, feed_url(path)).value

    for item in items:  # what every item of every feed must satisfy
        assert canonical_url(item.url) == item.url
        assert item.published is None or item.published.tzinfo is not None
        assert "<" not in item.title or ">" not in item.title
        if item.author is not None:
            assert item.author.site and item.author.platform == "feed"

    first = expected.get("first_entry")
    if first:
        item = items[0]
        if "title" in first:
            assert item.title == first["title"]
        date = next(
            (first[k] for k in ("published", "date_published", "pubDate", "updated") if k in first),
            None,
        )
        if date is not None:
            assert item.published == when(date)
        if "id" in first:
            assert item.entry_id == first["id"]
        if "link" in first:
            assert item.url == first["link"]
        if "target_url" in first:  # Google Alerts redirect unwrapped
            assert item.url == canonical_url(first["target_url"])
            assert "google.com/url" not in item.url
        if "author" in first:
            assert item.author is not None
            assert item.author.name == first["author"].removeprefix("/u/")
        if "author_uri" in first:
            assert uri_identifier(item) == url_identifier(first["author_uri"]).value
        if "submitter" in first:
            assert item.author is not None and item.author.name == first["submitter"]
            assert uri_identifier(item) == f"https://www.reddit.com/user/{first['submitter']}"


def test_google_alerts_titles_are_plain_text():
    items = parse_corpus("feeds/google-alerts/google_alerts_atom.xml").items
    assert items[0].title.startswith("Report offers Prediction of Automotive Slack Market")
    assert all("<b>" not in item.title and "&" not in item.title for item in items)


def test_feedburner_origlink_is_preferred():
    items = parse_corpus("feeds/feedburner/FeedBurnerXHTML.xml").items
    assert items[0].url == "http://www.rotoauthority.com/2014/04/stock-watch-aprils-finest.html"
    assert all("feedproxy.google.com" not in item.url for item in items)


def test_samruby_relative_links_and_feed_author_email_hash():
    items = parse_corpus("feeds/atom-generic/SamRuby.xml").items
    assert items[0].url == "http://intertwingly.net/blog/2013/01/30/Plex"
    author = items[0].author
    assert author is not None and author.site == "intertwingly.net"
    assert Identifier("email", hashlib.sha256(b"rubys@intertwingly.net").hexdigest()) in (
        author.identifiers
    )
    assert "rubys" not in repr(items)


def test_uol_latin1_without_declaration_reads_accents():
    feed = parse_corpus("feeds/news/uolNoticias.rss")
    first = feed.items[0]
    assert "simulações" in first.title
    assert "Líder" in first.text
    assert "\ufffd" not in first.title + first.text
    # "Seg, 24 Set 2018 19:42:40 -0300": Portuguese day and month names still give a date
    assert first.published == datetime(2018, 9, 24, 22, 42, 40, tzinfo=UTC)


def test_reddit_atom_keeps_the_profile_uri_and_a_cross_host_handle():
    item = parse_corpus("feeds/reddit/atom_mediarss_reddit_1.xml").items[0]
    assert item.author is not None and item.author.name == "Remarkable_Housing61"
    assert Identifier("handle", "remarkable_housing61@reddit.com") in item.author.identifiers
    assert item.entry_id == "t3_157kyrd"


def test_reddit_rss_text_reads_words_apart():
    item = parse_corpus("feeds/reddit/reddit-atom.rss").items[0]
    assert "submitted by benjaab123 to space" in item.text


# --- small fixtures ------------------------------------------------------------------------

RSS_091 = b"""<?xml version="1.0" encoding="ISO-8859-1"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"
  "http://my.netscape.com/publish/formats/rss-0.91.dtd">
<rss version="0.91"><channel>
<title>Acme News</title><link>https://news.example.org/</link><language>fr-FR</language>
<item><title>Acm\xe9 lance &amp; annonce</title><link>https://news.example.org/a?utm_source=rss</link>
<description>Le &lt;b&gt;cloud&lt;/b&gt; d&#39;Acme</description></item>
</channel></rss>"""


def test_rss_091():
    feed = parse_feed(RSS_091, "https://news.example.org/rss", now=NOW)
    assert feed.title == "Acme News"
    [item] = feed.items
    assert item.title == "Acmé lance & annonce"
    assert item.url == "https://news.example.org/a"
    assert item.text == "Le cloud d'Acme"
    assert item.author is None and item.published is None
    assert item.language == "fr"


RSS_10 = b"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
  xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://blog.example.org/"><title>RDF blog</title>
<link>https://blog.example.org/</link><description>d</description></channel>
<item rdf:about="https://blog.example.org/2026/acme">
<title>Acme in RDF</title><link>https://blog.example.org/2026/acme</link>
<description>Hello</description><dc:creator>Jeanne Corriveau</dc:creator>
<dc:date>2026-02-19T10:00:00+01:00</dc:date></item>
</rdf:RDF>"""


def test_rss_10_rdf_with_dc_creator():
    feed = parse_feed(RSS_10, "https://blog.example.org/index.rdf", now=NOW)
    assert feed.title == "RDF blog"
    [item] = feed.items
    assert item.url == "https://blog.example.org/2026/acme"
    assert item.author is not None and item.author.name == "Jeanne Corriveau"
    assert item.author.site == "blog.example.org" and item.author.identifiers == ()
    assert item.published == datetime(2026, 2, 19, 9, tzinfo=UTC)


ATOM_EMAIL = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title type="html">Acme &lt;i&gt;forum&lt;/i&gt;</title>
<entry><id>urn:x:1</id><title>Hi</title><link rel="alternate" href="/t/1#post-3"/>
<author><name>Julie</name><email>Julie.Marchand@Acme.io</email><uri>/u/julie/</uri></author>
<published>2026-11-20T08:00:00Z</published>
<content type="html">&lt;p&gt;one&lt;/p&gt;&lt;p&gt;two&lt;/p&gt;</content>
</entry></feed>"""


def test_atom_author_email_is_kept_only_as_its_hash():
    feed = parse_feed(ATOM_EMAIL, "https://forum.acme.io/feed.atom", now=NOW)
    assert feed.title == "Acme forum"
    [item] = feed.items
    assert item.url == "https://forum.acme.io/t/1#post-3"
    assert item.entry_id == "urn:x:1"
    assert item.text == "one two"
    assert item.published == datetime(2026, 11, 20, 8, tzinfo=UTC)
    author = item.author
    assert author is not None and author.name == "Julie"
    assert author.identifiers == (
        Identifier("url", "https://forum.acme.io/u/julie"),
        Identifier("email", hashlib.sha256(b"julie.marchand@acme.io").hexdigest()),
    )
    assert "marchand" not in repr(feed).lower()


GRAVATAR = "https://www.gravatar.com/avatar/" + "c" * 32
JSON_FEED_11 = json.dumps(
    {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Acme JSON",
        "home_page_url": "https://json.example.org/",
        "language": "en-US",
        "authors": [{"name": "Feed Owner", "url": "https://json.example.org/about/"}],
        "items": [
            {
                "id": "1",
                "url": "https://json.example.org/1?fbclid=zzz",
                "title": "One",
                "content_html": "<p>Acme <b>rocks</b></p><script>alert(1)</script>",
                "date_published": "2026-11-01T10:00:00+02:00",
                "authors": [{"name": "Ann", "avatar": GRAVATAR}, {"name": "Bob"}],
            },
            {"id": "2", "url": "/2", "content_text": "plain <not a tag>", "date_modified": "nope"},
            {"id": "3", "title": "no URL at all"},
            "not an object",
        ],
    }
).encode()


def test_json_feed_11_authors_and_inheritance():
    feed = parse_feed(JSON_FEED_11, "https://json.example.org/feed.json", "application/feed+json")
    assert feed.title == "Acme JSON"
    first, second = feed.items
    assert first.url == "https://json.example.org/1"
    assert first.text == "Acme rocks"
    assert first.published == datetime(2026, 11, 1, 8, tzinfo=UTC)
    assert first.language == "en"
    assert first.author is not None and first.author.name == "Ann"
    assert first.author.identifiers == (Identifier("avatar", "c" * 32),)
    assert second.url == "https://json.example.org/2"
    assert second.text == "plain <not a tag>"
    assert second.published is None
    assert second.author is not None and second.author.name == "Feed Owner"
    assert second.author.identifiers == (Identifier("url", "https://json.example.org/about"),)


TALKWALKER = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Talkwalker Alerts - acme</title>
<link>https://alerts.talkwalker.com/</link>
<item><title>Acme Cloud outage</title>
<link>https://alerts.talkwalker.com/alerts/c/r?url=https%3A%2F%2Fwww.example.com%2Fnews%2Facme%3Futm_source%3Dtalkwalker&amp;id=42</link>
<guid isPermaLink="false">tw-42</guid>
<pubDate>Tue, 24 Nov 2026 09:00:00 +0000</pubDate>
<description>&lt;b&gt;Acme&lt;/b&gt; Cloud was down</description></item>
</channel></rss>"""


def test_talkwalker_alert_link_is_unwrapped():
    [item] = parse_feed(TALKWALKER, "https://alerts.talkwalker.com/alerts/rss/ABC", now=NOW).items
    assert item.url == "https://www.example.com/news/acme"
    assert item.entry_id == "tw-42"
    assert item.text == "Acme Cloud was down"
    assert item.published == datetime(2026, 11, 24, 9, tzinfo=UTC)


HTML_WITH_FEED = b"""<!DOCTYPE html><html><head><title>Acme blog</title>
<link rel="stylesheet" href="/s.css">
<link rel="alternate" type="application/rss+xml" title="Feed" href="/feed/?utm_source=x">
</head><body><p>Hello</p></body></html>"""


def test_html_page_names_its_feed():
    feed = parse_feed(HTML_WITH_FEED, "https://blog.acme.io/post/1", "text/html; charset=utf-8")
    assert feed == ParsedFeed(title="Acme blog", items=[], alternate="https://blog.acme.io/feed/")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"", None),
        (b"   \n", "application/rss+xml"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "image/png"),
        (b"GIF89a\x01\x00\x01\x00", None),
        (b"<!DOCTYPE html><html><head><title>x</title></head><body>no feed</body></html>", None),
        (b"<html><link rel='alternate' type='text/html' href='/x'></html>", None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><rect/></svg>", "image/svg+xml"),
        (b'{"version": "1", "items": []}', "application/json"),
        (b"{not json", None),
        (b"[1, 2]", None),
        (b"hello world", "text/plain"),
    ],
)
def test_not_a_feed(body, content_type):
    with pytest.raises(ParseError, match="not a feed"):
        parse_feed(body, "https://x.example.org/feed", content_type)


@pytest.mark.timeout(5)
def test_a_one_mib_author_name_is_cheap():
    huge = b"a" * (1 << 20)
    body = (
        b'<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>t</title>'
        b"<item><link>https://x.org/1</link><author>" + huge + b"</author></item>"
        b"<item><link>https://x.org/2</link><dc:creator><![CDATA["
        + huge
        + b"]]></dc:creator></item>"
        b"</channel></rss>"
    )
    atom = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><link href="https://x.org/3"/>'
        b"<author><name>"
        + huge
        + b"</name><email>"
        + huge
        + b"@x.org</email></author></entry></feed>"
    )
    items = parse_feed(body, "https://x.org/feed", now=NOW).items
    items += parse_feed(atom, "https://x.org/feed", now=NOW).items
    assert [i.url for i in items] == ["https://x.org/1", "https://x.org/2", "https://x.org/3"]
    for item in items:
        assert item.author is not None and item.author.name == "a" * 200


def test_nul_bytes_are_removed():
    body = (
        b'<rss version="2.0"><channel><title>T\x00itle</title><item><title>Ac\x00me</title>'
        b"<link>https://x.org/\x001</link><description>t\x00ext</description>"
        b"<author>bo\x00b@x.org (Bob)</author></item></channel></rss>"
    )
    feed = parse_feed(body, "https://x.org/feed", now=NOW)
    [item] = feed.items
    assert (feed.title, item.title, item.text, item.url) == (
        "Title",
        "Acme",
        "text",
        "https://x.org/1",
    )
    assert "\x00" not in repr(feed)


def test_invalid_utf8_becomes_replacement_characters():
    body = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><item>'
        "<title>Acmé \udcff ok</title><link>https://x.org/1</link></item></channel></rss>"
    ).encode("utf-8", "surrogateescape")
    [item] = parse_feed(body, "https://x.org/feed", now=NOW).items
    assert item.title == "Acmé \ufffd ok"


def test_charset_from_the_content_type():
    body = '<rss version="2.0"><channel><item><title>Noël</title><link>https://x.org/1</link>'
    body += "</item></channel></rss>"
    feed = parse_feed(
        body.encode("iso-8859-1"), "https://x.org/f", "application/rss+xml; charset=ISO-8859-1"
    )
    assert feed.items[0].title == "Noël"


@pytest.mark.parametrize(
    "date",
    ["Thu, 01 Jan 1970 00:00:00 +0000", "Fri, 01 Jan 2100 00:00:00 +0000", "not a date", "", "0"],
)
def test_unbelievable_dates_are_none(date):
    body = (
        f'<rss version="2.0"><channel><item><title>x</title><link>https://x.org/1</link>'
        f"<pubDate>{date}</pubDate></item></channel></rss>"
    ).encode()
    [item] = parse_feed(body, "https://x.org/feed", now=NOW).items
    assert item.published is None


def test_a_date_within_a_day_of_now_is_kept():
    body = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><link href="https://x.org/1"/>'
        b"<updated>2026-11-25T20:00:00Z</updated></entry></feed>"
    )
    [item] = parse_feed(body, "https://x.org/feed", now=NOW).items
    assert item.published == datetime(2026, 11, 25, 20, tzinfo=UTC)


def test_only_web_links_make_items_and_empty_authors_are_none():
    body = (
        b'<feed xmlns="http://www.w3.org/2005/Atom">'
        b'<entry><link href="javascript:alert(1)"/><id>j</id><author><name/></author></entry>'
        b'<entry><link href="data:text/html,x"/><id>d</id></entry>'
        b'<entry><link href="https://x.org/ok"/><author><name>  </name></author></entry>'
        b"</feed>"
    )
    [item] = parse_feed(body, "https://x.org/feed", now=NOW).items
    assert item.url == "https://x.org/ok" and item.author is None


def test_external_entities_are_not_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>'
        '<rss version="2.0"><channel><title>t</title><item><title>a &xxe; b</title>'
        "<link>https://x.org/1</link><description>&xxe;</description></item></channel></rss>"
    ).encode()
    feed = parse_feed(body, "https://x.org/feed", now=NOW)
    assert "TOPSECRET" not in repr(feed)


def test_bytes_that_name_a_file_are_not_opened(tmp_path):
    secret = tmp_path / "feed.xml"
    secret.write_bytes(
        b'<rss version="2.0"><channel><item><link>https://x.org/1</link></item></channel></rss>'
    )
    with pytest.raises(ParseError):
        parse_feed(str(secret).encode(), "https://x.org/feed")


RSS_AUTHORS = b"""<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"
  xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>t</title>
<item><link>https://x.org/1</link><atom:author><atom:name>Ann Atom</atom:name>
<atom:uri>/ann/</atom:uri></atom:author></item>
<item><link>https://x.org/2</link><itunes:author>Ian Tunes</itunes:author></item>
<item><link>https://x.org/3</link><author>rita@x.org (Rita)</author></item>
</channel></rss>"""


def test_rss_author_elements():
    ann, ian, rita = parse_feed(RSS_AUTHORS, "https://x.org/feed.rss", now=NOW).items
    assert ann.author is not None and ann.author.name == "Ann Atom"
    assert ann.author.identifiers == (Identifier("url", "https://x.org/ann"),)
    assert ian.author is not None and ian.author.name == "Ian Tunes"
    assert rita.author is not None and rita.author.name == "Rita"
    assert rita.author.identifiers == (
        Identifier("email", hashlib.sha256(b"rita@x.org").hexdigest()),
    )


# --- bounding over-long author runs: the one-pass check agrees with the bounds ------------

_PIECES = [
    "<author>", "</author>", "<AUTHOR x='1'>", "<dc:creator>", "</dc:creator>", "<name/>",
    "<name>", "</name >", "<email>", "</email>", "<![CDATA[", "]]>", "<b>", "</b>", "<!---->",
    "<?pi?>", "<item>", "</item>", " ", "&amp;", "x" * 200, "y" * 300, "z" * 1100,
]  # fmt: skip


def _bounded_always(text: str) -> str:
    from ereput.fetchers import feed_parse

    def cut(match):  # what bound_author_runs does when it cannot rule a change out
        return match[1] + feed_parse._cut_run(match[2])

    return feed_parse._bound_author_elements(feed_parse._AUTHOR_RUN.sub(cut, text))


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=14))
# An element long only with its markup, split so that no run follows its tag: flattened.
@example(["<author>", "<b>", "z" * 1100, "</author>"])
@example(["<dc:creator>", "<!---->", "x" * 200, "<b>", "y" * 300, "</b>", "</dc:creator>"])
# A run right after a self-closing tag is cut; a long element with an author inside is not.
@example(["<name/>", "y" * 300])
@example(["<author>", "<name>", "x" * 200, "</name>", "z" * 1100, "</author>"])
def test_author_bounds_skip_only_texts_they_would_not_change(pieces):
    from ereput.fetchers.feed_parse import bound_author_runs

    text = "".join(pieces)
    assert bound_author_runs(text) == _bounded_always(text)


def test_corpus_feeds_read_the_same_with_the_one_pass_check():
    from ereput.fetchers.feed_parse import bound_author_runs, decode_body

    for path in FEEDS:
        text = decode_body((CORPUS / path).read_bytes())
        assert bound_author_runs(text) == _bounded_always(text), path
