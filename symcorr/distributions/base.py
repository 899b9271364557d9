r"""The base of every parameter law: :class:`Law` and the helpers the laws share.

A law describes one real parameter; attached to a parameter block it means iid entries,
:math:`P(\theta) = \prod_{ij} p(\theta_{ij})` (a structured :class:`~symcorr.distributions.Normal`
overrides the block helpers).  Here live the conversions every law applies to its parameters:
:func:`as_expr` (numbers, SymPy objects and strings, the latter through the one safe parser
:func:`symcorr.expressions.parse_expression`), :func:`numeric_value` (a float, or a SpecError naming
the free symbols), :func:`substitution` (a mapping made safe for SymPy's ``subs``) and the sign and
order checks.
"""

from __future__ import annotations

import math
from typing import Mapping

import sympy as sp
import torch

from ..errors import SpecError
from ..expressions import parse_expression, real_symbol

__all__ = ["Law", "as_expr", "numeric_value", "substitution"]


# ----------------------------------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------------------------------
def as_expr(value, what: str = "value", *, symbols: Mapping[str, sp.Symbol] | None = None) -> sp.Expr:
    """Convert a number, string or SymPy object into a SymPy expression, with a clear error.

    A string is parsed by :func:`symcorr.expressions.parse_expression` (never ``sympify``): numbers,
    ``+ - * / **``, the whitelisted functions, ``pi`` and ``E``; a name found in ``symbols`` is that
    symbol, any other name a new **real** symbol ``Symbol(name, real=True)``.  The result must be
    finite and real.  Floats given as numbers stay SymPy Floats; decimal literals inside a string are
    read exactly (``"0.1"`` is 1/10).
    """
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, bool):
        raise SpecError(f"expected a number or expression, got the boolean {value!r}", what)
    if isinstance(value, int):
        return sp.Integer(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise SpecError(f"must be finite, got {value!r}", what)
        return sp.Float(value)
    if isinstance(value, str):
        return parse_expression(value, what, symbols=symbols, unknown=real_symbol)
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return as_expr(value.item(), what, symbols=symbols)
    except ImportError:  # pragma: no cover - numpy is a dependency
        pass
    raise SpecError(f"expected a number or expression, got {type(value).__name__} {value!r}", what)


def substitution(mapping: Mapping, free_symbols=(), what: str = "subs") -> dict:
    """``mapping`` made safe for SymPy's ``subs``: every value through :func:`as_expr` (a string value
    is parsed safely; SymPy's own ``subs`` would ``sympify`` it, i.e. run it), a string key resolved by
    name among ``free_symbols`` (and dropped when no such symbol occurs)."""
    if not isinstance(mapping, Mapping):
        mapping = dict(mapping)
    by_name = {str(s): s for s in free_symbols}
    out = {}
    for key, value in mapping.items():
        if isinstance(key, str):
            if key not in by_name:
                continue
            key = by_name[key]
        out[key] = as_expr(value, f"{what}[{key}]")
    return out


def numeric_value(expr, what: str = "value") -> float:
    """Evaluate a SymPy expression to a float, or explain which symbols are still free."""
    expr = as_expr(expr, what)
    if expr.free_symbols:
        names = ", ".join(sorted(str(s) for s in expr.free_symbols))
        raise SpecError(
            f"{_shown(expr)} still depends on the symbol(s) {names}; substitute values first "
            "(e.g. network.subs({...}) or a [values] table in the spec file)",
            what,
        )
    value = complex(sp.N(expr))
    if abs(value.imag) > 1e-12 * max(1.0, abs(value.real)):
        raise SpecError(f"{_shown(expr)} is not real", what)
    if not math.isfinite(value.real):
        raise SpecError(f"{_shown(expr)} is not finite", what)
    return float(value.real)


def _shown(expr, limit: int = 80) -> str:
    """``str(expr)`` cut to ``limit`` characters, for one-line error messages."""
    text = str(expr)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _as_matrix(value, what: str) -> sp.ImmutableMatrix:
    """A list (-> column vector), a list of equal-length lists (-> matrix), a numpy array or a SymPy
    matrix, as an immutable SymPy matrix of expressions."""
    if isinstance(value, sp.MatrixBase):
        return sp.ImmutableMatrix(value.rows, value.cols, lambda i, j: as_expr(value[i, j], what))
    if hasattr(value, "tolist"):  # numpy arrays and torch tensors
        value = value.tolist()
    if not isinstance(value, (list, tuple)) or len(value) == 0:
        raise SpecError(f"expected a non-empty list/array, got {value!r}", what)
    if all(not isinstance(v, (list, tuple)) for v in value):
        return sp.ImmutableMatrix([[as_expr(v, what)] for v in value])
    if not all(isinstance(v, (list, tuple)) for v in value):
        raise SpecError("mixes numbers and lists; give a vector or a list of equal-length rows", what)
    widths = {len(r) for r in value}
    if len(widths) > 1:
        raise SpecError(f"rows have different lengths {sorted(widths)}", what)
    return sp.ImmutableMatrix([[as_expr(v, what) for v in r] for r in value])


def _is_scalar_like(value) -> bool:
    if isinstance(value, sp.MatrixBase):
        return False
    if isinstance(value, (int, float, str, sp.Basic)):
        return True
    try:
        import numpy as np

        if isinstance(value, np.ndarray):
            return value.ndim == 0
        if isinstance(value, np.generic):
            return True
    except ImportError:  # pragma: no cover
        pass
    return False


def _check_sign(expr: sp.Expr, what: str, *, strict: bool, name: str) -> None:
    """Reject expressions that are provably negative (or zero when ``strict``)."""
    if expr.is_real is False or (expr.is_number and not expr.is_real):
        raise SpecError(f"{name} must be real, got {_shown(expr)}", what)
    if expr.is_negative or (expr.is_number and expr.is_real and expr < 0):
        raise SpecError(f"{name} must be {'positive' if strict else 'non-negative'}, got {_shown(expr)}", what)
    if strict and expr.is_zero:
        raise SpecError(f"{name} must be positive, got {_shown(expr)}", what)


def _check_real(value, what: str, name: str):
    """Reject a parameter (or any entry of a matrix parameter) that is provably not real, e.g. a real
    symbol substituted by ``I``; returns ``value``."""
    entries = list(value) if isinstance(value, sp.MatrixBase) else [value]
    for v in entries:
        if isinstance(v, sp.Expr) and (v.is_extended_real is False or (v.is_number and v.has(sp.I)
                                                                        and v.is_real is not True)):
            raise SpecError(f"{name} must be real, got {_shown(v)}", what)
    return value


def _tri(value) -> bool | None:
    """SymPy fuzzy booleans: True / False / None (= cannot decide)."""
    return None if value is None else bool(value)


# ----------------------------------------------------------------------------------------------------
# base class
# ----------------------------------------------------------------------------------------------------
class Law:
    r"""A probability law for one real parameter (iid across a block unless structured).

    Subclasses define ``_params`` (name -> expression), the SymPy ``density``, ``moment``, ``mgf``,
    ``characteristic_function``, and the torch ``sample`` / ``torch_cgf``.  Everything else
    (central moments, cumulants, block-level helpers) is derived here.
    """

    #: is the law Gaussian
    is_gaussian: bool = False
    #: is the law supported on a circle (a phase identified modulo ``period``)
    is_periodic: bool = False
    period: sp.Expr | None = None
    #: a short name used in spec files and reprs
    kind: str = "law"

    # --- construction helpers --------------------------------------------------------------------
    def _params(self) -> dict:
        raise NotImplementedError

    def _rebuild(self, params: dict) -> "Law":
        return type(self)(**params)

    # --- identity ----------------------------------------------------------------------------------
    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._key()))

    def _key(self):
        return tuple((k, v) for k, v in self._params().items())

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self._params().items() if v is not None)
        return f"{type(self).__name__}({args})"

    def _repr_latex_(self) -> str:
        return f"${self.latex()}$"

    def latex(self) -> str:
        """LaTeX name of the law, e.g. ``\\mathcal{N}(0, \\sigma^{2})``."""
        raise NotImplementedError

    # --- symbols -------------------------------------------------------------------------------------
    @property
    def free_symbols(self) -> set:
        out: set = set()
        for v in self._params().values():
            if isinstance(v, sp.Basic):
                out |= v.free_symbols
        return out

    def subs(self, mapping) -> "Law":
        """Substitute symbols in the law's parameters (returns a new, re-validated law).  Keys are
        symbols or their names; values numbers, SymPy objects or expression strings (see
        :func:`substitution`)."""
        mapping = substitution(mapping, self.free_symbols)
        new = {k: (v.subs(mapping) if isinstance(v, sp.Basic) else v) for k, v in self._params().items()}
        return self._rebuild(new)

    # --- scalar (entry) properties -------------------------------------------------------------------
    @property
    def is_iid(self) -> bool:
        """True when a block with this law has iid entries (every law but a structured Normal)."""
        return True

    @property
    def mean(self) -> sp.Expr:
        return sp.simplify(self.moment(1))

    @property
    def variance(self) -> sp.Expr:
        return sp.simplify(self.central_moment(2))

    @property
    def is_symmetric(self) -> bool | None:
        """Is the law invariant under x -> -x?  True / False / None (undecidable symbolically)."""
        raise NotImplementedError

    def density(self, x) -> sp.Expr:
        """SymPy probability density p(x) (DiracDeltas for discrete laws)."""
        raise NotImplementedError

    def log_density(self, x) -> sp.Expr:
        return sp.log(self.density(x))

    def moment(self, k: int) -> sp.Expr:
        r"""Raw moment :math:`E[X^k]` (exact)."""
        raise NotImplementedError

    def central_moment(self, k: int) -> sp.Expr:
        r""":math:`E[(X - E X)^k] = \sum_j \binom{k}{j} E[X^j] (-\mu)^{k-j}`."""
        k = _check_order(k)
        mu = self.moment(1)
        return sp.expand(sum(sp.binomial(k, j) * self.moment(j) * (-mu) ** (k - j) for j in range(k + 1)))

    def cumulant(self, k: int) -> sp.Expr:
        r"""Cumulant :math:`\kappa_k`, from the raw moments by
        :math:`\kappa_n = m_n - \sum_{j=1}^{n-1}\binom{n-1}{j-1}\kappa_j m_{n-j}`."""
        k = _check_order(k, minimum=1)
        kappas: list[sp.Expr] = [sp.Integer(0)]
        for n in range(1, k + 1):
            value = self.moment(n) - sum(
                sp.binomial(n - 1, j - 1) * kappas[j] * self.moment(n - j) for j in range(1, n)
            )
            kappas.append(sp.simplify(sp.expand(value)))
        return kappas[k]

    def mgf(self, t) -> sp.Expr:
        r"""Moment generating function :math:`M(t) = E[e^{tX}]` (where finite)."""
        raise NotImplementedError

    def cgf(self, t) -> sp.Expr:
        r"""Cumulant generating function :math:`K(t) = \log E[e^{tX}]`."""
        return sp.log(self.mgf(t))

    def characteristic_function(self, t) -> sp.Expr:
        r""":math:`\varphi(t) = E[e^{itX}]`."""
        raise NotImplementedError

    # --- numerics ------------------------------------------------------------------------------------
    def numeric_params(self) -> dict:
        """The parameters as floats (raises SpecError naming free symbols)."""
        return {k: numeric_value(v, k) for k, v in self._params().items() if isinstance(v, sp.Basic)}

    def sample(self, shape, generator: torch.Generator | None = None, dtype=torch.float64,
               device=None) -> torch.Tensor:
        """Draw iid samples of the given shape with a seeded ``torch.Generator``."""
        raise NotImplementedError

    def torch_cgf(self, t: torch.Tensor) -> torch.Tensor:
        r"""Elementwise :math:`K(t) = \log E[e^{tX}]` in torch (``+inf`` where the MGF diverges)."""
        raise NotImplementedError

    # --- block helpers (iid products); a structured Normal overrides these ---------------------------
    def check_block(self, shape: tuple, where: str | None = None) -> None:
        """Validate that the law fits a block of the given shape (iid laws fit any shape)."""
        return None

    def block_mean(self, shape: tuple) -> sp.ImmutableMatrix | sp.Expr:
        """Mean of the block: a scalar for iid laws (every entry has the same mean)."""
        return self.mean

    def sample_block(self, n: int, shape: tuple, generator=None, dtype=torch.float64, device=None):
        """``n`` independent draws of the whole block: a tensor of shape ``(n, *shape)``."""
        return self.sample((n, *shape), generator=generator, dtype=dtype, device=device)

    def block_linear_cgf(self, shape: tuple, h: torch.Tensor, t: float) -> torch.Tensor:
        r"""For a weight block :math:`W\in R^{n\times m}` independent of ``h`` (shape ``(..., m)``):
        :math:`\log E[e^{t (W h)_i}]` for every row ``i``, shape ``(..., n)``.  For a bias block
        (``shape = (n,)``, ``h`` ignored): :math:`\log E[e^{t b_i}]`, shape ``(n,)``.

        For iid entries with CGF ``K``: :math:`\sum_j K(t h_j)`, the same for every row.
        """
        if len(shape) == 1:
            value = self.torch_cgf(torch.tensor(float(t), dtype=torch.float64))
            return value.expand(int(shape[0]))
        total = self.torch_cgf(t * h).sum(-1, keepdim=True)
        return total.expand(*total.shape[:-1], int(shape[0]))

    def block_log_density(self, theta) -> sp.Expr:
        r""":math:`\log P(\theta) = \sum_{ij}\log p(\theta_{ij})` for a block given as a SymPy matrix
        (explicit entries) or a ``MatrixSymbol`` (then an unevaluated ``Sum`` over its entries)."""
        if isinstance(theta, sp.MatrixSymbol):
            i, j = sp.symbols("i j", integer=True, nonnegative=True)
            return sp.Sum(self.log_density(theta[i, j]), (i, 0, theta.rows - 1), (j, 0, theta.cols - 1))
        theta = sp.Matrix(theta)
        return sp.Add(*[self.log_density(v) for v in theta])


def _check_order(k, minimum: int = 0) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or k < minimum:
        raise SpecError(f"moment order must be an integer >= {minimum}, got {k!r}")
    return k


def _generator_device(generator, device):
    if generator is not None:
        return generator.device
    return torch.device(device) if device is not None else torch.device("cpu")

