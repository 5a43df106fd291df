"""Realizer for the `twins` model: build a genetic architecture, simulate families, measure.

When the solver proposes a counterexample for `twins` (exact variance components such as
VA, VD, VAA, ..., VC, VE), this module turns it into a concrete genotype-phenotype map —
biallelic loci at allele frequency 1/2 with orthonormal additive and dominance contrasts,
one block of loci per component — and simulates real pedigrees (founders in
Hardy-Weinberg, Mendelian transmission locus by locus, MZ twins as one genotype twice, a
shared household environment, a unique environment per person). The statistics (rMZ,
rDZ, rPO, rHS, rFC, h2, H2, s2, ...) are then computed from their definitions on the
simulated people: Pearson correlations over pairs, variances over a population, and the
additive variance as the variance of an ordinary least-squares fit of G on allele counts.

Independence from the model: nothing here knows kinship coefficients, IBD probabilities
or the Cockerham/Kempthorne table Σ (2θ)^i Δ^j V. Relatives resemble each other only
because they carry the same transmitted alleles, so agreement between these estimates
and the table is a genuine check of the table (and of the solver's encoding).
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ..errors import InputError

__all__ = ["SimulationResult", "build_architecture", "simulate_twins"]

_GENETIC_NAME = re.compile(r"V(A*)(D*)")
_ENVIRONMENT_NAMES = ("VC", "VE")

# Pedigree members that carry a genotype, in the order they are generated
# (parents always before children).
_GP1, _GP2, _M1, _M2, _M3, _S1, _S2, _C1, _C1DZ, _C2, _H1 = range(11)
_N_GENOTYPED = 11
_FOUNDERS = (_GP1, _GP2, _M1, _M2, _M3)
# child -> (father, mother); each gamete takes one allele per locus from that parent.
_MATINGS = (
    (_S1, _GP1, _GP2),
    (_S2, _GP1, _GP2),
    (_C1, _S1, _M1),
    (_C1DZ, _S1, _M1),
    (_C2, _S2, _M2),
    (_H1, _S1, _M3),
)

# Phenotyped persons: (name, genotype row, household row). c1mz reuses c1's genotype (MZ
# twin) and c1, c1mz, c1dz share one household; everyone else is reared apart. s2 only
# transmits genes to c2 and needs no phenotype.
_PHENOTYPED = (
    ("gp1", _GP1, 0), ("gp2", _GP2, 1), ("m1", _M1, 2), ("m2", _M2, 3), ("m3", _M3, 4),
    ("s1", _S1, 5), ("c1", _C1, 6), ("c1mz", _C1, 6), ("c1dz", _C1DZ, 6),
    ("c2", _C2, 7), ("h1", _H1, 8),
)
_N_HOUSEHOLDS = 9
_P_INDEX = {name: k for k, (name, _, _) in enumerate(_PHENOTYPED)}
_P_GENO = np.array([g for _, g, _ in _PHENOTYPED])
_P_HOUSE = np.array([h for _, _, h in _PHENOTYPED])

# The population over which variances and the additive regression are taken: people who
# are all in Hardy-Weinberg at frequency 1/2 (the five founders and one child).
_POPULATION = tuple(_P_INDEX[name] for name in ("gp1", "gp2", "m1", "m2", "m3", "c1"))

_PAIRS = {
    "rMZ": ("c1", "c1mz"),
    "rDZ": ("c1", "c1dz"),
    "rPO": ("s1", "c1"),
    "rHS": ("c1", "h1"),
    "rFC": ("c1", "c2"),
}

# Rough bytes of working memory per family and locus (alleles, random bits, contrasts,
# float copies of the regressors); used to cap the chunk so memory stays well under 2 GB.
_BYTES_PER_FAMILY_LOCUS = 200
_BYTES_PER_FAMILY_TERM = 11 * 8 * 2
_CHUNK_MEMORY = 256 * 2**20


@dataclass(frozen=True)
class SimulationResult:
    """Statistics recomputed from simulated families.

    ``estimates`` are over all families; ``batch_estimates`` are the same statistics on
    each of the disjoint, (near-)equal blocks of families, for batch-means intervals.
    """

    estimates: dict[str, float]
    batch_estimates: list[dict[str, float]]
    families: int
    seed: int
    realization: dict = field(repr=False)


@dataclass(frozen=True)
class _Term:
    component: str
    variance: Fraction
    additive: int      # number of additive contrasts (i)
    dominance: int     # number of dominance contrasts (j)
    first_locus: int   # the term's loci are first_locus ... first_locus + i + j - 1

    @property
    def loci(self) -> list[int]:
        return list(range(self.first_locus,
                          self.first_locus + self.additive + self.dominance))


def _exact(value: Fraction) -> str:
    return str(value)  # Fraction prints 'p/q', or 'n' for integers


def _validate(values: dict) -> dict[str, Fraction]:
    if not isinstance(values, dict):
        raise InputError(f"variance components must be a dict of name -> Fraction, "
                         f"got {type(values).__name__}")
    clean: dict[str, Fraction] = {}
    for name, value in values.items():
        if not isinstance(name, str):
            raise InputError(f"component name must be a string, got {name!r}")
        match = _GENETIC_NAME.fullmatch(name)
        if name not in _ENVIRONMENT_NAMES and not (match and len(name) > 1):
            raise InputError(
                f"unknown variance component {name!r}: expected 'V' followed by A's then "
                f"D's (VA, VD, VAA, VAD, VDD, VAAA, ...), or VC, or VE")
        if isinstance(value, bool) or not isinstance(value, numbers.Rational):
            raise InputError(f"component {name} must be an exact Fraction or int, "
                             f"got {value!r}")
        value = Fraction(value)
        if value < 0:
            raise InputError(f"component {name} must be nonnegative, got {value}")
        clean[name] = value
    if sum(v for k, v in clean.items() if k not in _ENVIRONMENT_NAMES) <= 0:
        raise InputError("genetic variance V_G must be > 0: give at least one positive "
                         "genetic component (VA, VD, VAA, ...)")
    return clean


def _terms(values: dict[str, Fraction]) -> list[_Term]:
    """Positive genetic components in canonical order, each on its own block of loci."""
    genetic = []
    for name, value in values.items():
        if name in _ENVIRONMENT_NAMES or value == 0:
            continue
        match = _GENETIC_NAME.fullmatch(name)
        i, j = len(match.group(1)), len(match.group(2))
        genetic.append((i + j, -i, name, value, i, j))
    genetic.sort()  # by order, then A's before D's: VA, VD, VAA, VAD, VDD, ...
    terms, next_locus = [], 0
    for _, _, name, value, i, j in genetic:
        terms.append(_Term(name, value, i, j, next_locus))
        next_locus += i + j
    return terms


def build_architecture(values: dict[str, Fraction]) -> dict:
    """Describe, as JSON-ready data, the genetic architecture realizing ``values``.

    Each positive genetic component V_{A^iD^j} becomes sqrt(V) times a product of i
    additive and j dominance contrasts on its own i + j loci (numbered from 0). At allele
    frequency 1/2 these contrasts are orthonormal, so that term's variance is exactly V.
    """
    values = _validate(values)
    terms = _terms(values)
    described = []
    for term in terms:
        kinds = ["additive"] * term.additive + ["dominance"] * term.dominance
        factors = [("a" if kind == "additive" else "d") + f"(g{locus})"
                   for kind, locus in zip(kinds, term.loci)]
        described.append({
            "component": term.component,
            "variance": _exact(term.variance),
            "loci": term.loci,
            "contrasts": kinds,
            "effect": " * ".join([f"sqrt({_exact(term.variance)})"] + factors),
        })
    return {
        "allele_frequency": "1/2",
        "ploidy": 2,
        "contrasts": {
            "additive": "a(g) = sqrt(2)*(g-1)",
            "dominance": "d(g) = +1 if g == 1 else -1",
        },
        "terms": described,
        "n_loci": sum(len(term.loci) for term in terms),
        "shared_environment_variance": _exact(values.get("VC", Fraction(0))),
        "unique_environment_variance": _exact(values.get("VE", Fraction(0))),
        "phenotype": ("P = G + C + E; G = sum of terms; C shared by the members of one "
                      "household; E independent per person"),
    }


# --- simulation -------------------------------------------------------------------------

class _Moments:
    """Sums sufficient for every statistic of one batch, accumulated chunk by chunk.

    Keeping raw sums (not per-chunk statistics) makes a batch's result independent of how
    it was chunked, and the whole-sample result is just the sum over batches.
    """

    def __init__(self, n_loci: int, n_series: int):
        self.families = 0
        self.pairs = np.zeros((len(_PAIRS), 5))        # Σx, Σy, Σx², Σy², Σxy
        self.rows = 0                                  # population persons counted
        self.series_sum = np.zeros(n_series)           # P, G, C, E, each term
        self.series_sq = np.zeros(n_series)
        self.x_sum = np.zeros(n_loci)                  # regressors: allele count - 1
        self.xx = np.zeros((n_loci, n_loci))
        self.xg = np.zeros(n_loci)

    def add(self, other: "_Moments") -> None:
        for name, value in vars(other).items():
            setattr(self, name, getattr(self, name) + value)


def _simulate_chunk(rng: np.random.Generator, n: int, terms: list[_Term],
                    is_additive: np.ndarray, sd_c: float, sd_e: float) -> _Moments:
    n_loci = is_additive.size

    # One pool of fair random bits: 10 founder haplotypes and 12 transmissions. Loci come
    # first in every array so a term's product over its loci runs on long contiguous rows.
    n_bits = 22 * n * n_loci
    pool = rng.integers(0, 256, size=(n_bits + 7) // 8, dtype=np.uint8)
    bits = np.unpackbits(pool, count=n_bits).reshape(n_loci, 22, n)

    alleles = np.empty((n_loci, _N_GENOTYPED, 2, n), dtype=np.uint8)
    alleles[:, list(_FOUNDERS)] = bits[:, :10].reshape(n_loci, 5, 2, n)  # HWE, LE
    for k, (child, father, mother) in enumerate(_MATINGS):
        for side, parent in enumerate((father, mother)):
            h0, h1 = alleles[:, parent, 0], alleles[:, parent, 1]
            pick = bits[:, 10 + 2 * k + side]
            # Mendel: each locus independently passes h0 or h1 with probability 1/2.
            alleles[:, child, side] = h0 ^ (pick & (h0 ^ h1))
    del bits, pool

    centred = alleles[:, :, 0].astype(np.int8)        # allele count - 1, in {-1, 0, 1}
    centred += alleles[:, :, 1].view(np.int8)
    centred -= 1
    heterozygous = alleles[:, :, 0] ^ alleles[:, :, 1]
    del alleles
    # Per-locus contrast without the constant factors: g-1 (additive, sqrt(2) goes into
    # the term's scale) or ±1 (dominance); small ints keep products exact and cheap.
    dominance = (heterozygous.view(np.int8) << 1) - 1
    contrast = np.where(is_additive[:, None, None], centred, dominance)
    del heterozygous, dominance

    contributions = np.empty((len(terms), _N_GENOTYPED, n))
    for t, term in enumerate(terms):
        product = contrast[term.first_locus].copy()
        for locus in term.loci[1:]:
            product *= contrast[locus]
        scale = math.sqrt(term.variance) * math.sqrt(2) ** term.additive
        np.multiply(product, scale, out=contributions[t])
    del contrast
    genetic = contributions.sum(axis=0)

    shared = (sd_c * rng.standard_normal((_N_HOUSEHOLDS, n)) if sd_c
              else np.zeros((_N_HOUSEHOLDS, n)))
    unique = (sd_e * rng.standard_normal((len(_PHENOTYPED), n)) if sd_e
              else np.zeros((len(_PHENOTYPED), n)))
    shared_p = shared[_P_HOUSE]
    phenotype = genetic[_P_GENO] + shared_p + unique

    moments = _Moments(n_loci, 4 + len(terms))
    moments.families = n
    for k, (left, right) in enumerate(_PAIRS.values()):
        x, y = phenotype[_P_INDEX[left]], phenotype[_P_INDEX[right]]
        moments.pairs[k] = (x.sum(), y.sum(), x @ x, y @ y, x @ y)

    population = list(_POPULATION)
    geno_rows = _P_GENO[population]
    series = np.concatenate([
        phenotype[population][None],
        genetic[geno_rows][None],
        shared_p[population][None],
        unique[population][None],
        contributions[:, geno_rows],
    ]).reshape(4 + len(terms), -1)
    moments.rows = series.shape[1]
    moments.series_sum = series.sum(axis=1)
    moments.series_sq = np.einsum("ij,ij->i", series, series)

    # Additive variance by definition: least squares of G on allele counts. Centred counts
    # are in {-1,0,1}, so float32 cross-products are exact integers (< 2**24 per chunk).
    x = centred[:, geno_rows].reshape(n_loci, -1)      # same person-major order as G
    g = series[1]
    x32 = x.astype(np.float32)
    moments.x_sum = x.sum(axis=1, dtype=np.int64).astype(float)
    moments.xx = (x32 @ x32.T).astype(float)
    moments.xg = x.astype(float) @ g
    return moments


def _statistics(m: _Moments, terms: list[_Term], values: dict[str, Fraction]) -> dict:
    mean = m.series_sum / m.rows
    var = m.series_sq / m.rows - mean**2
    v_p, v_g, v_c, v_e = (float(v) for v in var[:4])

    x_mean = m.x_sum / m.rows
    s_xx = m.xx / m.rows - np.outer(x_mean, x_mean)
    s_xg = m.xg / m.rows - x_mean * mean[1]
    beta = np.linalg.lstsq(s_xx, s_xg, rcond=None)[0]
    v_a = float(max(beta @ s_xx @ beta, 0.0))          # variance of the fitted values

    out: dict[str, float] = {}
    for k, name in enumerate(_PAIRS):
        sx, sy, sxx, syy, sxy = m.pairs[k] / m.families
        cov = sxy - sx * sy
        out[name] = float(cov / math.sqrt((sxx - sx * sx) * (syy - sy * sy)))
    out["h2"] = v_a / v_p
    out["H2"] = v_g / v_p
    out["s2"] = v_a / v_g
    out["c2"] = v_c / v_p
    out["e2"] = v_e / v_p
    out["falconer"] = 2 * (out["rMZ"] - out["rDZ"])
    out["phantom"] = out["falconer"] - out["h2"]
    # Every given component, measured; a zero component has no loci and measures 0.
    for name in values:
        out[name] = 0.0
    for t, term in enumerate(terms):
        out[term.component] = float(var[4 + t])
    if "VC" in values:
        out["VC"] = v_c
    if "VE" in values:
        out["VE"] = v_e
    out["V_G"] = v_g
    out["V_P"] = v_p
    return out


def simulate_twins(values: dict[str, Fraction], *, seed: int, families: int = 100_000,
                   batches: int = 20) -> SimulationResult:
    """Simulate ``families`` pedigrees realizing ``values`` and measure every statistic.

    Each pedigree: grandparents gp1 x gp2 have s1 and s2; s1 x m1 have c1 and its DZ twin
    c1dz (c1mz is c1's MZ twin); s2 x m2 have c2 (c1's first cousin); s1 x m3 have h1
    (c1's half sib). Families are split into ``batches`` disjoint blocks of equal size
    (sizes differ by at most one when ``batches`` does not divide ``families``).
    """
    realization = build_architecture(values)
    values = _validate(values)
    for arg, value in (("families", families), ("batches", batches), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise InputError(f"{arg} must be an integer, got {value!r}")
    if batches < 1:
        raise InputError(f"batches must be >= 1, got {batches}")
    if families < 2 * batches:
        raise InputError(f"need at least 2 families per batch: families={families}, "
                         f"batches={batches}")

    terms = _terms(values)
    n_loci = realization["n_loci"]
    is_additive = np.zeros(n_loci, dtype=bool)
    for term in terms:
        is_additive[term.first_locus:term.first_locus + term.additive] = True
    sd_c = math.sqrt(values.get("VC", 0))
    sd_e = math.sqrt(values.get("VE", 0))

    chunk_cap = max(1, _CHUNK_MEMORY // (_BYTES_PER_FAMILY_LOCUS * n_loci
                                         + _BYTES_PER_FAMILY_TERM * len(terms) + 1000))
    # float32 cross-products stay exact while 6 * chunk < 2**24.
    chunk_cap = min(chunk_cap, 2**24 // (2 * len(_POPULATION)))

    rng = np.random.default_rng(seed)
    total = _Moments(n_loci, 4 + len(terms))
    batch_estimates = []
    base, extra = divmod(families, batches)
    for size in [base + 1] * extra + [base] * (batches - extra):
        moments = _Moments(n_loci, 4 + len(terms))
        done = 0
        while done < size:
            n = min(chunk_cap, size - done)
            moments.add(_simulate_chunk(rng, n, terms, is_additive, sd_c, sd_e))
            done += n
        batch_estimates.append(_statistics(moments, terms, values))
        total.add(moments)
    return SimulationResult(
        estimates=_statistics(total, terms, values),
        batch_estimates=batch_estimates,
        families=families,
        seed=seed,
        realization=realization,
    )
