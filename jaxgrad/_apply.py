"""Applying a stencil plan (:class:`jaxgrad._stencils.Stencil`) along one axis: the hot path,
and where the data is sliced (the halo path in ``_halo`` slices shards with the same helpers,
total variation's one-loop gradient in ``_penalties`` through :func:`flat_view`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.custom_derivatives import SymbolicZero

from jaxgrad._stencils import Stencil, _at, constant_weights, transposed, transposed_sizes

Array = jax.Array
MAX_EDGE_COLUMNS = 4  # per side, on the last axis of apply_sum's one pass


def _along(w: Any, axis: int, ndim: int) -> Any:
    """A per-point weight vector shaped to broadcast along ``axis``."""
    if jnp.ndim(w) == 0:
        return w
    return jnp.reshape(w, jnp.shape(w) + (1,) * (ndim - 1 - axis))


def _is_constant(w: Any) -> bool:
    return isinstance(w, (int, float))


def weighted_sum(terms: list[tuple[Any, Array]], axis: int, shape: tuple[int, ...], dtype: Any, scale: Any) -> Array:
    # Constant zero weights (folded ghost samples can cancel) are left out: no work, no -0.0.
    terms = [(w, x) for w, x in terms if not (_is_constant(w) and w == 0)]
    if not terms:
        return jnp.zeros(shape, dtype)
    # Pair constant weights of opposite sign, w * (a - b): central stencils then cost one
    # multiply per pair, as a hand-written (f[i+1] - f[i-1]) * c does.
    pending = list(terms)
    total: Any = None
    while pending:
        w, x = pending.pop(0)
        partner = next((i for i, (v, _) in enumerate(pending) if _is_constant(w) and _is_constant(v) and v == -w), None)
        if partner is not None:
            y = pending.pop(partner)[1]
            term = w * (x - y) if w > 0 else -w * (y - x)  # a positive factor: no -0.0 from zeros
        else:
            term = _along(w, axis, x.ndim) * x
        total = term if total is None else total + term
    if scale is not None:
        total = total * scale
    return jnp.broadcast_to(total, shape).astype(dtype)  # a lone bias term is one value per row


def _negative_zero(dtype: Any) -> Array:
    """-0.0 (both parts, for complex): x + (-0.0) is x for every x, signed zeros included."""
    zero = complex(-0.0, -0.0) if jnp.issubdtype(dtype, jnp.complexfloating) else -0.0
    return jnp.array(zero, dtype)


def _pad_add(blocks: list[Array], axis: int) -> Array:
    """Consecutive blocks along ``axis``, each padded to full length and added. The padding is
    -0.0, the identity of addition for every value, signed zeros included."""
    n = sum(b.shape[axis] for b in blocks)
    total: Any = None
    start = 0
    for b in blocks:
        size = b.shape[axis]
        config = [(0, 0, 0)] * b.ndim
        config[axis] = (start, n - start - size, 0)
        padded = lax.pad(b, _negative_zero(b.dtype), config)
        total = padded if total is None else total + padded
        start += size
    return total


def join(blocks: list[Array], axis: int, *, pad: bool) -> Array:
    """Consecutive blocks along ``axis``, joined; ``pad`` allows the padded form where it is faster.

    Along a major axis every backend fuses a concatenation into the loop that computes its
    blocks. Along the last (contiguous) axis of a 2-D or larger array, with constant weights, the
    backends differ, and this is the one place that knows it: on GPUs the blocks are padded to full
    length and added (one fused loop; its transpose, in reverse mode, is a sum of slices), while
    XLA:CPU gets the concatenation, which it fuses into a consumer (a loss's reduction) where the
    padded form is split into full-size temporaries. Measurements on the Performance page. Blocks
    weighted along the axis (coordinate grids: ``pad=False``) and 1-D arrays are concatenated
    everywhere.
    """
    if len(blocks) == 1:
        return blocks[0]
    if not pad or axis != blocks[0].ndim - 1 or blocks[0].ndim == 1:
        return lax.concatenate(blocks, axis)
    concatenated = lambda *b: lax.concatenate(list(b), axis)
    return lax.platform_dependent(*blocks, cpu=concatenated, default=lambda *b: _pad_add(list(b), axis))


def materialized_on_cpu(x: Array) -> Array:
    """``x``, written to memory once on XLA:CPU, where a fused consumer that reads it at several
    offsets would otherwise recompute it at each (isotropic TV's ``1/m`` in 3-D: 3x slower jax.grad,
    measured under jax 0.11.2 on the Performance page); other backends fuse freely. Under jax
    0.10.2 XLA:CPU drops the barrier from the compiled program, so there it changes nothing."""
    return lax.platform_dependent(x, cpu=lax.optimization_barrier, default=lambda x: x)


def summed(x: Array) -> Array:
    """``jnp.sum(x)`` of a real array, for a loss whose value is a sum over the grid. On XLA:CPU a
    plain sum goes to a library reduction that reads ``x`` materialized (every slice that computes
    ``x`` first copied to memory: a 2-D smoothness penalty at 10x the read-once roofline), while
    XLA's own reduction loop fuses those producers; a variadic reduction (a zero counter beside
    the values) is one XLA keeps for itself. So on XLA:CPU each row (the last axis) is summed that
    way and the row sums by ``jnp.sum``; other backends fuse a plain sum (Performance page).
    Forward and reverse derivatives are those of ``jnp.sum`` (a custom JVP: ``linear_transpose``
    of ``summed`` itself is not defined). Half precisions take ``jnp.sum``, which accumulates
    them in float32."""
    if x.ndim < 2 or x.dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        return jnp.sum(x)
    return _summed(x)


@jax.custom_jvp
def _summed(x: Array) -> Array:
    return lax.platform_dependent(x, cpu=_row_sums_summed, default=jnp.sum)


@_summed.defjvp
def _summed_jvp(primals: tuple, tangents: tuple) -> tuple[Array, Array]:
    return _summed(primals[0]), jnp.sum(tangents[0])


def _row_sums_summed(x: Array) -> Array:
    add = lambda a, b: (a[0] + b[0], a[1] + b[1])
    rows, counts = lax.reduce((x, jnp.zeros(x.shape, jnp.int32)), (jnp.zeros((), x.dtype), jnp.int32(0)), add, (x.ndim - 1,))
    return jnp.sum(rows) + jnp.sum(counts).astype(x.dtype)  # the counts are zeros: the counter stays


def _shifted(f: Array, k: int, axis: int) -> Array:
    """``f[(i + k) mod n]`` along ``axis``. On the last axis of a 2-D or larger array the two
    pieces are padded and added, on every backend: for a rotation XLA:CPU materializes the
    concatenated pieces first (measured on the Performance page)."""
    n = f.shape[axis]
    k %= n
    if k == 0:
        return f
    pieces = [lax.slice_in_dim(f, k, n, axis=axis), lax.slice_in_dim(f, 0, k, axis=axis)]
    return _pad_add(pieces, axis) if axis == f.ndim - 1 and f.ndim > 1 else lax.concatenate(pieces, axis)


def apply_stencil(f: Array, axis: int, stencil: Stencil) -> Array:
    """The stencil applied along ``axis`` of ``f``; the result has ``f``'s shape and dtype.

    Reverse mode applies the transposed stencil (:func:`jaxgrad._stencils.transposed`) as a
    stencil of its own, reading the cotangent at a few offsets, instead of JAX's transpose of the
    slices (one padded copy of the cotangent per offset and per edge column, all summed in one
    loop): the tangent is written as the transpose of the transposed stencil, which JAX's
    transposition turns back into it. That is XLA:CPU's formulation; other backends take JAX's
    transpose, faster there (:func:`stencil_tangent`). Measured on the Performance page."""
    n = f.shape[axis]
    if transposed_sizes(stencil, n) is None:  # affine (a bias) or too short
        return _applied(f, axis, stencil)
    # The plan's arrays (a traced scale, coordinate weights) are arguments of the custom JVP, so
    # their tangents flow; constants stay in the closure.
    leaves, tree = jax.tree.flatten(stencil)
    traced = [isinstance(v, jax.Array) for v in leaves]

    def plan(values: tuple[Array, ...]) -> Stencil:
        it = iter(values)
        return jax.tree.unflatten(tree, [next(it) if t else v for v, t in zip(leaves, traced)])

    @jax.custom_jvp
    def linear(f: Array, *values: Array) -> Array:
        return _applied(f, axis, plan(values))

    def _tangent(primals: tuple, tangents: tuple) -> tuple[Array, Array]:
        (f, *values), (df, *dvalues) = primals, tangents
        tangent = jnp.zeros(f.shape, f.dtype)
        if not isinstance(df, SymbolicZero):
            # The backend switch of a single stencil's reverse mode (stencil_tangent, Performance
            # page); apply_sum's one pass keeps its transposed plans on every backend.
            p = plan(tuple(values))
            by_plan = lambda d: stencil_tangent(d, axis, p, transposed_plan=True)
            by_jax = lambda d: stencil_tangent(d, axis, p, transposed_plan=False)
            tangent = lax.platform_dependent(df, cpu=by_plan, default=by_jax)
        if not all(isinstance(v, SymbolicZero) for v in dvalues):  # by JAX's rules, f held fixed
            dv = tuple(jnp.zeros_like(v) if isinstance(d, SymbolicZero) else d for v, d in zip(values, dvalues))
            tangent = tangent + jax.jvp(lambda *v: _applied(f, axis, plan(v)), tuple(values), dv)[1]
        return linear(f, *values), tangent

    linear.defjvp(_tangent, symbolic_zeros=True)
    return linear(f, *[v for v, t in zip(leaves, traced) if t])


def stencil_tangent(df: Array, axis: int, stencil: Stencil, *, transposed_plan: bool) -> Array:
    """The tangent ``A df`` of a linear stencil ``A``, written so that reverse mode, which
    transposes it, applies the transposed plan as a stencil of its own (``transposed_plan``: the
    transpose of :func:`apply_transposed`) or JAX's transpose of the plan's slices (``A df``
    itself). XLA:CPU runs the first faster, XLA:GPU the second: on an H200 ``jax.grad`` of the
    gradient energy took 0.45-0.57x the time, of an accuracy-4 derivative along axis 0 0.71-0.74x
    (16384^2, 512^3; ``benchmarks/bench_choices.py``, Performance page)."""
    if not transposed_plan:
        return _applied(df, axis, stencil)
    back = lambda c: apply_transposed(c, axis, stencil)
    return jax.linear_transpose(back, jax.ShapeDtypeStruct(df.shape, df.dtype))(df)[0]


def apply_transposed(c: Array, axis: int, stencil: Stencil) -> Array:
    """``A^T c`` along ``axis``, with ``A`` the matrix of a linear ``stencil`` (no constant-mode
    bias: the transpose of an affine map would drop it): its transposed plan applied as a stencil
    of its own where the axis is long enough for one, JAX's transpose otherwise."""
    n = c.shape[axis]
    if transposed_sizes(stencil, n) is None:
        forward = lambda x: _applied(x, axis, stencil)
        return jax.linear_transpose(forward, jax.ShapeDtypeStruct(c.shape, c.dtype))(c)[0]
    # On the last axis the blocks are padded and added on every backend: the adjoint's
    # cotangents of several axes then meet in one fused loop (the concatenation XLA:CPU gets in
    # the forward direction would be a copy of its own here).
    adjoint = transposed(stencil, n, np.dtype(jnp.finfo(c.dtype).dtype))._replace(scale=stencil.scale)  # type: ignore[union-attr]
    return _applied(c, axis, adjoint, pad_last=True)


