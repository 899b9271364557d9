"""The engine contract: an engine answers, declines (Unsupported) or fails (a visible EngineFailure)."""

import math

import pytest

from symcorr.duality.engines import EngineFailure, Unsupported, is_finite_number, run_engine


def test_an_answer_comes_back_with_no_failure():
    assert run_engine("e", "adding", lambda a, b: a + b, 2, b=3) == (5, None)


def test_declining_propagates():
    def declines():
        raise Unsupported("not for me")

    with pytest.raises(Unsupported, match="not for me"):
        run_engine("e", "task", declines)


@pytest.mark.parametrize("exc", [ZeroDivisionError("division by zero"), RuntimeError("boom"), TypeError("bad"),
                                 RecursionError("deep"), KeyError("k")], ids=lambda e: type(e).__name__)
def test_any_other_exception_is_a_failure_naming_engine_task_and_reason(exc):
    def fails():
        raise exc

    value, failure = run_engine("symcorr.symbolic", "G^(2) at the probe points", fails)
    assert value is None
    assert failure == EngineFailure("symcorr.symbolic", "G^(2) at the probe points", f"{type(exc).__name__}: {exc}")


def test_keyboard_interrupt_is_not_swallowed():
    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_engine("e", "task", interrupted)


def test_non_finite_failure_and_finiteness():
    assert EngineFailure.non_finite("e", "t", float("nan")).reason == "a non-finite value (nan)"
    assert EngineFailure.from_exception("e", "t", ValueError()).reason == "ValueError"
    assert is_finite_number(1.5) and is_finite_number(2 + 3j)
    assert not any(is_finite_number(v) for v in (None, math.nan, math.inf, complex(1, math.nan), "x"))
