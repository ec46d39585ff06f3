"""Curvilinear coordinates: derivatives with respect to physical coordinates given at every sample.

When the spacing of :func:`jaxgrad.gradient`, :func:`jaxgrad.laplacian`, :func:`jaxgrad.divergence`
or :func:`jaxgrad.curl` is one coordinate array per spatial axis, each of the field's full shape
(``X[i, j]``, ``Y[i, j]``: the position of sample ``f[i, j]``), their planners hand the call to
this module. Everything is computed from index-space derivatives (unit steps, the usual stencils
and edge rules) and the Jacobian ``J[a][b] = dX_a / di_b`` of the grid, inverted at every sample
by explicit cofactors:

* first derivatives: ``df/dX_a = sum_b K[b][a] df/di_b`` with ``K = J^-1``;
* the Laplacian, by the second-order chain rule:
  ``lap f = sum_bc G[b][c] d2f/di_b di_c + sum_b (lap i_b) df/di_b`` with the inverse metric
  ``G = K K^T`` and ``lap i_b = -sum_e K[b][e] sum_cd G[c][d] d2X_e/di_c di_d``.

So on a grid that is a meshgrid of uniform 1-D coordinates the Jacobian is diagonal, the grid's
second derivatives vanish, and every function reduces to the 1-D-coordinate stencils (to rounding).
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.custom_derivatives import SymbolicZero
from jax.experimental import checkify
from jax.typing import ArrayLike

from jaxgrad._apply import apply_transposed, materialized_on_cpu
from jaxgrad._args import (
    as_field,
    check_cval,
    is_traced,
    normalize_accuracy,
    normalize_boundaries,
    normalize_int,
    per_axis,
    rank,
)
from jaxgrad._core import add_all, axis_stencil, derivative_along, min_points, real_dtype, to_output, to_working
from jaxgrad._halo import Layout, apply_along
from jaxgrad._launch import Plan, kernel

Array = jax.Array
Matrix = list[list[Any]]
BLOCKS_FROM = 65536  # samples: from here on the gradient's interior runs as one fused loop

# Public functions that take curvilinear coordinates (the others refuse them by name).
SUPPORTED = ("gradient", "a laplacian", "a divergence", "a curl")


def is_curvilinear(varargs: Sequence[Any]) -> bool:
    """True when a spacing argument has two or more dimensions: the call asks for curvilinear
    coordinates, and is checked as such (a misfit then gets an error that says so)."""
    for v in varargs:
        if isinstance(v, (str, bytes)) or v is None:
            continue
        try:
            if np.ndim(v) >= 2:
                return True
        except ValueError:  # ragged: the regular path names it
            continue
    return False


# --- validation (in Python, before tracing) ------------------------------------------------------


@jax.jit
def _extremes(x: Array) -> Array:
    # Float min/max: NaN propagates, so finite extremes mean finite values (booleans reduce slowly).
    return jnp.stack([jnp.min(x), jnp.max(x)])


# Concrete JAX coordinate arrays are checked once per array (they are immutable and usually reused).
_FINITE: dict[int, tuple[weakref.ref, bool]] = {}


def _all_finite(x: Any) -> bool:
    if isinstance(x, np.ndarray):
        return bool(np.all(np.isfinite(x)))
    key = id(x)
    hit = _FINITE.get(key)
    if hit is not None and hit[0]() is x:
        return hit[1]
    with jax.ensure_compile_time_eval():  # a concrete array closed over inside a user's jit
        finite = bool(np.all(np.isfinite(np.asarray(_extremes(x)))))

    def forget(_: Any) -> None:
        _FINITE.pop(key, None)

    try:
        _FINITE[key] = (weakref.ref(x, forget), finite)
    except TypeError:  # no weak references: no caching
        pass
    return finite


def coordinate_arrays(varargs: Sequence[Any], shape: tuple[int, ...], what: str) -> tuple[Any, ...]:
    """The curvilinear coordinate arrays of a call, checked: one per spatial axis, each of the
    field's spatial ``shape``, real, and finite when concrete. Concrete numpy arrays are measured
    from their first sample (float32 keeps the steps of coordinates far from zero)."""
    k = len(shape)
    if what not in SUPPORTED:
        raise ValueError(
            f"{what} takes scalar steps or 1-D coordinate arrays; curvilinear coordinates (one array of "
            f"the field's shape per axis) are taken by gradient, divergence, curl and laplacian"
        )
    if k not in (2, 3):
        shapes = [np.shape(v) for v in varargs]
        raise ValueError(
            f"each spacing argument must be a scalar or a 1-D coordinate array (or, on 2-D and 3-D grids, all of "
            f"them curvilinear coordinate arrays of the grid's shape); got shapes {shapes} for a grid of shape {shape}"
        )
    if len(varargs) != k:
        raise TypeError(
            f"curvilinear coordinates need one coordinate array per axis: got {len(varargs)} spacing arguments "
            f"for a grid of shape {shape} ({k} axes)"
        )
    ranks = [rank(v, f"spacing argument {i}") if not isinstance(v, (str, bytes)) and v is not None else -1
             for i, v in enumerate(varargs)]
    full = next(i for i, r in enumerate(ranks) if r >= 2)
    for i, r in enumerate(ranks):
        if r < 2:
            v = varargs[i]
            kind = "a scalar step" if r == 0 else "a 1-D coordinate array" if r == 1 else repr(v)
            raise ValueError(
                f"spacing argument {i} is {kind}, but spacing argument {full} has shape "
                f"{np.shape(varargs[full])}: curvilinear coordinates need one array of the grid's shape {shape} "
                f"per axis; otherwise each spacing argument must be a scalar or a 1-D coordinate array"
            )
    out = []
    for i, v in enumerate(varargs):
        x = v if isinstance(v, (jax.Array, np.ndarray)) else np.asarray(v)
        if tuple(x.shape) != tuple(shape):
            raise ValueError(
                f"spacing argument {i} has shape {tuple(x.shape)}, but curvilinear coordinates must have the "
                f"grid's shape {shape} (other spacing arguments are a scalar or a 1-D coordinate array)"
            )
        dtype = np.dtype(x.dtype)
        if dtype == np.dtype(bool) or not (jnp.issubdtype(dtype, jnp.integer) or jnp.issubdtype(dtype, jnp.floating)):
            raise TypeError(f"spacing argument {i} (curvilinear coordinates) must hold real numbers, got dtype {dtype}")
        if jnp.issubdtype(dtype, jnp.integer):  # before any subtraction: no integer wrap-around
            x = x.astype(np.float64) if isinstance(x, np.ndarray) else x.astype(jnp.result_type(float))
        if not is_traced(x):
            if not _all_finite(x):
                raise ValueError(f"spacing argument {i} (curvilinear coordinates) contains NaN or inf")
            if isinstance(x, np.ndarray) and x.size:
                x = x - x.flat[0]
        out.append(x)
    return tuple(out)


def _min_points(shape: tuple[int, ...], needed: Sequence[int], what: str, detail: str) -> None:
    for a, (n, m) in enumerate(zip(shape, needed)):
        if n < m:
            raise ValueError(f"axis {a} has {n} points, too few for {what} on curvilinear coordinates ({detail}): "
                             f"at least {m} are required")


def _periodic_flags(boundary: Any, period: Any, cval: Any, ndim: int, dtype: Any) -> tuple[bool, ...]:
    """Index axes are one-sided or periodic: ghost samples of a padding mode would also pad the
    coordinate arrays, and a reflected grid folds (a singular Jacobian) at its edges."""
    modes = normalize_boundaries(boundary, ndim)
    for m in modes:
        if m not in ("one-sided", "periodic"):
            raise ValueError(f"boundary {m!r} cannot be used with curvilinear coordinates: they take 'one-sided' or "
                             f"'periodic' index axes (mirrored ghost coordinates would fold the grid at its edges)")
    check_cval(cval, modes, dtype)
    if any(p is not None for p in per_axis(period, ndim, "period")):
        raise ValueError(
            "period is not used with curvilinear coordinates: along a periodic axis the coordinate arrays "
            "themselves must continue periodically (as X and Y do around a polar grid)"
        )
    return tuple(m == "periodic" for m in modes)


def _operator_options(shape: tuple[int, ...], accuracy: Any, boundary: Any, period: Any, cval: Any, what: str,
                      orders: tuple[int, ...], dtype: Any) -> tuple[int, tuple[bool, ...]]:
    accuracy = normalize_accuracy(accuracy)
    periodic = _periodic_flags(boundary, period, cval, len(shape), dtype)
    needed = [max(min_points(o, accuracy, True, "periodic" if p else "one-sided") for o in orders) for p in periodic]
    _min_points(shape, needed, what, f"accuracy {accuracy}")
    return accuracy, periodic


def plan_gradient(f: Any, varargs: Sequence[Any], *, axis: Any, edge_order: Any, boundary: Any, period: Any, cval: Any,
                  datetime_unit: Any) -> Plan:
    """The plan of ``gradient(f, X, Y, ...)`` on curvilinear coordinates."""
    f = as_field(f)
    if axis is not None:
        raise ValueError(f"axis={axis!r} cannot be combined with curvilinear coordinates: they differentiate "
                         f"along every axis (axis=None)")
    if datetime_unit is not None:
        raise ValueError("datetime_unit is for date coordinates; curvilinear coordinates are numbers")
    edge_order = normalize_int(edge_order, "edge_order", 1)
    if edge_order > 2:
        raise ValueError(f"edge_order must be 1 or 2, got {edge_order}")
    coords = coordinate_arrays(varargs, tuple(f.shape), "gradient")
    periodic = _periodic_flags(boundary, period, cval, f.ndim, f.dtype)
    _min_points(f.shape, [3 if p else edge_order + 1 for p in periodic], "a gradient", f"edge_order {edge_order}")
    static = {"edge_order": edge_order, "periodic": periodic}
    return Plan(_gradient, f, (coords,), static)


def plan_operator(F: Any, varargs: Sequence[Any], *, axis: Any, accuracy: Any, boundary: Any, period: Any, cval: Any,
                  what: str, field: bool) -> Plan:
    """The plan of ``laplacian`` (a scalar ``F``), ``divergence`` or ``curl`` (``F`` of shape
    ``(k, *shape)``, already stacked) on curvilinear coordinates."""
    shape = tuple(F.shape[1:] if field else F.shape)
    if axis is not None:
        raise ValueError(f"axis={axis!r} cannot be combined with curvilinear coordinates: they differentiate "
                         f"along every axis (axis=None)")
    coords = coordinate_arrays(varargs, shape, what)
    orders = (1, 2) if what == "a laplacian" else (1,)
    accuracy, periodic = _operator_options(shape, accuracy, boundary, period, cval, what, orders, F.dtype)
    core = {"a laplacian": _laplacian, "a divergence": _divergence, "a curl": _curl}[what]
    static = {"accuracy": accuracy, "periodic": periodic}
    return Plan(core, F, (coords,), static, spatial_ndim=len(shape) if field else None)


# --- the maths (inside jit) ----------------------------------------------------------------------


class IndexSpace(NamedTuple):
    """How derivatives with respect to the sample indices are taken: gradient's rules
    (``edge_order`` > 0: central differences, one-sided edges of that order) or the scheme of
    :func:`jaxgrad.derivative` (``accuracy``). The spatial axes are the trailing ``len(periodic)``."""

    periodic: tuple[bool, ...]
    layout: Layout | None
    edge_order: int = 0
    accuracy: int = 2

    def stencil(self, x: Array, b: int) -> Any:
        """Gradient's first-derivative stencil (``edge_order`` > 0) along spatial axis ``b`` of ``x``."""
        axis = x.ndim - len(self.periodic) + b
        boundary = "periodic" if self.periodic[b] else "one-sided"
        return axis_stencil(1.0, real_dtype(x.dtype), x.shape[axis], order=1, offsets=(-1, 0, 1),
                            edge_width=self.edge_order + 1, boundary=boundary)

    def d(self, x: Array, b: int, order: int = 1) -> Array:
        """The ``order``-th derivative of ``x`` along spatial axis ``b`` with respect to its index."""
        axis = x.ndim - len(self.periodic) + b
        boundary = "periodic" if self.periodic[b] else "one-sided"
        if self.edge_order:
            return apply_along(x, axis, self.stencil(x, b), self.layout)
        return derivative_along(x, 1.0, axis, self.layout, order=order, accuracy=self.accuracy, boundary=boundary)


