"""The store-at-scale benchmarks of issue 3, on the generated database (`gen_db`).

Targets (1,000,000 mentions, 200,000 persons, 500 sources): `author NAME` ≤ 50 ms,
`author` by identifier ≤ 10 ms, `mentions --search` ≤ 100 ms, `report --week --format json`
≤ 1 s (medians, in process: the service functions the CLI calls), and a scan adding 2,500
mentions to the big database ≤ 1.2× the same scan on an empty one. Each look-up also runs
once through the real CLI in a child process: that figure includes Python's start-up, which
is reported on its own row (`ereput db path`).

    python -m benchmarks.store_bench [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from benchmarks import gen_db
from benchmarks.common import BenchmarkFailure, Row
from ereput.errors import NotFoundError
from ereput.render import rows as rows_out
from ereput.services import lookup, report
from ereput.store import Store
from ereput.watchlist import load_watchlist

MS = 1000.0
AUTHOR_NAME_MS = 50.0
AUTHOR_ID_MS = 10.0
SEARCH_MS = 100.0
REPORT_MS = 1000.0
SCAN_RATIO = 1.2
SCAN_FEEDS, SCAN_ENTRIES = 50, 50

# (label, query, the name the first person found must have; None: nobody matches)
BY_NAME = (
    ("author NAME exact", "Sébastien Farcis", "Sébastien Farcis"),
    ("author NAME fuzzy", "alex steer mccrum", "Alex Steers McCrum"),
    ("author NAME fuzzy, hyphen", "helene dupont aignan", "Hélène Dupont-Aignan"),
    ("author NAME no match", "Xqzwy Plonkvitch", None),
)
BY_IDENT = (
    ("author fediverse acct", "@alexsm@mastodon.example", "Alex Steers McCrum"),
    ("author profile URL", "https://blog-017.example.net/author/sfarcis", "Sébastien Farcis"),
    ("author e-mail", "helene.dupont@example.fr", "Hélène Dupont-Aignan"),
)
SEARCHES = (
    ("search common word", "cloud"),
    ("search two words", "serveur panne"),
    ("search rare word", "zeugma"),
    ("search very rare word", gen_db.VERY_RARE),
    ("search no match", "xylophone"),
)


def _say(msg: str) -> None:
    print(f"[store] {msg}", file=sys.stderr, flush=True)


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """Median wall time in ms of `fn` over `runs` calls after one untimed warm-up."""
    result = fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * MS)
    return statistics.median(times), result


def _row(name: str, value: float, target: float, unit: str = "ms") -> Row:
    return Row(
        name=name,
        value=round(value, 2),
        unit=unit,
        ratio=None,
        target=f"≤ {target:g} {unit}",
        ok=value <= target,
    )


def _check(label: str, persons: list[dict[str, Any]], expected: str | None) -> None:
    """`expected` is a person found: their display name or one of their accounts' names
    (the generator may give a planted person another account, whose name can then be the
    person's display name: on the --quick database, "Alex Steers McCrum" is "retro_fan41"
    with both names)."""
    names = [p["name"] for p in persons]
    if expected is None:
        if persons:
            raise BenchmarkFailure(f"{label}: expected no match, found {names[:3]}")
    elif not any(expected == p["name"] or expected in p.get("names", ()) for p in persons):
        raise BenchmarkFailure(f"{label}: expected {expected!r} among {names[:5]}")


def _lookup(store: Store, query: str, wl: Any) -> list[dict[str, Any]]:
    try:
        return lookup.lookup_author(store, query, wl)
    except NotFoundError:
        return []


# --- in-process look-ups -------------------------------------------------------------------


def lookup_rows(db: Path, wl_file: Path, runs: int) -> list[Row]:
    rows: list[Row] = []
    t = time.perf_counter()
    # As the CLI opens it for look-ups; applies any new migration (once, on the cached database).
    store = Store.open(db, reading=True)
    rows.append(Row("open + migrate (first open)", round((time.perf_counter() - t) * MS, 1), "ms"))
    wl = load_watchlist(wl_file)
    with store:
        for label, query, expected in BY_NAME:
            ms, found = timed(lambda q=query: _lookup(store, q, wl), runs)
            _check(label, found, expected)
            rows.append(_row(f"{label} ({len(found)} found)", ms, AUTHOR_NAME_MS))
        for label, query, expected in BY_IDENT:
            ms, found = timed(lambda q=query: _lookup(store, q, wl), runs)
            _check(label, found, expected)
            rows.append(_row(label, ms, AUTHOR_ID_MS))
        pid = _lookup(store, BY_IDENT[0][1], wl)[0]["person_id"]
        ms, _ = timed(lambda: _lookup(store, pid, wl), runs)
        rows.append(_row("author person_id", ms, AUTHOR_ID_MS))
        for label, words in SEARCHES:
            f = lookup.MentionFilter(watchlist=gen_db.WATCHLIST, search=words, limit=50)
            ms, found = timed(lambda f=f: lookup.list_mentions(store, f), runs)
            n = store.query(
                "SELECT count(*) FROM mentions_fts WHERE mentions_fts MATCH ?",
                [lookup.fts_query(words)],
            )[0][0]
            rows.append(_row(f"{label} ({n:,} matches)", ms, SEARCH_MS))
        rows += report_rows(store, wl, max(3, runs // 2 + 1))
        # The generated mentions end before today: rank those of the report's week, whose
        # 30-day window holds tens of thousands of persons (ending now, it held none).
        year, week = map(int, gen_db.REPORT_WEEK.split("-W"))
        at = datetime.fromisocalendar(year, week, 7).replace(tzinfo=UTC) + timedelta(days=1)
        ms, ranked = timed(lambda: lookup.rank_authors(store, wl, at=at), 3)
        if len(ranked) < 50:
            raise BenchmarkFailure(f"authors ranked {len(ranked)} persons, not 50")
        label = f"authors, top 50 in the 30 days to {gen_db.REPORT_WEEK}"
        rows.append(Row(label, round(ms, 1), "ms"))
    return rows


def report_rows(store: Store, wl: Any, runs: int) -> list[Row]:
    """The weekly report in each format, from the database to the finished text (what
    `ereput report --week W --format F` does in process). Targets: json and html ≤ 1 s."""
    from rich.console import Console

    from ereput.render.html import html_report
    from ereput.render.report import markdown_report, print_text_report

    period = report.period_for(wl.timezone, week=gen_db.REPORT_WEEK)

    def text(data: dict[str, Any]) -> str:
        console = Console(width=80, file=io.StringIO(), record=True)
        print_text_report(data, console)
        return console.export_text()

    renderers: dict[str, Callable[[], str]] = {
        "json": lambda: rows_out.to_json(report.build_report(store, wl, period)),
        "html": lambda: html_report(report.build_report(store, wl, period)),
        "md": lambda: markdown_report(report.build_report(store, wl, period)),
        "text": lambda: text(report.build_report(store, wl, period)),
        "csv": lambda: rows_out.to_csv(report.period_mentions(store, wl, period)),
    }
    rows: list[Row] = []
    for fmt, render in renderers.items():
        ms, out = timed(render, runs)
        if fmt == "json" and '"mentions": 0,' in out[:2000]:
            raise BenchmarkFailure("report: the benchmark week is empty")
        label = f"report --week {gen_db.REPORT_WEEK} {fmt}"
        if fmt in ("json", "html"):
            rows.append(_row(label, ms, REPORT_MS))
        else:
            rows.append(Row(label, round(ms, 2), "ms"))
        _say(f"{label}: {ms:,.0f} ms, {len(out):,} characters")
    return rows


# --- the real CLI, once each ---------------------------------------------------------------


def cli_rows(db: Path, wl_file: Path) -> list[Row]:
    base = [sys.executable, "-m", "ereput", "--db", str(db), "-w", str(wl_file)]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}

    def run(args: list[str]) -> float:
        t = time.perf_counter()
        done = subprocess.run([*base, *args], env=env, capture_output=True, text=True)
        ms = (time.perf_counter() - t) * MS
        if done.returncode != 0:
            raise BenchmarkFailure(f"ereput {' '.join(args)}: {done.stderr.strip()[:300]}")
        return ms

    run(["db", "path"])  # warm the OS caches once
    startup = statistics.median(run(["db", "path"]) for _ in range(3))
    rows = [Row("CLI start-up: ereput db path", round(startup, 1), "ms")]
    for label, args in (
        ("CLI author NAME fuzzy", ["author", "alex steer mccrum", "--json"]),
        ("CLI author acct", ["author", "@alexsm@mastodon.example", "--json"]),
        ("CLI mentions --search", ["mentions", "--search", "serveur panne", "--json"]),
        ("CLI report --week json", ["report", "--week", gen_db.REPORT_WEEK, "--format", "json"]),
    ):
        rows.append(Row(label, round(run(args), 1), "ms", baseline=f"start-up {startup:.0f} ms"))
    return rows


# --- a scan adding 2,500 mentions: big database vs empty ---------------------------------


class _Feeds(ThreadingHTTPServer):
    daemon_threads = True
    pages: dict[str, bytes]

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A scan ending closes its kept-alive connections, which a handler waiting for
        # the next request reads as a reset: not an error worth a traceback on stderr.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Feeds

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        body = self.server.pages.get(self.path)
        self.send_response(200 if body is not None else 404)
        body = body if body is not None else b"not found"
        self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


AUTHORS = [
    (f"{gen_db.FIRST[i % len(gen_db.FIRST)]} {gen_db.LAST[(i * 7) % len(gen_db.LAST)]}", i)
    for i in range(400)
]


def _feed(origin: str, run: int, feed: int, now: datetime) -> bytes:
    """An RSS feed of SCAN_ENTRIES entries that all name the brand; URLs unique per run."""
    items = []
    for e in range(SCAN_ENTRIES):
        name, a = AUTHORS[(feed * SCAN_ENTRIES + e) % len(AUTHORS)]
        link = f"{origin}/r{run}/f{feed}/entry-{e}"
        when = format_datetime(now - timedelta(minutes=feed * SCAN_ENTRIES + e))
        words = " ".join(
            gen_db.VOCAB[(feed * 31 + e * 7 + k) % len(gen_db.VOCAB)] for k in range(40)
        )
        creator = (
            f"<author>user{a}@mail.example ({escape(name)})</author>"
            if e % 2
            else f"<dc:creator>{escape(name)}</dc:creator>"
        )
        items.append(
            f"<item><title>Acme Cloud: {escape(words[:60])} {run}-{feed}-{e}</title>"
            f"<link>{link}</link><guid>{link}</guid><pubDate>{when}</pubDate>{creator}"
            f"<description>{escape(words)} Acme Cloud {run} {feed} {e}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>feed {feed}</title><link>{origin}/</link>{''.join(items)}</channel></rss>"
    ).encode()


def _scan_once(store_path: Path, server: _Feeds, origin: str, run: int, tmp: Path) -> float:
    from ereput.services.scan import scan

    now = datetime.now(UTC)
    server.pages = {f"/r{run}/feed-{f}.xml": _feed(origin, run, f, now) for f in range(SCAN_FEEDS)}
    wl_file = tmp / f"scan-{run}.toml"
    wl_file.write_text(
        gen_db.watchlist_toml(
            [(f"scan-feed-{f:02d}", f"{origin}/r{run}/feed-{f}.xml") for f in range(SCAN_FEEDS)]
        ),
        encoding="utf-8",
    )
    wl = load_watchlist(wl_file)
    t = time.perf_counter()
    with Store.open(store_path) as store:
        summary = scan([wl], store)
    seconds = time.perf_counter() - t
    expected = SCAN_FEEDS * SCAN_ENTRIES
    if summary.failed or summary.new != expected:
        raise BenchmarkFailure(
            f"scan run {run}: {summary.new} new mentions (expected {expected}), "
            f"failed: {summary.failed[:2]}"
        )
    return seconds


def scan_rows(db: Path, runs: int) -> list[Row]:
    tmp = Path(tempfile.mkdtemp(prefix="ereput-scan-", dir=gen_db.cache_dir()))
    server = _Feeds(("127.0.0.1", 0), _Handler)
    server.pages = {}
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        Store.open(db).close()  # migrate the cached database first: not part of a scan's time
        with contextlib.closing(sqlite3.connect(db)) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        big = tmp / "big.db"
        t = time.perf_counter()
        shutil.copyfile(db, big)
        _say(f"copied the big database in {time.perf_counter() - t:.1f} s")
        empty_s, big_s = [], []
        for run in range(runs):
            empty = tmp / f"empty-{run}.db"
            empty_s.append(_scan_once(empty, server, origin, 2 * run, tmp))
            big_s.append(_scan_once(big, server, origin, 2 * run + 1, tmp))
            _say(f"scan {run + 1}/{runs}: empty {empty_s[-1]:.2f} s, big {big_s[-1]:.2f} s")
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
        shutil.rmtree(tmp, ignore_errors=True)
    e, b = statistics.median(empty_s), statistics.median(big_s)
    n = SCAN_FEEDS * SCAN_ENTRIES
    return [
        Row(f"scan +{n:,} mentions, empty DB", round(e, 3), "s"),
        Row(
            f"scan +{n:,} mentions, big DB",
            round(b, 3),
            "s",
            baseline=f"empty DB {e:.2f} s",
            ratio=round(b / e, 3),
            target=f"≤ {SCAN_RATIO:g}× empty DB",
            ok=b / e <= SCAN_RATIO,
        ),
    ]


def run(quick: bool) -> list[Row]:
    scale = gen_db.QUICK if quick else gen_db.FULL
    db, wl_file = gen_db.cached_db(scale, log=_say)
    runs = 5 if quick else 7
    _say(f"database {db.name} ({db.stat().st_size / 2**20:,.0f} MiB)")
    rows = lookup_rows(db, wl_file, runs)
    rows += cli_rows(db, wl_file)
    rows += scan_rows(db, 5)
    return rows


def _print(rows: list[Row]) -> None:
    for r in rows:
        mark = "" if r.ok is None else ("✓" if r.ok else "✗")
        ratio = f"{r.ratio:.2f}×" if r.ratio is not None else ""
        print(
            f"{r.name:<44} {r.value:>10,.2f} {r.unit:<3} {ratio:>7} {r.target:<20} "
            f"{r.baseline:<22} {mark}"
        )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.store_bench", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="the tenth-size database")
    ap.add_argument("--only", choices=("lookup", "report", "cli", "scan"), help="one group of rows")
    ap.add_argument("--runs", type=int, help="timed runs per figure (default 7, quick 5)")
    args = ap.parse_args(argv)
    if args.only is None:
        _print(run(args.quick))
        return
    scale = gen_db.QUICK if args.quick else gen_db.FULL
    db, wl_file = gen_db.cached_db(scale, log=_say)
    if args.only == "lookup":
        _print(lookup_rows(db, wl_file, args.runs or (5 if args.quick else 7)))
    elif args.only == "report":
        with Store.open(db, reading=True) as store:
            _print(report_rows(store, load_watchlist(wl_file), args.runs or 3))
    elif args.only == "cli":
        _print(cli_rows(db, wl_file))
    else:
        _print(scan_rows(db, args.runs or 5))


if __name__ == "__main__":
    main()
