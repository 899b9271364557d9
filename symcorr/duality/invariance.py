r"""Is a parameter law invariant under the absorbed map?  Decided exactly from the law's structure.

(About 550 lines, over the 500-line guide: the law checks of every parameter map live together, because
the translation check dispatches to the half-period gauge, which reuses the block checks; splitting them
would make a cycle.)

* **iid zero-mean Normal** block: :math:`\log P(W) = -\mathrm{tr}(W^TW)/2\sigma^2 + \mathrm{const}` and
  :math:`\mathrm{tr}((WR)^T WR) = \mathrm{tr}(R^TW^TWR) = \mathrm{tr}(W^TWRR^T) = \mathrm{tr}(W^TW)` by
  :math:`RR^T = 1` (cyclicity of the trace; shown with the ``MatrixSymbol`` form of
  :meth:`~symcorr.distributions.Law.block_log_density` and the generic element, so it holds for symbolic
  dimensions).  Likewise :math:`\mathrm{tr}((\rho W)^T\rho W) = \mathrm{tr}(W^T\rho^T\rho W)`.
* **Normal with a mean and Kronecker covariance**
  :math:`\mathrm{vec}\,W \sim N(\mathrm{vec}\,M, \sigma^2 V\otimes U)`: a Gaussian law is fixed by its mean
  and covariance, so :math:`W\mapsto Wg` preserves it iff :math:`Mg = M` and :math:`g^TVg = V`, and
  :math:`W \mapsto gW` iff :math:`gM = M` and :math:`gUg^T = U`.  For a group this is decided on a basis
  of its Lie algebra (:math:`ML = 0`, :math:`[L, V] = 0`) plus its discrete generators
  (:mod:`symcorr.duality.elements`), exactly with SymPy.
* **iid non-Gaussian** laws (Laplace, uniform, Rademacher, ...): a product law is invariant under every
  permutation of its entries, under sign flips iff it is symmetric, and under no rotation mixing two
  entries: :math:`\kappa_r(\sum_k c_k w_k) = \sum_k c_k^r\,\kappa_r(w) \ne \kappa_r(w)` for a unit vector
  :math:`c` with two non-zero entries and any non-zero cumulant of order :math:`r \ge 3` (a concrete
  number is given).
* **Haar orthogonal** blocks (``torch.nn.init.orthogonal_``, :class:`~symcorr.distributions.HaarOrthogonal`):
  :math:`W = gQ` with :math:`Q` Haar on the Stiefel manifold, whose law is invariant under
  :math:`Q \mapsto UQV` for all orthogonal :math:`U, V`; every linear group of the catalogue consists of
  orthogonal matrices, so both ``W -> W g`` and ``W -> g W`` preserve it, for every dimension.  (The iid
  uniform law of torch's default initialisation is only invariant under signed permutations: the product
  rule above.)
* **Point mass at 0** (``zeros_``): :math:`W = 0` almost surely and :math:`0g = g0 = 0`.
* **Translations** :math:`b^0\mapsto b^0 + W^0c`: a uniform phase (a uniform law on one period) is
  invariant under every shift modulo its period, which is enough when the first activation has that
  period (Cos-net); no law on the real line is invariant under the random shift :math:`W^0c`
  (its variance grows by :math:`\mathrm{Var}((W^0c)_i) > 0`).  A phase uniform on **half** a period of an
  antiperiodic activation (:math:`\phi(z + h) = -\phi(z)`) is handled by the gauge
  :math:`(W^1_{:,i}, b^0_i) \mapsto (-W^1_{:,i}, b^0_i + h)`, which leaves :math:`f_\theta` unchanged: the
  density is that of a full-period phase when the law of :math:`W^1` is invariant under single-column sign
  flips (:attr:`LawReason.HALF_PERIOD_PHASE`).
* **Other maps**: :math:`W \mapsto -W` of a structured Gaussian (any dimension: the mean must vanish) and
  the two-sided :math:`W \mapsto gWP^T` of a hidden-neuron permutation (:func:`two_sided_invariance`).

Each function returns a :class:`LawCheck`: a status True / False / None (None: depends on a symbol,
e.g. a mean that may or may not vanish), the reason (:class:`LawReason`) with the facts it rests on (the
trace-form reduction, the mean vectors and covariance factors checked, ...) and, when the law is not
invariant, a :class:`~symcorr.duality.proof.ParameterWitness`.  This module decides; the proof's text
is written from a LawCheck by :mod:`symcorr.duality.render`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import sympy as sp

from ..distributions import HaarOrthogonal, Law, Normal, PointMass, Uniform
from ..groups import GeneratedGroup, Group, Parity, SignFlips
from ..spec import Network, ParameterBlock
from ..verdicts import StepStatus
from . import elements as el
from .absorb import is_antiperiodic_with, is_periodic_with
from .elements import Family
from .exact import zero_status
from .proof import ParameterWitness, block_tex

__all__ = ["Multiplication", "LawReason", "MeanPart", "MeanRequirement", "CovarianceRequirement", "TraceForm",
           "LawCheck", "block_invariance", "shear_invariance", "two_sided_invariance", "fixes", "commutes",
           "zero_status"]


class Multiplication(StrEnum):
    """How a group element acts on a block: ``W -> W g`` (right, first-layer weights under input
    actions) or ``W -> g W`` / ``b -> g b`` (left, last-layer blocks under output actions)."""

    RIGHT = "right"
    LEFT = "left"


class LawReason(StrEnum):
    """Why a block's law is (not) invariant; each names the argument the proof states."""

    TRIVIAL_GROUP = "trivial-group"
    TRACE_FORM = "trace-form"                                  # iid N(0, s^2): tr(W^T W) is invariant
    TRACE_FORM_IRREDUCIBLE = "trace-form-irreducible"          # ... but the word did not reduce
    MEAN_FIXED = "mean-fixed"                                  # iid N(mu, s^2), every element fixes 1
    MEAN_MOVED_UNLESS_ZERO = "mean-moved-unless-zero"          # ... a symbolic mu: invariant iff mu = 0
    MEAN_FIXING_UNDECIDED = "mean-fixing-undecided"
    MEAN_MOVED = "mean-moved"
    STRUCTURED_SYMBOLIC_DIMENSION = "structured-symbolic-dimension"
    STRUCTURED_GAUSSIAN = "structured-gaussian"                # g M = M and g U g^T = U, checked
    PRODUCT_PERMUTATIONS = "product-permutations"              # iid: invariant under permutations
    PRODUCT_SIGNED_PERMUTATIONS = "product-signed-permutations"  # iid symmetric: and sign flips
    PRODUCT_NOT_SYMMETRIC = "product-not-symmetric"
    PRODUCT_SYMMETRY_UNDECIDED = "product-symmetry-undecided"
    PRODUCT_ROTATION_CUMULANT = "product-rotation-cumulant"    # a mixed entry has another cumulant
    PRODUCT_NO_CUMULANT = "product-no-cumulant"
    UNIFORM_PHASE = "uniform-phase"                            # b0 uniform on whole periods: Haar
    PHASE_NOT_PERIODIC = "phase-not-periodic"                  # uniform b0, activation not periodic
    PERIODICITY_UNDECIDED = "periodicity-undecided"
    SHIFT_ON_THE_LINE = "shift-on-the-line"                    # b0 on R: changed by the random shift
    HAAR_ORTHOGONAL = "haar-orthogonal"                        # Haar on the Stiefel manifold: U W V
    POINT_MASS_ZERO = "point-mass-zero"                        # W = 0 almost surely
    HALF_PERIOD_PHASE = "half-period-phase"                    # b0 uniform on half a period, phi antiperiodic:
                                                               # the gauge (W1_i, b0_i) -> (-W1_i, b0_i + p/2)
    PARITY_MEAN = "parity-mean"                                # W -> -W (any dimension): invariant iff mean 0
    TWO_SIDED_GAUSSIAN = "two-sided-gaussian"                  # W -> g W P^T: g M P^T = M, g U g^T = U, P V P^T = V


