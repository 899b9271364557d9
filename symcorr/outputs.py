r"""Output folders that never mix runs: checked before work starts, written atomically, with a manifest.

Every command that writes files (``derive --out``, ``fashion-mnist --out``, ``reproduce --out``) writes
through an :class:`OutputFolder`:

1. :func:`check_output_path` runs **before any work**: the path must not be a file, its parent must exist
   (or be creatable) and be writable -- so a read-only or mistyped folder fails in a second, not after
   the whole run;
2. the run writes into a **staging folder** beside the target (``.<name>.partial``), never into the
   target itself; each file is written under a temporary name and moved into place (:func:`atomic_write_bytes`);
3. on success :meth:`OutputFolder.commit` writes ``manifest.json`` (the command, its settings, the seed,
   the versions of symcorr, Python, torch, SymPy and NumPy, start and end times, and the size and SHA-256
   of every file) and swaps the staging folder in for the old one, so the folder holds exactly one run:
   either the previous complete one or the new complete one.  An interrupted run leaves only its staging
   folder, which the next run with the same target starts from scratch (or, for commands that resume,
   reads back: :meth:`OutputFolder.previous_manifest`).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Mapping

from .errors import SpecError

__all__ = ["OutputFolder", "check_output_path", "atomic_write_bytes", "atomic_write_text", "versions",
           "MANIFEST"]

#: the manifest's file name inside every output folder
MANIFEST = "manifest.json"


def check_output_path(path, where: str = "--out") -> Path:
    """``path`` as a folder that can be written: not an existing file, its nearest existing ancestor a
    writable folder.  Creates nothing; raises a one-line SpecError naming ``where`` otherwise."""
    target = Path(path).expanduser()
    if target.exists() and not target.is_dir():
        raise SpecError(f"{target} exists and is not a folder", where)
    probe = target if target.exists() else target.parent
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise SpecError(f"{probe} is not a folder, so {target} cannot be created", where)
    if not os.access(probe, os.W_OK | os.X_OK):
        raise SpecError(f"{probe} is not writable", where)
    try:  # permissions can lie (read-only mounts, ACLs): try to create a file for real
        fd, name = tempfile.mkstemp(prefix=".symcorr-probe-", dir=probe)
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        raise SpecError(f"cannot write into {probe}: {exc.strerror or exc}", where) from None
    return target


def atomic_write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` under a temporary name in the same folder, then rename it into place
    (readers see the old file or the complete new one, never a partial file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def atomic_write_text(path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def versions() -> dict:
    """The versions a result depends on."""
    import numpy
    import sympy
    import torch

    from .version import __version__

    return {"symcorr": __version__, "python": platform.python_version(), "torch": torch.__version__,
            "sympy": sympy.__version__, "numpy": numpy.__version__, "platform": platform.platform()}


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class OutputFolder:
    """A run's output folder (module docstring).  Use as a context manager::

        with OutputFolder(out, command="reproduce", settings={...}, seed=0) as folder:
            folder.write_text("report.md", text)
            fig.savefig(folder.path / "plot.png")       # any file under folder.path
        # committed on success; on an exception the old folder is untouched

    ``path`` is the staging folder the run writes into; :meth:`commit` (called on a clean exit) swaps it in.
    """

    def __init__(self, target, *, command: str, settings: Mapping | None = None, seed=None,
                 where: str = "--out"):
        self.target = check_output_path(target, where)
        self.command = command
        self.settings = dict(settings or {})
        self.seed = seed
        self.started = _now()
        self.path = self.target.parent / f".{self.target.name}.partial"
        self._committed = False

    def __enter__(self) -> "OutputFolder":
        if self.path.exists():  # an interrupted run of the same target: start afresh
            shutil.rmtree(self.path)
        self.path.mkdir(parents=True)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None and not self._committed:
            self.commit()

    # --- writing -------------------------------------------------------------------------------------
    def file(self, name: str) -> Path:
        """Where to write ``name`` (a relative path inside the folder; no ``..``)."""
        rel = Path(name)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise SpecError(f"output file name {name!r} must be a relative path inside the folder", "name")
        out = self.path / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        return out

    def write_text(self, name: str, text: str) -> Path:
        return atomic_write_text(self.file(name), text)

    def write_bytes(self, name: str, data: bytes) -> Path:
        return atomic_write_bytes(self.file(name), data)

    def final_path(self, name: str) -> Path:
        """Where ``name`` will be once the run is committed (for messages and links)."""
        return self.target / name

    def previous_manifest(self) -> dict | None:
        """The manifest of the run currently in the target folder (``None`` if there is none)."""
        path = self.target / MANIFEST
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    # --- committing ----------------------------------------------------------------------------------
    def manifest(self) -> dict:
        files = {}
        for p in sorted(self.path.rglob("*")):
            if p.is_file() and p.name != MANIFEST and not p.name.endswith(".tmp"):
                files[p.relative_to(self.path).as_posix()] = {"bytes": p.stat().st_size, "sha256": _digest(p)}
        return {"command": self.command, "argv": sys.argv, "settings": _jsonable(self.settings), "seed": self.seed,
                "versions": versions(), "started": self.started, "finished": _now(), "files": files}

    def commit(self) -> Path:
        """Write the manifest and swap the staging folder in for the target (one run per folder)."""
        atomic_write_text(self.path / MANIFEST, json.dumps(self.manifest(), indent=1, sort_keys=True) + "\n")
        old = self.target.parent / f".{self.target.name}.old-{uuid.uuid4().hex[:8]}"
        if self.target.exists():
            os.replace(self.target, old)
        os.replace(self.path, self.target)
        if old.exists():
            shutil.rmtree(old, ignore_errors=True)
        self._committed = True
        return self.target


def _jsonable(value):
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
