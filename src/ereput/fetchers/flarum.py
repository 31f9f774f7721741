"""Flarum through its JSON:API (`/api/discussions`, `/api/posts?filter[discussion]=N`).

A discussion's posts come with their users (`include=user,discussion`): `username`,
`displayName`, `slug`, user id; a post whose user relationship is empty belongs to a
deleted user. Post URLs are `/d/{id}-{slug}/{number}`; a `PostMention` link in a post's
HTML names the post it replies to.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from ereput.fetchers.posts import (
    Listing,
    Post,
    TopicPage,
    TopicRef,
    account,
    html_text,
    iso_date,
    load_json,
    plain,
    soup,
    thread_items,
)
from ereput.urls import canonical_url, host_of

_DISCUSSION = re.compile(r"/d/(\d+)")


def base_of(source_url: str) -> str:
    """The forum's root (where `/api` lives) from any of its URLs."""
    m = re.match(r"(.*?)/(?:d|t|tags|u|api)/", source_url + "/")
    return (m[1] if m else source_url.rstrip("/")) + "/"


def listing_url(source_url: str, options: dict[str, Any]) -> str:
    base = base_of(source_url)
    m = re.search(r"/t/([\w-]+)", source_url)
    tag = options.get("tag") or (m[1] if m else None)
    url = f"{base}api/discussions?sort=-lastPostedAt&page%5Blimit%5D=50"
    if tag:
        url += f"&filter%5Btag%5D={quote(str(tag))}"
    return url


def topic_api(source_url: str) -> str | None:
    m = _DISCUSSION.search(source_url)
    return _posts_url(base_of(source_url), m[1]) if m else None


def _posts_url(base: str, discussion: str) -> str:
    return (
        f"{base}api/posts?filter%5Bdiscussion%5D={discussion}&sort=number"
        "&include=user,discussion&page%5Blimit%5D=50"
    )


def parse_listing(body: bytes, url: str, content_type: str | None = None) -> Listing:
    doc = load_json(body)
    base = base_of(url)
    topics = []
    for d in doc.get("data") or [] if isinstance(doc, dict) else []:
        if not isinstance(d, dict) or d.get("type") != "discussions":
            continue
        attrs = d.get("attributes") or {}
        did = str(d.get("id", ""))
        if not did.isdigit():
            continue
        marker = f"{attrs.get('lastPostNumber', '')} {attrs.get('lastPostedAt', '')}".strip()
        topics.append(TopicRef(_posts_url(base, did), did, plain(attrs.get("title")), marker))
    nxt = (doc.get("links") or {}).get("next") if isinstance(doc, dict) else None
    return Listing(topics, [], canonical_url(nxt, url) if isinstance(nxt, str) else None)


def parse_topic(
    body: bytes, url: str, content_type: str | None = None, first_post_url: str | None = None
) -> TopicPage:
    doc = load_json(body)
    if not isinstance(doc, dict):
        return TopicPage([])
    base = base_of(url)
    site = host_of(base)
    users: dict[str, dict[str, Any]] = {}
    discussions: dict[str, dict[str, Any]] = {}
    for inc in doc.get("included") or []:
        if isinstance(inc, dict) and inc.get("type") == "users":
            users[str(inc.get("id"))] = inc.get("attributes") or {}
        elif isinstance(inc, dict) and inc.get("type") == "discussions":
            discussions[str(inc.get("id"))] = inc.get("attributes") or {}
    data = [p for p in doc.get("data") or [] if isinstance(p, dict) and p.get("type") == "posts"]
    posts: list[Post] = []
    numbers: dict[str, str] = {}
    title = ""
    first_page = False
    disc_url = base
    for p in data:
        attrs = p.get("attributes") or {}
        if attrs.get("contentType", "comment") != "comment":
            continue  # "discussionRenamed", "discussionStickied"…: events, not words
        rel = p.get("relationships") or {}
        did = str(((rel.get("discussion") or {}).get("data") or {}).get("id", ""))
        disc = discussions.get(did, {})
        title = title or plain(disc.get("title"))
        slug = str(disc.get("slug") or "")
        disc_url = canonical_url(f"d/{did}{'-' + slug if slug else ''}", base) or base
        number = str(attrs.get("number", ""))
        first_page = first_page or number == "1"
        post_url = canonical_url(f"{disc_url}/{number}")
        if post_url is None:
            continue
        numbers[str(p.get("id"))] = post_url
        user_ref = (rel.get("user") or {}).get("data")
        author = None
        if isinstance(user_ref, dict):
            u = users.get(str(user_ref.get("id")), {})
            username = u.get("username")
            author = account(
                site,
                u.get("displayName") or username,
                profile_url=canonical_url(f"u/{u.get('slug') or username}", base)
                if (u.get("slug") or username)
                else None,
                uid=user_ref.get("id"),
                handle=username,
                platform="flarum",
            )
        else:
            author = account(site, "[deleted]", platform="flarum")
        html = str(attrs.get("contentHtml") or "")
        parent = None
        mention = soup(html).select_one("a.PostMention[data-id]") if "PostMention" in html else None
        if mention is not None:
            parent = numbers.get(str(mention.get("data-id")))
        if "PostMention" in html:
            doc_html = soup(html)
            for m in doc_html.select("a.PostMention"):
                m.decompose()
            html = str(doc_html)
        posts.append(
            Post(
                url=post_url,
                text=html_text(html),
                author=author,
                published=iso_date(attrs.get("createdAt")),
                entry_id=f"flarum-post-{p.get('id')}@{site}",
                parent_url=parent,
            )
        )
    if first_post_url is None and first_page and posts:
        first_post_url = posts[0].url
    nxt = (doc.get("links") or {}).get("next")
    return TopicPage(
        thread_items(
            posts,
            topic_url=f"{disc_url}/1",
            title=title,
            first_page=first_page,
            first_post_url=first_post_url,
        ),
        next_url=canonical_url(nxt, url) if isinstance(nxt, str) else None,
        title=title,
        first_page=first_page,
    )
