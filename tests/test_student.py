"""Student t quantiles for batch means (prover/realizers/student.py), pinned against
printed tables and, independently, scipy's t distribution."""

from __future__ import annotations

import pytest

from prover.realizers.student import t_quantile

TABLE = {(0.95, 1): 12.706, (0.95, 10): 2.228, (0.99, 4): 4.604, (0.99, 19): 2.861,
         (0.999, 2): 31.599, (0.999, 19): 3.883, (0.999, 30): 3.646, (0.95, 1000): 1.962}


@pytest.mark.parametrize("level, df", sorted(TABLE))
def test_quantiles_match_the_printed_table(level, df):
    assert t_quantile(level, df) == TABLE[level, df]


def test_quantiles_match_scipy():
    stats = pytest.importorskip("scipy.stats")
    for level in (0.9, 0.95, 0.99, 0.999):
        for df in (1, 2, 3, 5, 9, 19, 39, 99):
            want = float(stats.t.ppf(1 - (1 - level) / 2, df))
            assert abs(t_quantile(level, df) - want) <= 0.0005 + 1e-9, (level, df, want)


def test_the_quantile_follows_the_number_of_batches():
    # fewer batches, wider intervals: the constant for 20 batches would be too narrow
    assert t_quantile(0.99, 4) > t_quantile(0.99, 9) > t_quantile(0.99, 19) > 2.576


def test_bad_arguments_are_refused():
    for level, df in ((0, 5), (1, 5), (0.99, 0)):
        with pytest.raises(ValueError):
            t_quantile(level, df)
