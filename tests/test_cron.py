"""`ereput scan` under cron (SPEC §4, §6-7): quiet output, one scan at a time per database,
Retry-After remembered across scans, robots.txt asked once per host."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from ereput.cli import app
from feedsite import Entry, mention_rows, rss, watchlist
from httpserver import HTTPTestServer, Response


def feed(n: int) -> bytes:
    return rss(Entry(f"Acme {n}.{i}", f"http://site.example/{n}/{i}") for i in range(2))


def invoke(db: Path, wl: Path, *args: str) -> Any:
    return CliRunner().invoke(app, ["--db", str(db), "-w", str(wl), *args])


def test_quiet_prints_nothing_on_success_and_one_line_per_failing_source(
    http_server: HTTPTestServer, tmp_path: Path
) -> None:
    for n in range(3):
        http_server.routes[f"/ok{n}"] = feed(n)
    http_server.routes["/gone"] = Response(b"gone", status=410)
    http_server.routes["/junk"] = Response(b"<html>no feed</html>")
    ok = [(f"ok{n}", http_server.url(f"/ok{n}")) for n in range(3)]
    db = tmp_path / "e.db"

    good = watchlist(tmp_path / "good.toml", ok)
    result = invoke(db, good, "--quiet", "scan")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert len(mention_rows(db)) == 6

    bad = watchlist(
        tmp_path / "bad.toml",
        [*ok, ("gone", http_server.url("/gone")), ("junk", http_server.url("/junk"))],
    )
    result = invoke(db, bad, "scan", "--quiet")
    assert result.exit_code == 1 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("ereput: source hostile/gone failed: HTTP 410")
    assert lines[1].startswith("ereput: source hostile/junk failed: not a feed")


def test_a_running_scan_blocks_a_second_one_until_it_is_killed(
    http_server: HTTPTestServer, tmp_path: Path
) -> None:
    """Cron overlap: the second scan exits 3 within a second with one line; once the first
    is killed (its flock dies with it) the next scan runs and completes the work."""
    for n in range(4):
        http_server.routes[f"/slow{n}"] = Response(feed(n), stall=30)
    wl = watchlist(tmp_path / "w.toml", [(f"s{n}", http_server.url(f"/slow{n}")) for n in range(4)])
    db = tmp_path / "e.db"
    first = subprocess.Popen(
        [sys.executable, "-m", "ereput", "--db", str(db), "-w", str(wl), "scan"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while not http_server.requests("/slow0") and time.monotonic() < deadline:
            time.sleep(0.05)  # the first scan holds the lock and waits on the server
        assert http_server.requests("/slow0")
        started = time.monotonic()
        second = invoke(db, wl, "scan")
        assert second.exit_code == 3
        assert time.monotonic() - started < 1.0
        assert second.stderr.count("\n") == 1 and "another scan is running" in second.stderr
        assert second.stdout == ""
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    for n in range(4):
        http_server.routes[f"/slow{n}"] = feed(n)
    third = invoke(db, wl, "scan", "--json")
    assert third.exit_code == 0, third.output
    assert json.loads(third.stdout)["new"] == 8
    assert len(mention_rows(db)) == 8


def test_a_long_retry_after_is_remembered_by_the_next_scan(
    http_server: HTTPTestServer, tmp_path: Path
) -> None:
    http_server.routes["/later"] = Response(
        status=503, headers={"Retry-After": "3600"}, conditional=False
    )
    wl = watchlist(tmp_path / "w.toml", [("later", http_server.url("/later"))])
    db = tmp_path / "e.db"
    first = invoke(db, wl, "scan", "--json")
    assert first.exit_code == 1
    [failure] = json.loads(first.stdout)["failed"]
    assert "Retry-After" in failure["error"]
    assert http_server.hits("/later") == 1

    second = invoke(db, wl, "scan", "--json")
    summary = json.loads(second.stdout)
    assert summary["deferred"] and summary["deferred"][0]["source"] == "hostile/later"
    assert http_server.hits("/later") == 1  # not asked again before the delay has passed


def test_robots_txt_is_asked_once_per_host_and_scan_under_load(
    http_server_factory: Any, tmp_path: Path
) -> None:
    """Twelve slow sources on each of two hosts: at most 2 requests in flight per host
    (robots.txt included), both hosts served at once, robots.txt asked once per host."""
    servers = [http_server_factory("127.0.0.1"), http_server_factory("127.0.0.2")]
    sources = []
    for s, server in enumerate(servers):
        server.routes["/robots.txt"] = Response("User-agent: *\nAllow: /\n", stall=0.1)
        for n in range(12):
            server.routes[f"/f{n}"] = Response(feed(100 * s + n), stall=0.05)
            sources.append((f"h{s}-{n}", server.url(f"/f{n}")))
    wl = watchlist(tmp_path / "w.toml", sources)
    db = tmp_path / "e.db"
    result = invoke(db, wl, "scan", "--concurrency", "16")
    assert result.exit_code == 0, result.output
    assert len(mention_rows(db)) == 2 * 24
    for server in servers:
        assert server.max_in_flight == {server.netloc: 2}
        assert server.hits("/robots.txt") == 1
    a, b = (s.requests() for s in servers)
    assert any(x.started < (y.ended or 0) and y.started < (x.ended or 0) for x in a for y in b)