def _applied(f: Array, axis: int, stencil: Stencil, *, pad_last: bool = False) -> Array:
    """The plan's slices and weighted sums (differentiated by JAX's own rules); ``pad_last`` pads
    and adds the blocks on the last axis on every backend."""
    n = f.shape[axis]
    if stencil.periodic:
        terms = [(w, _shifted(f, k, axis)) for k, w in zip(stencil.offsets, stencil.weights)]
        return weighted_sum(terms, axis, f.shape, f.dtype, stencil.scale)

    def block(count: int, terms: list[tuple[Any, Array]]) -> Array:
        shape = f.shape[:axis] + (count,) + f.shape[axis + 1 :]
        return weighted_sum(terms, axis, shape, f.dtype, stencil.scale)

    lo, hi = stencil.left, n - stencil.right
    # The interior is traced last, so that reverse mode accumulates it first: XLA:CPU's fused
    # backward loop (a sum of padded pieces) runs faster in that order (Performance page).
    first = [block(lo, edge_terms(f, axis, stencil, "left"))] if lo > 0 else []
    last = [block(stencil.right, edge_terms(f, axis, stencil, "right"))] if stencil.right > 0 else []
    middle = []
    if hi > lo:
        terms = [(w, lax.slice_in_dim(f, lo + k, hi + k, axis=axis)) for k, w in zip(stencil.offsets, stencil.weights)]
        middle.append(block(hi - lo, terms))
    if pad_last and axis == f.ndim - 1 and f.ndim > 1:
        return _pad_add(first + middle + last, axis)
    return join(first + middle + last, axis, pad=constant_weights(stencil))


