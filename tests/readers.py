"""Drive one reader against the local HTTP server, as a scan would (thread executor)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx

from ereput.fetchers.base import ReadResult, SourceState, reader_for
from ereput.http import KEEPALIVE_EXPIRY, HttpClient
from ereput.http_transport import AiohttpTransport
from ereput.models import FetchLimits, Source
from ereput.services.scan import _Context
from httpserver import HTTPTestServer


def _transport() -> httpx.AsyncBaseTransport:
    return AiohttpTransport(max_connections=16, keepalive_expiry=KEEPALIVE_EXPIRY)


class ToServer(httpx.AsyncBaseTransport):
    """Sends every request, whatever its URL's host and scheme, to one local test server
    (the Host header keeps the name asked for): pages that link to their real hosts
    (ActivityPub ids, actors) are served from 127.0.0.1 and nothing reaches the network."""

    def __init__(self, server: HTTPTestServer) -> None:
        self.host, self.port = server.host, server.port
        self.inner = _transport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme="http", host=self.host, port=self.port)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()
        self.inner = _transport()  # the next read() may use this one again


def read(
    source: Source,
    state: SourceState | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ReadResult:
    async def go() -> ReadResult:
        with ThreadPoolExecutor(1) as pool:
            async with HttpClient(FetchLimits(), transport=transport) as http:
                reader = reader_for(source.kind)
                assert reader is not None
                return await reader.read(source, _Context(http, pool), state or SourceState())

    return asyncio.run(go())
