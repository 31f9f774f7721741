"""The shared HTTP layer (SPEC §6-7): one async httpx client, politeness and bounds.

Every network read of a scan goes through one `HttpClient`, so the rules users rely on hold
in one place: a clear User-Agent, robots.txt, at most `per_host` requests in flight per
host and port, conditional GET, time-outs and a whole-request deadline, capped bodies
(compressed and decompressed, decoded here so that a compression bomb cannot allocate past
the cap), redirects checked hop by hop, retries with back-off and `Retry-After`. httpx
exceptions never leave this module: they become `ereput.errors` with a one-line message
that names the URL.

    async with HttpClient(limits) as http:
        res = await http.get(url, etag=state.etag, last_modified=state.last_modified)
        if res.not_modified: ...
"""

from __future__ import annotations

import asyncio
import errno
import functools
import itertools
import mimetypes
import os
import ssl
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self
from urllib.parse import urljoin, urlsplit
from urllib.request import url2pathname
from urllib.robotparser import RobotFileParser

import httpx

from ereput import USER_AGENT
from ereput.errors import (
    BodyTooLarge,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    RetryLater,
    RobotsDisallowed,
    RobotsUnreachable,
)
from ereput.http_transport import AiohttpTransport
from ereput.models import FetchLimits

try:
    import brotli
except ImportError:  # pragma: no cover - optional
    brotli = None  # type: ignore[assignment]

# br is only advertised when the installed brotli can bound its output (brotli >= 1.2).
_BROTLI = brotli is not None and hasattr(brotli.Decompressor, "can_accept_more_data")
ACCEPT_ENCODING = "gzip, deflate, br" if _BROTLI else "gzip, deflate"
KEEPALIVE_EXPIRY = 5.0  # seconds an idle connection is kept for the next request
ROBOTS_TOKEN = "ereput"  # the product token robots.txt groups are matched against
ROBOTS_MAX_BODY = 512 * 1024  # RFC 9309 §2.5: parse at least 500 KiB, may ignore the rest
ROBOTS_MAX_AGE = 24 * 3600  # RFC 9309 §2.4: a cached robots.txt is good for 24 hours
ROBOTS_MAX_REDIRECTS = 5  # RFC 9309 §2.3.1.2
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_LOCATION = "ereput.location"
# Worth another try: the network, not the server's answer, failed.
_TRANSIENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
_FILE_TYPES = {
    ".atom": "application/atom+xml",
    ".rss": "application/rss+xml",
    ".json": "application/json",
}


@dataclass(frozen=True, slots=True)
class FetchResult:
    """One final answer: 2xx with its body, or 304 with an empty one."""

    url: str  # after redirects
    status: int
    body: bytes
    headers: dict[str, str]  # lower-cased names; repeated headers joined with ", "
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True, slots=True)
class _Answer:
    url: str
    status: int
    headers: dict[str, str]
    body: bytes


class _ShortBody(Exception):
    """The connection closed before Content-Length bytes arrived."""

    def __init__(self, got: int, expected: int) -> None:
        self.got, self.expected = got, expected
        super().__init__(f"{got} of {expected} bytes")


