"""The one small interface every source kind implements, and its registry.

A reader turns one watchlist source into items. It asks the shared HTTP layer for pages
(which applies politeness, limits and conditional GET) and hands the bytes to pure parsers
(`bytes + base URL -> items`) through `ctx.parse`, which runs them off the event loop.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ereput.errors import RobotsDisallowed, RobotsUnreachable
from ereput.models import Item, Source

if TYPE_CHECKING:
    from ereput.http import HttpClient

T = TypeVar("T")


@dataclass
class SourceState:
    """What a source remembers between scans: validators and an API cursor."""

    etag: str | None = None
    last_modified: str | None = None
    cursor: dict[str, Any] = field(default_factory=dict)


@dataclass
class ReadResult:
    items: list[Item]
    state: SourceState
    not_modified: bool = False  # the server said 304: nothing to parse, nothing to store
    #: `ReadContext.select(items)`, when the reader ran it in the job that parsed the items;
    #: `items` may then be left empty (they would travel back from the worker for nothing).
    selected: object | None = None


#: prefilter(texts, links): False for an entry whose raw title and text (`texts`) and links
#: show that the scan would drop its item, which then need not be built. It may only err
#: towards True (the scan's `services.select.Keep`). One that also has `raw_needles`
#: (`Keep.raw_needles`) lets the feed parser cut entries from the text before parsing it
#: (`feed_parse.cut_entries`); a plain callable only skips them once parsed.
Prefilter = Callable[[Sequence[str], Sequence[str]], bool]
#: select(items): the scan's selection of a source's items (`services.select.Select`),
#: picklable, so that it can run in the job that parsed them.
Selector = Callable[[list[Item]], object]


class Refusals:
    """The pages of a walk (a forum's topics, sub-forums) that robots.txt kept it from:
    each is skipped and the rest read; a walk refused every page it tried fails with the
    first reason (`check`), as a source whose own page is forbidden does."""

    def __init__(self) -> None:
        self.refused: list[RobotsDisallowed] = []
        self.read = 0

    async def attempt(self, reading: Awaitable[bool | None]) -> bool:
        """`reading`'s answer: a topic's (False: stopped before its end), counted as read,
        or a listing's (None: True), whose own topics count. For a page robots.txt
        forbids: True, its rule stands until robots.txt changes; False when robots.txt
        could not be read, so that the next scan asks again."""
        try:
            done = await reading
        except RobotsDisallowed as e:
            self.refused.append(e)
            return not isinstance(e, RobotsUnreachable)
        if done is None:
            return True
        self.read += 1
        return done

    def check(self) -> None:
        if self.refused and not self.read:
            raise self.refused[0]


class ReadContext(Protocol):
    http: HttpClient

    @property
    def keep(self) -> Prefilter | None:
        """The source's prefilter, for a reader to give its parser; None: keep everything.
        Readers whose cursors need every item ignore it."""
        ...

    @property
    def select(self) -> Selector | None:
        """What the scan makes of the source's items. A reader whose items all come from
        one parse job may run it in that job and return its answer as
        `ReadResult.selected`: one trip to the scan's worker instead of two. None, or
        not run: the scan selects from `ReadResult.items` itself."""
        ...

    async def parse(self, fn: Callable[..., T], /, *args: Any) -> T:
        """Run a pure parser off the event loop."""
        ...


class Reader(Protocol):
    kind: str

    async def read(self, source: Source, ctx: ReadContext, state: SourceState) -> ReadResult: ...


_REGISTRY: dict[str, Reader] = {}
_PARSERS: dict[str, tuple[str, ...]] = {}


def register(reader: Reader, *, parsers: tuple[str, ...] = ()) -> Reader:
    """`parsers`: the modules the reader's parse jobs import where they run (not where it
    reads), which a scan's worker process may load before its first job."""
    _REGISTRY[reader.kind] = reader
    _PARSERS[reader.kind] = parsers
    return reader


#: The module that registers each kind's reader.
_MODULES = {
    "feed": "feed",
    "blog": "blog",
    "discourse": "discourse",
    "forum": "forum",
    "reddit": "reddit",
    "hackernews": "hackernews",
    "mastodon": "mastodon",
    "activitypub": "activitypub",
}


def reader_for(kind: str) -> Reader | None:
    if kind not in _REGISTRY and kind in _MODULES:
        importlib.import_module(f"ereput.fetchers.{_MODULES[kind]}")
    return _REGISTRY.get(kind)


def parser_modules(kinds: Iterable[str]) -> tuple[str, ...]:
    """The modules the parse jobs of these kinds of sources import (see `register`)."""
    modules: dict[str, None] = {}
    for kind in kinds:
        if reader_for(kind) is not None:
            modules.update(dict.fromkeys(_PARSERS[kind]))
    return tuple(modules)


def known_kinds() -> tuple[str, ...]:
    """Every kind a watchlist may name (SPEC §3), implemented or not yet."""
    return tuple(_MODULES)
