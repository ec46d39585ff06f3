"""Stencil plans: which points every output of an axis reads, with which weights.

A :class:`Stencil` describes, for one axis of length ``n``, how every output point is formed:

* ``left`` leading points: weighted sums of the window ``f[0:len(left_weights)]``;
* the interior points ``left <= i < n - right``: ``sum_k weights[k] * f[i + offsets[k]]``;
* ``right`` trailing points: weighted sums of the window ``f[n - len(right_weights):n]``
  (an empty window gives zeros, which forward differences use);
* or, when ``periodic``, every point from the interior formula with indices taken modulo ``n``.

Each weight is a scalar (uniform grids: exact unit-step weights as Python floats, with
``h**-order`` applied once as ``scale``) or a 1-D array with one value per output point of its
block (coordinate grids: weights computed from the coordinates, so they stay differentiable).
Weights that are exactly zero are left out, so a NaN or inf in ``f`` only reaches the outputs
whose stencils use it. The weights themselves come from :mod:`jaxgrad._weights`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxgrad._args import normalize_int
from jaxgrad._weights import exact_weights, local_weights

Array = jax.Array


class Stencil(NamedTuple):
    offsets: tuple[int, ...]
    weights: tuple[Any, ...]
    left: int = 0
    right: int = 0
    left_weights: tuple[Any, ...] = ()
    right_weights: tuple[Any, ...] = ()
    periodic: bool = False
    scale: Any = None  # a common factor (h**-order on uniform grids), applied once per block
    # Constants added to the edge rows (before ``scale``), one per row: the ghost samples of
    # ``boundary="constant"`` times their weights. None: nothing added.
    left_bias: Any = None
    right_bias: Any = None


def constant_weights(stencil: Stencil) -> bool:
    """True when every interior weight is a compile-time constant (a uniform grid)."""
    return not any(jnp.ndim(w) for w in stencil.weights)


def stencil(order: int, offsets: Sequence[int]) -> np.ndarray:
    """Exact finite-difference weights for the ``order``-th derivative at integer offsets.

    The weights ``w`` satisfy ``sum(w[j] * g(offsets[j])) == g^(order)(0)`` for every polynomial
    ``g`` of degree below ``len(offsets)``, for unit spacing; divide by ``h**order`` for a step
    ``h``. They are computed in exact rational arithmetic and returned as float64.

    Args:
      order: the derivative's order, 0 (interpolation) or more.
      offsets: distinct integer offsets of the stencil's points, more than ``order`` of them.

    Returns:
      A float64 numpy array of ``len(offsets)`` weights.

    Examples:
      >>> import jaxgrad
      >>> jaxgrad.stencil(1, [-1, 0, 1])
      array([-0.5,  0. ,  0.5])
      >>> jaxgrad.stencil(2, [0, 1, 2, 3])
      array([ 2., -5.,  4., -1.])
    """
    order = normalize_int(order, "order", 0)
    try:
        arr = np.asarray(offsets)
    except (ValueError, TypeError):  # ragged (ValueError), or traced (TracerArrayConversionError)
        raise TypeError(f"offsets must be a 1-D sequence of integers, got {offsets!r}") from None
    if arr.ndim != 1 or not (jnp.issubdtype(arr.dtype, jnp.integer) or arr.size == 0):
        raise TypeError(f"offsets must be a 1-D sequence of integers, got {offsets!r}")
    offs = tuple(int(o) for o in arr)
    if len(set(offs)) != len(offs):
        raise ValueError(f"offsets must be distinct, got {offs}")
    if len(offs) <= order:
        raise ValueError(f"a derivative of order {order} needs at least {order + 1} offsets, got {len(offs)}")
    return np.array([float(w) for w in exact_weights(order, offs)], dtype=np.float64)


def _nonzero(offsets: Sequence[int], weights: Sequence[Fraction]) -> tuple[tuple[int, ...], tuple[float, ...]]:
    kept = [(o, w) for o, w in zip(offsets, weights) if w != 0]
    return tuple(o for o, _ in kept), tuple(float(w) for _, w in kept)


def uniform_stencil(
    order: int, step: Any, dtype: Any, *, offsets: tuple[int, ...], left: int = 0, left_width: int = 0,
    right: int = 0, right_width: int = 0,
) -> Stencil:
    """Stencil on a grid of step ``step``: interior ``offsets``; the ``left`` first points use the
    window of the first ``left_width`` points, the ``right`` last ones the last ``right_width``."""
    interior_offsets, weights = _nonzero(offsets, exact_weights(order, offsets))

    def edge(positions: range, width: int) -> tuple[Any, ...]:
        # Column j: node j's weight for every row; a row's position is relative to the window start.
        table = np.array([[float(w) for w in exact_weights(order, tuple(j - r for j in range(width)))] for r in positions])
        if len(positions) == 1:
            return tuple(float(v) for v in table[0])
        return tuple(np.asarray(table[:, j], dtype) for j in range(width))

    lw = edge(range(left), left_width) if left else ()
    rw = edge(range(right_width - right, right_width), right_width) if right and right_width else ()
    scale = jnp.asarray(step, dtype) ** -order
    return Stencil(interior_offsets, weights, left, right, lw, rw, scale=scale)


def coordinate_stencil(
    order: int, x: Array, dtype: Any, *, offsets: tuple[int, ...], left: int = 0, left_width: int = 0,
    right: int = 0, right_width: int = 0,
) -> Stencil:
    """Like :func:`uniform_stencil`, with weights computed from the coordinates ``x``."""
    n = x.shape[0]
    lo, hi = left, n - right
    centre = x[lo:hi]
    weights = local_weights(order, [x[lo + k : hi + k] - centre for k in offsets])
    lw = local_weights(order, [x[j] - x[:left] for j in range(left_width)]) if left else []
    start = n - right_width
    rw = local_weights(order, [x[start + j] - x[n - right :] for j in range(right_width)]) if right and right_width else []
    cast = lambda ws: tuple(w.astype(dtype) for w in ws)
    return Stencil(offsets, cast(weights), left, right, cast(lw), cast(rw))


def periodic_uniform_stencil(order: int, step: Any, dtype: Any, *, offsets: tuple[int, ...]) -> Stencil:
    """The stencil at ``offsets`` from every point, indices wrapping around the axis."""
    offsets, weights = _nonzero(offsets, exact_weights(order, offsets))
    return Stencil(offsets, weights, periodic=True, scale=jnp.asarray(step, dtype) ** -order)


def periodic_coordinate_stencil(order: int, x: Array, period: Any, dtype: Any, *, offsets: tuple[int, ...]) -> Stencil:
    """The stencil at ``offsets`` from every point on periodic coordinates."""
    n = x.shape[0]
    below, above = max(0, -min(offsets)), max(0, max(offsets))
    period = jnp.asarray(period, x.dtype)
    extended = jnp.concatenate([x[n - below :] - period, x, x[:above] + period])
    weights = local_weights(order, [extended[below + k : below + k + n] - x for k in offsets])
    return Stencil(offsets, tuple(w.astype(dtype) for w in weights), periodic=True)


# Padding modes: the ghost samples past each end of the axis, named and placed as in
# scipy.ndimage ("periodic" is a stencil of its own, above).
PADDING_MODES = ("reflect", "mirror", "nearest", "constant")


def ghost_source(i: int, n: int, mode: str) -> int | None:
    """The sample that padded index ``i`` (``-n <= i < 2n``, one reflection at most) repeats, or
    None for a ``"constant"`` ghost. ``"one-sided"`` stencils never read past the ends."""
    if 0 <= i < n:
        return i
    if mode == "nearest":
        return 0 if i < 0 else n - 1
    if mode == "reflect":  # half-sample symmetric: ... c b a | a b c d
        return -i - 1 if i < 0 else 2 * n - 1 - i
    if mode == "mirror":  # whole-sample symmetric: ... d c b | a b c d
        return -i if i < 0 else 2 * n - 2 - i
    if mode == "constant":
        return None
    raise AssertionError(f"no ghost samples with boundary {mode!r}")


def ghost_positions(x: Array, indices: np.ndarray, mode: str) -> Array:
    """The coordinates of padded ``indices`` (one reflection at most): samples' own coordinates;
    ghosts at the mirror images of the samples they repeat for ``"reflect"`` (about the point half
    an edge step outside the edge) and ``"mirror"`` (about the edge sample); the edge step continued
    for ``"nearest"`` and ``"constant"``. On exactly uniform coordinates every rule gives
    ``x[0] + i * h``."""
    n = x.shape[0]
    low, high = indices < 0, indices >= n
    edge = jnp.where(low, x[0], x[n - 1])
    step = jnp.where(low, x[0] - x[1], x[n - 1] - x[n - 2])  # points outwards
    if mode in ("reflect", "mirror"):
        source = np.array([ghost_source(int(i), n, mode) for i in indices.ravel()]).reshape(indices.shape)
        ghost = 2 * edge + (step if mode == "reflect" else 0) - x[source]
    else:
        beyond = np.where(low, -indices, indices - (n - 1))
        ghost = edge + beyond * step
    return jnp.where(low | high, ghost, x[np.clip(indices, 0, n - 1)])


def edge_stencil(
    order: int, spacing: Any, dtype: Any, n: int, *, offsets: tuple[int, ...],
    edge_offsets: tuple[int, ...] | Callable[[int], tuple[int, ...]], left: int, right: int, mode: str = "one-sided",
    cval: Any = None,
) -> Stencil:
    """A stencil with ``offsets`` inside and ``edge_offsets`` at each of the ``left`` first and
    ``right`` last rows (or ``edge_offsets(i)`` at row ``i``: as many offsets at every row).
    Offsets that reach past the ends read the ghost samples of ``mode``: the
    weight of a repeated sample is folded onto the sample it repeats, and ``cval`` times the weights
    of constant ghosts becomes the row's bias. ``spacing`` is a scalar step (exact weights) or
    coordinates. Rows that would overlap (a short axis) are all edge rows."""
    if left + right >= n:
        left, right = n, 0
    uniform = jnp.ndim(spacing) == 0

    def block(rows: np.ndarray, side: str) -> tuple[tuple[Any, ...], Any]:
        """The window columns and biases of ``rows``. Windows start at the first sample on the
        left and end at the last one on the right, as ``edge_terms`` slices them."""
        per_row = np.array([edge_offsets(int(i)) if callable(edge_offsets) else edge_offsets for i in rows])
        reads = rows[:, None] + per_row  # (rows, k): padded indices read
        sources = np.array([[-1 if (c := ghost_source(int(i), n, mode)) is None else c for i in r] for r in reads])
        start = 0 if side == "left" else int(sources[sources >= 0].min())
        width = (int(sources.max()) + 1 if side == "left" else n) - start
        # fold[k][r, j]: 1 where row r's k-th node repeats window column j
        fold = [(sources[:, k, None] - start == np.arange(width)[None, :]).astype(np.float64) for k in range(reads.shape[1])]
        ghost = (sources < 0).astype(np.float64)  # (rows, k): constant ghosts
        if uniform:
            w = np.array([[float(v) for v in exact_weights(order, tuple(int(o) for o in offs))] for offs in per_row])
            table = np.sum([w[:, k, None] * fk for k, fk in enumerate(fold)], axis=0)
            cols: tuple[Any, ...]
            if len(rows) == 1:  # one row: Python floats, as uniform_stencil's edges
                cols = tuple(float(c) for c in table[0])
            else:
                cols = tuple(np.asarray(table[:, j], dtype) for j in range(width))
            bias_rows: Any = np.asarray(np.sum(ghost * w, axis=1), dtype)  # the constant ghosts' weights
        else:
            x = spacing
            nodes = ghost_positions(x, reads, mode) - x[rows][:, None]
            ws = local_weights(order, [nodes[:, k] for k in range(reads.shape[1])])  # each (rows,)
            table_j = jnp.sum(jnp.stack([wk[:, None].astype(dtype) * jnp.asarray(fk, dtype) for wk, fk in zip(ws, fold)]), axis=0)
            cols = tuple(table_j[:, j] for j in range(width))
            bias_rows = jnp.sum(jnp.stack(ws, axis=1).astype(dtype) * jnp.asarray(ghost, dtype), axis=1)
        bias = None
        if mode == "constant" and cval is not None:
            bias = jnp.asarray(bias_rows, dtype) * jnp.asarray(cval, dtype)
        return cols, bias

    lw, lb = block(np.arange(left), "left") if left else ((), None)
    rw, rb = block(np.arange(n - right, n), "right") if right else ((), None)
    lo, hi = left, n - right
    weights: tuple[Any, ...]
    if uniform:
        interior_offsets, weights = _nonzero(offsets, exact_weights(order, offsets))
        scale = jnp.asarray(spacing, dtype) ** -order
    elif hi > lo:
        interior_offsets, centre = offsets, spacing[lo:hi]
        weights = tuple(w.astype(dtype) for w in local_weights(order, [spacing[lo + k : hi + k] - centre for k in offsets]))
        scale = None
    else:
        interior_offsets, weights, scale = (), (), None
    return Stencil(interior_offsets, tuple(weights), left, right, lw, rw, scale=scale, left_bias=lb, right_bias=rb)


def _at(w: Any, row: int) -> Any:
    """Weight ``w`` at a row of its block: a scalar serves every row, an array holds one per row."""
    return w if jnp.ndim(w) == 0 else w[row]


def _column(values: list[Any], dtype: Any) -> Any:
    """One window column of an edge block: numpy when every entry is a constant, else traced."""
    if all(isinstance(v, (int, float, np.generic)) for v in values):
        return np.asarray(values, dtype)
    return jnp.stack([jnp.asarray(v, dtype) for v in values])


def transposed_sizes(stencil: Stencil, n: int) -> tuple[int, int, int, int] | None:
    """``(left rows, right rows, left window, right window)`` of :func:`transposed`'s plan (zeros
    for a periodic one), or None where it has none; cheap: nothing is built."""
    if stencil.left_bias is not None or stencil.right_bias is not None or not stencil.offsets:
        return None
    if stencil.periodic:
        return 0, 0, 0, 0
    lo, hi, wl, wr = stencil.left, stencil.right, len(stencil.left_weights), len(stencil.right_weights)
    pmin, pmax = min(stencil.offsets), max(stencil.offsets)
    # A^T's row j is the negated stencil when every row j - k is an interior row of A and no edge
    # window of A covers column j.
    new_left, new_right = max(wl, lo + pmax, 0), max(wr, hi - pmin, 0)
    left_window, right_window = max(lo, new_left - pmin), max(hi, new_right + pmax)
    # Each edge block of A^T must see every nonzero of its columns: none from A's far edge window.
    if new_left + new_right > n or new_left > n - wr or new_right > n - wl or max(left_window, right_window) > n:
        return None
    return new_left, new_right, left_window, right_window


def transposed(stencil: Stencil, n: int, dtype: Any) -> Stencil | None:
    """The plan of the transposed matrix ``A^T`` of ``stencil`` (``A``) on an axis of length ``n``,
    with weights of ``dtype``; None when ``A`` has a bias (it is affine) or the axis is too short
    for the edge blocks to stay apart. ``scale`` is left out (a common factor). Inside, ``A^T`` is
    the same stencil at negated offsets, each per-row weight shifted to the row it now serves; its
    edge rows are the columns of ``A`` that meet an edge row of ``A`` or the interior rows nearest
    the ends. Constant weights give constant weights; traced ones (coordinates) traced ones."""
    sizes = transposed_sizes(stencil, n)
    if sizes is None:
        return None
    negated = tuple(-k for k in stencil.offsets)
    if stencil.periodic:  # row j reads c[j - k], weighted by row j - k's weight
        return Stencil(negated, tuple(w if jnp.ndim(w) == 0 else jnp.roll(w, k) for k, w in zip(stencil.offsets, stencil.weights)), periodic=True)
    lo, hi, wl, wr = stencil.left, stencil.right, len(stencil.left_weights), len(stencil.right_weights)
    new_left, new_right, left_window, right_window = sizes
    interior = dict(zip(stencil.offsets, stencil.weights))

    def entry(i: int, j: int) -> Any:  # A[i, j]
        if i < lo:
            return _at(stencil.left_weights[j], i) if j < wl else 0.0
        if i >= n - hi:
            c = j - (n - wr)
            return _at(stencil.right_weights[c], i - (n - hi)) if c >= 0 else 0.0
        return _at(interior[j - i], i - lo) if j - i in interior else 0.0

    def columns(rows: range, window: range) -> tuple[Any, ...]:
        cols = [_column([entry(i, j) for j in rows], dtype) for i in window]  # column i: A[i, rows]
        if len(rows) == 1 and all(isinstance(c, np.ndarray) for c in cols):
            return tuple(float(c[0]) for c in cols)
        return tuple(cols)

    lw = columns(range(new_left), range(left_window)) if new_left else ()
    rw = columns(range(n - new_right, n), range(n - right_window, n)) if new_right else ()
    # Row j of A^T at offset -k: the weight of A's row j - k (an interior row of A).
    weights = tuple(
        w if jnp.ndim(w) == 0 else w[new_left - k - lo : n - new_right - k - lo]
        for k, w in zip(stencil.offsets, stencil.weights)
    )
    return Stencil(negated, weights, new_left, new_right, lw, rw)


def matrix_entries(stencil: Stencil, n: int) -> tuple[Array, np.ndarray]:
    """The nonzero entries of the ``(n, n)`` matrix that applies ``stencil`` to a vector:
    ``(values, indices)`` with ``indices[e] = (row, column)``, in the layout of
    :class:`jax.experimental.sparse.BCOO`. Rows and columns are static; values follow the
    (possibly traced) weights."""
    scale = 1.0 if stencil.scale is None else stencil.scale
    values: list[Array] = []
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []

    def add(row_ids: np.ndarray, col_ids: np.ndarray, w: Any) -> None:
        values.append(jnp.broadcast_to(jnp.asarray(w) * scale, row_ids.shape))
        rows.append(row_ids)
        cols.append(col_ids)

    lo, hi = (0, n) if stencil.periodic else (stencil.left, n - stencil.right)
    centre = np.arange(lo, hi)
    for k, w in zip(stencil.offsets, stencil.weights):
        add(centre, (centre + k) % n, w)
    if not stencil.periodic:
        for j, w in enumerate(stencil.left_weights):
            add(np.arange(stencil.left), np.full(stencil.left, j), w)
        start = n - len(stencil.right_weights)
        for j, w in enumerate(stencil.right_weights):
            add(np.arange(n - stencil.right, n), np.full(stencil.right, start + j), w)
    indices = np.stack([np.concatenate(rows), np.concatenate(cols)], axis=1)
    return jnp.concatenate(values), indices


@functools.cache
def _normal_rows(order: int) -> tuple[tuple[Fraction, ...], tuple[tuple[Fraction, ...], ...], tuple[tuple[Fraction, ...], ...]]:
    """Exact rows of ``D^T D`` for the unit-step forward difference ``D`` of ``order`` (zero in its
    last ``order`` rows): the interior row at offsets ``-order..order``, and the first and last
    ``order`` rows on their windows of ``2 * order`` columns."""
    k = order
    n = 4 * k + 2  # long enough for interior rows between the two edge blocks
    w = exact_weights(k, tuple(range(k + 1)))
    D = [[Fraction(0)] * n for _ in range(n)]
    for r in range(n - k):
        for j in range(k + 1):
            D[r][r + j] = w[j]
    M = [[sum((D[r][i] * D[r][m] for r in range(n)), Fraction(0)) for m in range(n)] for i in range(n)]
    interior = tuple(M[2 * k][2 * k + o] for o in range(-k, k + 1))
    left = tuple(tuple(M[r][:2 * k]) for r in range(k))
    right = tuple(tuple(M[r][n - 2 * k :]) for r in range(n - k, n))
    return interior, left, right


def normal_stencil(order: int, step: Any, dtype: Any) -> Stencil:
    """``D^T D`` for the forward difference ``D`` of ``order`` on a grid of step ``step``, as one
    stencil: the gradient of the smoothness penalty ``sum((D f)**2) / 2`` in a single pass."""
    interior, left, right = _normal_rows(order)
    offsets, weights = _nonzero(tuple(range(-order, order + 1)), interior)

    def columns(rows: tuple[tuple[Fraction, ...], ...]) -> tuple[Any, ...]:
        if len(rows) == 1:
            return tuple(float(v) for v in rows[0])
        return tuple(np.array([float(row[j]) for row in rows], dtype) for j in range(len(rows[0])))

    scale = jnp.asarray(step, dtype) ** (-2 * order)
    return Stencil(offsets, weights, order, order, columns(left), columns(right), scale=scale)