def geometry_dtype(coords: Sequence[Any], dtype: Any) -> Any:
    """The grid's maths runs at the data's real working precision, or the coordinates' if higher."""
    return jnp.promote_types(real_dtype(dtype), jnp.result_type(*coords))


def jacobian_of(coords: Sequence[Array], space: IndexSpace) -> Matrix:
    """``J[a][b] = dX_a / di_b`` at every sample."""
    return [[space.d(X, b) for b in range(len(coords))] for X in coords]


def inverse_of(J: Matrix) -> Matrix:
    """``K = J^-1`` at every sample (``K[b][a] = di_b / dX_a``), by explicit cofactors; a singular
    Jacobian gives inf or NaN there."""
    k = len(J)
    if k == 2:
        r = 1.0 / (J[0][0] * J[1][1] - J[0][1] * J[1][0])
        return [[J[1][1] * r, -J[0][1] * r], [-J[1][0] * r, J[0][0] * r]]
    # 3x3: the cyclic form gives the signed cofactors C[a][b] directly; K[b][a] = C[a][b] / det.
    C = [[J[(a + 1) % 3][(b + 1) % 3] * J[(a + 2) % 3][(b + 2) % 3]
          - J[(a + 1) % 3][(b + 2) % 3] * J[(a + 2) % 3][(b + 1) % 3] for b in range(3)] for a in range(3)]
    r = 1.0 / add_all(J[0][b] * C[0][b] for b in range(3))
    return [[C[a][b] * r for a in range(3)] for b in range(3)]


