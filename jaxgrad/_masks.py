"""Masks (``where=``): derivatives of the runs of valid samples along an axis.

Along one axis the valid samples form runs, and each run is differentiated as if it were the
whole axis: its own one-sided edges, and the highest accuracy it holds when it is too short for
the requested one. Which stencil a sample uses depends only on its distances to the ends of its
run, capped at ``cap`` (beyond the cap every distance behaves alike):

* ``left`` / ``right``: the number of consecutive valid samples just before / after the sample,
  at most ``cap``, counted by ``cap`` shifted ANDs of the mask (elementwise and fusible, no scan);
* :func:`row_offsets` maps ``(left, right)`` to the offsets of the whole-axis scheme's row for that
  position, or to None (no derivative);
* the distinct offset tuples form a small static set of candidate stencils (:func:`candidates`);
  the output is ``sum_k c_k * g[i + k]`` over the offsets, where ``c_k`` is the weight of offset
  ``k`` in the stencil that sample ``i`` uses, written as a polynomial in the 0/1 indicators
  ``[left >= l]`` and ``[right >= r]`` (:func:`masked_along`); NaN where a sample is invalid or
  has no derivative.

Zeroing the invalid samples first keeps their values (NaN, inf, garbage) out of every valid
output and keeps reverse-mode gradients finite: every weight is finite, also where a sample
does not use it, and multiplies finite numbers. On coordinate grids the weights of every
candidate are computed at every sample from coordinates extended past the ends of the axis
(continuing the edge step, or wrapping with the period), so they are finite even where unused.

The row rule is written for the central scheme of ``gradient``/``derivative`` and for the
one-sided ``"forward"``/``"backward"`` schemes (contract 8b), applied to a run instead of the axis.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxgrad._apply import _along, _shifted, join
from jaxgrad._args import SCHEMES
from jaxgrad._core import _coordinates, add_all, half_width, min_points, to_output, to_working
from jaxgrad._halo import Layout
from jaxgrad._launch import Plan, kernel
from jaxgrad._stencils import PADDING_MODES, ghost_positions
from jaxgrad._weights import exact_weights, local_weights

Array = jax.Array

# Up to this many candidate stencils, reverse mode recomputes the outputs where it reads them.
_RECOMPUTE_MAX = 5


class Rule(NamedTuple):
    """The whole-axis scheme that each run follows.

    ``central``: rows at least ``half_width`` from both ends of the run use the central offsets
    ``-half_width..half_width``; the first and last ``half_width`` rows use one-sided windows of
    ``edge_width`` points. ``forward``: offsets ``0..edge_width-1``, or the run's last
    ``edge_width`` samples where those run past its end; ``backward`` mirrors it. A run of fewer
    than ``needed`` samples uses all of them; one of fewer than ``order + 1`` has no derivative.
    """

    order: int
    half_width: int
    edge_width: int
    needed: int
    scheme: str = "central"

    @property
    def cap(self) -> int:
        """The largest distance to a run's end that :func:`row_offsets` tells apart."""
        return max(self.needed - 1, self.half_width)


def gradient_rule(edge_order: int) -> Rule:
    """numpy.gradient's scheme: central 3-point rows, ``edge_order + 1``-point edges."""
    return Rule(order=1, half_width=1, edge_width=edge_order + 1, needed=edge_order + 1)


def derivative_rule(order: int, accuracy: int, uniform: bool, scheme: str = "central") -> Rule:
    """:func:`jaxgrad.derivative`'s scheme (``accuracy`` held at every point of a long run)."""
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    width = order + accuracy
    if scheme == "central":
        p = half_width(order, accuracy, uniform)
        return Rule(order, p, width, min_points(order, accuracy, uniform, "one-sided"))
    return Rule(order, 0, width, width, scheme)


