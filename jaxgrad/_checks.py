"""``check_spacing``: checks of spacing that is only known when the program runs.

Concrete spacing is always checked in Python, before anything is traced. Traced spacing
(coordinates inside ``jit``, under ``vmap`` or ``grad``) can only be checked on the device; those
checks cost time on every call, so they are opt-in and explicit: the user passes the spacing
through :func:`check_spacing`, which puts ``checkify`` checks in the data flow and returns the
spacing unchanged.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import checkify
from jax.typing import ArrayLike

from jaxgrad._args import is_traced, rank


def _problems(x: Any, period: Any, monotone: bool) -> list[tuple[Any, str]]:
    """(condition that must hold, message) pairs for a step or a coordinate array."""
    if jnp.ndim(x) == 0:
        return [(jnp.isfinite(x) & (x != 0), "spacing must be finite and nonzero")]
    closed = x if period is None else jnp.append(x, x[0] + period)
    steps = jnp.diff(closed)
    found = [(jnp.all(jnp.isfinite(closed)), "coordinates must be finite")]
    if monotone:
        found.append((jnp.all(steps > 0) | jnp.all(steps < 0), "coordinates must be strictly monotone"))
    else:
        found.append((jnp.all(steps != 0), "coordinates must be distinct"))
    return found


def _real(value: Any, name: str) -> Any:
    """``value`` as an array of real numbers in a float dtype (numpy first for concrete values: no
    int32 overflow), or our own error naming the argument."""
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be a number or an array of numbers, got {value!r}")
    if not is_traced(value):
        rank(value, name)
        value = value if isinstance(value, jax.Array) else np.asarray(value)
    if value.dtype == bool or not (jnp.issubdtype(value.dtype, jnp.integer) or jnp.issubdtype(value.dtype, jnp.floating)):
        raise TypeError(f"{name} must hold real numbers, got {value!r} of dtype {value.dtype}")
    if jnp.issubdtype(value.dtype, jnp.floating):
        return value
    return value.astype(np.float64) if isinstance(value, np.ndarray) else value.astype(jnp.result_type(float))


def check_spacing(spacing: ArrayLike, *, monotone: bool = False, period: ArrayLike | None = None) -> Any:
    """Checks a step or a 1-D coordinate array, and returns it unchanged.

    jaxgrad checks concrete spacing by itself. Traced spacing (coordinates that are arguments of a
    ``jax.jit``-ed function, or under ``vmap`` and ``grad``) cannot be inspected while tracing;
    pass it through this function to have it checked when the program runs:
    ``jaxgrad.gradient(f, jaxgrad.check_spacing(x))``. The checks are
    :func:`jax.experimental.checkify.debug_check` s: reported by
    :func:`jax.experimental.checkify.checkify` (with ``errors=checkify.user_checks``), free of cost
    and of effect without it. Concrete spacing is checked at once and raises ``ValueError``.

    Args:
      spacing: a scalar step (checked finite and nonzero) or a 1-D coordinate array (checked
        finite and distinct; see ``monotone``).
      monotone: also require strictly increasing or strictly decreasing coordinates, as
        :func:`jaxgrad.derivative` and the operators do.
      period: the period of periodic coordinates: the wrap-around step ``x[0] + period - x[-1]``
        is checked with the others.

    Returns:
      ``spacing``, unchanged.

    Examples:
      >>> import jax, jax.numpy as jnp, jaxgrad
      >>> from jax.experimental import checkify
      >>> slope = lambda f, x: jaxgrad.gradient(f, jaxgrad.check_spacing(x))
      >>> checked = jax.jit(checkify.checkify(slope, errors=checkify.user_checks))
      >>> err, out = checked(jnp.arange(4.0), jnp.array([0.0, 1.0, 1.0, 2.0]))
      >>> err.get()
      'jaxgrad: coordinates must be distinct (`check` failed)'
    """
    if not isinstance(monotone, (bool, np.bool_)):
        raise TypeError(f"monotone must be True or False, got {monotone!r}")
    x = _real(spacing, "spacing")
    if x.ndim > 1:
        raise ValueError(f"spacing must be a scalar step or a 1-D coordinate array, got shape {np.shape(spacing)}")
    wrap = None if period is None else _real(period, "period")
    if wrap is not None:
        if wrap.ndim != 0:
            raise ValueError(f"period must be a scalar, got shape {wrap.shape}")
        if x.ndim == 1 and x.shape[0] == 0:
            raise ValueError("period is given for an empty coordinate array")
    for ok, message in _problems(x, wrap, monotone):
        if is_traced(ok):
            checkify.debug_check(ok, "jaxgrad: " + message)
        elif not bool(ok):
            raise ValueError(f"{message}, got {np.asarray(spacing)!r}")
    return spacing