class MeanPart(StrEnum):
    """Which part of a Gaussian law's mean a group element must fix."""

    VECTOR = "vector"              # the mean (column) vector of a bias or of a one-column weight
    COLUMN = "column"              # column j of the mean matrix (left multiplication)
    ROW = "row"                    # row i of the mean matrix (right multiplication)
    ROW_CONSTANT = "row-constant"  # the rows a_i 1^T of a mean with one entry per row
    SCALAR = "scalar"              # a scalar mean m: the vector m 1


@dataclass(frozen=True)
class MeanRequirement:
    """``g v = v`` for every element: the vector, whether it holds (True / False / None) and which part
    of the mean it is."""

    part: MeanPart
    index: int
    vector: sp.Matrix
    fixed: bool | None

    @property
    def name(self) -> str:
        """The part in words (the proof's text and the parameter witness quote it)."""
        return {MeanPart.VECTOR: "the mean vector", MeanPart.COLUMN: f"column {self.index + 1} of the mean",
                MeanPart.ROW: f"row {self.index + 1} of the mean",
                MeanPart.ROW_CONSTANT: "the rows $a_i\\mathbf 1^T$ of the mean", MeanPart.SCALAR: "the mean"}[self.part]


@dataclass(frozen=True)
class CovarianceRequirement:
    """``g^T A g = A`` (or ``g A g^T = A``) for every element, for the covariance factor ``name``."""

    name: str               # C (a bias), V (columns, right multiplication), U (rows, left multiplication)
    matrix: sp.Matrix
    commutes: bool | None