def row_offsets(left: int, right: int, rule: Rule) -> tuple[int, ...] | None:
    """The offsets a sample uses, from its (capped) distances ``left``/``right`` to the first and
    last samples of its run; None where the run is too short for a derivative."""
    m = left + right + 1  # the run's length (at least ``needed`` when either distance is capped)
    if m < rule.order + 1:
        return None
    if m < rule.needed:  # the highest accuracy the run holds: all its samples
        return tuple(range(-left, right + 1))
    w, p = rule.edge_width, rule.half_width
    # One-sided schemes (contract 8b): the scheme's own stencil where it fits in the run, else the
    # other side's; where neither fits (a run shorter than 2w - 1), the w samples at the far end.
    forward, backward = tuple(range(w)), tuple(range(1 - w, 1))
    if rule.scheme == "forward":
        return forward if right >= w - 1 else backward if left >= w - 1 else tuple(range(right + 1 - w, right + 1))
    if rule.scheme == "backward":
        return backward if left >= w - 1 else forward if right >= w - 1 else tuple(range(-left, w - left))
    if left < p:
        return tuple(range(-left, w - left))
    if right < p:
        return tuple(range(right + 1 - w, right + 1))
    return tuple(range(-p, p + 1))


@functools.cache
def candidates(rule: Rule) -> tuple[tuple[tuple[int, ...], ...], np.ndarray]:
    """The distinct offset tuples of ``rule`` and the table ``class_of[left, right]`` of the
    candidate each ``(left, right)`` uses: 0 for none, ``k + 1`` for the ``k``-th tuple."""
    cap = rule.cap
    found: dict[tuple[int, ...], int] = {}
    table = np.zeros((cap + 1, cap + 1), np.int32)
    for left in range(cap + 1):
        for right in range(cap + 1):
            offsets = row_offsets(left, right, rule)
            if offsets is not None:
                table[left, right] = found.setdefault(offsets, len(found)) + 1
    return tuple(found), table


# --- validation ----------------------------------------------------------------------------------


def normalize_where(where: Any, shape: tuple[int, ...]) -> Any:
    """``where`` checked: a boolean array that broadcasts to ``shape`` (the data's)."""
    if isinstance(where, (str, bytes)):
        raise TypeError(f"where must be a boolean array, got {where!r}")
    if not isinstance(where, (jax.Array, np.ndarray)):
        try:
            where = np.asarray(where)
        except ValueError:
            raise ValueError(f"where must be a rectangular boolean array, got the ragged {where!r}") from None
    dtype = np.dtype(where.dtype)
    if dtype != np.dtype(bool):
        raise TypeError(f"where must be a boolean array (True at valid samples), got dtype {dtype}")
    try:
        broadcast = np.broadcast_shapes(where.shape, shape)
    except ValueError:
        broadcast = None
    if broadcast != tuple(shape):
        raise ValueError(f"where has shape {where.shape}, which does not broadcast to f's shape {tuple(shape)}")
    return where


def check_boundary(boundary: Any) -> None:
    """Boundary modes that pad the axis have no meaning for runs yet: refused with ``where``."""
    for b in boundary if isinstance(boundary, (tuple, list)) else (boundary,):
        if isinstance(b, str) and b in PADDING_MODES:  # no meaning for runs yet: their ends are one-sided
            raise ValueError(
                f"where= supports boundary 'one-sided' and 'periodic' only, got boundary={b!r}: "
                f"every run of valid samples has one-sided ends"
            )


# --- the kernels' pieces -------------------------------------------------------------------------


def _shifter(x: Array, axis: int, periodic: bool, fill: Any) -> Any:
    """``shift(k)[i] = x[i + k]`` along ``axis``: wrapped around when periodic, else ``fill``
    beyond the ends. Each shift pads its own slice, which XLA fuses into the consumer (one padded
    copy read at every offset would be written to memory first)."""
    n = x.shape[axis]

    def shift(k: int) -> Array:
        if periodic:
            return _shifted(x, k, axis)
        if abs(k) >= n:
            return jnp.full(x.shape, fill, x.dtype)
        part = lax.slice_in_dim(x, max(k, 0), n + min(k, 0), axis=axis)
        config = [(max(-k, 0), max(k, 0), 0) if d == axis else (0, 0, 0) for d in range(x.ndim)]
        return lax.pad(part, jnp.asarray(fill, x.dtype), config)

    return shift