def edge_terms(f: Array, axis: int, stencil: Stencil, side: str) -> list[tuple[Any, Array]]:
    """The weighted rows of the one-sided window at the ``"left"`` or ``"right"`` edge of ``f``.

    The window is sliced out once, so that reverse mode pads one small block back to full size
    rather than one full-size array per window column. Along the last axis its columns are
    weighted one by one; along a major axis the rows come from one small contraction of the
    window with the weight table, whose transpose XLA:CPU keeps in one fused loop (both measured
    on the Performance page)."""
    weights = stencil.left_weights if side == "left" else stencil.right_weights
    rows = stencil.left if side == "left" else stencil.right
    bias = stencil.left_bias if side == "left" else stencil.right_bias
    # The bias (constant ghost samples) is a weight on a block of ones: one value per row.
    ones = [(bias, jnp.ones((1,) * axis + (rows,) + (1,) * (f.ndim - axis - 1), f.dtype))] if bias is not None else []
    width = len(weights)
    if width == 0:  # an empty window: zero rows (forward differences at the far end)
        return []
    start = 0 if side == "left" else f.shape[axis] - width
    window = lax.slice_in_dim(f, start, start + width, axis=axis)
    if axis == f.ndim - 1:
        return [(w, lax.slice_in_dim(window, j, j + 1, axis=axis)) for j, w in enumerate(weights)] + ones
    dtype = jnp.result_type(f.dtype, *[jnp.result_type(w) for w in weights if not _is_constant(w)])
    table = jnp.stack([jnp.broadcast_to(jnp.asarray(w, dtype), (rows,)) for w in weights])  # (width, rows)
    block = jnp.tensordot(window.astype(dtype), table, axes=([axis], [0]), precision=lax.Precision.HIGHEST)
    return [(1.0, jnp.moveaxis(block, -1, axis))] + ones