@dataclass(frozen=True)
class TraceForm:
    """The reduction of :math:`\\mathrm{tr}(W^TW)` under ``W -> W g`` (or ``g W``): the log-density and the
    successive cyclic words, from the moved one to one equal to the original (``reduced``)."""

    block: sp.MatrixSymbol
    element: sp.MatrixSymbol
    log_density: sp.Expr
    words: tuple
    reduced: bool


@dataclass(frozen=True)
class LawCheck:
    """The decision for one block: ``status`` True / False / None, the reason and its facts, a witness."""

    block: str
    status: bool | None
    reason: LawReason
    law: Law | None = None
    side: Multiplication | None = None
    letter: str = "g"
    witness: ParameterWitness | None = None
    trace: TraceForm | None = None
    means: tuple[MeanRequirement, ...] = ()
    covariance: CovarianceRequirement | None = None
    symbolic_dimension: bool = False   # decided for every dimension (an element of a 2-d instance)
    sign_flips: bool = False           # PRODUCT_SIGNED_PERMUTATIONS: the group contains sign flips
    period: sp.Expr | None = None      # translations: the length of the uniform phase's interval
    activation: str | None = None      # translations: the first activation
    group: Group | None = None         # TRIVIAL_GROUP
    gauge: "LawCheck | None" = None    # HALF_PERIOD_PHASE: the next weight under single-column sign flips
    gauge_block: str | None = None     # ... and its name
    permutation: sp.Matrix | None = None   # TWO_SIDED_GAUSSIAN: the neuron permutation P

    @property
    def step_status(self) -> StepStatus:
        return {True: StepStatus.ESTABLISHED, False: StepStatus.FAILS, None: StepStatus.OPEN}[self.status]


def _matrix_status(m: sp.MatrixBase) -> bool | None:
    status = True
    for v in m:
        s = zero_status(v)
        if s is False:
            return False
        if s is None:
            status = None
    return status


def fixes(group: Group, v: sp.Matrix):
    """Does every element of ``group`` fix the vector ``v``?  Returns (status, witness element or None)."""
    status = True
    for gen in el.lie_algebra(group):
        s = _matrix_status(sp.Matrix(gen.matrix) * v)
        if s is False:
            return False, el.plane_rotation(gen, group.n)
        if s is None:
            status = None
    for g in el.discrete_generators(group):
        s = _matrix_status(g * v - v)
        if s is False:
            return False, g
        if s is None:
            status = None
    return status, None


