"""The witness search: engines that decline say nothing; engines that fail (raise, or return NaN) are
recorded, not asked again, shown in the proof, and never decide the verdict."""

import math

import pytest
import sympy as sp

from symcorr import Normal, size_symbol, zoo
from symcorr.duality import prove_invariance
from symcorr.duality import witness as wmod
from symcorr.duality.moments import Value
from symcorr.groups import SpecialOrthogonal
from symcorr.verdicts import StepStatus

N = size_symbol("N")
#: refuted by an exact G^(2) witness (anisotropic first-layer columns), with both engines able to compute it
ANISO = zoo.erf_net(2, 3, 1).replace_layer(0, weight=Normal(0, 1, col_cov=[[2, 0], [0, 1]]))


def _raise(exc):
    def fn(*args, **kwargs):
        raise exc
    return fn


def test_a_witness_and_no_failures_normally():
    search = wmod.witness_search(ANISO, SpecialOrthogonal(2), "input", orders=(2,))
    assert search.witness is not None and search.failures == []
    assert search.witness.engine == wmod.OWN_ENGINE


def test_each_engine_alone_finds_the_witness():
    own = wmod.witness_search(ANISO, SpecialOrthogonal(2), "input", orders=(2,), use_symbolic=False)
    assert own.witness is not None and own.witness.engine == wmod.OWN_ENGINE


def test_a_failing_engine_is_recorded_once_and_not_asked_again(monkeypatch):
    calls = []

    def broken(self, points, indices):
        calls.append(points)
        raise ZeroDivisionError("injected")

    monkeypatch.setattr(wmod._OwnEngine, "correlator", broken)
    search = wmod.witness_search(ANISO, SpecialOrthogonal(2), "input", orders=(2,))
    assert len(calls) == 1
    assert [(f.engine, f.reason) for f in search.failures] == [(wmod.OWN_ENGINE, "ZeroDivisionError: injected")]
    # the other engine still answers, exactly
    assert search.witness is not None and search.witness.engine == "symcorr.symbolic"


def test_every_engine_failing_leaves_the_proof_undecided_with_the_reasons(monkeypatch):
    monkeypatch.setattr(wmod._OwnEngine, "correlator", _raise(ZeroDivisionError("injected own")))
    monkeypatch.setattr(wmod._SymbolicEngine, "correlator", _raise(RuntimeError("injected symbolic")))
    proof = prove_invariance(ANISO, "SO", "input", residual=False)
    assert proof.verdict == "undecided" and proof.witness is None
    failed = [s for s in proof.steps if s.title == "Engine failure"]
    assert [s.status for s in failed] == [StepStatus.OPEN, StepStatus.OPEN]
    assert "`symcorr.duality.moments`" in failed[0].body and "ZeroDivisionError: injected own" in failed[0].body
    assert "`symcorr.symbolic`" in failed[1].body and "RuntimeError: injected symbolic" in failed[1].body
    assert "incomplete" in proof.steps[-1].body and proof.steps[-1].title == "Undecided"
    assert "ZeroDivisionError" in proof.markdown() and "RuntimeError" in proof.latex()


def test_one_engine_failing_while_another_refutes_keeps_the_failure_visible(monkeypatch):
    monkeypatch.setattr(wmod._OwnEngine, "correlator", _raise(ZeroDivisionError("injected")))
    proof = prove_invariance(ANISO, "SO", "input", residual=False)
    assert proof.verdict == "refuted" and proof.witness.engine == "symcorr.symbolic"
    titles = [s.title for s in proof.steps]
    assert titles.index("Engine failure") < titles.index("Witness")


@pytest.mark.parametrize("bad", [Value.numeric(math.nan, 0.0), Value.numeric(math.inf, 0.0), Value.exact(sp.zoo),
                                 Value.exact(sp.nan)], ids=["nan", "inf", "zoo", "exact-nan"])
def test_a_non_finite_value_is_could_not_decide_with_the_reason(monkeypatch, bad):
    monkeypatch.setattr(wmod._OwnEngine, "correlator", lambda self, points, indices: bad)
    monkeypatch.setattr(wmod._SymbolicEngine, "correlator", lambda self, points, indices: bad)
    search = wmod.witness_search(ANISO, SpecialOrthogonal(2), "input", orders=(2,))
    assert search.witness is None
    assert len(search.failures) == 2 and all("non-finite" in f.reason for f in search.failures)
    proof = prove_invariance(ANISO, "SO", "input", residual=False)
    assert proof.verdict == "undecided"
    assert sum("non-finite" in s.body for s in proof.steps if s.status is StepStatus.OPEN) == 2


def test_non_finite_values_never_differ():
    assert not wmod.differs(Value.exact(1), Value.numeric(math.nan, 0.0))
    assert not wmod.differs(Value.exact(sp.zoo), Value.exact(1))
    assert wmod.differs(Value.exact(1), Value.exact(2))


def test_an_engine_that_cannot_be_set_up_is_recorded(monkeypatch):
    def broken_init(self, net):
        raise MemoryError("injected")

    monkeypatch.setattr(wmod._SymbolicEngine, "__init__", broken_init)
    search = wmod.witness_search(ANISO, SpecialOrthogonal(2), "input", orders=(2,))
    assert search.witness is not None                      # the own engine
    assert [(f.engine, f.task) for f in search.failures] == [("symcorr.symbolic", "setting up the engine")]


def test_a_network_no_engine_handles_is_a_silent_decline():
    """Declining is not failing: a deep network is outside both engines' rules."""
    from symcorr import Dense, Network
    deep = Network(2, [Dense(3, "erf", weight=Normal(0, 1, col_cov=[[2, 0], [0, 1]])), Dense(3, "tanh"), Dense(1)])
    search = wmod.witness_search(deep, SpecialOrthogonal(2), "input", orders=(2,))
    assert search.witness is None and search.failures == []
