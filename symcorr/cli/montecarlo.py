"""``symcorr montecarlo SPEC``: Monte Carlo correlators with standard errors and the invariance test of
every claim of a spec file, with a progress bar.

Settings come from the spec's ``[montecarlo]`` table (``networks``, ``chunk``, ``seed``, ``inputs``,
``orders``, ``group_samples``, ``alpha``, ``dtype``, ``device``, ``estimator``, ``widths``,
``outputs``); command-line options override them.  Exit status: 0 when every claim's empirical verdict
agrees with its ``expect`` (``undecided`` claims and claims about the infinite-width limit only are
reported, not compared), 1 when one disagrees, 2 on a spec error.
"""

from __future__ import annotations

import sys

import torch

from ..errors import SpecError
from ..rng import child_seed, make_generator
from ..specfile import load_spec

DEFAULTS = {"networks": 20000, "seed": 0, "orders": [2, 4], "group_samples": 4, "alpha": 0.01,
            "estimator": "auto", "dtype": "float64", "device": "auto"}


def register(sub) -> None:
    p = sub.add_parser(
        "montecarlo", help="estimate correlators and test each claim of a spec by Monte Carlo",
        description="Estimate the n-point functions of the spec's network at its [montecarlo] inputs (with "
                    "standard errors) and run the invariance test of every claim (paired z-scores, Holm "
                    "correction). Exit status 1 when an empirical verdict disagrees with a claim.")
    p.add_argument("spec", metavar="SPEC", help="TOML spec file")
    p.add_argument("--networks", type=int, help="ensemble size (overrides [montecarlo] networks)")
    p.add_argument("--chunk", type=int, help="networks per chunk (memory bound)")
    p.add_argument("--seed", type=int, help="seed (overrides [montecarlo] seed)")
    p.add_argument("--orders", type=int, nargs="+", help="correlator orders to print")
    p.add_argument("--group-samples", type=int, help="Haar-sampled group elements per claim")
    p.add_argument("--alpha", type=float, help="family-wise significance level (Holm)")
    p.add_argument("--estimator", choices=["auto", "direct", "readout", "neuron"],
                   help="auto (integrate a Gaussian read-out out when possible), direct, readout, or neuron "
                        "(single-hidden-layer nets: single-neuron moments, exact at every width)")
    p.add_argument("--device", help="cpu, cuda or auto")
    p.add_argument("--threads", type=int, help="torch intra-op threads (e.g. 1 on a shared, loaded machine)")
    p.add_argument("--rows", type=int, default=12, help="table rows to print per correlator (default 12)")
    p.add_argument("--no-claims", action="store_true", help="only estimate the correlators")
    p.add_argument("--no-progress", action="store_true", help="do not draw progress bars")
    p.set_defaults(func=run)


def montecarlo_settings(doc, args) -> dict:
    """The [montecarlo] settings of a spec with defaults and command-line overrides (``args``), validated."""
    mc = dict(DEFAULTS)
    mc.update({k: v for k, v in doc.montecarlo.items() if v is not None})
    for key in ("networks", "chunk", "seed", "orders", "group_samples", "alpha", "estimator", "device"):
        value = getattr(args, key, None)
        if value is not None:
            mc[key] = value
    for key in ("networks", "chunk", "group_samples"):
        if key in mc and (not isinstance(mc[key], int) or mc[key] < 1):
            raise SpecError(f"{key} must be a positive integer, got {mc[key]!r}", key)
    if not isinstance(mc["seed"], int) or mc["seed"] < 0:
        raise SpecError(f"seed must be a non-negative integer, got {mc['seed']!r}", "seed")
    if not 0 < float(mc["alpha"]) < 1:
        raise SpecError(f"alpha must be in (0, 1), got {mc['alpha']!r}", "alpha")
    if mc["estimator"] not in ("auto", "direct", "readout", "neuron"):
        raise SpecError(f"unknown estimator {mc['estimator']!r}; use auto, direct, readout or neuron",
                        "montecarlo.estimator")
    dtypes = {"float64": torch.float64, "float32": torch.float32}
    if mc["dtype"] not in dtypes:
        raise SpecError(f"dtype must be float64 or float32, got {mc['dtype']!r}", "montecarlo.dtype")
    mc["torch_dtype"] = dtypes[mc["dtype"]]
    return mc


def montecarlo_inputs(doc, net, mc) -> torch.Tensor:
    """The spec's [montecarlo] inputs, or three seeded Gaussian points when it gives none."""
    if "inputs" in mc:
        return torch.tensor(mc["inputs"], dtype=torch.float64)
    d = int(net.input_dim)
    gen = make_generator(child_seed(mc["seed"], 2))
    return torch.randn((3, d), generator=gen, dtype=torch.float64)


