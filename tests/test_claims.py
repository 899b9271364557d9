"""symcorr.claims: the one place the CLI and reproduce check claims."""

import textwrap

import pytest
import torch

from symcorr import zoo
from symcorr.claims import Agreement, claim_test, compare, montecarlo_inputs, montecarlo_settings
from symcorr.montecarlo.invariance import independent_estimator
from symcorr.specfile import parse_spec
import tomllib

SPEC = textwrap.dedent("""
    title = "output rotations"
    [network]
    input_dim = 2
    [[network.layers]]
    width = 6
    activation = "erf"
    weight = { law = "normal", var = "1/2" }
    [[network.layers]]
    width = 3
    weight = { law = "normal", var = "1/6" }
    [[claims]]
    group = "SO"
    on = "output"
    expect = "invariant"
    orders = [2]
    [montecarlo]
    networks = 3000
    seed = 2
    group_samples = 2
    inputs = [[1, 0], [0.4, -0.7]]
""")


def test_auto_never_integrates_out_the_block_the_group_acts_on():
    deep, shallow = zoo.erf_net(2, 4, 3), zoo.erf_net(2, 4, 3).replace_layer(0, activation="identity")
    assert independent_estimator(deep, "output", "auto") == "direct"
    assert independent_estimator(deep, "input", "auto") == "auto"
    single = zoo.erf_net(2, 4, 3)
    from symcorr import Dense, Network, Normal
    one_layer = Network(2, [Dense(3, weight=Normal(0, 1))])
    assert independent_estimator(one_layer, "input", "auto") == "direct"
    assert independent_estimator(single, "output", "readout") == "readout"  # an explicit choice is kept
    assert shallow.depth == 2


def test_an_output_claim_is_checked_by_direct_sampling_with_the_reduced_estimate_shown():
    doc = parse_spec(tomllib.loads(SPEC))
    settings = montecarlo_settings(doc)
    net = doc.numeric_network()
    outcome = claim_test(doc.claims[0], doc, net, montecarlo_inputs(net, settings), settings)
    assert outcome.result.estimator == "direct" and outcome.verdict == "invariant"
    assert outcome.variance_reduced is not None and outcome.variance_reduced.estimator == "readout"
    assert outcome.variance_reduced.statistic < 0.1 < 0.5 < outcome.result.statistic  # rounding level vs noise
    assert "Shown, not a check" in outcome.markdown
    assert compare(doc.claims[0], outcome.verdict, statistical=True)[0] is Agreement.AGREES
