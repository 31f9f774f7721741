"""NodeBB through its read API (`/api/recent`, `/api/category/{cid}`, `/api/topic/{tid}`).

Each post carries `pid`, `uid`, `content` (HTML), `timestamp` (ms), `toPid` (the post it
replies to) and its `user` (`username`, `displayname`, `userslug`); uid 0 is a guest and a
deleted user keeps a placeholder name. Post URLs are `/post/{pid}`.
"""

from __future__ import annotations

import re
from typing import Any

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
    thread_items,
)
from ereput.identifiers import is_placeholder_name
from ereput.urls import canonical_url, host_of

_TOPIC = re.compile(r"/topic/(\d+)")
_CATEGORY = re.compile(r"/category/(\d+(?:/[^/?#]+)?)")


def base_of(source_url: str) -> str:
    m = re.match(r"(.*?)/(?:topic|category|api|recent|user|post)/", source_url + "/")
    return (m[1] if m else source_url.rstrip("/")) + "/"


def listing_url(source_url: str, options: dict[str, Any]) -> str:
    base = base_of(source_url)
    m = _CATEGORY.search(source_url)
    category = options.get("category") or (m[1] if m else None)
    return f"{base}api/category/{category}" if category else f"{base}api/recent"


def topic_api(source_url: str) -> str | None:
    m = _TOPIC.search(source_url)
    return f"{base_of(source_url)}api/topic/{m[1]}" if m else None


def parse_listing(body: bytes, url: str, content_type: str | None = None) -> Listing:
    doc = load_json(body)
    base = base_of(url)
    topics = []
    for t in doc.get("topics") or [] if isinstance(doc, dict) else []:
        if not isinstance(t, dict) or not str(t.get("tid", "")).isdigit():
            continue
        tid = str(t["tid"])
        marker = f"{t.get('postcount', '')} {t.get('lastposttime', '')}".strip()
        topics.append(TopicRef(f"{base}api/topic/{tid}", tid, plain(t.get("title")), marker))
    return Listing(topics, [], _next(doc, url))


def _next(doc: Any, url: str) -> str | None:
    pagination = doc.get("pagination") if isinstance(doc, dict) else None
    nxt = (pagination or {}).get("next") or {}
    if not isinstance(nxt, dict) or not nxt.get("active") or not nxt.get("page"):
        return None
    page = int(nxt["page"]) if str(nxt["page"]).isdigit() else None
    if page is None:
        return None
    return canonical_url(re.sub(r"[?&]page=\d+", "", url) + f"?page={page}")


def parse_topic(
    body: bytes, url: str, content_type: str | None = None, first_post_url: str | None = None
) -> TopicPage:
    doc = load_json(body)
    if not isinstance(doc, dict):
        return TopicPage([])
    base = base_of(url)
    site = host_of(base)
    title = plain(doc.get("titleRaw") or doc.get("title"))
    main_pid = str(doc.get("mainPid", ""))
    posts = []
    first_page = False
    for p in doc.get("posts") or []:
        if not isinstance(p, dict) or not str(p.get("pid", "")).isdigit():
            continue
        pid = str(p["pid"])
        if p.get("deleted"):
            continue
        first_page = first_page or pid == main_pid or p.get("index") == 0
        user: dict[str, Any] = p["user"] if isinstance(p.get("user"), dict) else {}
        name = user.get("displayname") or user.get("username")
        uid = p.get("uid", user.get("uid"))
        slug = user.get("userslug")
        if str(uid) in ("0", "-1", "") or is_placeholder_name(name) or str(name).startswith("[["):
            author = account(site, "Guest" if str(uid) == "0" else "[deleted]", platform="nodebb")
        else:
            author = account(
                site,
                name,
                profile_url=canonical_url(f"user/{slug}", base) if slug else None,
                uid=uid,
                handle=user.get("username"),
                platform="nodebb",
            )
        to_pid = p.get("toPid")
        parent = canonical_url(f"post/{to_pid}", base) if str(to_pid or "").isdigit() else None
        post_url = canonical_url(f"post/{pid}", base)
        if post_url is None:
            continue
        posts.append(
            Post(
                url=post_url,
                text=html_text(p.get("content")),
                author=author,
                published=iso_date(p.get("timestampISO") or p.get("timestamp")),
                entry_id=f"pid{pid}@{site}",
                parent_url=parent,
            )
        )
    if first_post_url is None and main_pid.isdigit():
        first_post_url = canonical_url(f"post/{main_pid}", base)
    topic_page = canonical_url(f"topic/{doc.get('slug') or doc.get('tid', '')}", base) or base
    return TopicPage(
        thread_items(
            posts,
            topic_url=topic_page,
            title=title,
            first_page=first_page,
            first_post_url=first_post_url,
        ),
        next_url=_next(doc, url),
        title=title,
        first_page=first_page,
    )