class _Bar:
    """A tqdm progress bar over networks (or a no-op)."""

    def __init__(self, total, desc, disable):
        self.bar = None
        if not disable:
            from tqdm import tqdm
            self.bar = tqdm(total=total, desc=desc, unit="net", unit_scale=True, file=sys.stderr, leave=False)

    def __call__(self, n):
        if self.bar is not None:
            self.bar.update(n)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _correlators(doc, net, x, mc, args):
    from ..montecarlo import NeuronLevelEstimator, estimate_correlators
    orders = list(mc["orders"])
    outputs = mc.get("outputs")
    if mc["estimator"] == "neuron":
        widths = mc.get("widths") or [int(net.layers[0].width)]
        width_symbol = doc.network.layers[0].width
        # keep the hidden width symbolic so that the read-out law can be evaluated at every width
        symbolic = doc.network.subs({s: v for s, v in doc.values.items() if s != width_symbol})
        bar = _Bar(mc["networks"], "neurons", args.no_progress)
        try:
            est = NeuronLevelEstimator(symbolic, x, max(orders), neurons=mc["networks"], seed=mc["seed"],
                                       chunk=mc.get("chunk"), device=mc["device"], dtype=mc["torch_dtype"],
                                       progress=bar)
        finally:
            bar.close()
        for w in widths:
            for n in orders:
                yield est.correlator(n, width=int(w), outputs=outputs)
        return
    bar = _Bar(mc["networks"], "correlators", args.no_progress)
    try:
        results = estimate_correlators(net, x, orders, networks=mc["networks"], seed=mc["seed"],
                                       chunk=mc.get("chunk"), estimator=mc["estimator"], outputs=outputs,
                                       device=mc["device"], dtype=mc["torch_dtype"], progress=bar)
    finally:
        bar.close()
    yield from results.values()


def claim_test(claim, doc, net, x, mc, args):
    """Monte Carlo test of one claim (NTK claims via symcorr.ntk): ``(verdict, markdown report)``."""
    group = claim.group.subs(doc.values)  # e.g. SO(D) -> SO(3)
    if claim.correlator == "ntk":
        from ..ntk import ntk_invariance_test
        orders = [n for n in claim.orders if n in (1, 2)] or [1, 2]
        result = ntk_invariance_test(net, group, claim.on, x, networks=min(mc["networks"], 20000),
                                     seed=mc["seed"], group_samples=mc["group_samples"], orders=orders,
                                     alpha=float(mc["alpha"]), dtype=mc["torch_dtype"], device=mc["device"])
        return result.verdict, result.markdown()
    from ..montecarlo import invariance_test
    estimator = "auto" if mc["estimator"] == "neuron" else mc["estimator"]
    bar = _Bar(mc["networks"], f"{group!r} on {claim.on}s", args.no_progress)
    try:
        result = invariance_test(net, group, claim.on, x, orders=claim.orders, networks=mc["networks"],
                                 seed=mc["seed"], chunk=mc.get("chunk"), group_samples=mc["group_samples"],
                                 alpha=float(mc["alpha"]), estimator=estimator, outputs=mc.get("outputs"),
                                 device=mc["device"], dtype=mc["torch_dtype"], progress=bar)
    finally:
        bar.close()
    return result.verdict, result.markdown(top=args.rows)


def run(args) -> int:
    if args.threads is not None:
        if args.threads < 1:
            raise SpecError(f"--threads must be a positive integer, got {args.threads}")
        torch.set_num_threads(args.threads)
    doc = load_spec(args.spec)
    mc = montecarlo_settings(doc, args)
    net = doc.numeric_network()
    x = montecarlo_inputs(doc, net, mc)
    if x.ndim != 2 or x.shape[1] != int(net.input_dim):
        raise SpecError(f"inputs must have {net.input_dim} coordinates each", "montecarlo.inputs")
    print(f"# Monte Carlo: {doc.title}" + (f"  ({doc.result})" if doc.result else ""))
    print()
    print(f"networks: {mc['networks']}, seed: {mc['seed']}, estimator: {mc['estimator']}, alpha: {mc['alpha']}")
    print("inputs:")
    for p, row in enumerate(x.tolist()):
        print(f"  x{p} = ({', '.join(f'{v:.4g}' for v in row)})")
    print()
    print("## Correlators (estimate and standard error)")
    print()
    for est in _correlators(doc, net, x, mc, args):
        print(est.markdown(max_rows=args.rows))
        print()
    if args.no_claims or not doc.claims:
        return 0
    print("## Claims")
    print()
    disagreements = 0
    for i, claim in enumerate(doc.claims):
        verdict, report = claim_test(claim, doc, net, x, mc, args)
        if claim.expect == "undecided" or not claim.finite_width:
            status = "not compared (" + ("expectation undecided" if claim.expect == "undecided"
                                         else "claim concerns the infinite-width limit") + ")"
        elif claim.expect == verdict:
            status = "agrees with the claim"
        else:
            status = "DISAGREES with the claim"
            disagreements += 1
        print(f"### Claim {i + 1}: {claim.group.subs(doc.values)!r} on the {claim.on}s ({claim.correlator}), expected "
              f"{claim.expect}: Monte Carlo says {verdict}; {status}")
        if claim.note:
            print(f"note: {claim.note}")
        print()
        print(report)
        print()
    print(f"{len(doc.claims) - disagreements} of {len(doc.claims)} claims agree with the Monte Carlo verdict.")
    return 1 if disagreements else 0
