r"""The Gaussian law, iid or with a structured mean and covariance for a whole block.

``Normal(mean, var)`` with scalars is the iid law :math:`N(\mu, \sigma^2)` of every entry,
:math:`p(x) = (2\pi\sigma^2)^{-1/2} e^{-(x-\mu)^2/2\sigma^2}`.

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

from ..errors import SpecError
from .base import (Law, _as_matrix, _check_order, _check_real, _check_sign, _generator_device, _is_scalar_like,
                   _tri, as_expr, numeric_value, substitution)

__all__ = ["Normal"]


def _double_factorial_odd(j: int) -> int:
    """(j-1)!! for even j >= 0 (the Gaussian moment E[Z^j])."""
    out = 1
    for m in range(j - 1, 0, -2):
        out *= m
    return out


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
            self.loc = _check_real(as_expr(mean, "mean"), "mean", "the mean")
        else:
            self.loc = _check_real(_as_matrix(mean, "mean"), "mean", "the mean")
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
        mapping = substitution(mapping, self.free_symbols)
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
        mean = _vector_latex(self.loc) if isinstance(self.loc, sp.MatrixBase) and 1 in self.loc.shape \
            else sp.latex(self.loc)
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
    _check_real(mat, what, "a covariance entry")
    if not mat.free_symbols:
        evals = torch.linalg.eigvalsh(torch.tensor([[float(v) for v in mat.row(i)] for i in range(mat.rows)],
                                                   dtype=torch.float64))
        if float(evals.min()) < -1e-10 * max(1.0, float(evals.abs().max())):
            raise SpecError(f"covariance is not positive semi-definite (smallest eigenvalue "
                            f"{float(evals.min()):.3g})", what)
    return mat



def _vector_latex(vec: sp.MatrixBase) -> str:
    r"""A mean vector as a transposed row, runs of equal entries shortened when long:
    :math:`(\mu, \mu, \mu, 0, \dots, 0)^T` reads better than a column of ten rows."""
    values = list(vec)
    if len(values) > 12:
        runs: list[tuple] = []
        for v in values:
            if runs and runs[-1][0] == v:
                runs[-1] = (v, runs[-1][1] + 1)
            else:
                runs.append((v, 1))
        parts = [sp.latex(v) if k == 1 else rf"{sp.latex(v)}_{{\times {k}}}" for v, k in runs]
    else:
        parts = [sp.latex(v) for v in values]
    return r"\left(" + ", ".join(parts) + r"\right)^T"
