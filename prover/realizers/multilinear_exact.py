"""Exact realizer for the `multilinear` model: build F on the Boolean cube, enumerate.

Given blocks (degree k, squared coefficient W), the concrete object is

    F(x) = sum over blocks b of  sqrt(W_b) * chi_{S_b}(x),   chi_S(x) = prod_{i in S} x_i,

on disjoint coordinate sets S_b with |S_b| = k_b, X uniform on {-1,+1}^n. Its statistics
are recomputed from their definitions, never from the model's formula sum 2^-k W_k / V:

* F((X+Y)/2) is F's multilinear extension at the midpoint. For a block function g on s
  coordinates we compute the extension G(z) = sum_x g(x) prod_i (1 + x_i z_i)/2 at every
  z in {-1, 0, 1}^s (the unique multilinear polynomial agreeing with g on the cube), then
  enumerate every pair (x, y) of the 4^s equally likely pairs and read G at (x + y)/2.
* Var F(X), Var F(Z), Cov(F(X), F(Z)) are averages over those enumerated pairs.
* s2 is the share of Var F(X) explained by the least-squares affine fit on x_1..x_n,
  found by solving the normal equations exactly (Fractions) from enumerated moments.
* The realized W_d (variance at interaction degree d) are sums of squared Walsh
  coefficients E[F(X) chi_T(X)], computed by enumeration.

Exactness with irrational coefficients: sqrt(W_b) is kept symbolic. Every second moment
of F is sum_{b,b'} sqrt(W_b W_b') * (a second moment of g_b and g_b'). Only facts about
the distribution P are used to reduce it, and they are stated where used:

(I) blocks use disjoint coordinates, and coordinates are independent under the joint
    law of (X, Y) (X, Y independent, each uniform on the cube); so functions of
    different blocks are independent, and covariances between them vanish. Hence every
    (co)variance of F is sum_b W_b * (the same quantity for g_b): a rational.
(II) a block larger than ``SUB_BLOCK`` coordinates (only a high-degree tail or
    max_degree > 8) is enumerated as a product of sub-blocks of at most ``SUB_BLOCK``
    coordinates: chi_S = prod_j chi_{S_j}; by (I) the sub-blocks are independent, so raw
    moments of the product are products of raw moments of the factors; and the product
    of the factors' multilinear extensions is multilinear and agrees with chi_S on the
    cube, hence is chi_S's extension. Sub-block moments are cached by size.

All arithmetic is on integers and Fractions: the result is exact.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import numpy as np

from ..errors import InputError
from .moments import SecondMoments, solve_exact

SUB_BLOCK = 8


@dataclass(frozen=True)
class _Moments:
    """Raw moments of one (sub-)block function g on s coordinates, by enumeration."""

    size: int
    mean_g: Fraction                 # E g(X)
    mean_G: Fraction                 # E G(Z), G the multilinear extension, Z = (X+Y)/2
    gg: Fraction                     # E g(X)^2
    GG: Fraction                     # E G(Z)^2
    gG: Fraction                     # E g(X) G(Z)
    mean_x: tuple                    # E x_i
    xx: tuple                        # E x_i x_j  (s x s)
    xg: tuple                        # E x_i g(X)
    degree_weights: tuple            # d -> sum over |T| = d of (E g(X) chi_T(X))^2


def _cube(s: int) -> np.ndarray:
    """All points of {-1,+1}^s as rows (2^s x s)."""
    return np.array(list(itertools.product((-1, 1), repeat=s)), dtype=np.int64).reshape(-1, s)


def block_moments(table: np.ndarray, s: int) -> _Moments:
    """Enumerate the moments of the function with truth table ``table`` (indexed like
    ``_cube(s)``, integer values) under X, Y independent uniform, Z = (X + Y)/2."""
    xs = _cube(s)                                        # 2^s x s
    g = np.asarray(table, dtype=np.int64)
    n_x = len(xs)
    # multilinear extension at every z in {-1,0,1}^s, scaled by 2^s to stay integral:
    # H(z) = 2^s G(z) = sum_x g(x) prod_i (1 + x_i z_i)
    zs = np.array(list(itertools.product((-1, 0, 1), repeat=s)), dtype=np.int64).reshape(-1, s)
    weights = np.ones((len(zs), n_x), dtype=np.int64)              # 3^s x 2^s
    for i in range(s):
        weights *= 1 + zs[:, i, None] * xs[None, :, i]
    H = weights @ g                                                # 3^s
    # every pair (x, y): z = (x + y)/2, located in the {-1,0,1}^s listing (base 3 digits)
    powers = 3 ** np.arange(s - 1, -1, -1, dtype=np.int64)
    z_digits = (xs[:, None, :] + xs[None, :, :]) // 2 + 1          # 2^s x 2^s x s
    z_index = (z_digits * powers).sum(axis=2)                      # 2^s x 2^s
    Hz = H[z_index]                                                # H at the midpoint
    n_pairs = n_x * n_x
    scale = 2 ** s

    def frac(total, denom) -> Fraction:
        return Fraction(int(total), denom)

    mean_g = frac(g.sum(), n_x)
    gg = frac((g * g).sum(), n_x)
    mean_G = frac(Hz.sum(), n_pairs * scale)
    GG = frac((Hz * Hz).sum(), n_pairs * scale * scale)
    gG = frac((g[:, None] * Hz).sum(), n_pairs * scale)
    mean_x = tuple(frac(xs[:, i].sum(), n_x) for i in range(s))
    xx = tuple(tuple(frac((xs[:, i] * xs[:, j]).sum(), n_x) for j in range(s))
               for i in range(s))
    xg = tuple(frac((xs[:, i] * g).sum(), n_x) for i in range(s))
    # Walsh coefficients E[g chi_T] for every T (T as a 0/1 mask), by enumeration
    masks = np.array(list(itertools.product((0, 1), repeat=s)), dtype=np.int64).reshape(-1, s)
    chi = np.prod(np.where(masks[:, None, :] == 1, xs[None, :, :], 1), axis=2)  # 2^s x 2^s
    coeff_num = chi @ g                                            # n_x * E[g chi_T]
    deg = masks.sum(axis=1)
    dw = [Fraction(0)] * (s + 1)
    for c, d in zip(coeff_num, deg):
        dw[int(d)] += Fraction(int(c), n_x) ** 2
    return _Moments(s, mean_g, mean_G, gg, GG, gG, mean_x, xx, xg, tuple(dw))


@lru_cache(maxsize=None)
def chi_moments(s: int) -> _Moments:
    """Moments of chi on s coordinates (the product of all of them)."""
    xs = _cube(s)
    return block_moments(np.prod(xs, axis=1), s)


def _split(k: int) -> list[int]:
    sizes = [SUB_BLOCK] * (k // SUB_BLOCK)
    if k % SUB_BLOCK:
        sizes.append(k % SUB_BLOCK)
    return sizes


@dataclass
class BlockStats:
    """Central moments of one block term g_b = chi_{S_b} (before the factor sqrt(W_b))."""

    var_x: Fraction        # Var g(X)
    var_z: Fraction        # Var G(Z)
    cov_xz: Fraction       # Cov(g(X), G(Z))
    explained: Fraction    # variance of the least-squares affine fit of g on its coordinates
    degree_weights: dict   # degree -> Walsh weight of g at that degree (degree >= 1)


def block_stats(k: int) -> BlockStats:
    parts = [chi_moments(s) for s in _split(k)]
    # raw moments of the product over independent sub-blocks (fact II)
    prod = lambda attr: _product(getattr(p, attr) for p in parts)
    mean_g, mean_G = prod("mean_g"), prod("mean_G")
    var_x = prod("gg") - mean_g ** 2
    var_z = prod("GG") - mean_G ** 2
    cov_xz = prod("gG") - mean_g * mean_G
    # least squares on the block's coordinates: coordinates of different sub-blocks are
    # independent (fact I), so Cov(x) is block diagonal and the fit splits by sub-block;
    # Cov(x_i, g) = E[x_i g_j] * prod_{l != j} E[g_l] - E[x_i] E[g]
    explained = Fraction(0)
    for j, p in enumerate(parts):
        others = _product(q.mean_g for l, q in enumerate(parts) if l != j)
        cov_xx = [[p.xx[i][i2] - p.mean_x[i] * p.mean_x[i2] for i2 in range(p.size)]
                  for i in range(p.size)]
        cov_xg = [p.xg[i] * others - p.mean_x[i] * mean_g for i in range(p.size)]
        beta = solve_exact(cov_xx, cov_xg)
        explained += sum(b * c for b, c in zip(beta, cov_xg))   # beta' Cov(x) beta
    # Walsh weights of a product of functions on independent coordinate sets: the
    # coefficient on T is the product of the factors' coefficients on T's parts, so the
    # degree profile is the convolution of the factors' profiles
    weights = {0: Fraction(1)}
    for p in parts:
        new: dict[int, Fraction] = {}
        for d1, w1 in weights.items():
            for d2, w2 in enumerate(p.degree_weights):
                if w2:
                    new[d1 + d2] = new.get(d1 + d2, Fraction(0)) + w1 * w2
        weights = new
    return BlockStats(var_x, var_z, cov_xz, explained,
                      {d: w for d, w in weights.items() if d >= 1 and w})


def _root_text(w: Fraction) -> str:
    """sqrt(w) as text: the rational root when w is a square, else 'sqrt(w)'."""
    n, d = math.isqrt(w.numerator), math.isqrt(w.denominator)
    if n * n == w.numerator and d * d == w.denominator:
        return str(Fraction(n, d)) if d == 1 else f"({Fraction(n, d)})"
    return f"sqrt({w})"


def _product(values) -> Fraction:
    out = Fraction(1)
    for v in values:
        out *= v
    return out


@dataclass
class Realized(SecondMoments):
    degree_weights: dict          # degree -> realized W_d
    realization: dict


def realize_blocks(blocks: list[tuple[int, Fraction]]) -> Realized:
    """F = sum sqrt(W) chi_S over blocks (degree, W) on disjoint coordinates; statistics
    from the definitions (see the module docstring)."""
    clean = []
    for k, w in blocks:
        if not isinstance(k, int) or k < 1:
            raise InputError(f"block degree must be a positive integer, got {k!r}")
        w = Fraction(w)
        if w < 0:
            raise InputError(f"squared coefficient must be >= 0, got {w}")
        if w:
            clean.append((k, w))
    if not clean:
        raise InputError("F must have positive variance: give at least one W > 0")
    var_x = var_z = cov_xz = explained = Fraction(0)
    degree_weights: dict[int, Fraction] = {}
    terms, next_coord = [], 1
    for k, w in clean:
        st = block_stats(k)
        # fact I: cross-block covariances vanish, so each contributes W * (its own moment)
        var_x += w * st.var_x
        var_z += w * st.var_z
        cov_xz += w * st.cov_xz
        explained += w * st.explained
        for d, dw in st.degree_weights.items():
            degree_weights[d] = degree_weights.get(d, Fraction(0)) + w * dw
        coords = list(range(next_coord, next_coord + k))
        next_coord += k
        monomial = "*".join(f"x{i}" for i in coords) if k <= 12 else \
            f"x{coords[0]}*...*x{coords[-1]}"
        terms.append({"degree": k,
                      "coordinates": f"x{coords[0]}" if k == 1 else
                      f"x{coords[0]}..x{coords[-1]}",
                      "coefficient_squared": str(w),
                      "term": f"{_root_text(w)}*{monomial}"})
    realization = {
        "distribution": f"X uniform on {{-1,+1}}^{next_coord - 1}",
        "n": next_coord - 1,
        "F": " + ".join(t["term"] for t in terms),
        "blocks": terms,
        "midpoint": "F((X+Y)/2) = multilinear extension of F at the midpoint",
    }
    return Realized(var_x, var_z, cov_xz, explained, degree_weights, realization)
