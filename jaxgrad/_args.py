"""Argument normalization and validation, done in Python before anything is traced.

Every public function runs its arguments through here first, so that bad input raises a clear
error of numpy's exception type at trace time, and the jitted cores only ever see well-formed
arrays: ``f`` in a float or complex dtype, and one spacing entry per differentiated axis that is
either a 0-d step or a 1-D coordinate array of the right length.
"""

from __future__ import annotations

import operator
import weakref
from collections.abc import Sequence
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array
# A spacing entry after normalization: a Python float, a 0-d array (step) or a 1-D coordinate array.
Spacing = float | np.ndarray | Array

# "wrap" is scipy.ndimage's name for "periodic"; the padding modes are scipy.ndimage's too.
BOUNDARIES = ("one-sided", "periodic", "wrap", "reflect", "mirror", "nearest", "constant")
Boundary = Literal["one-sided", "periodic", "wrap", "reflect", "mirror", "nearest", "constant"]
SCHEMES = ("central", "forward", "backward")
Scheme = Literal["central", "forward", "backward"]


def is_traced(x: Any) -> bool:
    return isinstance(x, jax.core.Tracer)


def _dtype_of(x: Any) -> np.dtype:
    return np.dtype(x.dtype) if hasattr(x, "dtype") else np.asarray(x).dtype


def _is_real_number_dtype(dtype: np.dtype) -> bool:
    return bool(jnp.issubdtype(dtype, jnp.integer) or jnp.issubdtype(dtype, jnp.floating))


def as_field(f: Any, name: str = "f") -> Array | np.ndarray:
    """Returns ``f`` as an array of a numeric dtype; integer and bool data become floats.

    Concrete integer data are converted in numpy (float64) before JAX sees them, so that int64
    values beyond int32 are not wrapped when x64 is off.
    """
    if isinstance(f, (str, bytes)) or f is None:
        raise TypeError(f"{name} must be an array of numbers, got {type(f).__name__}")
    if not isinstance(f, (jax.Array, np.ndarray)):
        try:
            f = np.asarray(f)
        except ValueError as e:  # ragged nested lists
            raise ValueError(f"{name} must be a rectangular array of numbers: {e}") from None
    dtype = _dtype_of(f)
    if dtype == np.dtype(bool) or jnp.issubdtype(dtype, jnp.integer):
        if isinstance(f, np.ndarray):
            return f.astype(np.float64)
        return f.astype(jnp.result_type(float))
    if not (jnp.issubdtype(dtype, jnp.floating) or jnp.issubdtype(dtype, jnp.complexfloating)):
        raise TypeError(f"{name} must hold numbers (float, complex, integer or bool), got dtype {dtype}")
    return f


def normalize_axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """``None``, an int or a sequence of ints, as a tuple of non-negative axes (numpy's rules)."""
    if axis is None:
        return tuple(range(ndim))
    items = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    axes = []
    for a in items:
        a = _as_int(a, "axis must be an int or a tuple of ints")
        if not -ndim <= a < ndim:
            raise np.exceptions.AxisError(a, ndim)
        axes.append(a % ndim)
    if len(set(axes)) != len(axes):
        raise ValueError(f"repeated axis in axis={axis!r}")
    return tuple(axes)


