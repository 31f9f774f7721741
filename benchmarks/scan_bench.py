"""The feed-scan benchmarks of issue 3, against baselines measured in the same run.

Every measured scan is `ereput --db X -w W scan --json --quiet` in a child process (wall
time from spawn to exit, peak RSS of its process tree); the bare-httpx baseline is a child
too (`python -m benchmarks.scan_bench fetch URLS CONCURRENCY`), so both pay the same
interpreter start-up. After every cold scan the database is checked against the
generator's ground truth: a fast wrong scan fails the suite.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import feeds
from benchmarks.common import BenchmarkFailure, ChildRun, Row, median, run_child
from benchmarks.serve import Server, log

WATCHLIST = "bench"
TERMS = ('"Acme Cloud"', "acme.io")
EXCLUDE = ('"Acme Corporation" coyote',)
DEFAULT_CONCURRENCY = 16  # ereput's default (`scan --concurrency`)
CHANGED = 50


# --- baseline A: bare httpx ----------------------------------------------------------------


async def bare_fetch(urls: list[str], concurrency: int, per_host: int = 2) -> dict[str, Any]:
    """GET every URL with one AsyncClient: `concurrency` in flight, `per_host` per host."""
    import httpx

    gate = asyncio.Semaphore(concurrency)
    hosts: dict[str, asyncio.Semaphore] = {}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    total, statuses = 0, {}

    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def one(url: str) -> None:
            nonlocal total
            host = httpx.URL(url).host
            slot = hosts.setdefault(host, asyncio.Semaphore(per_host))
            async with gate, slot:
                res = await client.get(url)
                body = await res.aread()
            total += len(body)
            statuses[res.status_code] = statuses.get(res.status_code, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(one(u) for u in urls))
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "bytes": total, "statuses": statuses}


# --- the workload on disk ------------------------------------------------------------------


def write_watchlist(
    path: Path, urls: list[str], terms: Iterable[str] = TERMS, exclude: Iterable[str] = EXCLUDE
) -> Path:
    def toml_list(values: Iterable[str]) -> str:
        return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in values) + "]"

    lines = [
        f'name = "{WATCHLIST}"',
        'title = "Acme Cloud (benchmark)"',
        "",
        "[query]",
        f"terms = {toml_list(terms)}",
        f"exclude = {toml_list(exclude)}",
        "",
    ]
    for i, url in enumerate(urls):
        lines += ["[[sources]]", f'name = "feed-{i:05d}"', 'kind = "feed"', f'url = "{url}"', ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def many_terms(n: int = 1000) -> list[str]:
    """The watchlist's two brand terms and n - 2 more that never match the workload: each
    holds a made-up token, most next to common words so that matching does real work."""
    out = list(TERMS)
    words = feeds.WORDS
    shapes: list[Callable[[int, str, str], str]] = [
        lambda i, a, b: f'"{a} zq{i}x"',
        lambda i, a, b: f"{a} {b} zq{i}x",
        lambda i, a, b: f"({a} OR {b}) zq{i}x",
        lambda i, a, b: f"zq{i}x",
        lambda i, a, b: f"#zq{i}x {a}",
        lambda i, a, b: f"{a} -{b} zq{i}x",
    ]
    i = 0
    while len(out) < n:
        a, b = words[i % len(words)], words[(i * 7 + 3) % len(words)]
        out.append(shapes[i % len(shapes)](i, a, b))
        i += 1
    return out


# --- running ereput ------------------------------------------------------------------------


def ereput_bin() -> str:
    here = Path(sys.executable).parent / "ereput"
    found = str(here) if here.exists() else shutil.which("ereput")
    if not found:
        raise BenchmarkFailure("the `ereput` command is not installed next to this Python")
    return found


@dataclass(frozen=True)
class Scan:
    run: ChildRun
    summary: dict[str, Any]


def scan(db: Path, watchlist: Path, *, env: dict[str, str] | None = None) -> Scan:
    argv = [ereput_bin(), "--db", str(db), "-w", str(watchlist), "scan", "--json", "--quiet"]
    child_env = {k: v for k, v in os.environ.items() if k != "EREPUT_FEED_PARSER"}
    child_env.update(env or {})
    run = run_child(argv, env=child_env)
    if run.returncode not in (0, 1):
        raise BenchmarkFailure(f"ereput scan exited {run.returncode}: {run.stderr.strip()[-800:]}")
    try:
        summary = json.loads(run.stdout)
    except ValueError as e:
        raise BenchmarkFailure(f"ereput scan --json printed no JSON: {run.stdout[:300]!r}") from e
    if summary.get("failed") or run.returncode:
        first = (summary.get("failed") or [{}])[:3]
        raise BenchmarkFailure(f"ereput scan: {len(summary['failed'])} sources failed: {first}")
    return Scan(run, summary)


def snapshot(db: Path, to: Path) -> Path:
    """A consistent copy of a database (WAL included) through SQLite's backup API."""
    src = sqlite3.connect(db)
    dst = sqlite3.connect(to)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return to


