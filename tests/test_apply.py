"""jaxgrad/_apply.py: applying a stencil plan along one axis. The joins are bit-exact (signed
zeros, NaN, inf), paired weights give no -0.0, and apply_stencil equals a plain numpy loop."""

import functools
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from conftest import uneven_coordinates
from jaxgrad._apply import _applied, _shifted, apply_stencil, apply_sum, join, summed, weighted_sum
from jaxgrad._core import forward_stencil, scheme_stencil
from jaxgrad._stencils import Stencil, normal_stencil

SPECIAL = np.array([-0.0, 0.0, np.nan, np.inf, -np.inf, 1.5, -2.0, -0.0, 0.0, np.nan, 3.0, -0.0])


def _special(dtype, shape=(3, 12)):
    values = np.resize(SPECIAL, shape)
    if np.issubdtype(dtype, np.complexfloating):  # signed zeros, NaN and inf in both parts
        parts = values
        values = np.empty(shape, np.complex128)
        values.real, values.imag = parts, np.roll(parts, 5)
    return jnp.asarray(values.astype(dtype) if dtype != jnp.bfloat16 else values, dtype)


def _bits(a):
    """The raw bits of an array: equal bits mean equal signed zeros and NaN payloads too."""
    a = np.asarray(a)
    if np.issubdtype(a.dtype, np.complexfloating):
        return np.stack([_bits(a.real), _bits(a.imag)])
    return a.view(np.dtype(f"u{a.dtype.itemsize}"))


DTYPES = [np.float32, np.float64, jnp.bfloat16, np.complex64]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("axis", [0, 1])
def test_padded_and_concatenated_joins_are_equal_bit_for_bit(x64, dtype, axis):
    f = _special(dtype, (12, 12))
    cuts = [0, 1, 5, 11, 12]
    blocks = [jax.lax.slice_in_dim(f, a, b, axis=axis) for a, b in zip(cuts, cuts[1:])]
    want = _bits(np.concatenate([np.asarray(b) for b in blocks], axis=axis))
    jitted = jax.jit(lambda *b: [join(list(b), axis, pad=p) for p in (True, False)])(*blocks)  # one compilation
    for pad, out in zip((True, False), jitted):
        np.testing.assert_array_equal(_bits(join(blocks, axis, pad=pad)), want)
        np.testing.assert_array_equal(_bits(out), want)
    assert join(blocks[:1], axis, pad=True) is blocks[0]


@pytest.mark.parametrize(
    "dtype",
    [*DTYPES[:3], np.complex64],
    ids=lambda d: np.dtype(d).name,
)
def test_rotations_are_bit_exact(x64, dtype):
    # On the last axis a rotation pads its two pieces and adds them: -0.0 padding keeps every value.
    f = _special(dtype, (3, 12))
    shifts = [(k, axis) for axis in (0, 1) for k in (1, -5, 12)]
    jitted = jax.jit(lambda f: [_shifted(f, k, a) for k, a in shifts])(f)  # every rotation in one compilation
    for (k, axis), out in zip(shifts, jitted):
        want = _bits(np.roll(np.asarray(f), -k, axis=axis))
        np.testing.assert_array_equal(_bits(_shifted(f, k, axis)), want)
        np.testing.assert_array_equal(_bits(out), want)


@pytest.mark.parametrize("first", [-0.5, 0.5])
def test_paired_weights_give_no_negative_zero(first):
    # w * a + (-w) * b with a == b is +0.0 in IEEE arithmetic, and so must the paired form be.
    for value in (0.0, -0.0, 1.25):
        a = jnp.full((4, 3), value)
        for scale in (None, jnp.asarray(2.0)):
            out = np.asarray(weighted_sum([(first, a), (-first, a)], 0, a.shape, a.dtype, scale))
            np.testing.assert_array_equal(out, 0.0)
            assert not np.signbit(out).any(), (first, value, scale)


def test_weighted_sum_is_the_sum_of_the_terms(x64):
    rng = np.random.default_rng(0)
    xs = [jnp.asarray(rng.standard_normal((5, 4))) for _ in range(4)]
    per_point = jnp.asarray(rng.standard_normal(5))
    terms = [(0.5, xs[0]), (-0.5, xs[1]), (per_point, xs[2]), (2.0, xs[3])]
    want = (0.5 * xs[0] - 0.5 * xs[1] + per_point[:, None] * xs[2] + 2.0 * xs[3]) * 3.0
    np.testing.assert_allclose(weighted_sum(terms, 0, (5, 4), jnp.float64, jnp.asarray(3.0)), want, rtol=1e-14)
    empty = weighted_sum([], 1, (5, 2), jnp.float32, None)
    assert empty.dtype == jnp.float32 and empty.shape == (5, 2) and not np.asarray(empty).any()


