"""The scan's parse worker process (services.worker): answers reach the job that asked,
errors travel back, and a worker that dies fails its jobs instead of hanging the scan,
which goes on with a new one."""

from __future__ import annotations

import json
import operator
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import wait
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ereput.cli import app
from ereput.fetchers.base import parser_modules
from ereput.services.worker import PIPE_SIZE, WorkerDied, WorkerProcess
from feedsite import Entry, rss, watchlist
from httpserver import Response


class TwoArgs(Exception):
    """An exception that pickles but cannot be unpickled (its constructor wants two
    arguments, its `args` hold one)."""

    def __init__(self, a: str, b: str) -> None:
        super().__init__(f"{a}/{b}")


def raise_two_args() -> None:
    raise TwoArgs("a", "b")


def remember(value: str) -> None:
    os.environ["TEST_WORKER_STARTED_WITH"] = value


def started_with() -> str | None:
    return os.environ.get("TEST_WORKER_STARTED_WITH")


def die_at_start(*_: object) -> None:
    os._exit(3)


@pytest.fixture
def worker():
    w = WorkerProcess(remember, ("hello",))
    yield w
    w.shutdown()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pipe sizes are Linux's")
def test_pipes_hold_many_feeds(worker: WorkerProcess) -> None:
    """A 68 KB feed no longer fills the pipe: both directions get PIPE_SIZE bytes, or the
    most a user may ask for."""
    import fcntl

    limit = int(Path("/proc/sys/fs/pipe-max-size").read_text())
    for pipe in (worker._proc.stdin, worker._proc.stdout):
        assert pipe is not None
        size = fcntl.fcntl(pipe.fileno(), fcntl.F_GETPIPE_SZ)
        assert size >= min(PIPE_SIZE, limit) > 64 * 1024


def test_answers_reach_the_job_that_asked(worker: WorkerProcess) -> None:
    futures = [worker.submit(operator.mul, i, 7) for i in range(200)]
    assert [f.result(timeout=30) for f in futures] == [i * 7 for i in range(200)]
    assert worker.submit(started_with).result(timeout=30) == "hello"  # the initializer ran
    assert worker.submit(os.getpid).result(timeout=30) != os.getpid()  # in another process


def modules_loaded(*names: str) -> list[bool]:
    return [name in sys.modules for name in names]


def test_a_worker_loads_the_parsers_it_was_told_before_its_first_job() -> None:
    """A scan's worker starts early and loads its parsers while the scan's process is still
    starting: the first feed then waits for no import."""
    parsers = parser_modules(["feed", "reddit"])
    assert parsers == ("ereput.fetchers.feed_parse",)
    plain = WorkerProcess(remember, ("x",))
    warm = WorkerProcess(remember, ("x",), parsers)
    try:
        assert plain.submit(modules_loaded, *parsers).result(timeout=30) == [False]
        assert warm.submit(modules_loaded, *parsers).result(timeout=30) == [True]
    finally:
        plain.shutdown()
        warm.shutdown()


def test_a_large_job_does_not_block_the_caller(worker: WorkerProcess) -> None:
    body = b"x" * (8 << 20)  # far over a pipe's buffer
    assert worker.submit(len, body).result(timeout=30) == len(body)


def test_errors_travel_back_to_their_job(worker: WorkerProcess) -> None:
    bad = worker.submit(int, "not a number")
    good = worker.submit(int, "12")
    with pytest.raises(ValueError, match="not a number"):
        bad.result(timeout=30)
    assert good.result(timeout=30) == 12
    # One that would not survive the trip back comes as a RuntimeError saying the same.
    with pytest.raises(RuntimeError, match="TwoArgs: a/b"):
        worker.submit(raise_two_args).result(timeout=30)
    assert worker.submit(int, "13").result(timeout=30) == 13


def deep(n: int) -> list:
    nested: list = []
    for _ in range(n):
        nested = [nested]
    return nested


def test_what_cannot_be_pickled_fails_its_own_job_only(worker: WorkerProcess) -> None:
    with pytest.raises(RecursionError):  # far too deep to pickle, on the way there
        worker.submit(len, deep(200_000)).result(timeout=30)
    with pytest.raises(RuntimeError, match="unpicklable result"):  # on the way back
        worker.submit(deep, 200_000).result(timeout=30)
    with pytest.raises(RuntimeError, match="unpicklable result"):
        worker.submit(lambda_maker).result(timeout=30)
    assert worker.submit(operator.add, 2, 3).result(timeout=30) == 5


def lambda_maker():
    return lambda: None


def test_a_dying_worker_fails_its_jobs_and_the_later_ones(worker: WorkerProcess) -> None:
    held = [worker.submit(operator.add, 1, 1), worker.submit(os._exit, 9)]
    held += [worker.submit(operator.add, 2, 2) for _ in range(5)]
    done, _ = wait(held, timeout=30)
    assert len(done) == len(held)
    assert held[0].result() == 2
    for f in held[1:]:
        with pytest.raises(WorkerDied, match="exit status 9"):
            f.result()
    assert worker.broken
    with pytest.raises(WorkerDied):
        worker.submit(operator.add, 3, 3).result(timeout=5)


