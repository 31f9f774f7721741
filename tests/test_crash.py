"""Crash safety (SPEC §6 "Safe storage"): `ereput scan` killed with SIGKILL at random
moments, many times, leaves a database that passes its integrity checks every time, holds
each source whole or not at all, and the next scan completes the work with no duplicate and
no loss: the same mentions as one uninterrupted scan."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from feedsite import Entry, rss, watchlist
from httpserver import HTTPTestServer, Response

HOSTS = ("127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4")
SOURCES_PER_HOST = 6
ENTRIES = 40
KILLS = 16
SEED = 20261125


def entries(host: int, n: int) -> list[Entry]:
    return [
        Entry(
            f"Acme report {host}.{n}.{i}",
            f"http://site{host}.example/{n}/{i}",
            author=f"Author {i % 7}",
            text=f"Acme entry {i} of feed {n} on host {host}. " * 4,
        )
        for i in range(ENTRIES)
    ]


def scan_command(db: Path, wl: Path) -> list[str]:
    return [sys.executable, "-m", "ereput", "--db", str(db), "-w", str(wl), "scan"]


def checks(db: Path) -> None:
    """What must hold after any kill: SQLite's own checks, and each source whole or absent."""
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        conn.execute("INSERT INTO mentions_fts (mentions_fts) VALUES ('integrity-check')")
        counts = dict(conn.execute("SELECT source, count(*) FROM mentions GROUP BY source"))
        stored = {
            name
            for (name,) in conn.execute("SELECT name FROM sources WHERE last_success IS NOT NULL")
        }
        dupes = conn.execute(
            "SELECT count(*) - count(DISTINCT watchlist || url) FROM mentions"
        ).fetchone()
    assert dupes == (0,)
    assert all(n == ENTRIES for n in counts.values()), counts  # one transaction per source
    assert set(counts) == stored  # a source's mentions and its success commit together


def snapshot(db: Path) -> dict[str, Any]:
    with sqlite3.connect(db) as conn:
        mentions = sorted(
            conn.execute(
                "SELECT id, source, url, title, text, author_name, author_class, thread_url "
                "FROM mentions"
            )
        )
        accounts = sorted(conn.execute("SELECT key, name FROM accounts"))
        persons = conn.execute("SELECT count(*) FROM persons").fetchone()[0]
    return {"mentions": mentions, "accounts": accounts, "persons": persons}


@pytest.mark.slow
def test_scan_killed_at_random_moments_loses_nothing_and_duplicates_nothing(
    http_server_factory: Any, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    servers: list[HTTPTestServer] = [http_server_factory(host) for host in HOSTS]
    sources = []
    for h, server in enumerate(servers):
        for n in range(SOURCES_PER_HOST):
            # No validators (every scan reads and stores again) and a little latency, so
            # that kills land while reading, while writing, and in between.
            server.routes[f"/feed{n}"] = Response(
                rss(entries(h, n)), stall=0.05 + 0.1 * (n % 3), conditional=False
            )
            sources.append((f"h{h}-f{n}", server.url(f"/feed{n}")))
    wl = watchlist(tmp_path / "crash.toml", sources)

    reference = tmp_path / "reference.db"
    started = time.monotonic()
    done = subprocess.run(scan_command(reference, wl), capture_output=True, timeout=120)
    duration = time.monotonic() - started  # kill points spread over a whole scan, whatever
    # the machine's load
    assert done.returncode == 0, done.stderr
    expected = snapshot(reference)
    assert len(expected["mentions"]) == len(sources) * ENTRIES

    db = tmp_path / "crash.db"
    started = time.monotonic()
    finished_before_kill = 0
    for _ in range(KILLS):
        proc = subprocess.Popen(
            scan_command(db, wl), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.1, 1.0) * duration)
        if proc.poll() is not None:
            finished_before_kill += 1
        proc.send_signal(signal.SIGKILL)  # a no-op once it has finished
        proc.wait()
        if db.exists():
            checks(db)
    elapsed = time.monotonic() - started
    assert KILLS - finished_before_kill >= 5, "too few kills landed mid-scan"

    final = subprocess.run(scan_command(db, wl), capture_output=True, timeout=120)
    assert final.returncode == 0, final.stderr
    checks(db)
    got = snapshot(db)
    assert got["mentions"] == expected["mentions"]
    assert got["accounts"] == expected["accounts"]
    assert got["persons"] == expected["persons"]
    assert elapsed < 20 * duration
