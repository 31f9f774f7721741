"""`kind = "forum"`: one reader for every forum engine, configured per source.

The engine modules (`phpbb`, `xenforo`, `vbulletin`, `smf`, `flarum`, `nodebb`,
`stackexchange`, `custom`) are pure parsers of a topic page and a forum page; this module
walks a forum with them: forum page (and its sub-forums, one level) → topics → every page
of each topic, under a page cap per scan (`max_pages`, default 30). Every request goes
through `ctx.http`, so robots.txt and the per-host limit apply to each page.

Incremental state (the source's cursor): each listing page's validators (an unchanged
forum answers 304s and no topic is read), and per topic the marker the listing showed
(its last post / reply count), the last page read with its validators, the topic's first
post and the last post seen. A changed topic is read again from its last page read, and
only posts after the last one seen are returned. A scan cut by the page cap resumes where
it stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from ereput.fetchers import (
    custom,
    flarum,
    nodebb,
    phpbb,
    smf,
    stackexchange,
    vbulletin,
    xenforo,
)
from ereput.fetchers.base import ReadContext, ReadResult, Refusals, SourceState, register
from ereput.fetchers.posts import Listing, TopicPage, TopicRef
from ereput.models import Item, Source

HTML = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
JSON = "application/vnd.api+json, application/json;q=0.9, */*;q=0.1"
DEFAULT_MAX_PAGES = 30
MAX_TOPICS_KEPT = 2000  # cursor entries: the least recently seen topics are forgotten


@dataclass(frozen=True)
class Engine:
    parse_topic: Callable[..., TopicPage]
    parse_listing: Callable[..., Listing]
    accept: str = HTML
    # API engines: the listing's URL and a topic's API URL from the source URL
    listing_url: Callable[[str, dict[str, Any]], str] | None = None
    topic_api: Callable[[str], str | None] | None = None


ENGINES: dict[str, Engine] = {
    "phpbb": Engine(phpbb.parse_topic, phpbb.parse_listing),
    "xenforo": Engine(xenforo.parse_topic, xenforo.parse_listing),
    "vbulletin": Engine(vbulletin.parse_topic, vbulletin.parse_listing),
    "smf": Engine(smf.parse_topic, smf.parse_listing),
    "stackexchange": Engine(stackexchange.parse_topic, stackexchange.parse_listing),
    "flarum": Engine(
        flarum.parse_topic, flarum.parse_listing, JSON, flarum.listing_url, flarum.topic_api
    ),
    "nodebb": Engine(
        nodebb.parse_topic, nodebb.parse_listing, JSON, nodebb.listing_url, nodebb.topic_api
    ),
}


def engine_for(source: Source) -> Engine:
    """The source's engine; HTML engines read the dates a page prints without a zone in
    the page's zone, else the watchlist's (SPEC §7)."""
    name = source.options.get("engine", "")
    if name == "custom":
        selectors = dict(source.options.get("selectors") or {})
        return Engine(
            partial(custom.parse_topic, selectors=selectors, tz=source.timezone),
            partial(custom.parse_listing, selectors=selectors),
        )
    engine = ENGINES[name]
    if engine.accept == HTML:
        engine = replace(engine, parse_topic=partial(engine.parse_topic, tz=source.timezone))
    return engine


class _Walk:
    """One scan of one forum source."""

    def __init__(self, source: Source, ctx: ReadContext, state: SourceState, engine: Engine):
        self.source, self.ctx, self.engine = source, ctx, engine
        self.cursor: dict[str, Any] = {
            "listings": dict(state.cursor.get("listings") or {}),
            "topics": dict(state.cursor.get("topics") or {}),
        }
        if "mode" in state.cursor:
            self.cursor["mode"] = state.cursor["mode"]
        self.budget = int(source.options.get("max_pages", DEFAULT_MAX_PAGES))
        self.items: list[Item] = []
        self.refusals = Refusals()  # topics and sub-forums robots.txt forbids

    async def get(self, url: str, validators: list[str | None] | None = None) -> Any:
        etag, modified = (validators or [None, None])[:2]
        return await self.ctx.http.get(
            url,
            etag=etag,
            last_modified=modified,
            accept=self.engine.accept,
            allow_file=url == self.source.url and url.startswith("file:"),
        )

    async def run(self) -> None:
        source, engine = self.source, self.engine
        direct = engine.topic_api(source.url) if engine.topic_api else None
        if direct or self.cursor.get("mode") == "topic":
            await self.topic(TopicRef(direct or source.url, direct or source.url))
            return
        start = engine.listing_url(source.url, source.options) if engine.listing_url else source.url
        await self.listing(start, follow_forums=True)

    async def listing(self, url: str, *, follow_forums: bool, pages: int = 0) -> None:
        if self.budget <= 0:
            return
        known = self.cursor["listings"].get(url)
        res = await self.get(url, known)
        self.budget -= 1
        if res.not_modified:
            return
        listing = await self.ctx.parse(
            self.engine.parse_listing, res.body, res.url, res.content_type
        )
        if not listing.topics and not listing.forums and url == self.source.url:
            # the source is one topic: read it from this very page
            self.cursor["mode"] = "topic"  # (this page counted once against the cap)
            await self.topic(TopicRef(url, url), first_answer=res)
            return
        changed = False
        for ref in listing.topics:
            done = await self.refusals.attempt(self.topic(ref))
            changed = changed or not done
        if follow_forums:
            for forum in listing.forums[:20]:
                await self.refusals.attempt(self.listing(forum, follow_forums=False))
        if listing.next_url and pages < self.budget and listing.topics:
            await self.listing(listing.next_url, follow_forums=False, pages=pages + 1)
        if not changed:  # every topic read to its end: this page need not be read again
            self.cursor["listings"][url] = [res.etag, res.last_modified]

    async def topic(self, ref: TopicRef, first_answer: Any = None) -> bool:
        """Read what is new in one topic; False when the page cap stopped it."""
        topics: dict[str, Any] = self.cursor["topics"]
        st = dict(topics.get(ref.key) or {})
        if st and ref.marker and st.get("marker") == ref.marker:
            return True
        # a scan cut by the page cap resumes at the page it did not read
        page_url = st.pop("resume", None) or st.get("page") or ref.url
        validators = st.get("validators") if page_url == st.get("page") else None
        last = st.get("last")
        seen: set[str] = set()
        while True:
            if first_answer is not None and page_url == ref.url and not st:
                res, first_answer = first_answer, None
            else:
                if self.budget <= 0:
                    st["resume"] = page_url
                    topics[ref.key] = st
                    return False
                res = await self.get(page_url, validators)
                self.budget -= 1
            if res.not_modified:
                break
            page = await self.ctx.parse(
                self.engine.parse_topic, res.body, res.url, res.content_type, st.get("first")
            )
            if not page.items:
                break
            if st.get("first") is None and page.first_page:
                st["first"] = page.items[0].thread_url or page.items[0].url
            urls = [i.url for i in page.items]
            fresh = page.items[urls.index(last) + 1 :] if last in urls else page.items
            self.items.extend(i for i in fresh if i.url not in seen)
            seen.update(urls)
            last = urls[-1]
            st.update(page=page_url, validators=[res.etag, res.last_modified], last=last)
            if not page.next_url or page.next_url == page_url or page.next_url in seen:
                break
            page_url, validators = page.next_url, None
        if ref.marker:
            st["marker"] = ref.marker
        topics.pop(ref.key, None)
        topics[ref.key] = st  # most recently seen last
        while len(topics) > MAX_TOPICS_KEPT:
            topics.pop(next(iter(topics)))
        return True


class ForumReader:
    kind = "forum"

    async def read(self, source: Source, ctx: ReadContext, state: SourceState) -> ReadResult:
        walk = _Walk(source, ctx, state, engine_for(source))
        await walk.run()
        walk.refusals.check()
        # Nothing new and nothing moved (the listings answered 304): an unchanged source.
        unchanged = not walk.items and walk.cursor == state.cursor
        return ReadResult(
            walk.items,
            SourceState(state.etag, state.last_modified, walk.cursor),
            not_modified=unchanged,
        )


register(ForumReader())
