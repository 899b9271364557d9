r"""Hypothesis strategies for symcorr objects: seeds, generators, laws, networks, group elements, inputs,
and *symmetry cases* (a network, a group, the side it acts on and the verdict known by construction).

Randomness: every random tensor is drawn from a ``torch.Generator`` seeded by an integer that
Hypothesis draws (:func:`seeds`), never from torch's global RNG, so failing examples shrink and replay.

Symmetry cases follow the paper's sufficient conditions (symmetry via duality):

* output ``SO(d_out)``/``O(d_out)``: a zero-mean isotropic Gaussian read-out (and bias) -> invariant;
  a non-zero read-out mean or an anisotropic row covariance -> broken; a read-out mean
  :math:`\mu u` -> invariant under the stabiliser of ``u`` (:math:`\cong SO(d_{out}-1)`) but broken
  under ``SO(d_out)``;
* input ``SO(d_in)``: first-layer weights iid zero-mean Gaussian (any bias) -> invariant; an anisotropic
  column covariance or a non-zero mean -> broken;
* input translations: Cos-net with a uniform phase -> invariant; a Gaussian phase -> broken;
* input signed permutations: any iid symmetric first-layer law -> invariant.

The breaking variants are chosen strong enough to be detected by a few thousand networks.

For torch models (``docs/testing-your-model.md``): :func:`tensor_inputs` (points of any shape),
:func:`axis_groups` (a group acting on one axis of that shape, :mod:`symcorr.tensor_groups`),
:func:`torch_initialisers` (the supported ``torch.nn.init`` calls, as functions or ``functools.partial``)
and :func:`torch_mlps` (``nn.Sequential`` models that :meth:`symcorr.spec.Network.from_torch` reads).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import sympy as sp
import torch
import torch.nn as nn

try:
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - hypothesis is a test extra
    raise ImportError("symcorr.testing needs hypothesis: pip install 'symcorr[test]'") from exc

from ..distributions import Laplace, Law, Normal, Rademacher, Uniform, UniformCircle
from ..groups import (Group, Orthogonal, SignedPermutations, SpecialOrthogonal, Stabilizer, Translations)
from ..rng import make_generator
from ..spec import Dense, Network
from ..tensor_groups import AxisGroup, CyclicShifts, FeatureRotations, SignFlips, TokenPermutations
from ..verdicts import Expectation, Side

__all__ = [
    "seeds", "generators", "symmetric_laws", "first_layer_laws", "activations", "inputs",
    "single_hidden_layer_networks", "deep_networks", "networks", "group_elements", "SymmetryCase",
    "symmetry_cases", "output_rotation_cases", "input_rotation_cases", "translation_cases",
    "signed_permutation_cases", "MILD_ACTIVATIONS", "tensor_inputs", "axis_groups", "torch_initialisers",
    "torch_mlps", "TORCH_ACTIVATIONS", "DeepClaim", "deep_claims",
]

#: the elementwise activations Network.from_torch reads
TORCH_ACTIVATIONS = (nn.ReLU, nn.Tanh, nn.Sigmoid, nn.GELU, nn.SiLU)

#: activations with light tails at the scales used here (``gauss`` is kept at sigma <= 0.5)
MILD_ACTIVATIONS = ("erf", "tanh", "relu", "cos")


def seeds() -> st.SearchStrategy[int]:
    """Non-negative 31-bit seeds."""
    return st.integers(min_value=0, max_value=2 ** 31 - 1)


def generators(device=None) -> st.SearchStrategy[torch.Generator]:
    """``torch.Generator`` objects seeded from a Hypothesis-drawn seed."""
    return seeds().map(lambda s: make_generator(s, device))


def activations(names=MILD_ACTIVATIONS + ("gauss",)) -> st.SearchStrategy[str]:
    return st.sampled_from(tuple(names))


def symmetric_laws(scale=st.floats(0.3, 1.5)) -> st.SearchStrategy[Law]:
    """Zero-mean iid laws, symmetric under x -> -x (Normal, centred Uniform, Laplace, Rademacher); the
    variance is ``scale**2`` (Laplace: scale ``scale/sqrt2``)."""
    def build(kind, s):
        s = round(float(s), 3)
        if kind == "normal":
            return Normal(0, s * s)
        if kind == "uniform":
            return Uniform(-s * math.sqrt(3), s * math.sqrt(3))
        if kind == "laplace":
            return Laplace(0, s / math.sqrt(2))
        return Rademacher(s)
    return st.builds(build, st.sampled_from(("normal", "uniform", "laplace", "rademacher")), scale)


def first_layer_laws(d_in: int, gaussian: bool = True) -> st.SearchStrategy[Law]:
    """First-layer weight laws of variance ``sigma^2/d_in`` (Gaussian only, or any symmetric iid law)."""
    sigma = st.floats(0.5, 1.5).map(lambda s: round(float(s), 3))
    if gaussian:
        return sigma.map(lambda s: Normal(0, s * s / d_in))
    return symmetric_laws(sigma.map(lambda s: s / math.sqrt(d_in)))


def inputs(d_in: int, points=(1, 3), max_abs: float = 1.5) -> st.SearchStrategy[torch.Tensor]:
    """Input points ``(P, d_in)`` (float64) with coordinates in ``[-max_abs, max_abs]`` (rounded to
    1e-3 so examples print readably)."""
    coord = st.floats(-max_abs, max_abs, allow_nan=False, allow_infinity=False).map(lambda v: round(v, 3))
    lo, hi = points
    return st.lists(st.lists(coord, min_size=d_in, max_size=d_in), min_size=lo, max_size=hi).map(
        lambda rows: torch.tensor(rows, dtype=torch.float64))


def _gauss_safe(activation: str, sigma: float) -> float:
    return min(sigma, 0.5) if activation == "gauss" else sigma


@st.composite
def single_hidden_layer_networks(draw, d_in=st.integers(1, 3), width=st.integers(1, 6), d_out=st.integers(1, 3),
                                 activation=activations(), readout_bias=st.booleans(),
                                 gaussian_first_layer: bool = True) -> Network:
    r""":math:`f = W^1\phi(W^0x + b^0) + b^1` with a zero-mean iid Gaussian read-out
    :math:`W^1 \sim N(0, \sigma^2/N)`; first layer iid (Gaussian, or any symmetric law when
    ``gaussian_first_layer`` is False).  Gauss-nets keep :math:`\sigma \le 0.5` (heavy tails)."""
    din, n, dout, act = draw(d_in), draw(width), draw(d_out), draw(activation)
    sw = _gauss_safe(act, round(draw(st.floats(0.5, 1.5)), 3))
    sb = _gauss_safe(act, round(draw(st.floats(0.1, 1.0)), 3))
    if gaussian_first_layer or act == "gauss":
        w0 = Normal(0, sw * sw / din)
    else:
        w0 = draw(symmetric_laws(st.just(sw / math.sqrt(din))))
    b0 = UniformCircle() if act == "cos" and draw(st.booleans()) else Normal(0, sb * sb)
    w1 = Normal(0, round(draw(st.floats(0.5, 1.5)), 3) ** 2 / n)
    b1 = Normal(0, round(draw(st.floats(0.1, 1.0)), 3) ** 2) if draw(readout_bias) else None
    return Network(din, [Dense(n, act, weight=w0, bias=b0), Dense(dout, weight=w1, bias=b1)])


@st.composite
def deep_networks(draw, d_in=st.integers(1, 3), depth=st.integers(3, 4), width=st.integers(1, 5),
                  d_out=st.integers(1, 3), activation=st.sampled_from(("erf", "tanh", "relu"))) -> Network:
    """``depth - 1`` hidden layers with mild activations, iid Gaussian laws in the standard
    parameterisation, zero-mean Gaussian read-out."""
    din, L, dout = draw(d_in), draw(depth), draw(d_out)
    layers, fan_in = [], din
    for _ in range(L - 1):
        n = draw(width)
        layers.append(Dense(n, draw(activation), weight=Normal(0, 1 / fan_in), bias=Normal(0, 0.25)))
        fan_in = n
    layers.append(Dense(dout, weight=Normal(0, 1 / fan_in), bias=Normal(0, 0.25) if draw(st.booleans()) else None))
    return Network(din, layers)


@dataclass(frozen=True)
class DeepClaim:
    """A claim about a deep network for the prover's soundness test: the network (hidden widths a number or
    the symbol ``N``), the group's name, the side, and whether it is about the infinite-width limit only."""

    network: Network
    group: str
    on: Side
    finite_width: bool

    def __repr__(self):
        width = "GP limit" if not self.finite_width else "finite width"
        return f"DeepClaim({self.network!r}, {self.group} on {self.on}s, {width})"


