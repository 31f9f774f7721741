"""`kind = "discourse"`: a Discourse forum through its public JSON.

Listings: `/latest.json`, `/c/{slug}/{id}.json`, or `/search.json?q=` (option `search`);
topics: `/t/{id}.json` (the first posts and the `post_stream.stream` of every post id),
then `/t/{id}/posts.json?post_ids[]=…` for the rest, 20 ids a request. `/posts.json`
(latest posts) is read too. Incremental: per topic, the listing's `highest_post_number`
and `last_posted_at`, and the highest post id read; a page cap per scan (`max_pages`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from ereput.fetchers.base import ReadContext, ReadResult, Refusals, SourceState, register
from ereput.fetchers.posts import (
    TopicRef,
    account,
    html_text,
    iso_date,
    load_json,
    plain,
)
from ereput.identifiers import avatar_identifier
from ereput.models import Item, Source
from ereput.urls import canonical_url, host_of

ACCEPT = "application/json"
DEFAULT_MAX_PAGES = 30
CHUNK = 20
MAX_TOPICS_KEPT = 2000
_TOPIC = re.compile(r"/t/(?:([^/]+)/)?(\d+)(?:/\d+)?/?(?:\.json)?$")
_CATEGORY = re.compile(r"/c/(.+?)/?(?:\.json)?$")


@dataclass
class ParsedPosts:
    items: list[Item]
    ids: list[int] = field(default_factory=list)  # post ids read
    stream: list[int] = field(default_factory=list)  # every post id of the topic
    topics: list[TopicRef] = field(default_factory=list)  # from a listing or search
    more: str | None = None


def base_of(url: str) -> str:
    m = re.match(r"(.*?)/(?:t|c|latest|search|posts|u)(?:[/.?]|$)", url)
    return (m[1] if m else url.split("?")[0].rstrip("/")) + "/"


def post_url(base: str, slug: str, topic_id: Any, number: Any) -> str | None:
    return canonical_url(f"t/{slug or 'topic'}/{topic_id}/{number}", base)


def parse_posts(body: bytes, url: str, title: str = "", slug: str = "") -> ParsedPosts:
    """Posts from `/t/{id}.json`, `/t/{id}/posts.json`, `/posts.json` or `/search.json`,
    and topics from a listing (`topic_list`) or a search (`topics`)."""
    doc = load_json(body)
    if not isinstance(doc, dict):
        return ParsedPosts([])
    base = base_of(url)
    title = plain(doc.get("title")) or title
    slug = str(doc.get("slug") or slug)
    stream = doc.get("post_stream") or {}
    raw = stream.get("posts") or doc.get("latest_posts") or []
    items, ids = [], []
    for p in raw:
        if not isinstance(p, dict) or not isinstance(p.get("id"), int):
            continue
        item = _item(p, base, title, slug)
        if item is not None:
            items.append(item)
            ids.append(p["id"])
    topics = []
    listing = (doc.get("topic_list") or {}).get("topics") or doc.get("topics") or []
    if "post_stream" not in doc:
        for t in listing:
            if isinstance(t, dict) and isinstance(t.get("id"), int):
                marker = f"{t.get('highest_post_number', '')} {t.get('last_posted_at', '')}"
                topics.append(
                    TopicRef(
                        canonical_url(f"t/{t['id']}.json", base) or base,
                        str(t["id"]),
                        plain(t.get("title")),
                        marker.strip(),
                    )
                )
    more = (doc.get("topic_list") or {}).get("more_topics_url")
    return ParsedPosts(
        items,
        ids,
        [i for i in stream.get("stream") or [] if isinstance(i, int)],
        topics,
        canonical_url(more, base) if isinstance(more, str) else None,
    )


def _item(p: dict[str, Any], base: str, title: str, slug: str) -> Item | None:
    if p.get("deleted_at") or p.get("post_type") not in (None, 1):
        return None  # deleted posts, moderator actions and whispers: not anyone's words
    topic_id = p.get("topic_id")
    number = p.get("post_number")
    slug = str(p.get("topic_slug") or slug)
    title = plain(p.get("topic_title")) or title
    url = post_url(base, slug, topic_id, number)
    first = post_url(base, slug, topic_id, 1)
    if url is None or not isinstance(number, int):
        return None
    site = host_of(base)
    username = p.get("username")
    if p.get("user_deleted") or not username:
        author = account(site, "[deleted]", platform="discourse")
    else:
        template = p.get("avatar_template")
        avatar = (
            canonical_url(template.replace("{size}", "120"), base)
            if isinstance(template, str)
            else None
        )
        author = account(
            site,
            p.get("name") or p.get("display_username") or username,
            profile_url=canonical_url(f"u/{quote(str(username))}", base),
            uid=p.get("user_id"),
            handle=username,
            extra=(avatar_identifier(avatar),),
            platform="discourse",
        )
    reply_to = p.get("reply_to_post_number")
    parent = None
    if number != 1:
        parent = post_url(base, slug, topic_id, reply_to) if isinstance(reply_to, int) else first
    text = html_text(p.get("cooked")) or html_text(p.get("blurb")) or plain(p.get("raw"), 100_000)
    return Item(
        url=url,
        title=title if number == 1 else "",
        text=text,
        published=iso_date(p.get("created_at")),
        author=author,
        entry_id=f"discourse-post-{p['id']}@{site}",
        thread_url=first,
        parent_url=parent,
    )


def listing_url(source: Source) -> str:
    base = base_of(source.url)
    if source.options.get("search"):
        return f"{base}search.json?{urlencode({'q': source.options['search']})}"
    if source.options.get("category"):
        return f"{base}c/{source.options['category']}.json"
    path = source.url[len(base) - 1 :] if source.url.startswith(base) else ""
    if m := _CATEGORY.match(path):
        return f"{base}c/{m[1]}.json"
    if path.rstrip("/").endswith(("posts.json", "latest.json", "search.json")) or "?" in path:
        return source.url
    return f"{base}latest.json"


class DiscourseReader:
    kind = "discourse"

    async def read(self, source: Source, ctx: ReadContext, state: SourceState) -> ReadResult:
        base = base_of(source.url)
        cursor: dict[str, Any] = dict(state.cursor)
        topics: dict[str, Any] = dict(cursor.get("topics") or {})
        budget = [int(source.options.get("max_pages", DEFAULT_MAX_PAGES))]
        items: list[Item] = []
        refusals = Refusals()  # topics robots.txt forbids
        allow = source.url.startswith("file:")

        async def get(url: str, validators: list[str | None] | None = None) -> Any:
            budget[0] -= 1
            etag, modified = (validators or [None, None])[:2]
            return await ctx.http.get(
                url,
                etag=etag,
                last_modified=modified,
                accept=ACCEPT,
                allow_file=allow and url == source.url,
            )

        async def topic(ref: TopicRef) -> bool:
            st = dict(topics.get(ref.key) or {})
            if st and ref.marker and st.get("marker") == ref.marker:
                return True
            if budget[0] <= 0:
                return False
            res = await get(ref.url)
            parsed = await ctx.parse(parse_posts, res.body, res.url)
            top = max(st.get("max_id", 0), 0)
            title = parsed.items[0].title if parsed.items and parsed.items[0].title else ""
            slug = ""
            if parsed.items and (m := _TOPIC.search(parsed.items[0].url)):
                slug = m[1] or ""
            found = {i: it for i, it in zip(parsed.ids, parsed.items, strict=True)}
            missing = [i for i in parsed.stream if i not in found and i > top]
            complete = True
            for start in range(0, len(missing), CHUNK):
                if budget[0] <= 0:
                    complete = False
                    break
                chunk = missing[start : start + CHUNK]
                query = urlencode([("post_ids[]", i) for i in chunk])
                more_res = await get(f"{base}t/{ref.key}/posts.json?{query}")
                more = await ctx.parse(parse_posts, more_res.body, more_res.url, title, slug)
                found.update(zip(more.ids, more.items, strict=True))
            order = parsed.stream or parsed.ids
            read_ids = [i for i in order if i in found and i > top]
            items.extend(found[i] for i in read_ids)
            if read_ids:
                st["max_id"] = max(read_ids)
            if complete and ref.marker:
                st["marker"] = ref.marker
            topics.pop(ref.key, None)
            topics[ref.key] = st
            return complete

        if m := _TOPIC.search(source.url):
            await topic(TopicRef(f"{base}t/{m[2]}.json", m[2]))
        else:
            url: str | None = listing_url(source)
            listings = dict(cursor.get("listings") or {})
            while url and budget[0] > 0:
                res = await get(url, listings.get(url))
                if res.not_modified:
                    break
                parsed = await ctx.parse(parse_posts, res.body, res.url)
                if not parsed.topics:  # /posts.json: the posts themselves
                    items.extend(parsed.items)
                done = True
                for ref in parsed.topics:
                    done = await refusals.attempt(topic(ref)) and done
                if done:
                    listings[url] = [res.etag, res.last_modified]
                url = parsed.more if parsed.more != url else None
            cursor["listings"] = listings
        refusals.check()
        while len(topics) > MAX_TOPICS_KEPT:
            topics.pop(next(iter(topics)))
        cursor["topics"] = topics
        # Nothing new and nothing moved (every listing answered 304): an unchanged source.
        unchanged = not items and cursor == state.cursor
        return ReadResult(
            items, SourceState(state.etag, state.last_modified, cursor), not_modified=unchanged
        )


register(DiscourseReader())
