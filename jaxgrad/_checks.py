"""Opt-in runtime checks of traced spacing, for use with ``jax.experimental.checkify``.

Concrete spacing is always checked in Python. Traced spacing (coordinates inside ``jit``, under
``vmap`` or ``grad``) can only be checked when the program runs; those checks cost time on every
call even when nothing reads them, so they are compiled in only inside :func:`runtime_checks`.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

_ENABLED = contextvars.ContextVar("jaxgrad_runtime_checks", default=False)


@contextlib.contextmanager
def runtime_checks(enabled: bool = True) -> Iterator[None]:
    """Compiles runtime checks of traced spacing into the jaxgrad calls traced inside the block.

    The checks (steps finite and nonzero; coordinates finite, distinct and, for
    :func:`jaxgrad.derivative` and the operators, strictly monotone; periodic wrap-around step of
    the same sign) are ``checkify`` debug checks: reported by
    :func:`jax.experimental.checkify.checkify` with ``errors=checkify.user_checks``, and no-ops
    otherwise. Outside this block no check is compiled and calls cost nothing extra.

    Args:
      enabled: ``False`` turns checks off inside an enclosing block.

    Examples:
      >>> import jax, jax.numpy as jnp, jaxgrad
      >>> from jax.experimental import checkify
      >>> slope = jax.jit(lambda f, x: jaxgrad.gradient(f, x))
      >>> with jaxgrad.runtime_checks():
      ...     err, out = checkify.checkify(slope, errors=checkify.user_checks)(
      ...         jnp.arange(4.0), jnp.array([0.0, 1.0, 1.0, 2.0]))
      >>> err.get()
      'jaxgrad: coordinates must be finite and distinct (`check` failed)'
    """
    token = _ENABLED.set(bool(enabled))
    try:
        yield
    finally:
        _ENABLED.reset(token)


def checks_enabled() -> bool:
    return _ENABLED.get()
