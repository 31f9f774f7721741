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
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from ereput import fetchers
from ereput.dates import from_iso, now, utc_iso
from ereput.errors import RetryLater, SourceError, UsageError
from ereput.fetchers.base import ReadResult, SourceState, parser_modules
from ereput.models import FetchLimits, Source, Watchlist
from ereput.services.select import (
    Keep,
    Select,
    Selection,
    _init_worker,
    classify,
    keep_for,
    select_mentions,
    space_of,
)
from ereput.services.worker import WorkerProcess, in_worker
from ereput.store import SaveCounts, Store

if TYPE_CHECKING:  # imported by run_scan: a worker process starts before (`scan`)
    from ereput.http import HttpClient

T = TypeVar("T")

#: How many read sources may wait for the writer; bounds memory, not speed.
QUEUE_SIZE = 8
#: Sources read at once, per request allowed in flight, counting those whose bodies wait
#: for a parser: bounds the bodies held in memory. 4 rather than 2, so that changed feeds
#: waiting for a re-scan's worker process to start hold fewer of the slots the unchanged
#: ones need (50 changed of 1,000: 2.12 s against 2.2 s, medians of 4; memory unchanged).
READS_PER_REQUEST = 4
#: Unchanged sources (HTTP 304) recorded per transaction.
UNCHANGED_BATCH = 250
#: Below this many sources, a worker process costs more to start than it saves.
WORKER_MIN_SOURCES = 32
#: Changed sources a re-scan parses in a thread before it starts its worker process. Not
#: more: parsing in this process contends with the event loop for the GIL, and a worker
#: starts on the other core (~0.35 s of CPU there).
WORKER_AFTER_CHANGED = 4
#: A re-scan of this many sources starts its worker at the first changed one: the worker's
#: start-up is then hidden behind the rest of the scan (50 changed feeds of 1,000: 1.07-1.26
#: s against 1.30-1.45 s parsed here, alternating runs), where a small re-scan would wait
#: for it.
WORKER_AT_FIRST_CHANGE = 250
#: Times a scan starts its worker again after it died; then it parses in a thread.
WORKER_RESTARTS = 3
# One worker process: parsing needs about as much CPU as the rest of the scan (HTTP,
# storing) now that most entries are skipped unbuilt, so one beside this process keeps two
# cores busy. A second one made the 1,000-feed scan no faster on 2 cores (7.2-8.1 s either
# way) and cost 60 MB more.


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
    # services.alerts.AlertsSummary.to_json(): {"sent", "pending", "failed"}
    alerts: dict[str, Any] = field(default_factory=lambda: {"sent": 0, "pending": 0, "failed": []})

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
            "alerts": self.alerts,
        }


#: progress(event, "watchlist/source", detail) with event in start|done|failed|deferred
Progress = Callable[[str, str, str], None]


class _Context:
    """What a reader gets: the shared HTTP client, a way to parse off the event loop, the
    source's prefilter, and its selection."""

    def __init__(
        self,
        http: HttpClient,
        parsers: _Parsers | Executor,
        label: str = "",
        keep: Keep | None = None,
        select: Select | None = None,
    ) -> None:
        self.http = http
        self._parsers = parsers
        self._label = label
        self.keep = keep
        self.select = select

    def for_source(self, label: str, keep: Keep | None, select: Select) -> _Context:
        return _Context(self.http, self._parsers, label, keep, select)

    async def parse(self, fn: Callable[..., T], /, *args: Any) -> T:
        executor = self._parsers
        if isinstance(executor, _Parsers):
            executor = executor.for_source(self._label)
        return await asyncio.get_running_loop().run_in_executor(executor, fn, *args)


def check_source_names(watchlists: list[Watchlist], only: list[str]) -> None:
    names = {s.name for wl in watchlists for s in wl.sources}
    unknown = [n for n in only if n not in names]
    if unknown:
        raise UsageError(f"no source named {', '.join(map(repr, unknown))} in the watchlists")