def commutes(group: Group, a: sp.Matrix):
    """Does every element of ``group`` commute with the symmetric matrix ``a`` (:math:`g^Tag = a`)?"""
    status = True
    for gen in el.lie_algebra(group):
        m = sp.Matrix(gen.matrix)
        s = _matrix_status(m * a - a * m)
        if s is False:
            return False, el.plane_rotation(gen, group.n)
        if s is None:
            status = None
    for g in el.discrete_generators(group):
        s = _matrix_status(g.T * a * g - a)
        if s is False:
            return False, g
        if s is None:
            status = None
    return status, None


# ----------------------------------------------------------------------------------------------------
# the trace form for iid zero-mean Gaussian blocks
# ----------------------------------------------------------------------------------------------------
def _letters(e):
    """Flatten a product of matrix symbols and transposes into a word [(symbol, transposed)]."""
    if isinstance(e, sp.MatrixSymbol):
        return [(e, False)]
    if isinstance(e, sp.Transpose):
        return [(s, not t) for s, t in reversed(_letters(e.arg))]
    if isinstance(e, sp.MatMul):
        out = []
        for a in e.args:
            out += _letters(a)
        return out
    raise TypeError(f"not a product of matrix symbols: {e}")


def _cyclic_cancel(word, g):
    """Rotate the cyclic word and cancel adjacent ``g g^T`` / ``g^T g`` (the relations of O(n)).
    Returns the list of successive words (for display)."""
    steps = [list(word)]
    word = list(word)
    changed = True
    while changed and len(word) >= 2:
        changed = False
        for i in range(len(word)):
            a, b = word[i], word[(i + 1) % len(word)]
            if a[0] == g and b[0] == g and a[1] != b[1]:
                if i == len(word) - 1:  # the pair wraps around: rotate it to the end first
                    word = word[1:] + word[:1]
                    steps.append(list(word))
                    del word[-2:]
                else:
                    del word[i:i + 2]
                steps.append(list(word))
                changed = True
                break
    return steps


def _same_cyclic(w1, w2) -> bool:
    if len(w1) != len(w2):
        return False
    return any(w1[k:] + w1[:k] == w2 for k in range(len(w1) or 1))


def _trace_form(block: ParameterBlock, side: Multiplication, letter: str) -> TraceForm | None:
    """The trace-form reduction for an iid zero-mean Normal block (None: the log-density is not one
    trace)."""
    shape = block.shape if len(block.shape) == 2 else (block.shape[0], 1)
    w = sp.MatrixSymbol("{%s}" % block_tex(block.name), *shape)
    dim = shape[1] if side is Multiplication.RIGHT else shape[0]
    gname = {"R": "R", r"\rho": "rho", "P": "P"}.get(letter.strip(), "g")
    g = sp.MatrixSymbol(gname, dim, dim)
    logp = block.law.block_log_density(w)
    moved = w * g if side is Multiplication.RIGHT else g * w
    traces = [t for t in sp.preorder_traversal(logp) if isinstance(t, sp.Trace)]
    if len(traces) != 1:
        return None
    word0 = _letters(traces[0].arg)
    word1 = _letters(traces[0].arg.xreplace({w: moved}))
    chain = _cyclic_cancel(word1, g)
    return TraceForm(w, g, logp, tuple(tuple(word) for word in chain), _same_cyclic(chain[-1], word0))


