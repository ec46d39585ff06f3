"""Finite-difference weights: which numbers multiply which neighbours.

Uniform grids get exact rational weights, computed once per (order, offsets) in Python's
``fractions`` and cached, then divided by ``h**order``. Coordinate grids get weights computed in
``jnp`` from the coordinates themselves, one set per output point, so they follow the coordinates
through ``jit``, ``vmap`` and every autodiff transform.

Both use Fornberg's recursion (B. Fornberg, "Generation of finite difference formulas on
arbitrarily spaced grids", Math. Comp. 51, 1988), written once for any number type: Fractions for
exact weights, arrays of per-point offsets for coordinate grids.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxgrad._apply import Stencil

Array = jax.Array


def fornberg(order: int, nodes: Sequence[Any]) -> list[Any]:
    """Weights ``w`` with ``sum_j w[j] * g(nodes[j]) ~ g^(order)(0)``, exact for polynomials of
    degree < len(nodes). ``nodes`` may be Fractions, floats or arrays (one stencil per element)."""
    m = len(nodes)
    c = [[0] * (order + 1) for _ in range(m)]  # c[j][k]: weight of node j for the k-th derivative
    c[0][0] = 1
    prod_prev = 1
    for i in range(1, m):
        prod = 1
        for j in range(i):
            gap = nodes[i] - nodes[j]
            prod = prod * gap
            if j == i - 1:
                for k in range(min(i, order), 0, -1):
                    c[i][k] = prod_prev * (k * c[i - 1][k - 1] - nodes[i - 1] * c[i - 1][k]) / prod
                c[i][0] = -prod_prev * nodes[i - 1] * c[i - 1][0] / prod
            for k in range(min(i, order), 0, -1):
                c[j][k] = (nodes[i] * c[j][k] - k * c[j][k - 1]) / gap
            c[j][0] = nodes[i] * c[j][0] / gap
        prod_prev = prod
    return [row[order] for row in c]


@functools.lru_cache(maxsize=None)
def exact_weights(order: int, offsets: tuple[int, ...]) -> tuple[Fraction, ...]:
    return tuple(fornberg(order, [Fraction(o) for o in offsets]))


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
    if isinstance(order, (bool, np.bool_)):
        raise TypeError(f"order must be an int, got {order!r}")
    try:
        order = operator.index(order)
    except TypeError:
        raise TypeError(f"order must be an int, got {order!r}") from None
    if order < 0:
        raise ValueError(f"order must be >= 0, got {order}")
    arr = np.asarray(offsets)
    if arr.ndim != 1 or not (jnp.issubdtype(arr.dtype, jnp.integer) or arr.size == 0):
        raise TypeError(f"offsets must be a 1-D sequence of integers, got {offsets!r}")
    offs = tuple(int(o) for o in arr)
    if len(set(offs)) != len(offs):
        raise ValueError(f"offsets must be distinct, got {offs}")
    if len(offs) <= order:
        raise ValueError(f"a derivative of order {order} needs at least {order + 1} offsets, got {len(offs)}")
    return np.array([float(w) for w in exact_weights(order, offs)], dtype=np.float64)


def _nonzero(offsets: Sequence[int], weights: Sequence[Fraction], scale: Any) -> tuple[tuple[int, ...], tuple[Any, ...]]:
    kept = [(o, w) for o, w in zip(offsets, weights) if w != 0]
    return tuple(o for o, _ in kept), tuple(float(w) * scale for _, w in kept)


def uniform_stencil(
    order: int, step: Any, offsets: tuple[int, ...], left: int, left_width: int, right: int, right_width: int,
    dtype: Any,
) -> Stencil:
    """Stencil on a grid of step ``step``: interior ``offsets``; the ``left`` first points use the
    window of the first ``left_width`` points, the ``right`` last ones the last ``right_width``."""
    scale = jnp.asarray(step, dtype) ** -order
    interior_offsets, weights = _nonzero(offsets, exact_weights(order, offsets), scale)

    def edge(positions: range, width: int) -> tuple[Any, ...]:
        # Column j: node j's weight for every row; a row's position is relative to the window start.
        table = np.array([[float(w) for w in exact_weights(order, tuple(j - r for j in range(width)))] for r in positions])
        return tuple(jnp.asarray(table[:, j], dtype) * scale for j in range(width))

    lw = edge(range(left), left_width) if left else ()
    rw = edge(range(right_width - right, right_width), right_width) if right and right_width else ()
    return Stencil(interior_offsets, weights, left, right, lw, rw)


def _local_weights(order: int, nodes: list[Array]) -> list[Array]:
    """Fornberg weights for per-point node offsets, computed on nodes scaled to about unit size so
    that products of many small gaps cannot underflow (float32, high order, fine grids). The scale
    is a power of two, so scaling adds no rounding, and a constant, since the weights do not depend
    on it."""
    _, exponent = jnp.frexp(jax.lax.stop_gradient(jnp.abs(nodes[-1] - nodes[0])))
    scale = jnp.ldexp(jnp.ones_like(nodes[0]), exponent)
    weights = fornberg(order, [x / scale for x in nodes])
    return [w / scale**order for w in weights]


def coordinate_stencil(
    order: int, x: Array, offsets: tuple[int, ...], left: int, left_width: int, right: int, right_width: int,
    dtype: Any,
) -> Stencil:
    """Like :func:`uniform_stencil`, with weights computed from the coordinates ``x``."""
    n = x.shape[0]
    lo, hi = left, n - right
    centre = x[lo:hi]
    weights = _local_weights(order, [x[lo + k : hi + k] - centre for k in offsets])
    lw = _local_weights(order, [x[j] - x[:left] for j in range(left_width)]) if left else []
    start = n - right_width
    rw = _local_weights(order, [x[start + j] - x[n - right :] for j in range(right_width)]) if right_width else []
    cast = lambda ws: tuple(w.astype(dtype) for w in ws)
    return Stencil(offsets, cast(weights), left, right, cast(lw), cast(rw))


def periodic_coordinate_stencil(order: int, x: Array, period: Any, half_width: int, dtype: Any) -> Stencil:
    """Central stencil of ``2 * half_width + 1`` points on periodic coordinates."""
    p, n = half_width, x.shape[0]
    period = jnp.asarray(period, x.dtype)
    extended = jnp.concatenate([x[n - p :] - period, x, x[:p] + period])
    offsets = tuple(range(-p, p + 1))
    weights = _local_weights(order, [extended[p + k : p + k + n] - x for k in offsets])
    return Stencil(offsets, tuple(w.astype(dtype) for w in weights), periodic=True)


def periodic_uniform_stencil(order: int, step: Any, half_width: int, dtype: Any) -> Stencil:
    offsets = tuple(range(-half_width, half_width + 1))
    scale = jnp.asarray(step, dtype) ** -order
    offsets, weights = _nonzero(offsets, exact_weights(order, offsets), scale)
    return Stencil(offsets, weights, periodic=True)
