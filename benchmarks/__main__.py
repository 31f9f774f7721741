"""`python -m benchmarks [--quick] [--only scan|store|sentiment] [--feeds N] [--scale N]`

Runs the feed-scan benchmarks (scan_bench) and, when benchmarks/store_bench.py exists, the
store-at-scale ones, then the sentiment ones (sentiment_bench: accuracy on labelled
sentences, cost per mention), then prints one table of medians, ratios and targets. Exits 1
when a benchmark fails or stores something wrong (a slow result only gets a ✗).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import sys
import time

from benchmarks.common import BenchmarkFailure, Row


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(
                (line.split(":", 1)[1].strip() for line in f if line.startswith("model name")),
                cpu,
            )
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, {platform.system()}"


def fmt_value(row: Row) -> str:
    if row.unit == "s":
        return f"{row.value:.2f} s" if row.value < 100 else f"{row.value:.0f} s"
    if row.unit == "ms":
        return f"{row.value:.1f} ms"
    if row.unit == "MB":
        return f"{row.value:.0f} MB"
    if row.unit == "ok":
        return f"{row.value:.0f} ✓"
    return f"{row.value:g} {row.unit}".strip()


def table(rows: list[Row]) -> str:
    head = ("benchmark", "median", "vs", "ratio", "target", "")
    body = [
        (
            r.name,
            fmt_value(r),
            r.baseline,
            f"{r.ratio:.2f}×" if r.ratio is not None else "",
            r.target,
            {True: "✓", False: "✗", None: ""}[r.ok],
        )
        for r in rows
    ]
    widths = [max(len(x[i]) for x in (head, *body)) for i in range(len(head))]
    right = {1, 3}

    def line(cells: tuple[str, ...]) -> str:
        return (
            "| "
            + " | ".join(
                c.rjust(w) if i in right else c.ljust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            )
            + " |"
        )

    sep = (
        "|"
        + "|".join(
            ("-" * (w + 1) + ":") if i in right else "-" * (w + 2) for i, w in enumerate(widths)
        )
        + "|"
    )
    return "\n".join([line(head), sep, *map(line, body)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[2]
    )
    parser.add_argument("--quick", action="store_true", help="small and once: a smoke test")
    parser.add_argument("--only", choices=("scan", "store", "sentiment"), help="run one part only")
    parser.add_argument("--feeds", type=int, help="feeds in the scan workload (default 1000)")
    parser.add_argument(
        "--scale",
        type=int,
        default=None,
        help="feeds of the scale run (default 10000; 0 skips it; never with --quick)",
    )
    parser.add_argument("--reps", type=int, help="repetitions of each timed run (default 3)")
    args = parser.parse_args(argv)

    rows: list[Row] = []
    info: dict[str, str] = {"machine": machine()}
    started = time.perf_counter()
    try:
        if args.only in (None, "scan"):
            from benchmarks import scan_bench

            cfg = scan_bench.Config(
                feeds=args.feeds or (60 if args.quick else 1000),
                reps=args.reps or (1 if args.quick else 3),
                scale_feeds=0 if args.quick else (10_000 if args.scale is None else args.scale),
                terms=1000,
                bare_32=not args.quick,
            )
            rows += scan_bench.run(cfg, info)
        if args.only in (None, "store"):
            if importlib.util.find_spec("benchmarks.store_bench") is None:
                print(
                    "bench: benchmarks/store_bench.py is not there yet: store skipped",
                    file=sys.stderr,
                )
            else:
                from benchmarks import store_bench  # type: ignore[attr-defined]

                rows += store_bench.run(quick=args.quick)
        if args.only in (None, "sentiment"):
            from benchmarks import sentiment_bench

            rows += sentiment_bench.run(quick=args.quick)
    except BenchmarkFailure as e:
        if rows:
            print(table(rows))
        print(f"bench: FAILED: {e}", file=sys.stderr)
        return 1
    for key, value in info.items():
        print(f"{key}: {value}")
    print(f"total: {time.perf_counter() - started:.0f} s")
    print()
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
