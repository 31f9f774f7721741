"""Drive one reader against the local HTTP server, as a scan would (thread executor)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from ereput.fetchers.base import ReadResult, SourceState, reader_for
from ereput.http import HttpClient
from ereput.models import FetchLimits, Source
from ereput.services.scan import _Context


def read(source: Source, state: SourceState | None = None) -> ReadResult:
    async def go() -> ReadResult:
        with ThreadPoolExecutor(1) as pool:
            async with HttpClient(FetchLimits()) as http:
                reader = reader_for(source.kind)
                assert reader is not None
                return await reader.read(source, _Context(http, pool), state or SourceState())

    return asyncio.run(go())