def _inverse_jacobian(coords: Sequence[Any], dtype: Any, space: IndexSpace) -> tuple[Matrix, Matrix, Any]:
    """(J, K) in the geometry's dtype, and that dtype."""
    gd = geometry_dtype(coords, dtype)
    # The coordinates differentiated as one stacked array: a third of the operations to compile in 3-D.
    C = jnp.stack([jnp.asarray(X).astype(gd) for X in coords])
    cols = [space.d(C, b) for b in range(len(coords))]
    J = [[cols[b][a] for b in range(len(coords))] for a in range(len(coords))]
    return J, inverse_of(J), gd


def _physical(K: Matrix, d: Sequence[Array], a: int) -> Array:
    """``d/dX_a`` from the index-space derivatives ``d[b]``."""
    return add_all(K[b][a] * d[b] for b in range(len(d)))


def _gradient_everywhere(g: Array, coords: Sequence[Any], space: IndexSpace) -> list[Array]:
    """The physical gradient by the general path: index derivatives through ``apply_along``."""
    _, K, _ = _inverse_jacobian(coords, g.dtype, space)
    K = [[w.astype(real_dtype(g.dtype)) for w in row] for row in K]
    d = [space.d(g, b) for b in range(len(coords))]
    return [_physical(K, d, a) for a in range(len(coords))]


