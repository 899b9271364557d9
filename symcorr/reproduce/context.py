"""What every section of a reproduction run shares: the budget, the device, the cluster, the report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from ..report import Report

__all__ = ["RunContext", "describe_points", "subfolder"]


@dataclass(frozen=True)
class RunContext:
    """``full``: the specs' full budgets (else their quick ones); ``device``; ``progress``: draw bars;
    ``client``: a Dask client for the Monte Carlo work (or None); ``checkpoint``: a folder to resume from;
    ``report``: the body being written."""

    full: bool
    device: object
    progress: bool
    report: Report
    client: object = None
    checkpoint: Path | None = None

    def budget(self, table: dict, key: str, default):
        """``table[key]`` at the full budget, else ``table["quick_" + key]`` (each with ``default``)."""
        if self.full:
            return table.get(key, default)
        return table.get(f"quick_{key}", table.get(key, default))

    def sub(self, name: str) -> "RunContext":
        """The same context with its checkpoint folder narrowed to ``name``."""
        from dataclasses import replace

        return replace(self, checkpoint=subfolder(self.checkpoint, name))


def subfolder(folder, name: str):
    """``folder/name`` (``None`` stays ``None``): one checkpoint folder per computation."""
    return None if folder is None else Path(folder) / name


def describe_points(x: torch.Tensor, origin: str) -> str:
    """Input points for a reader: the coordinates when short, else their number, dimension and norms."""
    p, d = x.shape
    if d <= 6 and p <= 8:
        pts = "; ".join("(" + ", ".join(f"{v:.3g}" for v in row) + ")" for row in x.tolist())
        return f"{pts} ({origin})"
    norms = ", ".join(f"{float(v):.3g}" for v in x.norm(dim=1)[:6])
    more = ", ..." if p > 6 else ""
    return f"{p} points in R^{d} ({origin}; norms {norms}{more})"
