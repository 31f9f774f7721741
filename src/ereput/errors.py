"""ereput's own exceptions. The CLI turns them into exit codes and one-line messages."""

from __future__ import annotations

from datetime import UTC, datetime


class EreputError(Exception):
    """Base of every error ereput raises on purpose."""

    exit_code = 1


class UsageError(EreputError):
    """The command line asks for something that cannot be done."""

    exit_code = 2


class WatchlistError(UsageError):
    """A watchlist is invalid: names the file, the key path and the reason."""

    def __init__(self, file: str, key: str, reason: str) -> None:
        self.file, self.key, self.reason = file, key, reason
        where = f"{file}: {key}" if key else file
        super().__init__(f"{where}: {reason}")


class QuerySyntaxError(UsageError):
    """A query entry cannot be parsed: names the entry and the 1-based column."""

    def __init__(self, entry: str, column: int, reason: str) -> None:
        self.entry, self.column, self.reason = entry, column, reason
        super().__init__(f"{reason} at column {column} of {entry!r}")


class LockedError(EreputError):
    """Another scan holds the lock on this database."""

    exit_code = 3


class StoreError(EreputError):
    """The database cannot be opened, migrated or written."""


class NotFoundError(EreputError):
    """A look-up found nothing."""


class AlertError(EreputError):
    """An alert could not be delivered; it stays queued and is retried at the next scan."""


# --- source failures: each fails its source alone, recorded and named ---------------------


class SourceError(EreputError):
    """One source could not be read; the scan goes on with the others."""


class FetchError(SourceError):
    """Transport-level failure: connection, time-out, protocol, redirects, size."""


class FetchTimeout(FetchError):
    """Connect or read time-out, or the whole-request deadline passed."""


class BodyTooLarge(FetchError):
    """A body (compressed or decompressed) is over the cap; nothing is truncated silently."""


class HTTPStatusError(SourceError):
    """The server answered an HTTP error status (after retries)."""

    def __init__(self, status: int, url: str) -> None:
        self.status, self.url = status, url
        super().__init__(f"HTTP {status} from {url}")


class RetryLater(SourceError):
    """Retry-After asks to wait longer than a scan may; `until` (epoch s) is when to ask again."""

    def __init__(self, until: float, url: str) -> None:
        self.until, self.url = until, url
        when = datetime.fromtimestamp(until, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        super().__init__(f"server asks to retry after {when} (Retry-After): {url}")


class RobotsDisallowed(SourceError):
    """robots.txt disallows the URL (or could not be read, RFC 9309)."""


class RobotsUnreachable(RobotsDisallowed):
    """robots.txt could not be read (5xx, no answer): everything is disallowed for now, and
    may be allowed at the next scan."""


class ParseError(SourceError):
    """The body is not what the source kind reads (not a feed, not a forum page…)."""
