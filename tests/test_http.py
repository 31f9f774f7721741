"""The shared HTTP layer against a real local server: politeness, bounds, SPEC §7."""

from __future__ import annotations

import asyncio
import gzip
import itertools
import re
import socket
import threading
import time
import tracemalloc
import zlib
from functools import cache
from typing import Any

import pytest

from ereput.errors import (
    BodyTooLarge,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    RetryLater,
    RobotsDisallowed,
)
from ereput.http import FetchResult, HttpClient
from ereput.http_transport import AiohttpTransport
from ereput.models import FetchLimits
from httpserver import HTTPTestServer, Request, Response, endless, gzip_bomb, redirect, sequence

KIB, MIB = 1024, 1024 * 1024
FAST = FetchLimits(
    connect_timeout=1.0,
    read_timeout=2.0,
    deadline=3.0,
    max_body=MIB,
    max_redirects=3,
    retries=1,
    max_retry_after=2.0,
)


def fetch(url: str, limits: FetchLimits = FAST, **kwargs: Any) -> FetchResult:
    async def go() -> FetchResult:
        async with HttpClient(limits, backoff=0.01) as http:
            return await http.get(url, **kwargs)

    return asyncio.run(go())


def fetch_many(urls: list[str], limits: FetchLimits = FAST, **kwargs: Any) -> list[FetchResult]:
    async def go() -> list[FetchResult]:
        async with HttpClient(limits, backoff=0.01, **kwargs) as http:
            return await asyncio.gather(*(http.get(u) for u in urls))

    return asyncio.run(go())


def slow(seconds: float) -> Any:
    def handle(request: Request) -> bytes:
        time.sleep(seconds)
        return b"ok"

    return handle


# --- plain GET, conditional GET ---------------------------------------------------------


def test_get_returns_body_validators_and_sends_our_user_agent(http_server: HTTPTestServer) -> None:
    http_server.routes["/feed.xml"] = Response("<rss/>", headers={"Content-Type": "text/xml"})
    res = fetch(http_server.url("/feed.xml"), accept="application/rss+xml")
    assert (res.status, res.body, res.content_type) == (200, b"<rss/>", "text/xml")
    assert res.etag and res.last_modified and not res.not_modified
    assert res.headers["content-type"] == "text/xml"
    sent = http_server.requests("/feed.xml")[0].headers
    assert sent["user-agent"].startswith("ereput/")
    assert sent["accept"] == "application/rss+xml"
    assert sent["accept-encoding"].startswith("gzip, deflate")


def test_conditional_get_sends_validators_verbatim_and_gets_304(
    http_server: HTTPTestServer,
) -> None:
    http_server.routes["/feed"] = b"<rss>1</rss>"
    first = fetch(http_server.url("/feed"))
    again = fetch(http_server.url("/feed"), etag=first.etag, last_modified=first.last_modified)
    assert again.not_modified and again.status == 304 and again.body == b""
    assert (again.etag, again.last_modified) == (first.etag, first.last_modified)
    sent = http_server.requests("/feed")[1].headers
    assert sent["if-none-match"] == first.etag
    assert sent["if-modified-since"] == first.last_modified
    by_date = fetch(http_server.url("/feed"), last_modified=first.last_modified)
    assert by_date.not_modified
    changed = fetch(http_server.url("/feed"), etag='"stale"')
    assert changed.status == 200 and changed.body == b"<rss>1</rss>"


def test_gzip_and_deflate_are_decoded(http_server: HTTPTestServer) -> None:
    text = b"hello " * 1000
    http_server.routes["/gz"] = Response(text, gzip=True)
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    http_server.routes["/raw-deflate"] = Response(
        raw.compress(text) + raw.flush(), headers={"Content-Encoding": "deflate"}
    )
    http_server.routes["/zlib-deflate"] = Response(
        zlib.compress(text), headers={"Content-Encoding": "deflate"}
    )
    assert fetch(http_server.url("/gz")).body == text
    assert http_server.requests("/gz")[0].headers["accept-encoding"].startswith("gzip")
    assert fetch(http_server.url("/raw-deflate")).body == text
    assert fetch(http_server.url("/zlib-deflate")).body == text