class _Parsers:
    """Where parsing and matching run: a worker process (`services.worker`) when the scan
    has many bodies to read (both cores then work: the event loop and the writer here, the
    parsing there), else a thread of this process. A scan that finds every source
    unchanged parses nothing and starts no worker; one that finds a few changed parses
    them here. The worker starts at once when many sources have no validators yet (a first
    scan), else once `WORKER_AFTER_CHANGED` sources turned out to have changed (the first,
    in a large scan); never on a single core."""

    def __init__(
        self,
        watchlists: list[Watchlist],
        sources: int,
        unvalidated: int,
        preload: tuple[str, ...] = (),
    ) -> None:
        # Without their sources: what a worker needs to select mentions, and small.
        self._watchlists = [dataclasses.replace(wl, sources=()) for wl in watchlists]
        self._preload = preload
        self._thread = ThreadPoolExecutor(
            max_workers=1,
            thread_name_prefix="ereput-parse",
            initializer=_init_worker,
            initargs=(self._watchlists,),
        )
        self._worker: WorkerProcess | None = None
        self._may_spawn = (
            sources >= WORKER_MIN_SOURCES and (os.cpu_count() or 1) > 1 and not in_worker()
        )
        self._parsed: set[str] = set()
        self._restarts = 0
        self._after = 0 if sources >= WORKER_AT_FIRST_CHANGE else WORKER_AFTER_CHANGED
        if self._may_spawn and unvalidated >= WORKER_MIN_SOURCES:
            self._spawn()

    @classmethod
    def for_scan(
        cls, watchlists: list[Watchlist], store: Store, only: list[str] | None = None
    ) -> _Parsers:
        """The parsers of a scan of these sources, as the store knows them. Made before
        the scan imports its HTTP layer: a first scan's worker process then loads its
        parsers while this one loads the rest (a cold scan of 1,000 feeds sent its first
        job 0.5 s after start-up, to a worker that took 0.2 s more to be ready)."""
        sources = unvalidated = 0
        kinds = set()
        for wl in watchlists:
            states = store.source_states(wl.name)
            for s in wl.sources:
                if only and s.name not in only:
                    continue
                sources += 1
                kinds.add(s.kind)
                row = states.get(s.name)
                unvalidated += not (row and (row.etag or row.last_modified))
        return cls(watchlists, sources, unvalidated, parser_modules(sorted(kinds)))

    def _spawn(self) -> Executor:
        self._worker = WorkerProcess(_init_worker, (self._watchlists,), self._preload)
        return self._worker

    def for_source(self, label: str) -> Executor:
        """The executor for a job of source `label` (counted once per source)."""
        if self._worker is not None:
            # A worker that died (a parser crashing on a hostile page) failed the jobs it
            # held; the next ones get a new worker, a few times, then this process.
            if self._worker.broken:
                self._worker.shutdown()
                self._restarts += 1
                if self._restarts > WORKER_RESTARTS:
                    self._may_spawn = False
                    self._worker = None
                    return self._thread
                return self._spawn()
            return self._worker
        self._parsed.add(label)
        if self._may_spawn and len(self._parsed) > self._after:
            return self._spawn()
        return self._thread

    def __enter__(self) -> _Parsers:
        return self

    def __exit__(self, *exc: object) -> None:
        self._thread.shutdown()
        if self._worker is not None:
            self._worker.shutdown()


_Pair = tuple[Watchlist, Source]
#: (watchlist, source, outcome, fetched, Retry-After until); outcome is an error message or
#: the read result with its classified items.
_Job = tuple[Watchlist, Source, "tuple[ReadResult, Selection] | str", datetime, str | None]


