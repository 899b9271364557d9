"""symcorr.distributed.checkpoint: the manifest, atomic node files, the one-line refusal."""

import json

import pytest
import torch

from symcorr.distributed import Checkpoint, describe
from symcorr.errors import SpecError


def test_describe_is_json_and_hashes_tensors():
    d = describe({"x": torch.arange(3.0), "dtype": torch.float32, "n": 3, "f": 0.5, "t": (1, 2)})
    json.dumps(d)
    assert d["x"]["tensor"] == [3] and d["dtype"] == "torch.float32" and d["t"] == [1, 2]
    assert describe(torch.arange(3.0)) == describe(torch.arange(3.0).clone())
    assert describe(torch.arange(3.0)) != describe(torch.arange(3.0) + 1e-12)


def test_manifest_is_written_once_and_checked(tmp_path):
    folder = tmp_path / "ck"
    Checkpoint(folder, {"seed": 1, "points": torch.ones(2)}, 10)
    assert (folder / "manifest.json").exists()
    Checkpoint(folder, {"seed": 1, "points": torch.ones(2)}, 10)       # same settings: fine
    with pytest.raises(SpecError) as err:
        Checkpoint(folder, {"seed": 2, "points": torch.ones(2)}, 10)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith("checkpoint: ") and "seed: 1 there, 2 now" in msg
    with pytest.raises(SpecError, match=r"points\.sha256"):
        Checkpoint(folder, {"seed": 1, "points": torch.zeros(2)}, 10)
    with pytest.raises(SpecError, match="blocks: 10 there, 11 now"):
        Checkpoint(folder, {"seed": 1, "points": torch.ones(2)}, 11)
    with pytest.raises(SpecError, match="new: null there"):
        Checkpoint(folder, {"seed": 1, "points": torch.ones(2), "new": 3}, 10)


def test_refuses_a_foreign_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(SpecError, match="not a checkpoint folder"):
        Checkpoint(tmp_path, {}, 3)
    (tmp_path / "file").write_text("x")
    with pytest.raises(SpecError, match="not a folder"):
        Checkpoint(tmp_path / "file", {}, 3)


def test_nodes_round_trip_and_nested_leftovers_are_dropped(tmp_path):
    ck = Checkpoint(tmp_path, {}, 8)
    ck.save(0, 0, torch.tensor([1.0]))
    ck.save(0, 1, torch.tensor([2.0]))
    ck.save(1, 0, torch.tensor([3.0]))            # a parent written before its children were removed
    ck.save(0, 5, torch.tensor([4.0]))
    (tmp_path / ".node-0-6.pkl.abc.tmp").write_bytes(b"half")
    nodes = ck.load()
    assert [(k, i) for k, i, _, _ in nodes] == [(1, 0), (0, 5)]
    assert float(nodes[0][2]) == 3.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json", "node-0-5.pkl", "node-1-0.pkl"]
    (tmp_path / "node-3-1.pkl").write_bytes(b"")
    with pytest.raises(SpecError, match="not a node"):
        ck.load()
