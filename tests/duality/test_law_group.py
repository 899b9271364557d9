"""The exact invariance group of the law (symcorr.duality.law_group) and symmetry_group returning it:
the four cases of issue 13, the constraints each law contributes, maximality (an element outside the
group changes the law), the prover proving it, and a calibrated Monte Carlo cross-check that can fail."""

import math

import pytest
import sympy as sp
import torch

from symcorr import Dense, Laplace, Network, Normal, Uniform, size_symbol, zoo
from symcorr.duality import decide_invariance, prove_invariance, symmetry_group, symmetry_groups
from symcorr.duality import elements as el
from symcorr.duality.catalogue import exact_group
from symcorr.duality.invariance import Multiplication, block_invariance
from symcorr.duality.law_group import ConstraintKind, law_group
from symcorr.groups import (DirectProduct, GeneratedGroup, InvarianceGroup, Orthogonal, SignedPermutations, Stabilizer,
                            trivial_group)
from symcorr.montecarlo import invariance_test
from symcorr.verdicts import ProofVerdict, Side

N = size_symbol("N")
HALF = sp.Rational(1, 2)


def _readout(d, **law):
    return Network(3, [Dense(N, "relu"), Dense(d, weight=Normal(0, 1 / N, **law))])


def test_issue_case_1_a_double_eigenvalue_of_the_readout_covariance():
    net = _readout(3, row_cov=sp.diag(2, 1, 1))
    assert symmetry_group(net, "output", exact=False) == Stabilizer(Orthogonal(3), [1, 0, 0])
    g = symmetry_group(net, "output")
    assert repr(g) == "O(1) x O(2)" and g == InvarianceGroup(3, forms=[sp.diag(2, 1, 1)])
    proof = prove_invariance(net, g, "output")
    assert proof.verdict is ProofVerdict.PROVEN and "O(1) x O(2)" in proof.markdown()


def test_issue_case_4_a_correlated_pair_gives_the_swap_and_minus_one():
    net = _readout(2, row_cov=[[1, HALF], [HALF, 1]])
    g = symmetry_group(net, "output")
    assert repr(g) == "O(1) x O(1)"
    swap = torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=torch.float64)
    assert g.contains(swap) and g.contains(-torch.eye(2, dtype=torch.float64))


def test_the_paper_breaking_initialisation_keeps_the_stabiliser():
    mu = sp.Symbol("mu", real=True)
    net = zoo.relu_net(3, N, 10, readout_mean=[mu] * 3 + [0] * 7, sigma_b1=None)
    lg = law_group(net, "output")
    assert repr(lg.group) == "O(9)" and lg.generic == (mu,)
    assert [c.kind for c in lg.constraints] == [ConstraintKind.FIXED]
    # equal to the catalogue answer, so the catalogue answer is kept
    assert symmetry_group(net, "output") == Stabilizer(Orthogonal(10), [1, 1, 1, 0, 0, 0, 0, 0, 0, 0])


@pytest.mark.parametrize("law, ambient, name", [(Laplace(0, 1), "B", "B(3)"), (Uniform(0, 1), "S", "S(3)")],
                         ids=["symmetric", "asymmetric"])
def test_iid_non_gaussian_laws_give_signed_or_plain_permutations(law, ambient, name):
    net = Network(3, [Dense(N, "relu", weight=law), Dense(2)])
    lg = law_group(net, "input")
    assert lg.group.ambient == ambient and repr(lg.group) == name


def test_a_nonlinear_last_activation_restricts_the_ambient():
    odd = Network(2, [Dense(N, "relu"), Dense(3, "tanh", weight=Normal(0, 1 / N))])
    assert repr(law_group(odd, "output").group) == "B(3)"
    relu = Network(2, [Dense(N, "relu"), Dense(3, "relu", weight=Normal(0, 1 / N))])
    assert repr(law_group(relu, "output").group) == "S(3)"
    assert symmetry_group(odd, "output") == SignedPermutations(3)   # equal to the catalogue answer


def test_bias_and_weight_constraints_intersect():
    net = Network(2, [Dense(N, "erf"), Dense(3, weight=Normal(0, 1 / N, row_cov=sp.diag(2, 1, 1)),
                                             bias=Normal([0, 1, 0], 1))])
    lg = law_group(net, "output")
    assert {c.kind for c in lg.constraints} == {ConstraintKind.FIXED, ConstraintKind.FORM}
    assert repr(lg.group) == "O(1) x O(1)"   # e2 fixed: O(1) on e1 and O(1) on e3


