"""Student t quantiles for batch-means intervals, for any number of batches.

A simulation's batch means give a confidence interval with n - 1 degrees of freedom for
n batches; the quantile was a constant for 20 batches (19 degrees of freedom) in three
places. Here it is computed for the batches actually there: the two-sided quantile of
level ``level`` is the x with P(|T| <= x) = level, found by bisection on the CDF, which
is a regularized incomplete beta function (its continued fraction, as in Numerical
Recipes). The result is rounded to 3 decimals, as printed tables give it,
so that an interval in a record is reproducible from its text (19 degrees of freedom:
2.861 at 99 %, 3.883 at 99.9 %, the constants used before). Standard library only."""

from __future__ import annotations

import functools
import math


def _betacf(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        for num in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                    -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1 + num * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1) < 1e-15:
            break
    return h


def _ibeta(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b), 0 <= x <= 1."""
    if x <= 0 or x >= 1:
        return 0.0 if x <= 0 else 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                     + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1) / (a + b + 2):
        return front * _betacf(a, b, x) / a
    return 1 - front * _betacf(b, a, 1 - x) / b


def _central(x: float, df: int) -> float:
    """P(|T| <= x) for x >= 0: 1 - I_{df / (df + x^2)}(df / 2, 1 / 2)."""
    return 1 - _ibeta(df / 2, 0.5, df / (df + x * x))


@functools.lru_cache(maxsize=None)
def t_quantile(level: float, df: int) -> float:
    """The two-sided Student t quantile: P(|T_df| <= x) = level, 3 decimals."""
    if not (0 < level < 1) or df < 1:
        raise ValueError(f"need 0 < level < 1 and df >= 1, got {level}, {df}")
    lo, hi = 0.0, 1.0
    while _central(hi, df) < level:
        hi *= 2
    for _ in range(100):
        if hi - lo <= 1e-9 * hi:
            break
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _central(mid, df) < level else (lo, mid)
    return round((lo + hi) / 2, 3)