def _as_int(value: Any, what: str) -> int:
    """An integer-like value (not bool) as an int; else TypeError "{what}, got {value!r}"."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{what}, got {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{what}, got {value!r}") from None


def rank(value: Any, name: str) -> int:
    """``np.ndim(value)``, with our own error for ragged nested sequences (numpy's says nothing
    of which argument it was)."""
    try:
        return np.ndim(value)
    except ValueError:
        raise ValueError(f"{name} must be a scalar or a rectangular array of numbers, got the ragged {value!r}") from None


def normalize_int(value: Any, name: str, minimum: int) -> int:
    value = _as_int(value, f"{name} must be an int")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def normalize_accuracy(accuracy: Any, odd: bool = False) -> int:
    """A positive even accuracy (any positive one with ``odd``: one-sided schemes)."""
    accuracy = normalize_int(accuracy, "accuracy", 1)
    if accuracy % 2 and not odd:
        raise ValueError(f"accuracy must be a positive even integer (2, 4, 6, ...), got {accuracy}")
    return accuracy


def per_axis(value: Any, count: int, name: str) -> tuple[Any, ...]:
    """One value for every axis, or a tuple with one entry per axis."""
    if isinstance(value, (tuple, list)):
        if len(value) != count:
            raise ValueError(f"{name} has {len(value)} entries, but {count} axes are differentiated")
        return tuple(value)
    return (value,) * count


def normalize_boundaries(boundary: Any, count: int) -> tuple[str, ...]:
    """``boundary`` (a string or one per axis) as a tuple of modes, ``"wrap"`` read as ``"periodic"``."""
    modes = []
    for b in per_axis(boundary, count, "boundary"):
        if not isinstance(b, str) or b not in BOUNDARIES:
            raise ValueError(f"boundary must be one of {', '.join(map(repr, BOUNDARIES))} (or a tuple of them), got {b!r}")
        modes.append("periodic" if b == "wrap" else b)
    return tuple(modes)


def normalize_scheme(scheme: Any, accuracy: int) -> str:
    if not isinstance(scheme, str) or scheme not in SCHEMES:
        raise ValueError(f"scheme must be 'central', 'forward' or 'backward', got {scheme!r}")
    if scheme == "central" and accuracy % 2:
        raise ValueError(
            f"accuracy must be a positive even integer (2, 4, 6, ...) with scheme='central', got {accuracy}; "
            f"odd accuracies need scheme='forward' or 'backward'"
        )
    return scheme


def normalize_cval(cval: Any) -> Any:
    """The ghost value of ``boundary="constant"``: a real or complex scalar (traced allowed)."""
    if isinstance(cval, (str, bytes)) or cval is None:
        raise TypeError(f"cval must be a scalar number, got {cval!r}")
    if rank(cval, "cval") != 0:
        raise TypeError(f"cval must be a scalar number, got an array of shape {np.shape(cval)}")
    dtype = _dtype_of(cval)
    if not (jnp.issubdtype(dtype, jnp.number) or dtype == np.dtype(bool)):
        raise TypeError(f"cval must be a scalar number, got dtype {dtype}")
    if is_traced(cval):
        return cval
    value = complex(np.asarray(cval)) if jnp.issubdtype(dtype, jnp.complexfloating) else float(np.asarray(cval))
    if not np.isfinite(value):
        raise ValueError(f"cval must be finite, got {cval!r}")
    return value  # a Python number: no integer overflow when it becomes a jit argument

def spread_periods(period: Any, modes: tuple[str, ...], raw_spacings: Sequence[Any]) -> tuple[Any, ...]:
    """``period`` as one entry per differentiated axis: a tuple, or one scalar that serves every
    periodic axis given by coordinates."""
    if isinstance(period, (tuple, list)):
        return per_axis(period, len(modes), "period")
    uses = [m == "periodic" and np.ndim(s) == 1 for m, s in zip(modes, raw_spacings)]
    if period is not None and not any(uses):
        raise ValueError("period is given, but no differentiated axis is periodic with coordinates")
    return tuple(period if u else None for u in uses)


def _check_scalar(value: Any, what: str) -> Spacing:
    if type(value) in (float, int):  # the common case, checked without numpy
        if value == 0 or value != value or abs(value) == float("inf"):
            raise ValueError(f"{what} must be finite and nonzero, got {float(value)}")
        return float(value)
    dtype = _dtype_of(value)
    if dtype == np.dtype(bool) or not _is_real_number_dtype(dtype):
        raise TypeError(f"{what} must be a real number, got {value!r} of dtype {dtype}")
    if is_traced(value):
        return value
    v = float(np.asarray(value))
    if not np.isfinite(v) or v == 0:
        raise ValueError(f"{what} must be finite and nonzero, got {v}")
    return v


def _coordinates(x: Any, n: int, axis: int, monotone: bool) -> Spacing:
    """A coordinate array checked for shape (and, when concrete, for finite, distinct values)."""
    x_arr = x if isinstance(x, (jax.Array, np.ndarray)) else np.asarray(x)
    dtype = _dtype_of(x_arr)
    if dtype == np.dtype(bool) or not _is_real_number_dtype(dtype):
        raise TypeError(f"coordinate array for axis {axis} must hold real numbers, got dtype {dtype}")
    if x_arr.ndim != 1:
        raise ValueError(
            f"spacing for axis {axis} must be a scalar or a 1-D coordinate array, got shape {x_arr.shape}"
        )
    if x_arr.shape[0] != n:
        raise ValueError(f"coordinate array for axis {axis} has length {x_arr.shape[0]}, but f.shape[{axis}] is {n}")
    if is_traced(x_arr):
        return x_arr if not jnp.issubdtype(dtype, jnp.integer) else x_arr.astype(jnp.result_type(float))
    # Concrete: integers become floats before any subtraction (float64 in numpy, so that int64
    # values are not wrapped to int32), then the values are checked.
    if isinstance(x_arr, np.ndarray) and jnp.issubdtype(dtype, jnp.integer):
        x_arr = x_arr.astype(np.float64)
    elif jnp.issubdtype(dtype, jnp.integer):
        x_arr = x_arr.astype(jnp.result_type(float))
    finite, distinct, monotonic, _, _ = coordinate_facts(x_arr)
    if not finite:
        raise ValueError(f"coordinate array for axis {axis} contains NaN or inf")
    if not distinct:
        x_np = np.asarray(x_arr)
        i = int(np.argmax(np.diff(x_np) == 0))
        raise ValueError(f"coordinate array for axis {axis} repeats the value {x_np[i]} (at {i} and {i + 1})")
    if monotone and not monotonic:
        raise ValueError(f"coordinate array for axis {axis} must be strictly increasing or strictly decreasing")
    return x_arr


@jax.jit
def _device_facts(x: Array) -> Array:
    # Float min/max reductions: XLA:CPU reduces booleans far more slowly. NaN propagates through
    # min and max, so finite extremes mean finite values.
    steps = jnp.diff(x)
    return jnp.stack([jnp.min(x), jnp.max(x), jnp.min(steps), jnp.max(steps), jnp.min(jnp.abs(steps)), steps[0]])


# Facts about concrete JAX coordinate arrays, by identity: JAX arrays are immutable, and the same
# coordinates are usually passed call after call, so each array is reduced on the device once.
_FACTS: dict[int, tuple[weakref.ref, tuple]] = {}


def coordinate_facts(x: Any) -> tuple[bool, bool, bool, bool, Any]:
    """(finite, distinct neighbours, strictly monotone, evenly spaced, first step) of concrete
    coordinates: in numpy for numpy arrays, else on the device (no copy to the host), once per array."""
    if x.shape[0] < 2:  # no steps: the callers' point counts reject such axes
        return bool(np.all(np.isfinite(np.asarray(x)))), True, True, False, None
    if isinstance(x, np.ndarray):
        steps = np.diff(x)
        monotonic = bool(np.all(steps > 0) or np.all(steps < 0))
        return bool(np.all(np.isfinite(x))), bool(np.all(steps != 0)), monotonic, bool(np.all(steps == steps[0])), steps[0]
    key = id(x)
    hit = _FACTS.get(key)
    if hit is not None and hit[0]() is x:
        return hit[1]
    with jax.ensure_compile_time_eval():  # a concrete array closed over inside a user's jit: run now
        lo, hi, step_min, step_max, step_abs_min, step = np.asarray(_device_facts(x))
    finite = bool(np.isfinite(lo) and np.isfinite(hi))
    facts = finite, bool(step_abs_min > 0), bool(step_min > 0 or step_max < 0), bool(step_min == step_max), step
    def forget(_: Any) -> None:
        _FACTS.pop(key, None)

    try:
        _FACTS[key] = (weakref.ref(x, forget), facts)
    except TypeError:  # an array type without weak references: no caching
        pass
    return facts


def spread_spacing(varargs: Sequence[Any], n_axes: int) -> list[Any]:
    """numpy.gradient's ``*varargs`` as one raw entry per differentiated axis."""
    n_args = len(varargs)
    if n_args == 0:
        return [1.0] * n_axes
    for i, v in enumerate(varargs):
        rank(v, f"spacing argument {i}")
    if n_args == 1 and np.ndim(varargs[0]) == 0:
        return [varargs[0]] * n_axes
    if n_args == n_axes:
        return list(varargs)
    raise TypeError(
        f"invalid number of spacing arguments: got {n_args} for {n_axes} differentiated axes "
        f"(pass none, one scalar, or one scalar or coordinate array per axis)"
    )


