"""What every benchmark module shares: the row of the final table, medians, a timed child.

`store_bench.run(quick)` and `scan_bench.run(...)` both return `list[Row]`; `__main__`
prints them as one table.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Row:
    """One line of the table: a measured value, its baseline and target.

    `ratio` is value / baseline when there is a baseline (None otherwise); `target` is a
    human-readable goal ("≤ 2× bare httpx"); `ok` is True/False when the target applies,
    None for rows that only inform.
    """

    name: str
    value: float
    unit: str
    baseline: str = ""
    ratio: float | None = None
    target: str = ""
    ok: bool | None = None


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


@dataclass(frozen=True)
class ChildRun:
    """A finished child process: wall time, peak memory, exit code, output."""

    wall_s: float
    #: the largest RSS of a single process of the tree, sampled every 50 ms (not ru_maxrss:
    #: a child forked from this benchmark shares its pages until it execs, and ru_maxrss
    #: then reports this process's size, ~110 MB, whatever the child does)
    max_rss_mb: float
    #: the largest sum of RSS over the child's whole process tree, sampled every 50 ms
    tree_rss_mb: float
    returncode: int
    stdout: str
    stderr: str


def _descendants(root: int) -> list[int]:
    """The pid and every descendant of `root` (Linux /proc children lists; [root] elsewhere)."""
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                text = Path(f"/proc/{pid}/task/{task}/children").read_text()
                todo.extend(int(c) for c in text.split())
        except OSError:
            continue
    return found


def _rss_kb(pid: int) -> int:
    try:
        for line in Path("/proc", str(pid), "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def run_child(
    argv: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> ChildRun:
    """Run `argv`, measuring wall time and peak RSS (largest process and whole tree)."""
    peak = [0, 0]  # the tree's sum, the largest process
    done = threading.Event()
    started = time.perf_counter()
    proc = subprocess.Popen(
        list(argv),
        env=dict(env) if env is not None else None,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def sample() -> None:
        while not done.wait(0.05):
            sizes = [_rss_kb(p) for p in _descendants(proc.pid)]
            peak[0] = max(peak[0], sum(sizes))
            peak[1] = max([peak[1], *sizes])

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out_chunks: dict[str, str] = {}

    def drain(name: str, stream: object) -> None:
        out_chunks[name] = stream.read()  # type: ignore[attr-defined]

    readers = [
        threading.Thread(target=drain, args=("out", proc.stdout)),
        threading.Thread(target=drain, args=("err", proc.stderr)),
    ]
    for t in readers:
        t.start()
    _, status = os.waitpid(proc.pid, 0)
    wall = time.perf_counter() - started
    done.set()
    for t in readers:
        t.join()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return ChildRun(
        wall_s=wall,
        max_rss_mb=peak[1] / 1024,
        tree_rss_mb=peak[0] / 1024,
        returncode=proc.returncode,
        stdout=out_chunks.get("out", ""),
        stderr=out_chunks.get("err", ""),
    )


class BenchmarkFailure(Exception):
    """A benchmark could not run or produced a wrong result: the suite exits non-zero."""