def apply_sum(f: Array, stencils: Sequence[Stencil]) -> Array | None:
    """``sum_a A_a f``, each plan ``stencils[a]`` along axis ``a`` of a 2-D or 3-D ``f``, in one pass
    (:func:`_flat_sum`), with reverse mode by the transposed plans in one pass too; None where the
    plans do not allow it (periodic, coordinate weights, a bias, no edge rows at one end of an axis
    but the last as in one-sided schemes, wide edges on the last axis, an axis too short), and the caller
    applies the plans one by one. One stencil per axis, applied and summed axis by axis, writes
    every term to memory: a 2-D Laplacian took 2.1-2.4x as long (measured on the Performance page)."""
    if f.ndim not in (2, 3) or len(stencils) != f.ndim:
        return None
    adjoints: list[Stencil] = []
    for axis, stencil in enumerate(stencils):
        n = f.shape[axis]
        if stencil.periodic or not _all_weights_constant(stencil) or transposed_sizes(stencil, n) is None:
            return None
        adjoints.append(transposed(stencil, n, np.dtype(jnp.finfo(f.dtype).dtype)))  # type: ignore[arg-type]
    if not (_flat_fits(f.shape, stencils) and _flat_fits(f.shape, adjoints)):
        return None
    # Every edge column of the last axis is a weighted sum computed at every sample and chosen by
    # jnp.where: worth it for narrow edges only (second derivatives at accuracy 2: four columns a
    # side in the transposed plan). Wider ones were level or slower (accuracy 4-8, Performance page).
    if max(p.left + p.right for p in (stencils[-1], adjoints[-1])) > 2 * MAX_EDGE_COLUMNS:
        return None
    # The scales may be traced (a step inside the user's jit): arguments of the custom JVP, so
    # that their tangents flow.
    scales = tuple(jnp.asarray(1.0 if s.scale is None else s.scale) for s in stencils)
    with_scales = lambda plans, sc: [p._replace(scale=c) for p, c in zip(plans, sc)]

    @jax.custom_jvp
    def linear(f: Array, *sc: Array) -> Array:
        return _flat_sum(f, with_scales(stencils, sc))

    def _tangent(primals: tuple, tangents: tuple) -> tuple[Array, Array]:
        (f, *sc), (df, *dsc) = primals, tangents
        tangent = jnp.zeros(f.shape, f.dtype)
        if not isinstance(df, SymbolicZero):
            # Written as the transpose of the transposed plans' pass: reverse mode runs that pass.
            back = lambda c: _flat_sum(c, with_scales(adjoints, sc))
            tangent = jax.linear_transpose(back, jax.ShapeDtypeStruct(df.shape, df.dtype))(df)[0]
        if not all(isinstance(d, SymbolicZero) for d in dsc):
            dv = tuple(jnp.zeros_like(v) if isinstance(d, SymbolicZero) else d for v, d in zip(sc, dsc))
            tangent = tangent + jax.jvp(lambda *v: _flat_sum(f, with_scales(stencils, v)), tuple(sc), dv)[1]
        return linear(f, *sc), tangent

    linear.defjvp(_tangent, symbolic_zeros=True)
    return linear(f, *scales)


