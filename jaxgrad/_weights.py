"""Finite-difference weights: which numbers multiply which neighbours. Pure maths: this module
imports nothing from the package; which points a stencil uses is decided in ``_stencils``.

Uniform grids get exact rational weights, computed once per (order, offsets) in Python's
``fractions`` by Fornberg's recursion (B. Fornberg, "Generation of finite difference formulas on
arbitrarily spaced grids", Math. Comp. 51, 1988) and cached, then divided by ``h**order``.
Coordinate grids get weights computed in ``jnp`` from the coordinates themselves, one set per
output point, so they follow the coordinates through ``jit``, ``vmap`` and every autodiff
transform: closed forms for two and three points, the Lagrange form (one division per node) for
everyday stencils, Fornberg's recursion in a loop for wide ones. The choice is about compile time:
XLA:CPU compiles every division that several operations read as a loop of its own, and the
recursion's ``m**2 * order`` divisions cost seconds of compilation for a five-point stencil.
"""

from __future__ import annotations

import functools
import math
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

    ``nodes`` may be Fractions (exact weights) or arrays (one stencil per element), unrolled
    into elementwise operations. Coordinate grids take :func:`lagrange` instead (the same
    weights, compiled several times faster).
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


def lagrange(order: int, nodes: Sequence[Any], unit: Any = 1) -> list[Any]:
    """:func:`fornberg`'s weights from the Lagrange basis: ``w[j]`` is ``order!`` times the
    coefficient of ``t**order`` in ``prod_{i != j} (t - nodes[i])``, over
    ``prod_{i != j} (nodes[j] - nodes[i])``.

    One division per node (the recursion has ``order`` per pair of nodes), so that XLA fuses the
    products into a few loops: a five-point stencil on a coordinate grid compiles in about a
    quarter of the time. Only the coefficients up to ``t**order`` are carried. As accurate as the
    recursion on nodes scaled to unit size (measured against exact weights, orders 1-6, up to 16
    nodes, float32 and float64). ``unit``: the length the nodes are measured in; the weights come
    back per original length, their last operation a division, which XLA computes once per
    point (a multiplication after it would be fused into, and repeated by, every loop that
    broadcasts the weights: 1.4x the time of a 2-D loss's ``jax.grad``).
    """
    m = len(nodes)
    weights = []
    for j in range(m):
        poly: list[Any] = [1] + [0] * order  # coefficients of t**0 .. t**order
        denominator: Any = 1
        for i in range(m):
            if i != j:
                poly = [_minus(poly[k - 1] if k else 0, _times(nodes[i], poly[k])) for k in range(order + 1)]
                denominator = denominator * (nodes[j] - nodes[i])
        weights.append(math.factorial(order) * poly[order] / (denominator * unit**order))
    return weights


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
    grids), one division per weight (the general recursion spends ten per point on them). Each
    weight ends in its division: XLA:CPU then computes the weights once per row, where a trailing
    multiplication by a shared reciprocal was fused into the 2-D loop that broadcasts them and
    recomputed at every sample (measured on the Performance page)."""
    if len(t) == 2:
        d = t[1] - t[0]
        return [-1 / d, 1 / d]
    t0, t1, t2 = t
    den = (t0 - t1) * (t0 - t2) * (t1 - t2)
    if order == 1:
        return [-(t1 + t2) * (t1 - t2) / den, (t0 + t2) * (t0 - t2) / den, -(t0 + t1) * (t0 - t1) / den]
    return [2 * (t1 - t2) / den, -2 * (t0 - t2) / den, 2 * (t0 - t1) / den]


# Stencils up to this many points get the unrolled Lagrange form (fused, fast); wider ones the
# loop, whose program does not grow with the width (the unrolled forms compile slower from ten
# points on: measured on the Performance page).
UNROLL_MAX = 9


def local_weights(order: int, nodes: list[Array]) -> list[Array]:
    """Weights for per-point node offsets. Beyond three nodes the nodes are first scaled to about
    unit size (a constant factor: the weights scale exactly as ``scale**-order``) so that
    products of many small gaps cannot underflow in float32 on fine grids; the scaling multiplies
    by a reciprocal, so that it fuses into the products (a division would be a loop of its own)."""
    m = len(nodes)
    if m <= 3 and order <= 2:
        return short_weights(order, nodes)
    if m <= 3:
        return fornberg(order, nodes)
    unit = jax.lax.stop_gradient(jnp.abs(nodes[-1] - nodes[0]) / (m - 1))
    inverse = 1 / unit
    scaled = [x * inverse for x in nodes]
    if m <= UNROLL_MAX:
        return lagrange(order, scaled, unit)
    return [w * inverse**order for w in fornberg_loop(order, jnp.stack(scaled))]
