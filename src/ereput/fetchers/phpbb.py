"""phpBB 3 (prosilver and its look-alikes, Forumotion included) topic and forum pages.

Topic: `div.post#pN`, the author in `p.author` / `dl.postprofile` (`a.username` to
`memberlist.php?mode=viewprofile&u=N`, a bare `span.username` for guests), the date in
`<time datetime>` (3.2+) or as text after "»", the words in `div.content` (quotes of other
posts removed; a quote that links to its post is the reply's parent). Forum pages:
`a.forumtitle` (sub-forums), `a.topictitle` (topics) and each topic's last-post link.
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
    page_zone,
    query_param,
    soup,
    strip_session,
    text_date,
    text_of,
    topic_page,
)
from ereput.identifiers import url_identifier
from ereput.urls import canonical_url, host_of

_POST_ID = re.compile(r"p(\d+)")
_TOPIC_ID = re.compile(r"(?:[?&]t=(\d+))|/t(\d+)(?:p\d+)?-")
# Forumotion inserts an advertisement dressed as a post (author "Sponsored content").
_PSEUDO_AUTHORS = frozenset(
    {"gesponserte inhalte", "sponsored content", "contenu sponsorisé", "contenido patrocinado"}
)
_QUOTES = "blockquote, .quotecontent, .codebox, .signature, script, style"


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
    topic_url = _topic_url(doc, url)
    title_el = doc.select_one("h2.topic-title, h2 a[href*='viewtopic'], .maintitle h3, h1")
    title = title_el.get_text(" ", strip=True) if title_el else ""
    forumotion = bool(doc.select_one(".postprofile-head, .post-entry"))
    posts = []
    for el in doc.select("div.post[id]"):
        m = _POST_ID.fullmatch(str(el.get("id", "")))
        if not m or m[1] == "0":
            continue
        post = _post(el, m[1], url, topic_url, forumotion, tz)
        if post is not None:
            posts.append(post)
    start = query_param(url, "start")
    first_page = start in (None, "", "0") and not re.search(r"/t\d+p[1-9]\d*-", url)
    return topic_page(
        posts,
        topic_url=topic_url,
        title=title,
        first_page=first_page,
        first_post_url=first_post_url,
        next_url=_next(doc, url),
    )


def _post(
    el: Tag, pid: str, page_url: str, topic_url: str, forumotion: bool, tz: Zone
) -> Post | None:
    author_p = el.select_one("p.author")
    link = el.select_one(
        "p.author a.username, p.author a.username-coloured, dl.postprofile a.username, "
        "dl.postprofile a.username-coloured, .postprofile a[href*='/u'], "
        "dl.postprofile a[href*='mode=viewprofile'], p.author a[href*='mode=viewprofile']"
    )
    name = ""
    profile = None
    if link is not None:
        name = link.get_text(" ", strip=True)
        profile = strip_session(str(link.get("href", "")), page_url)
    else:
        guest = el.select_one(
            "p.author span.username, p.author .username, dl.postprofile .username, "
            ".postprofile-head strong, .postprofile-head a, p.author strong"
        )
        if guest is not None:
            name = guest.get_text(" ", strip=True)
        elif author_p is not None:  # "von NAME am DATE"
            words = author_p.get_text(" ", strip=True)
            m = re.search(r"(?:von|by|par|de|di)\s+(.+?)(?:\s+(?:am|on|le|el|il)\s|»|$)", words)
            name = m[1].strip() if m else ""
    if name.casefold() in _PSEUDO_AUTHORS:
        return None
    uid = query_param(profile, "u")
    if uid is None and profile and (m := re.search(r"/u(\d+)(?:[-/]|$)", profile)):
        uid = m[1]
    # prosilver's contact list may carry the poster's website: an identifier that links
    # this account to the same person elsewhere (their blog, say).
    icon = el.select_one(".profile-contact .phpbb_website-icon, .profile-contact .website-icon")
    link = icon.find_parent("a") if icon is not None else None
    website = url_identifier(canonical_url(str(link.get("href", "")), page_url)) if link else None
    author = account(
        page_url, name, profile_url=profile, uid=uid, extra=(website,), platform="phpbb"
    )
    time_el = author_p.select_one("time[datetime]") if author_p else None
    date_text = ""
    if time_el is not None:
        date_text = str(time_el.get("datetime", ""))
    elif author_p is not None:
        date_text = author_p.get_text(" ", strip=True).rsplit("»", 1)[-1]
    published = text_date(date_text, tz=tz)
    body = first(el, "div.content", ".post-entry", ".postbody")
    parent = None
    quote_link = el.select_one(
        "blockquote cite a[href*='p='], blockquote a[data-post-id], blockquote cite a[href*='#p']"
    )
    if quote_link is not None:
        href = str(quote_link.get("href", ""))
        if qm := re.search(r"[?&]p=(\d+)", href):
            parent = canonical_url(f"viewtopic.php?p={qm[1]}#p{qm[1]}", page_url)
    if forumotion:
        url = canonical_url(f"#p{pid}", topic_url)
    else:
        url = canonical_url(f"viewtopic.php?p={pid}#p{pid}", page_url)
    if url is None:
        return None
    return Post(
        url=url,
        text=text_of(body, drop=_QUOTES),
        author=author,
        published=published,
        entry_id=f"p{pid}@{host_of(page_url)}",
        parent_url=parent,
    )


def _topic_url(doc: Tag, url: str) -> str:
    canonical = doc.select_one("link[rel=canonical]")
    href = str(canonical.get("href", "")) if canonical else ""
    topic = strip_session(href, url) if href else None
    if topic is None:
        a = doc.select_one("h2.topic-title a, h2 a[href*='viewtopic']")
        topic = strip_session(str(a.get("href", "")), url) if a else None
    topic = topic or strip_session(url) or url
    # page 2 of a Forumotion topic is /t7p15-slug: the topic is /t7-slug
    return re.sub(r"/t(\d+)p\d+-", r"/t\1-", topic)


def _next(doc: Tag, url: str) -> str | None:
    a = doc.select_one(
        "link[rel=next], .pagination li.next a, .pagination a.next, a[rel=next], "
        ".pagination a.arrow.next"
    )
    if a is None:
        return None
    return strip_session(str(a.get("href", "")), url)


def parse_listing(body: bytes, url: str, content_type: str | None = None) -> Listing:
    doc = soup(body, content_type)
    topics = []
    for row in doc.select("li.row, tr"):
        a = row.select_one("a.topictitle")
        if a is None:
            continue
        topic = strip_session(str(a.get("href", "")), url)
        if topic is None:
            continue
        key = _topic_key(topic)
        last = row.select_one("dd.lastpost a[href*='p='], .lastpost a[href*='p=']")
        replies = row.select_one("dd.posts, .posts")
        marker = " ".join(
            part
            for part in (
                strip_session(str(last.get("href", "")), url) if last else "",
                replies.get_text(" ", strip=True) if replies else "",
            )
            if part
        )
        topics.append(TopicRef(topic, key, a.get_text(" ", strip=True), marker))
    forums = [
        f
        for a in doc.select("a.forumtitle")
        if (f := strip_session(str(a.get("href", "")), url)) is not None
    ]
    return Listing(topics, list(dict.fromkeys(forums)), _next(doc, url))


def _topic_key(url: str) -> str:
    m = _TOPIC_ID.search(url)
    return (m[1] or m[2]) if m else url
