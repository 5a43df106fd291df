"""The second moments a puzzle realizer measures, and the statistics defined from them.

The puzzle realizers compute, exactly and from the concrete object, Var F(X), Var F(Z),
Cov(F(X), F(Z)) and the variance explained by the best affine fit (through the normal
equations, ``solve_exact``); s2 and r2 are then their definitions, in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction


@dataclass
class SecondMoments:
    var_x: Fraction        # Var F(X)
    var_z: Fraction        # Var F(Z), Z = (X+Y)/2
    cov_xz: Fraction       # Cov(F(X), F(Z))
    explained: Fraction    # Var of the best affine fit of F(X)

    @property
    def s2(self) -> Fraction:
        return self.explained / self.var_x

    @property
    def r2(self) -> Fraction:
        return self.cov_xz ** 2 / (self.var_x * self.var_z)


def solve_exact(matrix: list[list[Fraction]], rhs: list[Fraction]) -> list[Fraction]:
    """Exact Gauss–Jordan elimination; ArithmeticError when the matrix is singular."""
    n = len(rhs)
    a = [list(row) + [r] for row, r in zip(matrix, rhs)]
    for col in range(n):
        pivot = next((r for r in range(col, n) if a[r][col] != 0), None)
        if pivot is None:
            raise ArithmeticError("singular normal equations")
        a[col], a[pivot] = a[pivot], a[col]
        for r in range(n):
            if r != col and a[r][col] != 0:
                factor = a[r][col] / a[col][col]
                a[r] = [x - factor * y for x, y in zip(a[r], a[col])]
    return [a[i][n] / a[i][i] for i in range(n)]
