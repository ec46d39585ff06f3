"""Penalties for loss functions: total variation and smoothness (a discrete Sobolev seminorm).

Both use forward differences ``(f[i+1] - f[i]) / h_i`` (and their higher-order analogues over
``order + 1`` consecutive points), set to zero at the last points of each axis. Unlike central
differences, these see every oscillation of the grid, the checkerboard included, which is what a
regularizer must penalize.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.custom_derivatives import SymbolicZero
from jax.typing import ArrayLike

from jaxgrad._apply import flat_view, materialized_on_cpu, summed, with_faces
from jaxgrad._args import (
    as_field,
    is_traced,
    normalize_axes,
    normalize_int,
    normalize_spacing,
    rank,
    reduce_uniform,
    shift_origin,
)
from jaxgrad._core import add_all, applied_summed, forward_stencil, real_dtype, to_working
from jaxgrad._halo import Halo, Layout, apply_along
from jaxgrad._launch import Plan, kernel, launch
from jaxgrad._masks import forward_valid, masked_input, normalize_where
from jaxgrad._stencils import normal_stencil

Array = jax.Array
Reduction = Literal["mean", "sum", "none"]

REDUCTIONS = ("mean", "sum", "none")


def _prepare(f: Any, varargs: Any, axis: Any, order: int, reduction: Any, what: str) -> tuple[Any, tuple, tuple]:
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    f = as_field(f)
    axes = normalize_axes(axis, f.ndim)
    if not axes:
        raise ValueError(f"{what} needs at least one axis; f has shape {f.shape}")
    for a in axes:
        if f.shape[a] < order + 1:
            raise ValueError(f"f.shape[{a}] is {f.shape[a]}, too small for {what}: at least {order + 1} points are required")
    spacings = tuple(shift_origin(reduce_uniform(s, None)) for s in normalize_spacing(varargs, f.shape, axes))
    return f, axes, spacings


def _sqrt_safe(s: Array) -> Array:
    """sqrt with a zero (not NaN) derivative where its argument is zero: a flat region."""
    positive = s > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, s, 1.0)), 0.0)


def _reduce(field: Array, reduction: str) -> Array:
    return field if reduction == "none" else summed(field) * _mean_factor(reduction, field)


def _differences(g: Array, spacings: tuple, axes: tuple[int, ...], order: int, layout: Layout | None) -> list[Array]:
    return [apply_along(g, a, forward_stencil(s, real_dtype(g.dtype), order=order), layout) for s, a in zip(spacings, axes)]


def _transpose(q: Array, spacing: Any, axis: int, order: int, layout: Layout | None) -> Array:
    """``D^T q`` for the forward difference ``D`` along ``axis`` (its adjoint, by JAX's own
    transposition of the linear stencil)."""
    stencil = forward_stencil(spacing, real_dtype(q.dtype), order=order)
    (out,) = jax.linear_transpose(lambda g: apply_along(g, axis, stencil, layout), q)(q)
    return out


def _with_gradient(value: Callable[..., Array], gradient: Callable[..., Array], g: Array, *args: Any) -> Array:
    """``value(g, *args)``, a scalar, differentiated by ``gradient(g, *args)`` (its gradient with
    respect to ``g``, computed in one pass) instead of by differentiating ``value`` step by step:
    forward mode gives ``<gradient, t>``, reverse mode ``cotangent * gradient``, and higher
    derivatives differentiate ``gradient``. Tangents of ``args`` (coordinates, ``eps``) go through
    ``value`` by JAX's own rules, only when there are any."""

    @jax.custom_jvp
    def loss(g: Array, *args: Any) -> Array:
        return value(g, *args)

    def loss_jvp(primals: tuple, tangents: tuple) -> tuple[Array, Array]:
        g, *rest = primals
        t, *t_rest = tangents
        out = value(g, *rest)
        tangent = jnp.zeros_like(out)
        if not isinstance(t, SymbolicZero):
            tangent = tangent + jnp.vdot(gradient(g, *rest), t)
        live = [not isinstance(v, SymbolicZero) for v in jax.tree.leaves(t_rest, is_leaf=_is_zero)]
        if any(live):
            zeros = jax.tree.map(lambda v, p: jnp.zeros_like(p) if isinstance(v, SymbolicZero) else v, t_rest, rest,
                                 is_leaf=_is_zero)
            tangent = tangent + jax.jvp(lambda *a: value(g, *a), tuple(rest), tuple(zeros))[1]
        return out, tangent

    loss.defjvp(loss_jvp, symbolic_zeros=True)
    return loss(g, *args)