def test_a_scan_whose_worker_dies_names_the_failed_sources_and_ends(
    http_server, tmp_path, monkeypatch
):
    """A worker that dies at once: the sources it held fail, each by name, and the scan
    ends (it once waited forever)."""
    monkeypatch.setattr("ereput.services.scan.WORKER_MIN_SOURCES", 1)
    monkeypatch.setattr("ereput.services.scan._init_worker", die_at_start)
    sources = []
    for i in range(30):
        body = rss([Entry("Acme is down", f"https://ex.org/{i}")])
        http_server.routes[f"/f{i}.xml"] = Response(body, headers={"Content-Type": "text/xml"})
        sources.append((f"f{i}", http_server.url(f"/f{i}.xml")))
    wl = watchlist(tmp_path / "w.toml", sources)
    db = tmp_path / "e.db"
    result = CliRunner().invoke(app, ["--db", str(db), "-w", str(wl), "scan", "--json"])
    summary = json.loads(result.stdout)
    assert result.exit_code == 1  # some sources failed
    assert summary["ok"] + len(summary["failed"]) == 30
    for failure in summary["failed"]:
        assert failure["source"].startswith("hostile/f")
        assert "parse worker process ended (exit status 3)" in failure["error"]
        # Said as what happened to the source, not as a crash of ereput's own code.
        assert failure["error"].startswith("parsing stopped:"), failure["error"]
    assert summary["new"] == summary["ok"]


def test_a_feed_costs_its_scan_one_trip_to_the_worker(http_server, tmp_path, monkeypatch):
    """A feed's items are selected in the job that parsed them: one job per changed feed
    reaches the worker, not a parse job and then a selection job."""
    jobs: list[str] = []
    submit = WorkerProcess.submit

    def counted(self, fn, /, *args):
        jobs.append(getattr(fn, "__name__", type(fn).__name__))
        return submit(self, fn, *args)

    monkeypatch.setattr(WorkerProcess, "submit", counted)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    sources = []
    for i in range(40):  # a first scan of 40 sources starts its worker at once
        entries = [
            Entry(f"Acme is down {i}", f"https://ex.org/{i}"),
            Entry("Other", f"https://ex.org/o{i}"),
        ]
        http_server.routes[f"/f{i}.xml"] = Response(
            rss(entries), headers={"Content-Type": "text/xml"}
        )
        sources.append((f"f{i}", http_server.url(f"/f{i}.xml")))
    wl = watchlist(tmp_path / "w.toml", sources)
    result = CliRunner().invoke(
        app, ["--db", str(tmp_path / "e.db"), "-w", str(wl), "scan", "--json"]
    )
    summary = json.loads(result.stdout)
    assert (result.exit_code, summary["ok"], summary["new"]) == (0, 40, 40)
    assert len(jobs) == 40, jobs


def test_the_scan_starts_a_dead_worker_again_a_few_times_then_parses_itself(monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from ereput.services.scan import WORKER_RESTARTS, _Parsers

    monkeypatch.setattr("ereput.services.scan._init_worker", die_at_start)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    with _Parsers([], sources=100, unvalidated=100) as parsers:
        seen = []
        for _ in range(WORKER_RESTARTS + 1):
            executor = parsers.for_source("a")
            assert isinstance(executor, WorkerProcess) and executor not in seen
            seen.append(executor)
            with pytest.raises(WorkerDied):
                executor.submit(operator.add, 1, 1).result(timeout=30)
        assert isinstance(parsers.for_source("a"), ThreadPoolExecutor)


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_scan_killed_by_sigkill_leaves_no_worker_behind(http_server, tmp_path):
    """Cron's timeout, an OOM kill: the worker sees its stdin close and ends too."""
    sources = []
    for i in range(40):  # a first scan of 40 sources starts its worker at once
        body = rss([Entry(f"Acme {i}.{n}", f"https://ex.org/{i}/{n}") for n in range(20)])
        http_server.routes[f"/f{i}.xml"] = Response(body, stall=0.3, conditional=False)
        sources.append((f"f{i}", http_server.url(f"/f{i}.xml")))
    wl = watchlist(tmp_path / "w.toml", sources)
    argv = [sys.executable, "-m", "ereput", "--db", str(tmp_path / "e.db"), "-w", str(wl)]
    scan = subprocess.Popen([*argv, "scan", "--quiet"])
    try:
        deadline = time.monotonic() + 30
        workers: list[int] = []
        while not workers and time.monotonic() < deadline and scan.poll() is None:
            workers = children(scan.pid)
            time.sleep(0.02)
        assert workers, "the scan started no worker process"
        scan.send_signal(signal.SIGKILL)
        scan.wait(timeout=10)
        deadline = time.monotonic() + 10
        while any(alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(alive(w) for w in workers)
    finally:
        if scan.poll() is None:
            scan.kill()
