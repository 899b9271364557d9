"""Exceptions raised by symcorr.

Every user-facing validation problem raises :class:`SpecError` (a ``ValueError``) whose message names
the offending field, e.g. ``layers[1].weight.var: variance must be non-negative, got -1``.
"""

from __future__ import annotations


class SpecError(ValueError):
    """A network/distribution/spec-file description is invalid.

    ``where`` is a dotted path to the offending field (``layers[0].weight.var``); it is prefixed to the
    message so a user can find the line in a spec file.
    """

    def __init__(self, message: str, where: str | None = None):
        self.where = where
        self.reason = message
        super().__init__(f"{where}: {message}" if where else message)

    def in_file(self, name: str) -> "SpecError":
        """The same error located in the file ``name`` (``"spec.toml: montecarlo.dtype"``)."""
        return SpecError(self.reason, f"{name}: {self.where}" if self.where else name)

    def at(self, where: str) -> "SpecError":
        """Return the same error with ``where`` prefixed by an outer path component."""
        inner = self.where
        path = where if not inner else (f"{where}{inner}" if inner.startswith("[") else f"{where}.{inner}")
        return SpecError(self.reason, path)