def _is_zero(v: Any) -> bool:
    return isinstance(v, SymbolicZero)


def _mean_factor(reduction: str, g: Array) -> float:
    if reduction != "mean":
        return 1.0
    return 1.0 / g.size if g.size else float("nan")  # the mean of no samples, as jnp.mean gives


def _one_pass_steps(g: Array, spacings: tuple, axes: tuple[int, ...], layout: Layout | None) -> tuple | None:
    """The steps of every axis, in axis order, where :func:`_flat_tv_gradient` applies: a real 2-D or
    3-D array on one device, every axis differentiated with a uniform step, the major axes 3 long
    or more; None otherwise."""
    # One device only: the raveled view would lose a traced array's sharding (its layout is
    # unknown here), as in _core.applied_summed.
    if g.ndim not in (2, 3) or sorted(axes) != list(range(g.ndim)) or layout is not None or jax.device_count() != 1:
        return None
    if g.dtype not in (np.dtype(np.float32), np.dtype(np.float64)) or min(g.shape[:-1]) < 3:
        return None
    steps = dict(zip(axes, spacings))
    if any(jnp.ndim(s) != 0 for s in steps.values()):
        return None
    return tuple(steps[a] for a in range(g.ndim))


def _flat_tv_gradient(g: Array, steps: tuple, eps: Any, isotropic: bool) -> Array:
    """Total variation's gradient ``sum_a D_a^T (d_a / m)`` (unscaled) in one loop over ``g``
    (:func:`jaxgrad._apply.flat_view`): at each sample the forward differences at the sample and
    at its lower neighbour along each axis, recomputed from ``g`` (their ``1/m`` too), never
    written to memory. Axis by axis, XLA:CPU wrote each axis's differences to memory and read them
    back at three offsets: ``jax.grad`` 2.5x (2-D) to 3x (3-D) slower (Performance page). The edge
    rows of the major axes come from the same sum on small zero-padded slabs (joined by
    concatenation: written in place, XLA:CPU computed them inside the main loop, 7-12x slower in
    3-D)."""
    k, n = g.ndim, g.shape[-1]
    inverse_steps = [1 / jnp.asarray(h, g.dtype) for h in steps]
    eps2 = jnp.square(jnp.asarray(eps, g.dtype))
    block_at, column = flat_view(g, [(1, 1)] * (k - 1))
    # Inside the block every major-axis difference is defined; the last axis's is zero at its
    # last column (a shift o moves the columns by o[-1]).
    inside = lambda a, o: True if a < k - 1 else column != (n - 1 - o[-1]) % n
    block = _tv_gradient_sum(block_at, inside, k, inverse_steps, eps2, isotropic)

    # Both faces of axis b from one slab: its first two rows and its last two, stacked (each
    # face row has its neighbours along b beside it; the two rows between are discarded).
    faces = {}
    for b in range(k - 1):
        m = g.shape[b]
        slab = jnp.concatenate([lax.slice_in_dim(g, 0, 2, axis=b), lax.slice_in_dim(g, m - 2, m, axis=b)], axis=b)
        padded = jnp.pad(slab, 1)
        slab_at = lambda o, padded=padded, shape=slab.shape: lax.slice(padded, [1 + x for x in o], [1 + x + s for x, s in zip(o, shape)])
        index = [lax.broadcasted_iota(jnp.int32, slab.shape, a) for a in range(k)]
        defined = lambda a, o, index=index, shape=slab.shape: (index[a] + o[a] >= 0) & (index[a] + o[a] < shape[a] - 1)
        faces[b] = _tv_gradient_sum(slab_at, defined, k, inverse_steps, eps2, isotropic)
    face = lambda b, side: lax.slice_in_dim(faces[b], 0 if side == "left" else 3, 1 if side == "left" else 4, axis=b)
    return with_faces(g, block, [(1, 1)] * (k - 1), face)