@st.composite
def deep_claims(draw) -> DeepClaim:
    r"""Two hidden layers, exact rational laws that keep or break the symmetries the prover decides: a first
    activation erf, relu, tanh, cos or gauss (Gauss-net: translation invariant in the GP limit only), first-layer
    weights centred, with a mean or an anisotropic column covariance (or Laplace), biases none / centred /
    with a mean, hidden activations with and without closed forms (erf, relu, tanh, cos, gelu), a zero-mean
    read-out with or without a bias mean, a numeric width or the symbol ``N`` (variances ``C/N``), and a
    group acting on the inputs (rotations, permutations, parity, translations) or the outputs (rotations)."""
    R = sp.Rational
    d, d_out = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    width = draw(st.sampled_from([2, sp.Symbol("N", positive=True, integer=True)]))
    first_act, hidden_act = draw(st.sampled_from(["erf", "relu", "tanh", "cos", "gauss"])), \
        draw(st.sampled_from(["erf", "relu", "tanh", "cos", "gelu"]))
    w0: list[Law] = [Normal(0, R(1, 2)), Normal(R(1, 2), R(1, 2))]
    if d == 2:
        w0.append(Normal(0, R(1, 2), col_cov=[[2, 0], [0, 1]]))
    if first_act != "gauss":  # a Laplace moment generating function diverges where the Gauss-net normaliser needs it
        w0.append(Laplace(0, R(1, 2)))
    b0 = [None, Normal(0, R(1, 4)), Normal(R(1, 2), R(1, 4))]
    b1 = [None, Normal(0, 1), Normal([R(1, 2)] + [0] * (d_out - 1), 1)]
    layers = [Dense(width, first_act, weight=draw(st.sampled_from(w0)), bias=draw(st.sampled_from(b0))),
              Dense(width, hidden_act, weight=Normal(0, 2 / sp.sympify(width)),
                    bias=draw(st.sampled_from([None, Normal(0, R(1, 10))]))),
              Dense(d_out, weight=Normal(0, 1 / sp.sympify(width)), bias=draw(st.sampled_from(b1)))]
    group, on = draw(st.sampled_from([("SO", Side.INPUT), ("O", Side.INPUT), ("permutations", Side.INPUT),
                                      ("parity", Side.INPUT), ("translations", Side.INPUT), ("SO", Side.OUTPUT)]))
    return DeepClaim(Network(d, layers), group, on, draw(st.booleans()))


