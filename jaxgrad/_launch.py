"""One launch path for every public function: validate, run (keeping the input's sharding), and
remember a fast path for the next identical call.

A public function hands :func:`launch` its raw arguments and a *planner*: the function that
validates them and returns a :class:`Plan` (which jitted kernel to run, on which arrays, with which
static options). :func:`launch` then

1. looks the call up among remembered plans: a call whose array has the shape, dtype and device of
   an earlier call, and whose other arguments are the same Python scalars, strings and tuples, needs
   no validation again (validating in Python costs more than running a small kernel);
2. otherwise runs the planner, chooses the sharding layout (the halo path of ``_halo``), and runs
   the kernel so that its outputs keep the input's sharding;
3. remembers the planned kernel, with its Python scalars already on the device, when the call was
   eligible and the planner used the array as it was given.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax._src import core as jax_core  # private: only for _staged, with a fallback
from jax.sharding import SingleDeviceSharding

from jaxgrad._halo import Layout, layout_of, normalize_halo, spatial_spec

Array = jax.Array


class Kernel:
    """A jitted kernel whose keyword arguments are static: one ``jax.jit`` per distinct set of them,
    called with the traced arguments alone (the fastest dispatch jit has). The keyword ``layout``
    (a :class:`jaxgrad._halo.Layout` or None) is one of them: a kernel traced for one sharding
    layout is never reused for another. While a call is being staged into a program (inside a
    user's ``jit``), the body is traced in place instead (see ``__call__``); those traces are not
    in :meth:`cache_size`."""

    def __init__(self, fn: Callable) -> None:
        self.fn = fn
        self.__name__, self.__doc__ = fn.__name__, fn.__doc__
        self._jitted: dict[Any, Callable] = {}

    def specialize(self, **static: Any) -> Callable:
        key = tuple(sorted(static.items()))
        jitted = self._jitted.get(key)
        if jitted is None:
            fn = self.fn
            kernel = lambda *args: fn(*args, **static)
            kernel.__name__ = fn.__name__
            jitted = self._jitted[key] = jax.jit(kernel)
        return jitted

    def __call__(self, *args: Any, **static: Any) -> Any:
        if _staged():
            # Inside a user's jit the body is traced into the user's program: its Python scalars
            # (steps, a radius) are then constants there, which XLA folds into the weights. Called
            # as a nested jit, they are runtime scalars in every fused loop, which XLA:CPU compiles
            # to slower loops (spherical_laplacian's jax.grad: 2.4x; Performance page).
            # numpy arrays become JAX arrays of the canonical dtypes, as jit's arguments would.
            canonical = lambda x: jnp.asarray(x) if isinstance(x, (np.ndarray, np.generic)) else x
            with jax.named_scope(self.__name__):  # the kernel's name in jaxprs and profiles
                return self.fn(*jax.tree.map(canonical, args), **static)
        return self.specialize(**static)(*args)

    def cache_size(self) -> int:
        """Traces kept, over all static arguments (a test reads it to prove no retracing)."""
        return sum(j._cache_size() for j in self._jitted.values())  # type: ignore[attr-defined]


def _staged() -> bool:
    """True while a call is being traced into a jaxpr: inside ``jax.jit``, ``make_jaxpr``,
    ``eval_shape``, the bodies of ``lax.scan`` / ``cond`` / ``while_loop``, ``checkpoint`` or
    ``shard_map``, at any depth of other transformations. JAX has no public test for this; without
    its private one every call takes the nested jit, which is correct, and slower only in the case
    ``Kernel.__call__`` names."""
    probe = getattr(jax_core, "unsafe_am_i_under_a_jit", None) or getattr(jax_core, "unsafe_am_i_under_a_jit_DO_NOT_USE", None)
    try:
        return bool(probe()) if probe is not None else False
    except Exception:  # noqa: BLE001 - a private API changed: fall back to the nested jit
        return False


def kernel(fn: Callable) -> Kernel:
    """Decorator: ``fn`` as a :class:`Kernel`."""
    return Kernel(fn)


class Plan(NamedTuple):
    """A validated call: ``kernel(field, *args, layout=..., **static)``."""

    kernel: Kernel
    field: Any  # the validated input array; its sharding decides the layout
    args: tuple[Any, ...]
    static: dict[str, Any]
    spatial_ndim: int | None = None  # trailing dimensions of ``field`` that are spatial (None: all)


# --- the fast path -----------------------------------------------------------------------------

_PLAIN = frozenset({int, float, bool, str, type(None)})
_MAX_PLANS = 256
_plans: dict[Any, Callable[[Array], Any]] = {}


def call_key(name: str, f: Any, args: tuple, options: tuple) -> Any:
    """The fast-path key of a call, or None when the call must take the full path: ``f`` must be a
    concrete JAX array on one device, the other arguments plain Python values or tuples of them.
    Types are part of the key, so ``1``, ``1.0`` and ``True`` differ."""
    if not isinstance(f, jax.Array) or isinstance(f, jax.core.Tracer):
        return None
    sharding = f.sharding
    if type(sharding) is not SingleDeviceSharding:
        return None
    parts = args + options
    types: list[Any] = []
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
    return (name, f.shape, f.dtype, f.weak_type, sharding, parts, tuple(types), jax.config.read("jax_enable_x64"))


def _remember(key: Any, run: Callable[[Array], Any]) -> None:
    if len(_plans) >= _MAX_PLANS:
        _plans.clear()
    _plans[key] = run


def on_device(value: Any) -> Any:
    """A Python scalar as a device scalar of the same (weak) type: passing it to a jitted kernel
    skips the host-to-device transfer of a Python number on every call."""
    return jnp.asarray(value) if isinstance(value, (int, float)) else value


# --- sharding ------------------------------------------------------------------------------------


def _explicit_sharding(x: Any) -> Any:
    """The NamedSharding of ``x`` if it is sharded over explicit mesh axes, else None."""
    if isinstance(x, np.ndarray):
        return None
    sharding: Any
    if isinstance(x, jax.Array) and not isinstance(x, jax.core.Tracer):
        sharding = x.sharding  # cheap: no abstract value built on the dispatch path
    else:
        typeof = getattr(jax, "typeof", None)  # absent from older JAX, which has no explicit axes
        try:
            sharding = getattr(typeof(x), "sharding", None) if typeof else None
        except TypeError:
            return None
    mesh = getattr(sharding, "mesh", None)
    axis_type = getattr(jax.sharding, "AxisType", None)
    if mesh is None or axis_type is None or not any(t == axis_type.Explicit for t in mesh.axis_types):
        return None
    return sharding


def _run(plan: Plan, layout: Layout | None, sharding: Any) -> Any:
    """Runs the plan's kernel so that its outputs keep the field's sharding.

    Over automatic mesh axes (and on one device) XLA's partitioner does this by itself. Arrays
    sharded over explicit axes get no automatic partitioning of slices, so the kernel runs under
    ``jax.sharding.auto_axes`` and its outputs are laid out like the field: the trailing
    ``spatial_ndim`` dimensions of each output take the field's partition spec of its spatial
    dimensions (a vector field's leading component axis is not spatial); other dimensions are
    replicated.
    """
    f, core = plan.field, plan.kernel
    if sharding is None:
        return core(f, *plan.args, layout=layout, **plan.static)
    spatial = spatial_spec(sharding, jnp.ndim(f), plan.spatial_ndim)

    def out_layout(out: Any) -> Any:
        own = spatial[len(spatial) - min(out.ndim, len(spatial)) :]
        own = (None,) * (out.ndim - len(own)) + own
        return jax.sharding.NamedSharding(sharding.mesh, jax.sharding.PartitionSpec(*own))

    # Output shapes from an unsharded stand-in (tracing the sharded input outside auto_axes fails).
    plain = lambda a: jax.ShapeDtypeStruct(jnp.shape(a), jnp.result_type(a)) if hasattr(a, "shape") else a
    shapes = jax.eval_shape(lambda f, *a: core(f, *a, layout=None, **plan.static), *jax.tree.map(plain, (f, *plan.args)))
    fn = lambda f, *args: core(f, *args, layout=layout, **plan.static)
    return jax.sharding.auto_axes(fn, out_sharding=jax.tree.map(out_layout, shapes))(f, *plan.args)


# --- the launch ----------------------------------------------------------------------------------


def launch(name: str, planner: Callable[..., Plan], f: Any, args: tuple, options: dict[str, Any], halo: Any) -> Any:
    """Runs ``planner(f, *args, **options)``'s plan; see the module docstring.

    ``name`` identifies the public function in the fast-path key; ``halo`` is the public ``halo``
    argument (True, False or a NamedSharding).
    """
    key = call_key(name, f, args, (*options.values(), halo))
    remembered = _plans.get(key) if key is not None else None
    if remembered is not None:
        return remembered(f)
    halo = normalize_halo(halo)
    plan = planner(f, *args, **options)
    sharding = _explicit_sharding(plan.field)
    layout = layout_of(plan.field, halo, sharding, plan.spatial_ndim)
    out = _run(plan, layout, sharding)
    if key is not None and plan.field is f and layout is None:  # no conversion outside the kernel
        jitted = plan.kernel.specialize(layout=None, **plan.static)
        device_args = jax.tree.map(on_device, plan.args)
        _remember(key, lambda f: jitted(f, *device_args))
    return out