def normalize_spacing(varargs: Sequence[Any], shape: tuple[int, ...], axes: tuple[int, ...]) -> list[Spacing]:
    """numpy.gradient's ``*varargs`` as one checked entry per differentiated axis."""
    return [spacing_entry(v, shape[a], a) for v, a in zip(spread_spacing(varargs, len(axes)), axes)]


def spacing_entry(value: Any, n: int, axis: int, *, monotone: bool = False) -> Spacing:
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"spacing for axis {axis} must be a number or a 1-D coordinate array, got {value!r}")
    if type(value) in (float, int) or rank(value, f"spacing for axis {axis}") == 0:
        return _check_scalar(value, f"spacing for axis {axis}")
    return _coordinates(value, n, axis, monotone)


def _values_at(x: Any, indices: list[int]) -> list[float]:
    """Some entries of concrete coordinates as Python floats (evaluated now, also when the array
    is a constant captured inside a user's jit)."""
    with jax.ensure_compile_time_eval():
        return [float(v) for v in np.asarray(x[np.array(indices)], dtype=np.float64)]


def normalize_period(period: Any, spacing: Spacing, periodic: bool, axis: int) -> Spacing | None:
    """The period of a periodic axis given by coordinates; ``None`` everywhere else."""
    coords = np.ndim(spacing) == 1
    if period is None:
        if periodic and coords:
            raise ValueError(
                f"axis {axis} is periodic and given by coordinates: pass period=L so that the step "
                f"from the last point to the first is x[0] + L - x[-1]"
            )
        return None
    if not periodic:
        raise ValueError(f"period is given for axis {axis}, but its boundary is not 'periodic'")
    if not coords:
        raise ValueError(
            f"period is given for axis {axis}, whose spacing is a scalar step h: a uniform periodic axis "
            f"of n points has period n * h already; pass period only with coordinate arrays"
        )
    if isinstance(period, (str, bytes)) or rank(period, f"period for axis {axis}") != 0:
        raise TypeError(f"period for axis {axis} must be a real scalar, got {period!r}")
    period = _check_scalar(period, f"period for axis {axis}")
    if not is_traced(period) and not is_traced(spacing) and np.shape(spacing)[0] >= 2:
        first, second, last = _values_at(spacing, [0, 1, -1])
        wrap, step = first + period - last, second - first
        if wrap == 0 or np.sign(wrap) != np.sign(step):
            raise ValueError(
                f"period {period} for axis {axis} does not fit its coordinates: the wrap-around step "
                f"x[0] + period - x[-1] = {wrap} must be nonzero with the sign of the other steps"
            )
    return period