def _all_weights_constant(stencil: Stencil) -> bool:
    """Every weight a Python or numpy number (no coordinate weights), no bias."""
    if stencil.left_bias is not None or stencil.right_bias is not None:
        return False
    edges = [*stencil.left_weights, *stencil.right_weights]  # one weight per edge row: numpy arrays
    return (all(isinstance(w, (int, float, np.number)) for w in stencil.weights)
            and all(isinstance(w, (int, float, np.ndarray, np.number)) for w in edges))


def _flat_fits(shape: tuple[int, ...], stencils: Sequence[Stencil]) -> bool:
    """Whether :func:`_flat_sum` can run these plans: edge rows at both ends of every axis but
    the last (their faces then hold the shifts along the last axis that leave a row), and every
    shift along the last axis shorter than a row."""
    *major, last = stencils
    n = shape[-1]
    reach = max([abs(k) for k in last.offsets] + [len(last.left_weights), len(last.right_weights)])
    faces_fit = all(s.left >= 1 and s.right >= 1 and m > s.left + s.right for s, m in zip(major, shape))
    return faces_fit and last.left + last.right <= n and reach < n


def flat_view(x: Array, edges: Sequence[tuple[int, int]]) -> tuple[Any, Array]:
    """``x`` (2-D or 3-D) seen as ``(n0, n1 * ...)`` for one loop over the block of samples inside
    ``edges[b] = (left, right)`` rows of every axis ``b`` but the last, all along the last. Returns
    ``at(shifts)``, that block of ``x`` shifted by ``shifts`` (one per axis: a shift along the last
    axis off the end of a row reads the next row, in bounds), and ``column``, the last-axis index
    of each sample of the block (shaped to broadcast against it)."""
    shape, k = x.shape, x.ndim
    n = shape[-1]
    count, r0 = (shape[0] - sum(edges[0]), edges[0][0]) if k == 3 else (1, 0)
    view = x.reshape(-1 if k == 3 else 1, shape[-2] * n)
    size, start = (shape[-2] - sum(edges[-1])) * n, edges[-1][0] * n

    def at(shifts: Sequence[int]) -> Array:
        row = r0 + (shifts[0] if k == 3 else 0)
        col = start + shifts[-2] * n + shifts[-1]
        return lax.slice(view, (row, col), (row + count, col + size))

    column = lax.rem(lax.iota(jnp.int32, size), jnp.int32(n))[None, :]
    return at, column


