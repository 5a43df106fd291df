"""The `gaussian` model: exact moments, the soundness of its relaxation, verdicts, errors.

The relaxation's constraints are checked exactly on random polynomials whose statistics
are computed from the definitions in the monomial basis (the realizer's route), with
Var E[F(X)|Z] computed by conditioning directly (X = Z + D, D independent of Z), never by
Mehler's formula.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction as F

import pytest

from prover.check import check
from prover.counterexample import is_counterexample
from prover.conjecture import load
from prover.errors import InputError
from prover.evaluate import ExactEvaluator
from prover.models import gaussian as G
from prover.models import get
from prover.realizers import gaussian_exact as R

MODEL = G.MODEL


def build(degree=3, dim=1):
    return MODEL.build(MODEL.validate_params({"degree": degree, "dim": dim}))


def random_hermite(rng: random.Random, dim: int, degree: int, density=0.7):
    coeffs = {}
    for a in G.multi_indices(dim, degree):
        if rng.random() < density:
            coeffs[a] = F(rng.randint(-9, 9), rng.randint(1, 5))
    top = max(G.multi_indices(dim, degree), key=sum)
    coeffs.setdefault(top, F(1))
    if not any(coeffs.values()):
        coeffs[top] = F(1)
    return coeffs


# --- independent helpers (definitions only) ---------------------------------------------

def half_normal_moment(j: int) -> F:
    """E[D^j] for D ~ N(0, 1/2)."""
    return F(R.normal_moment(j), 2 ** (j // 2)) if j % 2 == 0 else F(0)


def conditional_variance(mono, dim: int) -> F:
    """Var E[F(X) | Z], with X = Z + D, Z and D = (X-Y)/2 independent N(0, I/2)."""
    g = {}
    for exps, c in mono.items():
        terms = {(): c}
        for e in exps:
            terms = {k + (e - j,): v * math.comb(e, j) * half_normal_moment(j)
                     for k, v in terms.items() for j in range(e + 1)}
        for k, v in terms.items():
            g[k] = g.get(k, F(0)) + v

    def z_moment(exps):            # E[Z^exps], Z ~ N(0, I/2)
        return math.prod(half_normal_moment(e) for e in exps)

    mean = sum(c * z_moment(k) for k, c in g.items())
    second = sum(c1 * c2 * z_moment(tuple(a + b for a, b in zip(k1, k2)))
                 for k1, c1 in g.items() for k2, c2 in g.items())
    return second - mean * mean


def hermite_variances(coeffs):
    """W_k = sum_{|alpha|=k} alpha! a_alpha^2 (the model's notation)."""
    W = {}
    for a, c in coeffs.items():
        if sum(a):
            W[sum(a)] = W.get(sum(a), F(0)) + G.alpha_factorial(a) * c * c
    return W


# --- exact moments ------------------------------------------------------------------------

def test_x_minus_x_cubed_exact_values():
    mono = {(1,): F(1), (3,): F(-1)}
    exact = R.exact_statistics(mono, 1)
    assert exact["s2"] == F(2, 5) and exact["r2"] == F(5, 28)
    assert (exact["VarFX"], exact["VarFZ"], exact["CovFXFZ"]) == (10, F(7, 8), F(5, 4))
    # the same polynomial in the Hermite basis: x - x^3 = -2 He_1 - He_3
    coeffs = {(1,): F(-2), (3,): F(-1)}
    assert R.hermite_to_monomial(coeffs) == mono
    ev = R.realize_hermite(coeffs, dim=1, degree=3, seed=7)
    assert ev.exact == {"s2": F(2, 5), "r2": F(5, 28)}
    assert ev.realization["monte_carlo"]["agrees_with_exact"]
    assert len(ev.batch_estimates) == 20
    assert abs(ev.estimates["r2"] - 5 / 28) < 0.02 and abs(ev.estimates["s2"] - 0.4) < 0.02
    # and the model's own exact ratios on the concrete family agree
    conc = build(3, 1).concrete
    values = {"a1": F(-2), "a2": F(0), "a3": F(-1), "t": F(1)}
    ev2 = ExactEvaluator(conc, values)
    assert ev2.statistic("s2") == F(2, 5) and ev2.statistic("r2") == F(5, 28)


def test_hermite_recurrence():
    assert R.hermite_1d(3) == (0, -3, 0, 1)
    assert R.hermite_1d(4) == (3, 0, -6, 0, 1)
    assert R.normal_moment(6) == 15 and R.normal_moment(5) == 0
    # E[X^2 Z^2] with Z = (X+Y)/2: (E X^4 + E X^2 E Y^2)/4 = 1
    assert R.xz_moment(2, 2) == 1


@pytest.mark.parametrize("dim,degree", [(1, 5), (2, 3), (3, 2)])
def test_model_forms_match_definitions(dim, degree):
    rng = random.Random(100 * dim + degree)
    alphas = G.multi_indices(dim, degree)
    names = [G.coefficient_name(a) for a in alphas]
    forms = G.hermite_forms(dim, degree)
    for expand in (True, False):
        conc = MODEL.build_concrete({"degree": degree, "dim": dim}, expand=expand)
        for _ in range(3):
            coeffs = random_hermite(rng, dim, degree)
            values = {G.coefficient_name(a): coeffs.get(a, F(0)) for a in alphas}
            values["t"] = F(1)
            exact = R.exact_statistics(R.hermite_to_monomial(coeffs), dim)
            got = {k: G.form_poly(forms[k], names).evaluate(values) for k in forms}
            assert got["V"] == exact["VarFX"] and got["Q"] == exact["VarFZ"]
            assert got["C"] == exact["CovFXFZ"] and got["W1"] == exact["explained"]
            if not expand:
                values.update(V=got["V"], Q=got["Q"], C=got["C"], W1=got["W1"])
            assert all(a.holds(values) for a in conc.constraints)
            ev = ExactEvaluator(conc, values)
            assert ev.statistic("s2") == exact["s2"] and ev.statistic("r2") == exact["r2"]


# --- soundness of the relaxation ----------------------------------------------------------

@pytest.mark.parametrize("dim,degree", [(1, 1), (1, 2), (1, 3), (1, 6), (2, 2), (2, 4), (3, 3)])
def test_relaxation_holds_on_random_polynomials(dim, degree):
    """Every real F maps to a point satisfying every proof-side constraint (exactly)."""
    rng = random.Random(7 * dim + degree)
    inst = build(degree, dim)
    for trial in range(4):
        coeffs = random_hermite(rng, dim, degree, density=0.4 if trial % 2 else 0.9)
        mono = R.hermite_to_monomial(coeffs)
        exact = R.exact_statistics(mono, dim)
        A = conditional_variance(mono, dim)
        # Mehler: Var E[F(X)|Z] = sum_k 2^-k W_k
        W = hermite_variances(coeffs)
        assert A == sum(w / 2 ** k for k, w in W.items())
        assert exact["VarFX"] == sum(W.values()) and exact["explained"] == W.get(1, 0)
        point = {"W1": exact["explained"], "V": exact["VarFX"], "A": A,
                 "Q": exact["VarFZ"], "C": exact["CovFXFZ"]}
        failed = [str(a) for a in inst.constraints if not a.holds(point)]
        assert not failed, (coeffs, point, failed)
        # the lemma itself, and the statistics' ratios at that point
        assert point["C"] ** 2 <= point["Q"] * A
        ev = ExactEvaluator(inst, point)
        assert ev.statistic("s2") == exact["s2"] and ev.statistic("r2") == exact["r2"]


def test_relaxation_is_exact_up_to_degree_two():
    rng = random.Random(3)
    for dim in (1, 2):
        for _ in range(3):
            coeffs = random_hermite(rng, dim, 2)
            exact = R.exact_statistics(R.hermite_to_monomial(coeffs), dim)
            assert exact["r2"] == (1 + exact["s2"]) / 4


def test_covariance_can_be_negative_from_degree_five():
    """Why the relaxation keeps no lower bound on C: Cov(F(X), F(Z)) < 0 is possible."""
    mono = R.hermite_to_monomial({(1,): F(1, 18), (3,): F(-1), (5,): F(-3, 7)})
    assert R.exact_statistics(mono, 1)["CovFXFZ"] < 0


def test_rotation_leaves_statistics_unchanged():
    """The search takes the linear part along x1: rotations keep s2 and r2."""
    rng = random.Random(5)
    coeffs = random_hermite(rng, 2, 3)
    mono = R.hermite_to_monomial(coeffs)
    c, s = F(3, 5), F(4, 5)               # x1 -> c x1 - s x2, x2 -> s x1 + c x2
    rotated = {}
    for (e1, e2), coef in mono.items():
        for i in range(e1 + 1):
            for j in range(e2 + 1):
                term = (coef * math.comb(e1, i) * c ** i * (-s) ** (e1 - i)
                        * math.comb(e2, j) * s ** j * c ** (e2 - j))
                key = (i + j, e1 - i + e2 - j)
                rotated[key] = rotated.get(key, F(0)) + term
    a, b = R.exact_statistics(mono, 2), R.exact_statistics(rotated, 2)
    assert (a["s2"], a["r2"]) == (b["s2"], b["r2"])


def test_monte_carlo_disagreement_withholds_exact(monkeypatch):
    real = R.exact_statistics

    def wrong(mono, dim):
        out = real(mono, dim)
        out["r2"] += F(1, 5)
        return out

    monkeypatch.setattr(R, "exact_statistics", wrong)
    ev = R.realize_hermite({(1,): F(1), (2,): F(1)}, dim=1, degree=2, seed=1)
    assert ev.exact is None and ev.batch_estimates and not \
        ev.realization["monte_carlo"]["agrees_with_exact"]


# --- verdicts through the pipeline ----------------------------------------------------------

def write(tmp_path, name, claim, expect, **params):
    text = f'model = "gaussian"\nclaim = "{claim}"\nexpect = "{expect}"\n'
    if params:
        text += "[params]\n" + "".join(f"{k} = {v}\n" for k, v in params.items())
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return load(path)


@pytest.mark.parametrize("claim,params", [
    ("r2 <= (1 + s2)/4", {}),
    ("r2 <= (1 + s2)/4", {"degree": 8}),
    ("r2 <= (1 + s2)/4", {"degree": 4, "dim": 2}),
    ("r2 <= 1/2", {"degree": 5}),
    ("r <= sqrt((1 + s2)/4)", {}),
    ("r2 >= 1/2", {"degree": 1, "dim": 3}),
])
def test_valid_claims(tmp_path, claim, params):
    out = check(write(tmp_path, "v", claim, "valid", **params), timeout=30)
    assert out.verdict == "valid", out.certificate.get("reason")


def test_half_s2_lower_bound_is_refuted(tmp_path):
    conj = write(tmp_path, "lower", "r2 >= s2/2", "refuted")
    out = check(conj, timeout=30)
    assert out.verdict == "refuted", out.certificate.get("reason")
    ce = out.certificate["counterexample"]
    assert ce["numeric_check"]["confirmed"]
    values = {k: F(v) for k, v in ce["values"].items()}
    conc = conj.instance().concrete
    assert is_counterexample(conj, conc, values)
    coeffs = {G.parse_coefficient_name(k): v for k, v in values.items() if k.startswith("a")}
    ev = R.realize_hermite(coeffs, dim=1, degree=3, seed=1, odd_scale2=values["t"])
    assert ev.exact["r2"] < ev.exact["s2"] / 2


def test_upper_bound_is_attained(tmp_path):
    conj = write(tmp_path, "tight", "r2 <= 0.99*(1 + s2)/4", "refuted", degree=2)
    out = check(conj, timeout=30)
    assert out.verdict == "refuted", out.certificate.get("reason")


# --- parameters and names -------------------------------------------------------------------

def test_registered_and_documented():
    assert get("gaussian") is MODEL
    doc = MODEL.doc
    assert "sound" in doc.lower() or "every real F" in doc
    assert "C^2 <= Q*A" in doc
    inst = build()
    assert set(inst.statistics) == {"s2", "r2", "r"} and inst.components == []
    assert inst.concrete is not None and inst.concrete.realize is not None
    assert set(inst.concrete.statistics) == set(inst.statistics)


@pytest.mark.parametrize("params,words", [
    ({"degree": 0}, ["degree", "1", "10"]),
    ({"degree": 11}, ["degree", "1", "10"]),
    ({"dim": 100}, ["dim", "1", "4"]),
    ({"dim": 0}, ["dim", "1", "4"]),
    ({"degree": "3"}, ["degree", "integer"]),
    ({"degre": 3}, ["did you mean 'degree'"]),
])
def test_parameter_errors(params, words):
    with pytest.raises(InputError) as info:
        MODEL.validate_params(params)
    for w in words:
        assert w in str(info.value)


def test_parameter_error_in_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('model = "gaussian"\nclaim = "r2 <= 1/2"\n[params]\ndegree = 0\n')
    with pytest.raises(InputError) as info:
        load(path)
    assert "from 1 to 10" in str(info.value)


@pytest.mark.parametrize("claim", ["rDZ <= 1/2", "h2 <= s2", "W1 >= 0", "V > 0"])
def test_other_names_are_errors(tmp_path, claim):
    path = tmp_path / "name.toml"
    path.write_text(f'model = "gaussian"\nclaim = "{claim}"\n')
    with pytest.raises(InputError) as info:
        load(path)
    assert "unknown name" in str(info.value)


# --- the odd-part scale t and exact slices --------------------------------------------------

def test_no_rational_cubic_has_s2_one_half():
    """Why the concrete family carries t: for F = a1 He1 + a2 He2 + a3 He3 with rational
    coefficients, s2 = 1/2 means a1^2 = 2 a2^2 + 6 a3^2, which has no rational solution
    but 0 (mod 3 descent); checked here by brute force on small integers."""
    for a1 in range(0, 60):
        for a2 in range(0, 60):
            for a3 in range(0, 60):
                if (a1, a2, a3) != (0, 0, 0):
                    assert a1 * a1 != 2 * a2 * a2 + 6 * a3 * a3


def test_scaled_odd_part_realizer_is_exact_in_q_sqrt_t():
    """F = He2 + sqrt(t) (He1 + b He3), t solved so that s2 = 1/2 exactly; the realizer
    works in Q(sqrt t) and finds rational s2 and r2, which agree with the model's forms
    and with a direct float computation of the same polynomial in the monomial basis."""
    b, c = F(1, 3), F(1, 2)
    t = 2 * c * c / (1 - 6 * b * b)          # t (1 - 6 b^2) = 2 c^2
    ev = R.realize_hermite({(1,): F(1), (2,): c, (3,): b}, dim=1, degree=3, seed=3,
                           odd_scale2=t)
    assert t == F(3, 2) and ev.exact["s2"] == F(1, 2)
    conc = build(3, 1).concrete
    vals = {"a1": F(1), "a2": c, "a3": b, "t": t}
    assert ExactEvaluator(conc, vals).statistic("r2") == ev.exact["r2"]
    assert "sqrt(3/2)" in ev.realization["polynomial"]
    # independent float check: Var, Cov by numerical Gauss-Hermite quadrature
    import numpy as np
    xs, ws = np.polynomial.hermite_e.hermegauss(40)
    ws = ws / ws.sum()
    r = math.sqrt(1.5)

    def f(x):
        return c * (x * x - 1) + r * (x + b * (x ** 3 - 3 * x))
    # Z = (X+Y)/2 = (U+W)/2 with U, W independent: two-dimensional quadrature
    X, Y = np.meshgrid(xs, xs, indexing="ij")
    W2 = np.outer(ws, ws)
    fx, fz = f(X), f((X + Y) / 2)
    mx, mz = (W2 * fx).sum(), (W2 * fz).sum()
    cov = (W2 * (fx - mx) * (fz - mz)).sum()
    r2 = cov ** 2 / ((W2 * (fx - mx) ** 2).sum() * (W2 * (fz - mz) ** 2).sum())
    assert abs(r2 - float(ev.exact["r2"])) < 1e-10


def test_equality_slice_is_refuted_exactly(tmp_path):
    """Issue 14: r2 >= 0.26 under s2 == 1/2 at degree 3 is false (the minimum is about
    0.2539): check must end refuted with an exactly confirmed counterexample."""
    path = tmp_path / "slice.toml"
    path.write_text('model = "gaussian"\nclaim = "r2 >= 0.26"\nassume = ["s2 == 1/2"]\n'
                    'expect = "refuted"\n')
    conj = load(path)
    out = check(conj, timeout=30)
    assert out.verdict == "refuted", out.certificate.get("reason")
    ce = out.certificate["counterexample"]
    assert ce["statistics"]["s2"] == "1/2"
    assert "exact computation" in ce["numeric_check"]["note"]
    values = {k: F(v) for k, v in ce["values"].items()}
    assert is_counterexample(conj, conj.instance().concrete, values)
    r2 = F(ce["statistics"]["r2"])
    assert F(2539, 10000) < r2 < F(26, 100)


def test_implication_with_equality_premise_is_refuted(tmp_path):
    path = tmp_path / "imp.toml"
    path.write_text('model = "gaussian"\nclaim = "s2 == 3/4 implies r2 >= 0.41"\n'
                    'expect = "refuted"\n')
    out = check(load(path), timeout=30)
    assert out.verdict == "refuted", out.certificate.get("reason")
    assert out.certificate["counterexample"]["statistics"]["s2"] == "3/4"
