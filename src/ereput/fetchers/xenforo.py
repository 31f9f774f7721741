"""XenForo 2 (and 1) thread and forum pages.

Thread: `article.message--post` with `data-author`, `a.username[data-user-id]` to
`/members/name.N/` (a bare `span.username` for guests, `data-user-id="0"`), the date in
`time.u-dt[datetime]`, the permalink `/threads/slug.T/post-N`, the words in `.bbWrapper`
without quotes (`blockquote[data-source="post: N"]` is the parent).
"""

from __future__ import annotations

import re

from bs4 import Tag

from ereput.fetchers.posts import (
    Listing,
    Post,
    TopicPage,
    TopicRef,
    Zone,
    account,
    first,
    iso_date,
    next_link,
    page_url_of,
    page_zone,
    soup,
    strip_session,
    text_date,
    text_of,
    topic_page,
)
from ereput.urls import canonical_url, host_of

_POST_ID = re.compile(r"(?:js-)?post-(\d+)")
_PAGE = re.compile(r"page-(\d+)/?$")
_MEMBER_ID = re.compile(r"/members/(?:[^/]*\.)?(\d+)/?")
_THREAD_ID = re.compile(r"/threads/(?:[^/]*\.)?(\d+)/?")
_DROP = "blockquote.bbCodeBlock--quote, blockquote.quote, .bbCodeBlock--quote, script, style"


def parse_topic(
    body: bytes,
    url: str,
    content_type: str | None = None,
    first_post_url: str | None = None,
    *,
    tz: Zone = None,
) -> TopicPage:
    """One topic page; dates printed without a zone are read in the page's, else `tz`."""
    doc = soup(body, content_type)
    tz = page_zone(doc, tz)
    page_url = page_url_of(doc, url)
    topic_url = _PAGE.sub("", page_url)
    h1 = first(doc, "h1.p-title-value", "h1")
    if h1 is not None:
        for label in h1.select(".label, .labelLink, .label-append"):
            label.decompose()
    title = h1.get_text(" ", strip=True) if h1 else ""
    posts = []
    for el in doc.select("article.message--post, li.message[id^=post-]"):
        m = _POST_ID.fullmatch(str(el.get("id") or el.get("data-content") or ""))
        if m is None and (dc := el.get("data-content")):
            m = _POST_ID.fullmatch(str(dc))
        if m is None:
            continue
        post = _post(el, m[1], url, topic_url, tz)
        if post is not None:
            posts.append(post)
    first_page = not _PAGE.search(page_url)
    nxt = first(doc, "link[rel=next]", "a.pageNav-jump--next", "a[rel=next]")
    return topic_page(
        posts,
        topic_url=topic_url,
        title=title,
        first_page=first_page,
        first_post_url=first_post_url,
        next_url=next_link(nxt, url),
    )


def _post(el: Tag, pid: str, url: str, topic_url: str, tz: Zone) -> Post | None:
    link = first(el, ".message-name a.username", "a.username[href]", ".messageUserInfo a.username")
    name = str(el.get("data-author") or "")
    profile = None
    uid = None
    if link is not None:
        name = name or link.get_text(" ", strip=True)
        profile = strip_session(str(link.get("href", "")), url)
        uid = link.get("data-user-id")
        if uid is None and profile and (m := _MEMBER_ID.search(profile)):
            uid = m[1]
    elif not name:
        guest = first(el, ".message-name .username", ".username")
        name = guest.get_text(" ", strip=True) if guest else ""
    time_el = first(el, "header.message-attribution time[datetime]", "time[datetime]")
    published = iso_date(str(time_el.get("datetime", "")), tz) if time_el else None
    if published is None and (dt := first(el, ".DateTime", ".message-attribution")):
        published = text_date(str(dt.get("title") or dt.get_text(" ", strip=True)), tz=tz)
    perma = first(el, ".message-attribution-main[href]", "a[href*='/post-']", "a.datePermalink")
    permalink = strip_session(str(perma.get("href", "")), url) if perma else None
    permalink = permalink or canonical_url(f"post-{pid}", topic_url.rstrip("/") + "/")
    if permalink is None:
        return None
    parent = None
    quote = el.select_one("blockquote[data-source^='post:']")
    if quote is not None and (m := re.search(r"\d+", str(quote.get("data-source", "")))):
        parent = canonical_url(f"post-{m[0]}", topic_url.rstrip("/") + "/")
    return Post(
        url=permalink,
        text=text_of(
            first(el, ".message-body .bbWrapper", ".messageText", ".message-body"), drop=_DROP
        ),
        author=account(url, name, profile_url=profile, uid=uid, platform="xenforo"),
        published=published,
        entry_id=f"post-{pid}@{host_of(topic_url)}",
        parent_url=parent,
    )


def parse_listing(body: bytes, url: str, content_type: str | None = None) -> Listing:
    doc = soup(body, content_type)
    topics = []
    for row in doc.select(".structItem--thread, li.discussionListItem"):
        a = first(
            row,
            ".structItem-title a[href*='/threads/']",
            "a.PreviewTooltip",
            "a[href*='/threads/']",
        )
        topic = strip_session(str(a.get("href", "")), url) if a else None
        if a is None or topic is None:
            continue
        topic = _PAGE.sub("", topic)
        latest = first(row, ".structItem-latestDate", ".lastPostInfo .DateTime", "time")
        replies = first(row, ".structItem-cell--meta dd", ".stats .major dd")
        marker = " ".join(
            str(x.get("datetime") or x.get("data-time") or x.get_text(" ", strip=True))
            for x in (latest, replies)
            if x is not None
        )
        m = _THREAD_ID.search(topic)
        topics.append(TopicRef(topic, m[1] if m else topic, a.get_text(" ", strip=True), marker))
    forums = [
        f
        for a in doc.select(".node-title a, h3.nodeTitle a")
        if (f := strip_session(str(a.get("href", "")), url)) is not None
    ]
    nxt = first(doc, "link[rel=next]", "a.pageNav-jump--next")
    return Listing(
        topics,
        list(dict.fromkeys(forums)),
        strip_session(str(nxt.get("href", "")), url) if nxt else None,
    )