# ----------------------------------------------------------------------------------------------------
# parameter witnesses
# ----------------------------------------------------------------------------------------------------
def _cumulant_witness(law: Law, coeffs: list, entry_tex: str, g: sp.Matrix, transformed_tex: str):
    """Find an order r with kappa_r(sum c_k w_k) = sum c_k^r kappa_r != kappa_r; return a witness."""
    for r in range(1, 9):
        kappa = sp.simplify(law.cumulant(r))
        if zero_status(kappa) is not False:
            continue
        power = sp.nsimplify(sum(sp.sympify(c) ** r for c in coeffs))
        new = sp.simplify(power * kappa)
        if zero_status(new - kappa) is False:
            comb = " + ".join(f"({sp.latex(sp.nsimplify(c))})\\,w_{{{k + 1}}}" for k, c in enumerate(coeffs)
                              if c != 0)
            stmt = (f"the entry ${transformed_tex} = {comb}$ (iid $w_k$ with the law of ${entry_tex}$) has "
                    f"cumulant $\\kappa_{r} = \\left(\\sum_k c_k^{r}\\right)\\kappa_{r}(w)$, not $\\kappa_{r}(w)$")
            if r == 4:
                var = sp.simplify(law.cumulant(2))
                stmt += (f"; its excess kurtosis is ${sp.latex(sp.simplify(new / var ** 2))}$ instead of "
                         f"${sp.latex(sp.simplify(kappa / var ** 2))}$")
            return ParameterWitness(g, stmt, kappa, new)
    return None


def _odd_cumulant_witness(law: Law, g, entry_tex):
    for r in (1, 3, 5, 7):
        kappa = sp.simplify(law.cumulant(r))
        if zero_status(kappa) is False:
            return ParameterWitness(g, f"the sign flip maps ${entry_tex}$ to $-{entry_tex}$, whose cumulant "
                                       f"$\\kappa_{r}$ changes sign", kappa, -kappa)
    return None


def _generic_dim_element(group: Group) -> tuple[sp.Matrix, int]:
    """For a symbolic dimension: the rotation/flip in the first two coordinates (dimension 2 instance)."""
    fam = el.family(group)
    if isinstance(group, Parity):
        return -sp.eye(2), 2
    if fam.is_rotation:
        return el.plane_rotation(el.lie_algebra(type(el.root_group(group))(2))[0], 2), 2
    if fam is Family.B:
        return sp.diag(-1, 1), 2
    return sp.Matrix([[0, 1], [1, 0]]), 2


# ----------------------------------------------------------------------------------------------------
# the three kinds of laws
# ----------------------------------------------------------------------------------------------------
def _iid_normal(block: ParameterBlock, group: Group, side: Multiplication, letter: str) -> LawCheck:
    law = block.law
    mu = law.loc

    def check(status, reason, **kw):
        return LawCheck(block.name, status, reason, law, side, letter, **kw)

    if zero_status(mu) is True:
        trace = _trace_form(block, side, letter)
        if trace is not None and trace.reduced:
            return check(True, LawReason.TRACE_FORM, trace=trace)
        return check(None, LawReason.TRACE_FORM_IRREDUCIBLE)
    n = group.n
    if el.concrete_dim(group) is None:
        fixed = el.family(group) is Family.S
        elem = None if fixed else _generic_dim_element(group)[0]
    else:
        fixed, elem = fixes(group, sp.ones(n, 1))
    if fixed is True:
        return check(True, LawReason.MEAN_FIXED)
    mu_zero = zero_status(mu)
    witness = None
    if elem is not None:
        k = elem.rows
        moved = (sp.ones(1, k) * elem).T if side is Multiplication.RIGHT else elem * sp.ones(k, 1)
        witness = ParameterWitness(elem, "the mean vector " + f"${sp.latex(mu)}\\,\\mathbf 1$ of a "
                                   + ("row" if side is Multiplication.RIGHT else "column") + " is moved",
                                   mu * sp.ones(k, 1), mu * moved)
    if mu_zero is None and fixed is not None:
        return check(None, LawReason.MEAN_MOVED_UNLESS_ZERO, witness=witness)
    if fixed is None:
        return check(None, LawReason.MEAN_FIXING_UNDECIDED)
    return check(False, LawReason.MEAN_MOVED, witness=witness)


