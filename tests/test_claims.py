"""symcorr.claims: the one place the CLI and reproduce check claims, and the symmetry-group section of
the derive report (catalogue answer next to the exact invariance group of the law)."""

import textwrap
import tomllib
from pathlib import Path

from symcorr import zoo
from symcorr.claims import (MAX_GROUP_DIMENSION, Agreement, claim_test, compare, derive_report, montecarlo_inputs,
                            montecarlo_settings, symmetry_group_texts)
from symcorr.montecarlo.invariance import independent_estimator
from symcorr.specfile import load_spec, parse_spec

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


ROOT = Path(__file__).resolve().parent.parent


def test_the_breaking_initialisation_shows_the_stabiliser_and_the_exact_o9():
    doc = load_spec(ROOT / "derivations" / "r4_symmetry_breaking.toml")
    inputs, outputs = symmetry_group_texts(doc)
    assert inputs.startswith("**Inputs.** catalogue: `O(3)`") and "`O(3)`, proven by the prover" in inputs
    assert "catalogue: `Stab(O(10), [1, 1, 1, 0, 0, 0, 0, 0, 0, 0])`" in outputs
    assert "`O(9)`, proven by the prover" in outputs and "so(9), dimension 36" in outputs
    assert r"$\mu \ne 0$" in outputs   # the group for generic values of the symbol


def test_an_anisotropic_first_layer_reports_the_sign_flips_the_catalogue_misses():
    doc = load_spec(ROOT / "derivations" / "r2_input_anisotropic.toml")
    inputs = symmetry_group_texts(doc)[0]
    assert "catalogue: nothing non-trivial proven" in inputs
    assert "`symmetry_group` reports `O(1) x O(1) x O(1)`" in inputs


def test_large_dimensions_are_skipped_and_both_formats_carry_the_section():
    doc = load_spec(ROOT / "derivations" / "fashion_mnist.toml")
    assert f"Dimension 784 > {MAX_GROUP_DIMENSION}" in symmetry_group_texts(doc)[0]
    doc = load_spec(ROOT / "derivations" / "r2_input_so3_erf.toml")
    md = derive_report(doc, orders=(2,))
    assert "## Symmetry groups" in md and "**Outputs.** catalogue: `O(2)`" in md
    tex = derive_report(doc, "tex", orders=(2,))
    assert r"\subsection*{Symmetry groups}" in tex and all(ord(ch) < 128 for ch in tex)


def _invariant_section(md: str) -> str:
    return md.split("## Correlators in invariant form", 1)[1].split("## Claims", 1)[0]


def test_the_derive_report_of_the_gauss_translation_spec_shows_the_distance_form():
    """R3: G2 of the Gauss-net is a function of (x_1 - x_2)^2 at every width (printed as such), G4 is not (a
    witness translation moves it)."""
    from symcorr.reproduce.claims_section import derivation_markdown

    doc = load_spec(ROOT / "derivations" / "r3_gauss_translations.toml")
    md = derive_report(doc)
    section = _invariant_section(md)
    assert "### T(1) on inputs: the squared distances" in section
    two, four = section.split("**2-point function.**")[1].split("**4-point function.**")
    assert "In the squared distances $(x_i - x_j)^2$ only" in two
    assert r"k_{12} &= e^{- \frac{\left(x_{1} - x_{2}\right)^{2}}{8}}" in two
    assert four.strip().startswith("No form in the squared distances") and "Witness:" in four
    assert "the translation by" in four and r"\left(x_{1}" not in four
    assert max(len(line) for line in section.splitlines()) < 1000
    assert derivation_markdown(doc) == md  # the reproduce spec page is this report
    tex = derive_report(doc, "tex")
    assert r"\subsection*{Correlators in invariant form}" in tex and all(ord(ch) < 128 for ch in tex)
    assert r"e^{- \frac{\left(x_{1} - x_{2}\right)^{2}}{8}}" in tex


def test_the_derive_report_shows_inner_products_for_rotations_and_no_distance_form_for_the_erf_net():
    doc = load_spec(ROOT / "derivations" / "r2_input_so3_erf.toml")
    section = _invariant_section(derive_report(doc, orders=(2,)))
    rotations, translations = section.split("### SO(D) on inputs, O(D) on inputs: the inner products")[1].split(
        "### T(D) on inputs: the squared distances")
    assert "In the inner products $x_i^T x_j$ only" in rotations and r"\operatorname{asin}" in rotations
    assert "No form in the squared distances" in translations and "Witness:" in translations
    assert "$$" not in translations  # no form is printed where there is none
    assert max(len(line) for line in section.splitlines()) < 1000
    outputs_only = derive_report(load_spec(ROOT / "derivations" / "r1_output_so5_gaussnet.toml"), orders=(2,))
    assert "## Correlators in invariant form" not in outputs_only  # output claims: nothing to rewrite


def test_claim_evidence_runs_the_calibrated_test_at_the_smaller_budget_or_says_why_not():
    import dataclasses

    import pytest

    from symcorr.claims import claim_evidence
    from symcorr.errors import SpecError

    doc = parse_spec(tomllib.loads(SPEC))
    claim = doc.claims[0]
    evidence = claim_evidence(doc, claim, networks=1000)
    assert evidence.test is not None and evidence.test.result.networks == 1000   # min(spec's 3000, 1000)
    assert evidence.summary().startswith(f"{evidence.test.verdict} (max|z| = ")
    assert claim_evidence(doc, claim, networks=10 ** 6).test.result.networks == 3000
    gp = claim_evidence(doc, dataclasses.replace(claim, finite_width=False))
    assert gp.test is None and "infinite-width limit" in gp.summary()
    with pytest.raises(SpecError, match="evidence"):
        claim_evidence(doc, claim, networks=0)
    symbolic = parse_spec(tomllib.loads(SPEC.replace("width = 6", 'width = "N"').replace(
        'title = "output rotations"', 'title = "output rotations"\n[symbols]\nN = "positive integer"')))
    missing = claim_evidence(symbolic, symbolic.claims[0])
    assert missing.test is None and missing.summary().startswith("not run:") and "N" in missing.reason
