r"""The exact expected NTK at initialisation of a single-hidden-layer network, in closed form.

For :math:`f = W^1\phi(W^0x + b^0) + b^1` with :math:`z = W^0_{j\cdot}x + b^0_j` Gaussian with covariance
:math:`k_0`, neurons iid and the read-out independent with second moments
:math:`S_{ab} = E\sum_j W^1_{aj}W^1_{bj}`, exactly at every width (standard parameterisation)

.. math:: E[\Theta_{ab}(x,x')] = \delta_{ab}\,[b^1] + \delta_{ab} N\,E[\phi(z)\phi(z')]
          + S_{ab}\,\big(x\cdot x' + [b^0]\big)\,E[\dot\phi(z)\dot\phi(z')],

(:math:`[\cdot]` = 1 when the block exists; :math:`z` has covariance
:math:`k_0(x,x') = v\,x^TVx' + \sigma_{b0}^2` with :math:`V` the column covariance of
:math:`W^0 \sim N(0, v)`, identity for iid entries, while the :math:`W^0` gradient always brings the
Euclidean :math:`x\cdot x'`) and :math:`S_{ab} = \sigma_{W1}^2\delta_{ab} + N\mu_a\mu_b` for iid entries with row means
:math:`\mu_a`.  Closed forms: ReLU :math:`E[\dot\phi\dot\phi'] = (\pi-\vartheta)/2\pi`,
:math:`\cos\vartheta = k_{12}/\sqrt{k_{11}k_{22}}`; erf
:math:`E[\dot\phi\dot\phi'] = \tfrac{4}{\pi}[(1+2k_{11})(1+2k_{22}) - 4k_{12}^2]^{-1/2}`; Gauss-net
:math:`E[\phi\phi'] = E[\dot\phi\dot\phi'] = e^{k_{12} - (k_{11}+k_{22})/2}`; Cos-net with uniform phase
:math:`E[\cos z\cos z'] = E[\sin z\sin z'] = \tfrac12 e^{-\sigma^2 |x-x'|^2_V/2}`.  Other activations
(tanh) stay an unevaluated Gaussian integral, evaluated numerically by Gauss-Hermite quadrature.

In the ``"ntk"`` parameterisation each block is multiplied by its entry variance (as in
:func:`symcorr.ntk.empirical.block_scales`), which makes the kernel independent of the width.

Grids of pairs, :meth:`NTKExpectation.gram` ``(X, Y=None, limit=False)``: ``limit=False`` is the exact value
above at the network's width (one hidden layer; deeper networks have no finite-width value here and raise a
SpecError that points to ``limit=True``), ``limit=True`` the infinite-width NTK of any depth
(:mod:`symcorr.deep.ntk`, :mod:`symcorr.deep.gram`).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
import torch

from ..activations import Activation
from ..deep.gram import InfiniteWidthGram
from ..deep.ntk import NTKRecursion
from ..distributions import Normal, numeric_value
from ..errors import SpecError
from ..gaussian import Factor, closed_form, pair_expectation
from ..spec import Network
from .empirical import Parameterisation, check_parameterisation, check_points

__all__ = ["NTKExpectation", "ntk_expectation", "gaussian_pair_expectations"]


def _pair_symbolic(act: Activation, k11, k12, k22, phase: bool, var_w=None, dist2=None):
    r"""SymPy :math:`(E[\phi(z)\phi(z')], E[\dot\phi(z)\dot\phi(z')])` for a centred Gaussian pair with
    covariance ``[[k11, k12], [k12, k22]]`` from the Gaussian table (:func:`symcorr.gaussian.closed_form`), or,
    for ``phase=True``, Cos-net with uniform phase, where only the squared distance ``dist2`` of the weight
    part matters (a characteristic-function rule, not a Gaussian one).  Without a closed form: the Gaussian
    integrals themselves, unevaluated."""
    name = act.name
    if phase:
        if name != "cos":
            raise SpecError("with a uniform-phase hidden bias a closed form exists for the cos activation "
                            f"only, not {name!r}; use ntk_moments (Monte Carlo)", "layers[0].bias")
        e = sp.exp(-dist2 / 2) / 2
        return e, e
    cov = sp.Matrix([[k11, k12], [k12, k22]])
    ff = closed_form([Factor.of(act)] * 2, cov)
    dd = closed_form([Factor.of(act, 1)] * 2, cov)
    if ff is not None and dd is not None:
        return ff, dd
    u, v = sp.Symbol("u", real=True), sp.Symbol("v", real=True)
    det = k11 * k22 - k12 ** 2
    pdf = sp.exp(-(k22 * u ** 2 - 2 * k12 * u * v + k11 * v ** 2) / (2 * det)) / (2 * sp.pi * sp.sqrt(det))
    lim = ((u, -sp.oo, sp.oo), (v, -sp.oo, sp.oo))
    return (ff if ff is not None else sp.Integral(act.sympy(u) * act.sympy(v) * pdf, *lim),
            dd if dd is not None else sp.Integral(act.derivative(u) * act.derivative(v) * pdf, *lim))


#: nodes per direction of the quadrature fallback (kinked derivatives such as relu' converge slowly)
_GH_NODES = 80


def gaussian_pair_expectations(act: Activation, k11: torch.Tensor, k12: torch.Tensor, k22: torch.Tensor,
                               *, phase: bool = False, dist2: torch.Tensor | None = None):
    r"""Numeric :math:`(E[\phi(z)\phi(z')], E[\dot\phi(z)\dot\phi(z')])` for centred Gaussian
    :math:`(z, z')` with covariance ``[[k11, k12], [k12, k22]]`` (tensors of one shape): the generated torch
    code of the Gaussian table's closed forms or, for other activations, its 2-d Gauss-Hermite quadrature
    (:meth:`symcorr.gaussian.PairExpectation.pair_torch`).  ``phase=True``: Cos-net with uniform phase
    (uses ``dist2``)."""
    name = act.name
    if phase:
        if name != "cos":
            raise SpecError(f"uniform-phase closed form only for cos, not {name!r}")
        e = 0.5 * torch.exp(-dist2 / 2)
        return e, e
    ff, dd = pair_expectation(act).pair_torch(k11, k12, k22, dot=True, nodes=_GH_NODES)
    return ff, dd


@dataclass
class _SingleLayerLaws:
    """What the closed form needs from a single-hidden-layer network."""

    activation: Activation
    width: object  # int or SymPy symbol
    var_w0: sp.Expr
    col_cov: sp.Matrix | None
    var_b0: sp.Expr | None  # None: no hidden bias
    phase: bool  # uniform-phase hidden bias (Cos-net)
    readout_second: sp.Matrix  # S_ab = E sum_j W1_aj W1_bj
    has_b1: bool
    var_w1: sp.Expr
    out_dim: int
    in_dim: int


def _single_layer_laws(network: Network) -> _SingleLayerLaws:
    if not isinstance(network, Network):
        raise SpecError(f"expected a Network, got {type(network).__name__}", "network")
    if network.depth != 2:
        raise SpecError(f"the closed-form NTK expectation covers single-hidden-layer networks (depth 2), "
                        f"this one has depth {network.depth}; use ntk_moments (Monte Carlo)", "layers")
    hidden, readout = network.layers
    if readout.activation.name != "identity":
        raise SpecError("the read-out layer must be linear (identity activation)", "layers[1].activation")
    if not isinstance(network.output_dim, int) or not isinstance(network.input_dim, int):
        raise SpecError("the closed form needs concrete input and output dimensions", "network")
    n = hidden.width
    w0 = network.weight(0).law
    if not (isinstance(w0, Normal) and w0.cov is None and w0.row_cov is None
            and not isinstance(w0.loc, sp.MatrixBase) and sp.sympify(w0.loc).is_zero):
        raise SpecError("the closed form needs W0 ~ Normal(0, v) (iid rows; a col_cov is allowed); use "
                        "ntk_moments (Monte Carlo) for other laws", "layers[0].weight")
    b0 = network.bias(0)
    phase = False
    var_b0 = None
    if b0 is not None:
        law = b0.law
        if getattr(law, "is_periodic", False):
            phase = True
            var_b0 = sp.pi ** 2 / 3
        elif isinstance(law, Normal) and law.is_iid and sp.sympify(law.loc).is_zero:
            var_b0 = law.var
        else:
            raise SpecError("the closed form needs the hidden bias to be Normal(0, v), a uniform phase "
                            "(with cos) or absent", "layers[0].bias")
    if phase and hidden.activation.normalised:
        raise SpecError("no closed form for a gauss layer with a uniform-phase bias", "layers[0].bias")
    w1 = network.weight(1)
    law1 = w1.law
    d = network.output_dim
    if isinstance(law1, Normal):
        mean = law1.block_mean(w1.shape)
        u = law1.row_cov if law1.row_cov is not None else sp.eye(d)
        if law1.cov is not None:
            raise SpecError("unexpected vector covariance on a weight block", "layers[1].weight")
        if law1.col_cov is not None:
            if not isinstance(n, int):
                raise SpecError("a col_cov on W1 needs a concrete width", "layers[1].weight")
            trace_v = sp.trace(law1.col_cov)
        else:
            trace_v = n
        var1 = law1.var
        second = var1 * trace_v * sp.Matrix(u)
        if isinstance(mean, sp.MatrixBase):
            rows_constant = all(mean[a, j] == mean[a, 0] for a in range(d) for j in range(mean.cols))
            if rows_constant:
                mu = [mean[a, 0] for a in range(d)]
                second = second + n * sp.Matrix(d, d, lambda a, b: mu[a] * mu[b])
            else:
                second = second + sp.Matrix(mean) * sp.Matrix(mean).T
        else:
            second = second + n * mean ** 2 * sp.ones(d, d)
    else:
        var1 = law1.variance
        mu = law1.mean
        second = n * var1 * sp.eye(d) + n * mu ** 2 * sp.ones(d, d)
    return _SingleLayerLaws(hidden.activation, n, w0.var, w0.col_cov, var_b0, phase, second,
                            network.bias(1) is not None, var1, d, network.input_dim)


class NTKExpectation:
    r"""Exact :math:`E[\Theta_{ab}(x, x')]` at initialisation for a single-hidden-layer network.

    ``blocks(x, x2, a, b)``: dict block -> SymPy expression; ``expr(x, x2, a, b)``: their sum (closed
    form where a rule applies, otherwise an unevaluated ``Integral``); ``evaluate(x, x2)``: float64 tensor
    ``(P, P', d, d)`` (same formulas in torch, quadrature for integrals); ``latex()``/``markdown()``:
    the formula in terms of :math:`x\cdot x'`, :math:`|x|^2`, :math:`|x'|^2`.

    In the ``"ntk"`` parameterisation the result does not depend on the width ``N`` (only through the
    read-out mean, if any): it is the infinite-width NTK, on which each network's NTK concentrates with
    fluctuations :math:`O(N^{-1/2})`.  In the ``"standard"`` one the :math:`W^1` term is :math:`N` times
    larger, :math:`N E[\phi\phi']` (paper section 3.7).
    """

    def __init__(self, network: Network, parameterisation: str = "standard"):
        self.network = network
        self.parameterisation = check_parameterisation(parameterisation)
        self._grid: InfiniteWidthGram | None = None
        self._recursion: NTKRecursion | None = None
        self.laws: _SingleLayerLaws | None = None
        if isinstance(network, Network) and network.depth != 2:
            self._recursion = NTKRecursion(network, self.parameterisation)  # checks the laws it needs
            return
        self.laws = _single_layer_laws(network)
        if self.parameterisation is Parameterisation.NTK:
            for name, block in network.blocks.items():  # as empirical_ntk: one scale per block
                law = block.law
                if isinstance(law, Normal) and not law.is_iid and (law.cov is not None or law.row_cov is not None
                                                                   or law.col_cov is not None):
                    raise SpecError("the NTK parameterisation rescales each block by one standard "
                                    "deviation; this block has a structured covariance", name)

    @property
    def is_exact(self) -> bool:
        """True when the exact finite-width :math:`E[\\Theta]` exists here (one hidden layer)."""
        return self.laws is not None

    def _exact_laws(self) -> _SingleLayerLaws:
        self._require_exact()
        assert self.laws is not None
        return self.laws

    def _require_exact(self) -> None:
        if self.laws is None:
            raise SpecError(f"no finite-width E[Theta] for a network of depth {self.network.depth} (more than one "
                            "hidden layer): the exact one covers single-hidden-layer networks, and the 1/n "
                            "correction of a deep network's mean NTK (Roberts, Yaida and Hanin 2022, ch. 8) is not "
                            "implemented; its infinite-width NTK is gp_limit(x, y) / gram(X, limit=True), its value "
                            "at this width a Monte Carlo estimate (ntk_moments)", "layers")

    # --- symbolic ------------------------------------------------------------------------------------
    def _scales(self) -> dict:
        laws = self._exact_laws()
        if self.parameterisation is Parameterisation.STANDARD:
            return {"W0": 1, "b0": 1, "W1": 1, "b1": 1}
        b1 = self.network.bias(1)
        var_b1 = 1
        if b1 is not None:
            law = b1.law
            var_b1 = law.var if isinstance(law, Normal) and law.is_iid else law.variance
        return {"W0": laws.var_w0, "b0": laws.var_b0 if laws.var_b0 is not None else 1,
                "W1": laws.var_w1, "b1": var_b1}

    def _terms(self, q11, q12, q22, dist2, a: int, b: int, dot=None) -> dict:
        """Blocks from the V-inner products ``q`` (for the law of z) and the Euclidean ``dot`` = x.x'
        (from the W0 gradient; equal to ``q12`` when W0 has iid entries)."""
        dot = q12 if dot is None else dot
        laws = self._exact_laws()
        k11, k12, k22 = laws.var_w0 * q11, laws.var_w0 * q12, laws.var_w0 * q22
        if laws.var_b0 is not None and not laws.phase:
            k11, k12, k22 = k11 + laws.var_b0, k12 + laws.var_b0, k22 + laws.var_b0
        e_ff, e_dd = _pair_symbolic(laws.activation, k11, k12, k22, laws.phase, dist2=laws.var_w0 * dist2)
        delta = sp.Integer(1 if a == b else 0)
        s_ab = laws.readout_second[a, b]
        sc = self._scales()
        terms = {"W0": sc["W0"] * s_ab * dot * e_dd}
        if laws.var_b0 is not None:
            terms["b0"] = sc["b0"] * s_ab * e_dd
        terms["W1"] = sc["W1"] * delta * laws.width * e_ff
        if laws.has_b1:
            terms["b1"] = sc["b1"] * delta
        return terms

    def _check_index(self, a, b):
        d = self.network.output_dim
        for name, v in (("a", a), ("b", b)):
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < d:
                raise SpecError(f"output index must be an integer in [0, {d}), got {v!r}", name)

    def _inner(self, x, x2):
        d_in = self._exact_laws().in_dim
        v = sp.Matrix(self._exact_laws().col_cov) if self._exact_laws().col_cov is not None else sp.eye(d_in)
        cols = []
        for name, pt in (("x", x), ("x2", x2)):
            m = sp.Matrix(pt) if not isinstance(pt, sp.MatrixBase) else sp.Matrix(pt)
            if len(m) != d_in:
                raise SpecError(f"a point must have {d_in} entries, got {len(m)}", name)
            cols.append(m.reshape(d_in, 1))
        p, q = cols
        diff = p - q
        return ((p.T * v * p)[0, 0], (p.T * v * q)[0, 0], (q.T * v * q)[0, 0], (diff.T * v * diff)[0, 0],
                (p.T * q)[0, 0])

    def blocks(self, x, x2=None, a: int = 0, b: int = 0) -> dict:
        """Per-block contributions ``{"W0": ..., "b0": ..., "W1": ..., "b1": ...}`` (SymPy)."""
        self._require_exact()
        self._check_index(a, b)
        q11, q12, q22, dist2, dot = self._inner(x, x if x2 is None else x2)
        return self._terms(q11, q12, q22, dist2, a, b, dot)

    def expr(self, x, x2=None, a: int = 0, b: int = 0) -> sp.Expr:
        r""":math:`E[\Theta_{ab}(x, x')]` as one SymPy expression."""
        return sp.Add(*self.blocks(x, x2, a, b).values())

    def _generic(self, a: int, b: int) -> sp.Expr:
        v_note = self._exact_laws().col_cov is not None
        q11 = sp.Symbol(r"x^T V x" if v_note else r"|x|^2", positive=True)
        q22 = sp.Symbol(r"x'^T V x'" if v_note else r"|x'|^2", positive=True)
        q12 = sp.Symbol(r"x^T V x'" if v_note else r"x \cdot x'", real=True)
        dist2 = sp.Symbol(r"|x - x'|_V^2" if v_note else r"|x - x'|^2", nonnegative=True)
        dot = sp.Symbol(r"x \cdot x'", real=True) if v_note else None
        return sp.Add(*self._terms(q11, q12, q22, dist2, a, b, dot).values())

    def latex(self) -> str:
        self._require_exact()
        lines = [rf"\mathbb{{E}}[\Theta_{{00}}(x,x')] = {sp.latex(self._generic(0, 0))}"]
        if self._exact_laws().out_dim > 1:
            lines.append(rf"\mathbb{{E}}[\Theta_{{01}}(x,x')] = {sp.latex(self._generic(0, 1))}")
        return r" \\ ".join(lines)

    def markdown(self) -> str:
        lines = [f"Expected NTK at initialisation ({self.parameterisation} parameterisation) of", "",
                 self.network.markdown(), "", "$$" + self.latex().replace(r" \\ ", "$$\n\n$$") + "$$"]
        return "\n".join(lines)

    def _repr_latex_(self):
        return f"${self.latex()}$"

    # --- numeric -------------------------------------------------------------------------------------
    def evaluate(self, x, x2=None, per_block: bool = False):
        r"""Float64 tensor :math:`E[\Theta_{ab}(x_p, x'_q)]` of shape ``(P, P', d, d)`` (with
        ``per_block`` a dict block -> tensor, summing to it)."""
        self._require_exact()
        laws = self._exact_laws()
        net = self.network
        for s in (laws.width,):
            if not isinstance(s, int):
                raise SpecError(f"numeric evaluation needs a concrete width, got {s}; use network.subs")
        x1 = check_points(net, x, torch.float64, None, "x")
        x2t = x1 if x2 is None else check_points(net, x2, torch.float64, None, "x2")
        v = (torch.tensor([[numeric_value(e, "col_cov") for e in laws.col_cov.row(i)]
                           for i in range(laws.col_cov.rows)], dtype=torch.float64)
             if laws.col_cov is not None else torch.eye(laws.in_dim, dtype=torch.float64))
        q11 = torch.einsum("pi,ij,pj->p", x1, v, x1)[:, None]
        q22 = torch.einsum("qi,ij,qj->q", x2t, v, x2t)[None, :]
        q12 = x1 @ v @ x2t.T
        dist2 = q11 + q22 - 2 * q12
        vw = numeric_value(laws.var_w0, "W0.var")
        k11, k12, k22 = vw * q11 + 0 * q12, vw * q12, vw * q22 + 0 * q12
        if laws.var_b0 is not None and not laws.phase:
            vb = numeric_value(laws.var_b0, "b0.var")
            k11, k12, k22 = k11 + vb, k12 + vb, k22 + vb
        e_ff, e_dd = gaussian_pair_expectations(laws.activation, k11, k12, k22, phase=laws.phase,
                                                dist2=vw * dist2)
        d = laws.out_dim
        s_ab = torch.tensor([[numeric_value(laws.readout_second[a, b], "W1") for b in range(d)]
                             for a in range(d)], dtype=torch.float64)
        sc = {k: numeric_value(sp.sympify(v_), k) for k, v_ in self._scales().items()}
        eye = torch.eye(d, dtype=torch.float64)
        out = {"W0": sc["W0"] * ((x1 @ x2t.T) * e_dd)[..., None, None] * s_ab}
        if laws.var_b0 is not None:
            out["b0"] = sc["b0"] * e_dd[..., None, None] * s_ab
        out["W1"] = sc["W1"] * laws.width * e_ff[..., None, None] * eye
        if laws.has_b1:
            out["b1"] = sc["b1"] * eye.expand_as(out["W1"]).clone()
        return out if per_block else sum(out.values())


    # --- infinite width, any depth --------------------------------------------------------------------
    def _readout_mean_free(self) -> bool:
        laws = self._exact_laws()
        s_ab = laws.readout_second
        d = laws.out_dim
        return all(sp.simplify(s_ab[a, b] - (s_ab[a, a] if a == b else 0)) == 0 for a in range(d) for b in range(d)) \
            and len({sp.simplify(s_ab[a, a]) for a in range(d)}) == 1

    def gp_limit(self, x, x2=None, a: int = 0, b: int = 0) -> sp.Expr:
        r"""The infinite-width NTK :math:`\lim E[\Theta_{ab}(x, x')]` (SymPy; symbolic points and input
        dimension allowed), any depth (:mod:`symcorr.deep.ntk`).  ``"ntk"``: the :math:`N\to\infty` limit;
        ``"standard"``: every block with its explicit width factor (it grows with the widths).  One hidden
        layer: today's exact :math:`E[\Theta]` (``expr``), which is that in both parameterisations (with a
        symbolic width taken to the limit in the NTK one; a read-out mean makes it grow, an error)."""
        x2 = x if x2 is None else x2
        if self._recursion is not None:
            self._check_index(a, b)
            return sp.KroneckerDelta(a, b) * self._recursion.expr(x, x2)
        value = self.expr(x, x2, a, b)
        if self.parameterisation is Parameterisation.STANDARD:
            return value
        width = self._exact_laws().width
        if isinstance(width, sp.Symbol) and value.has(width):
            value = sp.limit(value, width, sp.oo)
            if value.has(sp.oo, -sp.oo, sp.zoo, sp.nan):
                raise SpecError("the NTK grows with the width (a read-out mean of order 1); the infinite-width limit "
                                "needs a read-out mean ~ 1/sqrt(N)", "layers[1].weight.mean")
        elif not self._readout_mean_free():
            raise SpecError("the infinite-width NTK of a network with a read-out weight mean needs a symbolic width "
                            "(the limit at a fixed mean grows with N)", "layers[1].weight.mean")
        return value

    def gram(self, x, x2=None, limit: bool = False, indices=(0, 0)) -> torch.Tensor:
        r""":math:`E[\Theta_{ab}(x_p, x'_q)]` on the grid of all pairs, an ``(n, m)`` float64 tensor (see
        :meth:`gram_with_error`)."""
        return self.gram_with_error(x, x2, limit, indices)[0]

    def gram_with_error(self, x, x2=None, limit: bool = False, indices=(0, 0)) -> tuple[torch.Tensor, torch.Tensor]:
        r"""``(values, errors)`` on the grid.

        ``limit=True``: the infinite-width NTK of any depth (:class:`symcorr.deep.gram.InfiniteWidthGram`:
        generated torch code, streamed; quadrature errors end to end).

        ``limit=False``: :math:`E[\Theta_{ab}]` at the network's width, where it is known exactly, i.e. one
        hidden layer (:meth:`evaluate`, the module docstring's formula, exact at every width: every block is a
        sum over iid neurons).  In the NTK parameterisation with :math:`N\mathrm{Var}(W^1)` width-free and no
        read-out weight mean it does not depend on the width (:math:`\mathrm{Var}(W^1)\,N E[\phi\phi'] =
        C_W E[\phi\phi']`, :math:`S_{ab} = C_W\delta_{ab}`), so it equals ``limit=True``; in the standard one
        the blocks keep their explicit width (:math:`N E[\phi\phi']`), as ``limit=True`` does; a read-out weight
        mean adds :math:`N\mu_a\mu_b` to :math:`S_{ab}` (exact here, refused by ``limit=True`` in the NTK
        parameterisation).  Two or more hidden layers: no finite-width value exists here (their mean NTK has a
        1/n correction that is not implemented), a SpecError pointing to ``limit=True`` -- never the limit
        returned silently."""
        try:
            a, b = indices
        except (TypeError, ValueError):
            raise SpecError(f"expected two output indices (a, b), got {indices!r}", "indices") from None
        self._check_index(a, b)
        if not limit:
            self._require_exact()
        if not limit or (self.laws is not None and not self._readout_mean_free()):
            if limit and self.parameterisation is Parameterisation.NTK:
                raise SpecError("the infinite-width NTK of a network with a read-out weight mean grows with the "
                                "width; use limit=False (exact at this width)", "layers[1].weight.mean")
            values = self.evaluate(x, x2)[:, :, a, b].clone()  # one hidden layer: exact (standard: explicit widths)
            return values, 64 * torch.finfo(torch.float64).eps * values.abs().clamp_min(1.0)
        if self._grid is None:
            self._grid = InfiniteWidthGram(self.network, self.parameterisation)
        result = self._grid.evaluate(x, x2).ntk
        assert result is not None
        scale = 1.0 if a == b else 0.0
        return scale * result.values, scale * result.errors


def ntk_expectation(network: Network, parameterisation: str = "standard") -> NTKExpectation:
    r"""The exact expected NTK at initialisation of a single-hidden-layer network
    (:class:`NTKExpectation`; formula in the module docstring)."""
    return NTKExpectation(network, parameterisation)
