"""`kind = "reddit"`: Reddit's public JSON listings (`/search.json?q=`, `/r/{sub}/new.json`,
a user's `overview.json`, a post's `/comments/{id}.json`, `/api/morechildren`).

Posts (`t3`) and comments (`t1`) become items with stable URLs built from their ids
(`https://www.reddit.com/comments/{post}/` and `…/comments/{post}/_/{comment}/`), so that
a comment's `parent_id` and `link_id` name its parent's and thread's URLs exactly. Authors
are `u/NAME`: the handle `name@reddit.com` and the profile `https://www.reddit.com/user/NAME`;
"[deleted]" is nobody.

A post found by a search or a listing brings its comment thread: the post's
`/comments/{id}.json` is read when its comment count grew since the last scan (at most
`max_pages` threads a scan, the most recent posts first; the others wait for the next
scan), so that replies in a thread whose post names the brand are kept as context.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from ereput.errors import HTTPStatusError
from ereput.fetchers.base import ReadContext, ReadResult, SourceState, register
from ereput.fetchers.posts import account, iso_date, load_json, plain
from ereput.identifiers import is_placeholder_name
from ereput.models import Item, Source

SITE = "https://www.reddit.com/"
MAX_DEPTH = 50
MAX_THREADS = 10  # comment threads read per scan, by default
MAX_THREADS_KEPT = 2000
_ID = re.compile(r"[a-z0-9]{1,16}")


@dataclass(frozen=True, slots=True)
class RedditPage:
    items: list[Item]
    after: str | None = None  # the next page's cursor
    comments: dict[str, int] = field(default_factory=dict)  # a listed post's id: its comments


def thing_url(fullname: str) -> str | None:
    kind, _, ident = fullname.partition("_")
    return f"{SITE}comments/{ident}/" if kind == "t3" and _ID.fullmatch(ident) else None


def parse_listing(body: bytes, url: str = SITE) -> RedditPage:
    doc = load_json(body)
    items: list[Item] = []
    after = None
    if isinstance(doc, list):  # a post page: [post listing, comment listing]
        for part in doc[:2]:
            page = _walk(part, items, 0)
            after = after or page
    else:
        after = _walk(doc, items, 0)
    return RedditPage(items, after, _comment_counts(doc))


def _comment_counts(doc: Any) -> dict[str, int]:
    """The comment count of each post of a listing (not of a post page)."""
    data = doc.get("data") if isinstance(doc, dict) and doc.get("kind") == "Listing" else None
    counts = {}
    for child in (data or {}).get("children") or []:
        d = child.get("data") if isinstance(child, dict) and child.get("kind") == "t3" else None
        if not isinstance(d, dict):
            continue
        n, ident = d.get("num_comments"), str(d.get("id", ""))
        if isinstance(n, int) and not isinstance(n, bool) and _ID.fullmatch(ident):
            counts[ident] = n
    return counts


def _walk(node: Any, out: list[Item], depth: int) -> str | None:
    if not isinstance(node, dict) or depth > MAX_DEPTH:
        return None
    if "json" in node:  # /api/morechildren
        return _walk(
            {
                "kind": "Listing",
                "data": {
                    "children": (((node["json"] or {}).get("data") or {}).get("things") or [])
                },
            },
            out,
            depth + 1,
        )
    kind, data = node.get("kind"), node.get("data")
    if not isinstance(data, dict):
        return None
    if kind == "Listing":
        for child in data.get("children") or []:
            _walk(child, out, depth + 1)
        after = data.get("after")
        return after if isinstance(after, str) else None
    if kind in ("t1", "t3"):
        item = _item(kind, data)
        if item is not None:
            out.append(item)
        if kind == "t1" and isinstance(data.get("replies"), dict):
            _walk(data["replies"], out, depth + 1)
    return None


def _item(kind: str, d: dict[str, Any]) -> Item | None:
    ident = str(d.get("id", ""))
    if not _ID.fullmatch(ident):
        return None
    name: str = d["author"] if isinstance(d.get("author"), str) else ""
    author = (
        account(SITE, "[deleted]", platform="reddit")
        if is_placeholder_name(name)
        else account(
            SITE,
            f"u/{name}",
            profile_url=f"{SITE}user/{quote(name)}",
            handle=name,
            handle_host="reddit.com",
            platform="reddit",
        )
    )
    published = iso_date(d.get("created_utc"))
    if kind == "t3":
        return Item(
            url=f"{SITE}comments/{ident}/",
            title=plain(d.get("title")),
            text=plain(d.get("selftext"), 100_000),
            published=published,
            author=author,
            entry_id=f"t3_{ident}",
        )
    link = str(d.get("link_id", ""))
    thread = thing_url(link)
    if thread is None:
        return None
    parent_full = str(d.get("parent_id", ""))
    pkind, _, pid = parent_full.partition("_")
    parent = thread if pkind == "t3" or not _ID.fullmatch(pid) else f"{thread}_/{pid}/"
    return Item(
        url=f"{thread}_/{ident}/",
        text=plain(d.get("body"), 100_000),
        published=published,
        author=author,
        entry_id=f"t1_{ident}",
        thread_url=thread,
        parent_url=parent,
    )


def listing_urls(source: Source) -> list[str]:
    base = source.url if source.url.endswith("/") else source.url + "/"
    urls = []
    if ".json" in source.url:
        urls.append(source.url)
    subreddit = source.options.get("subreddit")
    searches = source.options.get("search") or []
    for term in [searches] if isinstance(searches, str) else searches:
        query = {"q": term, "sort": "new", "limit": 100}
        if subreddit:
            query["restrict_sr"] = "on"
            urls.append(f"{base}r/{subreddit}/search.json?{urlencode(query)}")
        else:
            urls.append(f"{base}search.json?{urlencode(query)}")
    if subreddit and not searches:
        urls.append(f"{base}r/{subreddit}/new.json?limit=100")
    return urls


class RedditReader:
    kind = "reddit"

    async def read(self, source: Source, ctx: ReadContext, state: SourceState) -> ReadResult:
        cursor = dict(state.cursor)
        newest: dict[str, float] = dict(cursor.get("newest") or {})
        threads: dict[str, Any] = dict(cursor.get("threads") or {})
        items: list[Item] = []
        grown: dict[str, int] = {}
        for url in listing_urls(source):
            res = await ctx.http.get(url, accept="application/json", allow_file=url == source.url)
            page = await ctx.parse(parse_listing, res.body, res.url)
            since = newest.get(url, 0.0)
            fresh = [
                i for i in page.items if i.published is None or i.published.timestamp() > since
            ]
            items.extend(fresh)
            stamps = [i.published.timestamp() for i in page.items if i.published]
            if stamps:
                newest[url] = max([since, *stamps])
            for ident, n in page.comments.items():
                if n > 0 and (threads.get(ident) or [0])[0] != n:
                    grown[ident] = n
        parts = urlsplit(source.url)
        base = f"{parts.scheme}://{parts.netloc}/"  # the site's root: posts' threads live there
        known = {i.url for i in items}
        for ident in list(grown)[: int(source.options.get("max_pages", MAX_THREADS))]:
            try:
                res = await ctx.http.get(
                    f"{base}comments/{ident}.json?limit=100&sort=new", accept="application/json"
                )
            except HTTPStatusError as e:
                if 400 <= e.status < 500 and e.status != 429:
                    continue  # a removed or private post: its listing entry is kept
                raise
            page = await ctx.parse(parse_listing, res.body, res.url)
            since = (threads.get(ident) or [0, 0.0])[1]
            fresh = [
                i
                for i in page.items
                if i.url not in known and (i.published is None or i.published.timestamp() > since)
            ]
            items.extend(fresh)
            known.update(i.url for i in fresh)
            stamps = [i.published.timestamp() for i in page.items if i.published]
            threads.pop(ident, None)
            threads[ident] = [grown[ident], max([since, *stamps])]
        while len(threads) > MAX_THREADS_KEPT:
            threads.pop(next(iter(threads)))
        cursor["newest"] = newest
        cursor["threads"] = threads
        return ReadResult(items, SourceState(None, None, cursor))


register(RedditReader())