def _inner(x: Array, b: int = 0, shift: int = 0) -> Array:
    """``x``'s interior (indices 1 to n - 2 on every axis), shifted by ``shift`` along axis ``b``."""
    for a in range(x.ndim):
        s = shift if a == b else 0
        x = lax.slice_in_dim(x, 1 + s, x.shape[a] - 1 + s, axis=a)
    return x


def _rows(x: Array, b: int = 0, shift: int = 0) -> Array:
    """3-D ``x`` seen as ``(n0, n1 * n2)``: the samples with inner indices on axes 0 and 1 and
    every index on axis 2, shifted by ``shift`` along axis ``b``. A shift along axis 2 off the
    end of a row lands in the neighbouring row, in bounds: the edge rows use other samples."""
    n0, n1, n2 = x.shape
    start = (1 + (shift if b == 0 else 0), n2 + (shift * n2 if b == 1 else shift if b == 2 else 0))
    return lax.slice(x.reshape(n0, n1 * n2), start, (start[0] + n0 - 2, start[1] + (n1 - 2) * n2))


def _cofactor_row(J: Matrix, a: int) -> list[Any]:
    """Row ``a`` of the signed cofactor matrix of ``J`` (``K[b][a] = C[a][b] / det J``)."""
    if len(J) == 2:
        return [J[1][1], -J[1][0]] if a == 0 else [-J[0][1], J[0][0]]
    return [J[(a + 1) % 3][(b + 1) % 3] * J[(a + 2) % 3][(b + 2) % 3]
            - J[(a + 1) % 3][(b + 2) % 3] * J[(a + 2) % 3][(b + 1) % 3] for b in range(3)]


# The blocks' faces: both axes in 2-D; axes 0 and 1 in 3-D (the interior spans the last axis).
_FACE_AXES = range(2)


