"""Finite-difference weights: which numbers multiply which neighbours. Pure maths: this module
imports nothing from the package; which points a stencil uses is decided in ``_stencils``.

Uniform grids get exact rational weights, computed once per (order, offsets) in Python's
``fractions`` and cached, then divided by ``h**order``. Coordinate grids get weights computed in
``jnp`` from the coordinates themselves, one set per output point, so they follow the coordinates
through ``jit``, ``vmap`` and every autodiff transform.

Both use Fornberg's recursion (B. Fornberg, "Generation of finite difference formulas on
arbitrarily spaced grids", Math. Comp. 51, 1988), written once for any number type (Fractions for
exact weights, arrays of per-point offsets for coordinate grids), plus a looped form that keeps
compile times short for wide stencils.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array


def _zero(v: Any) -> bool:
    # The recursion starts from literal zeros; skipping them keeps traced graphs small.
    return isinstance(v, int) and v == 0


def _times(a: Any, b: Any) -> Any:
    return 0 if _zero(a) or _zero(b) else a * b


def _minus(a: Any, b: Any) -> Any:
    return -b if _zero(a) else a if _zero(b) else a - b


def fornberg(order: int, nodes: Sequence[Any]) -> list[Any]:
    """Weights ``w`` with ``sum_j w[j] * g(nodes[j]) ~ g^(order)(0)``, exact for polynomials of
    degree below ``len(nodes)``.

    ``nodes`` may be Fractions (exact weights) or arrays (one stencil per element: per-point
    offsets of a coordinate grid). Unrolled into elementwise operations, which XLA fuses into a
    single pass over the points: the fast form for the short stencils of everyday use.
    """
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
                for k in range(min(i, order), -1, -1):
                    num = _minus(_times(k, c[i - 1][k - 1]) if k else 0, _times(nodes[i - 1], c[i - 1][k]))
                    c[i][k] = 0 if _zero(num) else prod_prev * num / prod
            for k in range(min(i, order), -1, -1):
                num = _minus(_times(nodes[i], c[j][k]), _times(k, c[j][k - 1]) if k else 0)
                c[j][k] = 0 if _zero(num) else num / gap
        prod_prev = prod
    return [row[order] for row in c]


def fornberg_loop(order: int, nodes: Array) -> Array:
    """:func:`fornberg` for wide stencils: ``nodes`` of shape ``(m, P)``, weights of shape ``(m, P)``.

    Each step of the recursion adds one node and updates all earlier nodes' weights as one array
    operation inside a ``fori_loop``, so the compiled program does not grow with ``m`` (the
    unrolled form grows as ``m**2`` and compiles slowly for high accuracy).
    """
    m, points = nodes.shape
    k = np.arange(order + 1).reshape(1, -1, 1)
    seen = np.arange(m).reshape(-1, 1)
    zero = jnp.zeros((m, 1, points), dtype=nodes.dtype)
    down = lambda c: jnp.concatenate([zero[: c.shape[0]], c[:, :-1]], axis=1)  # c[., k] -> c[., k - 1]

    def add_node(i, state):
        c, prod_prev = state  # c[j, k]: weight of node j (< i) for the k-th derivative, per point
        gaps = jnp.where(seen < i, nodes[i] - nodes, 1)
        prod = jnp.prod(gaps, axis=0)
        last = jax.lax.dynamic_slice_in_dim(c, i - 1, 1)
        new = prod_prev * (k * down(last) - nodes[i - 1] * last) / prod
        c = jnp.where((seen < i)[:, :, None], (nodes[i] * c - k * down(c)) / gaps[:, None, :], c)
        return jnp.where((seen == i)[:, :, None], new, c), prod

    c = jnp.concatenate([jnp.where(seen == 0, 1, 0)[:, None, :] + zero] + [zero] * order, axis=1)
    c, _ = jax.lax.fori_loop(1, m, add_node, (c, jnp.ones((points,), dtype=nodes.dtype)))
    return c[:, order]


@functools.cache
def exact_weights(order: int, offsets: tuple[int, ...]) -> tuple[Fraction, ...]:
    return tuple(fornberg(order, [Fraction(o) for o in offsets]))


def short_weights(order: int, t: list[Array]) -> list[Array]:
    """Closed-form weights of two- and three-point stencils (numpy.gradient's formulas on uneven
    grids), with a single division per point: these are memory-bound hot paths, and the general
    recursion spends ten divisions per point on them."""
    if len(t) == 2:
        r = 1 / (t[1] - t[0])
        return [-r, r]
    t0, t1, t2 = t
    r = 1 / ((t0 - t1) * (t0 - t2) * (t1 - t2))
    if order == 1:
        return [-(t1 + t2) * (t1 - t2) * r, (t0 + t2) * (t0 - t2) * r, -(t0 + t1) * (t0 - t1) * r]
    return [2 * (t1 - t2) * r, -2 * (t0 - t2) * r, 2 * (t0 - t1) * r]


# Stencils up to this many points get the unrolled (fused, fast) recursion; wider ones the loop.
UNROLL_MAX = 7


def local_weights(order: int, nodes: list[Array]) -> list[Array]:
    """Fornberg weights for per-point node offsets. Beyond three nodes the nodes are first scaled
    to about unit size (a constant factor: the weights scale exactly as ``scale**-order``) so that
    products of many small gaps cannot underflow in float32 on fine grids."""
    m = len(nodes)
    if m <= 3 and order <= 2:
        return short_weights(order, nodes)
    if m <= 3:
        return fornberg(order, nodes)
    scale = jax.lax.stop_gradient(jnp.abs(nodes[-1] - nodes[0]) / (m - 1))
    scaled = [x / scale for x in nodes]
    weights = fornberg(order, scaled) if m <= UNROLL_MAX else list(fornberg_loop(order, jnp.stack(scaled)))
    return [w / scale**order for w in weights]
