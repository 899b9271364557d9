r"""Group actions: a symbolic generic element for proofs and a seeded numeric sampler for tests.

Catalogue (``n`` an int or a positive-integer SymPy symbol):

* :class:`SpecialOrthogonal` SO(n) and :class:`Orthogonal` O(n): Haar samplers (QR of a Gaussian
  matrix with the sign fix of Mezzadri 2007; for SO(n) a fixed reflection maps the det = -1 coset
  onto SO(n), which keeps the Haar measure); symbolic generic element :math:`R` with
  :math:`R^TR = 1` (and :math:`\det R = 1`); explicit parametrisation by the Cayley transform
  :math:`R = (1 - A)(1 + A)^{-1}`, :math:`A^T = -A`, which covers a dense open subset of SO(n).
* :class:`Translations` :math:`x \mapsto x + c` (not compact: samples :math:`c \sim N(0, s^2 1)`).
* :class:`Permutations` (the symmetric group :math:`S_n` as permutation matrices) and
  :class:`SignedPermutations` (the hyperoctahedral group :math:`B_n`: permutations with signs).
* :class:`Stabilizer` of a vector :math:`u` in any of the above: :math:`\{g : g u = u\}`.  For SO(n)
  this is :math:`\cong SO(n-1)` **whatever the number of non-zero entries of u**: it is what a non-zero
  mean vector of the read-out layer leaves of the output symmetry.

Actions: a matrix group acts on inputs by :math:`x \mapsto g x` and on outputs by
:math:`f \mapsto g f`; translations add :math:`c`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import sympy as sp
import torch

from .errors import SpecError
from .expressions import MAX_LENGTH, parse_expression, positive_integer_symbol, real_symbol

__all__ = [
    "Group", "SpecialOrthogonal", "Orthogonal", "Translations", "Permutations", "SignedPermutations",
    "Stabilizer", "GenericElement", "parse_group", "resolve_group", "haar_orthogonal",
]


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


def _orthogonality_defect(g: torch.Tensor) -> torch.Tensor:
    eye = torch.eye(g.shape[-1], dtype=g.dtype)
    return (g.transpose(-1, -2) @ g - eye).abs().amax(dim=(-1, -2))


class Orthogonal(Group):
    """O(n): all orthogonal matrices."""

    symbol = "O"

    def sample(self, k, generator, dtype=torch.float64):
        return haar_orthogonal(k, self._concrete_n(), generator, dtype)

    def contains(self, g, atol=1e-8):
        g = torch.as_tensor(g, dtype=torch.float64)
        return bool((_orthogonality_defect(g) <= atol).all())

    def _why_not(self, g, atol):
        return f"g^T g differs from the identity by {float(_orthogonality_defect(g).max()):.3g}"

    def generic_element(self, name="R"):
        r = sp.MatrixSymbol(name, self.n, self.n)
        return GenericElement(r, [sp.Eq(r.T * r, sp.Identity(self.n))], f"a generic element of O({self.n})")

    def parametrized_element(self, prefix="a"):
        rot, params = SpecialOrthogonal(self.n).parametrized_element(prefix)
        s = sp.Symbol(f"{prefix}_s")  # s = +-1 selects the component
        reflect = sp.diag(s, *([1] * (self._concrete_n() - 1)))
        return rot * reflect, params + [s]

    def generators(self):
        n = self._concrete_n("generators")
        gens = SpecialOrthogonal(n).generators()
        return gens + [sp.diag(-1, *([1] * (n - 1)))]

    def is_subgroup_of(self, other):
        return self == other


class SpecialOrthogonal(Orthogonal):
    """SO(n): rotations (orthogonal, determinant 1)."""

    symbol = "SO"

    def sample(self, k, generator, dtype=torch.float64):
        n = self._concrete_n()
        q = haar_orthogonal(k, n, generator, dtype)
        det = torch.linalg.det(q)
        flip = torch.ones((k, n), dtype=dtype, device=q.device)
        flip[:, 0] = torch.sign(det)
        return q * flip[:, None, :]

    def contains(self, g, atol=1e-8):
        g = torch.as_tensor(g, dtype=torch.float64)
        return super().contains(g, atol) and bool(((torch.linalg.det(g) - 1).abs() <= atol).all())

    def _why_not(self, g, atol):
        defect = float(_orthogonality_defect(g).max())
        if defect > atol:
            return f"g^T g differs from the identity by {defect:.3g}"
        return f"determinant is {float(torch.linalg.det(g).reshape(-1)[0]):.3g}, not 1"

    def generic_element(self, name="R"):
        r = sp.MatrixSymbol(name, self.n, self.n)
        return GenericElement(r, [sp.Eq(r.T * r, sp.Identity(self.n)), sp.Eq(sp.Determinant(r), 1)],
                              f"a generic element of SO({self.n})")

    def parametrized_element(self, prefix="a"):
        r"""Cayley transform :math:`R = (1 - A)(1 + A)^{-1}` with antisymmetric :math:`A` of
        :math:`n(n-1)/2` real parameters (SO(2): the rotation by an angle)."""
        n = self._concrete_n("parametrized_element")
        if n == 1:
            return sp.Matrix([[1]]), []
        if n == 2:
            t = sp.Symbol(f"{prefix}_theta", real=True)
            return sp.Matrix([[sp.cos(t), -sp.sin(t)], [sp.sin(t), sp.cos(t)]]), [t]
        params = []
        a = sp.zeros(n, n)
        for i in range(n):
            for j in range(i + 1, n):
                s = sp.Symbol(f"{prefix}_{i}{j}", real=True)
                params.append(s)
                a[i, j], a[j, i] = s, -s
        eye = sp.eye(n)
        return sp.simplify((eye - a) * (eye + a).inv()), params

    def generators(self):
        n = self._concrete_n("generators")
        gens = []
        for i in range(n):
            for j in range(i + 1, n):
                m = sp.zeros(n, n)
                m[i, j], m[j, i] = -1, 1
                gens.append(m)
        return gens

    def is_subgroup_of(self, other):
        return isinstance(other, Orthogonal) and other.n == self.n


class Translations(Group):
    r"""Translations :math:`x \mapsto x + c`, :math:`c\in R^n` (non-compact: samples are
    :math:`c \sim N(0, s^2 1)` with ``scale`` s)."""

    symbol = "T"
    is_linear = False
    is_orthogonal = False

    def __init__(self, n, scale: float = 1.0):
        super().__init__(n)
        if not scale > 0:
            raise SpecError(f"translation sample scale must be positive, got {scale}")
        self.scale = float(scale)

    def _key(self):
        return (type(self).__name__, self.n)

    def subs(self, mapping):
        out = super().subs(mapping)
        out.scale = self.scale
        return out

    def sample(self, k, generator, dtype=torch.float64):
        n = self._concrete_n()
        return self.scale * torch.randn((k, n), generator=generator, dtype=dtype, device=generator.device)

    def identity(self, dtype=torch.float64):
        return torch.zeros(self._concrete_n(), dtype=dtype)

    def contains(self, g, atol=1e-8):
        g = torch.as_tensor(g)
        return bool(torch.isfinite(g).all())

    def _why_not(self, g, atol):
        return "translation vector is not finite"

    def act_on_inputs(self, g, x):
        return x + g.to(x.dtype)

    def act_on_outputs(self, g, f):
        return f + g.to(f.dtype)

    def generic_element(self, name="c"):
        return GenericElement(sp.MatrixSymbol(name, self.n, 1), [], f"a translation vector in R^{self.n}")

    def parametrized_element(self, prefix="c"):
        n = self._concrete_n("parametrized_element")
        params = [sp.Symbol(f"{prefix}_{i}", real=True) for i in range(n)]
        return sp.Matrix(params), params

    def generators(self):
        n = self._concrete_n("generators")
        return [sp.Matrix([1 if j == i else 0 for j in range(n)]) for i in range(n)]


def _is_signed_permutation(g: torch.Tensor, atol: float, signed: bool) -> torch.Tensor:
    a = g.abs()
    ok_entries = ((a <= atol) | ((a - 1).abs() <= atol)).all(dim=(-1, -2))
    ones = ((a - 1).abs() <= atol).to(g.dtype)
    ok_rows = ((ones.sum(-1) == 1).all(-1)) & ((ones.sum(-2) == 1).all(-1))
    ok_sign = torch.ones_like(ok_rows) if signed else (g >= -atol).all(dim=(-1, -2))
    return ok_entries & ok_rows & ok_sign


class Permutations(Group):
    """The symmetric group S_n acting by permutation matrices."""

    symbol = "S"
    is_finite = True

    def sample(self, k, generator, dtype=torch.float64):
        n = self._concrete_n()
        perms = torch.argsort(torch.rand((k, n), generator=generator, device=generator.device), dim=-1)
        eye = torch.eye(n, dtype=dtype, device=generator.device)
        return eye[perms]

    def contains(self, g, atol=1e-8):
        return bool(_is_signed_permutation(torch.as_tensor(g, dtype=torch.float64), atol, False).all())

    def _why_not(self, g, atol):
        return "not a permutation matrix (entries must be 0/1 with one 1 per row and column)"

    def generic_element(self, name="P"):
        p = sp.MatrixSymbol(name, self.n, self.n)
        return GenericElement(p, [sp.Eq(p.T * p, sp.Identity(self.n))],
                              f"a permutation matrix of size {self.n} (entries 0/1)")

    def generators(self):
        """Adjacent transpositions (i, i+1)."""
        n = self._concrete_n("generators")
        gens = []
        for i in range(n - 1):
            m = sp.eye(n)
            m[i, i], m[i + 1, i + 1], m[i, i + 1], m[i + 1, i] = 0, 0, 1, 1
            gens.append(m)
        return gens

    def is_subgroup_of(self, other):
        if self == other:
            return True
        if not isinstance(other, Group) or other.n != self.n:
            return False
        if isinstance(other, SpecialOrthogonal):  # odd permutations have determinant -1
            return self.n == 1
        return isinstance(other, (SignedPermutations, Orthogonal))


class SignedPermutations(Group):
    """The hyperoctahedral group B_n: permutation matrices with arbitrary signs (symmetries of the cube)."""

    symbol = "B"
    is_finite = True

    def sample(self, k, generator, dtype=torch.float64):
        n = self._concrete_n()
        p = Permutations(n).sample(k, generator, dtype)
        signs = 2 * torch.randint(0, 2, (k, n), generator=generator, device=generator.device).to(dtype) - 1
        return p * signs[:, :, None]

    def contains(self, g, atol=1e-8):
        return bool(_is_signed_permutation(torch.as_tensor(g, dtype=torch.float64), atol, True).all())

    def _why_not(self, g, atol):
        return "not a signed permutation matrix (entries 0/+-1 with one non-zero per row and column)"

    def generic_element(self, name="P"):
        p = sp.MatrixSymbol(name, self.n, self.n)
        return GenericElement(p, [sp.Eq(p.T * p, sp.Identity(self.n))],
                              f"a signed permutation matrix of size {self.n} (entries 0, +1, -1)")

    def generators(self):
        n = self._concrete_n("generators")
        return Permutations(n).generators() + [sp.diag(-1, *([1] * (n - 1)))]

    def is_subgroup_of(self, other):
        return isinstance(other, Orthogonal) and not isinstance(other, SpecialOrthogonal) and \
            other.n == self.n or self == other


class Stabilizer(Group):
    r"""The subgroup :math:`\{g \in G : g u = u\}` of a linear group ``G`` fixing the vector ``u``.

    For ``G = SO(n)`` and ``u != 0`` it is conjugate to SO(n-1) (rotations of the complement of u),
    for ``G = O(n)`` to O(n-1); for permutation groups, the permutations preserving u's entries.
    """

    def __init__(self, parent: Group, vector):
        if not isinstance(parent, Group) or not parent.is_linear:
            raise SpecError("a stabiliser needs a linear parent group (SO, O, S or B)")
        super().__init__(parent.n)
        n = parent._concrete_n("a stabiliser")
        vec = [_vector_entry(v, f"fix[{i}]") for i, v in enumerate(list(vector))]
        if len(vec) != n:
            raise SpecError(f"stabiliser vector has length {len(vec)}, expected {n}")
        if all(v == 0 for v in vec):
            raise SpecError("the stabiliser of the zero vector is the whole group; give a non-zero vector")
        self.parent = parent
        self.vector = sp.Matrix(vec)
        self.symbol = f"Stab_{parent.symbol}"
        self.is_finite = parent.is_finite

    def _key(self):
        return ("Stabilizer", self.parent._key(), tuple(self.vector))

    def __repr__(self):
        return f"Stab({self.parent!r}, {list(self.vector)})"

    def latex(self):
        return rf"\mathrm{{Stab}}_{{{self.parent.latex()}}}\left({sp.latex(self.vector.T)}^T\right)"

    def subs(self, mapping):
        return self

    @property
    def residual_description(self) -> str:
        """What the stabiliser is isomorphic to, e.g. ``SO(9)`` for any non-zero u in R^10."""
        n = self.n
        if isinstance(self.parent, SpecialOrthogonal):
            return f"SO({n - 1})"
        if isinstance(self.parent, Orthogonal):
            return f"O({n - 1})"
        return f"{self.parent!r} restricted to the level sets of u"

    def _basis(self, dtype=torch.float64) -> torch.Tensor:
        """An orthonormal basis whose first column is u/|u| (Householder reflection)."""
        u = torch.tensor([float(v) for v in self.vector], dtype=dtype)
        u = u / u.norm()
        e = torch.zeros_like(u)
        e[0] = 1.0
        w = u - e
        if w.norm() < 1e-12:
            return torch.eye(len(u), dtype=dtype)
        w = w / w.norm()
        return torch.eye(len(u), dtype=dtype) - 2.0 * torch.outer(w, w)

    def sample(self, k, generator, dtype=torch.float64):
        n = self.n
        if isinstance(self.parent, Orthogonal):
            sub = (SpecialOrthogonal if isinstance(self.parent, SpecialOrthogonal) else Orthogonal)
            block = torch.eye(n, dtype=dtype, device=generator.device).repeat(k, 1, 1)
            if n > 1:
                block[:, 1:, 1:] = sub(n - 1).sample(k, generator, dtype)
            q = self._basis(dtype).to(generator.device)
            # q is a reflection (det -1) mapping e_1 to u/|u|; conjugation keeps determinants
            return q @ block @ q.T
        # permutation groups: g[i, p(i)] = s_i with (g u)_i = s_i u_{p(i)} = u_i.  S_n: p permutes each
        # level set of u, s = 1.  B_n: p permutes each class of equal |u_i|, s_i = u_i / u_{p(i)} (so an
        # entry +a may go to a position holding -a with a sign flip), and zero entries get random signs.
        signed = isinstance(self.parent, SignedPermutations)
        vals = [self.vector[i] for i in range(n)]
        out = torch.zeros((k, n, n), dtype=dtype, device=generator.device)
        levels: dict = {}
        for i, v in enumerate(vals):
            levels.setdefault(abs(v) if signed else v, []).append(i)
        for v, idx in levels.items():
            m = len(idx)
            perm = torch.argsort(torch.rand((k, m), generator=generator, device=generator.device), dim=-1)
            idx_t = torch.tensor(idx, device=generator.device)
            rows = idx_t[None, :].expand(k, m)
            cols = idx_t[perm]
            if signed and v == 0:
                sign = 2 * torch.randint(0, 2, (k, m), generator=generator, device=generator.device).to(dtype) - 1
            elif signed:
                u = torch.tensor([float(vals[i]) for i in idx], dtype=dtype, device=generator.device)
                sign = u[None, :] / u[perm]
            else:
                sign = torch.ones((k, m), dtype=dtype, device=generator.device)
            out[torch.arange(k)[:, None], rows, cols] = sign
        return out

    def contains(self, g, atol=1e-8):
        g = torch.as_tensor(g, dtype=torch.float64)
        u = torch.tensor([float(v) for v in self.vector], dtype=torch.float64)
        return self.parent.contains(g, atol) and bool(((g @ u - u).abs() <= atol * max(1.0, float(u.abs().max()))).all())

    def _why_not(self, g, atol):
        if not self.parent.contains(g, atol):
            return self.parent._why_not(g, atol)
        return "it does not fix the vector u"

    def generic_element(self, name="R"):
        base = self.parent.generic_element(name)
        u = sp.ImmutableMatrix(self.vector)
        return GenericElement(base.matrix, base.relations + [sp.Eq(base.matrix * u, u)],
                              f"an element of {self.parent!r} fixing u = {list(self.vector)}")

    def parametrized_element(self, prefix="a"):
        n = self.n
        if not isinstance(self.parent, Orthogonal):
            raise SpecError("explicit parametrisation is available for stabilisers in SO(n)/O(n) only")
        if n == 1:  # the only orthogonal 1x1 matrix fixing u != 0 is 1
            return sp.eye(1), []
        sub = (SpecialOrthogonal if isinstance(self.parent, SpecialOrthogonal) else Orthogonal)(n - 1)
        inner, params = sub.parametrized_element(prefix) if n > 1 else (sp.Matrix([]), [])
        q = _exact_basis(self.vector)
        block = sp.diag(1, inner) if n > 1 else sp.eye(1)
        return sp.simplify(q * block * q.T), params

    def generators(self):
        """Lie algebra of the rotations fixing u (antisymmetric, ``L u = 0``: ``q diag(0, L') q^T``), plus
        for an O(n) parent the reflection ``q diag(1, -1, 1, ...) q^T`` (a group element fixing u)."""
        if isinstance(self.parent, Orthogonal):
            n = self.n
            if n == 1:
                return []
            q = _exact_basis(self.vector)
            gens = [q * sp.diag(0, m) * q.T for m in SpecialOrthogonal(n - 1).generators()]
            if not isinstance(self.parent, SpecialOrthogonal):
                gens.append(q * sp.diag(1, -1, *([1] * (n - 2))) * q.T)
            return gens
        raise SpecError("generators are available for stabilisers in SO(n)/O(n) only")

    def is_subgroup_of(self, other):
        return self == other or self.parent == other or self.parent.is_subgroup_of(other)


def _exact_basis(u: sp.Matrix) -> sp.Matrix:
    """Exact orthonormal basis (columns) of R^n whose first column is u/|u| (Gram-Schmidt)."""
    n = len(u)
    vecs = [sp.Matrix(u)] + [sp.Matrix([1 if j == i else 0 for j in range(n)]) for i in range(n)]
    basis = []
    for v in vecs:
        w = v - sum(((b.T * v)[0, 0] * b for b in basis), sp.zeros(n, 1))
        w = sp.simplify(w)
        norm = sp.sqrt(sp.simplify((w.T * w)[0, 0]))
        if norm != 0:
            basis.append(sp.simplify(w / norm))
        if len(basis) == n:
            break
    return sp.Matrix.hstack(*basis)


_GROUP_NAMES = {
    "so": SpecialOrthogonal, "special_orthogonal": SpecialOrthogonal, "rotations": SpecialOrthogonal,
    "o": Orthogonal, "orthogonal": Orthogonal,
    "t": Translations, "translations": Translations, "translation": Translations,
    "s": Permutations, "permutations": Permutations, "sym": Permutations,
    "b": SignedPermutations, "signed_permutations": SignedPermutations, "hyperoctahedral": SignedPermutations,
}


def _parse_dimension(arg: str, symbols: dict | None):
    """The dimension inside ``"SO(...)"``, through the one expression parser
    (:func:`symcorr.expressions.parse_expression`): a positive integer, a name from ``symbols`` or
    another name, which becomes a positive-integer symbol."""
    n = parse_expression(arg, "group", symbols=symbols or {}, unknown=positive_integer_symbol)
    if n.is_number:
        if not (n.is_integer and n >= 0):
            raise SpecError(f"group dimension must be a positive integer or a symbol name, got {arg!r}",
                            "group")
        return int(n)
    return n


def _dimension_expr(dim, where: str = "group"):
    """``dim`` (an int or a SymPy expression) for comparisons; a string is refused here (SymPy's
    ``sympify`` would run it)."""
    if isinstance(dim, str):
        raise SpecError(f"the dimension must be an integer or a SymPy symbol, got the string {dim!r}", where)
    return sp.sympify(dim, strict=True)


def _vector_entry(value, where: str) -> sp.Expr:
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


def parse_group(text: str, dim=None, symbols: dict | None = None, fix=None) -> Group:
    """Parse ``"SO(3)"``, ``"SO(D)"``, ``"SO"`` (dimension from ``dim``), ``"O(n)"``,
    ``"translations"``, ``"permutations"``, ``"signed_permutations"``; ``fix=[...]`` makes the
    stabiliser of that vector.  ``symbols`` resolves symbolic dimensions by name."""
    if isinstance(text, Group):
        group = text
    else:
        if not isinstance(text, str):
            raise SpecError(f"group must be a name such as 'SO(3)', got {text!r}", "group")
        if len(text) > MAX_LENGTH:
            raise SpecError(f"group name is {len(text)} characters long; use e.g. 'SO(3)'", "group")
        shown = repr(text if len(text) <= 60 else text[:57] + "...")
        m = re.fullmatch(r"\s*([A-Za-z_]+)\s*(?:\(\s*([^)]*)\s*\))?\s*", text)
        if not m:
            raise SpecError(f"cannot parse group {shown}; use e.g. 'SO(3)', 'O', 'translations'", "group")
        key = m.group(1).lower()
        if key not in _GROUP_NAMES:
            raise SpecError(f"unknown group {m.group(1)[:40]!r}; known: SO, O, translations, permutations, "
                            "signed_permutations (and fix=[...] for a stabiliser)", "group")
        arg = m.group(2)
        if arg:
            n = _parse_dimension(arg, symbols)
        elif dim is not None:
            n = dim
        else:
            raise SpecError(f"group {shown} needs a dimension, e.g. '{m.group(1)[:40]}(3)'", "group")
        if dim is not None and arg and sp.simplify(sp.sympify(n) - _dimension_expr(dim)) != 0:
            raise SpecError(f"group {shown} acts on dimension {n}, but the space has dimension {dim}", "group")
        group = _GROUP_NAMES[key](n)
    if fix is not None:
        group = Stabilizer(group, fix)
    return group


def resolve_group(group, dim, where: str = "group") -> Group:
    """The one place where a group argument meets the space it acts on: ``group`` (a :class:`Group` or
    a name such as ``"SO"`` / ``"SO(3)"``, parsed with dimension ``dim``) checked to act on ``dim``
    (an int or a positive-integer symbol); a SpecError naming ``where`` otherwise."""
    if isinstance(group, str):
        return parse_group(group, dim=dim)
    if not isinstance(group, Group):
        raise SpecError(f"expected a group or a group name such as 'SO(3)', got {group!r}", where)
    if sp.simplify(sp.sympify(group.n) - _dimension_expr(dim, where)) != 0:
        raise SpecError(f"{group!r} acts on dimension {group.n}, but the space has dimension {dim}", where)
    return group


def rotation_matrix_2d(theta: float, dtype=torch.float64) -> torch.Tensor:
    """The SO(2) rotation by ``theta`` (used by tests and examples)."""
    c, s = math.cos(theta), math.sin(theta)
    return torch.tensor([[c, -s], [s, c]], dtype=dtype)
