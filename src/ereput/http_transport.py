"""httpx's requests sent over aiohttp's connections.

`HttpClient` keeps httpx's API (requests, headers, timeouts, errors), but a scan of a
thousand feeds spent half its HTTP time in httpcore's pool: it polls every kept-alive
socket on each request through anyio's attribute lookups. aiohttp's pool and C parser do
the same work for about half the CPU (benchmarks/README.md). This transport only moves
bytes: the body is handed over raw (no decompression, which `http._Decoder` does under its
caps), redirects are not followed, no cookie is kept, and aiohttp's errors become the httpx
errors `HttpClient` already turns into one-line messages.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import aiohttp
import httpx
from yarl import URL

if TYPE_CHECKING:
    from aiohttp.client_proto import ResponseHandler
    from aiohttp.client_reqrep import ConnectionKey

#: Hosts whose idle connections are kept for the next request (at most 2 each, the
#: per-host cap), fewer where the process may open fewer files (`idle_hosts`): the rest
#: are closed, so that open sockets stay bounded however many hosts a scan reads. 256
#: keeps the benchmark's 250 hosts warm between their feeds (a third of an unchanged
#: re-scan's time went to new connections with 32).
MAX_IDLE_HOSTS = 256
#: The longest response header line read (aiohttp's default, 8 KiB, refuses some cookies);
#: bounded all the same, like the body.
MAX_FIELD_SIZE = 64 * 1024


@contextmanager
def _httpx_errors(*, reading: bool) -> Iterator[None]:
    """aiohttp's errors as the httpx ones they are; the cause stays chained, so that an
    errno ("connection refused") still reaches the message."""
    try:
        yield
    except aiohttp.ConnectionTimeoutError as exc:
        raise httpx.ConnectTimeout(str(exc) or "connect timed out") from exc
    except aiohttp.ServerTimeoutError as exc:  # also a TimeoutError: never let it pass as one
        raise httpx.ReadTimeout(str(exc) or "read timed out") from exc
    except aiohttp.ClientConnectorError as exc:
        raise httpx.ConnectError(str(exc)) from exc
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError) as exc:
        raise httpx.RemoteProtocolError(str(exc) or "server disconnected") from exc
    except aiohttp.ClientResponseError as exc:  # a status line or header it cannot read
        raise httpx.RemoteProtocolError(_unquoted(exc.message or str(exc))) from exc
    except aiohttp.ClientOSError as exc:
        error = httpx.ReadError if reading else httpx.WriteError
        raise error(str(exc)) from exc
    except aiohttp.InvalidURL as exc:
        raise httpx.UnsupportedProtocol(f"invalid URL: {exc}") from exc
    except aiohttp.ClientError as exc:
        raise httpx.RemoteProtocolError(str(exc) or type(exc).__name__) from exc


def _unquoted(message: str) -> str:
    """The parser's reason without the bytes it quotes ("Bad status line:\\n  b'...'  ^"):
    they are the server's, and a one-line message has no room for them."""
    reason = message.split("\n", 1)[0]
    for quote in (": b'", ': b"'):
        reason = reason.split(quote, 1)[0]
    return reason.rstrip(": ") or message


class _Body(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _httpx_errors(reading=True):
            async for chunk in self._response.content.iter_any():
                yield chunk

    async def aclose(self) -> None:
        # A body not read to its end closes its connection rather than going back to the pool.
        self._response.release()


def idle_hosts() -> int:
    """MAX_IDLE_HOSTS, or as many as keep idle sockets within half the open-files limit
    (1,024 on many systems: 256 hosts, 512 sockets at most)."""
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ImportError, OSError, ValueError):  # pragma: no cover - not on Unix
        return MAX_IDLE_HOSTS
    if soft == resource.RLIM_INFINITY:
        return MAX_IDLE_HOSTS
    return max(4, min(MAX_IDLE_HOSTS, soft // 4))


class _Connector(aiohttp.TCPConnector):
    """aiohttp's connector bounds the connections in use, not the idle ones: a scan of many
    hosts kept one or two sockets open to each host it had asked in the last keep-alive
    seconds (290 after 500 requests on 250 hosts, where httpcore kept 16), and a larger
    scan would reach the 1,024 open files many systems allow. This one keeps idle
    connections to the `max_idle_hosts` hosts used last; the others' are closed.

    It extends aiohttp's `_release` and reads its `_conns` (as aiohttp 3.14 has them):
    `test_idle_connections_are_kept_for_the_hosts_used_last` fails if they change."""

    def __init__(self, *, max_idle_hosts: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._max_idle_hosts = max_idle_hosts
        self._recent: OrderedDict[ConnectionKey, None] = OrderedDict()

    def _release(
        self, key: ConnectionKey, protocol: ResponseHandler, *, should_close: bool = False
    ) -> None:
        super()._release(key, protocol, should_close=should_close)
        self._recent[key] = None
        self._recent.move_to_end(key)
        while len(self._recent) > self._max_idle_hosts:
            oldest, _ = self._recent.popitem(last=False)
            for idle, _ in self._conns.pop(oldest, ()):  # none left if reused or expired
                idle.close()

    def idle_connections(self) -> int:
        return sum(len(conns) for conns in self._conns.values())


class AiohttpTransport(httpx.AsyncBaseTransport):
    """At most `max_connections` connections, idle ones kept `keepalive_expiry` seconds;
    TLS verified as httpx verifies it."""

    def __init__(self, *, max_connections: int, keepalive_expiry: float) -> None:
        self._max_connections = max_connections
        self._keepalive_expiry = keepalive_expiry
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        # Made on first use: aiohttp binds a session to the running event loop.
        connector = _Connector(
            max_idle_hosts=idle_hosts(),
            limit=self._max_connections,
            keepalive_timeout=self._keepalive_expiry,
            ssl=httpx.create_ssl_context(),
        )
        return aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),  # httpx's client keeps the cookies
            auto_decompress=False,
            max_field_size=MAX_FIELD_SIZE,
            max_line_size=MAX_FIELD_SIZE,
            timeout=aiohttp.ClientTimeout(total=None),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._session is None:
            self._session = self._open()
        timeout = request.extensions.get("timeout", {})
        with _httpx_errors(reading=False):
            response = await self._session.request(
                request.method,
                URL(str(request.url), encoded=True),  # as httpx wrote it: no requoting
                headers=request.headers.multi_items(),
                data=await request.aread() or None,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    connect=timeout.get("pool"),
                    sock_connect=timeout.get("connect"),
                    sock_read=timeout.get("read"),
                ),
            )
        version = response.version or aiohttp.HttpVersion11
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_Body(response),
            request=request,
            extensions={
                "http_version": f"HTTP/{version.major}.{version.minor}".encode(),
                "reason_phrase": (response.reason or "").encode("latin-1", "replace"),
            },
        )

    def idle_connections(self) -> int:
        """Connections open and waiting for a next request."""
        connector = self._session.connector if self._session is not None else None
        return connector.idle_connections() if isinstance(connector, _Connector) else 0

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
