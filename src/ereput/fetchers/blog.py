"""`kind = "blog"`: a blog's posts and their comment threads (SPEC §3).

The reader asks the blog's page first (the home page or one post) and then reads it the
best way the blog offers, never leaving the blog's own host:

1. WordPress with its REST API on the same host: `/wp-json/wp/v2/posts` and
   `/wp-json/wp/v2/comments` (per post when the source is one post), paginated by
   `X-WP-TotalPages`, resumed from a cursor (`modified_after` for posts, `after` for
   comments), so a new comment on an old post is found without reading the old post.
2. Otherwise the comment feed (`/comments/feed/`, Blogger's `/feeds/comments/default`):
   its recent comments name the posts to re-read; and the posts linked from the home page.
3. The post pages themselves (HTML), which carry the threads: who answers whom.

Every page and API answer is asked with the validators it last gave (kept per URL in the
cursor), so an unchanged blog costs 304s and stores nothing. At most `max_pages` requests
are made per scan (default 20).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import urlencode, urlsplit

from ereput.errors import HTTPStatusError, ParseError, RobotsDisallowed
from ereput.fetchers.base import ReadContext, ReadResult, SourceState, register
from ereput.fetchers.blog_parse import (
    BlogPage,
    parse_blog_page,
    parse_comment_feed,
    parse_wp_comments,
    parse_wp_posts,
)
from ereput.http import FetchResult
from ereput.models import Item, Source
from ereput.urls import canonical_url, host_of

DEFAULT_MAX_PAGES = 20
MAX_VALIDATORS = 500  # URLs whose validators are remembered
HTML = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
FEED = "application/atom+xml, application/rss+xml, application/xml;q=0.9, */*;q=0.1"
JSON = "application/json"


class _Budget:
    """The scan's requests for one source: conditional, counted, validators remembered."""

    def __init__(self, ctx: ReadContext, source: Source, validators: dict[str, Any]) -> None:
        self.ctx = ctx
        self.source = source
        self.left = int(source.options.get("max_pages", DEFAULT_MAX_PAGES))
        self.validators = validators
        self.used: dict[str, Any] = {}
        self.changed = False  # some answer was not a 304

    async def get(self, url: str, accept: str) -> FetchResult | None:
        """The answer, or None when unchanged (304) or the budget is spent."""
        if self.left <= 0:
            return None
        self.left -= 1
        etag, modified = (self.validators.get(url) or [None, None])[:2]
        res = await self.ctx.http.get(
            url,
            etag=etag,
            last_modified=modified,
            accept=accept,
            allow_file=url == self.source.url and url.startswith("file:"),
        )
        self.used[url] = [res.etag, res.last_modified]
        if res.not_modified:
            return None
        self.changed = True
        return res


def _api_url(root: str, route: str, params: dict[str, Any]) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    if "rest_route=" in root:  # sites without pretty permalinks: ?rest_route=/wp/v2/…
        return f"{root.rstrip('/')}/{route}&{query}"
    return f"{root.rstrip('/')}/{route}?{query}"


