"""A real HTTP/1.1 server on 127.0.0.x for tests, in a background thread.

Fetchers are tested end to end against real sockets, never a patched httpx. Routes map a
path to bytes/str, a `Response`, or a handler `(Request) -> Response | bytes | str`; a
directory can be mounted (corpus files served in place). Plain bodies get an automatic
ETag and Last-Modified and a 304 on a matching conditional request. A `Response` can also
misbehave on purpose: stall before the headers, drip the body, never end, lie in
Content-Length, reset the connection mid-body.

The server logs every request (path, headers, start and end time) and counts the most
requests it ever had in flight per Host header, so politeness can be asserted.

Use the `http_server` fixture (one server on 127.0.0.1) or `http_server_factory` (more
servers, e.g. on 127.0.0.2 as a second host); enable them with
`pytest_plugins = ["httpserver"]` in tests/conftest.py.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import itertools
import mimetypes
import os
import select
import socket
import socketserver
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

LAST_MODIFIED = "Wed, 01 Jan 2025 00:00:00 GMT"


@dataclass
class Request:
    """One request as the server saw it (header names lower-cased)."""

    method: str
    path: str  # with the query string
    headers: dict[str, str]
    body: bytes
    started: float  # time.monotonic()
    ended: float | None = None

    @property
    def host(self) -> str:
        return self.headers.get("host", "")


@dataclass
class Response:
    """What to answer, including ways to misbehave."""

    body: bytes | str | Iterable[bytes] = b""  # an iterable is sent chunk by chunk
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    stall: float = 0.0  # seconds before the status line
    drip: float = 0.0  # seconds before each chunk of an iterable body
    content_length: int | None = None  # a Content-Length to claim instead of the real one
    reset: bool = False  # abort with a TCP RST after the body
    gzip: bool = False  # gzip a bytes body when the client accepts it
    conditional: bool = True  # automatic ETag / Last-Modified / 304 for a 200 bytes body


Handler = Callable[[Request], "Response | bytes | str"]
Route = bytes | str | Response | Handler


def redirect(location: str, status: int = 302) -> Response:
    return Response(status=status, headers={"Location": location}, conditional=False)


def sequence(*answers: Response | bytes | str) -> Handler:
    """A handler answering each request with the next answer; the last one repeats."""
    lock = threading.Lock()
    items = iter(answers)
    last: list[Response | bytes | str] = [answers[-1]]

    def handle(request: Request) -> Response | bytes | str:
        with lock:
            last[0] = next(items, last[0])
            return last[0]

    return handle


def gzip_bomb(size: int, chunk: int = 1 << 20) -> bytes:
    """gzip of `size` zero bytes, built in chunks so the test itself stays small."""
    comp = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = bytes(chunk)
    parts = [comp.compress(zeros) for _ in range(size // chunk)]
    parts.append(comp.compress(bytes(size % chunk)))
    parts.append(comp.flush())
    return b"".join(parts)


def endless(chunk: bytes = b"x" * 65536) -> Iterator[bytes]:
    return itertools.repeat(chunk)


class HTTPTestServer:
    """A threaded HTTP/1.1 server on `host` and an ephemeral port. Context manager."""

    def __init__(self, host: str = "127.0.0.1", routes: dict[str, Route] | None = None) -> None:
        self.routes: dict[str, Route] = dict(routes or {})
        self.mounts: dict[str, Path] = {}
        self.log: list[Request] = []
        self.max_in_flight: dict[str, int] = {}  # per Host header
        self.last_modified = LAST_MODIFIED
        self.stopping = threading.Event()
        self._in_flight: dict[str, dict[int, socket.socket]] = {}  # per Host: handlers
        self._lock = threading.Lock()
        self._httpd = _Server((host, 0), _Handler)
        self._httpd.owner = self
        self.host = host
        self.port: int = self._httpd.server_address[1]
        self.origin = f"http://{host}:{self.port}"
        self.netloc = f"{host}:{self.port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> HTTPTestServer:
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop at once: wake every stalled or dripping handler, close every connection."""
        self.stopping.set()
        if self._thread.is_alive():
            self._httpd.shutdown()
        self._httpd.abort_connections()
        self._httpd.server_close()  # joins the handler threads

    def __enter__(self) -> HTTPTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url(self, path: str = "/") -> str:
        return self.origin + path

    def mount(self, prefix: str, directory: str | os.PathLike[str]) -> None:
        """Serve the files under `directory` at `prefix` (read in place)."""
        self.mounts[prefix.rstrip("/") + "/"] = Path(directory)

    def requests(self, path: str | None = None) -> list[Request]:
        with self._lock:
            return [r for r in self.log if path is None or r.path == path]

    @property
    def connections(self) -> int:
        """Connections accepted so far (a client reusing one counts once)."""
        return self._httpd.accepted

    def hits(self, path: str) -> int:
        return len(self.requests(path))

    def wait(self, seconds: float) -> bool:
        """Sleep unless the server is stopping; True when it is."""
        return self.stopping.wait(seconds)

    # --- called from handler threads -------------------------------------------------------

    def _enter(self, request: Request, conn: socket.socket) -> None:
        with self._lock:
            self.log.append(request)
            active = self._in_flight.setdefault(request.host, {})
            active[id(request)] = conn
            # A handler still stalling or dripping for a client that has hung up is not
            # in flight for that client: count only the connections it keeps open.
            n = sum(c is conn or not _client_gone(c) for c in active.values())
            self.max_in_flight[request.host] = max(self.max_in_flight.get(request.host, 0), n)

    def _leave(self, request: Request) -> None:
        with self._lock:
            request.ended = time.monotonic()
            self._in_flight[request.host].pop(id(request), None)

    def _answer(self, request: Request) -> Response:
        path = request.path
        route = self.routes.get(path)
        if route is None:
            route = self.routes.get(urlsplit(path).path)
        if route is None:
            route = self._from_mounts(urlsplit(path).path)
        if route is None:
            return Response(b"not found", status=404, conditional=False)
        if callable(route) and not isinstance(route, Response):
            route = route(request)
        return route if isinstance(route, Response) else Response(route)

    def _from_mounts(self, path: str) -> Response | None:
        for prefix, root in self.mounts.items():
            if path.startswith(prefix):
                file = (root / unquote(path[len(prefix) :])).resolve()
                if file.is_file() and file.is_relative_to(root.resolve()):
                    ctype = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
                    return Response(file.read_bytes(), headers={"Content-Type": ctype})
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins handlers: nothing outlives the test
    block_on_close = True
    owner: HTTPTestServer

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        self.accepted = 0  # connections accepted so far
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)  # skip HTTPServer's reverse DNS look-up
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, addr = super().get_request()
        with self._connections_lock:
            self._connections.add(conn)
            self.accepted += 1
        return conn, addr

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def abort_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)  # wakes a handler blocked on keep-alive

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up on a misbehaving response are expected, not errors."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        request = Request(
            method=self.command,
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
            started=time.monotonic(),
        )
        owner._enter(request, self.connection)
        try:
            self._send(owner._answer(request), request)
        except OSError:  # the client hung up (BrokenPipe, ConnectionReset…)
            self.close_connection = True
        finally:
            owner._leave(request)

    def _stall(self, seconds: float) -> bool:
        """Wait before answering; True when the server stops or the client hangs up first
        (so that `max_in_flight` counts what the client really has in flight)."""
        owner = self.server.owner
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if owner.wait(min(left, 0.02)) or _client_gone(self.connection):
                return True
        return False

    def _send(self, answer: Response, request: Request) -> None:
        owner = self.server.owner
        if answer.stall and self._stall(answer.stall):
            self.close_connection = True
            return
        status, headers = answer.status, dict(answer.headers)
        body = answer.body.encode() if isinstance(answer.body, str) else answer.body
        chunks: Iterable[bytes]
        if isinstance(body, bytes | bytearray):
            body = bytes(body)
            if answer.conditional and status == 200:
                headers.setdefault("ETag", '"' + hashlib.sha256(body).hexdigest()[:16] + '"')
                headers.setdefault("Last-Modified", owner.last_modified)
                if _not_modified(request.headers, headers["ETag"], headers["Last-Modified"]):
                    status, body = 304, b""
            if (
                answer.gzip
                and status == 200
                and "gzip" in request.headers.get("accept-encoding", "")
            ):
                body = gzip.compress(body)
                headers["Content-Encoding"] = "gzip"
            chunks, length = [body], len(body)
        else:
            chunks, length = body, None
        claimed = answer.content_length if answer.content_length is not None else length
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status == 304 or request.method == "HEAD":
            chunks = []
        elif claimed is not None:
            self.send_header("Content-Length", str(claimed))
        if claimed is None or claimed != length or answer.reset:
            self.send_header("Connection", "close")  # the body ends when the socket does
            self.close_connection = True
        self.end_headers()
        for chunk in chunks:
            if answer.drip and owner.wait(answer.drip):
                break
            self.wfile.write(chunk)
            if owner.stopping.is_set():
                break
        if answer.reset:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            os.close(self.connection.detach())  # linger 0: close sends RST, not FIN