class HttpClient:
    """The scan's one HTTP client. Use as `async with HttpClient(limits) as http:`."""

    def __init__(
        self,
        limits: FetchLimits,
        *,
        concurrency: int = 16,
        user_agent: str = USER_AGENT,
        transport: httpx.AsyncBaseTransport | None = None,
        backoff: float = 0.5,
        robots_cache: dict[str, tuple[float, str]] | None = None,
    ) -> None:
        """`robots_cache` maps an origin to (epoch fetched, robots.txt text) from earlier
        scans: a copy younger than 24 h is used without asking again (RFC 9309 §2.4)."""
        if concurrency < 1 or limits.per_host < 1:
            raise ValueError("concurrency and per_host must be at least 1")
        self.limits = limits
        self._concurrency = concurrency
        self._user_agent = user_agent
        self._transport = transport
        self._backoff = backoff  # first retry delay; doubles each time (tests make it tiny)
        self._slots = asyncio.Semaphore(concurrency)
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._robots: dict[str, RobotFileParser | str] = {}  # str: why it is unreachable
        self._robots_locks: dict[str, asyncio.Lock] = {}
        self._robots_cache = robots_cache or {}
        #: robots.txt texts fetched by this client (origin -> (epoch, text)), to keep.
        self.robots_fetched: dict[str, tuple[float, str]] = {}
        self._not_before: dict[str, float] = {}  # origin -> epoch time set by Retry-After
        self._client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Self:
        lim = self.limits
        self._client = httpx.AsyncClient(
            http1=True,
            http2=False,
            follow_redirects=False,  # each hop is checked here (scheme, robots, host cap)
            timeout=httpx.Timeout(
                connect=lim.connect_timeout,
                read=lim.read_timeout,
                write=lim.read_timeout,
                pool=lim.connect_timeout,
            ),
            # Sent over aiohttp (http_transport); these limits are the ones httpx's own
            # transport would use, for proxies named by the environment.
            limits=httpx.Limits(
                max_connections=self._concurrency,
                max_keepalive_connections=self._concurrency,
                keepalive_expiry=KEEPALIVE_EXPIRY,
            ),
            headers={"User-Agent": self._user_agent, "Accept-Encoding": ACCEPT_ENCODING},
            transport=self._transport
            or AiohttpTransport(
                max_connections=self._concurrency, keepalive_expiry=KEEPALIVE_EXPIRY
            ),
            event_hooks={"response": [_take_location]},
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # --- public -------------------------------------------------------------------------

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str | None = None,
        allow_file: bool = False,
    ) -> FetchResult:
        """GET `url` under every rule of SPEC §7; `etag`/`last_modified` are sent back as
        the server gave them. `allow_file` only when the watchlist itself names the URL."""
        scheme = urlsplit(url).scheme.lower()
        if scheme == "file":
            if not allow_file:
                raise FetchError(f"file URLs are only read when the watchlist names them: {url}")
            return await self._read_file(url)
        if scheme not in _DEFAULT_PORTS:
            raise FetchError(f"unsupported URL scheme {scheme or 'none'!r}: {url}")
        _parse_url(url)
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        if accept:
            headers["Accept"] = accept

        current = url
        for hop in itertools.count():
            await self._check_robots(current)
            answer = await self._fetch(current, headers)
            location = answer.headers.get("location")
            if answer.status not in REDIRECT_STATUSES or not location:
                break
            if hop >= self.limits.max_redirects:
                raise FetchError(
                    f"too many redirects (more than {self.limits.max_redirects}) from {url}"
                )
            current = _redirect_target(current, location)

        if answer.status == 304 or 200 <= answer.status < 300:
            got = answer.headers
            not_modified = answer.status == 304  # a 304 may omit validators: keep ours
            return FetchResult(
                url=answer.url,
                status=answer.status,
                body=answer.body,
                headers=got,
                etag=got.get("etag") or (etag if not_modified else None),
                last_modified=got.get("last-modified") or (last_modified if not_modified else None),
                content_type=got.get("content-type"),
            )
        raise HTTPStatusError(answer.status, answer.url)

    # --- one hop, with retries ---------------------------------------------------------------

    async def _fetch(self, url: str, headers: Mapping[str, str]) -> _Answer:
        """One URL (no redirects followed), retried on transient failures and 429/5xx."""
        origin = _origin(url)
        failures = 0
        honoured_retry_after = False
        while True:
            await self._wait_not_before(origin, url)
            try:
                answer = await self._exchange(url, headers, cap=self.limits.max_body)
            except (*_TRANSIENT, _ShortBody) as exc:
                if failures >= self.limits.retries:
                    raise _wrap(exc, url, self.limits) from exc
                failures += 1
                await asyncio.sleep(self._backoff * 2 ** (failures - 1))
                continue
            except httpx.HTTPError as exc:
                raise _wrap(exc, url, self.limits) from exc
            if answer.status not in RETRY_STATUSES:
                return answer
            delay = _retry_after(answer.headers.get("retry-after"))
            if delay is not None:
                until = time.time() + delay
                self._not_before[origin] = max(self._not_before.get(origin, 0.0), until)
                if honoured_retry_after or delay > self.limits.max_retry_after:
                    raise RetryLater(until, url)
                honoured_retry_after = True  # retried once; the wait is in _wait_not_before
                continue
            if failures >= self.limits.retries:
                return answer
            failures += 1
            await asyncio.sleep(self._backoff * 2 ** (failures - 1))

    async def _wait_not_before(self, origin: str, url: str) -> None:
        """Never ask an origin again before the time its Retry-After named."""
        until = self._not_before.get(origin)
        if until is None:
            return
        delay = until - time.time()
        if delay > self.limits.max_retry_after:
            raise RetryLater(until, url)
        if delay > 0:
            await asyncio.sleep(delay + 0.01)  # the loop's clock may wake a hair early

    async def _exchange(
        self, url: str, headers: Mapping[str, str], *, cap: int, truncate: bool = False
    ) -> _Answer:
        """One request and its body, inside the host and global caps and the deadline.

        Raises httpx transport errors and `_ShortBody` as they are (the caller decides on
        retries) and our own errors for the deadline and the caps."""
        if self._client is None:
            raise RuntimeError("HttpClient used outside 'async with'")
        request = self._client.build_request("GET", _parse_url(url), headers=headers)
        async with self._host_slot(request.url), self._slots:
            try:
                async with asyncio.timeout(self.limits.deadline):
                    response = await self._client.send(request, stream=True)
                    try:
                        body = b""
                        if 200 <= response.status_code < 300:
                            body = await _read_body(response, cap, self.limits, truncate=truncate)
                    finally:
                        await response.aclose()
            except TimeoutError:
                raise FetchTimeout(
                    f"timed out after {self.limits.deadline:g} s (deadline) fetching {url}"
                ) from None
        headers_out = {k.lower(): v for k, v in response.headers.items()}
        if _LOCATION in response.extensions:
            headers_out["location"] = response.extensions[_LOCATION]
        return _Answer(str(response.url), response.status_code, headers_out, body)

    def _host_slot(self, url: httpx.URL) -> asyncio.Semaphore:
        key = f"{url.host}:{url.port or _DEFAULT_PORTS.get(url.scheme, 0)}"
        slot = self._hosts.get(key)
        if slot is None:
            slot = self._hosts[key] = asyncio.Semaphore(self.limits.per_host)
        return slot

    # --- robots.txt -------------------------------------------------------------------------

    async def _check_robots(self, url: str) -> None:
        origin = _origin(url)
        lock = self._robots_locks.get(origin)
        if lock is None:
            lock = self._robots_locks[origin] = asyncio.Lock()
        async with lock:  # concurrent requests to one origin share one fetch
            rules = self._robots.get(origin)
            if rules is None:
                rules = self._robots[origin] = await self._load_robots(origin)
        if isinstance(rules, str):
            raise RobotsUnreachable(rules)
        if not rules.can_fetch(ROBOTS_TOKEN, url):
            raise RobotsDisallowed(f"disallowed by robots.txt: {url}")

    async def _load_robots(self, origin: str) -> RobotFileParser | str:
        """RFC 9309 §2.3.1: 2xx parsed, 4xx allows all, 5xx or no answer disallows all.

        An answer (rules or "allow all") is kept up to 24 h across scans; an unreachable
        robots.txt is asked again next time."""
        cached = self._robots_cache.get(origin)
        if cached is not None and time.time() - cached[0] < ROBOTS_MAX_AGE:
            return _robots_rules(f"{origin}/robots.txt", cached[1])
        rules = await self._fetch_robots(origin)
        if isinstance(rules, _Robots):
            self.robots_fetched[origin] = (time.time(), rules.text)
        return rules

    async def _fetch_robots(self, origin: str) -> _Robots | str:
        url = f"{origin}/robots.txt"
        for _ in range(ROBOTS_MAX_REDIRECTS + 1):
            try:
                answer = await self._exchange(url, {}, cap=ROBOTS_MAX_BODY, truncate=True)
            except FetchError as exc:
                return f"robots.txt unreachable: {exc}"
            except (httpx.HTTPError, _ShortBody) as exc:
                return f"robots.txt unreachable: {_wrap(exc, url, self.limits)}"
            location = answer.headers.get("location")
            if answer.status in REDIRECT_STATUSES and location:
                try:
                    url = _redirect_target(url, location)
                except FetchError:
                    break
                continue
            if answer.status >= 500 or answer.status == 429:  # 429: being throttled, stay away
                return f"robots.txt unreachable: HTTP {answer.status} from {url}"
            if answer.status >= 300:
                break
            return _robots_rules(url, answer.body.decode("utf-8", "replace"))
        return _robots_rules(url, "")  # unavailable (4xx, too many redirects): allow all

    # --- file:// ---------------------------------------------------------------------------

    async def _read_file(self, url: str) -> FetchResult:
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise FetchError(f"file URL on another host: {url}")
        path = Path(url2pathname(parts.path))
        cap = self.limits.max_body

        def read() -> bytes:
            with path.open("rb") as f:
                return f.read(cap + 1)

        try:
            body = await asyncio.to_thread(read)
        except OSError as exc:
            raise FetchError(f"cannot read {url}: {exc.strerror or exc}") from exc
        if len(body) > cap:
            raise BodyTooLarge(f"body over the {_size(cap)} cap: {url}")
        ctype = _FILE_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
        ctype = ctype or "application/octet-stream"
        return FetchResult(
            url=url,
            status=200,
            body=body,
            headers={"content-type": ctype, "content-length": str(len(body))},
            content_type=ctype,
        )