# --- the correctness guard -----------------------------------------------------------------


def guard(db: Path, truth: Iterable[feeds.Entry], what: str) -> int:
    """Check the stored mentions against the ground truth; returns how many there are."""
    from ereput.urls import canonical_url

    def nfc(s: str) -> str:
        return unicodedata.normalize("NFC", s).strip()

    expected: dict[str, str] = {}
    decoys: set[str] = set()
    plain: set[str] = set()
    for e in truth:
        url = canonical_url(e.url)
        if url is None:
            raise BenchmarkFailure(f"generator bug: no canonical URL for {e.url}")
        if e.matches:
            expected[url] = nfc(e.author.name) if e.author else ""
        else:
            (decoys if e.kind == "decoy" else plain).add(url)
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT url, author_name FROM mentions WHERE watchlist = ?", (WATCHLIST,)
        ).fetchall()
    finally:
        con.close()
    stored = {url: nfc(name or "") for url, name in rows}
    problems = []
    if len(rows) != len(stored):
        problems.append(f"{len(rows) - len(stored)} duplicate mention URLs")
    missing = sorted(set(expected) - set(stored))
    if missing:
        problems.append(f"{len(missing)} brand entries not stored, e.g. {missing[:3]}")
    stored_decoys = sorted(set(stored) & decoys)
    if stored_decoys:
        problems.append(f"{len(stored_decoys)} decoys stored, e.g. {stored_decoys[:3]}")
    others = sorted(set(stored) - set(expected) - decoys)
    if others:
        problems.append(f"{len(others)} non-matching entries stored, e.g. {others[:3]}")
    wrong = [
        f"{url}: {stored[url]!r} != {name!r}"
        for url, name in expected.items()
        if url in stored and stored[url] != name
    ]
    if wrong:
        problems.append(f"{len(wrong)} wrong author names, e.g. {wrong[:3]}")
    if problems:
        raise BenchmarkFailure(f"wrong scan ({what}): " + "; ".join(problems))
    return len(stored)


# --- the suite -----------------------------------------------------------------------------


@dataclass
class Config:
    feeds: int = 1000
    reps: int = 3
    scale_feeds: int = 0  # 0: no scale run
    terms: int = 1000
    bare_32: bool = True  # also measure baseline A with 32 in flight