def _tv_gradient_sum(at: Callable, defined: Callable, k: int, inverse_steps: list, eps2: Array, isotropic: bool) -> Array:
    """``sum_a D_a^T (d_a / m)`` from ``at(o)``, the samples shifted by ``o``, where ``defined(a, o)``
    tells where the forward difference along ``a`` at the shifted samples exists (elsewhere it
    is zero: past the end of an axis, or before its start)."""
    unit = lambda a, sign: tuple(sign if b == a else 0 for b in range(k))

    def inverse(s: Array) -> Array:  # 1 / sqrt(s), 0 where s is 0 (a flat point without eps)
        return jnp.where(s > 0, lax.rsqrt(jnp.where(s > 0, s, 1)), jnp.zeros((), s.dtype))

    def normalized(o: tuple[int, ...]) -> list[Array]:
        """``d_a / m`` of every axis ``a`` at the samples shifted by ``o``."""
        here = at(o)
        d = [(at(tuple(x + y for x, y in zip(o, unit(a, 1)))) - here) * inverse_steps[a] for a in range(k)]
        d = [jnp.where(defined(a, o), v, jnp.zeros((), v.dtype)) for a, v in enumerate(d)]
        if isotropic:
            r = inverse(add_all(v * v for v in d) + eps2)
            return [v * r for v in d]
        return [v * inverse(v * v + eps2) for v in d]

    here = normalized((0,) * k)
    return add_all((normalized(unit(a, -1))[a] - here[a]) * inverse_steps[a] for a in range(k))


@kernel
def _total_variation(
    f: Array, spacings: tuple, eps: Any, *, axes: tuple[int, ...], isotropic: bool, reduction: str, layout: Layout | None
) -> Array:
    g = to_working(f)

    def magnitudes(g: Array, spacings: tuple, eps: Any) -> tuple[list[Array], list[Array]]:
        d = _differences(g, spacings, axes, 1, layout)
        eps2 = jnp.square(jnp.asarray(eps, real_dtype(g.dtype)))
        squares = [jnp.square(jnp.abs(v)) for v in d]
        return d, [_sqrt_safe(add_all(squares) + eps2)] if isotropic else [_sqrt_safe(s + eps2) for s in squares]

    def value(g: Array, spacings: tuple, eps: Any) -> Array:
        return _reduce(add_all(magnitudes(g, spacings, eps)[1]), reduction)

    def per_axis(g: Array, spacings: tuple, eps: Any) -> Array:
        # d/dg of sum_i m_i is sum_a D_a^T (d_a / m): the divergence of the normalized forward
        # differences; 0 where m is 0 (a flat point without eps: the subgradient 0).
        d, m = magnitudes(g, spacings, eps)
        inverse = [jnp.where(v > 0, 1 / jnp.where(v > 0, v, 1), 0) for v in m]
        if isotropic:  # one 1/m serves every axis at two offsets each: computed once on CPU
            inverse = [materialized_on_cpu(inverse[0])]
        terms = [_transpose(d_a * inverse[0 if isotropic else i], s, a, 1, layout)
                 for i, (d_a, s, a) in enumerate(zip(d, spacings, axes))]
        return add_all(terms)

    def gradient(g: Array, spacings: tuple, eps: Any) -> Array:
        flat = _one_pass_steps(g, spacings, axes, layout)
        if flat is not None:
            one_pass = lambda g: _flat_tv_gradient(g, flat, eps, isotropic)
            out = lax.platform_dependent(g, cpu=one_pass, default=lambda g: per_axis(g, spacings, eps))
        else:
            out = per_axis(g, spacings, eps)
        return out * _mean_factor(reduction, g)

    if reduction == "none" or not jnp.issubdtype(g.dtype, jnp.floating):
        out = value(g, spacings, eps)
    else:
        out = _with_gradient(value, gradient, g, spacings, eps)
    return out.astype(real_dtype(f.dtype))