@pytest.mark.parametrize("net, on, reason", [
    (zoo.erf_net(size_symbol("D"), N, 1), "input", "symbolic"),
    (_readout(2, row_cov=[[1, sp.Symbol("r")], [sp.Symbol("r"), 1]]), "output", "symbols"),
    (Network(2, [Dense(N, "erf"), Dense(2, weight=Normal([sp.Symbol("a", real=True), sp.Symbol("b", real=True)], 1 / N))]),
     "output", "independent symbols"),
    (_readout(3, row_cov=[[2, 1, 0], [1, 3, 1], [0, 1, 5]]), "output", "degree 3"),
])
def test_what_cannot_be_computed_is_reported_with_a_reason(net, on, reason):
    lg = law_group(net, on)
    assert lg.group is None and reason in lg.reason
    assert exact_group(net, on) is None


def test_the_exact_group_is_maximal_an_element_outside_changes_the_law():
    net = _readout(3, row_cov=sp.diag(2, 1, 1))
    g = symmetry_group(net, "output")
    outside = sp.Matrix([[sp.Rational(3, 5), -sp.Rational(4, 5), 0], [sp.Rational(4, 5), sp.Rational(3, 5), 0], [0, 0, 1]])
    assert not g.contains(torch.tensor(outside.tolist(), dtype=torch.float64))
    check = block_invariance(net.weight(1), GeneratedGroup(3, (), [outside]), Multiplication.LEFT)
    assert check.status is False and check.witness is not None


def test_parity_from_another_map_enlarges_the_exact_group():
    """W0 has a mean (W0 -> -W0 fails) but erf is odd, there is no hidden bias and W1 is symmetric."""
    net = Network(2, [Dense(N, "erf", weight=Normal(1, 1)), Dense(1, weight=Normal(0, 1 / N))])
    g = symmetry_group(net, "input")
    assert repr(g) == "O(1) x Z2" and g.contains(-torch.eye(2, dtype=torch.float64))
    assert decide_invariance(net, g, "input").verdict is ProofVerdict.PROVEN
    biased = net.replace_layer(1, weight=Normal(HALF, 1 / N))
    g = symmetry_group(biased, "input")   # O(1): the reflection fixing (1, 1), i.e. the swap (= S(2))
    swap = torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=torch.float64)
    assert g.contains(swap) and not g.contains(-torch.eye(2, dtype=torch.float64))


def test_input_output_product_and_antichain():
    net = _readout(3, row_cov=sp.diag(2, 1, 1))
    both = symmetry_group(net, None)
    assert isinstance(both, DirectProduct) and repr(both) == "O(3) x (O(1) x O(2))"
    assert symmetry_group(net, "both") == both
    assert repr(symmetry_group(zoo.cos_net(2, 3, 2), None)) == "O(2) x O(2)"
    maximal = symmetry_groups(net, "output")
    assert [repr(g) for g in maximal] == ["O(1) x O(2)"]
    broken = Network(2, [Dense(3, "erf", weight=Normal([[1, 2], [2, -1], [1, 0]], 1)), Dense(1, weight=Normal(HALF, 1))])
    assert symmetry_group(broken, "input") is None
    assert symmetry_group(broken, None).factors[0] == trivial_group(2)


def test_monte_carlo_confirms_the_exact_group_and_rejects_an_element_outside():
    """Calibrated invariance test (readout estimator, Holm at 1%): samples of O(1) x O(2) are not rejected,
    the rotation mixing the two blocks is (4000 networks)."""
    torch.set_num_threads(1)
    net = Network(3, [Dense(4, "erf"), Dense(3, weight=Normal(0, sp.Rational(1, 4), row_cov=sp.diag(2, 1, 1)))])
    x = torch.tensor([[1.0, 0.0, 0.0], [0.3, -0.5, 0.8]], dtype=torch.float64)
    g = symmetry_group(net, "output")
    ok = invariance_test(net, g, "output", x, orders=(2,), networks=4000, group_samples=4, seed=1)
    assert ok.invariant
    c, s = 0.6, 0.8
    outside = torch.tensor([[c, -s, 0], [s, c, 0], [0, 0, 1]], dtype=torch.float64)
    bad = invariance_test(net, Orthogonal(3), "output", x, orders=(2,), networks=4000, elements=outside, seed=1)
    assert bad.rejected
