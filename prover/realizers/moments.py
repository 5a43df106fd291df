"""The second moments a puzzle realizer measures, and the statistics defined from them.

Both puzzle realizers (``multilinear_exact``, ``general_exact``) compute, exactly and from
the concrete object, Var F(X), Var F(Z), Cov(F(X), F(Z)) and the variance explained by the
best affine fit; s2 and r2 are then their definitions, in one place.
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
