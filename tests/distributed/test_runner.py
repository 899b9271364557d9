"""symcorr.distributed.runner (serial path): the result is the fixed tree's, whatever the task size;
an interrupted run resumes from its checkpoint folder with the same bits."""

import pytest
import torch

from symcorr.distributed import plan_tasks, run_blocks, tree_reduce
from symcorr.errors import SpecError
from symcorr.montecarlo import MomentAccumulator


class Moments:
    """Toy blockwise work: block j is a MomentAccumulator of 64 seeded normal draws of 5 features."""

    def __init__(self, blocks, seed=0, log=None):
        self.blocks, self.seed, self.log = blocks, seed, log

    def leaf(self, j, payload=None):
        if self.log is not None:
            self.log.append(j)
        g = torch.Generator().manual_seed(1000 * self.seed + j)
        v = torch.randn(64, 5, generator=g, dtype=torch.float64) * (1 + j % 7) + j
        return MomentAccumulator(5).update(v)

    def merge(self, a, b):
        return a.merge(b)

    def weight(self, a, b):
        return 64 * (b - a)

    def fingerprint(self):
        return {"kind": "toy", "seed": self.seed}


def _bits(acc):
    return acc.count, acc.mean_.tolist(), acc.m2.tolist()


def test_plan_tasks():
    assert plan_tasks(10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert plan_tasks(10, 4, [(2, 4), (8, 10)]) == [(0, 2), (4, 8)]
    assert plan_tasks(5, 1, [(0, 5)]) == []
    with pytest.raises(SpecError):
        plan_tasks(5, 0)


def test_task_size_does_not_change_a_bit():
    work = Moments(37)
    leaves = [work.leaf(j) for j in range(37)]
    expect = _bits(tree_reduce([leaf.copy() for leaf in leaves], work.merge))
    for per_task in (1, 2, 3, 8, 37, 100):
        assert _bits(run_blocks(work, per_task=per_task)) == expect
    # a sequential fold, the old way, is not the same bits: the fixed tree is what makes them equal
    seq = leaves[0].copy()
    for leaf in leaves[1:]:
        seq.merge(leaf)
    assert _bits(seq) != expect


def test_progress_counts_units():
    seen = []
    run_blocks(Moments(10), per_task=3, progress=seen.append)
    assert seen == [192, 192, 192, 64]


class Stop(Exception):
    pass


def test_an_interrupted_run_resumes_with_the_same_bits(tmp_path):
    expect = _bits(run_blocks(Moments(23), per_task=2))
    calls = []

    def stop_after_five(n):
        calls.append(n)
        if len(calls) == 5:
            raise Stop
    with pytest.raises(Stop):
        run_blocks(Moments(23), per_task=2, checkpoint=tmp_path, progress=stop_after_five)
    assert any(p.name.startswith("node-") for p in tmp_path.iterdir())
    log, seen = [], []
    again = run_blocks(Moments(23, log=log), per_task=3, checkpoint=tmp_path, progress=seen.append)  # other task size
    assert _bits(again) == expect
    assert len(log) == 23 - 10 and min(log) >= 10          # only the unsaved blocks were computed
    assert sum(seen) == 23 * 64
    nodes = [p.name for p in tmp_path.iterdir() if p.name.startswith("node-")]
    assert nodes == ["node-5-0.pkl"]                      # the root alone is kept
    log.clear()
    assert _bits(run_blocks(Moments(23, log=log), checkpoint=tmp_path)) == expect and log == []


def test_other_settings_are_refused_in_one_line(tmp_path):
    run_blocks(Moments(4), checkpoint=tmp_path)
    with pytest.raises(SpecError) as err:
        run_blocks(Moments(4, seed=1), checkpoint=tmp_path)
    assert "seed: 0 there, 1 now" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(SpecError, match="blocks: 4 there, 5 now"):
        run_blocks(Moments(5), checkpoint=tmp_path)


def test_threads_are_set_for_the_blocks_and_restored():
    before = torch.get_num_threads()
    seen = []

    class Probe(Moments):
        def leaf(self, j, payload=None):
            seen.append(torch.get_num_threads())
            return super().leaf(j)
    torch.set_num_threads(2)
    try:
        run_blocks(Probe(3), threads=1)
        assert seen == [1, 1, 1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