def run(config: Config, info: dict[str, str] | None = None) -> list[Row]:
    info = info if info is not None else {}
    tmp = Path(tempfile.mkdtemp(prefix="ereput-bench-"))
    try:
        return _run(config, tmp, info)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(cfg: Config, tmp: Path, info: dict[str, str]) -> list[Row]:
    n, reps = cfg.feeds, cfg.reps
    www = tmp / "www"
    started = time.perf_counter()
    work = feeds.generate(www, n)
    size = sum(work.file(i).stat().st_size for i in range(n))
    log(
        f"generated {n} feeds × {feeds.ENTRIES} entries, {size / 2**20:.1f} MiB, "
        f"in {time.perf_counter() - started:.1f} s"
    )
    rows: list[Row] = []
    with Server(www, tmp) as server:
        info["server"] = server.kind
        info["workload"] = (
            f"{n} feeds × {feeds.ENTRIES} entries, {size / 2**20:.1f} MiB, "
            f"{feeds.HOSTS} hosts; medians of {reps}"
        )
        log(f"serving on 127.0.1.1-{feeds.HOSTS}:{server.port} with {server.kind}")
        urls = [work.url(i, server.port) for i in range(n)]
        urls_file = tmp / "urls.txt"
        urls_file.write_text("\n".join(urls))
        wl = write_watchlist(tmp / "bench.toml", urls)
        wl_terms = write_watchlist(tmp / "terms.toml", urls, many_terms(cfg.terms))
        truth = list(work.truth())
        n_brand = sum(e.matches for e in truth)

        # Baseline A: bare httpx, ereput's default in-flight count and 32.
        bare: dict[int, list[float]] = {}
        for conc in (DEFAULT_CONCURRENCY, 32) if cfg.bare_32 else (DEFAULT_CONCURRENCY,):
            for _ in range(reps):
                r = run_child(
                    [
                        sys.executable,
                        "-m",
                        "benchmarks.scan_bench",
                        "fetch",
                        str(urls_file),
                        str(conc),
                    ]
                )
                if r.returncode:
                    raise BenchmarkFailure(f"bare httpx fetch failed: {r.stderr[-500:]}")
                out = json.loads(r.stdout)
                if out["statuses"] != {"200": n}:
                    raise BenchmarkFailure(f"bare httpx fetch: statuses {out['statuses']}")
                bare.setdefault(conc, []).append(r.wall_s)
            log(f"bare httpx ×{conc}: {median(bare[conc]):.2f} s")
        a16 = median(bare[DEFAULT_CONCURRENCY])

        def cold(watchlist: Path, label: str, env: dict[str, str] | None = None) -> list[Scan]:
            runs = []
            for rep in range(reps):
                db = tmp / f"{label}-{rep}.db"
                s = scan(db, watchlist, env=env)
                stored = guard(db, truth, label)
                if s.summary["new"] != n_brand or stored != n_brand:
                    raise BenchmarkFailure(
                        f"{label}: {s.summary['new']} new, {stored} stored, {n_brand} expected"
                    )
                runs.append(s)
            log(
                f"{label}: {median([s.run.wall_s for s in runs]):.2f} s, "
                f"{max(s.run.tree_rss_mb for s in runs):.0f} MB"
            )
            return runs

        # Baseline B: the same pipeline with plain feedparser.
        base_b = cold(wl, "feedparser", env={"EREPUT_FEED_PARSER": "feedparser"})
        colds = cold(wl, "cold")
        b = median([s.run.wall_s for s in base_b])
        c = median([s.run.wall_s for s in colds])
        c_rss = median([s.run.tree_rss_mb for s in colds])
        c_max = median([s.run.max_rss_mb for s in colds])
        reference = snapshot(tmp / f"cold-{reps - 1}.db", tmp / "reference.db")

        # Re-scan, nothing changed: every source must answer 304.
        unchanged = []
        for rep in range(reps):
            db = snapshot(reference, tmp / f"unchanged-{rep}.db")
            s = scan(db, wl)
            if s.summary["not_modified"] != n or s.summary["new"] or s.summary["updated"]:
                raise BenchmarkFailure(f"re-scan of unchanged feeds: {s.summary}")
            unchanged.append(s.run.wall_s)
        u = median(unchanged)
        log(f"unchanged re-scan: {u:.2f} s")

        # Re-scan after 50 feeds changed (10 × version new entries each, oldest dropped).
        n_changed = min(CHANGED, max(n // 20, 1))  # 50 of 1,000; 5 of a --quick 100
        changed_feeds = list(range(0, n, n // n_changed))[:n_changed]
        changed = []
        for rep in range(reps):
            version = rep + 1
            work.change(changed_feeds, version, feeds.EPOCH.timestamp() + 3600 * version)
            new_brand = sum(
                e.matches
                for f in changed_feeds
                for e in feeds.entries(f, version)[: feeds.NEW_PER_VERSION * version]
            )
            db = snapshot(reference, tmp / f"changed-{rep}.db")
            s = scan(db, wl)
            if s.summary["not_modified"] != n - len(changed_feeds):
                raise BenchmarkFailure(f"re-scan after {n_changed} changes: {s.summary}")
            if s.summary["new"] != new_brand:
                raise BenchmarkFailure(
                    f"re-scan after {n_changed} changes: "
                    f"{s.summary['new']} new, {new_brand} expected"
                )
            guard(db, work.truth(), "changed")
            changed.append(s.run.wall_s)
        work.change(changed_feeds, 0, feeds.EPOCH.timestamp())  # back to the original ETags
        for f in changed_feeds:
            work.versions.pop(f, None)
        ch = median(changed)
        log(f"{n_changed} changed re-scan: {ch:.2f} s")

        # 1,000 query terms.
        terms_runs = cold(wl_terms, f"{cfg.terms}-terms")
        t = median([s.run.wall_s for s in terms_runs])

        rows += [
            Row("bare httpx fetch, 16 in flight (baseline A)", a16, "s"),
            *(
                [
                    Row(
                        "bare httpx fetch, 32 in flight",
                        median(bare[32]),
                        "s",
                        "A",
                        median(bare[32]) / a16,
                    )
                ]
                if 32 in bare
                else []
            ),
            Row("cold scan, plain feedparser (baseline B)", b, "s", "A", b / a16),
            Row("cold scan", c, "s", "A", c / a16, "≤ 2× A", c / a16 <= 2),
            Row("cold scan against baseline B", c, "s", "B", c / b, "< 1× B", c < b),
            Row("re-scan, nothing changed (all 304)", u, "s", "A", u / a16, "≤ 1× A", u <= a16),
            Row(
                f"re-scan, {n_changed} feeds changed",
                ch,
                "s",
                "unchanged",
                ch / u,
                "≤ 1.2× unchanged",
                ch / u <= 1.2,
            ),
            Row(
                "cold scan peak RSS (process tree)", c_rss, "MB", "", None, "≤ 120 MB", c_rss <= 120
            ),
            Row("cold scan peak RSS (largest process)", c_max, "MB"),
            Row(
                f"cold scan, {cfg.terms} query terms",
                t,
                "s",
                "cold",
                t / c,
                "≤ 1.1× cold",
                t / c <= 1.1,
            ),
            Row("mentions checked against ground truth", float(n_brand), "ok"),
        ]

        if cfg.scale_feeds > n:
            rows += _scale(cfg, tmp, work, server.port, c, c_rss)
    return rows


def _scale(
    cfg: Config, tmp: Path, work: feeds.Workload, port: int, c: float, c_rss: float
) -> list[Row]:
    big = cfg.scale_feeds
    started = time.perf_counter()
    stamp = feeds.EPOCH.timestamp()
    for f in range(work.feeds, big):
        path = work.file(f)
        path.write_bytes(feeds.render(f, feeds.entries(f)))
        os.utime(path, (stamp, stamp))
    work.feeds = big
    log(f"generated {big} feeds in {time.perf_counter() - started:.0f} s")
    wl = write_watchlist(tmp / "big.toml", [work.url(i, port) for i in range(big)])
    db = tmp / "big.db"
    s = scan(db, wl)
    stored = guard(db, work.truth(), f"{big} feeds")
    log(f"{big} feeds: {s.run.wall_s:.1f} s, {s.run.tree_rss_mb:.0f} MB, {stored} mentions")
    ratio = s.run.wall_s / c
    return [
        Row(
            f"cold scan, {big} feeds (1 run)",
            s.run.wall_s,
            "s",
            "cold",
            ratio,
            f"≤ {big * 1.1 / cfg.feeds:.0f}× cold",
            ratio <= big * 1.1 / cfg.feeds,
        ),
        Row(
            f"peak RSS, {big} feeds (process tree)",
            s.run.tree_rss_mb,
            "MB",
            "cold",
            s.run.tree_rss_mb / c_rss,
            "≤ 1.1× cold, ≤ 120 MB",
            s.run.tree_rss_mb <= min(1.1 * c_rss, 120),
        ),
    ]


def main(argv: list[str]) -> None:
    """`python -m benchmarks.scan_bench fetch URLS_FILE CONCURRENCY`: baseline A alone."""
    if len(argv) == 3 and argv[0] == "fetch":
        urls = Path(argv[1]).read_text().split()
        out = asyncio.run(bare_fetch(urls, int(argv[2])))
        out["statuses"] = {str(k): v for k, v in out["statuses"].items()}
        print(json.dumps(out))
    else:
        sys.exit(main.__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
