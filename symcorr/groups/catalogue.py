r"""The catalogue of group actions: a symbolic generic element for proofs and a seeded numeric sampler.

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

import sympy as sp
import torch

from ..errors import SpecError
from .base import GenericElement, Group, determinant, haar_orthogonal, orthogonality_defect, vector_entry

__all__ = ["SpecialOrthogonal", "Orthogonal", "Translations", "Permutations", "SignedPermutations", "Stabilizer",
           "rotation_matrix_2d", "exact_orthonormal_basis", "is_signed_permutation_tensor"]


class Orthogonal(Group):
    """O(n): all orthogonal matrices."""

    symbol = "O"

    def sample(self, k, generator, dtype=torch.float64):
        return haar_orthogonal(k, self._concrete_n(), generator, dtype)

    def contains(self, g, atol=1e-8):
        g = torch.as_tensor(g, dtype=torch.float64)
        return bool((orthogonality_defect(g) <= atol).all())

    def _why_not(self, g, atol):
        return f"g^T g differs from the identity by {float(orthogonality_defect(g).max()):.3g}"

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
        det = determinant(q)
        flip = torch.ones((k, n), dtype=dtype, device=q.device)
        flip[:, 0] = torch.sign(det)
        return q * flip[:, None, :]

    def contains(self, g, atol=1e-8):
        g = torch.as_tensor(g, dtype=torch.float64)
        return super().contains(g, atol) and bool(((determinant(g) - 1).abs() <= atol).all())

    def _why_not(self, g, atol):
        defect = float(orthogonality_defect(g).max())
        if defect > atol:
            return f"g^T g differs from the identity by {defect:.3g}"
        return f"determinant is {float(determinant(g).reshape(-1)[0]):.3g}, not 1"

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


def is_signed_permutation_tensor(g: torch.Tensor, atol: float, signed: bool) -> torch.Tensor:
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
        return bool(is_signed_permutation_tensor(torch.as_tensor(g, dtype=torch.float64), atol, False).all())

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
        return bool(is_signed_permutation_tensor(torch.as_tensor(g, dtype=torch.float64), atol, True).all())

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
        vec = [vector_entry(v, f"fix[{i}]") for i, v in enumerate(list(vector))]
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
        q = exact_orthonormal_basis(self.vector)
        block = sp.diag(1, inner) if n > 1 else sp.eye(1)
        return sp.simplify(q * block * q.T), params

    def generators(self):
        """Lie algebra of the rotations fixing u (antisymmetric, ``L u = 0``: ``q diag(0, L') q^T``), plus
        for an O(n) parent the reflection ``q diag(1, -1, 1, ...) q^T`` (a group element fixing u)."""
        if isinstance(self.parent, Orthogonal):
            n = self.n
            if n == 1:
                return []
            q = exact_orthonormal_basis(self.vector)
            gens = [q * sp.diag(0, m) * q.T for m in SpecialOrthogonal(n - 1).generators()]
            if not isinstance(self.parent, SpecialOrthogonal):
                gens.append(q * sp.diag(1, -1, *([1] * (n - 2))) * q.T)
            return gens
        raise SpecError("generators are available for stabilisers in SO(n)/O(n) only")

    def is_subgroup_of(self, other):
        return self == other or self.parent == other or self.parent.is_subgroup_of(other)


def exact_orthonormal_basis(u: sp.Matrix) -> sp.Matrix:
    """Exact orthonormal basis (columns) of R^n whose first column is u/|u| (Gram-Schmidt)."""
    n = len(u)
    vecs = [sp.Matrix(u)] + [sp.Matrix([1 if j == i else 0 for j in range(n)]) for i in range(n)]
    basis: list[sp.Matrix] = []
    for v in vecs:
        w = v - sum(((b.T * v)[0, 0] * b for b in basis), sp.zeros(n, 1))
        w = sp.simplify(w)
        norm = sp.sqrt(sp.simplify((w.T * w)[0, 0]))
        if norm != 0:
            basis.append(sp.simplify(w / norm))
        if len(basis) == n:
            break
    return sp.Matrix.hstack(*basis)



def rotation_matrix_2d(theta: float, dtype=torch.float64) -> torch.Tensor:
    """The SO(2) rotation by ``theta`` (used by tests and examples)."""
    c, s = math.cos(theta), math.sin(theta)
    return torch.tensor([[c, -s], [s, c]], dtype=dtype)

