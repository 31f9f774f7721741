"""The domain, in the spec's vocabulary (SPEC §2). Plain frozen dataclasses, no behaviour
that needs I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Space(StrEnum):
    COMMUNITY = "community"
    OPEN = "open"


class AuthorClass(StrEnum):
    MEMBER = "member"
    IDENTIFIED = "identified"
    ANONYMOUS = "anonymous"


ROLES = ("customer", "designer", "brand", "mediator", "analyst", "observer", "community_manager")
IDENTIFIER_KINDS = ("url", "acct", "handle", "avatar", "email", "uid")


@dataclass(frozen=True, slots=True)
class Identifier:
    """A normalised identifier (SPEC §2). `email` values are SHA-256 hex digests only."""

    kind: str
    value: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


@dataclass(frozen=True, slots=True)
class Account:
    """An author as one platform shows them."""

    site: str  # host the author was seen on (lower-case), keys anonymous accounts
    name: str  # display name as shown; "" when the page gives none
    identifiers: tuple[Identifier, ...] = ()
    profile_url: str | None = None
    platform: str = ""  # "feed", "wordpress", "discourse"…


@dataclass(frozen=True, slots=True)
class Item:
    """One piece of content by one author, as a parser reads it from a page or feed."""

    url: str  # permalink, http(s)
    title: str = ""
    text: str = ""
    published: datetime | None = None  # timezone-aware; None when the page gives no date
    author: Account | None = None
    entry_id: str | None = None  # platform id / guid, when the platform gives one
    thread_url: str | None = None  # the thread's first item; None = the item is its own thread
    parent_url: str | None = None  # what it replies to; None for a thread's first item
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Mention:
    """An item on its way into the store, with what the scan decided about it."""

    watchlist: str
    source: str
    source_kind: str
    item: Item
    url: str  # canonical
    space: Space
    matched: tuple[str, ...]
    published: datetime
    undated: bool
    fetched: datetime
    language: str | None = None  # detected (ereput.language), else the feed's
    sentiment: float | None = None  # in [-1, 1] (ereput.sentiment); None: not measured


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """SPEC §7 fetch limits; a watchlist's `[fetch]` table may change them."""

    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    deadline: float = 60.0
    max_body: int = 16 * 1024 * 1024
    max_redirects: int = 10
    max_encodings: int = 2
    per_host: int = 2
    retries: int = 2
    max_retry_after: float = 30.0


@dataclass(frozen=True, slots=True)
class Source:
    name: str
    kind: str
    url: str
    space: Space | None = None  # explicit override of the URL rule
    options: dict[str, Any] = field(default_factory=dict)  # kind-specific: engine, selectors…
    # The watchlist's zone: a date a page prints without one is read in it (SPEC §7).
    timezone: str = "UTC"


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    role: str
    identifiers: tuple[Identifier, ...] = ()


@dataclass(frozen=True, slots=True)
class Community:
    spaces: tuple[str, ...] = ()
    members: tuple[Member, ...] = ()
    dunbar_limit: int = 150


@dataclass(frozen=True, slots=True)
class Query:
    terms: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Rules:
    window_days: int = 30
    troll_min_mentions: int = 3
    troll_max_sentiment: float = -0.3
    invite_min_mentions: int = 2
    spike_factor: float = 2.0  # a day above this × its trailing 7-day average is a spike


@dataclass(frozen=True, slots=True)
class EmailAlert:
    to: tuple[str, ...]
    smtp: str = "smtp://localhost:25"
    sender: str = "ereput@localhost"


@dataclass(frozen=True, slots=True)
class Alerts:
    webhook: str | None = None
    email: EmailAlert | None = None
    on: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Watchlist:
    name: str
    query: Query
    sources: tuple[Source, ...]
    title: str = ""
    timezone: str = "UTC"
    retention_days: int | None = None
    community: Community = field(default_factory=Community)
    rules: Rules = field(default_factory=Rules)
    alerts: Alerts = field(default_factory=Alerts)
    fetch: FetchLimits = field(default_factory=FetchLimits)
    path: str = ""  # the file it was read from, for messages
