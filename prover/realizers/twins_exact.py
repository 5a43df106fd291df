"""Exact realizer for the `twins` model: enumerate genotypes and Mendelian transmissions.

The concrete object is the genetic architecture that ``twins_sim.build_architecture``
describes (biallelic loci, each genetic component a product of per-locus contrasts on
loci of its own), placed in the same pedigree as the simulation: grandparents gp1 x gp2
with sons s1, s2; s1 x m1 have c1 and its DZ twin c1dz (c1mz is c1's MZ twin, one
genotype twice); s2 x m2 have c2 (c1's first cousin); s1 x m3 have h1 (c1's half sib).
Instead of sampling families we enumerate every founder genotype (allele 1 with
probability p, independently per allele: Hardy-Weinberg) and every Mendelian
transmission (each parent passes either of its two alleles with probability 1/2), with
exact Fraction probabilities, and compute the statistics from their definitions:

* Cov(P_x, P_y) and Var P_x for each pair of relatives, as expectations over the
  enumerated pedigrees; the household variable C adds VC to pairs reared together and E
  is independent per person (their definitions); a correlation is cov / sqrt(var var).
* V_G, V_P and every component's variance over the founders (Hardy-Weinberg people).
* VA as the variance of the least-squares fit of G on the allele counts of all loci
  (normal equations solved exactly), so h2 = VA/V_P and s2 = VA/V_G.

Nothing here knows kinship coefficients, IBD probabilities or the Cockerham-Kempthorne
table: relatives resemble each other only because the enumeration hands them the same
alleles. Two facts about the family (not about the table) keep the enumeration small,
and they are stated where used:

(L) loci are unlinked and founders are in linkage equilibrium, so the pedigree's
    genotypes at different loci are independent (founder alleles are drawn independently
    per locus and each locus is transmitted independently). Hence the expectation of a
    product of per-locus functions is the product of per-locus expectations, and a term
    on loci disjoint from another's is independent of it (their covariances vanish).
(S) each term's scale may be irrational (sqrt(V) times sqrt(2) per additive contrast);
    it only ever enters squared (its weight w = scale^2 is rational) because of (L) and
    because the realized terms use disjoint loci (checked).

Per locus the enumeration visits the pedigree member by member and sums out members no
longer needed (their descendants are done), so each pair costs at most a few hundred
weighted states; the work is linear in the number of loci. ``MAX_LOCI`` bounds it
anyway; beyond it the caller falls back to simulation.

Standard library only: this module is part of what ``prover verify`` re-runs.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from fractions import Fraction

__all__ = ["ExactTooLarge", "Factor", "Term", "exact_statistics", "realized_statistics",
           "MAX_LOCI"]

MAX_LOCI = 4096        # bound on the loci enumerated; larger realizations are simulated

# The pedigree: member -> (father, mother) or None for a founder; listed parents first.
_PEDIGREE = (
    ("gp1", None), ("gp2", None), ("m1", None), ("m2", None), ("m3", None),
    ("s1", ("gp1", "gp2")), ("s2", ("gp1", "gp2")),
    ("c1", ("s1", "m1")), ("c1dz", ("s1", "m1")), ("c2", ("s2", "m2")),
    ("h1", ("s1", "m3")),
)
_FOUNDERS = tuple(name for name, parents in _PEDIGREE if parents is None)

# statistic -> (person, relative, reared in one household); "c1mz" is c1 itself (MZ).
PAIRS = {
    "rMZ": ("c1", "c1", True),
    "rDZ": ("c1", "c1dz", True),
    "rPO": ("s1", "c1", False),
    "rHS": ("c1", "h1", False),
    "rFC": ("c1", "c2", False),
}

_GENETIC_NAME = re.compile(r"V(A*)(D*)")


class ExactTooLarge(ValueError):
    """The realization is beyond what the exact enumeration is allowed to handle."""


@dataclass(frozen=True)
class Factor:
    """One locus of a term: its allele frequency and the value the factor takes at
    allele count 0, 1, 2 (exact rationals)."""

    locus: int
    p: Fraction
    values: tuple[Fraction, Fraction, Fraction]


@dataclass(frozen=True)
class Term:
    """``sqrt(weight) * prod(factor.values[g_locus])``."""

    component: str
    weight: Fraction
    factors: tuple[Factor, ...]


# --- one locus: the pedigree enumerated ------------------------------------------------

def _allele_probability(p: Fraction, allele: int) -> Fraction:
    return p if allele else 1 - p


def pair_genotypes(p: Fraction, first: str, second: str) -> dict[tuple[int, int], Fraction]:
    """Exact joint distribution of the allele counts of ``first`` and ``second`` at one
    locus with allele frequency ``p``, by enumerating founder alleles and transmissions.
    A function of its arguments only (the pedigree is fixed), so it is enumerated once
    per process and kept (``_pair_table``); each call returns a fresh dict."""
    return dict(_pair_table(Fraction(p), str(first), str(second)))


@functools.lru_cache(maxsize=256)
def _pair_table(p: Fraction, first: str, second: str) -> tuple:
    """``pair_genotypes`` as an immutable tuple of items: the enumeration took half of
    a refuted twins conjecture's realization (25 ms of 55), the same few pairs at the
    same frequency each time.

    Exact in integers: with p = a/b every founder's genotype has weight
    (a or b-a)(a or b-a)/b² and every transmission 1/4, the same denominator for every
    state of a step, so the states carry integer numerators and the step's common
    denominator is kept once (Fractions, reduced by a gcd at every operation, made the
    first refuted conjecture of each worker 20 ms slower)."""
    parents = dict(_PEDIGREE)
    # only the two people and their ancestors, each founder placed just before its first
    # child (so few members are alive at once)
    order: list[str] = []

    def place(name: str) -> None:
        for parent in parents[name] or ():
            place(parent)
        if name not in order:
            order.append(name)

    place(first)
    place(second)
    last_use = {}
    for k, name in enumerate(order):
        for parent in parents[name] or ():
            last_use[parent] = k
    keep = {first, second}
    a, b = p.numerator, p.denominator
    allele = (b - a, a)                             # numerators of P(0), P(1) over b
    options = [((x, y), allele[x] * allele[y]) for x in (0, 1) for y in (0, 1)]
    live: list[str] = []
    states: dict[tuple, int] = {(): 1}              # genotypes of live members
    denominator = 1                                 # common to every state's weight
    for k, name in enumerate(order):
        new: dict[tuple, int] = {}
        if parents[name] is None:
            denominator *= b * b
            for state, weight in states.items():
                for genotype, prob in options:
                    key = state + (genotype,)
                    new[key] = new.get(key, 0) + weight * prob
        else:
            denominator *= 4                        # Mendel: either allele, 1/2 each
            father, mother = (live.index(x) for x in parents[name])
            for state, weight in states.items():
                for from_father in state[father]:
                    for from_mother in state[mother]:
                        key = state + ((from_father, from_mother),)
                        new[key] = new.get(key, 0) + weight
        live.append(name)
        # sum out members whose children are all placed and who are not asked for
        needed = [i for i, m in enumerate(live) if m in keep or last_use.get(m, -1) > k]
        states = {}
        for state, weight in new.items():
            key = tuple(state[i] for i in needed)
            states[key] = states.get(key, 0) + weight
        live = [live[i] for i in needed]
    joint: dict[tuple[int, int], int] = {}
    for state, weight in states.items():
        g = {m: sum(state[i]) for i, m in enumerate(live)}
        key = (g[first], g[second])
        joint[key] = joint.get(key, 0) + weight
    return tuple((key, Fraction(weight, denominator)) for key, weight in joint.items())


def founder_genotypes(p: Fraction) -> dict[int, Fraction]:
    """Allele-count distribution of a founder (two independent alleles)."""
    out: dict[int, Fraction] = {}
    for a in (0, 1):
        for b in (0, 1):
            out[a + b] = out.get(a + b, 0) + _allele_probability(p, a) * _allele_probability(p, b)
    return out


class _Tables:
    """Per-frequency enumerations, computed once."""

    def __init__(self):
        self.pairs: dict[tuple[Fraction, str, str], dict] = {}
        self.founders: dict[Fraction, dict] = {}

    def pair(self, p, x, y):
        if (p, x, y) not in self.pairs:
            self.pairs[p, x, y] = pair_genotypes(p, x, y)
        return self.pairs[p, x, y]

    def founder(self, p):
        if p not in self.founders:
            self.founders[p] = founder_genotypes(p)
        return self.founders[p]


def _product(xs) -> Fraction:
    out = Fraction(1)
    for x in xs:
        out *= x
    return out


# --- the whole architecture ------------------------------------------------------------

def exact_statistics(terms: list[Term], vc: Fraction = Fraction(0),
                     ve: Fraction = Fraction(0)) -> dict[str, Fraction]:
    """Every twins statistic of the architecture, exactly, from the enumeration."""
    seen: set[int] = set()
    for t in terms:
        loci = [f.locus for f in t.factors]
        if len(set(loci)) != len(loci) or seen & set(loci):
            raise ValueError("terms must use disjoint loci (fact (S) of this module)")
        seen |= set(loci)
        if t.weight < 0:
            raise ValueError("a term's weight (squared scale) must be >= 0")
    if len(seen) > MAX_LOCI:
        raise ExactTooLarge(f"{len(seen)} loci, more than the {MAX_LOCI} enumerated exactly")
    tables = _Tables()

    def founder_moment(f: Factor, power: int) -> Fraction:
        return sum(prob * f.values[g] ** power for g, prob in tables.founder(f.p).items())

    def pair_moment(f: Factor, x: str, y: str) -> tuple[Fraction, Fraction, Fraction,
                                                        Fraction, Fraction]:
        """E f(g_x) f(g_y), E f(g_x), E f(g_y), E f(g_x)^2, E f(g_y)^2 at one locus."""
        joint = tables.pair(f.p, x, y)
        fx = sum(w * f.values[a] for (a, b), w in joint.items())
        fy = sum(w * f.values[b] for (a, b), w in joint.items())
        fxy = sum(w * f.values[a] * f.values[b] for (a, b), w in joint.items())
        fxx = sum(w * f.values[a] ** 2 for (a, b), w in joint.items())
        fyy = sum(w * f.values[b] ** 2 for (a, b), w in joint.items())
        return fxy, fx, fy, fxx, fyy

    out: dict[str, Fraction] = {}
    # population: the founders (Hardy-Weinberg, linkage equilibrium by construction)
    term_variance = []
    for t in terms:
        # (L): a product over independent loci has the product of the loci's moments
        second = _product(founder_moment(f, 2) for f in t.factors)
        first = _product(founder_moment(f, 1) for f in t.factors)
        term_variance.append(t.weight * (second - first ** 2))
    v_g = sum(term_variance, Fraction(0))       # (L): terms on disjoint loci are independent
    v_p = v_g + vc + ve
    if v_g <= 0:
        raise ValueError("the realized genetic variance is 0")

    # VA by least squares of G on the allele counts x_l. Under (L) the counts of distinct
    # loci are uncorrelated, so the normal equations are diagonal: beta_l = Cov(x_l, G) /
    # Var x_l, and the fitted values have variance sum_l Cov(x_l, G)^2 / Var x_l. Only
    # the term holding locus l covaries with x_l (L), so Cov(x_l, G)^2 = w * c^2.
    v_a = Fraction(0)
    for t in terms:
        for f in t.factors:
            dist = tables.founder(f.p)
            mean_x = sum(g * prob for g, prob in dist.items())
            var_x = sum((g - mean_x) ** 2 * prob for g, prob in dist.items())
            if var_x == 0:
                continue                          # a fixed locus explains nothing
            cov = sum((g - mean_x) * f.values[g] * prob for g, prob in dist.items())
            cov *= _product(founder_moment(o, 1) for o in t.factors if o is not f)
            v_a += t.weight * cov ** 2 / var_x

    for name, (x, y, household) in PAIRS.items():
        cov = var_x = var_y = Fraction(0)
        for t in terms:
            moments = [pair_moment(f, x, y) for f in t.factors]
            e_xy, e_x, e_y, e_xx, e_yy = (_product(m[k] for m in moments) for k in range(5))
            cov += t.weight * (e_xy - e_x * e_y)
            var_x += t.weight * (e_xx - e_x ** 2)
            var_y += t.weight * (e_yy - e_y ** 2)
        shared = vc if household else Fraction(0)
        var_x += vc + ve
        var_y += vc + ve
        out[name] = _correlation(cov + shared, var_x, var_y, name)

    out["h2"] = v_a / v_p
    out["H2"] = v_g / v_p
    out["s2"] = v_a / v_g
    out["c2"] = vc / v_p
    out["e2"] = ve / v_p
    out["falconer"] = 2 * (out["rMZ"] - out["rDZ"])
    out["phantom"] = out["falconer"] - out["h2"]
    for t, variance in zip(terms, term_variance):
        out[t.component] = out.get(t.component, Fraction(0)) + variance
    out["V_G"] = v_g
    out["V_P"] = v_p
    return out


def _correlation(cov: Fraction, var_x: Fraction, var_y: Fraction, name: str) -> Fraction:
    if var_x <= 0 or var_y <= 0:
        raise ValueError(f"{name}: a relative has zero phenotypic variance")
    if var_x == var_y:
        return cov / var_x
    product = var_x * var_y
    rn, rd = math.isqrt(product.numerator), math.isqrt(product.denominator)
    if rn * rn != product.numerator or rd * rd != product.denominator:
        raise ExactTooLarge(f"{name}: the correlation is irrational (unequal variances)")
    return cov / Fraction(rn, rd)


# --- from a realization (the JSON twins_sim.build_architecture writes) -------------------

_CONTRASTS = {
    # at allele frequency 1/2: additive a(g) = sqrt(2) (g - 1) -> weight x2, values g - 1
    "additive": (Fraction(2), (Fraction(-1), Fraction(0), Fraction(1))),
    # dominance d(g) = +1 for heterozygotes, -1 otherwise
    "dominance": (Fraction(1), (Fraction(-1), Fraction(1), Fraction(-1))),
}


def terms_from_realization(realization: dict) -> list[Term]:
    """Rebuild the architecture's terms from its JSON description."""
    p = Fraction(realization["allele_frequency"])
    if p != Fraction(1, 2):
        raise ValueError("the contrasts in a twins realization are those of frequency 1/2")
    terms = []
    for described in realization["terms"]:
        weight = Fraction(described["variance"])
        factors = []
        for locus, kind in zip(described["loci"], described["contrasts"], strict=True):
            scale2, values = _CONTRASTS[kind]
            weight *= scale2
            factors.append(Factor(int(locus), p, values))
        terms.append(Term(described["component"], weight, tuple(factors)))
    return terms


def realized_statistics(realization: dict, components: list[str]) -> dict[str, Fraction]:
    """The statistics of a realization, exactly; every given component (0 when it has
    no loci) is reported as measured."""
    vc = Fraction(realization.get("shared_environment_variance", "0"))
    ve = Fraction(realization.get("unique_environment_variance", "0"))
    out = exact_statistics(terms_from_realization(realization), vc, ve)
    for name in components:
        if name == "VC":
            out[name] = vc
        elif name == "VE":
            out[name] = ve
        elif _GENETIC_NAME.fullmatch(name):
            out.setdefault(name, Fraction(0))
    return out