class _Robots(RobotFileParser):
    """Parsed rules that remember their text, so that it can be kept across scans."""

    text = ""


def _robots_rules(url: str, text: str) -> _Robots:
    parser = _Robots(url)
    parser.parse(text.splitlines())
    parser.modified()  # can_fetch() refuses everything until this is set
    parser.text = text
    return parser


# --- bodies ---------------------------------------------------------------------------------


async def _read_body(
    response: httpx.Response, cap: int, limits: FetchLimits, *, truncate: bool
) -> bytes:
    """Stream the raw body and decode it ourselves, both sides capped at `cap`.

    `truncate` keeps the first `cap` bytes instead of failing (robots.txt parse limit)."""
    url = str(response.url)
    decoder = _Decoder(response.headers.get("content-encoding", ""), cap, limits, url)
    expected = _content_length(response.headers)
    if expected is not None and expected > cap and not truncate:
        raise BodyTooLarge(f"body of {expected} bytes is over the {_size(cap)} cap: {url}")
    out = bytearray()
    received = 0
    try:
        async for chunk in response.aiter_raw():
            received += len(chunk)
            if received > cap:
                raise BodyTooLarge(f"body over the {_size(cap)} cap: {url}")
            out += decoder.feed(chunk)
        out += decoder.finish()
    except BodyTooLarge:
        if truncate:
            return bytes(out[:cap])
        raise
    except httpx.RemoteProtocolError as exc:
        if expected is not None and received < expected:
            raise _ShortBody(received, expected) from exc
        raise
    if expected is not None and received < expected:
        raise _ShortBody(received, expected)
    return bytes(out)


