"""Reference values of deep infinite-width kernels from an independent library (neural-tangents).

Writes ``tests/deep/data/peer_kernels.json``: NNGP and NTK values of fully connected networks (ReLU, Erf;
3 to 5 layers; NTK and standard parameterisations) at fixed seeded points, computed by
neural-tangents' analytic ``kernel_fn`` in float64.  symcorr's tests compare its own recursions with
these numbers; the script is not run by the tests (neural-tangents needs JAX, which symcorr does not
depend on).  Run it where ``neural_tangents`` imports (e.g. neural-tangents 0.6.5 with jax/jaxlib 0.4.30
in a separate virtual environment): ``python benchmarks/peer_reference.py``.

Conventions (neural-tangents ``stax.Dense``): NTK parameterisation
:math:`z = (\\sigma_W/\\sqrt{n})\\,W h + \\sigma_b b` with standard normal ``W, b``, i.e. symcorr's
``Normal(0, sigma_w**2 / fan_in)`` weights and ``Normal(0, sigma_b**2)`` biases; standard
parameterisation with the same laws, the NTK taken with respect to ``W`` and ``b`` themselves.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "tests" / "deep" / "data" / "peer_kernels.json"

CASES = [
    {"activation": "relu", "hidden": 3, "width": 256, "w_std": 1.4, "b_std": 0.3, "parameterization": "ntk"},
    {"activation": "relu", "hidden": 5, "width": 512, "w_std": 1.4142135623730951, "b_std": 0.1,
     "parameterization": "ntk"},
    {"activation": "erf", "hidden": 3, "width": 128, "w_std": 1.2, "b_std": 0.5, "parameterization": "ntk"},
    {"activation": "erf", "hidden": 2, "width": 64, "w_std": 1.0, "b_std": 1.0, "parameterization": "ntk"},
    {"activation": "relu", "hidden": 3, "width": 64, "w_std": 1.4, "b_std": 0.3, "parameterization": "standard"},
    {"activation": "erf", "hidden": 2, "width": 32, "w_std": 1.0, "b_std": 0.7, "parameterization": "standard"},
]


def main() -> None:
    import jax

    jax.config.update("jax_enable_x64", True)
    import neural_tangents as nt
    from neural_tangents import stax

    rng = np.random.default_rng(20261201)
    x = rng.normal(size=(5, 3))
    y = rng.normal(size=(4, 3))
    out = {"library": f"neural-tangents {nt.__version__}, jax {jax.__version__}", "x": x.tolist(), "y": y.tolist(),
           "cases": []}
    for case in CASES:
        act = {"relu": stax.Relu(), "erf": stax.Erf()}[case["activation"]]
        layers = []
        for _ in range(case["hidden"]):
            layers += [stax.Dense(case["width"], W_std=case["w_std"], b_std=case["b_std"],
                                  parameterization=case["parameterization"]), act]
        layers.append(stax.Dense(1, W_std=case["w_std"], b_std=case["b_std"], parameterization=case["parameterization"]))
        _, _, kernel_fn = stax.serial(*layers)
        k = kernel_fn(x, y, ("nngp", "ntk"))
        out["cases"].append({**case, "nngp": np.asarray(k.nngp).tolist(), "ntk": np.asarray(k.ntk).tolist()})
    # the timing the issue quotes: a 5-layer ReLU NNGP + NTK on a 1000 x 1000 grid of pairs
    layers = []
    for _ in range(5):
        layers += [stax.Dense(512, W_std=2 ** 0.5, b_std=0.1), stax.Relu()]
    _, _, kernel_fn = stax.serial(*layers, stax.Dense(1, W_std=1.0, b_std=0.1))
    big = rng.normal(size=(1000, 8))
    kernel_fn(big, big, ("nngp", "ntk")).ntk.block_until_ready()
    t0 = time.perf_counter()
    kernel_fn(big, big, ("nngp", "ntk")).ntk.block_until_ready()
    out["timing_5layer_relu_1000x1000_s"] = time.perf_counter() - t0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({out['timing_5layer_relu_1000x1000_s']:.3f} s for the 1000 x 1000 grid)")


if __name__ == "__main__":
    main()
