r"""Resume-from-folder checkpoints of a blockwise run: saved tree nodes plus a manifest of the settings.

A checkpoint folder holds

* ``manifest.json``: the run's *fingerprint* (everything its result depends on: the kind of run, the
  network, the points, the entries, the seed, the number of networks, the RNG block size, the dtype,
  ... as given by the work's ``fingerprint()``) and the number of blocks;
* ``node-<level>-<index>.pkl``: the value of one node of the reduction tree
  (:mod:`symcorr.distributed.tree`), a pickled partial accumulator.

Every file is written under a temporary name and renamed into place (``os.replace``, atomic on POSIX
file systems), so a run killed at any moment leaves only whole files.  When two children are merged
the parent is written first and the children are removed after, so a crash in between leaves a node
together with its own children; :meth:`Checkpoint.load` keeps the outermost node of nested spans (the
values agree) and removes the rest.  A run started again on the same folder with the same fingerprint
feeds the saved nodes to its reducer and computes only the blocks they do not cover; the grouping of
blocks into tasks (``chunk``) may differ, since the saved values are tree nodes, not tasks.  A
different fingerprint is refused with a one-line :class:`~symcorr.errors.SpecError` naming the first
setting that differs.

Node files are Python pickles: resume only from folders you wrote yourself.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import SpecError
from .tree import node_span

__all__ = ["Checkpoint", "describe", "MANIFEST"]

MANIFEST = "manifest.json"
FORMAT = 1
_NODE = re.compile(r"^node-(\d+)-(\d+)\.pkl$")


def describe(value: Any) -> Any:
    """A JSON-able description of ``value`` for a fingerprint: tensors and arrays by shape, dtype and a
    SHA-256 of their bytes; dtypes and devices by name; mappings and sequences element by element;
    anything else by ``repr``."""
    if isinstance(value, torch.Tensor):
        t = value.detach().cpu().contiguous()
        digest = hashlib.sha256(t.numpy().tobytes() if t.dtype != torch.bfloat16 else
                                t.view(torch.int16).numpy().tobytes()).hexdigest()[:20]
        return {"tensor": list(t.shape), "dtype": str(t.dtype), "sha256": digest}
    if isinstance(value, np.ndarray):
        a = np.ascontiguousarray(value)
        return {"array": list(a.shape), "dtype": str(a.dtype), "sha256": hashlib.sha256(a.tobytes()).hexdigest()[:20]}
    if isinstance(value, (torch.dtype, torch.device)):
        return str(value)
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, np.generic):
        return describe(value.item())
    if isinstance(value, dict):
        return {str(k): describe(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [describe(v) for v in value]
    return repr(value)


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(d, dict):
        out: dict[str, Any] = {}
        for k, v in d.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: d}


def _short(value: Any, limit: int = 48) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


class Checkpoint:
    """The checkpoint folder of one blockwise run (see the module docstring).

    Opening it creates the folder and its manifest, or checks an existing manifest against
    ``fingerprint`` and ``blocks`` (a :class:`~symcorr.errors.SpecError` naming the first difference
    otherwise).  :meth:`load` returns the saved nodes, :meth:`save` writes one, :meth:`remove` deletes
    files of nodes that a saved parent now holds.
    """

    def __init__(self, folder, fingerprint: dict, blocks: int):
        self.folder = Path(folder)
        self.blocks = int(blocks)
        if self.folder.exists() and not self.folder.is_dir():
            raise SpecError(f"{self.folder} exists and is not a folder", "checkpoint")
        self.folder.mkdir(parents=True, exist_ok=True)
        manifest = {"symcorr_checkpoint": FORMAT, "blocks": self.blocks, "fingerprint": describe(fingerprint)}
        path = self.folder / MANIFEST
        if path.exists():
            try:
                saved = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as err:
                raise SpecError(f"cannot read {path}: {err}", "checkpoint") from None
            self._check(saved, manifest)
        else:
            stray = [p.name for p in self.folder.iterdir() if not p.name.startswith(".")]
            if stray:
                raise SpecError(f"{self.folder} is not empty and has no {MANIFEST}, so it is not a checkpoint "
                                f"folder of symcorr; use an empty or new folder", "checkpoint")
            _atomic_write(path, (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode("utf-8"))

    def _check(self, saved: dict, now: dict) -> None:
        if not isinstance(saved, dict) or saved.get("symcorr_checkpoint") != FORMAT:
            raise SpecError(f"{self.folder / MANIFEST} is not a symcorr checkpoint manifest (format {FORMAT})",
                            "checkpoint")
        old, new = _flatten({"blocks": saved.get("blocks"), **(saved.get("fingerprint") or {})}), \
            _flatten({"blocks": now["blocks"], **now["fingerprint"]})
        for key in list(new) + [k for k in old if k not in new]:
            if old.get(key) != new.get(key):
                raise SpecError(f"{self.folder} holds the blocks of a run with other settings ({key}: "
                                f"{_short(old.get(key))} there, {_short(new.get(key))} now); use another folder, "
                                "or delete this one to start afresh", "checkpoint")

    # --- nodes ---------------------------------------------------------------------------------------
    def path(self, level: int, index: int) -> Path:
        return self.folder / f"node-{level}-{index}.pkl"

    def save(self, level: int, index: int, value: Any) -> Path:
        path = self.path(level, index)
        _atomic_write(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        return path

    def remove(self, paths) -> None:
        for p in paths:
            try:
                Path(p).unlink()
            except FileNotFoundError:
                pass

    def load(self) -> list[tuple[int, int, Any, list[Path]]]:
        """The saved nodes ``(level, index, value, [file])``, outermost spans only (nested leftovers of
        an interrupted merge are deleted), in block order; stray temporary files are removed."""
        found = []
        for p in self.folder.iterdir():
            if p.name.startswith(".") and p.name.endswith(".tmp"):
                p.unlink(missing_ok=True)
                continue
            m = _NODE.match(p.name)
            if m:
                level, index = int(m.group(1)), int(m.group(2))
                try:
                    start, stop = node_span(level, index, self.blocks)
                except SpecError:
                    raise SpecError(f"{p} is not a node of a run of {self.blocks} blocks", "checkpoint") from None
                found.append((start, -(stop - start), -level, level, index, p))
        found.sort()
        keep, reach = [], -1
        redundant = []
        for start, negsize, _, level, index, p in found:
            stop = start - negsize
            if start < reach:                     # spans are laminar: nested in a node already kept
                redundant.append(p)
                continue
            keep.append((level, index, p))
            reach = stop
        out = []
        for level, index, p in keep:
            with open(p, "rb") as fh:
                value = pickle.load(fh)
            out.append((level, index, value, [p]))
        self.remove(redundant)
        return out