def _client_gone(conn: socket.socket) -> bool:
    """True once the client has closed its side (a readable socket with nothing to read),
    or the handler has closed the socket itself."""
    try:
        readable, _, _ = select.select([conn], [], [], 0)
        return bool(readable) and conn.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):  # ValueError: detached (fileno -1) by a reset
        return True


def _not_modified(headers: dict[str, str], etag: str, last_modified: str) -> bool:
    if "if-none-match" in headers:  # RFC 9110 §13.2.2: it takes precedence
        tags = [t.strip() for t in headers["if-none-match"].split(",")]
        return "*" in tags or etag in tags or f"W/{etag}" in tags
    if "if-modified-since" in headers:
        try:
            since = parsedate_to_datetime(headers["if-modified-since"])
            return parsedate_to_datetime(last_modified) <= since
        except (TypeError, ValueError):
            return False
    return False


@pytest.fixture
def http_server() -> Iterator[HTTPTestServer]:
    """A running server on 127.0.0.1; set `http_server.routes[path] = ...`."""
    with HTTPTestServer() as server:
        yield server


@pytest.fixture
def http_server_factory() -> Iterator[Callable[..., HTTPTestServer]]:
    """Start more servers, e.g. `http_server_factory("127.0.0.2")` for a second host."""
    servers: list[HTTPTestServer] = []

    def make(host: str = "127.0.0.1", routes: dict[str, Route] | None = None) -> HTTPTestServer:
        server = HTTPTestServer(host, routes).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()