def networks(**kw) -> st.SearchStrategy[Network]:
    """Single-hidden-layer or deep networks (all with iid Gaussian first layer and read-out)."""
    return st.one_of(single_hidden_layer_networks(**kw), deep_networks())


def group_elements(group: Group) -> st.SearchStrategy[torch.Tensor]:
    """One element of ``group`` (Haar for SO/O), drawn with a generator seeded by Hypothesis."""
    return seeds().map(lambda s: group.sample(1, make_generator(s))[0])


# ----------------------------------------------------------------------------------------------------
# symmetry cases
# ----------------------------------------------------------------------------------------------------
@dataclass
class SymmetryCase:
    """A network, a group acting ``on`` one side and the verdict known by construction
    (``"invariant"`` or ``"broken"``), with the reason and input points suited to the check."""

    network: Network
    group: Group
    on: Side
    expect: Expectation
    reason: str
    points: torch.Tensor
    orders: tuple = (2,)

    def __repr__(self):
        return (f"SymmetryCase({self.group!r} on {self.on}s, expect {self.expect}: {self.reason}; "
                f"{self.network!r})")


def _readout(d_out, width, mean=0, row_cov=None, bias=True):
    w1 = Normal(mean, 1.0 / width, row_cov=row_cov)
    return Dense(d_out, weight=w1, bias=Normal(0, 0.25) if bias else None)


