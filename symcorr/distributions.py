r"""Parameter distributions: one object feeds the symbolic (SymPy) and the numeric (torch) frame.

A *scalar law* describes one real parameter.  Attached to a parameter block (a weight matrix or a bias
vector of a layer) it means **iid entries**: the block density is the product
:math:`P(\theta) = \prod_{ij} p(\theta_{ij})`.  The scalar laws are

* :class:`Normal` -- :math:`p(x) = (2\pi\sigma^2)^{-1/2} e^{-(x-\mu)^2/2\sigma^2}`; it also carries a
  structured mean and covariance for a whole block (see below), so "Normal with mean/covariance" is one
  class;
* :class:`Uniform` -- :math:`p(x) = 1/(b-a)` on :math:`[a, b)`;
* :class:`UniformCircle` -- the uniform phase on the circle :math:`[-\pi, \pi)`, identified mod
  :math:`2\pi` (the Cos-net bias: shifts :math:`b \mapsto b + c \bmod 2\pi` leave it invariant);
* :class:`Laplace` -- :math:`p(x) = e^{-|x-\mu|/s}/(2s)`;
* :class:`Rademacher` -- :math:`\pm s` with probability 1/2 each.

Every law gives its SymPy density, raw/central moments, cumulants, moment generating function (MGF)
:math:`M(t) = E[e^{tX}]`, cumulant generating function :math:`K(t) = \log M(t)`, characteristic
function :math:`E[e^{itX}]`, and a seeded torch sampler.  Parameters may be numbers or SymPy
expressions (``sigma_w**2 / D``); numeric methods need them to be numbers and say so otherwise.

Structured Gaussian blocks
--------------------------
``Normal(mean=M, var=v, row_cov=U, col_cov=V)`` on a weight block :math:`W \in R^{n\times m}` means

.. math:: E[W_{ij}] = M_{ij},\qquad \mathrm{Cov}(W_{ij}, W_{kl}) = v\,U_{ik} V_{jl},

(a matrix normal law, :math:`\mathrm{vec}\,W \sim N(\mathrm{vec}\,M, v\, V\otimes U)`), where ``mean`` is
a scalar (all entries), a length-``n`` vector (one mean per output unit, i.e. per row: the paper's
:math:`\mu_{W^1}` on the first ``k`` rows) or a full ``n x m`` matrix.  On a bias vector
:math:`b \in R^n` use ``Normal(mean=m, cov=C)``: :math:`b \sim N(m, v\,C)`.
"""

from __future__ import annotations

import math
import sympy as sp
import torch

from .errors import SpecError

__all__ = [
    "Law",
    "Normal",
    "Uniform",
    "UniformCircle",
    "Laplace",
    "Rademacher",
    "as_expr",
    "numeric_value",
]


# ----------------------------------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------------------------------
def as_expr(value, what: str = "value") -> sp.Expr:
    """Convert a number, string or SymPy object into a SymPy expression, with a clear error."""
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
        try:
            return sp.sympify(value, rational=True)
        except (sp.SympifyError, SyntaxError, TypeError) as exc:
            raise SpecError(f"cannot parse {value!r} as an expression ({exc})", what) from None
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return as_expr(value.item(), what)
    except ImportError:  # pragma: no cover - numpy is a dependency
        pass
    raise SpecError(f"expected a number or expression, got {type(value).__name__} {value!r}", what)


def numeric_value(expr, what: str = "value") -> float:
    """Evaluate a SymPy expression to a float, or explain which symbols are still free."""
    expr = as_expr(expr, what)
    if expr.free_symbols:
        names = ", ".join(sorted(str(s) for s in expr.free_symbols))
        raise SpecError(
            f"{expr} still depends on the symbol(s) {names}; substitute values first "
            "(e.g. network.subs({...}) or a [values] table in the spec file)",
            what,
        )
    value = complex(sp.N(expr))
    if abs(value.imag) > 1e-12 * max(1.0, abs(value.real)):
        raise SpecError(f"{expr} is not real", what)
    if not math.isfinite(value.real):
        raise SpecError(f"{expr} is not finite", what)
    return float(value.real)


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
        raise SpecError(f"{name} must be real, got {expr}", what)
    if expr.is_negative or (expr.is_number and expr.is_real and expr < 0):
        raise SpecError(f"{name} must be {'positive' if strict else 'non-negative'}, got {expr}", what)
    if strict and expr.is_zero:
        raise SpecError(f"{name} must be positive, got {expr}", what)