def _loop(f, axis, st):
    """The stencil applied by the definition in jaxgrad/_stencils.py, one output at a time."""
    g = np.moveaxis(np.asarray(f, np.float64), axis, 0)
    n = g.shape[0]
    out = np.zeros_like(g)
    at = lambda w, row: float(w) if np.ndim(w) == 0 else float(np.asarray(w)[row])
    if st.periodic:
        for i in range(n):
            out[i] = sum(at(w, i) * g[(i + k) % n] for k, w in zip(st.offsets, st.weights))
    else:
        lo, hi = st.left, n - st.right
        for i in range(lo):
            out[i] = sum(at(w, i) * g[j] for j, w in enumerate(st.left_weights))
        for i in range(lo, hi):
            out[i] = sum(at(w, i - lo) * g[i + k] for k, w in zip(st.offsets, st.weights))
        start = n - len(st.right_weights)
        for r, i in enumerate(range(hi, n)):
            out[i] = sum(at(w, r) * g[start + j] for j, w in enumerate(st.right_weights))
    return np.moveaxis(out * (1.0 if st.scale is None else float(st.scale)), 0, axis)


@functools.cache  # built eagerly (coordinates: many small programs), once for every test below
def _stencils(n):
    x = jnp.asarray(uneven_coordinates(np.random.default_rng(n), n, jitter=0.4))
    period = float(x[-1] - x[0]) + 1.0
    f64 = jnp.float64
    return {
        "order 1, accuracy 2": scheme_stencil(0.5, f64, n, order=1, accuracy=2, boundary="one-sided"),
        "order 2, accuracy 4": scheme_stencil(0.5, f64, n, order=2, accuracy=4, boundary="one-sided"),
        "order 3, accuracy 2, periodic": scheme_stencil(0.3, f64, n, order=3, accuracy=2, boundary="periodic"),
        "coordinates, order 1, accuracy 4": scheme_stencil(x, f64, n, order=1, accuracy=4, boundary="one-sided"),
        "coordinates, order 2, periodic": scheme_stencil(x, f64, n, order=2, accuracy=2, boundary="periodic", period=period),
        "forward, order 2": forward_stencil(0.5, f64, order=2),
        "forward, coordinates": forward_stencil(x, f64, order=1),
        "normal, order 2": normal_stencil(2, 0.5, f64),
        "hand-made": Stencil((-2, 1), (0.25, -1.0), left=2, right=1, left_weights=(np.array([1.0, 2.0]), np.array([3.0, 4.0])),
                             right_weights=(5.0,), scale=None),
    }


STENCILS = ["order 1, accuracy 2", "order 2, accuracy 4", "order 3, accuracy 2, periodic", "coordinates, order 1, accuracy 4",
            "coordinates, order 2, periodic", "forward, order 2", "forward, coordinates", "normal, order 2", "hand-made"]


@pytest.mark.parametrize("name", STENCILS)
@pytest.mark.parametrize("axis", [0, 1])
def test_apply_stencil_equals_a_plain_loop(x64, name, axis):
    n = 11
    st = _stencils(n)[name]
    f = np.random.default_rng(1).standard_normal((n, 3) if axis == 0 else (3, n))
    out = jax.jit(lambda f: apply_stencil(f, axis, st))(jnp.asarray(f))
    assert out.shape == f.shape and out.dtype == jnp.float64
    np.testing.assert_allclose(out, _loop(f, axis, st), rtol=1e-12, atol=1e-12)


def test_nan_reaches_only_the_outputs_that_read_it(x64):
    f = np.zeros((1, 11))
    f[0, 5] = np.nan
    st = scheme_stencil(1.0, jnp.float64, 11, order=1, accuracy=4, boundary="one-sided")
    bad = np.flatnonzero(np.isnan(np.asarray(apply_stencil(jnp.asarray(f), 1, st))[0]))
    np.testing.assert_array_equal(bad, [3, 4, 6, 7])  # the central weight of a first derivative is 0


# apply_sum: the two axes of a 2-D array in one pass (the rows between axis 0's edges raveled).
# (wider edges on the last axis, e.g. accuracy 4 second derivatives, are declined: see below)
SUM_PLANS = [
    dict(order=2, accuracy=2, boundary="one-sided"),
    dict(order=1, accuracy=4, boundary="mirror"),
    dict(order=1, accuracy=2, boundary="one-sided"),
    dict(order=2, accuracy=2, boundary="reflect"),
    dict(order=3, accuracy=2, boundary="nearest"),
    dict(order=1, accuracy=2, boundary="nearest"),
]