@st.composite
def output_rotation_cases(draw) -> SymmetryCase:
    """Output SO/O(d_out): isotropic read-out (invariant), non-zero read-out mean or anisotropic row
    covariance (broken), a mean mu*u under its stabiliser (invariant)."""
    d_out = draw(st.integers(2, 3))
    width = draw(st.integers(1, 4))
    act = draw(st.sampled_from(MILD_ACTIVATIONS))
    hidden = Dense(width, act, weight=Normal(0, 1.0), bias=Normal(0, 0.5))
    x = torch.tensor([[0.7], [-0.4]], dtype=torch.float64)
    kind = draw(st.sampled_from(("isotropic", "mean", "anisotropic", "stabiliser")))
    bias = draw(st.booleans())
    group = draw(st.sampled_from((SpecialOrthogonal(d_out), Orthogonal(d_out))))
    if kind == "isotropic":
        net = Network(1, [hidden, _readout(d_out, width, bias=bias)])
        return SymmetryCase(net, group, Side.OUTPUT, Expectation.INVARIANT, "zero-mean iid Gaussian read-out", x)
    if kind == "mean":
        mu = [1.0] + [0.0] * (d_out - 1)
        net = Network(1, [hidden, _readout(d_out, width, mean=mu, bias=bias)])
        return SymmetryCase(net, group, Side.OUTPUT, Expectation.BROKEN, "read-out mean on the first row", x, (1, 2))
    if kind == "anisotropic":
        cov = [[4.0 if i == j == 0 else (0.25 if i == j else 0.0) for j in range(d_out)] for i in range(d_out)]
        net = Network(1, [hidden, _readout(d_out, width, row_cov=cov, bias=bias)])
        return SymmetryCase(net, group, Side.OUTPUT, Expectation.BROKEN, "anisotropic read-out row covariance", x)
    u = [1.0] * draw(st.integers(1, d_out)) + [0.0] * d_out
    u = u[:d_out]
    net = Network(1, [hidden, _readout(d_out, width, mean=[0.8 * v for v in u], bias=bias)])
    return SymmetryCase(net, Stabilizer(SpecialOrthogonal(d_out), u), Side.OUTPUT, Expectation.INVARIANT,
                        f"read-out mean along u = {u}: its stabiliser survives", x, (1, 2))


@st.composite
def input_rotation_cases(draw) -> SymmetryCase:
    """Input SO/O(d_in): iid zero-mean Gaussian W0 (invariant, any bias), anisotropic column covariance or a
    non-zero mean (broken)."""
    d_in = draw(st.integers(2, 3))
    width = draw(st.integers(1, 4))
    act = draw(st.sampled_from(("erf", "tanh", "relu")))
    x = torch.zeros(2, d_in, dtype=torch.float64)
    x[0, 0], x[1, 1] = 1.2, 0.9
    x[1, 0] = -0.3
    kind = draw(st.sampled_from(("isotropic", "anisotropic", "mean")))
    group = draw(st.sampled_from((SpecialOrthogonal(d_in), Orthogonal(d_in))))
    readout = _readout(1, width, bias=False)
    if kind == "isotropic":
        bias = draw(st.sampled_from((Normal(0, 0.5), Normal(0.7, 0.2), None)))
        net = Network(d_in, [Dense(width, act, weight=Normal(0, 2.0 / d_in), bias=bias), readout])
        return SymmetryCase(net, group, Side.INPUT, Expectation.INVARIANT, "iid zero-mean Gaussian first layer", x)
    if kind == "anisotropic":
        cov = [[3.0 if i == j == 0 else (0.1 if i == j else 0.0) for j in range(d_in)] for i in range(d_in)]
        net = Network(d_in, [Dense(width, act, weight=Normal(0, 2.0 / d_in, col_cov=cov), bias=Normal(0, 0.1)),
                             readout])
        return SymmetryCase(net, group, Side.INPUT, Expectation.BROKEN, "anisotropic first-layer column covariance", x)
    net = Network(d_in, [Dense(width, act, weight=Normal(1.5, 0.2), bias=Normal(0, 0.1)), readout])
    return SymmetryCase(net, group, Side.INPUT, Expectation.BROKEN, "non-zero first-layer weight mean", x)


@st.composite
def translation_cases(draw) -> SymmetryCase:
    """Input translations: Cos-net with a uniform phase (invariant at every width), with a Gaussian phase
    (broken)."""
    d_in = draw(st.integers(1, 2))
    width = draw(st.integers(1, 3))
    x = torch.tensor([[0.0] * d_in, [0.5] * d_in], dtype=torch.float64)
    uniform = draw(st.booleans())
    phase = UniformCircle() if uniform else Normal(0, 0.3)
    net = Network(d_in, [Dense(width, "cos", weight=Normal(0, 1.0 / d_in), bias=phase),
                         _readout(1, width, bias=draw(st.booleans()))])
    return SymmetryCase(net, Translations(d_in), Side.INPUT, Expectation.INVARIANT if uniform else Expectation.BROKEN,
                        "Cos-net with a uniform phase" if uniform else "Cos-net with a Gaussian phase", x)


