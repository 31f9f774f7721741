"""The blog parsers on saved pages: every blog page of the shared corpus (read in place)
against its MANIFEST ground truth, and hand-written fixtures of WordPress themes, Blogger
and a microformats blog."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import CORPUS, manifest
from ereput.fetchers.blog_parse import (
    parse_blog_page,
    parse_comment_feed,
    parse_date_text,
    parse_wp_comments,
)
from ereput.identifiers import url_identifier

FIXTURES = Path(__file__).parent / "fixtures" / "blogs"
BLOGS = sorted(p for p, row in manifest().items() if row["kind"] == "blogs")
# Post bylines the parser does not find yet (comments are all right on these pages).
POST_AUTHOR_GAPS: set[str] = set()


def page_of(path: str, base: str = "https://blog.test/post/"):
    return parse_blog_page((CORPUS / path).read_bytes(), base)


def check_ground_truth(path: str, page, check_post_author: bool = True) -> None:
    expected = manifest()[path]["expected"]
    comments = page.comments
    count = expected.get("n_comments", expected.get("n_comments_in_page"))
    if count is not None:
        assert len(comments) == count
    authors: list[str] = []
    for c in comments:
        assert c.title == "" or "forum" in path or "spip" in path
        assert c.thread_url == page.url
        assert c.url != page.url and c.url.startswith(page.url.split("?")[0].split("#")[0])
        assert c.parent_url is not None
        if c.author and c.author.name and c.author.name not in authors:
            authors.append(c.author.name)
    if "comment_authors" in expected:
        assert authors == expected["comment_authors"]
    if "n_replies" in expected:
        assert sum(c.parent_url != page.url for c in comments) == expected["n_replies"]
    if "n_anonymous_comments" in expected:
        assert sum(not c.author.name for c in comments) == expected["n_anonymous_comments"]
    if check_post_author and "post_author" in expected and path not in POST_AUTHOR_GAPS:
        name = page.post.author.name if page.post and page.post.author else None
        assert name == expected["post_author"]
        if expected.get("author_profile_url"):
            assert page.post is not None and page.post.author is not None
            values = {i.value for i in page.post.author.identifiers}
            assert expected["author_profile_url"] in values
    first = expected.get("first_comment")
    if first and comments:
        c = comments[0]
        assert (c.author.name or None) == first["author"]
        values = {i.value for i in c.author.identifiers}
        if first.get("gravatar_md5"):
            assert first["gravatar_md5"] in values
        if first.get("url") and url_identifier(first["url"]) is None:
            # A placeholder website (http://example.com/) is shown, and identifies nobody.
            assert (c.author.profile_url or "").rstrip("/") == first["url"].rstrip("/")
            assert not any(i.kind == "url" for i in c.author.identifiers)
        elif first.get("url"):
            assert first["url"].rstrip("/") in {v.rstrip("/") for v in values}
        if first.get("profile_url"):
            assert first["profile_url"] in values
        if first.get("id"):
            assert c.url.endswith("#" + first["id"]) or c.url.endswith(first["id"].split("-")[-1])
        if first.get("title"):
            assert c.title == first["title"].strip()
        if first.get("date") and "T" in str(first["date"]):
            want = datetime.fromisoformat(first["date"].replace("Z", "+00:00"))
            assert c.published == want.astimezone(UTC)
        if "permalink_showComment_ms" in first:
            ms = first["permalink_showComment_ms"]
            assert f"showComment={ms}" in c.url
            assert c.published == datetime.fromtimestamp(ms / 1000, UTC)
        assert c.text


@pytest.mark.parametrize("path", BLOGS)
def test_corpus_blog_page_matches_ground_truth(path):
    check_ground_truth(path, page_of(path))


def test_reply_links_follow_the_platform():
    page = page_of("blogs/spip/la-bas.org.porte.html")
    by_url = {c.url: c for c in page.comments}
    reply = by_url[page.url + "#comment-81145"]
    assert reply.author.name == "Phile"
    assert reply.parent_url == page.url + "#comment-81135"
    assert by_url[reply.parent_url].author.name == "Gérard Martinez"


def test_pingbacks_are_not_comments():
    page = page_of("blogs/wordpress/californiaglobe.com.amazon.html")
    assert len(page.comments) == 12
    assert not any("pingback" in c.text.lower()[:20] for c in page.comments)


def test_comments_not_in_the_page_are_not_invented():
    assert page_of("blogs/mediapart/blogs.mediapart.fr.violences.html").comments == []


def test_yoast_author_reference_is_resolved_and_sidebar_ignored():
    page = page_of("blogs/wordpress/lapresse.tn.parite.html")
    assert page.post.author.name == "Chokri GHARBI"


def fixture(name: str, url: str):
    return parse_blog_page((FIXTURES / name).read_bytes(), url)


THEMES = {
    "wp-twentyten.html": "http://kurt.example/2017/09/acme-test/",
    "wp-twentytwentyone.html": "https://lise.example/2026/11/avis-acme/",
    "wp-twentytwentyfive.html": "https://sam.example/why-we-left/",
    "blogger.html": "https://mina.blogspot.com/2026/11/acme.html",
    "microformats.html": "https://nora.example/2026/acme-one-year",
}


@pytest.mark.parametrize("name", sorted(THEMES))
def test_fixture_thread_reply_anonymous_and_identified(name):
    page = fixture(name, THEMES[name])
    assert page.url == THEMES[name]
    assert page.post is not None and page.post.author is not None
    comments = page.comments
    assert len(comments) == 3
    first, reply, anonymous = comments
    # the identified commenter
    assert first.author.name and first.author.identifiers
    assert first.parent_url == page.url and first.thread_url == page.url
    # the threaded reply, by the blog's author
    assert reply.parent_url == first.url and reply.thread_url == page.url
    # the anonymous one: an account with no identifier
    assert anonymous.author.identifiers == ()
    assert anonymous.parent_url == page.url
    for c in comments:
        assert c.title == "" and c.text and c.published is not None
        assert "dit" not in c.author.name and "sagt" not in c.author.name


def test_fixture_details():
    tt = fixture("wp-twentyten.html", THEMES["wp-twentyten.html"])
    # ISO-8859-1 page declared in <meta http-equiv>; German text dates
    assert (
        tt.comments[0].author.name == "Jürgen" and tt.comments[0].text == "Grüße, sehr hilfreich!"
    )
    assert tt.comments[0].published == datetime(2017, 9, 10, 18, 12, tzinfo=UTC)
    # the blog's own home page as a commenter's website identifies nobody
    assert "url:http://kurt.example/" not in {str(i) for i in tt.comments[0].author.identifiers}
    # The same text date, read in the watchlist's zone when the page gives none (SPEC §7).
    paris = parse_blog_page(
        (FIXTURES / "wp-twentyten.html").read_bytes(),
        THEMES["wp-twentyten.html"],
        None,
        "auto",
        "Europe/Paris",
    )
    assert paris.comments[0].published == datetime(2017, 9, 10, 16, 12, tzinfo=UTC)
    one = fixture("wp-twentytwentyone.html", THEMES["wp-twentytwentyone.html"])
    # "17 novembre 2026 à 9 h 12 min" in the page's zone (+01:00)
    assert one.comments[1].published == datetime(2026, 11, 17, 8, 12, tzinfo=UTC)
    assert len(one.comments) == 3  # the pingback is left out
    assert one.comment_feed == "https://lise.example/comments/feed/"
    # the empty e-mail's Gravatar is no identifier
    assert one.comments[2].author.identifiers == ()
    blogger = fixture("blogger.html", THEMES["blogger.html"])
    assert blogger.engine == "blogger"
    assert blogger.comments[0].published == datetime.fromtimestamp(1763370000, UTC)


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("1 février 2011 à 14:02", "fr", datetime(2011, 2, 1, 14, 2, tzinfo=UTC)),
        ("17 novembre 2025 à 9 h 12 min", "fr", datetime(2025, 11, 17, 9, 12, tzinfo=UTC)),
        ("10. September 2017 um 18:12", "de", datetime(2017, 9, 10, 18, 12, tzinfo=UTC)),
        ("(22 juin 2018 @11h29)", "fr", datetime(2018, 6, 22, 11, 29, tzinfo=UTC)),
        ("18/02/2020 à 16:42", "fr", datetime(2020, 2, 18, 16, 42, tzinfo=UTC)),
    ],
)
def test_dates_as_blogs_print_them(text, lang, expected):
    now = datetime(2026, 11, 20, tzinfo=UTC)
    assert parse_date_text(text, languages=(lang,), now=now) == expected


def test_relative_dates():
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    assert parse_date_text("il y a 2 jours", languages=("fr",), now=now) == datetime(
        2026, 11, 18, 12, 0, tzinfo=UTC
    )


def test_wordpress_rest_comments():
    body = json.dumps(
        [
            {"id": 5, "post": 1, "parent": 0, "author": 0, "author_name": "Ana",
             "author_url": "https://ana.example/", "date_gmt": "2026-11-01T10:00:00",
             "link": "https://b.example/p/#comment-5", "content": {"rendered": "<p>Hi</p>"},
             "author_avatar_urls": {}, "type": "comment"},
            {"id": 6, "post": 1, "parent": 5, "author": 3, "author_name": "Bo",
             "author_url": "", "date_gmt": "2026-11-01T11:00:00",
             "link": "https://b.example/p/#comment-6", "content": {"rendered": "<p>Yo</p>"},
             "type": "comment"},
        ]
    ).encode()  # fmt: skip
    first, reply = parse_wp_comments(body, "https://b.example/wp-json/")
    assert first.thread_url == "https://b.example/p/" and first.parent_url == first.thread_url
    assert reply.parent_url == "https://b.example/p/#comment-5"
    assert "uid:3@b.example" in {str(i) for i in reply.author.identifiers}
    assert first.title == "" and first.text == "Hi"
    assert first.published == datetime(2026, 11, 1, 10, tzinfo=UTC)


def test_wordpress_comment_feed_has_no_comment_on_titles():
    rss = b"""<?xml version="1.0"?><rss version="2.0"
      xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Comments</title>
      <item><title>Comment on Acme review by Paul</title>
      <link>https://b.example/acme-review/#comment-9</link><dc:creator>Paul</dc:creator>
      <pubDate>Mon, 02 Nov 2026 10:00:00 +0000</pubDate><description>Nice</description>
      <guid isPermaLink="false">https://b.example/?p=1#comment-9</guid></item>
      </channel></rss>"""
    (item,) = parse_comment_feed(rss, "https://b.example/comments/feed/")
    assert item.title == ""
    assert item.thread_url == "https://b.example/acme-review/" == item.parent_url
    assert item.author.name == "Paul"


def test_hostile_sizes_are_bounded():
    name = "A" * 1_000_000
    html = f"""<html><body class="single"><ol><li id="comment-1" class="comment depth-1">
      <cite class="fn">{name}</cite><div class="comment-content">x</div></li></ol>
      </body></html>""".encode()
    page = parse_blog_page(html, "https://b.example/p/")
    assert len(page.comments[0].author.name) <= 200