class _Stage(Protocol):
    def feed(self, data: bytes) -> bytes: ...
    def finish(self) -> bytes: ...


class _Decoder:
    """Undoes the Content-Encodings in reverse order; each stage's output is capped."""

    def __init__(self, header: str, cap: int, limits: FetchLimits, url: str) -> None:
        names = [t.strip().lower() for t in header.split(",")]
        names = [n for n in names if n and n != "identity"]
        if len(names) > limits.max_encodings:
            raise FetchError(
                f"too many content encodings ({', '.join(names)}; at most "
                f"{limits.max_encodings}): {url}"
            )
        self._stages = [_stage(name, cap, url) for name in reversed(names)]

    def feed(self, data: bytes) -> bytes:
        for stage in self._stages:
            if not data:
                break
            data = stage.feed(data)
        return data

    def finish(self) -> bytes:
        data = b""
        for stage in self._stages:
            data = (stage.feed(data) if data else b"") + stage.finish()
        return data


def _stage(name: str, cap: int, url: str) -> _Stage:
    if name in ("gzip", "x-gzip", "deflate"):
        return _Inflate(name, cap, url)
    if name == "br" and _BROTLI:
        return _Brotli(cap, url)
    raise FetchError(f"unsupported content encoding {name!r}: {url}")


class _Inflate:
    """gzip / deflate with `max_length`, so output never exceeds the cap by more than 1."""

    def __init__(self, name: str, cap: int, url: str) -> None:
        self._gzip = name != "deflate"
        self._name, self._cap, self._url = name, cap, url
        self._obj = zlib.decompressobj(zlib.MAX_WBITS | 16 if self._gzip else zlib.MAX_WBITS)
        self._total = 0
        self._fed = False

    def feed(self, data: bytes) -> bytes:
        parts = []
        while data and not self._obj.eof:  # bytes after the end of the stream are ignored
            try:
                out = self._obj.decompress(data, self._cap - self._total + 1)
            except zlib.error as exc:
                if not self._gzip and not self._fed:  # "deflate" is often raw, not zlib
                    self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
                    self._fed = True
                    continue
                raise FetchError(f"invalid {self._name} body ({exc}): {self._url}") from exc
            self._fed = True
            self._total += len(out)
            if self._total > self._cap:
                raise _inflated_too_large(self._cap, self._url)
            parts.append(out)
            if not out and self._obj.unconsumed_tail == data:
                break
            data = self._obj.unconsumed_tail
        return b"".join(parts)

    def finish(self) -> bytes:
        if self._fed and not self._obj.eof:
            raise FetchError(f"truncated {self._name} body: {self._url}")
        return b""