@kernel
def _smoothness(f: Array, spacings: tuple, *, axes: tuple[int, ...], order: int, reduction: str, layout: Layout | None) -> Array:
    g = to_working(f)

    def value(g: Array, spacings: tuple) -> Array:
        return _reduce(add_all(jnp.square(jnp.abs(v)) for v in _differences(g, spacings, axes, order, layout)), reduction)

    def gradient(g: Array, spacings: tuple) -> Array:
        # d/dg of sum_i (D g)_i^2 is 2 D^T D g: on uniform axes one stencil (exact weights), all
        # of them summed in one pass when every axis is uniform (on XLA:CPU only: measured there,
        # not on a GPU); on coordinate axes D^T applied to D g.
        factor = 2 * _mean_factor(reduction, g)
        uniform = [jnp.ndim(s) == 0 and g.shape[a] >= 2 * order for s, a in zip(spacings, axes)]  # room for both edge blocks
        if all(uniform):
            plans = [normal_stencil(order, s, real_dtype(g.dtype)) for s in spacings]
            return applied_summed(g, plans, axes, layout, cpu_only=True) * factor
        terms = []
        for s, a, u in zip(spacings, axes, uniform):
            if u:
                terms.append(apply_along(g, a, normal_stencil(order, s, real_dtype(g.dtype)), layout))
            else:
                terms.append(_transpose(apply_along(g, a, forward_stencil(s, real_dtype(g.dtype), order=order), layout), s, a, order, layout))
        return add_all(terms) * factor

    if reduction == "none" or not jnp.issubdtype(g.dtype, jnp.floating):
        out = value(g, spacings)
    else:
        out = _with_gradient(value, gradient, g, spacings)
    return out.astype(real_dtype(f.dtype))


def _masked_differences(g: Array, w: Array, spacings: tuple, axes: tuple[int, ...], order: int) -> list[Array]:
    """Forward differences of ``g`` (invalid samples zeroed), zero where one reads an invalid sample."""
    d = _differences(g, spacings, axes, order, None)
    return [jnp.where(forward_valid(w, a, order), v, jnp.zeros((), v.dtype)) for v, a in zip(d, axes)]


def _masked_reduce(field: Array, w: Array, reduction: str) -> Array:
    """Invalid samples contribute nothing; the mean is over the valid samples (0 when none is)."""
    field = jnp.where(w, field, jnp.zeros((), field.dtype))
    if reduction != "mean":
        return _reduce(field, reduction)
    return summed(field) / jnp.maximum(jnp.sum(w, dtype=jnp.int32), 1).astype(field.dtype)


@kernel
def _masked_total_variation(
    f: Array, spacings: tuple, eps: Any, where: Array, *, axes: tuple[int, ...], isotropic: bool, reduction: str,
    layout: Layout | None,
) -> Array:
    # Plain autodiff: the mask makes the one-pass gradient of the unmasked path a different sum.
    del layout
    g, w = masked_input(f, where)
    d = _masked_differences(g, w, spacings, axes, 1)
    eps2 = jnp.square(jnp.asarray(eps, real_dtype(g.dtype)))
    squares = [jnp.square(jnp.abs(v)) for v in d]
    field = _sqrt_safe(add_all(squares) + eps2) if isotropic else add_all(_sqrt_safe(s + eps2) for s in squares)
    return _masked_reduce(field, w, reduction).astype(real_dtype(f.dtype))


@kernel
def _masked_smoothness(
    f: Array, spacings: tuple, where: Array, *, axes: tuple[int, ...], order: int, reduction: str,
    layout: Layout | None,
) -> Array:
    del layout
    g, w = masked_input(f, where)
    field = add_all(jnp.square(jnp.abs(v)) for v in _masked_differences(g, w, spacings, axes, order))
    return _masked_reduce(field, w, reduction).astype(real_dtype(f.dtype))