def _tri(value) -> bool | None:
    """SymPy fuzzy booleans: True / False / None (= cannot decide)."""
    return None if value is None else bool(value)


def _double_factorial_odd(j: int) -> int:
    """(j-1)!! for even j >= 0 (the Gaussian moment E[Z^j])."""
    out = 1
    for m in range(j - 1, 0, -2):
        out *= m
    return out


def _log_sinhc(u: torch.Tensor) -> torch.Tensor:
    r"""Stable :math:`\log(\sinh(u)/u)`, even in u, finite for all finite u."""
    a = u.abs()
    small = a < 1e-3
    safe = torch.where(small, torch.ones_like(a), a)
    large = safe - math.log(2.0) - torch.log(safe) + torch.log1p(-torch.exp(-2.0 * safe))
    return torch.where(small, a * a / 6.0, large)


def _log_cosh(u: torch.Tensor) -> torch.Tensor:
    a = u.abs()
    return a + torch.log1p(torch.exp(-2.0 * a)) - math.log(2.0)


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
        """Substitute symbols in the law's parameters (returns a new, re-validated law)."""
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


# ----------------------------------------------------------------------------------------------------
# Normal
# ----------------------------------------------------------------------------------------------------
class Normal(Law):
    r"""Gaussian law.

    ``Normal(mean, var)`` with scalar arguments is the iid law :math:`N(\mu, \sigma^2)` of every entry.
    Structured forms (see the module docstring): ``mean`` a per-row vector or a full matrix,
    ``cov`` (bias vectors) or ``row_cov``/``col_cov`` (weight matrices, Kronecker factors of the
    covariance :math:`\mathrm{Cov}(W_{ij}, W_{kl}) = \sigma^2 U_{ik} V_{jl}`).
    """

    is_gaussian = True
    kind = "normal"

    def __init__(self, mean=0, var=1, *, cov=None, row_cov=None, col_cov=None):
        if _is_scalar_like(mean):
            self.loc = as_expr(mean, "mean")
        else:
            self.loc = _as_matrix(mean, "mean")
        self.var = as_expr(var, "var")
        _check_sign(self.var, "var", strict=True, name="variance")
        self.cov = None if cov is None else _check_cov(_as_matrix(cov, "cov"), "cov")
        self.row_cov = None if row_cov is None else _check_cov(_as_matrix(row_cov, "row_cov"), "row_cov")
        self.col_cov = None if col_cov is None else _check_cov(_as_matrix(col_cov, "col_cov"), "col_cov")
        if self.cov is not None and (self.row_cov is not None or self.col_cov is not None):
            raise SpecError("give either cov (for a bias vector) or row_cov/col_cov (for a weight "
                            "matrix), not both", "cov")

    def _params(self):
        return {"mean": self.loc, "var": self.var, "cov": self.cov, "row_cov": self.row_cov,
                "col_cov": self.col_cov}

    def _rebuild(self, params):
        return Normal(params["mean"], params["var"], cov=params["cov"], row_cov=params["row_cov"],
                      col_cov=params["col_cov"])

    def subs(self, mapping):
        new = {k: (v.subs(mapping) if isinstance(v, (sp.Basic, sp.MatrixBase)) else v)
               for k, v in self._params().items()}
        return self._rebuild(new)

    @property
    def free_symbols(self):
        out: set = set()
        for v in self._params().values():
            if v is not None:
                out |= v.free_symbols
        return out

    @property
    def is_iid(self) -> bool:
        return not isinstance(self.loc, sp.MatrixBase) and self.cov is None and \
            self.row_cov is None and self.col_cov is None

    def _require_iid(self, what: str):
        if not self.is_iid:
            raise SpecError(f"{what} is defined entrywise only for an iid Normal; this Normal has a "
                            "structured mean/covariance: use .entry(i, j) for one entry's marginal law")

    def entry(self, i: int, j: int | None = None) -> "Normal":
        """The marginal law of entry ``(i, j)`` (or ``i`` of a vector block) as an iid Normal."""
        loc = self.loc
        if isinstance(loc, sp.MatrixBase):
            loc = loc[i, 0] if loc.cols == 1 else loc[i, j]
        var = self.var
        if self.cov is not None:
            var = var * self.cov[i, i]
        if self.row_cov is not None:
            var = var * self.row_cov[i, i]
        if self.col_cov is not None:
            if j is None:
                raise SpecError("col_cov needs a column index j")
            var = var * self.col_cov[j, j]
        return Normal(loc, var)

    def latex(self) -> str:
        mean = sp.latex(self.loc)
        if self.is_iid:
            return rf"\mathcal{{N}}\left({mean}, {sp.latex(self.var)}\right)"
        parts = [mean, sp.latex(self.var)]
        for name, m in (("C", self.cov), ("U", self.row_cov), ("V", self.col_cov)):
            if m is not None:
                parts.append(f"{name}={sp.latex(m)}")
        return rf"\mathcal{{N}}\left({', '.join(parts)}\right)"

    @property
    def is_symmetric(self):
        if isinstance(self.loc, sp.MatrixBase):
            return _tri(sp.fuzzy_and(v.is_zero for v in self.loc))
        return _tri(self.loc.is_zero)

    @property
    def mean(self):
        """The mean as given: a scalar, a per-row vector or a full matrix."""
        return self.loc

    @property
    def variance(self):
        self._require_iid("variance")
        return self.var

    def density(self, x):
        self._require_iid("density")
        x = as_expr(x, "x")
        return sp.exp(-(x - self.loc) ** 2 / (2 * self.var)) / sp.sqrt(2 * sp.pi * self.var)

    def log_density(self, x):
        self._require_iid("log_density")
        x = as_expr(x, "x")
        return -(x - self.loc) ** 2 / (2 * self.var) - sp.log(2 * sp.pi * self.var) / 2

    def moment(self, k):
        r""":math:`E[X^k] = \sum_{j\,\mathrm{even}} \binom{k}{j}\mu^{k-j}\sigma^j (j-1)!!`."""
        self._require_iid("moment")
        k = _check_order(k)
        return sp.expand(sum(sp.binomial(k, j) * self.loc ** (k - j) * self.var ** sp.Rational(j, 2)
                             * _double_factorial_odd(j) for j in range(0, k + 1, 2)))

    def central_moment(self, k):
        self._require_iid("central_moment")
        k = _check_order(k)
        return sp.Integer(0) if k % 2 else self.var ** sp.Rational(k, 2) * _double_factorial_odd(k)

    def cumulant(self, k):
        self._require_iid("cumulant")
        k = _check_order(k, minimum=1)
        return self.loc if k == 1 else (self.var if k == 2 else sp.Integer(0))

    def mgf(self, t):
        self._require_iid("mgf")
        t = as_expr(t, "t")
        return sp.exp(self.loc * t + self.var * t ** 2 / 2)

    def cgf(self, t):
        self._require_iid("cgf")
        t = as_expr(t, "t")
        return self.loc * t + self.var * t ** 2 / 2

    def characteristic_function(self, t):
        self._require_iid("characteristic_function")
        t = as_expr(t, "t")
        return sp.exp(sp.I * self.loc * t - self.var * t ** 2 / 2)

    def sample(self, shape, generator=None, dtype=torch.float64, device=None):
        self._require_iid("sample (use sample_block for a structured Normal)")
        p = self.numeric_params()
        dev = _generator_device(generator, device)
        z = torch.randn(tuple(shape), generator=generator, dtype=dtype, device=dev)
        return p["mean"] + math.sqrt(p["var"]) * z

    def torch_cgf(self, t):
        self._require_iid("torch_cgf")
        p = self.numeric_params()
        return p["mean"] * t + 0.5 * p["var"] * t * t

    # --- structured block API ------------------------------------------------------------------------
    def check_block(self, shape, where=None):
        shape = tuple(shape)
        if self.is_iid:
            return
        concrete = all(isinstance(s, int) for s in shape)
        if len(shape) == 1:
            n = shape[0]
            if self.row_cov is not None or self.col_cov is not None:
                raise SpecError("a bias vector takes cov=..., not row_cov/col_cov", where)
            if not concrete and (isinstance(self.loc, sp.MatrixBase) or self.cov is not None):
                raise SpecError(f"an explicit mean vector/covariance needs a numeric size, got {n}", where)
            if isinstance(self.loc, sp.MatrixBase) and self.loc.shape != (n, 1):
                raise SpecError(f"mean has shape {self.loc.shape}, expected a vector of length {n}", where)
            if self.cov is not None and self.cov.shape != (n, n):
                raise SpecError(f"cov has shape {self.cov.shape}, expected ({n}, {n})", where)
            return
        if len(shape) != 2:
            raise SpecError(f"unsupported block shape {shape}", where)
        n, m = shape
        if self.cov is not None:
            raise SpecError("a weight matrix takes row_cov=/col_cov= (Kronecker factors), not cov=", where)
        if isinstance(self.loc, sp.MatrixBase):
            if not isinstance(n, int):
                raise SpecError(f"an explicit mean needs a numeric number of rows, got {n}", where)
            if self.loc.shape not in ((n, 1), (n, m)):
                raise SpecError(f"mean has shape {self.loc.shape}; expected a per-row vector of length {n}"
                                f" or a full ({n}, {m}) matrix", where)
        if self.row_cov is not None:
            if not isinstance(n, int) or self.row_cov.shape != (n, n):
                raise SpecError(f"row_cov has shape {self.row_cov.shape}, expected ({n}, {n})", where)
        if self.col_cov is not None:
            if not isinstance(m, int) or self.col_cov.shape != (m, m):
                raise SpecError(f"col_cov has shape {self.col_cov.shape}, expected ({m}, {m})", where)

    def block_mean(self, shape):
        r"""The mean of the block: a scalar (iid) or an explicit ``ImmutableMatrix`` of ``shape``
        (``(n, 1)`` for a vector block)."""
        shape = tuple(shape)
        if not isinstance(self.loc, sp.MatrixBase):
            return self.loc
        loc = self.loc
        if len(shape) == 1 or loc.shape == tuple(shape):
            return loc
        return sp.ImmutableMatrix(shape[0], shape[1], lambda i, j: loc[i, 0])

    def _numeric_matrix(self, mat, dtype, device):
        return torch.tensor([[numeric_value(v, "cov") for v in mat.row(i)] for i in range(mat.rows)],
                            dtype=dtype, device=device)

    def _sqrt_psd(self, mat, dtype, device, what):
        a = self._numeric_matrix(mat, torch.float64, "cpu")
        evals, evecs = torch.linalg.eigh(a)
        if evals.min() < -1e-10 * max(1.0, float(evals.abs().max())):
            raise SpecError(f"{what} is not positive semi-definite (smallest eigenvalue "
                            f"{float(evals.min()):.3g})", what)
        root = evecs @ torch.diag(evals.clamp_min(0).sqrt()) @ evecs.T
        return root.to(dtype=dtype, device=device)

    def _mean_tensor(self, shape, dtype, device):
        mean = self.block_mean(shape)
        if isinstance(mean, sp.MatrixBase):
            t = self._numeric_matrix(mean, dtype, device)
            return t.reshape(tuple(int(s) for s in shape))
        return torch.full(tuple(int(s) for s in shape), numeric_value(mean, "mean"), dtype=dtype,
                          device=device)

    def sample_block(self, n, shape, generator=None, dtype=torch.float64, device=None):
        shape = tuple(int(s) for s in shape)
        if self.is_iid:
            return self.sample((n, *shape), generator=generator, dtype=dtype, device=device)
        dev = _generator_device(generator, device)
        sd = math.sqrt(numeric_value(self.var, "var"))
        z = torch.randn((n, *shape), generator=generator, dtype=dtype, device=dev)
        if len(shape) == 1:
            if self.cov is not None:
                z = z @ self._sqrt_psd(self.cov, dtype, dev, "cov").T
        else:
            if self.row_cov is not None:
                z = self._sqrt_psd(self.row_cov, dtype, dev, "row_cov") @ z
            if self.col_cov is not None:
                z = z @ self._sqrt_psd(self.col_cov, dtype, dev, "col_cov").T
        return self._mean_tensor(shape, dtype, dev) + sd * z

    def block_linear_cgf(self, shape, h, t):
        r"""Gaussian: :math:`\log E[e^{t(Wh)_i}] = t (Mh)_i + \tfrac{t^2}{2}\sigma^2 U_{ii}\, h^T V h`;
        for a bias :math:`t m_i + \tfrac{t^2}{2}\sigma^2 C_{ii}`."""
        if self.is_iid:
            return super().block_linear_cgf(shape, h, t)
        shape = tuple(int(s) for s in shape)
        var = numeric_value(self.var, "var")
        if len(shape) == 1:
            mean = self._mean_tensor(shape, torch.float64, "cpu")
            diag = torch.ones(shape[0], dtype=torch.float64)
            if self.cov is not None:
                diag = torch.diagonal(self._numeric_matrix(self.cov, torch.float64, "cpu"))
            return t * mean + 0.5 * t * t * var * diag
        mean = self._mean_tensor(shape, h.dtype, h.device)  # (n, m)
        quad = (h * h).sum(-1, keepdim=True)
        if self.col_cov is not None:
            v = self._numeric_matrix(self.col_cov, h.dtype, h.device)
            quad = ((h @ v) * h).sum(-1, keepdim=True)
        diag = torch.ones(shape[0], dtype=h.dtype, device=h.device)
        if self.row_cov is not None:
            diag = torch.diagonal(self._numeric_matrix(self.row_cov, h.dtype, h.device))
        return t * (h @ mean.T) + 0.5 * t * t * var * quad * diag

    def block_log_density(self, theta):
        r"""Gaussian block log-density
        :math:`-\tfrac12\,\mathrm{vec}(\theta-M)^T \Sigma^{-1}\mathrm{vec}(\theta-M) - \tfrac12\log\det(2\pi\Sigma)`.

        For an iid block given as a ``MatrixSymbol`` this is the closed form
        :math:`-\mathrm{tr}((\theta-\mu)^T(\theta-\mu))/(2\sigma^2) - \tfrac{nm}{2}\log(2\pi\sigma^2)`.
        """
        if self.is_iid and isinstance(theta, sp.MatrixSymbol):
            n, m = theta.shape
            centred = theta if self.loc == 0 else theta - self.loc * sp.OneMatrix(n, m)
            return (-sp.Trace(centred.T * centred) / (2 * self.var)
                    - n * m * sp.log(2 * sp.pi * self.var) / 2)
        theta = sp.Matrix(theta)
        shape = (theta.rows,) if theta.cols == 1 else (theta.rows, theta.cols)
        self.check_block(shape)
        mean = self.block_mean(shape)
        diff = theta - (mean if isinstance(mean, sp.MatrixBase) else mean * sp.ones(*theta.shape))
        vec = sp.Matrix(diff.T.reshape(theta.rows * theta.cols, 1)) if theta.cols > 1 else sp.Matrix(diff)
        if len(shape) == 1:
            cov = self.var * (self.cov if self.cov is not None else sp.eye(shape[0]))
        else:
            u = self.row_cov if self.row_cov is not None else sp.eye(shape[0])
            v = self.col_cov if self.col_cov is not None else sp.eye(shape[1])
            cov = self.var * sp.kronecker_product(sp.Matrix(v), sp.Matrix(u))
        cov = sp.Matrix(cov)
        quad = (vec.T * cov.inv() * vec)[0, 0]
        return -quad / 2 - sp.log((2 * sp.pi) ** cov.rows * cov.det()) / 2


