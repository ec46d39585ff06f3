"""Hostile input: random, often wrong, arguments to every public function.

Every call must either succeed (and then match numpy where numpy has the feature) or raise
TypeError or ValueError (numpy's AxisError is a ValueError) with a message: never another
exception, an XLA error, or a silent NaN from a bad step.
"""

import jax.numpy as jnp
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jaxgrad

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SPACING_ITEMS = [
    None, "a", b"b", 1.0, 0.0, -2, True, 1 + 2j, np.nan, np.inf, [], [[1.0, 2.0]], np.array(2.0),
    np.zeros((2, 2)), object(), {"h": 1}, np.float32(0.5), np.int64(3),
]


@st.composite
def spacing_item(draw, n):
    kind = draw(st.sampled_from(["fixed", "coords", "repeated", "unsorted", "complex", "int", "nan", "short", "bool"]))
    if kind == "fixed":
        return draw(st.sampled_from(SPACING_ITEMS))
    x = np.cumsum(np.full(max(n, 1), 0.5)) - 1.0
    if kind == "repeated" and n > 2:
        x[1] = x[2]
    elif kind == "unsorted" and n > 2:
        x[[0, 1]] = x[[1, 0]]
    elif kind == "complex":
        x = x + 1j
    elif kind == "int":
        x = np.arange(n)[::-1].astype(np.uint8)
    elif kind == "nan":
        x[0] = np.nan
    elif kind == "short":
        x = x[:-1]
    elif kind == "bool":
        x = np.arange(n) % 2 == 0
    return x if draw(st.booleans()) else list(x)


@st.composite
def field(draw):
    ndim = draw(st.integers(0, 3))
    shape = tuple(draw(st.lists(st.integers(0, 6), min_size=ndim, max_size=ndim)))
    dtype = draw(st.sampled_from([np.float64, np.float32, np.int32, np.bool_, np.complex64, np.float16]))
    f = (np.arange(int(np.prod(shape))).reshape(shape) % 5).astype(dtype)
    kind = draw(st.sampled_from(["array", "list", "jax", "string", "none", "ragged"]))
    if kind == "list":
        return f.tolist()
    if kind == "jax":
        return jnp.asarray(f)
    if kind == "string":
        return "not an array"
    if kind == "none":
        return None
    if kind == "ragged":
        return [[1.0, 2.0], [3.0]]
    return f


AXES = st.one_of(
    st.none(), st.integers(-5, 5), st.tuples(st.integers(-4, 4), st.integers(-4, 4)), st.just(1.5), st.just("0"),
    st.just((0,)), st.just(()), st.just(True),
)


def _shape_of(f):
    try:
        return np.shape(f)
    except Exception:
        return ()


def _call(fn, *args, **kwargs):
    """Calls fn; returns the result, or None after an allowed exception with a message."""
    try:
        return fn(*args, **kwargs)
    except (TypeError, ValueError) as e:
        assert str(e), f"{type(e).__name__} without a message"
        assert "XlaRuntimeError" not in type(e).__name__
        return None


@SETTINGS
@given(data=st.data())
def test_gradient_fuzz(data):
    f = data.draw(field())
    shape = _shape_of(f)
    n = shape[0] if shape else 3
    varargs = data.draw(st.lists(spacing_item(n), max_size=3))
    axis = data.draw(AXES)
    edge_order = data.draw(st.sampled_from([1, 2, 0, 3, -1, 1.5, "2", None]))
    out = _call(jaxgrad.gradient, f, *varargs, axis=axis, edge_order=edge_order)
    if out is None:
        return
    # Succeeded: then numpy, on the same (valid) arguments, agrees.
    ref = np.gradient(np.asarray(f, dtype=np.complex128 if np.iscomplexobj(f) else np.float64), *varargs, axis=axis, edge_order=edge_order)
    ours = out if isinstance(out, tuple) else (out,)
    refs = tuple(ref) if isinstance(ref, (tuple, list)) else (ref,)
    assert len(ours) == len(refs)
    for o, r in zip(ours, refs):
        np.testing.assert_allclose(np.asarray(o, dtype=r.dtype), r, rtol=2e-2, atol=2e-2)


