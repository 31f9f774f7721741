"""vBulletin 3 and 4 thread and forum pages (often served in ISO-8859-1: bs4 reads the
page's own charset).

Thread: `li.postbit#post_N` (vB4) or `table#postN` (vB3); the author in `a.username` /
`a.bigusername` (a bare `.username` for guests) with its `members/N-name.html` or
`member.php?u=N` profile; the date as text ("03.03.2011, 14:17", "Heute, 09:12");
the words in `#post_message_N` without quotes (a quote linking to its post is the
parent). Session ids (`?s=`) are dropped from every link.
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
    next_link,
    page_url_of,
    page_zone,
    query_param,
    soup,
    strip_session,
    text_date,
    text_of,
    topic_page,
)
from ereput.urls import canonical_url, host_of

_POST_ID = re.compile(r"post_?(\d+)")
_PAGE_SUFFIX = re.compile(r"-(\d+)\.html$")
_MEMBER_ID = re.compile(r"/members/(\d+)[-_]|[?&]u(?:serid)?=(\d+)")
_THREAD_ID = re.compile(r"/(\d+)-[^/]*\.html|[?&]t=(\d+)")
_DROP = ".bbcode_container, .bbcode_quote, div.quote, .tapatalkSignatur, .signature, script, style"


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
    topic_url = _first_page_url(page_url)
    h1 = first(doc, "span.threadtitle", "h1", "title")
    title = h1.get_text(" ", strip=True) if h1 else ""
    title = re.sub(r"\s+-\s+(?:Seite|Page|Pagina|Página)\s+\d+$", "", title)
    posts = []
    counters = []
    for el in doc.select("li.postbit[id^=post_], li.postcontainer[id^=post_], table[id^=post]"):
        m = _POST_ID.fullmatch(str(el.get("id", "")))
        if not m:
            continue
        counter = el.select_one("a.postcounter, a[id^=postcount]")
        counters.append(counter.get_text(strip=True) if counter else "")
        post = _post(el, m[1], url, page_url, counter, tz)
        if post is not None:
            posts.append(post)
    first_page = counters[0] == "#1" if counters and counters[0] else page_url == topic_url
    nxt = doc.select_one("link[rel=next], a[rel=next]")
    return topic_page(
        posts,
        topic_url=topic_url,
        title=title,
        first_page=first_page,
        first_post_url=first_post_url,
        next_url=next_link(nxt, url),
    )


def _post(el: Tag, pid: str, url: str, page_url: str, counter: Tag | None, tz: Zone) -> Post | None:
    link = first(el, "a.username", "a.bigusername", ".username_container a[href*='member']")
    if link is not None:
        name = link.get_text(" ", strip=True)
        profile = strip_session(str(link.get("href", "")), url)
    else:
        guest = first(el, ".username", ".username_container", ".bigusername")
        name = guest.get_text(" ", strip=True) if guest else ""
        profile = None
    uid = None
    if profile and (m := _MEMBER_ID.search(profile)):
        uid = m[1] or m[2]
    date_el = first(el, "span.date", ".postdate", ".userstats dd", "td.thead")
    permalink = strip_session(str(counter.get("href", "")), url) if counter is not None else None
    permalink = permalink or canonical_url(f"showthread.php?p={pid}#post{pid}", page_url)
    if permalink is None:
        return None
    parent = None
    quoted = el.select_one(".bbcode_postedby a[href], div.quote a[href*='post']")
    if quoted is not None:
        parent = strip_session(str(quoted.get("href", "")), url)
    return Post(
        url=permalink,
        text=text_of(first(el, f"#post_message_{pid}", ".postcontent", ".content"), drop=_DROP),
        author=account(url, name, profile_url=profile, uid=uid, platform="vbulletin"),
        published=text_date(date_el.get_text(" ", strip=True), tz=tz) if date_el else None,
        entry_id=f"post{pid}@{host_of(page_url)}",
        parent_url=parent,
    )


def _first_page_url(page_url: str) -> str:
    if query_param(page_url, "page"):
        return canonical_url(re.sub(r"([?&])page=\d+&?", r"\1", page_url).rstrip("?&")) or page_url
    return _PAGE_SUFFIX.sub(".html", page_url) if _looks_paged(page_url) else page_url


def _looks_paged(url: str) -> bool:
    # /122760-some-title-34.html is page 34 of /122760-some-title.html
    return bool(re.search(r"/\d+-[^/]+-\d+\.html$", url))


def parse_listing(body: bytes, url: str, content_type: str | None = None) -> Listing:
    doc = soup(body, content_type)
    topics = []
    for a in doc.select("a.title[id^=thread_title_], a[id^=thread_title_]"):
        topic = strip_session(str(a.get("href", "")), url)
        if topic is None:
            continue
        row = a.find_parent(["li", "tr"])
        last = row.select_one(".lastpostdate, .threadlastpost, a[href*='#post']") if row else None
        replies = row.select_one(".threadstats, td.alt2[title]") if row else None
        marker = " ".join(
            x.get_text(" ", strip=True) for x in (last, replies) if x is not None
        ) or str(last.get("href", "") if last is not None else "")
        m = _THREAD_ID.search(topic)
        key = (m[1] or m[2]) if m else topic
        topics.append(TopicRef(topic, key, a.get_text(" ", strip=True), marker))
    forums = [
        f
        for a in doc.select("h2.forumtitle a, a[id^=f] strong, .forumtitle a")
        if (f := strip_session(str(a.get("href", "")), url)) is not None
    ]
    nxt = doc.select_one("link[rel=next], a[rel=next]")
    return Listing(
        topics,
        list(dict.fromkeys(forums)),
        strip_session(str(nxt.get("href", "")), url) if nxt else None,
    )