class _Blocks(NamedTuple):
    """The gradient's chain rule by blocks, on one device: the interior is an elementwise
    expression of shifted slices, which XLA fuses into one loop per output over ``f`` and the
    coordinates; the faces (one sample thick) come from thin slabs, the low and the mirrored high
    slab of an axis stacked into one call (derivatives along the face by the general path, the
    normal one from the stencil's edge row). (Composing whole-array stencils
    instead writes every index derivative to memory: 2-4x slower on XLA:CPU.) Mirroring an index
    axis flips the sign of its derivatives, of the Jacobian's column and of the inverse's row, and
    leaves the physical gradient unchanged.

    In 2-D the interior is every index from 1 to n - 2 on both axes. In 3-D it spans the whole
    last axis (:func:`_rows`; its edge samples take the one-sided rows, chosen in the loop): only
    axes 0 and 1 have faces, and the interior is padded on those axes alone, so the padded loop's
    innermost axis runs without bounds checks (measured on the Performance page)."""

    C: tuple[Array, ...]  # the coordinates, in the geometry's dtype
    space: IndexSpace
    r: Array  # 1 / det J on the interior, written once (on XLA:CPU) and read by every output

    @classmethod
    def of(cls, C: tuple[Array, ...], space: IndexSpace) -> _Blocks:
        J = cls._interior_jacobian(C, space)
        det = add_all(J[0][b] * c for b, c in enumerate(_cofactor_row(J, 0)))
        return cls(C, space, materialized_on_cpu(1.0 / det))

    @staticmethod
    def _interior_jacobian(C: tuple[Array, ...], space: IndexSpace) -> Matrix:
        return [[_Blocks._d(X, b, space) for b in range(len(C))] for X in C]

    @staticmethod
    def _d(x: Array, b: int, space: IndexSpace) -> Array:
        """The derivative along index axis ``b`` of ``x`` on the interior."""
        if x.ndim == 2:
            return (_inner(x, b, 1) - _inner(x, b, -1)) * 0.5
        stencil = space.stencil(x, b)
        rule = lambda offsets, weights: add_all(w * _rows(x, b, k) for k, w in zip(offsets, weights)) * stencil.scale
        middle = rule(stencil.offsets, stencil.weights)
        if b < 2:
            return middle
        n, width = x.shape[2], len(stencil.left_weights)
        # The index along axis 2 of every sample of the interior (n2 per row of axis 1).
        i = lax.rem(lax.broadcasted_iota(jnp.int32, (1, (x.shape[1] - 2) * n), 1), jnp.int32(n))
        lo = rule(range(width), stencil.left_weights)
        hi = rule(range(1 - width, 1), stencil.right_weights)
        return jnp.where(i == 0, lo, jnp.where(i == n - 1, hi, middle))

    @staticmethod
    def _interior(x: Array) -> Array:
        return _inner(x) if x.ndim == 2 else _rows(x)


    def _pair(self, x: Array, b: int, width: int) -> Array:
        """The first ``width`` samples of ``x`` along axis ``b`` and the last ``width``, mirrored,
        stacked along a new leading axis (the face rows are then the first along ``b``)."""
        axis = x.ndim - len(self.C) + b
        n = x.shape[axis]
        lo, hi = lax.slice_in_dim(x, 0, width, axis=axis), lax.slice_in_dim(x, n - width, n, axis=axis)
        return jnp.stack([lo, lax.rev(hi, (axis,))])

    def _face_derivatives(self, x: Array | tuple[Array, ...], b0: int) -> list[Array]:
        """The index derivatives of ``x`` (or of arrays stacked along axis 1) along every axis on
        the two faces of axis ``b0`` (as :meth:`_pair` stacks them; the high face's derivative
        along ``b0`` has its sign flipped)."""
        width = self.space.edge_order + 1
        # Stacked after slicing: a stack of whole arrays is a full-size copy on XLA:CPU.
        slab = jnp.stack([self._pair(y, b0, width) for y in x], 1) if isinstance(x, tuple) else self._pair(x, b0, width)
        axis = slab.ndim - len(self.C) + b0
        column = lambda j: lax.slice_in_dim(slab, j, j + 1, axis=axis)
        # The face's own derivative from the stencil's first edge row, weighted slices: through
        # apply_along the slab is all edge, whose rows come from a contraction (a slow dot here).
        stencil = self.space.stencil(slab, b0)
        normal = add_all(w * column(j) for j, w in enumerate(stencil.left_weights)) * stencil.scale
        return [normal if b == b0 else self.space.d(column(0), b) for b in range(len(self.C))]

    def _face_inverse(self, b0: int, rd: Any) -> Matrix:
        k = len(self.C)
        d = self._face_derivatives(self.C, b0)  # d[b][:, a] = dX_a / di_b
        return [[w.astype(rd) for w in row] for row in inverse_of([[d[b][:, a] for b in range(k)] for a in range(k)])]

    def gradient(self, g: Array) -> list[Array]:
        """``df/dX_a = sum_b K[b][a] df/di_b`` for every ``a``."""
        k, rd = len(self.C), real_dtype(g.dtype)
        J, d = self._interior_jacobian(self.C, self.space), [self._d(g, b, self.space) for b in range(k)]
        r = self.r.astype(rd)
        inner = [r * add_all(c.astype(rd) * d[b] for b, c in enumerate(_cofactor_row(J, a))) for a in range(k)]
        faces = []
        for b0 in _FACE_AXES:
            K, e = self._face_inverse(b0, rd), self._face_derivatives(g, b0)
            faces.append([add_all(K[b][a] * e[b] for b in range(k)) for a in range(k)])
        return self._assemble(inner, faces)

    def transposed(self, ct: Sequence[Array]) -> list[Array]:
        """``h_b = sum_a K[b][a] ct_a`` for every ``b``: the chain rule's transpose."""
        k, rd = len(self.C), real_dtype(ct[0].dtype)
        # Behind a barrier, XLA cannot merge these cofactors with the forward pass's (the same
        # expressions), which would write them all to memory to share them.
        J = self._interior_jacobian(lax.optimization_barrier(self.C), self.space)
        c = [self._interior(x) for x in ct]
        cof = [_cofactor_row(J, a) for a in range(k)]
        r = self.r.astype(rd)
        inner = [r * add_all(cof[a][b].astype(rd) * c[a] for a in range(k)) for b in range(k)]
        faces = []
        for b0 in _FACE_AXES:
            K = self._face_inverse(b0, rd)
            rows = [self._pair(x, b0, 1) for x in ct]
            sign = jnp.array([1.0, -1.0], rd).reshape((2,) + (1,) * k)  # the mirrored face's row b0
            faces.append([add_all(K[b][a] * rows[a] for a in range(k)) * (sign if b == b0 else 1.0)
                          for b in range(k)])
        return self._assemble(inner, faces)

    def _assemble(self, inner: list[Array], faces: list[list[Array]]) -> list[Array]:
        """Full-size arrays from interiors and face pairs: joined axis by axis (last axis first)
        in 2-D; in 3-D the interior padded on axes 0 and 1 and their faces written over the
        padding in place (they overlap at the edges, where both hold the same values)."""
        shape = self.C[0].shape
        out = list(inner)
        if len(shape) == 2:
            for axis in reversed(range(2)):
                for i, o in enumerate(out):
                    lo, hi = faces[axis][i][0], faces[axis][i][1]
                    if axis == 0:
                        out[i] = lax.concatenate([lo, o, hi], axis)
                    else:
                        trim = lambda y: lax.slice_in_dim(y, 1, y.shape[0] - 1, axis=0)
                        out[i] = lax.concatenate([trim(lo), o, trim(hi)], axis)
            return out
        n0, n1, n2 = shape
        zero = jnp.zeros((), out[0].dtype)
        out = [lax.pad(o.reshape(n0 - 2, n1 - 2, n2), zero, [(1, 1, 0), (1, 1, 0), (0, 0, 0)]) for o in out]
        for axis in _FACE_AXES:
            for i, o in enumerate(out):
                o = lax.dynamic_update_slice_in_dim(o, faces[axis][i][0], 0, axis)
                out[i] = lax.dynamic_update_slice_in_dim(o, faces[axis][i][1], o.shape[axis] - 1, axis)
        return out


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _blocked_gradient(space: IndexSpace, g: Array, *C: Array) -> tuple[Array, ...]:
    return tuple(_Blocks.of(C, space).gradient(g))


