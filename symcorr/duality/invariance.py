r"""Is a parameter law invariant under the absorbed map?  Decided exactly from the law's structure.

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
* **Translations** :math:`b^0\mapsto b^0 + W^0c`: a uniform phase (a uniform law on one period) is
  invariant under every shift modulo its period, which is enough when the first activation has that
  period (Cos-net); no law on the real line is invariant under the random shift :math:`W^0c`
  (its variance grows by :math:`\mathrm{Var}((W^0c)_i) > 0`).

Each function returns a :class:`LawCheck` with a status True / False / None (None: depends on a symbol,
e.g. a mean that may or may not vanish) and, when False, a :class:`ParameterWitness`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from ..distributions import Law, Normal, Uniform
from ..groups import Group
from ..spec import Network, ParameterBlock
from . import elements as el
from .absorb import is_periodic_with
from .proof import ParameterWitness

__all__ = ["LawCheck", "block_invariance", "shear_invariance", "fixes", "commutes", "zero_status"]


@dataclass
class LawCheck:
    """The decision for one block: ``status`` True/False/None, an explanation and a witness."""

    block: str
    status: bool | None
    body: str
    equations: list[str] = field(default_factory=list)
    witness: ParameterWitness | None = None
    condition: str | None = None


def _tex(name: str) -> str:
    return f"{name[0]}^{{{name[1:]}}}"


def zero_status(expr) -> bool | None:
    """True if ``expr`` is identically zero, False if provably non-zero, None if it depends on symbols."""
    expr = sp.sympify(expr)
    if expr == 0:
        return True
    simp = sp.simplify(expr)
    if simp == 0:
        return True
    if simp.is_zero is False:
        return False
    if not simp.free_symbols:
        val = sp.N(simp, 40)
        if val == 0:
            return True
        if abs(complex(val)) > 1e-30:
            return False
    return None


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


def _word_expr(word):
    factors = [s.T if t else s for s, t in word]
    return factors[0] if len(factors) == 1 else sp.MatMul(*factors, evaluate=False)


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


def _trace_form(block: ParameterBlock, side: str, letter: str):
    """The trace-form step for an iid zero-mean Normal block: returns (established, equations)."""
    shape = block.shape if len(block.shape) == 2 else (block.shape[0], 1)
    w = sp.MatrixSymbol("{%s}" % _tex(block.name), *shape)
    dim = shape[1] if side == "right" else shape[0]
    gname = {"R": "R", r"\rho": "rho", "P": "P"}.get(letter.strip(), "g")
    g = sp.MatrixSymbol(gname, dim, dim)
    logp = block.law.block_log_density(w)
    moved = w * g if side == "right" else g * w
    traces = [t for t in sp.preorder_traversal(logp) if isinstance(t, sp.Trace)]
    if len(traces) != 1:
        return False, []
    word0 = _letters(traces[0].arg)
    word1 = _letters(traces[0].arg.xreplace({w: moved}))
    chain = _cyclic_cancel(word1, g)
    ok = _same_cyclic(chain[-1], word0)
    wt = sp.latex(w)
    eqs = [rf"\log P({wt}) = {sp.latex(logp)}"]
    parts = [rf"\mathrm{{tr}}\left({sp.latex(_word_expr(word)) if word else '1'}\right)" for word in chain]
    rel = rf"{sp.latex(g)}{sp.latex(g)}^{{T}} = {sp.latex(g)}^{{T}}{sp.latex(g)} = 1"
    eqs.append(" = ".join(parts) + (rf"\quad\text{{(cyclicity, }}{rel}\text{{)}}" if ok else ""))
    return ok, eqs


# ----------------------------------------------------------------------------------------------------
# helpers for means and covariances
# ----------------------------------------------------------------------------------------------------
def _vec(entries) -> sp.Matrix:
    return sp.Matrix(list(entries))


def _vec_tex(v: sp.Matrix) -> str:
    return sp.latex(sp.Matrix(v).T) + "^T"


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
    if fam in ("SO", "O"):
        return el.plane_rotation(el.lie_algebra(type(el.root_group(group))(2))[0], 2), 2
    if fam == "B":
        return sp.diag(-1, 1), 2
    return sp.Matrix([[0, 1], [1, 0]]), 2


# ----------------------------------------------------------------------------------------------------
# the three kinds of laws
# ----------------------------------------------------------------------------------------------------
def _iid_normal(block: ParameterBlock, group: Group, side: str, letter: str) -> LawCheck:
    law = block.law
    mu = law.loc
    tex = _tex(block.name)
    if zero_status(mu) is True:
        ok, eqs = _trace_form(block, side, letter)
        if ok:
            return LawCheck(block.name, True,
                            f"${tex}$ has iid $\\mathcal N(0, {sp.latex(law.var)})$ entries, so its log-density "
                            "is a trace form, unchanged by any orthogonal matrix (here the generic element "
                            f"with ${letter}^T{letter} = 1$, any dimension):", eqs)
        return LawCheck(block.name, None, "the trace form could not be reduced")
    n = group.n
    ones_tex = r"\mathbf 1"
    if el.concrete_dim(group) is None:
        fam = el.family(group)
        fixed = True if fam == "S" else False
        elem = None if fixed else _generic_dim_element(group)[0]
    else:
        fixed, elem = fixes(group, sp.ones(n, 1))
    mean_desc = f"${tex}$ has iid $\\mathcal N({sp.latex(mu)}, {sp.latex(law.var)})$ entries"
    if fixed is True:
        return LawCheck(block.name, True,
                        f"{mean_desc}: the covariance $\\sigma^2 1\\otimes 1$ is unchanged by any orthogonal map, "
                        f"and the mean ${sp.latex(mu)}\\,{ones_tex}$ is unchanged because every element fixes "
                        f"${ones_tex}$ ({ones_tex}$^T{letter} = ${ones_tex}$^T$).")
    mu_zero = zero_status(mu)
    witness = None
    if elem is not None:
        k = elem.rows
        moved = (sp.ones(1, k) * elem).T if side == "right" else elem * sp.ones(k, 1)
        witness = ParameterWitness(elem, "the mean vector " + f"${sp.latex(mu)}\\,{ones_tex}$ of a "
                                   + ("row" if side == "right" else "column") + " is moved",
                                   mu * sp.ones(k, 1), mu * moved)
    if mu_zero is None and fixed is not None:
        return LawCheck(block.name, None,
                        f"{mean_desc}; the mean ${sp.latex(mu)}\\,{ones_tex}$ is moved by the group unless "
                        f"${sp.latex(mu)} = 0$.", witness=witness,
                        condition=f"The law of ${tex}$ is invariant iff ${sp.latex(mu)} = 0$.")
    if fixed is None:
        return LawCheck(block.name, None, f"{mean_desc}; whether the group fixes {ones_tex} is undecided.")
    return LawCheck(block.name, False,
                    f"{mean_desc}: its mean ${sp.latex(mu)}\\,{ones_tex}$ is not fixed by the group.",
                    witness=witness)


def _structured_normal(block: ParameterBlock, group: Group, side: str, letter: str) -> LawCheck:
    law: Normal = block.law
    tex = _tex(block.name)
    is_bias = len(block.shape) == 1
    n = group.n
    if el.concrete_dim(group) is None:
        return LawCheck(block.name, None, f"${tex}$ has a structured law; a symbolic group dimension cannot "
                                          "be checked against it.")
    # vectors the group must fix, and the covariance it must commute with
    vectors: list[tuple[sp.Matrix, str]] = []
    loc = law.loc
    if isinstance(loc, sp.MatrixBase):
        if is_bias or side == "left":
            cols = [sp.Matrix(loc[:, j]) for j in range(loc.cols)]
            for j, c in enumerate(cols):
                vectors.append((c, "the mean vector" if loc.cols == 1 else f"column {j + 1} of the mean"))
        else:  # right multiplication: rows of the mean
            if loc.cols == 1:  # a mean per row: rows a_i 1^T
                if zero_status(sp.Matrix(loc).norm() ** 2) is not True:
                    vectors.append((sp.ones(n, 1), "the rows $a_i\\mathbf 1^T$ of the mean"))
            else:
                for i in range(loc.rows):
                    vectors.append((sp.Matrix(loc[i, :]).T, f"row {i + 1} of the mean"))
    elif zero_status(loc) is not True:
        vectors.append((loc * sp.ones(n, 1), "the mean"))
    vectors = [(v, d) for v, d in vectors if _matrix_status(v) is not True]
    cov = law.cov if is_bias else (law.col_cov if side == "right" else law.row_cov)
    cov_name = "C" if is_bias else ("V" if side == "right" else "U")
    parts, status, witness = [], True, None
    for v, desc in vectors:
        s, g = fixes(group, v)
        if s is False and witness is None:
            moved = (g.T * v) if side == "right" and not is_bias else g * v
            witness = ParameterWitness(g, f"{desc} is moved", v, moved)
        parts.append(f"{desc} ${_vec_tex(v)}$ is {'fixed' if s else ('moved' if s is False else 'possibly moved')}")
        status = False if s is False or status is False else (None if s is None else status)
    if cov is not None:
        s, g = commutes(group, sp.Matrix(cov))
        if s is False and witness is None:
            witness = ParameterWitness(g, f"the covariance factor ${cov_name}$ changes to "
                                          f"${'g^T' + cov_name + 'g' if side == 'right' else 'g' + cov_name + 'g^T'}$",
                                       sp.Matrix(cov), g.T * sp.Matrix(cov) * g)
        parts.append(f"${cov_name} = {sp.latex(sp.Matrix(cov))}$ "
                     + ("commutes with every element" if s else ("does not commute with the group" if s is False
                                                                 else "may not commute with the group")))
        status = False if s is False or status is False else (None if s is None else status)
    if side == "right" and not is_bias:
        rule = f"$M{letter} = M$ and ${letter}^TV{letter} = V$"
    else:
        rule = f"${letter}M = M$ and ${letter}U{letter}^T = U$" if not is_bias else \
            f"${letter}m = m$ and ${letter}C{letter}^T = C$"
    body = (f"${tex}$ is Gaussian with mean $M$ and Kronecker covariance; a Gaussian law is fixed by its mean "
            f"and covariance, so it is invariant iff {rule} for every element (decided on a basis of the Lie "
            "algebra and the discrete generators): " + ("; ".join(parts) if parts else
                                                        "the mean vanishes and the covariance is isotropic") + ".")
    cond = None
    if status is None:
        cond = f"The law of ${tex}$ is invariant only for the symbol values that make the conditions above hold."
    return LawCheck(block.name, status, body, witness=witness, condition=cond)


def _iid_general(block: ParameterBlock, group: Group, side: str, letter: str) -> LawCheck:
    law = block.law
    tex = _tex(block.name)
    entry = f"{block.name[0]}^{{{block.name[1:]}}}_{{11}}"
    desc = f"${tex}$ has iid entries with the non-Gaussian law ${law.latex()}$"
    symbolic = el.concrete_dim(group) is None
    if symbolic:
        fam = el.family(group)
        if fam == "S":
            return LawCheck(block.name, True, desc + ": a product of identical factors is invariant under every "
                                                     "permutation of the entries.")
        elem, _ = _generic_dim_element(group)
        gens = [elem]
    else:
        gens = [el.plane_rotation(g, group.n) for g in el.lie_algebra(group)[:1]] + el.discrete_generators(group)
        if not el.lie_algebra(group) and all(el.is_permutation(g) for g in gens):
            return LawCheck(block.name, True, desc + ": a product of identical factors is invariant under every "
                                                     "permutation of the entries, and the group consists of "
                                                     "permutations.")
    need_symmetric = False
    for g in gens:
        if el.is_permutation(g):
            continue
        if el.is_signed_permutation(g):
            need_symmetric = True
            sym = law.is_symmetric
            if sym is False:
                return LawCheck(block.name, False, desc + ", which is not symmetric, so a sign flip changes it.",
                                witness=_odd_cumulant_witness(law, g, entry))
            if sym is None:
                return LawCheck(block.name, None, desc + "; whether it is symmetric is undecided.",
                                condition="Invariant under sign flips iff the law is symmetric.")
            continue
        # a genuine rotation: find the column (row) of g with two or more non-zero entries
        lines = [list(g[:, j]) for j in range(g.cols)] if side == "right" else [list(g[i, :]) for i in range(g.rows)]
        for k, coeffs in enumerate(lines):
            if sum(1 for c in coeffs if c != 0) < 2:
                continue
            transformed = (f"({tex}{letter})_{{1{k + 1}}}" if side == "right" and len(block.shape) == 2 else
                           f"({letter}{tex})_{{{k + 1}" + ("1}" if len(block.shape) == 2 else "}"))
            wit = _cumulant_witness(law, coeffs, entry, g, transformed)
            if wit is not None:
                note = " (for every dimension $\\geq 2$)" if symbolic else ""
                return LawCheck(block.name, False,
                                desc + ": a product law invariant under a rotation that mixes two entries would be "
                                       "Gaussian (Maxwell); concretely" + note + ":", witness=wit)
        return LawCheck(block.name, None, desc + "; no cumulant distinguishes the rotated entries up to order 8.")
    extra = " and it is symmetric, so sign flips leave it unchanged" if need_symmetric else ""
    return LawCheck(block.name, True, desc + ": a product of identical factors is invariant under permutations of "
                                             f"the entries{extra}; the group consists of signed permutations.")


def block_invariance(block: ParameterBlock, group: Group, side: str, letter: str = "g") -> LawCheck:
    """Is the law of ``block`` invariant under ``W -> W g`` (``side="right"``) or ``W -> g W`` / ``b -> g b``
    (``side="left"``) for every ``g`` in ``group``?"""
    if el.is_trivial(group):
        return LawCheck(block.name, True, f"{group!r} is the trivial group.")
    law = block.law
    if isinstance(law, Normal):
        if law.is_iid:
            return _iid_normal(block, group, side, letter)
        return _structured_normal(block, group, side, letter)
    return _iid_general(block, group, side, letter)


def _variance(law: Law, i: int = 0):
    """The variance of entry ``(i, 0)`` (or ``i`` of a vector) of a block with this law."""
    if isinstance(law, Normal) and not law.is_iid:
        return law.entry(i, 0).var
    return law.variance


def shear_invariance(network: Network, group: Group) -> LawCheck:
    r"""Is the joint law of :math:`(W^0, b^0)` invariant under :math:`b^0 \mapsto b^0 + W^0 c`?"""
    w0, b0 = network.weight(0), network.bias(0)
    act = network.layers[0].activation
    law = b0.law
    if isinstance(law, Uniform) and law.is_iid:
        width = sp.simplify(law.high - law.low)
        if is_periodic_with(act, width):
            return LawCheck("b0", True,
                            f"$b^0$ has iid uniform entries on an interval of length ${sp.latex(width)}$ and the "
                            f"first activation ({act.name}) has period ${sp.latex(width)}$, so $f$ depends on $b^0$ "
                            f"only modulo ${sp.latex(width)}$, where $b^0$ is uniform on the torus "
                            f"$(\\mathbb R/{sp.latex(width)}\\mathbb Z)^N$. The uniform (Haar) measure of the torus is "
                            "invariant under every shift, in particular under $b^0 \\mapsto b^0 + W^0c$ for each "
                            "fixed $W^0$; $W^0$ is independent of $b^0$, so the joint law is invariant (Fubini).")
        reason = (f"the first activation ({act.name}) is not periodic with the period "
                  f"${sp.latex(width)}$ of the bias law, so the bias acts on the real line")
    else:
        reason = f"$b^0$ has the law ${law.latex()}$ on the real line"
    c = sp.Rational(1, 2)
    vw = _variance(w0.law, 0)
    vb = _variance(law, 0)
    cvec = sp.Matrix([c] + [0] * (int(network.input_dim) - 1)) if isinstance(network.input_dim, int) else None
    witness = ParameterWitness(cvec if cvec is not None else sp.Matrix([c]),
                               "the variance of $b^0_1$ grows by $\\mathrm{Var}((W^0c)_1) = c^2\\,\\mathrm{Var}(W^0_{11})$",
                               vb, sp.simplify(vb + c ** 2 * vw), element_name="c")
    return LawCheck("b0", False,
                    f"{reason}. Given $W^0$, $b^0 + W^0c$ is $b^0$ shifted by $W^0c$; its law is the convolution "
                    "of the law of $b^0$ with that of $W^0c$, which differs from the law of $b^0$ unless "
                    "$W^0c = 0$ almost surely (no probability law on $\\mathbb R$ is invariant under a "
                    "non-degenerate random shift).", witness=witness)
