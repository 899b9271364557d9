"""The options that name a Dask cluster and a checkpoint folder, shared by ``symcorr montecarlo``,
``symcorr fashion-mnist`` and ``symcorr reproduce`` (see ``docs/distributed.md``)."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_cluster_options", "checkpoint_folder"]


def add_cluster_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scheduler", metavar="local:N|ADDRESS",
                        help="run the blocks on a Dask cluster: local:N (N worker processes on this machine) or "
                             "the address of a running scheduler, e.g. tcp://host:8786 (needs "
                             "pip install 'symcorr[distributed]'); the results equal the serial run's bit for bit")
    parser.add_argument("--checkpoint", metavar="DIR",
                        help="save finished blocks in DIR and resume from them when run again with the same "
                             "settings (other settings are refused)")


def checkpoint_folder(args: argparse.Namespace, *parts: str) -> Path | None:
    """``DIR/part/...`` of ``--checkpoint DIR``, or ``None`` without it."""
    folder = getattr(args, "checkpoint", None)
    return None if folder is None else Path(folder).joinpath(*parts)
