"""What becomes a mention, decided where the parsing happens: in the scan's worker
process (or its parse thread). Kept apart from the rest of the scan so that a worker
imports only this, the parsers and the query, not the HTTP client, the store or the CLI:
each worker process then weighs ~45 MB instead of ~70 MB."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import unquote

from ereput.dates import plausible
from ereput.language import detect_language
from ereput.matching import MAX_NEEDLES, QueryMatcher, compile_query
from ereput.models import Item, Mention, Source, Space, Watchlist
from ereput.sentiment import sentiment
from ereput.urls import canonical_url, host_of


@dataclass(frozen=True)
class Keep:
    """The test a feed parser runs on an entry's raw strings before building its item (see
    `ReadContext.keep`): False when `classify` would drop the item, because it cannot
    match the query (`QueryMatcher.may_match_markup`) and no link of it names a community
    host. It errs only towards True. It travels with each parse job to the workers, which
    hold the compiled query: hence a watchlist name, not a matcher."""

    watchlist: str
    hosts: tuple[str, ...] = ()

    def __call__(self, texts: Sequence[str], links: Sequence[str]) -> bool:
        if self.hosts:
            joined = " ".join(links).lower()
            if "%" in joined:
                joined += " " + unquote(joined)
            if any(h in joined for h in self.hosts):
                return True
        return _WORKER[self.watchlist][1].may_match_markup(texts)

    def raw_needles(self, count: Callable[[str], int]) -> frozenset[str] | None:
        """What a feed's raw entries are searched for before they are parsed at all
        (`feed_parse.cut_entries`): words of which every text the query matches holds one
        (`QueryMatcher.needles`), the community hosts, and `%` when there are hosts (a
        percent-encoded link may name one); None when no entry can be refused so, or when
        there are more than `MAX_NEEDLES` (each is a search over the whole feed)."""
        needles = _WORKER[self.watchlist][1].needles(count)
        if needles is None or not self.hosts:
            return needles
        needles |= {*self.hosts, "%"}
        return needles if len(needles) <= MAX_NEEDLES else None


def keep_for(wl: Watchlist, source: Source) -> Keep | None:
    """The source's `Keep`, or None when its every entry must be read: a community source
    (all its items are kept, match or not)."""
    if source.space is Space.COMMUNITY:
        return None
    if source.space is None and any(source.url.startswith(p) for p in wl.community.spaces):
        return None
    hosts: tuple[str, ...] = ()
    if source.space is None:  # an item linking into a community space is kept, match or not
        hosts = tuple(sorted({host_of(p) or p.lower() for p in wl.community.spaces}))
    return Keep(wl.name, hosts)


def space_of(wl: Watchlist, source: Source, url: str) -> Space:
    """SPEC §2: the source's explicit space, else community when the source or the item
    lies under one of the community's URL prefixes."""
    if source.space is not None:
        return source.space
    for prefix in wl.community.spaces:
        if source.url.startswith(prefix) or url.startswith(prefix):
            return Space.COMMUNITY
    return Space.OPEN


def _canonical_item(item: Item) -> Item | None:
    url = canonical_url(item.url)
    if url is None:
        return None
    thread = canonical_url(item.thread_url) if item.thread_url else None
    parent = canonical_url(item.parent_url) if item.parent_url else None
    if thread == url:
        thread = None
    return dataclasses.replace(item, url=url, thread_url=thread, parent_url=parent)


@dataclass
class Selection:
    """What one source's items become before the store is asked anything."""

    picked: list[Mention] = field(default_factory=list)
    # Unmatched replies in open space, kept only if their thread's root matches.
    waiting: list[Mention] = field(default_factory=list)
    matched_roots: set[str] = field(default_factory=set)

    def resolve(self, stored_threads: Callable[[set[str]], set[str]]) -> list[Mention]:
        if not self.waiting:
            return self.picked
        roots = {m.item.thread_url for m in self.waiting if m.item.thread_url}
        known = self.matched_roots | stored_threads(roots - self.matched_roots)
        return self.picked + [m for m in self.waiting if m.item.thread_url in known]


def classify(
    wl: Watchlist, source: Source, items: list[Item], matcher: QueryMatcher, fetched: datetime
) -> Selection:
    """Which items become mentions (SPEC §2): those matching the query, those in a community
    space, and (once the store says which roots it holds) replies inside a thread whose root
    matches. Pure, so the scan runs it in its worker processes."""
    sel = Selection()
    seen: set[str] = set()
    languages = wl.query.languages
    for raw in items:
        item = _canonical_item(raw)
        if item is None or item.url in seen:
            continue
        seen.add(item.url)
        space = space_of(wl, source, item.url)
        matched = tuple(matcher.match(item.title, item.text))
        if not (matched or space is Space.COMMUNITY or item.thread_url):
            continue
        # Only items that may be stored are read for language and sentiment.
        words = _own_words(item)
        language = detect_language(words, item.language)
        # `languages` keeps items in those languages; an item whose language stays unknown
        # (a few words, no language declared by its feed) is kept.
        if languages and language and language not in languages:
            continue
        if matched and item.thread_url is None:
            sel.matched_roots.add(item.url)
        felt = sentiment(words, language)
        mention = _mention(
            wl, source, item, space, matched, fetched, language, felt.score if felt else None
        )
        if matched or space is Space.COMMUNITY:
            sel.picked.append(mention)
        else:
            sel.waiting.append(mention)
    return sel


def _own_words(item: Item) -> str:
    """What the item's author wrote: its text, after its title when it starts a thread (a
    reply's title is its thread's: "Re: …", "Comment on …"). Language and sentiment read
    only its start."""
    text = item.text[:4000]
    if item.thread_url is None and item.title:
        return f"{item.title}.\n{text}" if text else item.title
    return text or item.title


def select_mentions(
    wl: Watchlist,
    source: Source,
    items: list[Item],
    matcher: QueryMatcher,
    fetched: datetime,
    stored_threads: Callable[[set[str]], set[str]],
) -> list[Mention]:
    """`classify`, then keep the replies whose thread root matches or is stored."""
    return classify(wl, source, items, matcher, fetched).resolve(stored_threads)


# Each worker compiles every watchlist's query once, at start-up.
_WORKER: dict[str, tuple[Watchlist, QueryMatcher]] = {}


def _init_worker(watchlists: list[Watchlist]) -> None:
    _WORKER.clear()
    _WORKER.update({wl.name: (wl, compile_query(wl.query)) for wl in watchlists})


@dataclass(frozen=True)
class Select:
    """`classify` for one source's items, run where they were parsed (a worker, or the
    parse thread), which holds the compiled query: hence a watchlist name, not a matcher.
    The scan gives it to readers as `ReadContext.select`."""

    watchlist: str
    source: Source
    fetched: datetime

    def __call__(self, items: list[Item]) -> Selection:
        wl, matcher = _WORKER[self.watchlist]
        return classify(wl, self.source, items, matcher, self.fetched)


def _mention(
    wl: Watchlist,
    source: Source,
    item: Item,
    space: Space,
    matched: tuple[str, ...],
    fetched: datetime,
    language: str | None = None,
    sentiment: float | None = None,
) -> Mention:
    dated = plausible(item.published, fetched)
    return Mention(
        watchlist=wl.name,
        source=source.name,
        source_kind=source.kind,
        item=item,
        url=item.url,
        space=space,
        matched=matched,
        published=item.published if dated and item.published else fetched,
        undated=not dated,
        fetched=fetched,
        language=language,
        sentiment=sentiment,
    )
