"""twins — relatives under the classical decomposition.

Family: diploid genotypes at unlinked loci, random mating (Hardy–Weinberg), linkage
equilibrium, no inbreeding, no G×E, no assortative mating. Phenotype P = G + C + E:
G genetic, C shared by relatives reared together, E unique to each person.

Components (all >= 0): V<A^i D^j> for every 1 <= i+j <= max_order (VA, VD, VAA, VAD, VDD,
VAAA, ...; A's first); VC when shared_environment = true; VE when unique_environment =
true. V_G = sum of the genetic components > 0; V_P = V_G + VC + VE. max_order = 1 is VA
and VD (dominance included); dominance = false drops every component with a D.

Designs (design = "..."): AE (VA, VE), ACE (VA, VC, VE), ADE (VA, VD, VE), ACDE (VA, VD,
VC, VE) fix max_order = 1, dominance and shared_environment; "full" (the default) is the
epistatic model the other parameters describe. A design is stored as the parameters it
sets, so design = "ADE" and max_order = 1 are the same family.

Statistics: the covariance of relatives is sum (2θ)^i Δ^j V_{A^iD^j} (Cockerham 1954,
Kempthorne 1954), plus VC for pairs reared together; a correlation is that covariance
over V_P. rMZ (2θ=1, Δ=1, +VC), rDZ (1/2, 1/4, +VC), rPO (1/2, 0), rHS (1/4, 0),
rFC (1/8, 0). h2 = VA/V_P, H2 = V_G/V_P, s2 = VA/V_G (the share of genetic variance a
perfect linear polygenic score captures), c2 = VC/V_P, e2 = VE/V_P,
falconer = 2(rMZ - rDZ), phantom = falconer - h2.

Why the proof side is sound: under the stated assumptions every member of the family has
a genetic variance that splits into orthogonal components V_{A^iD^j} >= 0, and every
statistic above is, by the Cockerham–Kempthorne theorem, exactly the stated ratio of
linear forms in those components. With max_order = K the family is the architectures
whose interactions involve at most K loci; the encoding asks only that the components be
nonnegative with V_G > 0, which every member satisfies, and every nonnegative choice is
realized (below), so the encoding is exact, not merely a relaxation. Denominators (V_P,
V_G, and any correlation of relatives reared together) are sums of nonnegative
components that dominate V_G > 0, hence positive; clearing them keeps every inequality's
direction.

Realizer: biallelic loci at allele frequency 1/2 with orthonormal contrasts: additive
a(g) = sqrt(2)(g - 1), dominance d(g) = +1 for heterozygotes, -1 otherwise. Component
A^iD^j is sqrt(V) times a product of i additive and j dominance contrasts on loci of its
own. Families are simulated for real (Hardy–Weinberg parents, Mendelian transmission,
MZ = one child twice, C per household, E per person) and every statistic is recomputed
from its definition: correlations of relatives, VA by least squares of G on allele
counts. The decisive computation enumerates founder genotypes and transmissions exactly
(prover.realizers.twins_exact: rational statistics, so any positive margin is confirmed);
a seeded simulation of families (prover.realizers.twins_sim) is a second, independent
check, and the only one for realizations too large to enumerate. Neither uses the
coefficient table above; they are the check on it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction

from ..errors import InputError
from ..poly import Poly
from .base import Atom, Evidence, Model, ModelInstance, Param, Ratio, Statistic
from .display import Picture, approx_text

# (name, 2θ, Δ, shares the household, description)
RELATIVES = (
    ("rMZ", Fraction(1), Fraction(1), True, "correlation of identical (MZ) twins"),
    ("rDZ", Fraction(1, 2), Fraction(1, 4), True,
     "correlation of fraternal (DZ) twins or full sibs reared together"),
    ("rPO", Fraction(1, 2), Fraction(0), False, "parent–offspring correlation"),
    ("rHS", Fraction(1, 4), Fraction(0), False, "half-sib correlation (reared apart)"),
    ("rFC", Fraction(1, 8), Fraction(0), False, "first-cousin correlation"),
)


def component_names(max_order: int) -> list[tuple[str, int, int]]:
    """[(name, i, j)] for every A^iD^j with 1 <= i+j <= max_order, by order then A's first."""
    out = []
    for order in range(1, max_order + 1):
        for j in range(order + 1):
            i = order - j
            out.append(("V" + "A" * i + "D" * j, i, j))
    return out