def _check_cov(mat: sp.ImmutableMatrix, what: str) -> sp.ImmutableMatrix:
    if mat.rows != mat.cols:
        raise SpecError(f"covariance must be square, got shape {mat.shape}", what)
    if not (mat - mat.T).is_zero_matrix and (mat - mat.T).is_zero_matrix is not None:
        raise SpecError("covariance must be symmetric", what)
    for i in range(mat.rows):
        _check_sign(mat[i, i], f"{what}[{i},{i}]", strict=False, name="diagonal covariance entry")
    if not mat.free_symbols:
        evals = torch.linalg.eigvalsh(torch.tensor([[float(v) for v in mat.row(i)] for i in range(mat.rows)],
                                                   dtype=torch.float64))
        if float(evals.min()) < -1e-10 * max(1.0, float(evals.abs().max())):
            raise SpecError(f"covariance is not positive semi-definite (smallest eigenvalue "
                            f"{float(evals.min()):.3g})", what)
    return mat


# ----------------------------------------------------------------------------------------------------
# Uniform and the uniform phase
# ----------------------------------------------------------------------------------------------------
class Uniform(Law):
    r"""Uniform law on :math:`[a, b)`: :math:`p(x) = 1/(b-a)`,
    :math:`M(t) = (e^{tb} - e^{ta})/(t(b-a))`."""

    kind = "uniform"

    def __init__(self, low=-1, high=1):
        self.low = as_expr(low, "low")
        self.high = as_expr(high, "high")
        width = sp.simplify(self.high - self.low)
        _check_sign(width, "high", strict=True, name="high - low")

    def _params(self):
        return {"low": self.low, "high": self.high}

    def latex(self):
        return rf"\mathcal{{U}}\left[{sp.latex(self.low)}, {sp.latex(self.high)}\right)"

    @property
    def is_symmetric(self):
        return _tri(sp.simplify(self.low + self.high).is_zero)

    def density(self, x):
        x = as_expr(x, "x")
        return sp.Piecewise((1 / (self.high - self.low), sp.And(x >= self.low, x < self.high)), (0, True))

    def moment(self, k):
        k = _check_order(k)
        a, b = self.low, self.high
        return sp.simplify(sp.cancel((b ** (k + 1) - a ** (k + 1)) / ((k + 1) * (b - a))))

    def mgf(self, t):
        t = as_expr(t, "t")
        a, b = self.low, self.high
        return (sp.exp(t * b) - sp.exp(t * a)) / (t * (b - a))

    def characteristic_function(self, t):
        t = as_expr(t, "t")
        a, b = self.low, self.high
        c, w = (a + b) / 2, (b - a) / 2
        return sp.exp(sp.I * t * c) * sp.sin(t * w) / (t * w)

    def sample(self, shape, generator=None, dtype=torch.float64, device=None):
        p = self.numeric_params()
        dev = _generator_device(generator, device)
        u = torch.rand(tuple(shape), generator=generator, dtype=dtype, device=dev)
        return p["low"] + (p["high"] - p["low"]) * u

    def torch_cgf(self, t):
        p = self.numeric_params()
        c, w = 0.5 * (p["low"] + p["high"]), 0.5 * (p["high"] - p["low"])
        return c * t + _log_sinhc(w * t)


