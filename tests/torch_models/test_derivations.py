"""The headline derivation (derivations/torch_mlp_*.toml): a default-initialised torch MLP is invariant
under signed permutations of its inputs but not rotations (the witness is a fourth cumulant), while
kaiming_normal_ or orthogonal_ on the first layer restores SO(D).  Proof and Monte Carlo, both.

Statistical checks (fixed seeds): the claims' Monte Carlo tests at the reproduce budget (a fifth of each
spec's networks, Holm at the spec's alpha = 0.01); closed forms against the exact quadrature engine to 1e-6
and against Monte Carlo within 4.5 standard errors.
"""

import functools
import math
from pathlib import Path

import pytest
import sympy as sp
import torch
import torch.nn as nn

from symcorr import Network
from symcorr.claims import claim_test, compare, montecarlo_inputs, montecarlo_settings, prove_claim, Agreement
from symcorr.duality import symmetry_group
from symcorr.duality.moments import TwoLayerModel
from symcorr.groups import Orthogonal, SignedPermutations
from symcorr.montecarlo import TorchModel, invariance_test
from symcorr.specfile import load_spec

DERIVATIONS = Path(__file__).resolve().parents[2] / "derivations"
FILES = {"torch_mlp_default.toml": None, "torch_mlp_kaiming.toml": {0: nn.init.kaiming_normal_},
         "torch_mlp_orthogonal.toml": {0: nn.init.orthogonal_}}
C45 = math.sqrt(0.5)
ROT45 = torch.tensor([[[C45, -C45], [C45, C45]]], dtype=torch.float64)


def _mlp(width: int, d_in: int = 2):
    return nn.Sequential(nn.Linear(d_in, width), nn.ReLU(), nn.Linear(width, 1))


@pytest.mark.parametrize("name", sorted(FILES))
def test_each_spec_file_is_the_torch_model(name):
    doc = load_spec(DERIVATIONS / name)
    width = int(doc.numeric_network().widths[0])
    read = Network.from_torch(_mlp(width), init=FILES[name])
    assert read.layers == doc.numeric_network().layers


@pytest.mark.parametrize("name", sorted(FILES))
def test_claims_proof_and_monte_carlo(name):
    """Every claim: the proof's verdict and the calibrated Monte Carlo test (reproduce's quick budget) agree
    with its expectation."""
    doc = load_spec(DERIVATIONS / name)
    settings = montecarlo_settings(doc, {"device": "cpu"}).scaled(0.2, minimum=5000, max_group_samples=8)
    net = doc.numeric_network()
    x = montecarlo_inputs(net, settings)
    for claim in doc.claims:
        proof = prove_claim(doc, claim)
        assert compare(claim, proof.expectation, statistical=False)[0] is Agreement.AGREES, (name, claim, proof.verdict)
        outcome = claim_test(claim, doc, net, x, settings)
        assert compare(claim, outcome.verdict, statistical=True)[0] is Agreement.AGREES, (name, outcome.summary)


def test_the_largest_input_symmetry_groups():
    default = load_spec(DERIVATIONS / "torch_mlp_default.toml").network
    assert symmetry_group(default, "input") == SignedPermutations(2)
    for name in ("torch_mlp_kaiming.toml", "torch_mlp_orthogonal.toml"):
        assert symmetry_group(load_spec(DERIVATIONS / name).network, "input") == Orthogonal(2)


def _kappa4_closed_form(x, width: int, d_in: int) -> sp.Expr:
    r"""kappa_4(f(x)) = [(13/60)(E z^2)^2 + kappa_4(z)/10]/N - 2/(15 N^2) for torch's default ReLU MLP."""
    x = [sp.nsimplify(v) for v in x]
    ez2 = (sum(v ** 2 for v in x) + 1) / (3 * d_in)
    k4w = -sp.Rational(2, 15) / d_in ** 2
    k4z = k4w * sum(v ** 4 for v in x) + k4w
    return (sp.Rational(13, 60) * ez2 ** 2 + k4z / 10) / width - sp.Rational(2, 15) / width ** 2


@pytest.mark.parametrize("width", [1, 2, 3])
def test_the_fourth_cumulant_witness_in_closed_form(width):
    """The derivation's closed forms against the exact engine (product Gauss quadrature over the uniform laws):
    G2(x, x) is rotation invariant, kappa_4(f(x)) is the formula, and G4(x) - G4(Rx) = -(|x|_4^4 - |Rx|_4^4)/(75 N D^2)."""
    net = Network.from_torch(_mlp(width))
    model = TwoLayerModel(net)
    x = [sp.Integer(4), sp.Integer(0)]
    rx = [2 * sp.sqrt(2), 2 * sp.sqrt(2)]  # the 45 degree rotation of x

    def value(points):
        return float(model.correlator([list(p) for p in points]).num.real)

    g2, g2r = value([x, x]), value([rx, rx])
    g4, g4r = value([x] * 4), value([rx] * 4)
    assert g2 == pytest.approx(g2r, rel=1e-8)
    assert g4 - 3 * g2 ** 2 == pytest.approx(float(_kappa4_closed_form(x, width, 2)), rel=1e-6)
    assert g4r - 3 * g2r ** 2 == pytest.approx(float(_kappa4_closed_form(rx, width, 2)), rel=1e-6)
    want = -(256 - 128) / (75 * width * 4)
    assert g4 - g4r == pytest.approx(want, rel=1e-6)


def test_the_torch_model_itself_shows_the_witness():
    """The torch modules (torch's own reset_parameters, re-run in place with the global RNG forked and seeded)
    at width 1: G4(x) - G4(Rx) at x = (4, 0) matches -32/75 within 4.5 s.e. and is rejected as invariant; with
    kaiming_normal_ on the first weight the same test does not reject."""
    def torch_default(module, generator):
        for layer in module:
            if hasattr(layer, "reset_parameters"):
                layer.reset_parameters()

    def kaiming(module, generator):
        torch_default(module, generator)
        nn.init.kaiming_normal_(module[0].weight, generator=generator)

    x = torch.tensor([[4.0, 0.0]], dtype=torch.float64)
    kw = dict(orders=(4,), elements=ROT45, seed=3, device="cpu")
    default = invariance_test(TorchModel(_mlp(1), torch_default, input_shape=(2,)), "SO", "input", x, networks=40000,
                              **kw)
    assert default.verdict == "broken"
    diff, se = float(default.difference[0]), float(default.se[0])
    assert abs(diff - (-32 / 75)) < 4.5 * se
    restored = invariance_test(TorchModel(_mlp(1), kaiming, input_shape=(2,)), "SO", "input", x, networks=10000, **kw)
    assert restored.verdict == "invariant"


def test_an_orthogonal_first_layer_of_any_width():
    """orthogonal_ is semi-orthogonal for every width (N < D: orthonormal rows): the law step holds and the
    Monte Carlo test of SO(D) does not reject, at D = 3 and N = 2."""
    from symcorr.duality import prove_invariance

    net = Network.from_torch(_mlp(2, d_in=3), init={0: functools.partial(nn.init.orthogonal_, gain=2.0)})
    assert prove_invariance(net, "SO", "input").verdict == "proven"
    x = torch.tensor([[2.0, 0.0, 0.0], [0.5, -1.0, 1.5]], dtype=torch.float64)
    r = invariance_test(net, "SO", "input", x, orders=(2, 4), networks=40000, seed=4, estimator="direct", device="cpu")
    assert r.verdict == "invariant"
