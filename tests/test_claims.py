"""symcorr.claims: the symmetry-group section of the derive report (catalogue answer next to the exact
invariance group of the law, its derivation, structure and proof status)."""

from pathlib import Path

from symcorr.claims import MAX_GROUP_DIMENSION, derive_report, symmetry_group_texts
from symcorr.specfile import load_spec

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
