"""`kind = "feed"`: RSS, Atom and JSON Feed, including search and alert feeds."""

from __future__ import annotations

import functools
from typing import NamedTuple

from ereput.errors import ParseError
from ereput.fetchers.base import (
    Prefilter,
    ReadContext,
    ReadResult,
    Selector,
    SourceState,
    register,
)
from ereput.models import Item, Source

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, text/html;q=0.5, */*;q=0.1"
)


class FeedReader:
    kind = "feed"

    async def read(self, source: Source, ctx: ReadContext, state: SourceState) -> ReadResult:
        # An HTML page naming its feed is followed once; the feed's URL is then remembered
        # so that later scans ask the feed itself (and get its 304s).
        url = state.cursor.get("feed_url") or source.url
        res = await ctx.http.get(
            url,
            etag=state.etag,
            last_modified=state.last_modified,
            accept=ACCEPT,
            allow_file=url == source.url and url.startswith("file:"),
        )
        if res.not_modified:
            return ReadResult([], state, not_modified=True)
        # Entries the scan would drop are skipped before their items are built (`ctx.keep`),
        # and the items are selected in the same job (`ctx.select`).
        read = functools.partial(_parse, keep=ctx.keep, select=ctx.select)
        parsed = await ctx.parse(read, res.body, res.url, res.content_type)
        cursor = dict(state.cursor)
        if not parsed.found and parsed.alternate and "feed_url" not in cursor:
            res = await ctx.http.get(parsed.alternate, accept=ACCEPT)
            parsed = await ctx.parse(read, res.body, res.url, res.content_type)
            if parsed.alternate and not parsed.found:
                raise ParseError(f"not a feed: {res.url} is an HTML page again")
            cursor["feed_url"] = res.url
        return ReadResult(
            parsed.items,
            SourceState(res.etag, res.last_modified, cursor),
            not_modified=False,
            selected=parsed.selected,
        )


class _Parsed(NamedTuple):
    items: list[Item]  # empty once selected: the scan needs only the selection
    alternate: str | None
    selected: object | None = None

    @property
    def found(self) -> bool:
        return bool(self.items) or self.selected is not None


def _parse(
    body: bytes,
    url: str,
    content_type: str | None,
    keep: Prefilter | None = None,
    select: Selector | None = None,
) -> _Parsed:
    """`feed_parse.parse_feed`, imported where it runs: the scan's process only sends the
    body to its worker, and need not load the parsers (feedparser, lxml) for that. Hence
    a result of this module's types: unpickling `feed_parse.ParsedFeed` in the scan's
    process would import them there all the same (7 MB of its peak)."""
    from ereput.fetchers.feed_parse import parse_feed

    parsed = parse_feed(body, url, content_type, keep=keep)
    if select is not None and parsed.items:
        return _Parsed([], parsed.alternate, select(parsed.items))
    return _Parsed(parsed.items, parsed.alternate)


register(FeedReader(), parsers=("ereput.fetchers.feed_parse",))
