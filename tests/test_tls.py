"""HTTPS through the scan's HTTP client (aiohttp's connections, httpx's API): certificates
are verified, as httpx verifies them, against a local TLS server."""

from __future__ import annotations

import asyncio
import http.server
import socket
import ssl
import threading
from collections.abc import Iterator
from typing import ClassVar

import pytest
import trustme

from ereput.errors import RobotsDisallowed
from ereput.http import FetchResult, HttpClient
from ereput.models import FetchLimits

FEED = b'<rss version="2.0"><channel><title>t</title></channel></rss>'


class _Handler(http.server.BaseHTTPRequestHandler):
    paths: ClassVar[list[str]] = []  # each server's handler class gets its own

    def do_GET(self) -> None:
        self.paths.append(self.path)
        found = self.path == "/feed"
        self.send_response(200 if found else 404)
        body = FEED if found else b""
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_server(ca: trustme.CA) -> Iterator[tuple[str, list[str]]]:
    """An HTTPS server on 127.0.0.1 whose certificate `ca` signed; yields its base URL and
    the paths it was asked for."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    paths: list[str] = []
    handler = type("Handler", (_Handler,), {"paths": paths})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}", paths
    server.shutdown()
    server.server_close()


def fetch(url: str) -> FetchResult:
    async def go() -> FetchResult:
        async with HttpClient(FetchLimits(retries=0, connect_timeout=5, read_timeout=5)) as http:
            return await http.get(url)

    return asyncio.run(go())


def test_a_certificate_from_an_unknown_authority_is_refused(tls_server) -> None:
    base, paths = tls_server
    with pytest.raises(RobotsDisallowed) as failure:
        fetch(f"{base}/feed")
    assert str(failure.value) == (
        "robots.txt unreachable: cannot connect (certificate verify failed: unable to get "
        f"local issuer certificate): {base}/robots.txt"
    )
    assert paths == []  # nothing was asked over the unverified connection


def test_a_trusted_certificate_is_read(tls_server, ca, tmp_path, monkeypatch) -> None:
    """Trust comes from where httpx takes it (SSL_CERT_FILE here; certifi by default)."""
    base, paths = tls_server
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    res = fetch(f"{base}/feed")
    assert (res.status, res.body) == (200, FEED)
    assert paths == ["/robots.txt", "/feed"]


def test_a_certificate_for_another_name_is_refused(ca, tmp_path, monkeypatch) -> None:
    """Signed by a trusted authority, but for another host: refused all the same."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("feeds.example").configure_cert(context)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    try:
        with pytest.raises(
            RobotsDisallowed, match=r"cannot connect \(certificate verify .*mismatch"
        ):
            fetch(f"https://127.0.0.1:{server.server_address[1]}/feed")
    finally:
        server.shutdown()
        server.server_close()


def test_tls_to_a_plain_http_port_says_so() -> None:
    """A port that answers in plain HTTP: a TLS error, not "operation not permitted" (the
    SSL error's errno is OpenSSL's code, not the system's)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)

        def answer() -> None:
            conn, _ = server.accept()
            with conn:
                conn.recv(4096)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

        threading.Thread(target=answer, daemon=True).start()
        url = f"https://127.0.0.1:{server.getsockname()[1]}/feed"
        with pytest.raises(RobotsDisallowed, match=r"cannot connect \(TLS error: wrong version"):
            fetch(url)
