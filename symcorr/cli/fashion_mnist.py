"""``symcorr fashion-mnist``: the paper's Fig. 1 symmetry-breaking sweep on real Fashion-MNIST."""

from __future__ import annotations

from ..experiments import fashion_mnist


def register(sub) -> None:
    p = sub.add_parser(
        "fashion-mnist", help="Fashion-MNIST symmetry-breaking sweep (paper Fig. 1)",
        description="Train 784-50-10 ReLU nets whose read-out rows 0..k-1 start with mean mu; one-hot "
                    "heatmap over (mu, k) and the one-cold line at k = 10. Many models are trained at "
                    "once (vectorised). Writes CSV/Markdown tables, PNG figures and .npz results.")
    fashion_mnist.add_arguments(p)
    p.set_defaults(func=fashion_mnist.run_from_args)
