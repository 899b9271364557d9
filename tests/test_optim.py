"""symcorr.optim: the one GD and the one Adam, step by step against torch.optim on stacked tensors.

A stacked tensor holds M models' copies of a parameter; the reference is M separate torch.optim
optimisers, one per model, fed the same gradients (whose scale changes by 100x between steps, so the
bias corrections and eps both matter) and the same learning-rate schedule.  Agreement is required to be
exact (both kernels compute torch's own arithmetic), except where torch's fused kernel itself rounds an
element according to its position in the tensor.
"""

import pytest
import torch

from symcorr.errors import SpecError
from symcorr.optim import Adam, GradientDescent, adam_hyperparameters, fused_adam_available, make_optimizer

SHAPES = ((5, 3), (2,), (4, 1, 6))


def _stacked(M, dtype, seed):
    g = torch.Generator().manual_seed(seed)
    return g, [torch.randn(M, *s, generator=g, dtype=dtype) for s in SHAPES]


def _run_both(make_ours, make_ref, *, M=4, steps=7, dtype=torch.float64, seed=0, lr0=1e-2,
              per_model=True):
    """Our optimiser on the stacked tensors and, as reference, M torch optimisers, one per model (or,
    with ``per_model=False``, one torch optimiser over the stacked tensors themselves); returns our final
    stacked parameters, the reference's (restacked) and the initial ones after ``steps`` steps."""
    g, params = _stacked(M, dtype, seed)
    if per_model:
        refs = [[p[m].clone().requires_grad_() for p in params] for m in range(M)]
    else:
        refs = [[p.clone().requires_grad_() for p in params]]
    ref_opts = [make_ref(r) for r in refs]
    ours = [p.clone() for p in params]
    opt = make_ours()
    for step in range(steps):
        lr = lr0 * 0.7 ** (step // 2)                               # a StepLR-like schedule
        grads = [torch.randn(M, *s, generator=g, dtype=dtype) * 10.0 ** (step % 3 - 1) for s in SHAPES]
        opt.step(ours, grads, lr)
        for m, (ref, ref_opt) in enumerate(zip(refs, ref_opts)):
            ref_opt.param_groups[0]["lr"] = lr
            for r, gr in zip(ref, grads):
                r.grad = (gr[m] if per_model else gr).clone()
            ref_opt.step()
    if per_model:
        stacked_ref = [torch.stack([refs[m][i].detach() for m in range(M)]) for i in range(len(SHAPES))]
    else:
        stacked_ref = [r.detach() for r in refs[0]]
    return ours, stacked_ref, params


ADAM_OPTIONS = [dict(), dict(betas=(0.8, 0.99)), dict(eps=1e-3), dict(betas=(0.0, 0.5), eps=1e-6)]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("options", ADAM_OPTIONS)
def test_adam_single_tensor_kernel_is_torch_adam_exactly(dtype, options):
    ours, ref, start = _run_both(lambda: Adam(**options, fused=False),
                                 lambda r: torch.optim.Adam(r, lr=1e-2, **options, foreach=False),
                                 dtype=dtype)
    for a, b, s in zip(ours, ref, start):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
        assert (a - s).abs().max() > 1e-3                 # the parameters did move


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("options", ADAM_OPTIONS)
def test_adam_fused_kernel_is_torch_fused_adam_exactly(dtype, options):
    """The fused kernel is torch.optim.Adam(fused=True) bit for bit on the same stacked tensors; against
    M separate fused optimisers it agrees to rounding only, because the vectorised kernel rounds an
    element differently depending on its position in the tensor (vector body or tail)."""
    if not fused_adam_available():
        pytest.skip("this torch has no fused CPU Adam")
    ours, separate, _ = _run_both(lambda: Adam(**options, fused=True),
                                  lambda r: torch.optim.Adam(r, lr=1e-2, **options, fused=True), dtype=dtype)
    _, same, _ = _run_both(lambda: Adam(**options, fused=True),
                           lambda r: torch.optim.Adam(r, lr=1e-2, **options, fused=True), dtype=dtype,
                           per_model=False)
    for a, b in zip(ours, same):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    tol = dict(rtol=1e-6, atol=1e-7) if dtype == torch.float32 else dict(rtol=1e-14, atol=1e-15)
    for a, b in zip(ours, separate):
        torch.testing.assert_close(a, b, **tol)


def test_adam_default_is_the_stacked_models_adam_to_rounding():
    """The default kernel choice (fused when possible) against torch's default Adam: equal to rounding."""
    ours, ref, _ = _run_both(lambda: Adam(), lambda r: torch.optim.Adam(r, lr=1e-2), dtype=torch.float32)
    for a, b in zip(ours, ref):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)


def test_adam_comparison_can_fail():
    """The reference comparison is sensitive: Adam with another eps, or another beta2, or plain GD,
    differs from torch's Adam by far more than rounding."""
    for ours in (lambda: Adam(eps=1e-3, fused=False), lambda: Adam(betas=(0.9, 0.99), fused=False),
                 lambda: GradientDescent()):
        a, b, _ = _run_both(ours, lambda r: torch.optim.Adam(r, lr=1e-2))
        assert max(float((x - y).abs().max()) for x, y in zip(a, b)) > 1e-6


