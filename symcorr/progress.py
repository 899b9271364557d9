"""Progress bars for long computations: a callable that counts work done, drawn with tqdm or silent.

Library functions take ``progress``: ``None`` or a callable ``progress(n)`` told how many networks
(neurons, models, ...) a chunk finished.  :class:`ProgressBar` is such a callable drawing a tqdm bar on
standard error (or nothing when ``disable``); use it as a context manager so the bar is closed on errors.
"""

from __future__ import annotations

import sys

__all__ = ["ProgressBar"]


class ProgressBar:
    """A tqdm bar over ``total`` units called ``unit`` (a no-op when ``disable``)."""

    def __init__(self, total: int, desc: str, *, disable: bool = False, unit: str = "net"):
        self.bar = None
        if not disable:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=desc, unit=unit, unit_scale=True, file=sys.stderr, leave=False)

    def __call__(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