def test_final_http_error_names_status_and_url(http_server: HTTPTestServer) -> None:
    with pytest.raises(HTTPStatusError) as err:
        fetch(http_server.url("/missing"))
    assert (
        err.value.status == 404 and str(err.value) == f"HTTP 404 from {http_server.url('/missing')}"
    )
    assert http_server.hits("/missing") == 1  # a 4xx is not retried


# --- concurrency -------------------------------------------------------------------------


def test_at_most_two_per_host_while_hosts_run_in_parallel(http_server_factory: Any) -> None:
    a = http_server_factory("127.0.0.1", {"/slow": slow(0.15)})
    b = http_server_factory("127.0.0.2", {"/slow": slow(0.15)})
    urls = [a.url(f"/slow?{i}") for i in range(6)] + [b.url(f"/slow?{i}") for i in range(6)]
    assert all(r.body == b"ok" for r in fetch_many(urls))
    assert a.max_in_flight == {a.netloc: 2}
    assert b.max_in_flight == {b.netloc: 2}
    overlap = any(
        x.started < (y.ended or 0) and y.started < (x.ended or 0)
        for x in a.requests()
        for y in b.requests()
    )
    assert overlap, "the two hosts were served one after the other"


def test_global_concurrency_cap_counts_every_host(http_server_factory: Any) -> None:
    a = http_server_factory("127.0.0.1", {"/slow": slow(0.05)})
    b = http_server_factory("127.0.0.2", {"/slow": slow(0.05)})
    urls = [a.url(f"/slow?{i}") for i in range(3)] + [b.url(f"/slow?{i}") for i in range(3)]
    fetch_many(urls, concurrency=1)
    # Each answer takes 0.05 s, so one at a time means starts at least 0.05 s apart. (The
    # server's own end time can come after the client has its answer and has moved on.)
    starts = sorted(r.started for r in a.requests() + b.requests() if r.path.startswith("/slow"))
    assert len(starts) == 6
    assert all(later - earlier >= 0.05 for earlier, later in itertools.pairwise(starts))


# --- time limits -------------------------------------------------------------------------


def test_deadline_stops_a_slow_drip(http_server: HTTPTestServer) -> None:
    """Each chunk arrives well within the read time-out; the whole body never does."""
    http_server.routes["/drip"] = Response([b"x"] * 100, drip=0.05, content_length=100)
    limits = FetchLimits(read_timeout=1.0, deadline=0.6, retries=2)
    start = time.monotonic()
    with pytest.raises(FetchTimeout, match=r"timed out after 0.6 s \(deadline\) fetching http://"):
        fetch(http_server.url("/drip"), limits)
    assert time.monotonic() - start < 1.5  # the deadline is final: no retry
    assert http_server.hits("/drip") == 1


@pytest.mark.parametrize(
    ("read_timeout", "deadline", "message"),
    [(0.3, 5.0, "read timed out after 0.3 s"), (5.0, 0.3, "(deadline)")],
)
def test_stall_before_headers(
    http_server: HTTPTestServer, read_timeout: float, deadline: float, message: str
) -> None:
    http_server.routes["/stall"] = Response(b"late", stall=10)
    limits = FetchLimits(read_timeout=read_timeout, deadline=deadline, retries=0)
    start = time.monotonic()
    with pytest.raises(FetchTimeout, match=message):
        fetch(http_server.url("/stall"), limits)
    assert time.monotonic() - start < 1.5


# --- size limits -------------------------------------------------------------------------


@cache
def bomb() -> bytes:
    return gzip_bomb(100 * MIB)


