"""The `blog` reader end to end against a real local HTTP server: corpus pages read in
place, a WordPress REST API, an HTML blog with its comment feed, re-scans."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import CORPUS
from ereput.fetchers.base import SourceState
from ereput.fetchers.blog import BlogReader
from ereput.http import HttpClient
from ereput.models import FetchLimits, Source
from ereput.services.scan import _Context
from httpserver import Response
from test_blog_parse import BLOGS, check_ground_truth

FIXTURES = Path(__file__).parent / "fixtures" / "blogs"


def read(url: str, state: SourceState | None = None, **options):
    async def go():
        with ThreadPoolExecutor(1) as pool:
            async with HttpClient(FetchLimits(), backoff=0.01) as http:
                return await BlogReader().read(
                    Source("b", "blog", url, options=options), _Context(http, pool),
                    state or SourceState(),
                )  # fmt: skip

    return asyncio.run(go())


@pytest.mark.parametrize("path", BLOGS)
def test_corpus_blog_pages_through_http(http_server, path):
    http_server.mount("/blogs/", CORPUS / "blogs")
    url = http_server.url("/" + path)
    result = read(url)
    comments = [i for i in result.items if i.thread_url]
    posts = [i for i in result.items if not i.thread_url]
    assert len(posts) <= 1
    page = type("Page", (), {"url": url, "comments": comments, "post": posts[0] if posts else None})
    check_ground_truth(path, page)
    # Nothing off-site was asked: the pages' API and feed links name their real hosts.
    assert all(r.host == http_server.netloc for r in http_server.requests())
    again = read(url, result.state)
    assert again.items == [] and again.not_modified


def blog_site(server, comment_feed: bytes):
    post = (FIXTURES / "wp-twentytwentyone.html").read_bytes()
    home = (
        b'<html><head><link rel="alternate" type="application/rss+xml" title="Comments"'
        b' href="/comments/feed/"></head><body><article><h2 class="entry-title">'
        b'<a href="/2026/11/avis-acme/">Avis</a></h2></article></body></html>'
    )
    server.routes["/"] = home
    server.routes["/2026/11/avis-acme/"] = post
    server.routes["/comments/feed/"] = Response(
        comment_feed, headers={"Content-Type": "application/rss+xml"}
    )
    return post


def feed(*comments: tuple[int, str]) -> bytes:
    items = "".join(
        f"<item><title>Comment on Avis by {who}</title>"
        f"<link>/2026/11/avis-acme/#comment-{n}</link><dc:creator>{who}</dc:creator>"
        f"<pubDate>Mon, 23 Nov 2026 10:00:00 +0000</pubDate><description>x</description></item>"
        for n, who in comments
    )
    return (
        '<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<channel><title>Comments</title>{items}</channel></rss>"
    ).encode()


def test_html_blog_rescan_costs_304s_and_a_new_comment_is_picked_up(http_server):
    post = blog_site(http_server, feed((101, "Paul Durand")))
    first = read(http_server.url("/"))
    urls = {i.url for i in first.items}
    base = http_server.url("/2026/11/avis-acme/")
    assert {base, base + "#comment-101", base + "#comment-102", base + "#comment-103"} <= urls
    by_url = {i.url: i for i in first.items}
    assert by_url[base + "#comment-102"].parent_url == base + "#comment-101"
    assert by_url[base + "#comment-101"].title == ""  # never "Comment on …"

    before = len(http_server.requests())
    again = read(http_server.url("/"), first.state)
    assert again.items == [] and again.not_modified
    asked = [r for r in http_server.requests()[before:] if r.path != "/robots.txt"]
    assert asked and all(
        "if-none-match" in r.headers or "if-modified-since" in r.headers for r in asked
    )

    # A new comment on the post: the comment feed names it, the page gives its thread.
    new = post.replace(
        b'<li id="comment-104"',
        b'<li id="comment-105" class="comment odd depth-1"><article class="comment-body">'
        b'<div class="comment-author vcard"><b class="fn">Zoe</b></div>'
        b'<div class="comment-content"><p>Moi aussi.</p></div></article></li>'
        b'<li id="comment-104"',
    )
    http_server.routes["/2026/11/avis-acme/"] = new
    http_server.routes["/comments/feed/"] = Response(
        feed((105, "Zoe"), (101, "Paul Durand")), headers={"Content-Type": "application/rss+xml"}
    )
    third = read(http_server.url("/"), again.state)
    got = {i.url: i for i in third.items}
    assert got[base + "#comment-105"].author.name == "Zoe"
    assert got[base + "#comment-105"].parent_url == base


def wp_api(server, comments: list[dict]):
    def handle(request):
        query = parse_qs(urlsplit(request.path).query)
        route = urlsplit(request.path).path
        if route.endswith("/posts"):
            data = [{"id": 1, "link": server.url("/p/"), "title": {"rendered": "Acme"},
                     "content": {"rendered": "<p>About Acme</p>"}, "author": 2,
                     "date_gmt": "2026-11-01T08:00:00", "modified_gmt": "2026-11-01T08:00:00",
                     "_embedded": {"author": [{"name": "Lise",
                                               "link": server.url("/author/lise/")}]}}]  # fmt: skip
            if "modified_after" in query:
                data = []
            return Response(json.dumps(data), headers={"X-WP-TotalPages": "1"}, conditional=False)
        after = query.get("after", [""])[0]
        rows = [c for c in comments if c["date_gmt"] > after]
        page = int(query.get("page", ["1"])[0])
        chunk = rows[(page - 1) * 2 : page * 2]
        pages = max(1, (len(rows) + 1) // 2)
        return Response(
            json.dumps(chunk), headers={"X-WP-TotalPages": str(pages)}, conditional=False
        )

    server.routes["/wp-json/wp/v2/posts"] = handle
    server.routes["/wp-json/wp/v2/comments"] = handle
    server.routes["/"] = (
        '<html><head><meta name="generator" content="WordPress 6.7">'
        f'<link rel="https://api.w.org/" href="{server.url("/wp-json/")}"></head>'
        "<body>home</body></html>"
    )


def comment(n: int, parent: int, who: str, when: str, server) -> dict:
    return {"id": n, "post": 1, "parent": parent, "author": 0, "author_name": who,
            "author_url": "", "date_gmt": when, "type": "comment",
            "link": server.url(f"/p/#comment-{n}"),
            "content": {"rendered": f"<p>{who}</p>"}}  # fmt: skip


def test_wordpress_rest_api_paginated_with_cursor(http_server):
    comments = [
        comment(1, 0, "Ana", "2026-11-01T09:00:00", http_server),
        comment(2, 1, "Lise", "2026-11-01T10:00:00", http_server),
        comment(3, 0, "Anonymous", "2026-11-01T11:00:00", http_server),
    ]
    wp_api(http_server, comments)
    first = read(http_server.url("/"))
    post = http_server.url("/p/")
    by_url = {i.url: i for i in first.items}
    assert set(by_url) == {post, post + "#comment-1", post + "#comment-2", post + "#comment-3"}
    assert by_url[post + "#comment-2"].parent_url == post + "#comment-1"
    assert by_url[post].author.name == "Lise"
    assert (
        http_server.hits("/wp-json/wp/v2/comments?per_page=100&orderby=date_gmt&order=asc&page=2")
        == 1
    )

    again = read(http_server.url("/"), first.state)
    assert again.items == []
    # A new comment on the old post: the comments cursor finds it.
    comments.append(comment(4, 2, "Ana", "2026-11-20T09:00:00", http_server))
    third = read(http_server.url("/"), again.state)
    assert [i.url for i in third.items] == [post + "#comment-4"]
    assert third.items[0].parent_url == post + "#comment-2"


def test_what_robots_txt_forbids_inside_a_blog_is_skipped(http_server):
    """Sites often forbid their feeds to search engines: the comment feed forbidden, the
    post page still gives its thread; the post page forbidden, the feed still gives its
    comments. Neither fails the source, and nothing forbidden is asked for."""
    blog_site(http_server, feed((101, "Paul Durand")))
    base = http_server.url("/2026/11/avis-acme/")
    http_server.routes["/robots.txt"] = "User-agent: *\nDisallow: /comments/feed/\n"
    urls = {i.url for i in read(http_server.url("/")).items}
    assert {base, base + "#comment-101", base + "#comment-102"} <= urls
    assert http_server.hits("/comments/feed/") == 0

    http_server.routes["/robots.txt"] = "User-agent: *\nDisallow: /2026/\n"
    urls = {i.url for i in read(http_server.url("/")).items}
    assert base + "#comment-101" in urls  # from the feed
    assert http_server.hits("/2026/11/avis-acme/") == 1  # the first read's only


def test_a_wordpress_api_robots_txt_forbids_falls_back_to_the_pages(http_server):
    wp_api(http_server, [comment(1, 0, "Ana", "2026-11-01T09:00:00", http_server)])
    http_server.routes["/robots.txt"] = "User-agent: *\nDisallow: /wp-json/\n"
    result = read(http_server.url("/"))
    assert result.state.cursor.get("no_api") is True
    assert not [r for r in http_server.requests() if r.path.startswith("/wp-json")]


def test_pages_are_capped_per_scan(http_server):
    http_server.routes["/"] = (
        "<html><body>"
        + "".join(f'<h2 class="entry-title"><a href="/p{n}/">p</a></h2>' for n in range(30))
        + "</body></html>"
    )
    for n in range(30):
        http_server.routes[f"/p{n}/"] = (
            "<html><body class='single'><article>x</article></body></html>"
        )
    read(http_server.url("/"), max_pages=5)
    assert len([r for r in http_server.requests() if r.path != "/robots.txt"]) == 5