def _blocked_gradient_jvp(space: IndexSpace, primals: tuple, tangents: tuple) -> tuple[Any, Any]:
    """Written as the transpose of its own adjoint, as :func:`jaxgrad._apply.apply_stencil` does on
    XLA:CPU (on every backend here: not measured on a GPU against JAX's transpose),
    so that reverse mode runs ``back`` as written: ``h = K ct`` by blocks, then transposed
    stencils, ``df: sum_b D_b^T h_b`` and ``dX_c: -sum_b D_b^T (out_c h_b)`` (from
    ``dK = -K dJ K``). JAX's own transpose of the blocks instead sums every slice's padded
    cotangent in one loop: 4.7x a rectilinear gradient's ``jax.grad`` in 2-D, 12-15x in 3-D, 20-60x
    with respect to the coordinates too (before -> after in ``benchmarks/RESULTS.md``)."""
    g, *C = primals
    blocks = _Blocks.of(tuple(C), space)
    out = blocks.gradient(g)
    live = [i for i, t in enumerate(tangents) if not isinstance(t, SymbolicZero)]
    if not live:
        return tuple(out), tuple(jnp.zeros_like(o) for o in out)
    k = len(C)
    stencils = [space.stencil(g, b) for b in range(k)]
    DT = lambda x, b: apply_transposed(x, b, stencils[b])

    def back(ct: tuple[Array, ...]) -> tuple[Array, ...]:
        h = blocks.transposed(ct)
        cotangents = []
        for i in live:
            if i == 0:
                cotangents.append(add_all(DT(h[b], b) for b in range(k)))
            else:
                cotangents.append((-add_all(DT(out[i - 1] * h[b], b) for b in range(k))).astype(C[i - 1].dtype))
        return tuple(cotangents)

    shapes = tuple(jax.ShapeDtypeStruct(o.shape, o.dtype) for o in out)
    tangent = jax.linear_transpose(back, shapes)(tuple(tangents[i] for i in live))[0]
    return tuple(out), tangent