# Named designs (as in twin-study software): each fixes max_order, dominance and
# shared_environment. "full" is the epistatic model the other parameters describe.
DESIGNS = {
    "AE": {"max_order": 1, "dominance": False, "shared_environment": False},
    "ACE": {"max_order": 1, "dominance": False, "shared_environment": True},
    "ADE": {"max_order": 1, "dominance": True, "shared_environment": False},
    "ACDE": {"max_order": 1, "dominance": True, "shared_environment": True},
    "full": {},
}
# Parameters that enter a conjecture's normalized parameters only when they differ from
# their default, so that certificates made before they existed keep their hashes.
_OPTIONAL = {"design": "full", "dominance": True}


@dataclass(frozen=True)
class Choice(Param):
    choices: tuple = ()

    def validate(self, value):
        if value not in self.choices:
            raise InputError(f"parameter '{self.name}' must be one of "
                             f"{', '.join(json.dumps(c) for c in self.choices)}, got {value!r}")
        return value


class Twins(Model):
    name = "twins"
    lazy_modules = ("numpy.random", "prover.realizers.twins_exact", "prover.realizers.twins_sim")
    summary = "relatives (MZ, DZ, parent–offspring, half sibs, cousins) under the classical decomposition"
    params = (
        Param("max_order", "int", 4, "highest order i+j of A^iD^j variance components "
              "(1: VA and VD — dominance included unless dominance = false)",
              minimum=1, maximum=12),
        Param("shared_environment", "bool", False,
              "include VC, environment shared by relatives reared together"),
        Param("unique_environment", "bool", True, "include VE, environment unique to each person"),
        Param("dominance", "bool", True,
              "include components with dominance (A^iD^j with j >= 1); false leaves VA, "
              "VAA, VAAA, ..."),
        Choice("design", "choice", "full",
               "a named design: AE (VA, VE), ACE (VA, VC, VE), ADE (VA, VD, VE), ACDE (VA, "
               "VD, VC, VE), or full (max_order, dominance and shared_environment as given)",
               choices=tuple(DESIGNS)),
    )
    pictures = (Picture("frontier-twins", "rDZ/rMZ", "s2", compare=({"max_order": 2},)),
                Picture("frontier-twins-h2-falconer", "h2", "falconer"))

    def realization_lines(self, real: dict) -> list[str] | None:
        """The simulated architecture (realizers/twins_sim.py): loci, each variance
        component's effect, the environment."""
        if "terms" not in real:
            return None
        lines = []
        freq = real.get("allele_frequency", "1/2")
        lines.append(f"  Biallelic loci at allele frequency {freq}, Hardy–Weinberg, unlinked.")
        for t in real["terms"]:
            kinds = t.get("contrasts", [])
            adds, doms = kinds.count("additive"), kinds.count("dominance")
            what = " × ".join(filter(None, [f"{adds} additive" if adds else "",
                                            f"{doms} dominance" if doms else ""]))
            lines.append(f"  {t['component']} = {approx_text(t['variance'])}: "
                         f"{t.get('effect', '')} ({what} contrast(s) on loci {t.get('loci')})")
        for key, name in (("shared_environment_variance", "shared environment C"),
                          ("unique_environment_variance", "unique environment E")):
            if real.get(key) not in (None, "0"):
                lines.append(f"  {name}: variance {approx_text(real[key])}")
        if real.get("phenotype"):
            lines.append(f"  {real['phenotype']}")
        return lines

    def validate_params(self, raw) -> dict:
        raw = dict(raw)
        design = raw.pop("design", "full")
        try:
            design = next(p for p in self.params if p.name == "design").validate(design)
        except InputError as exc:
            exc.param = "design"
            raise
        for key, value in DESIGNS[design].items():
            if key in raw and raw[key] != value:
                err = InputError(f"parameter '{key}' = {json.dumps(raw[key])} contradicts "
                                 f"design = \"{design}\" (which sets {key} = "
                                 f"{json.dumps(value)}); drop one of them")
                err.param = key
                raise err
            raw[key] = value
        out = super().validate_params(raw)
        for key, default in _OPTIONAL.items():
            if out.get(key) == default:
                out.pop(key)
        return out

    def build(self, params: dict) -> ModelInstance:
        dominance = params.get("dominance", True)
        genetic = [(n, i, j) for n, i, j in component_names(params["max_order"])
                   if dominance or j == 0]
        names = [n for n, _, _ in genetic]
        env = (["VC"] if params["shared_environment"] else []) + \
              (["VE"] if params["unique_environment"] else [])
        variables = names + env
        v = {n: Poly.var(n) for n in variables}
        vg = Poly.sum(v[n] for n in names)
        vp = vg + Poly.sum(v[n] for n in env)
        vc = v.get("VC", Poly.const(0))

        constraints = [Atom(v[n], ">=") for n in variables] + [Atom(vg, ">")]
        stats: dict[str, Statistic] = {}
        for rel, two_theta, delta, household, desc in RELATIVES:
            cov = Poly.sum(v[n].scale(two_theta ** i * delta ** j) for n, i, j in genetic)
            if household:
                cov = cov + vc
            stats[rel] = Statistic(rel, desc, Ratio(cov, vp))
        stats["h2"] = Statistic("h2", "narrow-sense heritability VA/V_P", Ratio(v["VA"], vp))
        stats["H2"] = Statistic("H2", "broad-sense heritability V_G/V_P", Ratio(vg, vp))
        stats["s2"] = Statistic("s2", "share of genetic variance a perfect linear polygenic "
                                "score captures, VA/V_G", Ratio(v["VA"], vg))
        unavailable = {}
        if "VC" in v:
            stats["c2"] = Statistic("c2", "shared-environment share VC/V_P", Ratio(vc, vp))
        else:
            unavailable["c2"] = unavailable["VC"] = "needs shared_environment = true"
        if "VE" in v:
            stats["e2"] = Statistic("e2", "unique-environment share VE/V_P", Ratio(v["VE"], vp))
        else:
            unavailable["e2"] = unavailable["VE"] = "needs unique_environment = true"
        stats["falconer"] = Statistic("falconer", "Falconer's estimate 2(rMZ - rDZ)",
                                      expression="2*(rMZ - rDZ)")
        stats["phantom"] = Statistic("phantom", "phantom heritability falconer - h2",
                                     expression="falconer - h2")
        max_order = params["max_order"]
        for order in range(max_order + 1, 13):
            for n, _, j in component_names(order)[-(order + 1):]:
                unavailable[n] = f"needs max_order >= {order}" + (
                    "" if dominance or not j else " and dominance = true")
        if not dominance:
            for n, _, j in component_names(max_order):
                if j:
                    unavailable[n] = "needs dominance = true"

        return ModelInstance(
            model=self, params=params, variables=variables, components=variables,
            constraints=constraints, statistics=stats,
            # statistics are scale-free: searching on V_P = 1 loses no counterexample
            search_constraints=[Atom(vp - 1, "==")],
            search_tiers=[[Atom(v[n], "==") for n, i, j in genetic if i + j > order]
                          for order in (1, 2) if order < params["max_order"]],
            unavailable=unavailable, realize=_realize)


def _realize(values: dict[str, Fraction], *, seed: int, effort: int = 1) -> Evidence:
    """Exact statistics by enumerating genotypes and transmissions (decisive), plus a
    simulation of real families as a second, independent check; simulation alone when
    the realization is too large to enumerate."""
    from ..realizers.twins_exact import ExactTooLarge, realized_statistics
    from ..realizers.twins_sim import build_architecture, simulate_twins

    realization = build_architecture(values)
    try:
        exact = realized_statistics(realization, list(values))
    except ExactTooLarge:
        exact = None
    families = 100_000 * effort
    result = simulate_twins(values, seed=seed, families=families, batches=20)
    if exact is not None:
        return Evidence(method=EXACT_METHOD, realization=result.realization, seed=seed,
                        samples=families, exact=exact, estimates=result.estimates,
                        batch_estimates=result.batch_estimates)
    return Evidence(method=SIMULATION_METHOD, realization=result.realization, seed=seed,
                    samples=families, estimates=result.estimates,
                    batch_estimates=result.batch_estimates)


EXACT_METHOD = "exact enumeration of founder genotypes and Mendelian transmissions"
SIMULATION_METHOD = "simulation of families (Mendelian transmission), batch means"


MODEL = Twins()