def extended_coordinates(x: Array, width: int, periodic: bool, period: Any) -> Array:
    """``x`` continued ``width`` samples past both ends: with the period when periodic, else with
    the edge steps (so that weights at samples beyond the ends stay finite)."""
    n = x.shape[0]
    index = np.arange(-width, n + width)
    if periodic:
        return x[index % n] + jnp.asarray(period, x.dtype) * jnp.asarray(index // n, x.dtype)
    return ghost_positions(x, index, "nearest")  # the edge steps continued, as boundary="nearest" places ghosts


def _materialized(x: Array, token: Array) -> Array:
    """``x``, written to memory: XLA:CPU removes optimization barriers before it fuses, and would
    then recompute ``x`` inside every consumer that reads it at several offsets. A conditional
    is kept; both branches are the identity, chosen by a float scalar ``token`` it cannot fold."""
    return lax.cond(token == token, lambda x: x, lambda x: x * jnp.ones((), x.dtype), x)


@jax.custom_jvp
def _cotangent_materialized(x: Array) -> Array:
    """``x``; in reverse mode its cotangent is written to memory before the transposed stencil
    reads it at every offset (fused, the cotangent and the user's loss behind it would be
    recomputed at each)."""
    return x


@_cotangent_materialized.defjvp
def _cotangent_materialized_jvp(primals: tuple, tangents: tuple) -> tuple[Array, Array]:
    (x,), (t,) = primals, tangents
    return x, _materialized(t, jnp.real(x.reshape(-1)[0]))


def _mobius(table: Callable[[int, int], Any], cap: int) -> dict[tuple[int, int], Counter]:
    """``table(left, right)`` (a Counter of symbolic terms) written as ``sum D[l, r] * [left >= l]
    * [right >= r]`` over ``0 <= l, r <= cap``: the 2-D differences ``D`` of the table (Mobius
    inversion), nonzero only where the table changes."""
    out = {}
    for lo in range(cap + 1):
        for r in range(cap + 1):
            d: Counter = Counter()
            for dl, dr, sign in ((0, 0, 1), (1, 0, -1), (0, 1, -1), (1, 1, 1)):
                if lo - dl >= 0 and r - dr >= 0:
                    for term, c in table(lo - dl, r - dr).items():
                        d[term] += sign * c
            d = Counter({t: c for t, c in d.items() if c != 0})
            if d:
                out[(lo, r)] = d
    return out


def masked_along(
    g: Array, w: Array, spacing: Any, axis: int, rule: Rule, *, periodic: bool = False, period: Any = None,
    token: Any = None,
) -> Array:
    """The derivative of every run of valid samples of ``g`` along ``axis``; NaN at invalid
    samples and in runs too short for one.

    ``g``: the data in its working dtype with invalid samples already zeroed; ``w``: the mask, of
    ``g``'s shape; ``spacing``: a scalar step or 1-D coordinates; ``period``: a periodic axis's
    period on coordinates; ``token``: a float scalar of the caller's raw input (see
    :func:`_materialized`; by default one of ``g``).

    Written per offset, ``sum_k c_k * g[i + k]`` with ``c_k`` the weight of offset ``k`` in the
    stencil that sample ``i`` uses (0 if none): one multiply-add per offset, and a transpose of
    the same form in reverse mode. Each ``c_k`` is a polynomial in the indicators ``a_l = [left
    >= l]`` and ``b_r = [right >= r]`` (the running ANDs of the shifted mask, as 0/1 floats),
    ``c_k = sum D_k[l, r] * a_l * b_r``, whose coefficients are the 2-D differences of the
    weight table: multiply-adds that vectorize, no integer classes, selects or gathers.
    """
    n, cap = g.shape[axis], rule.cap
    offsets, table = candidates(rule)
    dtype = jnp.finfo(g.dtype).dtype
    token = first_value(g) if token is None else token
    uniform = jnp.ndim(spacing) == 0
    if uniform:
        weights: list[list[Any]] = [list(exact_weights(rule.order, offs)) for offs in offsets]
    else:
        centre = _coordinates(spacing, dtype)
        xe = extended_coordinates(centre, cap, periodic, period)
        weights = [local_weights(rule.order, [xe[cap + k : cap + k + n] - centre for k in offs]) for offs in offsets]

    def entry(k: int) -> Callable[[int, int], Counter]:
        # The weight of offset k at (left, right), symbolically: {(candidate, k): 1} or nothing.
        def at(left: int, right: int) -> Counter:
            c = int(table[left, right]) - 1
            return Counter({c: 1}) if c >= 0 and k in offsets[c] else Counter()
        return at

    def value(terms: Counter, k: int) -> Any:
        parts = [coef * weights[c][offsets[c].index(k)] for c, coef in terms.items()]
        return float(sum(parts)) if uniform else add_all(parts).astype(dtype)  # a vector along the axis

    # Per offset, the nonzero Mobius coefficients: ((l, r), weight), weight a float or a vector.
    plan = []
    for k in sorted({k for offs in offsets for k in offs}):
        terms = [(lr, value(t, k)) for lr, t in _mobius(entry(k), cap).items()]
        terms = [(lr, v) for lr, v in terms if not (uniform and v == 0)]
        if terms:
            plan.append((k, terms))
    has = lambda lo, r: Counter({0: 1}) if table[lo, r] > 0 else Counter()
    defined_terms = [(lr, float(t[0])) for lr, t in _mobius(has, cap).items()]

    # The run indicators of every sample, packed in one small integer: bit 0 is the sample's own
    # validity, bit l its [left >= l], bit cap + r its [right >= r]. Written to memory once: the
    # transposed stencil of reverse mode reads them at every offset, and recomputing them (or
    # storing each offset's weights) there costs more.
    bits_dtype = jnp.int8 if 2 * cap + 1 <= 7 else jnp.int32

    def bits_block(start: int, stop: int, shift_w: Callable[[int], Array]) -> Array:
        w0 = shift_w(0)
        packed = w0.astype(bits_dtype)
        run_before = run_after = w0
        for k in range(1, cap + 1):
            run_before = run_before & shift_w(-k)
            run_after = run_after & shift_w(k)
            packed = packed | (run_before.astype(bits_dtype) << k) | (run_after.astype(bits_dtype) << (cap + k))
        return packed

    def block(start: int, stop: int, shift_g: Callable[[int], Array], packed: Array) -> Array:
        """Outputs ``start .. stop - 1``; ``shift_g(k)`` gives ``g`` at those positions plus ``k``."""
        bit = lambda j: ((packed >> j) & 1).astype(dtype)
        before = [None] + [bit(k) for k in range(1, cap + 1)]  # a_0 = b_0 = 1
        after = [None] + [bit(cap + k) for k in range(1, cap + 1)]

        def times_indicator(v: Any, lo: int, r: int) -> Any:
            if not uniform:
                v = _along(v[start:stop], axis, g.ndim)
            if r:
                v = v * after[r]
            return v * before[lo] if lo else v

        total: Any = None
        for k, terms in plan:
            coefficient = add_all(times_indicator(v, lo, r) for (lo, r), v in terms)
            term = coefficient * shift_g(k)
            total = term if total is None else total + term
        if uniform:
            total = total * jnp.asarray(spacing, dtype) ** -rule.order
        # Whether the sample's run is long enough: the same expansion, of a table of numbers.
        defined = add_all(jnp.asarray(v, dtype) * (before[lo] if lo else 1) * (after[r] if r else 1)
                          for (lo, r), v in defined_terms)
        valid = (packed & 1) == 1
        return jnp.where(valid & (defined > 0.5), total, _nan(g.dtype))

    if periodic or n <= 2 * cap:
        spans = [(0, n)]
        g_shifts = [_shifter(g, axis, periodic, 0)]
        w_shifts = [_shifter(w, axis, periodic, False)]
    else:
        # Edge blocks from small padded windows, the interior from plain slices (padding in the
        # hot loop would cost a bounds check per sample), as in ``apply_stencil``.
        spans = [(0, cap), (cap, n - cap), (n - cap, n)]
        g_shifts = [_window(g, axis, lo, hi, cap, 0) for lo, hi in spans]
        w_shifts = [_window(w, axis, lo, hi, cap, False) for lo, hi in spans]
    packed = join([bits_block(lo, hi, sw) for (lo, hi), sw in zip(spans, w_shifts)], axis, pad=False)
    packed = _materialized(packed, token)
    blocks = [block(lo, hi, sg, lax.slice_in_dim(packed, lo, hi, axis=axis)) for (lo, hi), sg in zip(spans, g_shifts)]
    out = join(blocks, axis, pad=uniform)
    # Recomputing the cotangent (the user's loss at this output) at every offset costs more than
    # writing it once when many candidates make each output expensive.
    return _cotangent_materialized(out) if len(offsets) > _RECOMPUTE_MAX else out


def _nan(dtype: Any) -> Array:
    """NaN of ``dtype``; for complex dtypes in both parts (``.real`` and ``.imag`` are NaN)."""
    return jnp.array(complex(np.nan, np.nan) if jnp.issubdtype(dtype, jnp.complexfloating) else np.nan, dtype)


def _window(x: Array, axis: int, start: int, stop: int, width: int, fill: Any) -> Callable[[int], Array]:
    """``shift(k)`` = ``x`` at positions ``start + k .. stop + k`` along ``axis`` (``|k| <= width``),
    ``fill`` outside the array: slices of ``x``, padded only where they pass its ends."""
    n = x.shape[axis]
    lo, hi = max(start - width, 0), min(stop + width, n)
    config = [(width - (start - lo), width - (hi - stop), 0) if d == axis else (0, 0, 0) for d in range(x.ndim)]
    part = lax.slice_in_dim(x, lo, hi, axis=axis)
    padded = part if lo == start - width and hi == stop + width else lax.pad(part, jnp.asarray(fill, x.dtype), config)
    return lambda k: lax.slice_in_dim(padded, width + k, width + k + stop - start, axis=axis)


def forward_valid(w: Array, axis: int, order: int) -> Array:
    """True where the forward difference of ``order`` at a sample reads only valid samples (all of
    ``i .. i + order`` valid and inside the axis)."""
    shift = _shifter(w, axis, False, False)
    valid = w
    for k in range(1, order + 1):
        valid = valid & shift(k)
    return valid


# --- kernels and plans ---------------------------------------------------------------------------


def masked_input(f: Array, where: Array) -> tuple[Array, Array]:
    """The mask at ``f``'s shape, and ``f`` in its working dtype with invalid samples zeroed."""
    g = to_working(f)
    w = jnp.broadcast_to(where, g.shape)
    return jnp.where(w, g, jnp.zeros((), g.dtype)), w


def first_value(f: Array) -> Array:
    """A float scalar read from the input itself, which XLA cannot fold (see :func:`_materialized`)."""
    return jnp.real(f.reshape(-1)[0]).astype(jnp.float32)


@kernel
def _masked_gradient(
    f: Array, spacings: tuple[Any, ...], where: Array, *, axes: tuple[int, ...], edge_order: int,
    layout: Layout | None,
) -> Array | tuple[Array, ...]:
    del layout  # XLA's partitioner shards the masked path (no halo exchange)
    g, w = masked_input(f, where)
    rule = gradient_rule(edge_order)
    token = first_value(f)
    out = tuple(to_output(masked_along(g, w, s, a, rule, token=token), f.dtype) for s, a in zip(spacings, axes))
    return out[0] if len(axes) == 1 else out


@kernel
def _masked_derivative(
    f: Array, spacing: Any, period: Any, where: Array, *, axis: int, order: int, accuracy: int, periodic: bool,
    scheme: str, layout: Layout | None,
) -> Array:
    del layout
    g, w = masked_input(f, where)
    rule = derivative_rule(order, accuracy, jnp.ndim(spacing) == 0, scheme)
    out = masked_along(g, w, spacing, axis, rule, periodic=periodic, period=period, token=first_value(f))
    return to_output(out, f.dtype)


def gradient_plan(plan: Plan, where: Any) -> Plan:
    """The masked form of ``gradient``'s validated plan (one-sided axes only)."""
    spacings, _, _ = plan.args
    for b in plan.static["boundaries"]:
        if b != "one-sided":
            raise ValueError(
                f"gradient's where= supports boundary 'one-sided' only, got boundary {b!r}: every run of "
                f"valid samples has one-sided ends (derivative(..., where=) also takes 'periodic')"
            )
    where = normalize_where(where, plan.field.shape)
    static = {"axes": plan.static["axes"], "edge_order": plan.static["edge_order"]}
    return Plan(_masked_gradient, plan.field, (spacings, where), static)


def derivative_plan(plan: Plan, where: Any) -> Plan:
    """The masked form of ``derivative``'s validated plan (its boundary one-sided or periodic)."""
    spacing, period, _ = plan.args
    where = normalize_where(where, plan.field.shape)
    static = {k: plan.static[k] for k in ("axis", "order", "accuracy", "scheme")}
    return Plan(_masked_derivative, plan.field, (spacing, period, where), {**static, "periodic": plan.static["boundary"] == "periodic"})
