r"""The base of every group action: :class:`Group` (identity, numerics, symbolic element, lattice),
:class:`GenericElement`, the Haar sampler of O(n) and the exact entries of vectors that groups fix.

Everything else in :mod:`symcorr.groups` builds on this module: the catalogue
(:mod:`.catalogue`), the exact invariance groups (:mod:`.exact`) and the parser (:mod:`.parse`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import sympy as sp
import torch

from ..errors import SpecError
from ..expressions import parse_expression, real_symbol

__all__ = ["Group", "GenericElement", "determinant", "haar_orthogonal", "orthogonality_defect", "vector_entry"]


@dataclass
class GenericElement:
    """A symbolic group element with the relations that define the group.

    ``matrix`` is a ``MatrixSymbol`` (or a column ``MatrixSymbol`` for translations); ``relations``
    are SymPy equalities it satisfies (e.g. ``R.T*R = I``, ``det(R) = 1``).
    """

    matrix: sp.MatrixSymbol
    relations: list = field(default_factory=list)
    description: str = ""

    def latex(self) -> str:
        rel = r",\quad ".join(sp.latex(r) for r in self.relations)
        return sp.latex(self.matrix) + (rf"\quad\text{{with}}\quad {rel}" if rel else "")


def _check_dim(n, where="dim"):
    if isinstance(n, bool):
        raise SpecError(f"group dimension must be a positive integer or symbol, got {n!r}", where)
    if isinstance(n, (int, sp.Integer)):
        if int(n) < 1:
            raise SpecError(f"group dimension must be >= 1, got {n}", where)
        return int(n)
    if isinstance(n, sp.Symbol) and n.is_integer and n.is_positive:
        return n
    raise SpecError(f"group dimension must be a positive integer or a positive-integer symbol, got {n!r}",
                    where)


def haar_orthogonal(k: int, n: int, generator: torch.Generator | None = None, dtype=torch.float64,
                    device=None) -> torch.Tensor:
    """``k`` Haar-random matrices of O(n): QR of a Gaussian matrix with ``R``'s diagonal made positive."""
    dev = generator.device if generator is not None else (device or "cpu")
    z = torch.randn((k, n, n), generator=generator, dtype=dtype, device=dev)
    q, r = torch.linalg.qr(z)
    signs = torch.sign(torch.diagonal(r, dim1=-2, dim2=-1))
    signs = torch.where(signs == 0, torch.ones_like(signs), signs)
    return q * signs[:, None, :]


