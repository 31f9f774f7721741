"""Spike detection (src/ereput/spikes.py): pure, used by the report and the spike alert."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ereput.spikes import find_spikes


def test_a_day_above_factor_times_the_trailing_average_is_a_spike() -> None:
    counts = [2, 2, 2, 2, 2, 2, 2, 10, 2]
    assert find_spikes(counts, factor=2.0) == [7]


def test_exactly_factor_times_the_average_is_not_a_spike() -> None:
    assert find_spikes([3, 3, 3, 6], factor=2.0) == []
    assert find_spikes([3, 3, 3, 7], factor=2.0) == [3]


def test_the_factor_is_configurable() -> None:
    counts = [4, 4, 4, 4, 4, 4, 4, 10]
    assert find_spikes(counts, factor=2.0) == [7]
    assert find_spikes(counts, factor=3.0) == []


def test_history_supplies_the_days_before_the_period() -> None:
    # The first day of the period is judged against the week before it.
    assert find_spikes([9, 1, 1], factor=2.0, history=[1] * 7) == [0]
    # Without that history the first day has nothing to compare with.
    assert find_spikes([9, 1, 1], factor=2.0) == []


def test_only_the_trailing_window_counts() -> None:
    # A busy month long ago does not hide today's spike.
    history = [50] * 20 + [1] * 7
    assert find_spikes([8], factor=2.0, history=history, trailing=7) == [0]
    assert find_spikes([8], factor=2.0, history=history, trailing=30) == []


def test_minimum_volume_ignores_tiny_numbers() -> None:
    assert find_spikes([0, 0, 0, 2], factor=2.0) == []
    assert find_spikes([0, 0, 0, 3], factor=2.0) == [3]
    assert find_spikes([0, 0, 0, 2], factor=2.0, minimum=1) == [3]


def test_earlier_spikes_raise_the_trailing_average() -> None:
    # Two busy days in a row are both spikes; a lasting level stops being one.
    assert find_spikes([1] * 7 + [10] * 6, factor=2.0) == [7, 8, 9, 10]


def test_empty_and_invalid_input() -> None:
    assert find_spikes([], factor=2.0) == []
    with pytest.raises(ValueError):
        find_spikes([1], factor=0)
    with pytest.raises(ValueError):
        find_spikes([1], factor=2.0, trailing=0)


@given(
    st.lists(st.integers(0, 1000), max_size=40),
    st.lists(st.integers(0, 1000), max_size=14),
    st.floats(0.5, 10),
)
def test_indices_are_within_the_period_and_reach_the_minimum(
    counts: list[int], history: list[int], factor: float
) -> None:
    found = find_spikes(counts, factor=factor, history=history, minimum=3)
    assert found == sorted(set(found))
    assert all(0 <= i < len(counts) and counts[i] >= 3 for i in found)