_blocked_gradient.defjvp(_blocked_gradient_jvp, symbolic_zeros=True)


@kernel
def _gradient(f: Array, coords: tuple, *, edge_order: int, periodic: tuple[bool, ...],
              layout: Layout | None) -> tuple[Array, ...]:
    g = to_working(f)
    space = IndexSpace(periodic, layout, edge_order=edge_order)
    # Small grids take the general path: the blocks compile to a larger program (seconds in 3-D).
    by_blocks = layout is None and not any(periodic) and min(g.shape) >= 3 and g.size >= BLOCKS_FROM
    out: Sequence[Array] = []
    if not by_blocks:
        out = _gradient_everywhere(g, coords, space)
    else:
        C = tuple(jnp.asarray(X).astype(geometry_dtype(coords, g.dtype)) for X in coords)
        # The custom JVP is for real fields (a complex field's chain rule mixes real coordinates in).
        real = not jnp.issubdtype(g.dtype, jnp.complexfloating)
        out = _blocked_gradient(space, g, *C) if real else _Blocks.of(C, space).gradient(g)
    return tuple(to_output(o, f.dtype) for o in out)


@kernel
def _laplacian(f: Array, coords: tuple, *, accuracy: int, periodic: tuple[bool, ...], layout: Layout | None) -> Array:
    g = to_working(f)
    k = len(coords)
    space = IndexSpace(periodic, layout, accuracy=accuracy)
    gd = geometry_dtype(coords, g.dtype)
    # The coordinates are differentiated as one stacked array (a third of the operations to
    # compile in 3-D), and the field with them when it has their dtype.
    together = g.dtype == gd
    A = jnp.stack(([g] if together else []) + [jnp.asarray(X).astype(gd) for X in coords])
    first = [space.d(A, b) for b in range(k)]
    off = 1 if together else 0
    J = [[first[b][off + e] for b in range(k)] for e in range(k)]
    K = inverse_of(J)
    pairs = [(b, c) for b in range(k) for c in range(b, k)]
    # The inverse metric G = K K^T; off-diagonal entries count twice in the symmetric sums.
    G = {(b, c): add_all(K[b][a] * K[c][a] for a in range(k)) * (1.0 if b == c else 2.0) for b, c in pairs}
    second = {(b, c): space.d(A, b, order=2) if b == c else space.d(first[c], b) for b, c in pairs}
    if not together:
        d1 = [space.d(g, b) for b in range(k)]
        second_f = {(b, c): space.d(g, b, order=2) if b == c else space.d(d1[c], b) for b, c in pairs}
    else:
        d1 = [first[b][0] for b in range(k)]
        second_f = {p: second[p][0] for p in pairs}
    # lap i_b = -sum_e K[b][e] S_e, with S_e = sum_cd G[c][d] d2X_e / di_c di_d.
    S = [add_all(G[p] * second[p][off + e] for p in pairs) for e in range(k)]
    lap_index = [-add_all(K[b][e] * S[e] for e in range(k)) for b in range(k)]
    rd = real_dtype(g.dtype)
    out = add_all([G[p].astype(rd) * second_f[p] for p in pairs] + [lap_index[b].astype(rd) * d1[b] for b in range(k)])
    return to_output(out, f.dtype)


def _field_derivatives(F: Array, coords: tuple, accuracy: int, periodic: tuple[bool, ...],
                       layout: Layout | None) -> tuple[Array, Any]:
    """``dF_c / dX_a`` for every component ``c`` and axis ``a`` (as a function ``(a, c) -> array``)."""
    G = to_working(F)
    space = IndexSpace(periodic, layout, accuracy=accuracy)
    _, K, _ = _inverse_jacobian(coords, G.dtype, space)
    rd = real_dtype(G.dtype)
    K = [[w.astype(rd) for w in row] for row in K]
    d = [space.d(G, b) for b in range(len(coords))]  # every component at once, along axis b
    return G, lambda a, c: add_all(K[b][a] * d[b][c] for b in range(len(coords)))


@kernel
def _divergence(F: Array, coords: tuple, *, accuracy: int, periodic: tuple[bool, ...], layout: Layout | None) -> Array:
    _, partial = _field_derivatives(F, coords, accuracy, periodic, layout)
    return to_output(add_all(partial(a, a) for a in range(len(coords))), F.dtype)


