"""`ereput scan` end to end: real corpus feeds served on 127.0.0.1, the real CLI, a real
SQLite database. What a user sees: exit codes, stderr lines, what `mentions`, `sources`
and `author` then show."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import CORPUS, manifest
from ereput.cli import app
from ereput.store import Store
from feedsite import watchlist
from httpserver import Response

SPEC_MENTION_KEYS = {
    "id",
    "watchlist",
    "url",
    "thread_url",
    "parent_url",
    "source",
    "source_kind",
    "space",
    "title",
    "text",
    "published",
    "fetched",
    "language",
    "sentiment",
    "matched",
    "context",
    "author",
}
FEEDS = [p for p, row in manifest().items() if row["kind"] == "feeds"]


def write_watchlist(path: Path, base: str, extra_sources: str = "") -> Path:
    path.write_text(
        textwrap.dedent(f"""\
        name = "corpus"
        title = "Corpus watch"

        [query]
        terms = ['slack', 'lambda', '"quantum entanglement"', 'bitcoin OR blockchain']

        [community]
        spaces = ["{base}/feeds/wordpress/", "{base}/feeds/feedburner/"]

        [[community.members]]
        name = "Leena Rao (staff)"
        role = "brand"
        identifiers = ["https://techcrunch.com/author/leena-rao/"]
        """)
        + "".join(
            textwrap.dedent(f"""
        [[sources]]
        name = "{Path(p).stem.lower().replace("_", "-")}"
        kind = "feed"
        url = "{base}/{p}"
        """)
            for p in FEEDS
        )
        + extra_sources,
        encoding="utf-8",
    )
    return path


@pytest.fixture
def corpus_site(http_server):
    http_server.mount("/feeds/", CORPUS / "feeds")
    return http_server


def invoke(*args: str, db: Path, wl: Path):
    result = CliRunner().invoke(app, ["--db", str(db), "-w", str(wl), *args])
    return result


@pytest.mark.parametrize("workers", ["thread", "processes"])
def test_first_scan_stores_matches_second_costs_only_304s(
    corpus_site, tmp_path, workers, monkeypatch
):
    if workers == "processes":  # what a scan of many sources uses
        monkeypatch.setattr("ereput.services.scan.WORKER_MIN_SOURCES", 1)
    wl = write_watchlist(tmp_path / "corpus.toml", corpus_site.url("").rstrip("/"))
    db = tmp_path / "e.db"

    first = invoke("scan", "--json", db=db, wl=wl)
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    assert summary["sources"] == len(FEEDS)
    assert summary["ok"] == len(FEEDS) and summary["failed"] == []
    assert summary["new"] > 20

    mentions = json.loads(invoke("mentions", "--json", "--limit", "0", db=db, wl=wl).stdout)
    assert len(mentions) == summary["new"]
    for m in mentions:
        assert m.keys() >= SPEC_MENTION_KEYS
        assert {"name", "person_id", "class", "role"} <= m["author"].keys()
        assert m["context"] == (m["matched"] == [])
    urls = {m["url"] for m in mentions}
    # Google Alerts redirect links are stored as the real article URL.
    target = manifest()["feeds/google-alerts/google_alerts_atom.xml"]["expected"]
    assert target["first_entry"]["target_url"] in urls
    assert not any("google.com/url" in u for u in urls)
    # The whole TechCrunch feed lies in a community space: stored even without a match.
    techcrunch = [m for m in mentions if m["source"] == "techcrunch"]
    assert len(techcrunch) == 20
    assert all(m["space"] == "community" for m in techcrunch)
    assert {m["author"]["name"] for m in techcrunch} == set(
        manifest()["feeds/wordpress/TechCrunch.xml"]["expected"]["authors"]
    )
    assert all(
        m["space"] == "open"
        for m in mentions
        if m["source"] not in ("techcrunch", "feedburnerxhtml")
    )

    with sqlite3.connect(db) as conn:  # so that the second scan's "seen" shows
        conn.execute("UPDATE sources SET last_success = '2000-01-01T00:00:00Z'")
    before = len(corpus_site.requests())
    second = invoke("scan", "--json", db=db, wl=wl)
    assert second.exit_code == 0, second.output
    again = json.loads(second.stdout)
    assert again["new"] == 0 and again["updated"] == 0
    assert again["not_modified"] == len(FEEDS)
    health = json.loads(invoke("sources", "--json", db=db, wl=wl).stdout)
    assert all(s["last_success"] > "2026" for s in health), health  # 304s count as seen
    feed_requests = corpus_site.requests()[before:]
    # robots.txt was kept from the first scan (up to 24 h): only the feeds are asked.
    assert len(feed_requests) == len(FEEDS)
    assert all("if-none-match" in r.headers for r in feed_requests)
    assert len(
        json.loads(invoke("mentions", "--json", "--limit", "0", db=db, wl=wl).stdout)
    ) == len(mentions)


def test_mentions_filters_and_author_lookup(corpus_site, tmp_path):
    wl = write_watchlist(tmp_path / "corpus.toml", corpus_site.url("").rstrip("/"))
    db = tmp_path / "e.db"
    assert invoke("scan", db=db, wl=wl).exit_code == 0

    open_only = json.loads(
        invoke("mentions", "--space", "open", "--json", "--limit", "0", db=db, wl=wl).stdout
    )
    assert open_only and all(m["space"] == "open" for m in open_only)
    found = json.loads(invoke("mentions", "--search", "Slack", "--json", db=db, wl=wl).stdout)
    assert found and all("slack" in (m["title"] + m["text"]).lower() for m in found)
    limited = json.loads(invoke("mentions", "--limit", "3", "--json", db=db, wl=wl).stdout)
    assert len(limited) == 3
    assert [m["published"] for m in limited] == sorted(
        (m["published"] for m in limited), reverse=True
    )

    # A misspelled, accent-less, lower-case name finds the corpus author.
    looked = invoke("author", "alex steer mccrum", "--json", db=db, wl=wl)
    assert looked.exit_code == 0, looked.output
    people = json.loads(looked.stdout)
    assert people[0]["name"] == "Alex Steers McCrum"
    assert people[0]["mentions"] >= 1
    card = invoke("author", "Leena Rao", db=db, wl=wl)
    assert card.exit_code == 0 and "Leena Rao" in card.stdout
    missing = invoke("author", "zzzz qqqq", db=db, wl=wl)
    assert missing.exit_code == 1
    assert "no author matches" in missing.stderr


def test_failing_sources_are_named_and_the_others_stored(corpus_site, tmp_path):
    corpus_site.routes["/broken.xml"] = Response(b"oops", status=500)
    corpus_site.routes["/image.rss"] = Response(
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, headers={"Content-Type": "image/png"}
    )
    extra = textwrap.dedent(f"""
        [[sources]]
        name = "broken"
        kind = "feed"
        url = "{corpus_site.url("/broken.xml")}"

        [[sources]]
        name = "image"
        kind = "feed"
        url = "{corpus_site.url("/image.rss")}"
        """)
    wl = write_watchlist(tmp_path / "corpus.toml", corpus_site.url("").rstrip("/"), extra)
    db = tmp_path / "e.db"
    result = invoke("scan", db=db, wl=wl)
    assert result.exit_code == 1
    assert "source corpus/broken failed: HTTP 500" in result.stderr
    assert "source corpus/image failed:" in result.stderr
    assert result.stderr.count("\n") == 2  # one line per failing source, nothing else
    sources = {s["source"]: s for s in json.loads(invoke("sources", "--json", db=db, wl=wl).stdout)}
    assert sources["broken"]["consecutive_failures"] == 1
    assert "500" in sources["broken"]["last_error"]
    assert sources["techcrunch"]["items"] == 20 and sources["techcrunch"]["last_success"]


def test_bad_watchlist_exits_2_naming_file_key_and_reason(tmp_path):
    wl = tmp_path / "bad.toml"
    wl.write_text(
        'name = "x"\n[query]\nterms = ["acme"]\n[[sources]]\nname = "a"\n'
        'kind = "rss"\nurl = "https://example.org/feed"\n',
        encoding="utf-8",
    )
    result = invoke("scan", db=tmp_path / "e.db", wl=wl)
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert "\n" not in line
    assert "bad.toml" in line and "sources[0].kind" in line and "rss" in line


def test_second_scan_on_a_locked_database_exits_3_at_once(corpus_site, tmp_path):
    wl = write_watchlist(tmp_path / "corpus.toml", corpus_site.url("").rstrip("/"))
    db = tmp_path / "e.db"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import sys, time
            from ereput.store import Store
            s = Store.open({str(db)!r}); s.lock(); print("locked", flush=True)
            sys.stdin.readline()
        """),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        result = invoke("scan", db=db, wl=wl)
        assert result.exit_code == 3
        assert time.monotonic() - started < 1.0
        assert "another scan is running" in result.stderr
        assert not corpus_site.requests()
    finally:
        holder.kill()
        holder.communicate()
    # A lock left by a killed process does not block the next run.
    assert invoke("scan", db=db, wl=wl).exit_code == 0


