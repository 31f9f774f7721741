"""`engine = "custom"`: any other forum, read with the CSS selectors the watchlist gives.

Selectors (SPEC §3): `thread` (topic links on a forum page), `post` (each post on a topic
page), and inside a post `author`, `author_url`, `date`, `body`; `next` (the next page's
link, on either kind of page). A date element's `datetime`, `title` or `data-time` is
read before its text. A post's permalink is its element id as an anchor (`#post-N` form
when the id is not one), else the page URL with its position.
"""

from __future__ import annotations

import re

from bs4 import Tag
from soupsieve import SelectorSyntaxError

from ereput.errors import ParseError
from ereput.fetchers.posts import (
    Listing,
    Post,
    TopicPage,
    TopicRef,
    Zone,
    account,
    iso_date,
    next_link,
    page_zone,
    soup,
    strip_session,
    text_date,
    text_of,
    topic_page,
)
from ereput.urls import canonical_url


def _select_one(node: Tag, selector: str | None) -> Tag | None:
    if not selector:
        return None
    try:
        return node.select_one(selector)
    except SelectorSyntaxError as e:
        raise ParseError(f"bad CSS selector {selector!r}: {e}") from None


def _select(node: Tag, selector: str) -> list[Tag]:
    try:
        return list(node.select(selector))
    except SelectorSyntaxError as e:
        raise ParseError(f"bad CSS selector {selector!r}: {e}") from None


def parse_topic(
    body: bytes,
    url: str,
    content_type: str | None = None,
    first_post_url: str | None = None,
    *,
    selectors: dict[str, str],
    tz: Zone = None,
) -> TopicPage:
    doc = soup(body, content_type)
    tz = page_zone(doc, tz)
    page_url = strip_session(url) or url
    title_el = _select_one(doc, "h1") or _select_one(doc, "title")
    title = title_el.get_text(" ", strip=True) if title_el else ""
    posts = []
    for i, el in enumerate(_select(doc, selectors["post"])):
        post = _post(el, i, page_url, selectors, tz)
        if post is not None:
            posts.append(post)
    nxt = _select_one(doc, selectors.get("next"))
    first_page = first_post_url is None
    return topic_page(
        posts,
        topic_url=page_url,
        title=title,
        first_page=first_page,
        first_post_url=first_post_url,
        next_url=next_link(nxt, url),
    )


def _post(el: Tag, index: int, page_url: str, sel: dict[str, str], tz: Zone) -> Post | None:
    author_el = _select_one(el, sel.get("author"))
    url_el = _select_one(el, sel.get("author_url"))
    if url_el is None and author_el is not None and author_el.name == "a":
        url_el = author_el
    if url_el is not None and url_el.name != "a":
        url_el = url_el.find("a") or url_el
    name = author_el.get_text(" ", strip=True) if author_el else ""
    profile = strip_session(str(url_el.get("href", "")), page_url) if url_el is not None else None
    date_el = _select_one(el, sel.get("date"))
    published = None
    if date_el is not None:
        for attr in ("datetime", "data-time", "data-timestamp", "title"):
            value = date_el.get(attr)
            if value:
                value = str(value)
                published = iso_date(int(value)) if value.isdigit() else text_date(value, tz=tz)
                if published is not None:
                    break
        if published is None:
            published = text_date(date_el.get_text(" ", strip=True), tz=tz)
    anchor = str(el.get("id") or "")
    url = canonical_url(f"#{anchor}", page_url) if anchor else None
    if url is None or "#" not in url:
        digits = re.search(r"\d+", anchor)
        url = canonical_url(f"#post-{digits[0] if digits else index + 1}", page_url)
    if url is None:
        return None
    return Post(
        url=url,
        text=text_of(_select_one(el, sel["body"]), drop="blockquote, script, style"),
        author=account(page_url, name, profile_url=profile, platform="forum"),
        published=published,
        entry_id=None,
    )


def parse_listing(
    body: bytes, url: str, content_type: str | None = None, *, selectors: dict[str, str]
) -> Listing:
    doc = soup(body, content_type)
    topics = []
    if selectors.get("thread"):
        for a in _select(doc, selectors["thread"]):
            link = a if a.name == "a" else a.find("a")
            topic = strip_session(str(link.get("href", "")), url) if link else None
            if topic is not None and link is not None:
                topics.append(TopicRef(topic, topic, link.get_text(" ", strip=True), ""))
    nxt = _select_one(doc, selectors.get("next"))
    return Listing(
        list({t.key: t for t in topics}.values()),
        [],
        strip_session(str(nxt.get("href", "")), url) if nxt else None,
    )