class Group:
    """Base class.  Subclasses set ``symbol`` (e.g. ``"SO"``) and implement the sampler etc."""

    symbol = "G"
    #: True for groups acting by matrices (everything except translations)
    is_linear = True
    #: True when every element is an orthogonal matrix (an isometry of parameter space when absorbed)
    is_orthogonal = True
    is_finite = False

    def __init__(self, n):
        self.n = _check_dim(n)

    # --- identity ------------------------------------------------------------------------------------
    def _key(self):
        return (type(self).__name__, self.n)

    def __eq__(self, other):
        return isinstance(other, Group) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        return f"{self.symbol}({self.n})"

    def latex(self) -> str:
        return rf"\mathrm{{{self.symbol}}}({sp.latex(self.n)})"

    def _concrete_n(self, what="sampling") -> int:
        if not isinstance(self.n, int):
            raise SpecError(f"{what} needs a concrete dimension, got {self.n}; substitute it first")
        return self.n

    def subs(self, mapping) -> "Group":
        if isinstance(self.n, sp.Basic):
            v = self.n.subs(mapping)
            if v.is_number and not (v.is_integer and v.is_positive):
                raise SpecError(f"group dimension {self.n} = {v} is not a positive integer", "group")
            return type(self)(int(v) if v.is_number else v)
        return self

    # --- numerics ------------------------------------------------------------------------------------
    def sample(self, k: int, generator: torch.Generator, dtype=torch.float64) -> torch.Tensor:
        """``k`` random elements: matrices ``(k, n, n)`` (vectors ``(k, n)`` for translations)."""
        raise NotImplementedError

    def identity(self, dtype=torch.float64) -> torch.Tensor:
        return torch.eye(self._concrete_n(), dtype=dtype)

    def contains(self, g, atol: float = 1e-8) -> bool:
        """Is the matrix (or each of a batch) an element of the group, to tolerance ``atol``?"""
        raise NotImplementedError

    def check(self, g, atol: float = 1e-8) -> torch.Tensor:
        """Return ``g`` as a tensor if it is in the group, else raise a SpecError saying why not."""
        g = torch.as_tensor(g, dtype=torch.float64)
        n = self._concrete_n("checking membership")
        want = (n,) if not self.is_linear else (n, n)
        if tuple(g.shape[-len(want):]) != want:
            raise SpecError(f"an element of {self!r} must have shape {want}, got {tuple(g.shape)}")
        if not self.contains(g, atol):
            raise SpecError(f"matrix is not an element of {self!r}: {self._why_not(g, atol)}")
        return g

    def _why_not(self, g, atol) -> str:
        return "membership test failed"

    def act_on_inputs(self, g: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Points ``x`` (shape ``(..., P, n)``) moved by one element ``g``: ``x_p -> g x_p``."""
        return x @ g.transpose(-1, -2).to(x.dtype)

    def act_on_outputs(self, g: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
        """Outputs ``f`` (shape ``(..., n)``) transformed by ``g``: ``f -> g f``."""
        return f @ g.transpose(-1, -2).to(f.dtype)

    # --- symbolic ------------------------------------------------------------------------------------
    def generic_element(self, name: str = "R") -> GenericElement:
        raise NotImplementedError

    def parametrized_element(self, prefix: str = "a") -> tuple[sp.Matrix, list[sp.Symbol]]:
        """An explicit SymPy matrix of the group depending on free parameters (concrete ``n``)."""
        raise NotImplementedError

    def generators(self) -> list[sp.Matrix]:
        """Generators: Lie algebra basis (continuous groups) or group generators (finite groups).
        Invariance under all generators implies invariance under the (connected) group."""
        raise NotImplementedError

    # --- lattice -------------------------------------------------------------------------------------
    def is_subgroup_of(self, other: "Group") -> bool:
        """Structural subgroup test within the catalogue (same dimension)."""
        if self == other:
            return True
        return False



def determinant(g: torch.Tensor) -> torch.Tensor:
    r"""The determinants of a batch of square matrices ``(..., n, n)``, through numpy's LAPACK
    (:math:`\det g = \mathrm{sign}\cdot e^{\log|\det g|}` from ``slogdet``), same dtype and device.

    Not ``torch.linalg.det``: on CPU, torch's batched LU (``det``, ``slogdet``, ``solve``, ``lu_factor``)
    of matrices larger than about 600 x 600 fails with "Intel oneMKL ERROR: Parameter 6 was incorrect on
    entry to DLASWP" and then hangs once ``torch.set_num_threads(k > 1)`` has been called (torch 2.13 CPU
    wheels; the unbatched call and one thread work).  SO(784) Haar samples, e.g. for Fashion-MNIST-sized
    inputs, hit it under ``--threads 2``.  Group samples are few, so the copy to the host costs little."""
    sign, logabs = np.linalg.slogdet(g.detach().to("cpu", torch.float64).numpy())
    return torch.as_tensor(sign * np.exp(logabs), dtype=g.dtype, device=g.device)


def orthogonality_defect(g: torch.Tensor) -> torch.Tensor:
    eye = torch.eye(g.shape[-1], dtype=g.dtype)
    return (g.transpose(-1, -2) @ g - eye).abs().amax(dim=(-1, -2))



def vector_entry(value, where: str) -> sp.Expr:
    """An entry of a stabiliser vector: SymPy objects as they are, numbers made exact (0.5 -> 1/2),
    strings through the one expression parser (unknown names become real symbols)."""
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, str):
        return parse_expression(value, where, unknown=real_symbol)
    if hasattr(value, "item") and not isinstance(value, (int, float)):  # numpy / torch scalars
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpecError(f"a stabiliser vector entry must be a number or expression, got {value!r}", where)
    if isinstance(value, float) and not math.isfinite(value):
        raise SpecError(f"a stabiliser vector entry must be finite, got {value!r}", where)
    return sp.nsimplify(value)