def with_faces(x: Array, block: Array, edges: Sequence[tuple[int, int]], face: Any) -> Array:
    """The block of :func:`flat_view` joined with the edge rows of every axis but the last:
    ``face(b, side)`` gives axis ``b``'s ``"left"`` or ``"right"`` slab (axis 0's hold the corners
    too). Joined by concatenation: padded and written in place, XLA:CPU computed the faces inside
    the block's loop, which took 1.1-1.5x as long (Laplacian, its residual's ``jax.grad``, order-2
    smoothness's; Performance page)."""
    shape = x.shape
    inner = [shape[a] - sum(edges[a]) for a in range(x.ndim - 1)] + [shape[-1]]
    out = block.reshape(inner)
    for b in reversed(range(x.ndim - 1)):
        ends = [face(b, side) for side, count in zip(("left", "right"), edges[b]) if count]
        for a in range(b):  # the rows of the outer axes' faces are theirs
            ends = [lax.slice_in_dim(e, edges[a][0], shape[a] - edges[a][1], axis=a) for e in ends]
        left, right = ends[: bool(edges[b][0])], ends[bool(edges[b][0]):]
        out = lax.concatenate([*left, out, *right], b)
    return out


def _flat_sum(x: Array, stencils: Sequence[Stencil]) -> Array:
    """``sum_a A_a x`` (2-D or 3-D ``x``) for plans with constant weights: the samples inside the
    edge rows of every axis but the last, all along the last, as one loop (:func:`flat_view`; the
    last axis's edge columns take their own rows there, chosen by ``jnp.where``, so nothing read
    across a row boundary is ever multiplied), joined with the other axes' edge rows computed on
    slabs (:func:`with_faces`)."""
    k = x.ndim
    *major, last = stencils
    n = x.shape[-1]
    edges = [(s.left, s.right) for s in major]
    view_at, column = flat_view(x, edges)
    at = lambda axis, shift: view_at([shift if a == axis else 0 for a in range(k)])
    block = (x.shape[0] - sum(edges[0]) if k == 3 else 1, column.shape[1])

    # Python floats: weighted_sum pairs opposite constant weights, and numpy scalars would promote.
    row_weight = lambda w, j: float(_at(w, j))
    terms = [weighted_sum([(float(w), at(a, o)) for o, w in zip(s.offsets, s.weights)], 1, block, x.dtype, s.scale)
             for a, s in enumerate(major)]
    along = weighted_sum([(float(w), at(k - 1, o)) for o, w in zip(last.offsets, last.weights)], 1, block, x.dtype, None)
    for j in range(last.left):  # the window starts at column 0
        edge = [(row_weight(w, j), at(k - 1, m - j)) for m, w in enumerate(last.left_weights)]
        along = jnp.where(column == j, weighted_sum(edge, 1, block, x.dtype, None), along)
    width = len(last.right_weights)
    for r in range(last.right):  # the window ends at column n - 1
        j = n - last.right + r
        edge = [(row_weight(w, r), at(k - 1, n - width + m - j)) for m, w in enumerate(last.right_weights)]
        along = jnp.where(column == j, weighted_sum(edge, 1, block, x.dtype, None), along)
    if last.scale is not None:
        along = along * last.scale

    def face(b: int, side: str) -> Array:
        count, m = (major[b].left if side == "left" else major[b].right), x.shape[b]
        slab = lax.slice_in_dim(x, 0 if side == "left" else m - count, count if side == "left" else m, axis=b)
        own = weighted_sum(edge_terms(x, b, major[b], side), b, slab.shape, x.dtype, major[b].scale)
        return sum((_applied(slab, a, s) for a, s in enumerate(stencils) if a != b), own)

    return with_faces(x, sum(terms, along), edges, face)