async def run_scan(
    watchlists: list[Watchlist],
    store: Store,
    parsers: _Parsers,
    *,
    only: list[str] | None = None,
    concurrency: int = 16,
    progress: Progress | None = None,
) -> ScanSummary:
    """Scan every source (or those named in `only`: known names) with these parsers, and
    store what they say."""
    from ereput.http import ROBOTS_MAX_AGE, HttpClient

    started = time.monotonic()
    summary = ScanSummary()
    notify = progress or (lambda *_: None)
    for wl in watchlists:
        store.sync_sources(wl)
        store.sync_members(wl)
    jobs = [(wl, s) for wl in watchlists for s in wl.sources if not only or s.name in only]
    summary.sources = len(jobs)
    saved = {wl.name: store.source_states(wl.name) for wl in watchlists}

    # One writer owns the database connection: results and failures both go through it.
    queue: asyncio.Queue[_Job | None] = asyncio.Queue(QUEUE_SIZE)

    def persist(
        wl: Watchlist, source: Source, result: ReadResult, sel: Selection, fetched: datetime
    ) -> SaveCounts:
        """A changed source (an unchanged one goes to `record_unchanged`)."""
        with store.transaction():
            mentions = sel.resolve(lambda urls: store.stored_threads(wl.name, urls))
            counts = store.save_mentions(mentions)
            # In this transaction: a mention is never stored without its alerts.
            if wl.alerts.on:
                from ereput.services import alerts  # scan workers never need it

                alerts.queue_mention_alerts(store, wl, counts.new_ids)
            store.record_success(wl.name, source.name, result.state, fetched)
        return counts

    # Sources that answered 304 only need "seen now" written: many at a time, in one
    # transaction (a re-scan of 1,000 unchanged feeds spent a tenth of its time on 1,000
    # transactions). Nothing is lost if a scan dies first: the next one asks them again.
    unchanged: list[tuple[str, str, SourceState, datetime]] = []

    def record(batch: list[tuple[str, str, SourceState, datetime]]) -> None:
        with store.transaction():
            store.record_successes(batch)

    async def record_unchanged() -> None:
        batch = unchanged[:]
        unchanged.clear()
        try:
            await asyncio.to_thread(record, batch)
        except sqlite3.Error as e:  # rolled back: these sources count as failed, not seen
            for wl_name, source_name, _, _ in batch:
                summary.ok -= 1
                summary.not_modified -= 1
                error = f"could not store: {e}"
                summary.failed.append({"source": f"{wl_name}/{source_name}", "error": error})

    async def writer() -> None:
        while (job := await queue.get()) is not None:
            wl, source, outcome, fetched, until = job
            label = f"{wl.name}/{source.name}"
            if not isinstance(outcome, str) and outcome[0].not_modified:
                unchanged.append((wl.name, source.name, outcome[0].state, fetched))
                if len(unchanged) >= UNCHANGED_BATCH:
                    await record_unchanged()
                summary.ok += 1
                summary.not_modified += 1
                notify("done", label, "not modified")
                continue
            if isinstance(outcome, str):
                await asyncio.to_thread(
                    store.record_failure, wl.name, source.name, outcome, fetched, until
                )
                summary.failed.append({"source": label, "error": outcome})
                notify("failed", label, outcome)
                continue
            result, sel = outcome
            try:
                counts = await asyncio.to_thread(persist, wl, source, result, sel, fetched)
            except sqlite3.Error as e:  # rolled back: this source fails alone, the scan goes on
                error = f"could not store: {e}"
                await asyncio.to_thread(
                    store.record_failure, wl.name, source.name, error, fetched, None
                )
                summary.failed.append({"source": label, "error": error})
                notify("failed", label, error)
                continue
            summary.new += counts.new
            summary.updated += counts.updated
            summary.ok += 1
            # (the items themselves were dropped before queueing, to bound memory)
            notify("done", label, f"{counts.new} new, {counts.updated} updated")
        if unchanged:
            await record_unchanged()

    async def read_one(ctx: _Context, wl: Watchlist, source: Source) -> None:
        label = f"{wl.name}/{source.name}"
        row = saved[wl.name].get(source.name)
        retry_after = row.retry_after if row else None
        fetched = now()
        if retry_after and from_iso(retry_after) > fetched:
            summary.deferred.append({"source": label, "until": retry_after})
            notify("deferred", label, f"server asked to wait until {retry_after}")
            return
        notify("start", label, source.url)
        reader = fetchers.reader_for(source.kind)
        until = None
        outcome: tuple[ReadResult, Selection] | str
        try:
            if reader is None:
                raise SourceError(f"source kind {source.kind!r} is not supported yet")
            select = Select(wl.name, source, fetched)
            ctx = ctx.for_source(label, keep_for(wl, source), select)
            state = row.state() if row else SourceState()
            result = await reader.read(source, ctx, state)
            if isinstance(result.selected, Selection):  # selected in the reader's parse job
                sel = result.selected
            else:
                sel = await ctx.parse(select, result.items) if result.items else Selection()
            outcome = (dataclasses.replace(result, items=[], selected=None), sel)
        except RetryLater as e:
            outcome, until = str(e), utc_iso(datetime.fromtimestamp(e.until, UTC))
        except SourceError as e:
            outcome = str(e)
        except Exception as e:  # a parser bug on one hostile page must not stop the others
            outcome = f"unexpected {type(e).__name__}: {e}"
        await queue.put((wl, source, outcome, fetched, until))

    by_limits: dict[FetchLimits, list[_Pair]] = {}
    for wl, s in jobs:
        by_limits.setdefault(wl.fetch, []).append((wl, s))

    robots = store.robots(ROBOTS_MAX_AGE)
    fetched_robots: dict[str, tuple[float, str]] = {}
    write_task = asyncio.create_task(writer())
    for limits, group in by_limits.items():
        async with HttpClient(limits, concurrency=concurrency, robots_cache=robots) as http:
            ctx = _Context(http, parsers)
            # A fixed set of readers, each taking the next source when done with one:
            # memory stays flat however many sources there are (a task per source
            # weighed 2-3 KB each until it ran).
            todo = iter(group)

            async def reader(ctx: _Context = ctx, todo: Iterator[_Pair] = todo) -> None:
                for wl, s in todo:
                    await read_one(ctx, wl, s)

            readers = min(max(concurrency, 1) * READS_PER_REQUEST, len(group))
            await asyncio.gather(*(reader() for _ in range(readers)))
        fetched_robots.update(http.robots_fetched)
    await queue.put(None)
    await write_task
    store.save_robots(fetched_robots)

    for wl in watchlists:
        if wl.retention_days:
            cutoff = now() - timedelta(days=wl.retention_days)
            with store.transaction():
                store.purge_older_than(wl.name, cutoff)
    try:
        # Nothing to queue or send (most scans): the alerts module is not even imported.
        if any(wl.alerts.on for wl in watchlists) or store.alerts_pending():
            from ereput.services import alerts

            done = await asyncio.to_thread(alerts.after_scan, store, watchlists)
            summary.alerts = done.to_json()
    except sqlite3.Error as e:  # queued alerts stay queued for the next scan
        error = f"could not read the alert queue: {e}"
        names = ",".join(wl.name for wl in watchlists)
        summary.alerts["failed"].append({"watchlist": names, "channel": "outbox", "error": error})
    summary.duration_s = time.monotonic() - started
    return summary


def scan(
    watchlists: list[Watchlist], store: Store, *, only: list[str] | None = None, **kwargs: Any
) -> ScanSummary:
    """Take the scan lock (exit 3 if held) and run the scan."""
    store.lock()
    try:
        if only:
            check_source_names(watchlists, only)
        with _Parsers.for_scan(watchlists, store, only) as parsers:
            return asyncio.run(run_scan(watchlists, store, parsers, only=only, **kwargs))
    finally:
        store.unlock()


__all__ = [  # with what the scan's workers run (services.select), re-exported
    "Keep",
    "ScanSummary",
    "Selection",
    "classify",
    "keep_for",
    "run_scan",
    "scan",
    "select_mentions",
    "space_of",
]
