"""Fast repeated calls on one device.

Validating arguments in Python costs tens of microseconds per call, more than running a small
jitted kernel. A call whose array argument has the shape, dtype and device of an earlier call, and
whose other arguments are the same Python scalars, strings and tuples, needs none of it again: it
reuses the earlier call's normalized arguments (with its scalar steps already on the device).
Calls with array spacing, tracers or sharded arrays always take the full path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
from jax.sharding import SingleDeviceSharding

from jaxgrad._checks import checks_enabled

_PLAIN = frozenset({int, float, bool, str, type(None)})
_MAX_PLANS = 256
_plans: dict[Any, Callable[[jax.Array], Any]] = {}


def call_key(function: str, f: Any, varargs: tuple, *options: Any) -> Any:
    """The cache key of a call, or None when the call must take the full path: ``f`` must be a
    concrete array on one device, the spacing Python scalars, and the options plain values or
    tuples of them. Types are part of the key, so ``1``, ``1.0`` and ``True`` differ."""
    if type(f).__name__ != "ArrayImpl":  # concrete jax.Array (not a tracer, not numpy)
        return None
    sharding = f.sharding
    if type(sharding) is not SingleDeviceSharding:
        return None
    parts = varargs + options
    types = []
    for v in parts:
        t = type(v)
        if t is tuple:
            inner = tuple(map(type, v))
            if not all(i in _PLAIN for i in inner):
                return None
            types.append(inner)
        elif t in _PLAIN:
            types.append(t)
        else:
            return None
    return (function, f.shape, f.dtype, f.weak_type, sharding, parts, tuple(types), checks_enabled(), jax.config.jax_enable_x64)


def find_plan(function: str, f: Any, varargs: tuple, *options: Any) -> tuple[Any, Callable[[jax.Array], Any] | None]:
    """The call's key (see :func:`call_key`) and the plan remembered for it, if any."""
    key = call_key(function, f, varargs, *options)
    return key, None if key is None else _plans.get(key)


def remember(key: Any, plan: Callable[[jax.Array], Any]) -> None:
    if key is None:
        return
    if len(_plans) >= _MAX_PLANS:
        _plans.clear()
    _plans[key] = plan


def remember_call(key: Any, kernel: Callable, *args: Any) -> None:
    """Remembers ``f -> kernel(f, *args)``, with the Python scalars of ``args`` on the device."""
    if key is not None:
        args = jax.tree.map(on_device, args)
        remember(key, lambda f: kernel(f, *args))


def on_device(spacing: Any) -> Any:
    """A Python scalar step as a device scalar of the same (weak) type: passing it to a jitted
    kernel skips the host-to-device transfer of a Python number on every call."""
    return jax.numpy.asarray(spacing) if isinstance(spacing, (int, float)) else spacing