@pytest.mark.parametrize("path", FEEDS)
def test_every_corpus_feed_read_over_http_matches_its_ground_truth(corpus_site, path):
    """The MANIFEST's entry counts and authors, through the HTTP layer and the feed reader."""
    import asyncio

    from ereput.fetchers.base import SourceState
    from ereput.fetchers.feed import FeedReader
    from ereput.http import HttpClient
    from ereput.models import FetchLimits, Source
    from ereput.services.scan import _Context

    expected = manifest()[path]["expected"]

    async def read():
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(1) as pool:
            async with HttpClient(FetchLimits()) as http:
                return await FeedReader().read(
                    Source("s", "feed", corpus_site.url("/" + path)),
                    _Context(http, pool),
                    SourceState(),
                )

    result = asyncio.run(read())
    if "entries" in expected:
        assert len(result.items) == expected["entries"]
    authors = []
    for item in result.items:
        if item.author and item.author.name and item.author.name not in authors:
            authors.append(item.author.name)
    if expected.get("authors"):
        assert (
            authors == [a.removeprefix("/u/") for a in expected["authors"]]
            or authors == expected["authors"]
        )
    if expected.get("entry_author_names_empty"):
        assert authors == []
    assert result.state.etag  # validators kept for the next conditional GET


def test_upgraded_database_ends_identical_to_a_fresh_one(tmp_path):
    """Applying the migrations one at a time, across reopenings, gives the fresh schema."""
    from sqlite_utils import Database

    from ereput.store import migrations

    names = [m.name for m in migrations._migrations]
    stepwise = Database(tmp_path / "old.db")
    for later in [*names[1:], None]:
        migrations.apply(stepwise, stop_before=later)
    stepwise.close()
    fresh = Store.open(tmp_path / "fresh.db")
    upgraded = Store.open(tmp_path / "old.db")
    schema = "SELECT type, name, sql FROM sqlite_master ORDER BY type, name"
    assert [tuple(r) for r in upgraded.query(schema)] == [tuple(r) for r in fresh.query(schema)]
    fresh.close()
    upgraded.close()


