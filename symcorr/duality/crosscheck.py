r"""Function-space cross-check of a proof with the symbolic correlators of :mod:`symcorr.symbolic`.

The proof works in parameter space.  Independently, the closed-form correlators give

* inputs: :math:`\Delta = G^{(n)}(gx_1, \dots, gx_n) - G^{(n)}(x_1, \dots, x_n)` (translations:
  :math:`x_k + c`),
* outputs: :math:`\Delta_{a} = (g^{\otimes n}G^{(n)})_{a} - G^{(n)}_{a}` for every index tuple,

which is simplified exactly.  Two kinds of element are used:

* ``element="generic"`` (inputs): the generic element :math:`R` (a ``MatrixSymbol`` with
  :math:`R^TR = 1`, any dimension, via :func:`symcorr.symbolic.apply_relations`) or a symbolic
  translation vector :math:`c`, with symbolic points :math:`x_k` (``MatrixSymbol``).  Zero here means
  invariance under all of O(d) (hence under every subgroup);
* ``element="parametrized"``: one-parameter plane rotations with the rational Cayley parametrisation
  :math:`\cos = (1-a^2)/(1+a^2)`, :math:`\sin = 2a/(1+a^2)`, symbolic in :math:`a`, which generate the
  identity component, plus the discrete generators; points random rationals (seeded) or symbolic.

The result agrees with a proof when ``proven`` ⇒ Δ ≡ 0 and ``refuted`` ⇒ Δ ≠ 0 (a refutation may show
only at another order, so Δ ≡ 0 at this order is "consistent, not informative" then).
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field

import sympy as sp

from ..errors import SpecError
from ..spec import Network
from ..symbolic import apply_relations, correlator
from ..verdicts import ProofVerdict, Side
from . import elements as el
from .elements import Family, catalogue_group
from .engines import run_engine
from .exact import zero_test
from .kernel import one_parameter_elements
from .prover import prove_invariance
from .witness import act_input, concretize, has_integral

__all__ = ["CrossCheck", "crosscheck"]


@dataclass
class CrossCheck:
    """The outcome of :func:`crosscheck`."""

    group: object
    on: Side
    n: int
    element: str
    points: str
    differences: list          # the simplified Δ (one per element, or per index tuple)
    zero: bool | None          # Δ ≡ 0 (True), Δ ≠ 0 somewhere (False), undecided (None)
    proof_verdict: ProofVerdict | None
    agrees: bool | None        # True / False (contradiction!) / None (not informative)
    notes: list = field(default_factory=list)

    def markdown(self) -> str:
        state = {True: "Δ ≡ 0", False: "Δ ≠ 0", None: "undecided"}[self.zero]
        agree = {True: "agrees with", False: "CONTRADICTS", None: "is consistent with"}[self.agrees]
        return (f"Cross-check of {self.group!r} on the {self.on}s with $G^{{({self.n})}}$ "
                f"({self.element} element, {self.points} points): {state}; {agree} the proof "
                f"({self.proof_verdict}). " + " ".join(self.notes))


def _zero(expr, syms=(), tries: int = 4, seed: int = 0):
    """Exact zero test (:func:`symcorr.duality.exact.zero_test`); None for unevaluated integrals or
    leftover matrix symbols."""
    expr = sp.sympify(expr)
    if has_integral(expr):
        return None
    if any(isinstance(a, sp.MatrixSymbol) for a in sp.preorder_traversal(expr)):
        return True if sp.simplify(expr) == 0 else None
    return zero_test(expr, tries=tries, seed=seed)[0]


def _random_points(d: int, n: int, seed: int):
    rng = random.Random(seed)
    return [[sp.Rational(rng.randint(-9, 9), rng.randint(2, 7)) for _ in range(d)] for _ in range(n)]


def crosscheck(network: Network, group, on: str = "input", n: int = 2, *, element: str = "parametrized",
               points: str = "random", proof=None, values: dict | None = None, seed: int = 0) -> CrossCheck:
    """Simplify :math:`G^{(n)}` transformed minus :math:`G^{(n)}` with :mod:`symcorr.symbolic` and compare
    with the verdict of ``proof`` (computed with :func:`prove_invariance` when not given)."""
    on = Side.parse(on)
    group = catalogue_group(network, group, on)
    if element not in ("generic", "parametrized"):
        raise SpecError(f"element must be 'generic' or 'parametrized', got {element!r}", "element")
    if points not in ("symbolic", "random"):
        raise SpecError(f"points must be 'symbolic' or 'random', got {points!r}", "points")
    if proof is None:
        proof = prove_invariance(network, group, on, values=values, residual=False)
    fam = el.family(group)
    diffs, notes = [], []
    if element == "generic":
        if on is not Side.INPUT:
            raise SpecError("the generic element is available for input actions; use element='parametrized'")
        d = network.input_dim
        G = correlator(network, n)
        xs = [sp.MatrixSymbol(f"x{k + 1}", d, 1) for k in range(n)]
        if fam is Family.T:
            c = sp.MatrixSymbol("c", d, 1)
            moved = [x + c for x in xs]
            rel = []
        else:
            r = sp.MatrixSymbol("R", d, d)
            moved = [r * x for x in xs]
            rel = [sp.Eq(r.T * r, sp.Identity(d))]
        diff = apply_relations(G.expr(moved) - G.expr(xs), rel)
        diffs.append(sp.simplify(diff))
        zero = _zero(diff, seed=seed)
        if zero is None and not has_integral(diff):
            # a generic symbolic difference that is not identically 0: test concrete instances
            zero = _instances_nonzero(network, group, on, n, values, seed, notes)
    else:
        net, grp, _ = concretize(network, group, values)
        zero = True
        for g, _params in one_parameter_elements(grp):
            d_ = _parametrized_difference(net, grp, on, n, g, points, seed)
            if d_ is None:
                zero = None
                notes.append("the correlator is not a closed form here")
                break
            diffs.append(d_)
            z = _zero(d_, seed=seed)
            if z is False:
                zero = False
                break
            if z is None:
                zero = None
    verdict = ProofVerdict.parse(proof.verdict)
    if verdict is ProofVerdict.PROVEN:
        agrees = None if zero is None else bool(zero)
    elif verdict is ProofVerdict.REFUTED:
        agrees = True if zero is False else None
    else:
        agrees = None
    if verdict is ProofVerdict.REFUTED and zero is True:
        notes.append(f"order {n} does not see the breaking; the proof's witness is at another order or quantity.")
    return CrossCheck(group, on, n, element, points, diffs, zero, verdict, agrees, notes)


def _instances_nonzero(network, group, on, n, values, seed, notes):
    """Fallback for the generic route: a non-zero value at a concrete parametrised instance (None when
    there is none, or when the instance cannot be computed: the reason is added to ``notes``)."""
    out, failure = run_engine("symcorr.symbolic", "the correlator difference at a concrete instance", crosscheck,
                              network, group, on, n, element="parametrized", points="random", values=values,
                              seed=seed, proof=_NoProof())
    if failure is not None:
        notes.append(f"the concrete instance could not be computed: `{failure.engine}` failed ({failure.reason}).")
        return None
    return False if out.zero is False else None


class _NoProof:
    """Stands for a proof when the cross-check only looks for a non-zero difference."""

    verdict = ProofVerdict.UNDECIDED


def _parametrized_difference(net, grp, on, n, g, points, seed):
    G = correlator(net, n)
    fam = el.family(grp)
    if on is Side.INPUT:
        d = net.input_dim
        if points == "symbolic":
            pts = [list(sp.symbols(f"x{k}_0:{d}", real=True)) for k in range(n)]
        else:
            pts = _random_points(d, n, seed)
        moved = [act_input(g, p, fam) for p in pts]
        e0 = G.expr(pts, simplify_inputs=sp.cancel)
        e1 = G.expr(moved, simplify_inputs=sp.cancel)
        diff = e1 - e0
        if has_integral(diff):
            return None
        return sp.simplify(diff)
    # outputs: the full tensor at random points
    d_out = net.output_dim
    if fam is Family.T:
        return None
    pts = _random_points(net.input_dim, n, seed)
    idx = list(range(d_out))
    if d_out ** n > 256:
        return None
    tensor = {b: G.expr(pts, b) for b in itertools.product(idx, repeat=n)}
    if any(has_integral(v) for v in tensor.values()):
        return None
    worst = sp.Integer(0)
    for a in itertools.product(idx, repeat=n):
        rot = sum(sp.Mul(*[g[a[k], b[k]] for k in range(n)]) * tensor[b]
                  for b in itertools.product(idx, repeat=n) if all(g[a[k], b[k]] != 0 for k in range(n)))
        diff = sp.simplify(sp.cancel(rot - tensor[a]))
        if diff != 0:
            return diff
    return worst