@SETTINGS
@given(data=st.data())
def test_derivative_fuzz(data):
    f = data.draw(field())
    shape = _shape_of(f)
    n = shape[-1] if shape else 3
    spacing = data.draw(spacing_item(n))
    kwargs = dict(
        axis=data.draw(AXES),
        order=data.draw(st.sampled_from([1, 2, 3, 0, -1, 1.5, "1"])),
        accuracy=data.draw(st.sampled_from([2, 4, 8, 3, 0, -2, 2.0])),
        boundary=data.draw(st.sampled_from(["one-sided", "periodic", "reflect", None, ("periodic",)])),
        period=data.draw(st.sampled_from([None, 10.0, 0.0, -10.0, np.nan, "L", [1.0]])),
    )
    out = _call(jaxgrad.derivative, f, spacing, **kwargs)
    if out is not None:
        assert out.shape == np.shape(f)
        assert bool(jnp.all(jnp.isfinite(out)))


@SETTINGS
@given(data=st.data())
def test_operators_and_penalties_fuzz(data):
    f = data.draw(field())
    shape = _shape_of(f)
    n = shape[0] if shape else 3
    varargs = data.draw(st.lists(spacing_item(n), max_size=3))
    name = data.draw(st.sampled_from(["laplacian", "hessian", "divergence", "curl", "jacobian", "total_variation", "smoothness"]))
    kwargs = {}
    if name in ("laplacian", "hessian", "total_variation", "smoothness"):
        kwargs["axis"] = data.draw(AXES)
    if name in ("total_variation", "smoothness"):
        kwargs["reduction"] = data.draw(st.sampled_from(["mean", "sum", "none", "max", None]))
    else:
        kwargs["accuracy"] = data.draw(st.sampled_from([2, 4, 3]))
        kwargs["boundary"] = data.draw(st.sampled_from(["one-sided", "periodic", ("periodic", "one-sided"), "x"]))
    if name == "total_variation":
        kwargs["eps"] = data.draw(st.sampled_from([0.0, 0.1, -1.0, "e", np.nan]))
    arg = f if name not in ("divergence", "curl", "jacobian") or not data.draw(st.booleans()) else [f, f]
    out = _call(getattr(jaxgrad, name), arg, *varargs, **kwargs)
    if out is not None:
        for o in out if isinstance(out, tuple) else (out,):
            assert bool(jnp.all(jnp.isfinite(o)))


@SETTINGS
@given(order=st.one_of(st.integers(-2, 5), st.just(1.5), st.just("1")), offsets=st.one_of(
    st.lists(st.integers(-4, 4), max_size=6), st.just([[0, 1]]), st.just([0.5, 1.5]), st.just("01")))
def test_stencil_fuzz(order, offsets):
    w = _call(jaxgrad.stencil, order, offsets)
    if w is not None:
        # Exact for every monomial of degree below the number of offsets.
        x = np.asarray(offsets, dtype=float)
        for degree in range(len(offsets)):
            want = np.prod(np.arange(1, order + 1)) if degree == order else 0.0
            np.testing.assert_allclose(np.sum(w * x**degree), want, atol=1e-9 * (1 + np.abs(w).sum() * 4.0**degree))


def test_nan_in_f_stays_local_for_every_scheme():
    f = np.sin(np.arange(30.0))
    f[15] = np.nan
    for accuracy in (2, 4, 8):
        for order in (1, 2):
            out = np.asarray(jaxgrad.derivative(f, 0.1, order=order, accuracy=accuracy))
            p = (order - 1) // 2 + accuracy // 2
            bad = np.flatnonzero(np.isnan(out))
            assert bad.min() >= 15 - p and bad.max() <= 15 + p, (order, accuracy, bad)