def test_adam_state_may_follow_copies_of_the_parameters():
    """As symcorr.training uses it: each step gets fresh copies (the old tensors are kept as snapshots)."""
    _, params = _stacked(3, torch.float64, 1)
    g = torch.Generator().manual_seed(2)
    grads = [[torch.randn(p.shape, generator=g, dtype=torch.float64) for p in params] for _ in range(4)]
    inplace, copied = [p.clone() for p in params], [p.clone() for p in params]
    a, b = Adam(fused=False), Adam(fused=False)
    snapshots = []
    for gr in grads:
        a.step(inplace, gr, 0.05)
        copied = [p.clone() for p in copied]
        b.step(copied, gr, 0.05)
        snapshots.append(copied)
    for x, y in zip(inplace, copied):
        assert torch.equal(x, y)
    assert not torch.equal(snapshots[0][0], snapshots[-1][0])        # snapshots were not overwritten
    with pytest.raises(SpecError, match="started on tensors of shapes"):
        a.step(inplace[:2] + [inplace[2][:, :1]], grads[0][:2] + [grads[0][2][:, :1]], 0.05)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_gradient_descent_is_torch_sgd_exactly(dtype):
    ours, ref, start = _run_both(GradientDescent, lambda r: torch.optim.SGD(r, lr=1e-2), dtype=dtype)
    for a, b, s in zip(ours, ref, start):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
        assert (a - s).abs().max() > 1e-3


def test_stacked_adam_is_separate_adams():
    """(Moved from the Fashion-MNIST tests, for both kernels.) Adam over (M, ...) stacks == M separate
    torch.optim.Adam, lr changed between steps, gradients of changing scale."""
    kernels = [False] + ([True] if fused_adam_available() else [])
    for fused in kernels:
        g = torch.Generator().manual_seed(0)
        M = 4
        P = torch.randn(M, 5, 3, generator=g)
        Q = torch.randn(M, 2, generator=g)
        refs = [[P[m].clone().requires_grad_(), Q[m].clone().requires_grad_()] for m in range(M)]
        opts = [torch.optim.Adam(r, lr=1e-2) for r in refs]
        P, Q = P.clone(), Q.clone()
        adam = Adam(fused=fused)
        for step in range(6):
            lr = 1e-2 * 0.7 ** (step // 2)
            gP = torch.randn(M, 5, 3, generator=g) * 10 ** (step % 3 - 1)
            gQ = torch.randn(M, 2, generator=g)
            adam.step([P, Q], [gP, gQ], lr)
            for m in range(M):
                opts[m].param_groups[0]["lr"] = lr
                refs[m][0].grad, refs[m][1].grad = gP[m].clone(), gQ[m].clone()
                opts[m].step()
        torch.testing.assert_close(P, torch.stack([r[0].detach() for r in refs]), rtol=1e-6, atol=1e-7)
        torch.testing.assert_close(Q, torch.stack([r[1].detach() for r in refs]), rtol=1e-6, atol=1e-7)


def test_validation_names_the_field():
    for bad, field in ((dict(betas=(0.9, 1.0)), "betas"), (dict(betas=(0.9,)), "betas"),
                       (dict(betas="x"), "betas"), (dict(eps=0.0), "eps"), (dict(eps=float("nan")), "eps"),
                       (dict(fused="yes"), "fused")):
        with pytest.raises(SpecError, match=field):
            Adam(**bad)
    assert adam_hyperparameters([0.5, 0.25], 1) == (0.5, 0.25, 1.0)
    p, g = [torch.zeros(2)], [torch.ones(2)]
    for opt in (Adam(), GradientDescent()):
        with pytest.raises(SpecError, match="lr"):
            opt.step(p, g, 0.0)
        with pytest.raises(SpecError, match="grads"):
            opt.step(p, [torch.ones(3)], 0.1)
        with pytest.raises(SpecError, match="grads"):
            opt.step(p, g + g, 0.1)
    with pytest.raises(SpecError, match="fused"):
        Adam(fused=True).step([torch.zeros(2, dtype=torch.int64)], [torch.ones(2, dtype=torch.int64)], 0.1)
    with pytest.raises(SpecError, match="optimizer"):
        make_optimizer("sgd")
    assert isinstance(make_optimizer("gd"), GradientDescent)
    assert isinstance(make_optimizer("adam", betas=(0.5, 0.5)), Adam)


@pytest.mark.parametrize("error", [None, RuntimeError("no CPU kernel"), NotImplementedError("no kernel")])
def test_missing_fused_kernel_falls_back_to_the_single_tensor_arithmetic(monkeypatch, error):
    from symcorr import optim

    monkeypatch.setattr(optim, "_FUSED_AVAILABLE", None)
    if error is None:
        monkeypatch.delattr(torch, "_fused_adam_", raising=False)        # operator missing in this build
    else:
        def broken(*args, **kwargs):
            raise error
        monkeypatch.setattr(torch, "_fused_adam_", broken)
    assert fused_adam_available() is False
    ours, ref, _ = _run_both(lambda: Adam(), lambda r: torch.optim.Adam(r, lr=1e-2, foreach=False))
    for a, b in zip(ours, ref):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    with pytest.raises(SpecError, match="fused"):
        Adam(fused=True).step([torch.zeros(2)], [torch.ones(2)], 0.1)


def test_other_fused_kernel_errors_surface(monkeypatch):
    """Only "missing" and "cannot run here" mean falling back; a bug (here a TypeError) is not hidden."""
    from symcorr import optim

    monkeypatch.setattr(optim, "_FUSED_AVAILABLE", None)

    def buggy(*args, **kwargs):
        raise TypeError("a bug")
    monkeypatch.setattr(torch, "_fused_adam_", buggy)
    with pytest.raises(TypeError, match="a bug"):
        fused_adam_available()
