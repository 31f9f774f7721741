"""`kind = "hackernews"`: Hacker News through the public Algolia search API
(`/api/v1/search_by_date?query=…&tags=(story,comment)`), and single items of the
Firebase API (`/v0/item/{id}.json`).

Every item is `https://news.ycombinator.com/item?id=N`; a comment's `story_id` is its
thread and `parent_id` its parent. Authors: handle `user@news.ycombinator.com`, profile
`https://news.ycombinator.com/user?id=NAME`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from ereput.fetchers.base import ReadContext, ReadResult, SourceState, register
from ereput.fetchers.posts import account, html_text, iso_date, load_json, plain
from ereput.models import Item, Source

HN = "https://news.ycombinator.com/"
ALGOLIA = "https://hn.algolia.com/api/v1/"
MAX_PAGES = 5
_ITEM = re.compile(r"/v0/item/\d+\.json$")


@dataclass(frozen=True, slots=True)
class HNPage:
    items: list[Item]
    page: int = 0
    pages: int = 0


def item_url(ident: Any) -> str | None:
    return f"{HN}item?id={ident}" if str(ident).isdigit() else None


def _author(name: Any) -> Any:
    if not isinstance(name, str) or not name:
        return None
    return account(
        HN,
        name,
        profile_url=f"{HN}user?id={quote(name)}",
        handle=name,
        platform="hackernews",
    )


def parse_search(body: bytes, url: str = ALGOLIA) -> HNPage:
    """An Algolia answer (`hits`), or one Firebase item."""
    doc = load_json(body)
    if not isinstance(doc, dict):
        return HNPage([])
    if "hits" not in doc:
        item = _firebase(doc)
        return HNPage([item] if item else [])
    items = []
    for hit in doc.get("hits") or []:
        if not isinstance(hit, dict):
            continue
        url_ = item_url(hit.get("objectID"))
        if url_ is None:
            continue
        tags = hit.get("_tags") or []
        is_comment = "comment" in tags or hit.get("comment_text") is not None
        thread = item_url(hit.get("story_id")) if is_comment else None
        parent = item_url(hit.get("parent_id")) if is_comment else None
        items.append(
            Item(
                url=url_,
                title="" if is_comment else plain(hit.get("title")),
                text=html_text(hit.get("comment_text") or hit.get("story_text") or ""),
                published=iso_date(hit.get("created_at_i") or hit.get("created_at")),
                author=_author(hit.get("author")),
                entry_id=f"hn-{hit['objectID']}",
                thread_url=thread or parent,
                parent_url=parent or thread,
            )
        )
    page, pages = doc.get("page"), doc.get("nbPages")
    return HNPage(
        items, page if isinstance(page, int) else 0, pages if isinstance(pages, int) else 0
    )


def _firebase(d: dict[str, Any]) -> Item | None:
    url = item_url(d.get("id"))
    if url is None or d.get("deleted") or d.get("dead"):
        return None
    parent = item_url(d.get("parent"))
    return Item(
        url=url,
        title="" if parent else plain(d.get("title")),
        text=html_text(d.get("text") or ""),
        published=iso_date(d.get("time")),
        author=_author(d.get("by")),
        entry_id=f"hn-{d['id']}",
        thread_url=parent,  # only the parent is known: the story is further up
        parent_url=parent,
    )


def search_urls(source: Source, since: int) -> list[str]:
    base = source.url if "algolia" in source.url else ALGOLIA
    base = base if base.endswith("/") else base + "/"
    if ("search" in source.url and "query=" in source.url) or _ITEM.search(source.url):
        return [source.url]  # one search, or one item of the Firebase API
    terms = source.options.get("search") or []
    urls = []
    for term in [terms] if isinstance(terms, str) else terms:
        query: dict[str, Any] = {"query": term, "tags": "(story,comment)", "hitsPerPage": 100}
        if since:
            query["numericFilters"] = f"created_at_i>{since}"
        urls.append(f"{base}search_by_date?{urlencode(query)}")
    return urls


class HackerNewsReader:
    kind = "hackernews"

    async def read(self, source: Source, ctx: ReadContext, state: SourceState) -> ReadResult:
        cursor = dict(state.cursor)
        since = int(cursor.get("since", 0))
        items: list[Item] = []
        newest = since
        for url in search_urls(source, since):
            page_url: str | None = url
            for _ in range(int(source.options.get("max_pages", MAX_PAGES))):
                if page_url is None:
                    break
                res = await ctx.http.get(
                    page_url, accept="application/json", allow_file=page_url == source.url
                )
                page = await ctx.parse(parse_search, res.body, res.url)
                items.extend(
                    i for i in page.items if not i.published or i.published.timestamp() > since
                )
                newest = max(
                    [newest, *(int(i.published.timestamp()) for i in page.items if i.published)]
                )
                page_url = f"{url}&page={page.page + 1}" if page.page + 1 < page.pages else None
        cursor["since"] = newest
        return ReadResult(items, SourceState(None, None, cursor))


register(HackerNewsReader())
