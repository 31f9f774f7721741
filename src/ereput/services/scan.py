"""`ereput scan`: the pipeline, and the only place that knows its order.

    read (concurrent: HTTP through the shared client, parsers off the event loop)
      -> select (match the query, decide space and context)
      -> store (one writer, one transaction per source, bounded queue between them)

Fetching is bounded by the HTTP layer (global and per-host caps); the number of sources
whose items wait in memory is bounded by the queue, so memory stays flat however many
sources a watchlist has.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from ereput import fetchers
from ereput.dates import from_iso, now, plausible, utc_iso
from ereput.errors import RetryLater, SourceError, UsageError
from ereput.fetchers.base import ReadResult, SourceState
from ereput.http import HttpClient
from ereput.matching import QueryMatcher, compile_query
from ereput.models import FetchLimits, Item, Source, Space, Watchlist
from ereput.store import Mention, Store
from ereput.urls import canonical_url

T = TypeVar("T")

#: How many read sources may wait for the writer; bounds memory, not speed.
QUEUE_SIZE = 8


@dataclass
class ScanSummary:
    sources: int = 0
    ok: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    deferred: list[dict[str, str]] = field(default_factory=list)
    new: int = 0
    updated: int = 0
    not_modified: int = 0
    duration_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "sources": self.sources,
            "ok": self.ok,
            "failed": self.failed,
            "deferred": self.deferred,
            "new": self.new,
            "updated": self.updated,
            "not_modified": self.not_modified,
            "duration_s": round(self.duration_s, 3),
        }


#: progress(event, "watchlist/source", detail) with event in start|done|failed|deferred
Progress = Callable[[str, str, str], None]


class _Context:
    """What a reader gets: the shared HTTP client and a way to parse off the event loop."""

    def __init__(self, http: HttpClient, executor: Executor) -> None:
        self.http = http
        self._executor = executor

    async def parse(self, fn: Callable[..., T], /, *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)


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


def select_mentions(
    wl: Watchlist,
    source: Source,
    items: list[Item],
    matcher: QueryMatcher,
    fetched: datetime,
    stored_threads: Callable[[set[str]], set[str]],
) -> list[Mention]:
    """Which items become mentions (SPEC §2): those matching the query, those in a community
    space, and replies inside a thread whose root matches (stored as context)."""
    picked: list[Mention] = []
    waiting: list[tuple[Item, Space]] = []
    matched_roots: set[str] = set()
    seen: set[str] = set()
    for raw in items:
        item = _canonical_item(raw)
        if item is None or item.url in seen:
            continue
        seen.add(item.url)
        space = space_of(wl, source, item.url)
        matched = tuple(matcher.match(item.title, item.text))
        if matched and item.thread_url is None:
            matched_roots.add(item.url)
        if matched or space is Space.COMMUNITY:
            picked.append(_mention(wl, source, item, space, matched, fetched))
        elif item.thread_url:
            waiting.append((item, space))
    if waiting:
        roots = {i.thread_url for i, _ in waiting if i.thread_url}
        known = matched_roots | stored_threads(roots - matched_roots)
        for item, space in waiting:
            if item.thread_url in known:
                picked.append(_mention(wl, source, item, space, (), fetched))
    return picked


def _mention(
    wl: Watchlist,
    source: Source,
    item: Item,
    space: Space,
    matched: tuple[str, ...],
    fetched: datetime,
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
    )


def check_source_names(watchlists: list[Watchlist], only: list[str]) -> None:
    names = {s.name for wl in watchlists for s in wl.sources}
    unknown = [n for n in only if n not in names]
    if unknown:
        raise UsageError(f"no source named {', '.join(map(repr, unknown))} in the watchlists")


async def run_scan(
    watchlists: list[Watchlist],
    store: Store,
    *,
    only: list[str] | None = None,
    concurrency: int = 16,
    progress: Progress | None = None,
) -> ScanSummary:
    """Scan every source (or those named in `only`) and store what they say."""
    started = time.monotonic()
    summary = ScanSummary()
    notify = progress or (lambda *_: None)
    if only:
        check_source_names(watchlists, only)
    for wl in watchlists:
        store.sync_sources(wl)
        store.sync_members(wl)
    matchers = {wl.name: compile_query(wl.query) for wl in watchlists}
    jobs = [(wl, s) for wl in watchlists for s in wl.sources if not only or s.name in only]
    summary.sources = len(jobs)
    states = {(wl.name, s.name): store.source_state(wl.name, s.name) for wl, s in jobs}

    # One writer owns the database connection: results and failures both go through it.
    queue: asyncio.Queue[tuple[Watchlist, Source, ReadResult | str, datetime, str | None] | None]
    queue = asyncio.Queue(QUEUE_SIZE)

    def persist(wl: Watchlist, source: Source, result: ReadResult, fetched: datetime) -> None:
        with store.transaction():
            if not result.not_modified:
                mentions = select_mentions(
                    wl,
                    source,
                    result.items,
                    matchers[wl.name],
                    fetched,
                    lambda urls: store.stored_threads(wl.name, urls),
                )
                counts = store.save_mentions(mentions)
                summary.new += counts.new
                summary.updated += counts.updated
            store.record_success(wl.name, source.name, result.state, fetched)

    async def writer() -> None:
        while (job := await queue.get()) is not None:
            wl, source, outcome, fetched, until = job
            label = f"{wl.name}/{source.name}"
            if isinstance(outcome, str):
                await asyncio.to_thread(
                    store.record_failure, wl.name, source.name, outcome, fetched, until
                )
                summary.failed.append({"source": label, "error": outcome})
                notify("failed", label, outcome)
                continue
            await asyncio.to_thread(persist, wl, source, outcome, fetched)
            summary.ok += 1
            summary.not_modified += outcome.not_modified
            notify(
                "done",
                label,
                "not modified" if outcome.not_modified else f"{len(outcome.items)} items",
            )

    async def read_one(ctx: _Context, wl: Watchlist, source: Source) -> None:
        label = f"{wl.name}/{source.name}"
        state, retry_after = states[(wl.name, source.name)]
        fetched = now()
        if retry_after and from_iso(retry_after) > fetched:
            summary.deferred.append({"source": label, "until": retry_after})
            notify("deferred", label, f"server asked to wait until {retry_after}")
            return
        notify("start", label, source.url)
        reader = fetchers.reader_for(source.kind)
        until = None
        try:
            if reader is None:
                raise SourceError(f"source kind {source.kind!r} is not supported yet")
            outcome: ReadResult | str = await reader.read(source, ctx, state)
        except RetryLater as e:
            outcome, until = str(e), utc_iso(datetime.fromtimestamp(e.until, UTC))
        except SourceError as e:
            outcome = str(e)
        except Exception as e:  # a parser bug on one hostile page must not stop the others
            outcome = f"unexpected {type(e).__name__}: {e}"
        await queue.put((wl, source, outcome, fetched, until))

    by_limits: dict[FetchLimits, list[tuple[Watchlist, Source]]] = {}
    for wl, s in jobs:
        by_limits.setdefault(wl.fetch, []).append((wl, s))

    write_task = asyncio.create_task(writer())
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="ereput-parse") as executor:
        for limits, group in by_limits.items():
            async with HttpClient(limits, concurrency=concurrency) as http:
                ctx = _Context(http, executor)
                gate = asyncio.Semaphore(max(concurrency, 1) * 2)

                async def guarded(
                    wl: Watchlist, s: Source, ctx: _Context = ctx, gate: asyncio.Semaphore = gate
                ) -> None:
                    async with gate:
                        await read_one(ctx, wl, s)

                await asyncio.gather(*(guarded(wl, s) for wl, s in group))
        await queue.put(None)
        await write_task

    for wl in watchlists:
        if wl.retention_days:
            cutoff = now() - timedelta(days=wl.retention_days)
            with store.transaction():
                store.purge_older_than(wl.name, cutoff)
    summary.duration_s = time.monotonic() - started
    return summary


def scan(watchlists: list[Watchlist], store: Store, **kwargs: Any) -> ScanSummary:
    """Take the scan lock (exit 3 if held) and run the scan."""
    store.lock()
    try:
        return asyncio.run(run_scan(watchlists, store, **kwargs))
    finally:
        store.unlock()


__all__ = ["ScanSummary", "SourceState", "run_scan", "scan", "select_mentions", "space_of"]
