"""Simple Machines Forum (SMF 2.0 and 2.1) topic and board pages.

Topic: each post in `div.post_wrapper` (or `.windowbg` with `#msgN`), the author in
`.poster h4 a` to `index.php?action=profile;u=N` (no link for guests), the date in the
`.keyinfo`/`.postinfo` line ("« Reply #3 on: March 03, 2011, 02:17:00 PM »"), the words in
`div.inner` without quotes (`.quoteheader a[href*=msg]` is the parent).
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

_MSG = re.compile(r"msg_?(\d+)")
_TOPIC = re.compile(r"topic[=,](\d+)(?:\.(\d+|msg\d+))?")
_UID = re.compile(r"[;&?]u=(\d+)")
_DROP = "blockquote, .quoteheader, .quotefooter, .signature, script, style"
_REPLY_LABEL = re.compile(r"^.*?(?:on|am|le|el|il)\s*:\s*", re.I)


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
    m = _TOPIC.search(page_url)
    topic_id = m[1] if m else ""
    topic_url = canonical_url(f"index.php?topic={topic_id}.0", page_url) if m else page_url
    topic_url = topic_url or page_url
    first_page = not m or m[2] in (None, "0")
    h = first(doc, "#top_subject", "h2.display_title", "#forumposts h3.catbg", "title")
    title = h.get_text(" ", strip=True) if h else ""
    title = re.sub(r"^.*?(?:Topic|Thema|Sujet|Tema)\s*:\s*", "", title)
    title = re.sub(r"\s*\(.*?\)\s*$", "", title)
    posts = []
    seen = set()
    for el in doc.select("div.post_wrapper, #forumposts .windowbg, #forumposts .windowbg2"):
        inner = el.select_one("div.inner[id^=msg_], div[id^=msg_]")
        anchor = el.get("id") or (inner.get("id") if inner else "")
        mm = _MSG.search(str(anchor or ""))
        if mm is None or mm[1] in seen:
            continue
        seen.add(mm[1])
        post = _post(el, mm[1], url, topic_id, page_url, tz)
        if post is not None:
            posts.append(post)
    nxt = first(doc, "link[rel=next]", "a.nav_page[rel=next]")
    return topic_page(
        posts,
        topic_url=topic_url,
        title=title,
        first_page=first_page,
        first_post_url=first_post_url,
        next_url=next_link(nxt, url),
    )


def _post(el: Tag, msg: str, url: str, topic_id: str, page_url: str, tz: Zone) -> Post | None:
    link = first(el, ".poster h4 a[href*='action=profile']", ".poster a[href*='action=profile']")
    if link is not None:
        name = link.get_text(" ", strip=True)
        profile = strip_session(str(link.get("href", "")), url)
    else:
        guest = first(el, ".poster h4", ".poster")
        name = guest.get_text(" ", strip=True).split("\n")[0] if guest else ""
        profile = None
    uid = m[1] if profile and (m := _UID.search(profile)) else None
    date_el = first(el, ".postinfo a.smalltext[title]", ".keyinfo .smalltext", ".postinfo")
    published = None
    if date_el is not None:
        stamp = date_el.select_one("[data-timestamp]")
        if stamp is not None:
            published = iso_date(int(str(stamp.get("data-timestamp", "0")) or 0))
        if published is None:
            raw = date_el.get_text(" ", strip=True).strip("«» ")
            published = text_date(_REPLY_LABEL.sub("", raw), tz=tz)
    permalink = canonical_url(f"index.php?topic={topic_id}.msg{msg}#msg{msg}", page_url)
    if permalink is None:
        return None
    parent = None
    quoted = el.select_one(".quoteheader a[href*='msg'], blockquote cite a[href*='msg']")
    if quoted is not None and (qm := re.search(r"msg(\d+)", str(quoted.get("href", "")))):
        parent = canonical_url(f"index.php?topic={topic_id}.msg{qm[1]}#msg{qm[1]}", page_url)
    return Post(
        url=permalink,
        text=text_of(first(el, "div.inner", ".post .inner", ".post"), drop=_DROP),
        author=account(url, name, profile_url=profile, uid=uid, platform="smf"),
        published=published,
        entry_id=f"msg{msg}@{host_of(page_url)}",
        parent_url=parent,
    )


def parse_listing(body: bytes, url: str, content_type: str | None = None) -> Listing:
    doc = soup(body, content_type)
    topics = []
    for a in doc.select("span[id^=msg_] a[href*='topic='], .subject a[href*='topic=']"):
        topic = strip_session(str(a.get("href", "")), url)
        m = _TOPIC.search(topic or "")
        if topic is None or m is None:
            continue
        row = a.find_parent(["tr", "div"], class_=re.compile("windowbg|topic_container"))
        last = row.select_one(".lastpost a[href*='msg'], td.lastpost a") if row else None
        marker = str(last.get("href", "")) if last is not None else ""
        topics.append(TopicRef(topic, m[1], a.get_text(" ", strip=True), marker))
    forums = [
        f
        for a in doc.select("a.subject[href*='board='], .info a[href*='board=']")
        if (f := strip_session(str(a.get("href", "")), url)) is not None
    ]
    nxt = first(doc, "link[rel=next]")
    return Listing(
        list({t.key: t for t in topics}.values()),
        list(dict.fromkeys(forums)),
        strip_session(str(nxt.get("href", "")), url) if nxt else None,
    )
