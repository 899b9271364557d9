"""Notebook display: user-facing objects render as Markdown/LaTeX and have short one-line reprs."""

import pytest
import torch

from symcorr import zoo
from symcorr.duality import prove_invariance
from symcorr.montecarlo import estimate_correlators, invariance_test
from symcorr.ntk import ntk_invariance_test, ntk_moments
from symcorr.symbolic import correlator

NET = zoo.erf_net(2, 4, 2)
X = torch.tensor([[1.0, 0.0], [0.3, 0.5]], dtype=torch.float64)

OBJECTS = {
    "network": lambda: NET,
    "proof": lambda: prove_invariance(NET, "SO", "output"),
    "correlator": lambda: correlator(NET, 2),
    "invariance test": lambda: invariance_test(NET, "SO", "output", X, networks=200, orders=(2,), group_samples=1),
    "estimate": lambda: estimate_correlators(NET, X, (2,), networks=200)[2],
    "NTK moments": lambda: ntk_moments(NET, X, networks=200, seed=0),
    "NTK test": lambda: ntk_invariance_test(NET, "SO", "output", X, networks=200, seed=0, group_samples=1, orders=(1,)),
}


@pytest.mark.parametrize("name", sorted(OBJECTS))
def test_rich_display_and_a_short_repr(name):
    obj = OBJECTS[name]()
    rich = [getattr(obj, m)() for m in ("_repr_markdown_", "_repr_latex_", "_repr_html_") if hasattr(obj, m)]
    assert rich and all(isinstance(r, str) and r for r in rich)
    text = repr(obj)
    assert "\n" not in text and len(text) < 300 and "tensor(" not in text