def _mean_vectors(law: Normal, n: int, is_bias: bool, side: Multiplication) -> list[tuple[MeanPart, int, sp.Matrix]]:
    """The vectors every element must fix for the mean of ``law`` to be unchanged."""
    vectors = []
    loc = law.loc
    if isinstance(loc, sp.MatrixBase):
        if is_bias or side is Multiplication.LEFT:
            for j in range(loc.cols):
                vectors.append((MeanPart.VECTOR if loc.cols == 1 else MeanPart.COLUMN, j, sp.Matrix(loc[:, j])))
        elif loc.cols == 1:  # right multiplication, a mean per row: rows a_i 1^T
            if zero_status(sp.Matrix(loc).norm() ** 2) is not True:
                vectors.append((MeanPart.ROW_CONSTANT, 0, sp.ones(n, 1)))
        else:
            for i in range(loc.rows):
                vectors.append((MeanPart.ROW, i, sp.Matrix(loc[i, :]).T))
    elif zero_status(loc) is not True:
        vectors.append((MeanPart.SCALAR, 0, loc * sp.ones(n, 1)))
    return [(part, i, v) for part, i, v in vectors if _matrix_status(v) is not True]


def _structured_normal(block: ParameterBlock, group: Group, side: Multiplication, letter: str) -> LawCheck:
    law: Normal = block.law
    is_bias = len(block.shape) == 1
    if isinstance(group, Parity):
        # W -> -W: a Gaussian law is symmetric iff its mean vanishes (the covariance is unchanged), in any
        # dimension
        loc = law.loc if isinstance(law.loc, sp.MatrixBase) else sp.Matrix([law.loc])
        s = _matrix_status(sp.Matrix(loc))
        witness = None
        if s is False:
            witness = ParameterWitness(-sp.eye(loc.rows), "the mean changes sign", sp.Matrix(loc), -sp.Matrix(loc))
        return LawCheck(block.name, s, LawReason.PARITY_MEAN, law, side, letter, witness=witness)
    if el.concrete_dim(group) is None:
        return LawCheck(block.name, None, LawReason.STRUCTURED_SYMBOLIC_DIMENSION, law, side, letter)
    right = side is Multiplication.RIGHT and not is_bias
    means, status, witness = [], True, None
    for part, index, v in _mean_vectors(law, group.n, is_bias, side):
        s, g = fixes(group, v)
        req = MeanRequirement(part, index, v, s)
        if s is False and witness is None:
            witness = ParameterWitness(g, f"{req.name} is moved", v, (g.T * v) if right else g * v)
        means.append(req)
        status = False if s is False or status is False else (None if s is None else status)
    cov = law.cov if is_bias else (law.col_cov if side is Multiplication.RIGHT else law.row_cov)
    covariance = None
    if cov is not None:
        name = "C" if is_bias else ("V" if side is Multiplication.RIGHT else "U")
        s, g = commutes(group, sp.Matrix(cov))
        if s is False and witness is None:
            moved = f"g^T{name}g" if side is Multiplication.RIGHT else f"g{name}g^T"
            witness = ParameterWitness(g, f"the covariance factor ${name}$ changes to ${moved}$", sp.Matrix(cov),
                                       g.T * sp.Matrix(cov) * g)
        covariance = CovarianceRequirement(name, sp.Matrix(cov), s)
        status = False if s is False or status is False else (None if s is None else status)
    return LawCheck(block.name, status, LawReason.STRUCTURED_GAUSSIAN, law, side, letter, witness=witness,
                    means=tuple(means), covariance=covariance)