class BlogReader:
    kind = "blog"

    async def read(self, source: Source, ctx: ReadContext, state: SourceState) -> ReadResult:
        cursor = dict(state.cursor)
        budget = _Budget(ctx, source, dict(cursor.get("validators") or {}))
        engine = source.options.get("engine", "auto")
        items: dict[str, Item] = {}

        def add(new: list[Item], richer: bool = False) -> None:
            for item in new:
                if richer or item.url not in items:
                    items[item.url] = item

        res = await budget.get(source.url, HTML)
        page: BlogPage | None = None
        if res is not None:
            page = await ctx.parse(
                parse_blog_page, res.body, res.url, res.content_type, engine, source.timezone
            )
            cursor["site"] = {
                "engine": page.engine,
                "api": page.api_root,
                "comment_feed": page.comment_feed,
                "post_id": page.wp_post_id,
                "post": page.url if page.post else None,
            }
        site: dict[str, Any] = cursor.get("site") or {}
        chosen = engine if engine != "auto" else site.get("engine", "generic")

        if chosen == "wordpress" and site.get("api") and not cursor.get("no_api"):
            try:
                add(await self._wordpress_api(budget, site, cursor))
                if page and page.post:
                    add([page.post])
                return self._result(items, budget, cursor)
            except (HTTPStatusError, ParseError, RobotsDisallowed):
                # a disabled, hidden or robots-forbidden API: the feeds and pages then
                cursor["no_api"] = True

        to_read: list[str] = []
        if page is not None:
            add(page.items, richer=True)
            to_read += list(page.post_links)
        feed = site.get("comment_feed")
        if chosen == "blogger" and not site.get("post") and urlsplit(source.url).path in ("", "/"):
            root = canonical_url("/feeds/comments/default", source.url)
            feed = feed or root
        if feed and canonical_url(feed) and host_of(feed) == host_of(source.url):
            try:
                fres = await budget.get(feed, FEED)
                comments = (
                    await ctx.parse(parse_comment_feed, fres.body, fres.url, fres.content_type)
                    if fres is not None
                    else None
                )
            except (HTTPStatusError, ParseError, RobotsDisallowed):
                comments = None  # a broken, missing or forbidden feed: the pages still tell
            if comments is not None:
                if site.get("post"):  # one post watched: only its thread
                    comments = [c for c in comments if c.thread_url in (site["post"], None)]
                add(comments)
                # A recent comment names its post: read that page again for the thread.
                to_read = [c.thread_url for c in comments if c.thread_url] + to_read
        seen = {source.url}
        for url in dict.fromkeys(to_read):
            if url in seen or host_of(url) != host_of(source.url):
                continue
            seen.add(url)
            try:
                pres = await budget.get(url, HTML)
            except RobotsDisallowed:  # that post only: the others, and the feed, still tell
                continue
            if pres is None:
                continue
            post_page = await ctx.parse(
                parse_blog_page, pres.body, pres.url, pres.content_type, engine, source.timezone
            )
            add(post_page.items, richer=True)
        return self._result(items, budget, cursor)

    async def _wordpress_api(
        self, budget: _Budget, site: dict[str, Any], cursor: dict[str, Any]
    ) -> list[Item]:
        api = site["api"]
        items: list[Item] = []
        post_id = site.get("post_id") if site.get("post") else None
        if post_id is None:
            since = cursor.get("posts_modified_after")
            posts, newest = await self._pages(
                budget,
                api,
                "wp/v2/posts",
                {"per_page": 20, "orderby": "modified", "order": "desc", "_embed": "author",
                 "modified_after": since},
                parse_wp_posts,
            )  # fmt: skip
            items += posts
            if posts:
                cursor["posts_modified_after"] = max([newest or "", since or ""]) or None
        since = cursor.get("comments_after")
        comments, _ = await self._pages(
            budget,
            api,
            "wp/v2/comments",
            {"per_page": 100, "orderby": "date_gmt", "order": "asc", "post": post_id,
             "after": since},
            parse_wp_comments,
        )  # fmt: skip
        items += comments
        dates = [c.published for c in comments if c.published]
        if dates:
            cursor["comments_after"] = max(dates).strftime("%Y-%m-%dT%H:%M:%S")
        return items

    async def _pages(
        self, budget: _Budget, api: str, route: str, params: dict[str, Any], parse: Any
    ) -> tuple[list[Item], str | None]:
        items: list[Item] = []
        newest: str | None = None
        page = 1
        while True:
            url = _api_url(api, route, {**params, "page": page if page > 1 else None})
            res = await budget.get(url, JSON)
            if res is None:
                break
            got = await budget.ctx.parse(parse, res.body, res.url)
            items += got
            newest = max([newest or "", *(_modified(res.body))]) or newest
            try:
                total = int(res.headers.get("x-wp-totalpages") or 1)
            except ValueError:
                total = 1
            if page >= total or not got:
                break
            page += 1
        return items, newest

    def _result(
        self, items: dict[str, Item], budget: _Budget, cursor: dict[str, Any]
    ) -> ReadResult:
        validators = {**budget.validators, **budget.used}
        if len(validators) > MAX_VALIDATORS:  # the most recently asked are kept
            keep = list(budget.used) + [u for u in validators if u not in budget.used]
            validators = {u: validators[u] for u in keep[:MAX_VALIDATORS]}
        cursor["validators"] = validators
        listed = [_own_thread(i) for i in items.values()]
        return ReadResult(listed, SourceState(None, None, cursor), not_modified=not budget.changed)


def _own_thread(item: Item) -> Item:
    return replace(item, thread_url=None) if item.thread_url == item.url else item


def _modified(body: bytes) -> list[str]:
    """`modified_gmt` values of a REST answer (the posts cursor), read cheaply."""
    import json

    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return []
    return [
        p["modified_gmt"][:19]
        for p in (data if isinstance(data, list) else [])
        if isinstance(p, dict) and isinstance(p.get("modified_gmt"), str)
    ]


register(BlogReader(), parsers=("ereput.fetchers.blog_parse",))