class _Brotli:
    def __init__(self, cap: int, url: str) -> None:
        assert brotli is not None
        self._obj = brotli.Decompressor()
        self._cap, self._url, self._total = cap, url, 0

    def feed(self, data: bytes) -> bytes:
        try:
            out: bytes = self._obj.process(data, max_output_length=self._cap - self._total + 1)
        except brotli.error as exc:  # type: ignore[union-attr]
            raise FetchError(f"invalid br body ({exc}): {self._url}") from exc
        self._total += len(out)
        if self._total > self._cap:
            raise _inflated_too_large(self._cap, self._url)
        return out

    def finish(self) -> bytes:
        if self._total and not self._obj.is_finished():
            raise FetchError(f"truncated br body: {self._url}")
        return b""


# --- helpers ---------------------------------------------------------------------------------


async def _take_location(response: httpx.Response) -> None:
    """Move Location out of httpx's sight: even with follow_redirects=False it builds the
    next request and raises on Locations such as `javascript:…`; `get` checks them."""
    if "location" in response.headers:
        response.extensions[_LOCATION] = response.headers["location"]
        del response.headers["location"]


@functools.lru_cache(maxsize=512)
def _parse_url(url: str) -> httpx.URL:
    """`url` parsed once for the checks, the origin and the request (httpx's parser costs
    ~40 µs a URL: four parses were a tenth of a re-scan's time). URLs are immutable. The
    cache holds what the requests in flight need, not every URL of a scan (at 10,000
    sources, 4,096 of them weighed 1 MB)."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise FetchError(f"invalid URL ({exc}): {url!r}") from exc
    if not parsed.host:
        raise FetchError(f"URL without a host: {url}")
    return parsed


def _origin(url: str) -> str:
    parsed = _parse_url(url)
    return f"{parsed.scheme}://{parsed.netloc.decode('ascii')}"


def _redirect_target(current: str, location: str) -> str:
    target = urljoin(current, location.strip())
    if urlsplit(target).scheme.lower() not in _DEFAULT_PORTS:
        raise FetchError(f"redirect to a non-http(s) URL refused: {location[:200]} from {current}")
    try:
        return str(httpx.URL(target))
    except httpx.InvalidURL as exc:
        raise FetchError(f"invalid redirect to {location[:200]!r} from {current}") from exc


def _content_length(headers: httpx.Headers) -> int | None:
    value = headers.get("content-length", "").strip()
    return int(value) if value.isdigit() else None


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - time.time())


def _wrap(exc: BaseException, url: str, limits: FetchLimits) -> FetchError:
    """One of our errors, one line, naming the URL, for an httpx failure."""
    if isinstance(exc, httpx.ConnectTimeout):
        return FetchTimeout(f"connect timed out after {limits.connect_timeout:g} s: {url}")
    if isinstance(exc, httpx.ReadTimeout):
        return FetchTimeout(f"read timed out after {limits.read_timeout:g} s: {url}")
    if isinstance(exc, httpx.TimeoutException):
        return FetchTimeout(f"timed out ({_reason(exc)}): {url}")
    if isinstance(exc, _ShortBody):
        return FetchError(f"body shorter than its Content-Length ({exc}): {url}")
    if isinstance(exc, httpx.ConnectError):
        return FetchError(f"cannot connect ({_reason(exc)}): {url}")
    if isinstance(exc, httpx.ReadError | httpx.WriteError | httpx.RemoteProtocolError):
        return FetchError(f"connection lost ({_reason(exc)}): {url}")
    return FetchError(f"{_reason(exc)}: {url}")


def _reason(exc: BaseException) -> str:
    """The most specific cause: an errno's text ("connection refused") beats httpx's
    generic "All connection attempts failed"."""
    cause: BaseException | None = exc
    while cause is not None:
        code = getattr(cause, "errno", None)
        if isinstance(cause, ssl.SSLError):  # its errno is OpenSSL's, not the system's
            # (aiohttp's subclasses lack the attributes and chain the real error)
            if verify := getattr(cause, "verify_message", None):
                return f"certificate verify failed: {verify}".rstrip(".")
            if reason := getattr(cause, "reason", None):
                return f"TLS error: {str(reason).lower().replace('_', ' ')}"
        elif isinstance(code, int) and code in errno.errorcode:
            return os.strerror(code).lower()
        cause = cause.__cause__ or cause.__context__
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _inflated_too_large(cap: int, url: str) -> BodyTooLarge:
    return BodyTooLarge(f"decompressed body over the {_size(cap)} cap: {url}")


def _size(n: int) -> str:
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} bytes"