def _iid_general(block: ParameterBlock, group: Group, side: Multiplication, letter: str) -> LawCheck:
    law = block.law
    tex = block_tex(block.name)
    entry = f"{block.name[0]}^{{{block.name[1:]}}}_{{11}}"
    symbolic = el.concrete_dim(group) is None

    def check(status, reason, **kw):
        return LawCheck(block.name, status, reason, law, side, letter, symbolic_dimension=symbolic, **kw)

    if symbolic:
        if el.family(group) is Family.S:
            return check(True, LawReason.PRODUCT_PERMUTATIONS)
        elem, _ = _generic_dim_element(group)
        gens = [elem]
    else:
        gens = [el.plane_rotation(g, group.n) for g in el.lie_algebra(group)[:1]] + el.discrete_generators(group)
        if not el.lie_algebra(group) and all(el.is_permutation(g) for g in gens):
            return check(True, LawReason.PRODUCT_PERMUTATIONS)
    sign_flips = False
    for g in gens:
        if el.is_permutation(g):
            continue
        if el.is_signed_permutation(g):
            sign_flips = True
            sym = law.is_symmetric
            if sym is False:
                return check(False, LawReason.PRODUCT_NOT_SYMMETRIC, witness=_odd_cumulant_witness(law, g, entry))
            if sym is None:
                return check(None, LawReason.PRODUCT_SYMMETRY_UNDECIDED)
            continue
        # a genuine rotation: find the column (row) of g with two or more non-zero entries
        lines = ([list(g[:, j]) for j in range(g.cols)] if side is Multiplication.RIGHT
                 else [list(g[i, :]) for i in range(g.rows)])
        for k, coeffs in enumerate(lines):
            if sum(1 for c in coeffs if c != 0) < 2:
                continue
            transformed = (f"({tex}{letter})_{{1{k + 1}}}" if side is Multiplication.RIGHT and len(block.shape) == 2
                           else f"({letter}{tex})_{{{k + 1}" + ("1}" if len(block.shape) == 2 else "}"))
            wit = _cumulant_witness(law, coeffs, entry, g, transformed)
            if wit is not None:
                return check(False, LawReason.PRODUCT_ROTATION_CUMULANT, witness=wit)
        return check(None, LawReason.PRODUCT_NO_CUMULANT)
    return check(True, LawReason.PRODUCT_SIGNED_PERMUTATIONS, sign_flips=sign_flips)


def block_invariance(block: ParameterBlock, group: Group, side: Multiplication | str,
                     letter: str = "g") -> LawCheck:
    """Is the law of ``block`` invariant under ``W -> W g`` (``side="right"``) or ``W -> g W`` / ``b -> g b``
    (``side="left"``) for every ``g`` in ``group``?"""
    side = Multiplication(side)
    if el.is_trivial(group):
        return LawCheck(block.name, True, LawReason.TRIVIAL_GROUP, block.law, side, letter, group=group)
    law = block.law
    if isinstance(law, HaarOrthogonal):
        return _haar_orthogonal(block, group, side, letter)
    if isinstance(law, PointMass) and zero_status(law.value) is True:
        return LawCheck(block.name, True, LawReason.POINT_MASS_ZERO, law, side, letter)
    if isinstance(law, Normal):
        if law.is_iid:
            return _iid_normal(block, group, side, letter)
        return _structured_normal(block, group, side, letter)
    return _iid_general(block, group, side, letter)


def _haar_orthogonal(block: ParameterBlock, group: Group, side: Multiplication, letter: str) -> LawCheck:
    """A Haar (semi-)orthogonal block is invariant under left and right multiplication by orthogonal
    matrices (see the module docstring); open for a group that is not orthogonal."""
    symbolic = el.concrete_dim(group) is None
    status = True if group.is_linear and group.is_orthogonal else None
    return LawCheck(block.name, status, LawReason.HAAR_ORTHOGONAL, block.law, side, letter,
                    symbolic_dimension=symbolic)


def _variance(law: Law, i: int = 0, shape: tuple | None = None):
    """The variance of entry ``(i, 0)`` (or ``i`` of a vector) of a block of ``shape`` with this law."""
    if isinstance(law, HaarOrthogonal):
        return law.entry_variance(shape)
    if isinstance(law, Normal) and not law.is_iid:
        return law.entry(i, 0).var
    return law.variance