class UniformCircle(Uniform):
    r"""Uniform phase on the circle :math:`[-\pi, \pi)` identified modulo :math:`2\pi`.

    Its characteristic function at integers is :math:`E[e^{inb}] = \delta_{n0}`, and it is invariant
    under every rotation of the circle :math:`b \mapsto b + c \pmod{2\pi}`: the Cos-net bias that makes
    translations of the input a symmetry at any width.
    """

    is_periodic = True
    period = 2 * sp.pi
    kind = "uniform_circle"

    def __init__(self):
        super().__init__(-sp.pi, sp.pi)

    def _params(self):
        return {}

    def _rebuild(self, params):
        return UniformCircle()

    def _key(self):
        return ()

    def __repr__(self):
        return "UniformCircle()"

    def latex(self):
        return r"\mathcal{U}(S^1)"

    @property
    def is_symmetric(self):
        return True

    def numeric_params(self):
        return {"low": -math.pi, "high": math.pi}

    def moment(self, k):
        k = _check_order(k)
        return sp.Integer(0) if k % 2 else sp.pi ** k / (k + 1)

    def mgf(self, t):
        t = as_expr(t, "t")
        return sp.sinh(sp.pi * t) / (sp.pi * t)

    def characteristic_function(self, t):
        t = as_expr(t, "t")
        return sp.sin(sp.pi * t) / (sp.pi * t)