def _plan_total_variation(f: Any, *varargs: Any, axis: Any, isotropic: Any, eps: Any, reduction: Any) -> Plan:
    f, axes, spacings = _prepare(f, varargs, axis, 1, reduction, "total variation")
    if not isinstance(isotropic, (bool, np.bool_)):
        raise TypeError(f"isotropic must be True or False, got {isotropic!r}")
    if isinstance(eps, (str, bytes, bool)) or eps is None or rank(eps, "eps") != 0:
        raise TypeError(f"eps must be a real scalar >= 0, got {eps!r}")
    if not is_traced(eps):
        value = np.asarray(eps)
        if value.dtype.kind not in "iuf" or not 0 <= float(value) < np.inf:
            raise ValueError(f"eps must be a finite real scalar >= 0, got {eps!r}")
        eps = float(value)  # also a Python int beyond int64, which jit would refuse
    static = {"axes": axes, "isotropic": bool(isotropic), "reduction": reduction}
    return Plan(_total_variation, f, (spacings, eps), static)


def _plan_masked_total_variation(f: Any, *varargs: Any, where: Any, **options: Any) -> Plan:
    plan = _plan_total_variation(f, *varargs, **options)
    return plan._replace(kernel=_masked_total_variation, args=(*plan.args, normalize_where(where, plan.field.shape)))


def _plan_smoothness(f: Any, *varargs: Any, axis: Any, order: Any, reduction: Any) -> Plan:
    order = normalize_int(order, "order", 1)
    f, axes, spacings = _prepare(f, varargs, axis, order, reduction, f"smoothness of order {order}")
    return Plan(_smoothness, f, (spacings,), {"axes": axes, "order": order, "reduction": reduction})


def _plan_masked_smoothness(f: Any, *varargs: Any, where: Any, **options: Any) -> Plan:
    plan = _plan_smoothness(f, *varargs, **options)
    return plan._replace(kernel=_masked_smoothness, args=(*plan.args, normalize_where(where, plan.field.shape)))


def total_variation(
    f: ArrayLike, *varargs: ArrayLike, axis: int | tuple[int, ...] | None = None, isotropic: bool = True,
    eps: ArrayLike = 0.0, reduction: Reduction = "mean", where: ArrayLike | None = None, halo: Halo = True,
) -> Array:
    """Total variation of sampled data: the mean (or sum) of the gradient's magnitude.

    Per point, with forward differences ``d_a = (f[i+1] - f[i]) / h`` along each axis ``a`` (zero
    at the last point of each axis): ``sqrt(sum_a |d_a|^2 + eps^2)`` when ``isotropic``, else
    ``sum_a sqrt(|d_a|^2 + eps^2)`` (``sum_a |d_a|`` for ``eps=0``). ``eps > 0`` gives the smooth
    (Charbonnier) variant. The gradient is finite everywhere: where the field is flat and
    ``eps=0``, the subgradient 0 is used, never NaN.

    Args:
      f: the samples (real or complex; complex uses ``|d_a|``).
      *varargs: the spacing, as in :func:`jaxgrad.gradient`.
      axis: the axes to include: ``None`` (all), an int or a tuple.
      isotropic: combine the axes inside the square root (True) or sum per-axis magnitudes.
      eps: smoothing, ``>= 0``.
      reduction: ``"mean"`` or ``"sum"`` over all points, or ``"none"`` for the per-point field.
      where: a boolean array of ``f``'s shape (or broadcastable to it), True at valid samples.
        A difference counts only where all its samples are valid (one that reads an invalid
        sample is zero, as at the end of an axis); each valid sample contributes its value
        (isotropic: the root over the axes whose differences count, plus ``eps**2``), invalid
        samples contribute 0 (also in the ``"none"`` field), and ``"mean"`` averages over the
        valid samples (0 when there are none). Values at invalid samples never reach the result
        or its gradient. A full mask gives the unmasked result.
      halo: how arrays sharded along a differentiated axis are handled, as in
        :func:`jaxgrad.gradient`.

    Returns:
      A scalar, or with ``reduction="none"`` an array of ``f``'s shape, in ``f``'s real dtype.

    Raises:
      TypeError: a ``where`` that is not boolean, and arguments of the wrong type.
      ValueError: a ``where`` that does not broadcast to ``f``'s shape, a bad ``reduction`` or
        ``eps``, an axis too short.

    Examples:
      >>> import jax, jax.numpy as jnp, jaxgrad
      >>> step = jnp.array([0.0, 0.0, 1.0, 1.0])
      >>> float(jaxgrad.total_variation(step, reduction="sum"))
      1.0
      >>> jax.grad(jaxgrad.total_variation)(jnp.zeros((3, 3)))   # flat: finite, no NaN
      Array([[0., 0., 0.],
             [0., 0., 0.],
             [0., 0., 0.]], dtype=float32)
      >>> gap = jnp.array([0.0, 0.0, jnp.nan, 1.0, 1.0])   # the jump hides in the gap
      >>> float(jaxgrad.total_variation(gap, where=~jnp.isnan(gap), reduction="sum"))
      0.0
    """
    options: dict[str, Any] = {"axis": axis, "isotropic": isotropic, "eps": eps, "reduction": reduction}
    if where is not None:
        options["where"] = where
        return launch("total_variation", _plan_masked_total_variation, f, varargs, options, halo)
    return launch("total_variation", _plan_total_variation, f, varargs, options, halo)