@kernel
def _curl(F: Array, coords: tuple, *, accuracy: int, periodic: tuple[bool, ...],
          layout: Layout | None) -> Array | tuple[Array, ...]:
    _, partial = _field_derivatives(F, coords, accuracy, periodic, layout)
    if len(coords) == 2:
        return to_output(partial(0, 1) - partial(1, 0), F.dtype)
    comps = (partial(1, 2) - partial(2, 1), partial(2, 0) - partial(0, 2), partial(0, 1) - partial(1, 0))
    return tuple(to_output(c, F.dtype) for c in comps)


# --- the explicit check of a grid ----------------------------------------------------------------


@jax.jit
def _determinant_facts(coords: tuple) -> tuple[Array, Array]:
    space = IndexSpace((False,) * len(coords), None, accuracy=2)
    J = jacobian_of([jnp.asarray(X).astype(geometry_dtype(coords, jnp.float32)) for X in coords], space)
    if len(J) == 2:
        det = J[0][0] * J[1][1] - J[0][1] * J[1][0]
    else:
        det = add_all(J[0][b] * (J[1][(b + 1) % 3] * J[2][(b + 2) % 3] - J[1][(b + 2) % 3] * J[2][(b + 1) % 3])
                      for b in range(3))
    finite = jnp.all(jnp.isfinite(det))
    return finite & jnp.all(det != 0), finite & (jnp.all(det > 0) | jnp.all(det < 0))


def check_grid(*coordinates: ArrayLike) -> tuple[Any, ...]:
    """Checks curvilinear coordinates for a singular or folded grid, and returns them unchanged.

    A grid whose Jacobian ``d(X, Y, ...)/d(i, j, ...)`` is singular at a sample gives non-finite
    derivatives there, and one that folds over itself (the Jacobian's determinant changes sign)
    gives finite but meaningless ones; neither is checked by the functions themselves, which would
    cost a pass over the grid on every call. Pass the coordinates through this function to check
    them: ``jaxgrad.gradient(f, *jaxgrad.check_grid(X, Y))``. Concrete coordinates are checked at
    once (``ValueError``); traced ones (arguments of a ``jax.jit``-ed function, under ``vmap`` or
    ``grad``) get :func:`jax.experimental.checkify.debug_check` s, reported by
    :func:`jax.experimental.checkify.checkify` (``errors=checkify.user_checks``) and free without
    it, as :func:`jaxgrad.check_spacing` does for 1-D spacing. The Jacobian is taken with
    second-order central differences and one-sided edges.

    Args:
      *coordinates: 2 or 3 coordinate arrays of one 2-D or 3-D shape (each axis at least 3 points).

    Returns:
      The coordinates, unchanged, as a tuple.

    Raises:
      ValueError: concrete coordinates that are not finite, whose Jacobian is singular somewhere,
        or whose Jacobian's determinant changes sign (a folded grid); arrays of different shapes.
      TypeError: the wrong number of arrays, or arrays that do not hold real numbers.

    Examples:
      >>> import numpy as np, jaxgrad
      >>> i, j = np.meshgrid(np.arange(4.0), np.arange(5.0), indexing="ij")
      >>> X, Y = jaxgrad.check_grid(i + 0.3 * j, j)       # a sheared grid: fine
      >>> jaxgrad.check_grid(i, np.abs(j - 2.5))           # folded between j = 2 and 3
      Traceback (most recent call last):
      ...
      ValueError: the grid folds over itself: the determinant of its Jacobian d(X, Y, ...)/d(i, j, ...) changes sign
    """
    if len(coordinates) not in (2, 3):
        raise TypeError(f"check_grid takes 2 or 3 coordinate arrays, got {len(coordinates)}")
    shape = np.shape(coordinates[0])
    if len(shape) != len(coordinates):
        raise ValueError(f"check_grid takes {len(coordinates)} coordinate arrays of a {len(coordinates)}-D shape, "
                         f"got shape {shape}")
    coords = coordinate_arrays(coordinates, shape, "gradient")
    _min_points(shape, [3] * len(shape), "check_grid", "second-order differences")
    nonsingular, oriented = _determinant_facts(tuple(jnp.asarray(x) for x in coords))
    if is_traced(nonsingular):
        checkify.debug_check(nonsingular, "jaxgrad: the grid's Jacobian is singular somewhere")
        checkify.debug_check(oriented, "jaxgrad: the grid folds over itself (its Jacobian changes sign)")
    elif not bool(nonsingular):
        raise ValueError("the grid's Jacobian d(X, Y, ...)/d(i, j, ...) is singular (or not finite) at some sample")
    elif not bool(oriented):
        raise ValueError("the grid folds over itself: the determinant of its Jacobian d(X, Y, ...)/d(i, j, ...) "
                         "changes sign")
    return tuple(coordinates)