# ----------------------------------------------------------------------------------------------------
# Laplace and Rademacher
# ----------------------------------------------------------------------------------------------------
class Laplace(Law):
    r"""Laplace law :math:`p(x) = e^{-|x-\mu|/s}/(2s)`; :math:`M(t) = e^{\mu t}/(1 - s^2t^2)` for
    :math:`|t| < 1/s`; variance :math:`2s^2`."""

    kind = "laplace"

    def __init__(self, loc=0, scale=1):
        self.loc = as_expr(loc, "loc")
        self.scale = as_expr(scale, "scale")
        _check_sign(self.scale, "scale", strict=True, name="scale")

    def _params(self):
        return {"loc": self.loc, "scale": self.scale}

    def latex(self):
        return rf"\mathrm{{Laplace}}\left({sp.latex(self.loc)}, {sp.latex(self.scale)}\right)"

    @property
    def is_symmetric(self):
        return _tri(self.loc.is_zero)

    def density(self, x):
        x = as_expr(x, "x")
        return sp.exp(-sp.Abs(x - self.loc) / self.scale) / (2 * self.scale)

    def moment(self, k):
        r""":math:`E[X^k] = \sum_{j\,\mathrm{even}}\binom{k}{j}\mu^{k-j} j!\, s^j`."""
        k = _check_order(k)
        return sp.expand(sum(sp.binomial(k, j) * self.loc ** (k - j) * sp.factorial(j) * self.scale ** j
                             for j in range(0, k + 1, 2)))

    def mgf(self, t):
        t = as_expr(t, "t")
        return sp.exp(self.loc * t) / (1 - self.scale ** 2 * t ** 2)

    def characteristic_function(self, t):
        t = as_expr(t, "t")
        return sp.exp(sp.I * self.loc * t) / (1 + self.scale ** 2 * t ** 2)

    def sample(self, shape, generator=None, dtype=torch.float64, device=None):
        """Inverse-CDF sampling from ``torch.rand`` so that the generator is honoured."""
        p = self.numeric_params()
        dev = _generator_device(generator, device)
        u = torch.rand(tuple(shape), generator=generator, dtype=dtype, device=dev) - 0.5
        tiny = torch.finfo(dtype).tiny
        return p["loc"] - p["scale"] * torch.sign(u) * torch.log((1 - 2 * u.abs()).clamp_min(tiny))

    def torch_cgf(self, t):
        p = self.numeric_params()
        st = p["scale"] * t
        inside = st.abs() < 1
        safe = torch.where(inside, st, torch.zeros_like(st))
        value = p["loc"] * t - torch.log1p(-safe * safe)
        return torch.where(inside, value, torch.full_like(value, math.inf))