def reduce_uniform(spacing: Spacing, period: Spacing | None) -> Spacing:
    """Concrete, evenly spaced coordinates become their step, as numpy does (faster, same values)."""
    if np.ndim(spacing) == 0 or is_traced(spacing) or is_traced(period):
        return spacing
    *_, even, step = coordinate_facts(spacing)
    if not even:
        return spacing
    if period is not None:
        first, last = _values_at(spacing, [0, -1])
        if first + period - last != step:
            return spacing
    return step


def shift_origin(spacing: Spacing) -> Spacing:
    """Concrete numpy coordinates measured from their first point: the same steps, and no loss of
    them when float64 coordinates far from zero are cast to float32."""
    if np.ndim(spacing) == 1 and isinstance(spacing, np.ndarray) and spacing.size:
        return spacing - spacing[0]
    return spacing


def stack_components(F: Any, name: str = "F") -> Array | np.ndarray:
    """A vector field given as a sequence of equally shaped arrays, or as one array whose leading
    axis holds the components, as one array of shape ``(m, *spatial_shape)``."""
    if isinstance(F, (list, tuple)):
        if len(F) == 0:
            raise ValueError(f"{name} must have at least one component")
        comps = [as_field(c, f"{name}[{i}]") for i, c in enumerate(F)]
        shapes = {tuple(c.shape) for c in comps}
        if len(shapes) != 1:
            raise ValueError(f"the components of {name} must all have one shape, got {sorted(shapes)}")
        if comps[0].ndim == 0:
            raise ValueError(f"the components of {name} must be arrays on a grid of at least one axis, got scalars")
        return jnp.stack([jnp.asarray(c) for c in comps])
    F = as_field(F, name)
    if F.ndim < 2:
        raise ValueError(f"{name} must be a sequence of component arrays or an array of shape (m, *shape), got shape {F.shape}")
    return F


def check_cval(cval: Any, boundaries: tuple[str, ...], f_dtype: Any) -> Any:
    """``cval``, checked: a scalar that fits ``f``'s dtype, and nonzero only with a constant
    boundary (elsewhere it would be silently ignored)."""
    cval = normalize_cval(cval)
    if jnp.iscomplexobj(cval) and not jnp.issubdtype(f_dtype, jnp.complexfloating):
        raise TypeError(f"cval is complex ({cval!r}), but f is real ({np.dtype(f_dtype)})")
    if "constant" not in boundaries and not is_traced(cval) and np.asarray(cval) != 0:
        raise ValueError(f"cval={cval!r} is given, but no boundary is 'constant' (boundary {boundaries})")
    return cval
