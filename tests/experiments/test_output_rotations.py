"""The SO(5) width scan (paper section 6.2) on a small budget."""

import math

import pytest
import torch

from symcorr import size_symbol
from symcorr.experiments.output_rotations import _rotate, plot_variation_measures, run_output_rotations
from symcorr.groups import SpecialOrthogonal
from symcorr.rng import make_generator
from symcorr.zoo import erf_net, gauss_net


def test_rotate_applies_rho_on_every_output_axis():
    rho = SpecialOrthogonal(3).sample(2, make_generator(0))
    g = torch.randn(2, 3, 3, 3, 3, generator=make_generator(1), dtype=torch.float64)
    out = _rotate(g, rho, 4)
    want = torch.einsum("ia,jb,kc,ld,pabcd->pijkl", rho[1], rho[1], rho[1], rho[1], g)
    assert torch.allclose(out[1], want)


def test_width_scan_matches_exact_g4_and_accepts_invariance(tmp_path):
    N = size_symbol("N")
    net = gauss_net(1, N, 3, sigma_w0=0.5, sigma_b0=0.5)
    res = run_output_rotations(net, N, [4, 40], [[-0.2], [0.1]], networks=20000, seed=3, group_samples=3)
    for r in res:
        assert r.verdict == "invariant"
        for (est, se), exact in ((r.g4_aaaa, r.exact_aaaa), (r.g4_aabb, r.exact_aabb)):
            assert abs(est - exact) < 4 * se  # 4 standard errors
        assert r.exact_aaaa == pytest.approx(3 * r.exact_aabb)  # isotropy of the exact tensor
        assert all(v[1] < 3 * v[2] for v in r.variation.values())
    assert res[0].exact_aaaa > res[1].exact_aaaa  # the 1/N term
    path = plot_variation_measures(res, tmp_path / "v.png")
    assert path.stat().st_size > 1000


def test_width_scan_rejects_a_readout_mean():
    N = size_symbol("N")
    net = erf_net(1, N, 3, readout_mean=[0.5, 0, 0])
    res = run_output_rotations(net, N, [4], [[-0.2], [0.1]], networks=5000, seed=3, group_samples=3)
    assert res[0].verdict == "broken" and res[0].p_value < 1e-6
    assert math.isfinite(res[0].max_z)
