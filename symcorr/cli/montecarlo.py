"""``symcorr montecarlo SPEC``: Monte Carlo correlators with standard errors and the invariance test of
every claim of a spec file, with a progress bar.

Settings come from the spec's ``[montecarlo]`` table (``networks``, ``chunk``, ``seed``, ``inputs``,
``orders``, ``group_samples``, ``alpha``, ``dtype``, ``device``, ``estimator``, ``widths``,
``outputs``); command-line options override them.  Exit status: 0 when every claim's empirical verdict
agrees with its ``expect`` (``undecided`` claims and claims about the infinite-width limit only are
reported, not compared), 1 when one disagrees, 2 on a spec error.  ``--scheduler local:N | ADDRESS``
computes the blocks on a Dask cluster (same numbers bit for bit), ``--checkpoint DIR`` saves them in
``DIR/correlators`` and ``DIR/claim-<i>`` and resumes from there.
"""

from __future__ import annotations

from ..claims import (Agreement, claim_label, claim_test, compare, correlator_estimates, montecarlo_inputs,
                      montecarlo_settings)
from ..distributed import open_client
from ..progress import ProgressBar
from ..runtime import torch_threads
from ..specfile import load_spec
from .cluster_options import add_cluster_options, checkpoint_folder


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
    add_cluster_options(p)
    p.set_defaults(func=run)


def _overrides(args) -> dict:
    keys = ("networks", "chunk", "seed", "orders", "group_samples", "alpha", "estimator", "device")
    return {k: getattr(args, k, None) for k in keys}


def run(args) -> int:
    with torch_threads(args.threads):
        doc = load_spec(args.spec)
        mc = montecarlo_settings(doc, _overrides(args))
        with open_client(args.scheduler) as client:
            return _run(args, doc, mc, client)


def _run(args, doc, mc, client) -> int:
    net = doc.numeric_network()
    x = montecarlo_inputs(net, mc)
    print(f"# Monte Carlo: {doc.title}" + (f"  ({doc.result})" if doc.result else ""))
    print()
    print(f"networks: {mc.networks}, seed: {mc.seed}, estimator: {mc.estimator}, alpha: {mc.alpha}")
    print("inputs:")
    for p, row in enumerate(x.tolist()):
        print(f"  x{p} = ({', '.join(f'{v:.4g}' for v in row)})")
    print()
    print("## Correlators (estimate and standard error)")
    print()
    desc = "neurons" if mc.estimator == "neuron" else "correlators"
    with ProgressBar(mc.networks, desc, disable=args.no_progress) as bar:
        estimates = list(correlator_estimates(doc, net, x, mc, progress=bar, client=client,
                                              checkpoint=checkpoint_folder(args, "correlators")))
    for est in estimates:
        print(est.markdown(max_rows=args.rows))
        print()
    if args.no_claims or not doc.claims:
        return 0
    print("## Claims")
    print()
    disagreements = 0
    for i, claim in enumerate(doc.claims):
        with ProgressBar(mc.networks, claim_label(claim, doc), disable=args.no_progress) as bar:
            outcome = claim_test(claim, doc, net, x, mc, progress=bar, rows=args.rows, client=client,
                                 checkpoint=checkpoint_folder(args, f"claim-{i + 1}"))
        agreement, why = compare(claim, outcome.verdict, statistical=True)
        if agreement is Agreement.NOT_COMPARED:
            status = f"not compared ({why})"
        elif agreement is Agreement.AGREES:
            status = "agrees with the claim"
        else:
            status = "DISAGREES with the claim"
            disagreements += 1
        print(f"### Claim {i + 1}: {claim.group.subs(doc.values)!r} on the {claim.on}s ({claim.correlator}), expected "
              f"{claim.expect}: Monte Carlo says {outcome.verdict}; {status}")
        if claim.note:
            print(f"note: {claim.note}")
        print()
        print(outcome.markdown)
        print()
    print(f"{len(doc.claims) - disagreements} of {len(doc.claims)} claims agree with the Monte Carlo verdict.")
    return 1 if disagreements else 0