def test_compression_bomb_fails_fast_without_large_memory(http_server: HTTPTestServer) -> None:
    http_server.routes["/bomb"] = Response(bomb(), headers={"Content-Encoding": "gzip"})
    tracemalloc.start()
    start = time.monotonic()
    try:
        with pytest.raises(BodyTooLarge, match="decompressed body over the 1 MiB cap"):
            fetch(http_server.url("/bomb"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.monotonic() - start < 3
    assert peak < 12 * MIB


def test_nested_bomb_is_capped_at_every_stage(http_server: HTTPTestServer) -> None:
    http_server.routes["/bomb2"] = Response(
        gzip.compress(bomb()), headers={"Content-Encoding": "gzip, gzip"}
    )
    with pytest.raises(BodyTooLarge):
        fetch(http_server.url("/bomb2"))


def test_raw_body_cap_endless_and_declared(http_server: HTTPTestServer) -> None:
    http_server.routes["/endless"] = Response(endless())
    http_server.routes["/big"] = Response(b"x" * (MIB + 1))
    with pytest.raises(BodyTooLarge, match="body over the 1 MiB cap"):
        fetch(http_server.url("/endless"))
    with pytest.raises(BodyTooLarge, match="1048577 bytes is over the 1 MiB cap"):
        fetch(http_server.url("/big"))


def test_stacked_encodings_up_to_the_limit(http_server: HTTPTestServer) -> None:
    text = b"twice compressed"
    http_server.routes["/two"] = Response(
        gzip.compress(gzip.compress(text)), headers={"Content-Encoding": "gzip, gzip"}
    )
    http_server.routes["/three"] = Response(
        gzip.compress(gzip.compress(gzip.compress(text))),
        headers={"Content-Encoding": "gzip, gzip, gzip"},
    )
    http_server.routes["/zstd"] = Response(b"?", headers={"Content-Encoding": "zstd"})
    assert fetch(http_server.url("/two")).body == text
    with pytest.raises(FetchError, match="too many content encodings"):
        fetch(http_server.url("/three"))
    with pytest.raises(FetchError, match="unsupported content encoding 'zstd'"):
        fetch(http_server.url("/zstd"))


def test_body_shorter_than_content_length_fails(http_server: HTTPTestServer) -> None:
    http_server.routes["/short"] = Response([b"only ten b"], content_length=100)
    with pytest.raises(FetchError, match="shorter than its Content-Length"):
        fetch(http_server.url("/short"))
    assert http_server.hits("/short") == 2  # a cut-off transfer is retried once


def test_connection_reset_mid_body_fails(http_server: HTTPTestServer) -> None:
    http_server.routes["/reset"] = Response([b"x" * 1000], content_length=100_000, reset=True)
    with pytest.raises(FetchError, match="/reset"):
        fetch(http_server.url("/reset"))


def raw_server(answer: bytes) -> tuple[str, socket.socket]:
    """A TCP server on 127.0.0.1 that answers every request with these bytes, as they are
    (robots.txt included), then closes: what no HTTP server library would send."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)

    def run() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                request = b""
                while b"\r\n\r\n" not in request and (chunk := conn.recv(65536)):
                    request += chunk
                conn.sendall(answer)
                conn.shutdown(socket.SHUT_WR)

    threading.Thread(target=run, daemon=True).start()
    return f"http://127.0.0.1:{server.getsockname()[1]}/feed", server


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (b"HELLO\r\n\r\n", "Bad status line"),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nokay", "Data after"),
        (b"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n", "Invalid header"),
        (
            b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70_000 + b"\r\n\r\n",
            "Got more than 65536 bytes when reading",
        ),
        (b"", "Server disconnected"),
    ],
)
def test_answers_that_are_not_http_fail_with_one_line(answer: bytes, message: str) -> None:
    """The first request to an origin is its robots.txt: what it cannot read disallows."""
    url, server = raw_server(answer)
    pattern = rf"robots\.txt unreachable: connection lost \({message}.*\): http://127"
    with server, pytest.raises(RobotsDisallowed, match=pattern) as failure:
        fetch(url)
    assert "\n" not in str(failure.value) and "b'" not in str(failure.value)


def test_a_long_header_line_is_read(http_server: HTTPTestServer) -> None:
    """20 KB of cookie: over aiohttp's default line size, within ours."""
    cookie = "a=" + "b" * 20_000
    http_server.routes["/feed"] = Response(b"<rss/>", headers={"Set-Cookie": cookie})
    assert fetch(http_server.url("/feed")).body == b"<rss/>"


def test_truncated_gzip_fails(http_server: HTTPTestServer) -> None:
    http_server.routes["/cut"] = Response(
        gzip.compress(b"y" * 10_000)[:-20], headers={"Content-Encoding": "gzip"}
    )
    with pytest.raises(FetchError, match="truncated gzip body"):
        fetch(http_server.url("/cut"))


# --- redirects ---------------------------------------------------------------------------


def test_redirect_chain_is_followed_to_the_final_url(http_server: HTTPTestServer) -> None:
    http_server.routes["/a"] = redirect("/b", 301)
    http_server.routes["/b"] = redirect(http_server.url("/c"), 308)
    http_server.routes["/c"] = b"final"
    res = fetch(http_server.url("/a"))
    assert (res.url, res.body) == (http_server.url("/c"), b"final")


def test_redirect_loop_fails(http_server: HTTPTestServer) -> None:
    http_server.routes["/loop"] = redirect("/loop")
    with pytest.raises(FetchError, match="too many redirects"):
        fetch(http_server.url("/loop"))
    assert http_server.hits("/loop") == FAST.max_redirects + 1


@pytest.mark.parametrize(
    "target", ["file:///etc/passwd", "ftp://example.org/x", "javascript:alert(1)", "data:,x"]
)
def test_redirect_to_non_http_fails(http_server: HTTPTestServer, target: str) -> None:
    http_server.routes["/evil"] = redirect(target)
    with pytest.raises(FetchError, match="redirect to a non-http"):
        fetch(http_server.url("/evil"), allow_file=True)


# --- retries and Retry-After ---------------------------------------------------------------


def test_503_then_200_succeeds_after_one_retry(http_server: HTTPTestServer) -> None:
    http_server.routes["/flaky"] = sequence(Response(status=503), b"back")
    assert fetch(http_server.url("/flaky")).body == b"back"
    assert http_server.hits("/flaky") == 2


def test_persistent_5xx_fails_after_retries(http_server: HTTPTestServer) -> None:
    http_server.routes["/down"] = Response(status=500)
    with pytest.raises(HTTPStatusError, match="HTTP 500"):
        fetch(http_server.url("/down"))
    assert http_server.hits("/down") == FAST.retries + 1


def test_429_retry_after_is_waited_then_retried(http_server: HTTPTestServer) -> None:
    http_server.routes["/busy"] = sequence(
        Response(status=429, headers={"Retry-After": "1"}), b"served"
    )
    start = time.monotonic()
    assert fetch(http_server.url("/busy")).body == b"served"
    assert time.monotonic() - start >= 1.0
    first, second = http_server.requests("/busy")
    assert second.started - first.started >= 1.0


def test_retry_after_is_honoured_only_once(http_server: HTTPTestServer) -> None:
    http_server.routes["/busy"] = Response(status=503, headers={"Retry-After": "0"})
    with pytest.raises(RetryLater):
        fetch(http_server.url("/busy"))
    assert http_server.hits("/busy") == 2


@pytest.mark.parametrize("value", ["3600", "Fri, 01 Jan 2100 00:00:00 GMT"])
def test_long_retry_after_raises_retry_later_at_once(
    http_server: HTTPTestServer, value: str
) -> None:
    http_server.routes["/later"] = Response(status=429, headers={"Retry-After": value})
    start = time.monotonic()
    with pytest.raises(RetryLater) as err:
        fetch(http_server.url("/later"))
    assert time.monotonic() - start < 1
    assert err.value.until >= time.time() + 3500
    assert err.value.url == http_server.url("/later")
    assert "Z (Retry-After)" in str(err.value)  # an ISO UTC time, not epoch seconds
    assert http_server.hits("/later") == 1


# --- robots.txt ----------------------------------------------------------------------------


def test_robots_disallow_all(http_server: HTTPTestServer) -> None:
    http_server.routes["/robots.txt"] = "User-agent: *\nDisallow: /\n"
    http_server.routes["/page"] = b"secret"
    with pytest.raises(RobotsDisallowed, match=r"disallowed by robots\.txt"):
        fetch(http_server.url("/page"))
    assert http_server.hits("/page") == 0


def test_robots_group_for_our_token(http_server: HTTPTestServer) -> None:
    http_server.routes["/robots.txt"] = (
        "User-agent: otherbot\nDisallow:\n\nUser-agent: ereput\nDisallow: /private\n"
    )
    http_server.routes["/public"] = b"ok"
    assert fetch(http_server.url("/public")).body == b"ok"
    with pytest.raises(RobotsDisallowed):
        fetch(http_server.url("/private/x"))


def test_robots_404_allows_everything(http_server: HTTPTestServer) -> None:
    http_server.routes["/page"] = b"open"
    assert fetch(http_server.url("/page")).body == b"open"
    assert http_server.hits("/robots.txt") == 1


def test_robots_5xx_disallows_everything(http_server: HTTPTestServer) -> None:
    http_server.routes["/robots.txt"] = Response(status=500)
    http_server.routes["/page"] = b"open"
    with pytest.raises(RobotsDisallowed, match=r"robots.txt unreachable: HTTP 500"):
        fetch(http_server.url("/page"))
    assert http_server.hits("/page") == 0


def test_robots_unreachable_host_disallows() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(RobotsDisallowed, match=r"robots\.txt unreachable: cannot connect"):
        fetch(f"http://127.0.0.1:{port}/feed")


def test_robots_fetched_once_for_many_requests(http_server: HTTPTestServer) -> None:
    http_server.routes["/robots.txt"] = Response("User-agent: *\nAllow: /\n", stall=0.1)
    http_server.routes["/page"] = b"ok"
    fetch_many([http_server.url(f"/page?{i}") for i in range(10)])
    assert http_server.hits("/robots.txt") == 1
    assert max(http_server.max_in_flight.values()) <= 2  # robots.txt counts in the cap


def test_robots_applies_to_each_redirect_hop(http_server_factory: Any) -> None:
    closed = http_server_factory("127.0.0.2", {"/robots.txt": "User-agent: *\nDisallow: /\n"})
    start = http_server_factory("127.0.0.1", {"/go": redirect(closed.url("/page"))})
    with pytest.raises(RobotsDisallowed, match=re.escape(closed.url("/page"))):
        fetch(start.url("/go"))
    assert closed.hits("/page") == 0


# --- file:// and schemes -------------------------------------------------------------------


def test_file_urls_only_when_asked(tmp_path: Any) -> None:
    saved = tmp_path / "topic page.html"
    saved.write_bytes(b"<html>saved</html>")
    url = saved.as_uri()
    with pytest.raises(FetchError, match="only read when the watchlist names them"):
        fetch(url)
    res = fetch(url, allow_file=True)
    assert (res.status, res.body, res.content_type) == (200, b"<html>saved</html>", "text/html")
    big = tmp_path / "big.xml"
    big.write_bytes(b"x" * (MIB + 1))
    with pytest.raises(BodyTooLarge):
        fetch(big.as_uri(), allow_file=True)
    with pytest.raises(FetchError, match="cannot read"):
        fetch((tmp_path / "absent.xml").as_uri(), allow_file=True)


def test_other_schemes_are_refused() -> None:
    with pytest.raises(FetchError, match="unsupported URL scheme 'ftp'"):
        fetch("ftp://example.org/feed")


def test_idle_connections_are_kept_for_the_hosts_used_last(
    http_server_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """aiohttp bounds the connections in use only: without our cap, one idle socket per
    host asked stays open for the keep-alive time (a scan of thousands of hosts would run
    out of file descriptors)."""
    monkeypatch.setattr("ereput.http_transport.idle_hosts", lambda: 4)
    # robots.txt answered 200 and read to its end, so its connection serves the page too
    routes = {"/robots.txt": "User-agent: *\nAllow: /\n", "/page": b"ok"}
    servers = [http_server_factory(f"127.0.0.{20 + i}", dict(routes)) for i in range(12)]
    transport = AiohttpTransport(max_connections=16, keepalive_expiry=30)

    async def go() -> int:
        async with HttpClient(FAST, transport=transport) as http:
            for server in servers:  # one host after the other: each leaves an idle socket
                await http.get(server.url("/page"))
            idle = transport.idle_connections()
            await http.get(servers[-1].url("/page"))  # the last host's socket is reused
            return idle

    assert asyncio.run(go()) == 4
    assert [s.connections for s in servers] == [1] * 12  # the last host's was reused
    assert all(s.hits("/page") == 1 for s in servers[:-1])


@pytest.mark.parametrize(("soft", "hosts"), [(64, 16), (1024, 256), (1 << 20, 256), (8, 4)])
def test_idle_hosts_keep_idle_sockets_within_half_the_open_files_limit(
    soft: int, hosts: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    import resource

    from ereput.http_transport import idle_hosts

    monkeypatch.setattr(resource, "getrlimit", lambda _: (soft, resource.RLIM_INFINITY))
    assert idle_hosts() == hosts
