"""`ereput demo`: a small web about a fictitious brand, served on 127.0.0.1, scanned for real.

The site's files are templates: `{{base}}` becomes the server's address, and
`{{rfc822:+2 09:30}}` / `{{iso:-3 10:00}}` become dates counted in days from the Monday of
the last complete week, so the demo's default report (that week) is never empty.

Files are served by their path; a request with a query string (`viewtopic.php?t=31&start=3`,
as forum engines link their pages) is answered by the file named `viewtopic.php@t=31&start=3`
when there is one, else by the file without the query. Every demo site shares the one host
127.0.0.1, so forum user ids must differ from one forum to the other (a platform's user id is
an identifier `id@host`: the same number on two forums would make one person of two).
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from rich.console import Console

from ereput.render.report import print_text_report
from ereput.render.rows import to_json
from ereput.store import Store

DEMO_HOST = "http://demo.localhost"
TIMEZONE = "Europe/Paris"
_TOKEN = re.compile(r"\{\{(base|rfc822|iso)(?::([+-]\d+) (\d\d):(\d\d))?\}\}")


def _monday_of_last_week(today: date) -> date:
    return today - timedelta(days=today.weekday() + 7)


def render_template(text: str, base: str, today: date) -> str:
    monday = _monday_of_last_week(today)
    zone = ZoneInfo(TIMEZONE)

    def sub(m: re.Match[str]) -> str:
        if m.group(1) == "base":
            return base
        day = monday + timedelta(days=int(m.group(2)))
        dt = datetime.combine(day, time(int(m.group(3)), int(m.group(4))), zone)
        return format_datetime(dt) if m.group(1) == "rfc822" else dt.isoformat()

    return _TOKEN.sub(sub, text)


def site_files() -> dict[str, bytes]:
    """Every file of the bundled site, by URL path."""
    root = resources.files("ereput.demo") / "site"
    files: dict[str, bytes] = {}

    def walk(node: Any, prefix: str) -> None:
        for child in node.iterdir():
            if child.is_dir():
                walk(child, f"{prefix}{child.name}/")
            else:
                files[f"{prefix}{child.name}"] = child.read_bytes()

    walk(root, "/")
    return files


class _Handler(BaseHTTPRequestHandler):
    server_version = "ereput-demo"
    pages: ClassVar[dict[str, tuple[bytes, str, str]]] = {}

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        if path.endswith("/"):
            path += "index.html"
        page = self.pages.get(f"{path}@{query}") if query else None
        page = page or self.pages.get(path)
        if page is None:
            self.send_error(404)
            return
        body, ctype, etag = page
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve(today: date | None = None) -> Iterator[str]:
    """Serve the demo site on 127.0.0.1 (an ephemeral port); yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    day = today or date.today()
    pages = {}
    for path, raw in site_files().items():
        body = render_template(raw.decode("utf-8"), base, day).encode("utf-8")
        name = path.rsplit("@", 1)[0] if "@" in Path(path).name else path
        ctype = {
            ".json": "application/json",
            ".atom": "application/atom+xml",
            ".rss": "application/rss+xml",
            ".xml": "application/rss+xml",
            ".php": "text/html",
        }.get(Path(name).suffix, mimetypes.guess_type(name)[0] or "application/octet-stream")
        if Path(name).name == "feed.json":
            ctype = "application/feed+json"
        if ctype.startswith("text/") or ctype.endswith(("xml", "json")):
            ctype += "; charset=utf-8"
        pages[path] = (body, ctype, '"' + hashlib.sha1(body).hexdigest()[:16] + '"')
    handler = type("DemoHandler", (_Handler,), {"pages": pages})
    server.RequestHandlerClass = handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()


def watchlist_text(base: str) -> str:
    text = (resources.files("ereput.demo") / "acme-demo.toml").read_text(encoding="utf-8")
    return text.replace(DEMO_HOST, base)


def run_demo(
    db: Path | None, fmt: str, *, console: Console, err: Console, quiet: bool = False
) -> None:
    """Serve the demo web, scan it (twice: the second costs only 304s), print the report."""
    from ereput.services.report import build_report, period_for
    from ereput.services.scan import scan
    from ereput.watchlist import load_watchlists

    with tempfile.TemporaryDirectory(prefix="ereput-demo-") as tmp, serve() as base:
        wl_path = Path(tmp) / "acme-demo.toml"
        wl_path.write_text(watchlist_text(base), encoding="utf-8")
        watchlists = load_watchlists([wl_path])
        with Store.open(db or Path(tmp) / "demo.db") as store:
            first = scan(watchlists, store)
            second = scan(watchlists, store)
            if not quiet:
                err.print(
                    f"demo: a small web about Acme Cloud is served on {base}\n"
                    f"demo: scan 1: {first.sources} sources, {first.new} new mentions, "
                    f"{len(first.failed)} failed\n"
                    f"demo: scan 2: {second.new} new; {second.not_modified} of "
                    f"{second.sources} sources answered 304 Not Modified"
                )
                for f in first.failed:
                    err.print(f"demo: source {f['source']} failed: {f['error']}")
            wl = watchlists[0]
            data = build_report(store, wl, period_for(wl.timezone))
    if fmt == "json":
        console.file.write(to_json(data) + "\n")
    elif fmt == "md":
        from ereput.render.report import markdown_report

        console.file.write(markdown_report(data))
    elif fmt == "html":
        from ereput.render.html import html_report

        console.file.write(html_report(data))
    else:
        print_text_report(data, console)
    if not quiet and db is None:
        err.print(
            "demo: the database was temporary; keep one with `ereput demo --db demo.db`, "
            "then explore it: `ereput --db demo.db -w watchlists/demo.toml mentions`"
        )