def test_store_schema_is_migrated_once_and_reopens(tmp_path):
    db = tmp_path / "e.db"
    Store.open(db).close()
    store = Store.open(db)
    names = [r[0] for r in store.query("SELECT name FROM _sqlite_migrations")]
    assert names[:4] == ["0001_initial", "0002_lookup_indexes", "0003_robots", "0004_identity"]
    assert names == sorted(set(names))  # each once, in order
    assert store.query("PRAGMA journal_mode")[0][0] == "wal"
    store.close()


def test_a_source_the_store_refuses_fails_alone(corpus_site, tmp_path, monkeypatch):
    """A database error while storing one source rolls that source back and names it; the
    other sources are stored and the scan exits 1."""
    import sqlite3

    from ereput.store import Store as RealStore

    real = RealStore.save_mentions

    def refuse_techcrunch(self, mentions):
        if any(m.source == "techcrunch" for m in mentions):
            raise sqlite3.OperationalError("disk I/O error")
        return real(self, mentions)

    monkeypatch.setattr(RealStore, "save_mentions", refuse_techcrunch)
    wl = write_watchlist(tmp_path / "corpus.toml", corpus_site.url("").rstrip("/"))
    db = tmp_path / "e.db"
    result = invoke("scan", "--json", db=db, wl=wl)
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert summary["failed"] == [
        {"source": "corpus/techcrunch", "error": "could not store: disk I/O error"}
    ]
    assert summary["ok"] == len(FEEDS) - 1
    sources = {s["source"]: s for s in json.loads(invoke("sources", "--json", db=db, wl=wl).stdout)}
    assert sources["techcrunch"]["items"] == 0
    assert sources["techcrunch"]["consecutive_failures"] == 1
    assert sources["feedburnerxhtml"]["items"] == 10  # the other community feed, whole