def shear_invariance(network: Network, group: Group) -> LawCheck:
    r"""Is the joint law of :math:`(W^0, b^0)` invariant under :math:`b^0 \mapsto b^0 + W^0 c`?"""
    w0, b0 = network.weight(0), network.bias(0)
    act = network.layers[0].activation
    law = b0.law
    width = None
    if isinstance(law, Uniform) and law.is_iid:
        width = sp.simplify(law.high - law.low)
        periodic = is_periodic_with(act, width)
        if periodic is True:
            return LawCheck("b0", True, LawReason.UNIFORM_PHASE, law, period=width, activation=act.name)
        if periodic is None:
            return LawCheck("b0", None, LawReason.PERIODICITY_UNDECIDED, law, period=width, activation=act.name)
        if network.depth >= 2 and is_antiperiodic_with(act, width) is True:
            return _half_period(network, law, width, act.name)
        reason = LawReason.PHASE_NOT_PERIODIC
    else:
        reason = LawReason.SHIFT_ON_THE_LINE
    c = sp.Rational(1, 2)
    vw = _variance(w0.law, 0, w0.shape)
    vb = _variance(law, 0)
    cvec = sp.Matrix([c] + [0] * (int(network.input_dim) - 1)) if isinstance(network.input_dim, int) else None
    witness = ParameterWitness(cvec if cvec is not None else sp.Matrix([c]),
                               "the variance of $b^0_1$ grows by $\\mathrm{Var}((W^0c)_1) = c^2\\,\\mathrm{Var}(W^0_{11})$",
                               vb, sp.simplify(vb + c ** 2 * vw), element_name="c")
    return LawCheck("b0", False, reason, law, witness=witness, period=width, activation=act.name)


def _half_period(network: Network, law: Law, half: sp.Expr, activation: str) -> LawCheck:
    r"""b0 uniform on an interval of length ``half`` and :math:`\phi(z + h) = -\phi(z)`: for each neuron i the
    gauge :math:`S_i: (W^1_{:,i}, b^0_i) \mapsto (-W^1_{:,i}, b^0_i + h)` leaves every :math:`f_\theta`
    unchanged.  With iid fair signs :math:`\epsilon_i`, :math:`\tilde\theta = S^\epsilon\theta` has
    :math:`f_{\tilde\theta} = f_\theta`, :math:`\tilde b^0_i` uniform on a whole period :math:`2h`, and
    :math:`\tilde W^1` distributed as :math:`W^1` and independent of :math:`\tilde b^0` **iff** the law of
    :math:`W^1` is invariant under flipping the sign of any one column -- the check returned in ``gauge``.
    Then the density is that of :math:`\tilde\theta`, whose phase is Haar on the torus: invariant under
    every shift."""
    w1 = network.weight(1)
    flips = SignFlips(w1.shape[1])
    gauge = block_invariance(w1, flips, Multiplication.RIGHT, "D")
    return LawCheck("b0", gauge.status, LawReason.HALF_PERIOD_PHASE, law, period=half, activation=activation,
                    gauge=gauge, gauge_block=w1.name, witness=gauge.witness)


def two_sided_invariance(block: ParameterBlock, left, right) -> LawCheck:
    r"""Is the law of ``block`` invariant under :math:`W \mapsto g W P^T` (``left = g``, ``right = P``, both
    orthogonal)?  A structured Gaussian law :math:`N(M, \sigma^2 U\otimes V)` is iff :math:`gMP^T = M`,
    :math:`gUg^T = U` and :math:`PVP^T = V`; an iid law (P a permutation) iff it is invariant under
    :math:`W \mapsto gW` (a product of identical factors is unchanged by permuting its columns)."""
    g, p = sp.Matrix(left), sp.Matrix(right)
    law = block.law
    if not (isinstance(law, Normal) and not law.is_iid):
        return block_invariance(block, GeneratedGroup(g.rows, (), [g]), Multiplication.LEFT, "g")
    m = sp.Matrix(law.loc)
    mean_ok = _matrix_status(g * m * p.T - m)
    status = mean_ok
    witness = None
    if mean_ok is False:
        witness = ParameterWitness(g, "the mean matrix is moved", m, g * m * p.T)
    for mat, t in ((law.row_cov, g), (law.col_cov, p)):
        if mat is None:
            continue
        mat = sp.Matrix(mat)
        s = _matrix_status(t * mat * t.T - mat)
        if s is False and witness is None:
            witness = ParameterWitness(t, "a covariance factor is moved", mat, t * mat * t.T)
        status = False if s is False or status is False else (None if s is None or status is None else True)
    return LawCheck(block.name, status, LawReason.TWO_SIDED_GAUSSIAN, law, Multiplication.LEFT, "g", witness=witness,
                    permutation=p)
