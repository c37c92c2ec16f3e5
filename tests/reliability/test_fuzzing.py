"""The fuzzing campaign (``fuzzing.py``): a small sample in the default suite, 10,000 inputs
behind the ``slow`` marker. Every input ends in a correct result or one clear error."""

from __future__ import annotations

import pytest
from fuzzing import TARGETS, campaign


def _check(n_inputs: int, seed: int) -> None:
    report = campaign(n_inputs, seed)
    print("\n" + report.table())
    assert set(t.split(":")[0] for t in report.counts) == set(TARGETS)
    assert report.failures == [], "\n".join(report.failures[:20])


def test_a_sample_of_hostile_inputs() -> None:
    _check(150, seed=1_000_000)


@pytest.mark.slow
def test_ten_thousand_hostile_inputs() -> None:
    _check(10_000, seed=0)
