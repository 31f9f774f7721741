"""Spike days: a day whose volume exceeds its trailing average by a factor (pure, no I/O).

The report marks them, and the `spike` alert fires on them. The trailing average is taken
over the `trailing` days *before* each day, so the caller passes those earlier days too
(`history`) and gets indices into `counts` back.
"""

from __future__ import annotations

from collections.abc import Sequence

DEFAULT_FACTOR = 2.0
TRAILING = 7  # days of trailing average a day is compared with (report and alerts)
MINIMUM = 3  # a day with fewer mentions is never a spike


def find_spikes(
    counts: Sequence[int],
    *,
    factor: float = DEFAULT_FACTOR,
    trailing: int = TRAILING,
    minimum: int = MINIMUM,
    history: Sequence[int] = (),
) -> list[int]:
    """Indices of the days of `counts` that are spikes.

    A day is a spike when its count is at least `minimum` and exceeds `factor` times the
    average of the `trailing` days before it (taken from `history`, the days just before
    `counts[0]`, oldest first, then from `counts` itself). With no earlier day at all, a day
    is not judged. A quiet history (average 0) makes any day reaching `minimum` a spike.
    """
    if factor <= 0 or trailing < 1:
        raise ValueError("factor must be > 0 and trailing >= 1")
    series = [*history, *counts]
    offset = len(history)
    spikes: list[int] = []
    for i in range(offset, len(series)):
        before = series[max(0, i - trailing) : i]
        if not before or series[i] < minimum:
            continue
        if series[i] > factor * (sum(before) / len(before)):
            spikes.append(i - offset)
    return spikes