def test_worker_processes_start_for_a_first_scan_or_once_many_sources_changed(monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from ereput.services.scan import WORKER_AT_FIRST_CHANGE, _Parsers
    from ereput.services.worker import WorkerProcess as ProcessPoolExecutor

    monkeypatch.setattr("ereput.services.scan.WORKER_AFTER_CHANGED", 3)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    with _Parsers([], sources=100, unvalidated=100) as first_scan:
        assert isinstance(first_scan.for_source("a"), ProcessPoolExecutor)
    with _Parsers([], sources=100, unvalidated=0) as rescan:
        # Sources found unchanged never ask; the first few changed ones parse in a thread.
        kinds = [type(rescan.for_source(label)) for label in "aabcd"]
        assert kinds == [ThreadPoolExecutor] * 4 + [ProcessPoolExecutor]
    with _Parsers([], sources=WORKER_AT_FIRST_CHANGE, unvalidated=0) as large_rescan:
        assert isinstance(large_rescan.for_source("a"), ProcessPoolExecutor)
    with _Parsers([], sources=10, unvalidated=10) as small:  # too few to repay processes
        assert all(isinstance(small.for_source(x), ThreadPoolExecutor) for x in "abcdefgh")
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    with _Parsers([], sources=100, unvalidated=100) as one_core:
        assert isinstance(one_core.for_source("a"), ThreadPoolExecutor)


def test_a_first_scan_starts_its_worker_from_what_the_store_knows(tmp_path, monkeypatch):
    """`_Parsers.for_scan`, made before the scan loads its HTTP layer: sources the store
    holds no validators for are counted as a first scan's, `--source` counts only those
    named, and the worker is told which parsers to load."""
    from ereput.dates import now
    from ereput.fetchers.base import SourceState
    from ereput.services.scan import _Parsers
    from ereput.services.worker import WorkerProcess
    from ereput.watchlist import load_watchlists

    monkeypatch.setattr("os.cpu_count", lambda: 2)
    sources = [(f"f{i}", f"http://127.0.0.1:9/f{i}.xml") for i in range(40)]
    wl = load_watchlists([watchlist(tmp_path / "w.toml", sources)])
    with Store.open(tmp_path / "e.db") as store:
        with _Parsers.for_scan(wl, store) as first:
            assert isinstance(first._worker, WorkerProcess)
            assert first._preload == ("ereput.fetchers.feed_parse",)
        store.sync_sources(wl[0])
        for name, _ in sources[:30]:
            store.record_success(wl[0].name, name, SourceState(etag='"1"'), now())
        with _Parsers.for_scan(wl, store) as rescan:  # 10 without validators: no worker yet
            assert rescan._worker is None
        with _Parsers.for_scan(wl, store, only=["f1", "f2"]) as named:
            assert named._worker is None


def test_a_page_naming_its_feed_is_read_through_its_feed(http_server, tmp_path):
    """A feed source whose URL is an HTML page: the feed it names is read, its mentions
    stored, and the next scan asks the feed itself (its validators then apply)."""
    from feedsite import Entry, rss

    page = b'<html><head><link rel="alternate" type="application/rss+xml" href="/feed.xml">'
    http_server.routes["/blog"] = Response(page, headers={"Content-Type": "text/html"})
    entries = [Entry("Acme is down", "https://ex.org/1"), Entry("Other news", "https://ex.org/2")]
    http_server.routes["/feed.xml"] = Response(rss(entries), headers={"Content-Type": "text/xml"})
    wl = watchlist(tmp_path / "w.toml", [("blog", http_server.url("/blog"))])
    db = tmp_path / "e.db"
    first = json.loads(invoke("scan", "--json", db=db, wl=wl).stdout)
    assert (first["ok"], first["new"]) == (1, 1)
    http_server.routes.pop("/blog")  # the page is not asked again
    second = json.loads(invoke("scan", "--json", db=db, wl=wl).stdout)
    assert (second["ok"], second["new"], second["not_modified"]) == (1, 0, 1)


def test_a_source_whose_saved_state_is_unreadable_fails_alone(corpus_site, tmp_path):
    wl = write_watchlist(tmp_path / "corpus.toml", corpus_site.url("").rstrip("/"))
    db = tmp_path / "e.db"
    assert invoke("scan", "--json", db=db, wl=wl).exit_code == 0
    with sqlite3.connect(db) as conn:  # a cursor that is not JSON (a hand edit, a bad disk)
        conn.execute("UPDATE sources SET cursor = '{not json' WHERE name = 'techcrunch'")
    second = invoke("scan", "--json", db=db, wl=wl)
    assert second.exit_code == 1
    summary = json.loads(second.stdout)
    [failure] = summary["failed"]
    assert failure["source"] == "corpus/techcrunch"
    assert "JSONDecodeError" in failure["error"]
    assert summary["ok"] == len(FEEDS) - 1