def _sum_plans(shape, dtype, steps=(0.7, 1.3, 1.1), **kw):
    return [scheme_stencil(h, dtype, n, **kw) for h, n in zip(steps, shape)]


SUM_SHAPES = [(17, 15), (15, 40), (40, 15), (14, 15, 16), (15, 14, 20)]


@pytest.mark.parametrize("kw, shape", [(kw, SUM_SHAPES[i % 3]) for i, kw in enumerate(SUM_PLANS)] + [(SUM_PLANS[i], SUM_SHAPES[3 + i % 2]) for i in (0, 1, 3)],
                         ids=lambda p: "-".join(map(str, p.values())) if isinstance(p, dict) else "x".join(map(str, p)))
def test_apply_sum_equals_the_axis_by_axis_sum(x64, kw, shape):
    rng = np.random.default_rng(7)
    f = jnp.asarray(rng.standard_normal(shape))
    plans = _sum_plans(shape, jnp.float64, **kw)
    mid = shape[0] // 2
    g = f.at[mid, ..., -1].set(jnp.inf).at[mid, ..., 0].set(jnp.nan)

    @jax.jit  # one compiled program (op by op, every slice compiles on its own)
    def run(f, g):
        got = apply_sum(f, plans)
        assert got is not None, "these plans take the one-pass path"
        return [got, apply_sum(g, plans)], [sum(apply_stencil(x, a, p) for a, p in enumerate(plans)) for x in (f, g)]

    (got, got_g), (want, want_g) = run(f, g)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * float(jnp.max(jnp.abs(want))))
    # NaN and inf read across a row boundary never reach another row: an edge column's value is
    # chosen, not multiplied by a zero weight. In 2-D the last axis's shifts off the end of a row
    # read the next row: apply_sum(g) runs op by op there, as under jit XLA rewrites a product with
    # a 0/1 mask as a select, and such a product would pass. (In 3-D they stay in their row of axis 0.)
    finite = np.isfinite(apply_sum(g, plans) if len(shape) == 2 else got_g), np.isfinite(want_g)
    # (in row mid itself the axis-by-axis sum multiplies zero edge weights of numpy arrays: NaN there)
    others = np.arange(shape[0]) != mid
    assert np.array_equal(finite[0][others], finite[1][others])


def test_apply_sum_in_float32_and_complex():
    rng = np.random.default_rng(8)
    shape = (20, 17)
    plans = _sum_plans(shape, jnp.float32, order=2, accuracy=2, boundary="one-sided")
    fs = [jnp.asarray(rng.standard_normal(shape) + (1j * rng.standard_normal(shape) if dtype == jnp.complex64 else 0), dtype)
          for dtype in (jnp.float32, jnp.complex64)]
    both = lambda f: (apply_sum(f, plans), apply_stencil(f, 0, plans[0]) + apply_stencil(f, 1, plans[1]))
    outs = jax.jit(lambda fs: [both(f) for f in fs])(fs)  # one compiled program (op by op, every slice compiles)
    for f, (got, want) in zip(fs, outs):
        assert got.dtype == f.dtype
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-5 * float(jnp.max(jnp.abs(want))))


def test_apply_sum_declines_what_it_cannot_run(x64):
    f = jnp.ones((12, 10))
    assert apply_sum(f, _sum_plans(f.shape, jnp.float64, order=1, accuracy=2, boundary="periodic")) is None
    assert apply_sum(f, _sum_plans(f.shape, jnp.float64, order=1, accuracy=2, boundary="constant", cval=1.0)) is None
    coords = [jnp.asarray(uneven_coordinates(np.random.default_rng(0), n)) for n in f.shape]
    assert apply_sum(f, _sum_plans(f.shape, jnp.float64, coords, order=1, accuracy=2, boundary="one-sided")) is None
    assert apply_sum(jnp.ones((4, 5, 6)), _sum_plans((4, 5), jnp.float64, order=1, accuracy=2, boundary="one-sided")) is None
    assert apply_sum(jnp.ones((4, 5, 6, 7)), _sum_plans((4, 5, 6, 7), jnp.float64, order=1, accuracy=2, boundary="one-sided")) is None
    # one-sided schemes: no edge rows at one end of axis 0
    assert apply_sum(f, _sum_plans(f.shape, jnp.float64, order=1, accuracy=2, boundary="one-sided", scheme="backward")) is None
    short = jnp.ones((12, 3))  # the transposed plan's edge columns would overlap
    assert apply_sum(short, _sum_plans(short.shape, jnp.float64, order=2, accuracy=2, boundary="one-sided")) is None
    wide = jnp.ones((30, 30))  # accuracy 4's transposed plan: six edge columns a side
    assert apply_sum(wide, _sum_plans(wide.shape, jnp.float64, order=2, accuracy=4, boundary="one-sided")) is None


