"""A hostile web, end to end (SPEC §6 "Bounded", §7 fetch limits, failure rules, hostile
content): a full `ereput scan` over a watchlist mixing hostile sources with healthy ones
ends by itself in bounded time and memory, names each failing source, stores every healthy
one, and lets nothing hostile into the database.

The HttpClient-level cases live in test_http.py; here each misbehaviour is one source of a
real scan, run as the real CLI in a subprocess so that its peak memory can be measured.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import zlib
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ereput.cli import app
from ereput.http import _BROTLI
from feedsite import Entry, database_text, mention_rows, rss, watchlist
from httpserver import HTTPTestServer, Response, endless, gzip_bomb, redirect, sequence

MIB = 1024 * 1024
LIMITS = {
    "connect_timeout": 1.0,
    "read_timeout": 1.5,
    "deadline": 3.0,
    "max_body": 2 * MIB,
    "max_redirects": 3,
    "retries": 1,
    "max_retry_after": 2.0,
}
# What one scan of ~35 sources may cost at most, hostile ones included: the slowest
# source is bounded by the deadline and its retry, and per-host caps run hosts in parallel.
MAX_SCAN_SECONDS = 30
MAX_RSS_MIB = 400  # a 100 MiB compression bomb decoded in memory would pass this


def healthy_feed(host: str, n: int) -> bytes:
    return rss(
        Entry(f"Acme news {n}.{i} from {host}", f"http://{host}/healthy/{n}/{i}", f"Writer {n}")
        for i in range(3)
    )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# The CLI is started by this small launcher, which reports its peak RSS: a child forked
# from pytest itself would report pytest's own peak as its own (Linux keeps the high-water
# mark of the memory it was forked from), and pytest reaches ~400 MiB in this file.
_LAUNCHER = """
import os, subprocess, sys
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status) % 256)
"""


def run_cli(*args: str, cwd: Path) -> tuple[int, str, str, float, float]:
    """The real CLI in a subprocess: (exit code, stdout, stderr, seconds, peak RSS MiB of
    the CLI and its worker)."""
    out, err, rss = cwd / "stdout.txt", cwd / "stderr.txt", cwd / "maxrss.txt"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    started = time.monotonic()
    with out.open("wb") as o, err.open("wb") as e:
        argv = [sys.executable, "-c", _LAUNCHER, str(rss), sys.executable, "-m", "ereput"]
        proc = subprocess.Popen([*argv, *args], stdout=o, stderr=e, env=env, start_new_session=True)
        try:
            proc.wait()
        except BaseException:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
    elapsed = time.monotonic() - started
    peak = int(rss.read_text()) / 1024  # KiB on Linux
    return proc.returncode, out.read_text(), err.read_text(), elapsed, peak


#: What a failure message must say: this, or one of these.
Says = str | tuple[str, ...]


def says(error: str, message: Says) -> bool:
    return any(m in error for m in ((message,) if isinstance(message, str) else message))


def transport_routes() -> dict[str, tuple[Any, Says | None]]:
    """path -> (route, what the failure message must say); None: not a source itself."""
    bomb = gzip_bomb(100 * MIB)
    deflate_bomb = zlib.compress(bytes(50 * MIB), 9)
    routes: dict[str, tuple[Any, str | None]] = {
        "/stall": (Response(b"late", stall=30), "timed out"),
        "/drip": (Response([b"<"] * 400, drip=0.02, content_length=400), "(deadline)"),
        "/endless": (Response(endless()), "body over the 2 MiB cap"),
        "/gzip-bomb": (
            Response(bomb, headers={"Content-Encoding": "gzip"}),
            "decompressed body over the 2 MiB cap",
        ),
        "/deflate-bomb": (
            Response(deflate_bomb, headers={"Content-Encoding": "deflate"}),
            "decompressed body over the 2 MiB cap",
        ),
        "/nested-bomb": (
            Response(gzip.compress(bomb), headers={"Content-Encoding": "gzip, gzip"}),
            "over the 2 MiB cap",
        ),
        "/three-encodings": (
            Response(
                gzip.compress(gzip.compress(gzip.compress(b"<rss/>"))),
                headers={"Content-Encoding": "gzip, deflate, gzip"},
            ),
            "too many content encodings",
        ),
        "/redirect-loop": (redirect("/redirect-loop"), "too many redirects"),
        "/redirect-file": (redirect("file:///etc/passwd"), "redirect to a non-http(s) URL"),
        "/redirect-ftp": (redirect("ftp://127.0.0.1/feed"), "redirect to a non-http(s) URL"),
        "/redirect-js": (redirect("javascript:alert(1)"), "redirect to a non-http(s) URL"),
        "/redirect-closed": (
            redirect(f"http://127.0.0.1:{closed_port()}/feed"),
            "cannot connect",
        ),
        "/short": (Response([b"<rss>only a bit"], content_length=10_000), "Content-Length"),
        # Read to its Content-Length, or refused for the bytes after it, as the packets fall.
        "/long": (
            Response([healthy_feed("long", 0)], content_length=60),
            ("not a feed", "connection lost (Data after `Connection: close`)"),
        ),
        "/reset": (
            Response([b"<rss>" + b"x" * 5000], content_length=100_000, reset=True),
            "/reset",
        ),
        "/500": (Response(b"down", status=500, conditional=False), "HTTP 500"),
        "/html": (
            Response(
                b"<!doctype html><html><body>Acme</body></html>",
                headers={"Content-Type": "text/html"},
            ),
            "not a feed",
        ),
        "/html-file-feed": (
            Response(
                b'<html><head><link rel="alternate" type="application/rss+xml" '
                b'href="file:///etc/passwd"></head></html>',
                headers={"Content-Type": "text/html"},
            ),
            "not a feed",
        ),
        "/html-loop": (
            Response(
                b'<html><head><link rel="alternate" type="application/rss+xml" '
                b'href="/html-loop2"></head></html>',
                headers={"Content-Type": "text/html"},
            ),
            "HTML page again",
        ),
        "/image.rss": (
            Response(
                b"\x89PNG\r\n\x1a\n" + random.Random(1).randbytes(3000),
                headers={"Content-Type": "image/png"},
            ),
            "not a feed",
        ),
        "/empty": (Response(b"", headers={"Content-Type": "application/rss+xml"}), "empty"),
        "/nul": (Response(b"\x00" * 5000), "not a feed"),
        "/br": (
            Response(b"\x1b\xff\xff\xff garbage", headers={"Content-Encoding": "br"}),
            "invalid br body" if _BROTLI else "unsupported content encoding 'br'",
        ),
    }
    routes["/html-loop2"] = (
        Response(
            b'<html><head><link rel="alternate" type="application/rss+xml" href="/html-loop">'
            b"</head></html>",
            headers={"Content-Type": "text/html"},
        ),
        None,
    )
    routes["/chain0"] = (redirect("/chain1"), "too many redirects")
    for i in range(1, 6):  # a long chain of distinct URLs, longer than max_redirects
        routes[f"/chain{i}"] = (redirect(f"/chain{i + 1}"), None)
    if _BROTLI:  # pragma: no cover - depends on the installed brotli
        import brotli

        routes["/br-bomb"] = (
            Response(brotli.compress(bytes(100 * MIB)), headers={"Content-Encoding": "br"}),
            "decompressed body over the 2 MiB cap",
        )
    return routes


@pytest.mark.slow
def test_scan_over_a_hostile_web_is_bounded_and_stores_every_healthy_source(
    http_server_factory: Any, tmp_path: Path
) -> None:
    good_a = http_server_factory("127.0.0.1")
    good_b = http_server_factory("127.0.0.2")
    hostile = http_server_factory("127.0.0.1")
    robots_closed = http_server_factory(
        "127.0.0.3", {"/robots.txt": "User-agent: *\nDisallow: /\n"}
    )
    robots_closed.routes["/feed"] = healthy_feed("closed.example", 0)
    robots_down = http_server_factory("127.0.0.3", {"/robots.txt": Response(status=503)})
    robots_down.routes["/feed"] = healthy_feed("down.example", 0)

    sources: list[tuple[str, str]] = []
    healthy: set[str] = set()
    for n, server in enumerate([good_a, good_a, good_a, good_b, good_b]):
        server.routes[f"/feed{n}"] = healthy_feed(server.netloc, n)
        sources.append((f"healthy-{n}", server.url(f"/feed{n}")))
        healthy.add(f"healthy-{n}")
    # Flaky but healthy in the end: 503 then the feed; 429 with a short Retry-After.
    good_b.routes["/flaky"] = sequence(Response(status=503), healthy_feed("flaky", 9))
    good_a.routes["/busy"] = sequence(
        Response(status=429, headers={"Retry-After": "1"}, conditional=False),
        healthy_feed("busy", 8),
    )
    sources += [("flaky", good_b.url("/flaky")), ("busy", good_a.url("/busy"))]
    healthy |= {"flaky", "busy"}

    expected: dict[str, Says] = {}
    for path, (route, message) in transport_routes().items():
        hostile.routes[path] = route
        if message is None:
            continue
        name = path.strip("/").replace(".", "-").replace("/", "-")
        sources.append((name, hostile.url(path)))
        expected[name] = message
    # Retry-After holds its whole origin back: the long one gets a server of its own.
    later = http_server_factory("127.0.0.1")
    later.routes["/429"] = Response(status=429, headers={"Retry-After": "3600"}, conditional=False)
    sources.append(("429-long", later.url("/429")))
    expected["429-long"] = "(Retry-After)"
    sources.append(("robots-disallow", robots_closed.url("/feed")))
    expected["robots-disallow"] = "disallowed by robots.txt"
    sources.append(("robots-503", robots_down.url("/feed")))
    expected["robots-503"] = "robots.txt unreachable: HTTP 503"
    assert len(sources) < 40

    wl = watchlist(tmp_path / "hostile.toml", sources, fetch=LIMITS)
    db = tmp_path / "e.db"
    code, out, err, seconds, peak = run_cli(
        "--db", str(db), "-w", str(wl), "scan", "--json", cwd=tmp_path
    )
    assert code == 1, err
    assert seconds < MAX_SCAN_SECONDS
    assert peak < MAX_RSS_MIB, f"peak RSS {peak:.0f} MiB"

    summary = json.loads(out)
    failed = {f["source"].removeprefix("hostile/"): f["error"] for f in summary["failed"]}
    assert set(failed) == set(expected), (set(failed) ^ set(expected), failed)
    wrong = {
        name: failed[name] for name, message in expected.items() if not says(failed[name], message)
    }
    assert not wrong
    assert summary["ok"] == len(healthy)
    # Each failure is one named line on stderr, nothing else.
    lines = err.splitlines()
    assert len(lines) == len(expected)
    assert all(line.startswith("ereput: source hostile/") for line in lines)
    assert all(len(line) < 1000 for line in lines)

    stored = {source for source, _ in mention_rows(db)}
    assert stored == healthy
    assert len(mention_rows(db)) == 3 * len(healthy)
    # The failures are recorded, with their reasons, for `ereput sources`.
    health = CliRunner().invoke(app, ["--db", str(db), "-w", str(wl), "sources", "--json"])
    by_name = {s["source"]: s for s in json.loads(health.stdout)}
    for name, message in expected.items():
        assert by_name[name]["consecutive_failures"] == 1
        assert says(by_name[name]["last_error"], message)
    assert not any(by_name[name]["last_error"] for name in healthy)

    # Politeness under this load: never more than 2 requests in flight per host.
    for server in (good_a, good_b, hostile, later, robots_closed, robots_down):
        assert max(server.max_in_flight.values(), default=0) <= 2, server.max_in_flight
        assert server.hits("/robots.txt") == 1  # once per scan and host
    assert robots_closed.hits("/feed") == 0 and robots_down.hits("/feed") == 0
    assert hostile.hits("/chain4") == 0  # 3 redirects followed, not more
    first, second = good_a.requests("/busy")
    assert second.started - first.started >= 1.0  # Retry-After waited for


# --- hostile content -------------------------------------------------------------------------

SECRET = "TOP-SECRET-FILE-CONTENT-8c1f"
FINE = (datetime.now(UTC) - timedelta(days=2)).replace(microsecond=0)
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE rss ['
    '<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + ']><rss version="2.0"><channel><item><title>Acme &lol9;</title>'
    "<link>http://laughs.example/1</link><description>&lol9;</description></item>"
    "</channel></rss>"
)


def xxe_feed(secret_file: Path, dtd_url: str) -> bytes:
    return (
        '<?xml version="1.0"?>'
        f'<!DOCTYPE rss SYSTEM "{dtd_url}" ['
        f'<!ENTITY xxe SYSTEM "{secret_file.as_uri()}">'
        f'<!ENTITY % remote SYSTEM "{dtd_url}"> %remote;]>'
        '<rss version="2.0"><channel><item><title>Acme &xxe;</title>'
        "<link>http://xxe.example/1</link><description>&xxe; Acme</description>"
        f'<enclosure url="{secret_file.as_uri()}"/></item></channel></rss>'
    ).encode()


def split_run(n: int, piece: str = "<!---->") -> str:
    """A name without spaces of n KiB, split by markup that XML readers join again."""
    return ("a" * 200 + piece) * (n * 1024 // 200)


def hostile_content(secret_file: Path, dtd_url: str) -> dict[str, bytes]:
    many = "".join(
        f"<item><title>entry {i}</title><link>http://many.example/{i}</link></item>"
        for i in range(50_000)
    )
    huge = (
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><item>'
        f"<title>Acme {'T' * MIB}</title><link>http://huge.example/1</link>"
        f"<dc:creator>{'N' * MIB}</dc:creator><description>{'word ' * 400_000}</description>"
        "</item><item><title>Acme split author</title><link>http://huge.example/2</link>"
        f"<author>{split_run(256)}</author></item><item><title>Acme atom-ish</title>"
        f"<link>http://huge.example/3</link><dc:creator>{split_run(256, '<?pi?>')}</dc:creator>"
        "</item></channel></rss>"
    )
    dates = rss(
        [
            Entry("Acme in 1800", "http://dates.example/old", date="Mon, 01 Jan 1800 00:00:00 GMT"),
            Entry(
                "Acme in 3000", "http://dates.example/future", date="Fri, 01 Jan 3000 00:00:00 GMT"
            ),
            Entry("Acme at no date", "http://dates.example/nonsense", date="99999999999999999999"),
            Entry("Acme year 0", "http://dates.example/zero", date="0000-00-00T00:00:00Z"),
            Entry("Acme fine", "http://dates.example/fine", date=format_datetime(FINE)),
        ]
    )
    return {
        "/laughs.xml": LAUGHS.encode(),
        "/xxe.xml": xxe_feed(secret_file, dtd_url),
        "/many.xml": many.join(('<rss version="2.0"><channel>', "</channel></rss>")).encode(),
        "/huge.xml": huge.encode(),
        "/dates.xml": dates,
        "/nul.xml": rss([Entry("Ac\x00me with NUL", "http://nul.example/1", "N\x00ul")]),
        "/latin1-as-utf8.xml": rss([Entry("Acme café", "http://enc.example/1")]).replace(
            "café".encode(), "café".encode("latin-1")
        ),
        "/utf8-as-utf16.xml": rss([Entry("Acme été", "http://enc.example/2")]).replace(
            b'encoding="utf-8"', b'encoding="utf-16"'
        ),
        "/unknown-charset.xml": rss([Entry("Acme x", "http://enc.example/3")]).replace(
            b'encoding="utf-8"', b'encoding="x-klingon"'
        ),
        "/schemes.xml": rss(
            [
                Entry("Acme js", "javascript:alert(1)"),
                Entry("Acme data", "data:text/html,<script>alert(1)</script>"),
                Entry("Acme file", secret_file.as_uri()),
                Entry("Acme ok", "http://schemes.example/ok"),
            ]
        ),
    }


@pytest.mark.slow
def test_hostile_content_is_bounded_and_inert_in_the_database(
    http_server: HTTPTestServer, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    http_server.routes["/evil.dtd"] = f'<!ENTITY leak "{SECRET}">'
    bodies = hostile_content(secret, http_server.url("/evil.dtd"))
    sources = []
    for path, body in bodies.items():
        http_server.routes[path] = Response(body, headers={"Content-Type": "application/rss+xml"})
        sources.append(
            (path.strip("/").removesuffix(".xml").replace(".", "-"), http_server.url(path))
        )
    http_server.routes["/healthy.xml"] = healthy_feed("healthy.example", 1)
    sources.append(("healthy", http_server.url("/healthy.xml")))
    wl = watchlist(tmp_path / "content.toml", sources, terms=["acme", "entry"])
    db = tmp_path / "e.db"

    code, out, err, seconds, peak = run_cli(
        "--db", str(db), "-w", str(wl), "scan", "--json", cwd=tmp_path
    )
    summary = json.loads(out)
    assert seconds < 60 and peak < MAX_RSS_MIB, (seconds, peak)
    failed = {f["source"].removeprefix("hostile/"): f["error"] for f in summary["failed"]}
    # The billion laughs may be refused as not well-formed; nothing else may fail.
    assert set(failed) <= {"laughs"}, failed
    assert code == (1 if failed else 0), err
    assert http_server.hits("/evil.dtd") == 0  # no parser fetched anything

    dump = database_text(db)
    assert SECRET not in dump
    assert "lollollol" not in dump
    assert "\x00" not in dump
    rows = {source: n for source, n in count_by_source(db)}
    assert rows["many"] == 50_000
    assert rows["healthy"] == 3
    assert rows["schemes"] == 1  # non-http(s) permalinks are dropped with their items

    mentions = cli_json(db, wl, "mentions", "--json", "--limit", "0")
    by_url = {m["url"]: m for m in mentions}
    huge = by_url["http://huge.example/1"]
    assert len(huge["title"]) <= 1000 and len(huge["author"]["name"]) <= 256
    assert len(huge["text"]) <= 100_000
    for url in ("http://huge.example/2", "http://huge.example/3"):
        assert len(by_url[url]["author"]["name"]) <= 256
    assert by_url["http://nul.example/1"]["title"] == "Acme with NUL"
    assert (
        "\ufffd" in by_url["http://enc.example/1"]["title"]
        or "café" in by_url["http://enc.example/1"]["title"]
    )
    assert "été" in by_url["http://enc.example/2"]["title"]
    fine = by_url["http://dates.example/fine"]
    assert fine["published"] == FINE.strftime("%Y-%m-%dT%H:%M:%SZ")
    for url in ("old", "future", "nonsense", "zero"):
        m = by_url[f"http://dates.example/{url}"]
        assert m["published"] == m["fetched"], m  # replaced by the fetch time
    with_undated = dict(undated_flags(db))
    assert with_undated["http://dates.example/old"] == 1
    assert with_undated["http://dates.example/fine"] == 0
    assert all(u.startswith(("http://", "https://")) for u in by_url)


def count_by_source(db: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT source, count(*) FROM mentions GROUP BY source").fetchall()


def undated_flags(db: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT url, undated FROM mentions").fetchall()


def cli_json(db: Path, wl: Path, *args: str) -> Any:
    result = CliRunner().invoke(app, ["--db", str(db), "-w", str(wl), *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_author_names_split_by_markup_cost_no_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """SPEC §7: field sizes are bounded before costly parsing. feedparser's e-mail regex is
    quadratic in a run without spaces; markup inside the element must not join runs that
    the bound has already cut, for either XML reader."""
    from ereput.fetchers.feed_parse import parse_feed

    for piece in ("<!---->", "<?pi?>", "<b></b>", "<![CDATA[]]>"):
        for reader in ("fast", "feedparser"):
            monkeypatch.setenv("EREPUT_FEED_PARSER", reader)
            body = (
                '<rss version="2.0"><channel><item><title>Acme</title>'
                f"<link>http://x.example/1</link><author>{split_run(256, piece)}</author>"
                "</item></channel></rss>"
            ).encode()
            started = time.monotonic()
            items = parse_feed(body, "http://x.example/feed").items
            assert time.monotonic() - started < 1.0, (piece, reader)
            assert items[0].author is not None and len(items[0].author.name) <= 256


@pytest.mark.parametrize(
    "body",
    [  # minimal forms of what the fuzz run found (tests/test_fuzz.py)
        b'<rss version="2.0"><channel><item><title>a &#xD800; b & c</title>'
        b"<link>http://x.example/1</link></item></channel></rss>",
        b'<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><item>'
        b"<title>a & b</title><link>http://x.example/1</link></media:player></item>"
        b"</channel></rss>",
    ],
)
def test_feedparser_failures_fail_the_source_as_not_a_feed(body: bytes) -> None:
    from ereput.errors import ParseError
    from ereput.fetchers.feed_parse import parse_feed

    with pytest.raises(ParseError, match="not a feed: unreadable"):
        parse_feed(body, "http://x.example/feed")


def test_a_control_character_reference_in_html_does_not_fail_its_feed() -> None:
    from ereput.fetchers.feed_parse import parse_feed

    body = (
        b'<rss version="2.0"><channel><item><title>t</title><link>http://x.example/1</link>'
        b"<description>&lt;p&gt;a&amp;#8;b&lt;/p&gt;&lt;div&gt;c&lt;/div&gt;</description>"
        b"</item></channel></rss>"
    )
    [item] = parse_feed(body, "http://x.example/feed").items
    assert item.text == "a\x08b c"  # kept as data; every output format makes it inert