class Rademacher(Law):
    r"""Symmetric two-point law :math:`\pm s` with probability 1/2; :math:`M(t) = \cosh(st)`."""

    kind = "rademacher"

    def __init__(self, scale=1):
        self.scale = as_expr(scale, "scale")
        _check_sign(self.scale, "scale", strict=True, name="scale")

    def _params(self):
        return {"scale": self.scale}

    def latex(self):
        return rf"\mathrm{{Rademacher}}\left(\pm {sp.latex(self.scale)}\right)"

    @property
    def is_symmetric(self):
        return True

    def density(self, x):
        x = as_expr(x, "x")
        return (sp.DiracDelta(x - self.scale) + sp.DiracDelta(x + self.scale)) / 2

    def log_density(self, x):
        raise SpecError("a Rademacher law has no density with respect to Lebesgue measure; "
                        "use .density(x) (Dirac deltas) or its moments")

    def block_log_density(self, theta):
        raise SpecError("a Rademacher block has no Lebesgue density; its law is the uniform measure on "
                        "the sign patterns")

    def moment(self, k):
        k = _check_order(k)
        return sp.Integer(0) if k % 2 else self.scale ** k

    def mgf(self, t):
        t = as_expr(t, "t")
        return sp.cosh(self.scale * t)

    def characteristic_function(self, t):
        t = as_expr(t, "t")
        return sp.cos(self.scale * t)

    def sample(self, shape, generator=None, dtype=torch.float64, device=None):
        s = self.numeric_params()["scale"]
        dev = _generator_device(generator, device)
        bits = torch.randint(0, 2, tuple(shape), generator=generator, device=dev)
        return (2 * bits - 1).to(dtype) * s

    def torch_cgf(self, t):
        return _log_cosh(self.numeric_params()["scale"] * t)


#: name used in spec files -> class
LAWS = {cls.kind: cls for cls in (Normal, Uniform, UniformCircle, Laplace, Rademacher)}


def law_names() -> list[str]:
    return sorted(LAWS)