@st.composite
def signed_permutation_cases(draw) -> SymmetryCase:
    """Input signed permutations: any iid symmetric first-layer law (invariant)."""
    d_in = draw(st.integers(2, 3))
    width = draw(st.integers(1, 3))
    law = draw(symmetric_laws(st.just(1.0 / math.sqrt(d_in))))
    x = torch.zeros(2, d_in, dtype=torch.float64)
    x[0, 0], x[1, 1], x[1, 0] = 1.0, 0.8, 0.4
    net = Network(d_in, [Dense(width, draw(st.sampled_from(("erf", "tanh"))), weight=law, bias=Normal(0, 0.3)),
                         _readout(1, width, bias=False)])
    return SymmetryCase(net, SignedPermutations(d_in), Side.INPUT, Expectation.INVARIANT,
                        f"iid symmetric first layer ({type(law).__name__})", x, (2, 4))


def symmetry_cases() -> st.SearchStrategy[SymmetryCase]:
    """Any of the cases above."""
    return st.one_of(output_rotation_cases(), input_rotation_cases(), translation_cases(),
                     signed_permutation_cases())


# ----------------------------------------------------------------------------------------------------
# torch models
# ----------------------------------------------------------------------------------------------------
def tensor_inputs(shape, points=(1, 3), max_abs: float = 1.5) -> st.SearchStrategy[torch.Tensor]:
    """Input points ``(P, *shape)`` (float64), coordinates in ``[-max_abs, max_abs]`` rounded to 1e-3."""
    shape = tuple(int(s) for s in shape)
    size = math.prod(shape)
    coord = st.floats(-max_abs, max_abs, allow_nan=False, allow_infinity=False).map(lambda v: round(v, 3))
    lo, hi = points
    return st.lists(st.lists(coord, min_size=size, max_size=size), min_size=lo, max_size=hi).map(
        lambda rows: torch.tensor(rows, dtype=torch.float64).reshape(len(rows), *shape))


def axis_groups(shape) -> st.SearchStrategy[AxisGroup]:
    """A group acting on one axis of points of ``shape``: cyclic shifts, permutations, sign flips or rotations
    of an axis (counted from the end), sized to that axis."""
    shape = tuple(int(s) for s in shape)
    kinds = (CyclicShifts, TokenPermutations, SignFlips, FeatureRotations)
    return st.builds(lambda kind, axis: kind(shape[axis], axis=axis), st.sampled_from(kinds),
                     st.sampled_from(tuple(range(-len(shape), 0))))


def torch_initialisers() -> st.SearchStrategy:
    """The ``torch.nn.init`` initialisers symcorr reads: the functions and ``functools.partial`` of them with
    drawn arguments (fan modes, nonlinearities, gains, scales)."""
    init = nn.init
    scale = st.floats(0.05, 2.0).map(lambda v: round(v, 3))
    P = functools.partial
    return st.one_of(
        st.sampled_from((init.normal_, init.xavier_normal_, init.xavier_uniform_, init.kaiming_normal_,
                         init.kaiming_uniform_, init.trunc_normal_, init.orthogonal_)),
        st.builds(lambda s: P(init.normal_, std=s), scale),
        st.builds(lambda s: P(init.uniform_, a=-s, b=s), scale),
        st.builds(lambda g: P(init.xavier_normal_, gain=g), scale),
        st.builds(lambda mode, nl: P(init.kaiming_normal_, mode=mode, nonlinearity=nl),
                  st.sampled_from(("fan_in", "fan_out")), st.sampled_from(("relu", "tanh", "linear", "leaky_relu"))),
        st.builds(lambda mode, nl: P(init.kaiming_uniform_, mode=mode, nonlinearity=nl),
                  st.sampled_from(("fan_in", "fan_out")), st.sampled_from(("relu", "tanh", "sigmoid"))),
        st.builds(lambda s: P(init.trunc_normal_, std=s, a=-2 * s, b=2 * s), scale),
        st.builds(lambda g: P(init.orthogonal_, gain=g), scale),
    )


@st.composite
def torch_mlps(draw, d_in=st.integers(1, 3), hidden=st.integers(1, 3), width=st.integers(1, 6),
               d_out=st.integers(1, 2), activations=st.sampled_from(TORCH_ACTIVATIONS),
               bias=st.booleans()) -> nn.Sequential:
    """``nn.Sequential(Linear, act, ..., Linear)`` models that :meth:`symcorr.spec.Network.from_torch`
    reads (torch's default initialisation; combine with :func:`torch_initialisers`)."""
    sizes = [draw(d_in)] + [draw(width) for _ in range(draw(hidden))] + [draw(d_out)]
    layers: list[nn.Module] = []
    with_bias = draw(bias)
    for k, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(a, b, bias=with_bias))
        if k < len(sizes) - 2:
            layers.append(draw(activations)())
    return nn.Sequential(*layers)