@pytest.mark.parametrize("kw, shape", [(SUM_PLANS[1], (14, 12)), (SUM_PLANS[3], (14, 12)), (SUM_PLANS[0], (12, 11, 10))],
                         ids=["accuracy 4", "reflect", "3-D"])
def test_apply_sum_derivatives_equal_those_of_the_axis_by_axis_sum(x64, kw, shape):
    """Reverse mode runs the transposed plans' pass: it must equal JAX's own transpose of the
    plain slices, for the values and for a traced step, and forward mode and second order too."""
    rng = np.random.default_rng(9)
    f, ct, df = (jnp.asarray(rng.standard_normal(shape)) for _ in range(3))

    def run(fn):
        def op(f, h):
            plans = _sum_plans(shape, jnp.float64, steps=(h, 2 * h, 0.5 * h), **kw)
            return fn(f, plans)
        y, vjp = jax.vjp(op, f, 0.7)
        loss = lambda f, h: jnp.sum(jnp.sin(op(f, h)))
        # second order: forward over reverse, a Hessian-vector product in the values and the step
        return y, vjp(ct), jax.jvp(op, (f, 0.7), (df, 0.3))[1], jax.jvp(jax.grad(loss, (0, 1)), (f, 0.7), (df, 0.3))[1]

    plain = lambda f, plans: sum(_applied(f, a, p) for a, p in enumerate(plans))
    got, want = jax.jit(lambda f: run(apply_sum))(f), jax.jit(lambda f: run(plain))(f)
    for g, w in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-10 * float(jnp.max(jnp.abs(w))))
    batch = jnp.stack([f, 2 * f])
    plans = _sum_plans(shape, jnp.float64, **kw)
    grads = jax.jit(jax.vmap(jax.grad(lambda f: jnp.sum(apply_sum(f, plans) ** 2))))(batch)
    np.testing.assert_allclose(grads[1], 2 * grads[0], rtol=1e-12)  # the gradient is linear in f


@pytest.mark.parametrize("shape, dtype", [((7,), np.float32), ((5, 9), np.float32), ((4, 6, 33), np.float64)])
def test_summed_is_a_sum_with_its_derivatives(x64, shape, dtype):
    # XLA:CPU sums row by row through a variadic reduction: the value, derivatives of every
    # order and batching are those of jnp.sum.
    rng = np.random.default_rng(5)
    x = jnp.asarray(rng.standard_normal(shape), dtype)
    loss = lambda x: summed(jnp.sin(x[..., 1:] - x[..., :-1]) ** 2)
    plain = lambda x: jnp.sum(jnp.sin(x[..., 1:] - x[..., :-1]) ** 2)
    tol = dict(rtol=2e-5 if dtype == np.float32 else 1e-12, atol=1e-5 if dtype == np.float32 else 1e-12)
    t = jnp.asarray(rng.standard_normal(shape), dtype)
    batch = jnp.stack([x, 2 * x])

    def every(fn, x, t, batch):
        out = [fn(x), jax.grad(fn)(x), jax.jvp(fn, (x,), (t,))[1], jax.vmap(fn)(batch)]
        return out + ([jax.hessian(fn)(x)] if x.size < 100 else [])

    # both in one compiled program (op by op, the Hessians alone compile dozens)
    got, want = jax.jit(lambda *a: (every(loss, *a), every(plain, *a)))(x, t, batch)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, **tol)


def test_summed_is_a_variadic_row_reduction_on_cpu():
    # The point of summed: on XLA:CPU the compiled program reduces (values, counter) pairs, a
    # reduction XLA keeps in its own loop (a plain sum would go to a library call reading copies).
    if jax.default_backend() != "cpu":
        pytest.skip("the variadic form is XLA:CPU's")
    x = jnp.ones((8, 16), jnp.float32)
    text = jax.jit(lambda x: summed(x[1:] - x[:-1])).lower(x).compile().as_text()
    assert re.search(r"\(f32\[7\][^)]*, s32\[7\][^)]*\) reduce\(", text), text