def smoothness(
    f: ArrayLike, *varargs: ArrayLike, axis: int | tuple[int, ...] | None = None, order: int = 1,
    reduction: Reduction = "mean", where: ArrayLike | None = None, halo: Halo = True,
) -> Array:
    """Smoothness penalty: the mean (or sum) of the squared ``order``-th derivative.

    Per point, ``sum_a |D_a^order f|^2``, where ``D_a^order`` is the finite difference of
    ``order + 1`` consecutive points along axis ``a`` (forward; zero at the last ``order`` points
    of the axis), with weights from the spacing or coordinates. For ``order=1`` this is the
    discrete Dirichlet energy, for ``order=2`` a thin-plate (curvature) penalty: discrete Sobolev
    seminorms.

    Args:
      f: the samples (real or complex).
      *varargs: the spacing, as in :func:`jaxgrad.gradient`.
      axis: the axes to include: ``None`` (all), an int or a tuple.
      order: the derivative's order, 1 or more.
      reduction: ``"mean"`` or ``"sum"`` over all points, or ``"none"`` for the per-point field.
      where: a boolean array of ``f``'s shape (or broadcastable to it), True at valid samples:
        a difference counts only where its ``order + 1`` samples are all valid, and ``"mean"``
        averages over the valid samples, as in :func:`jaxgrad.total_variation`.
      halo: how arrays sharded along a differentiated axis are handled, as in
        :func:`jaxgrad.gradient`.

    Returns:
      A scalar, or with ``reduction="none"`` an array of ``f``'s shape, in ``f``'s real dtype.

    Raises:
      TypeError: a ``where`` that is not boolean, and arguments of the wrong type.
      ValueError: a ``where`` that does not broadcast to ``f``'s shape, a bad ``reduction`` or
        ``order``, an axis too short.

    Examples:
      >>> import jax.numpy as jnp, jaxgrad
      >>> line = 3 * jnp.arange(11.0) + 1
      >>> float(jaxgrad.smoothness(line, order=2))   # a line has no curvature
      0.0
      >>> float(jaxgrad.smoothness(line, reduction="sum"))   # 10 steps of slope 3
      90.0
      >>> valid = jnp.arange(11) != 5
      >>> float(jaxgrad.smoothness(line, where=valid, reduction="sum"))   # 8 steps left
      72.0
    """
    options: dict[str, Any] = {"axis": axis, "order": order, "reduction": reduction}
    if where is not None:
        options["where"] = where
        return launch("smoothness", _plan_masked_smoothness, f, varargs, options, halo)
    return launch("smoothness", _plan_smoothness, f, varargs, options, halo)
