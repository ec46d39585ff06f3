"""Reverse mode through the transposed stencil (``_stencils.transposed`` and the custom JVP in
``_apply.apply_stencil``): the plan is the exact transpose of the matrix, and every derivative
equals the one JAX derives from the plain formulation (``_apply._applied``, kept as the oracle)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

import jaxgrad
from conftest import check_grads_compiled, uneven_coordinates
from jaxgrad._apply import _applied, apply_stencil, stencil_tangent
from jaxgrad._core import scheme_stencil
from jaxgrad._stencils import matrix_entries, normal_stencil, transposed

# (order, accuracy, boundary, scheme): edge rows of every kind, ghosts folded in, wrap-around.
PLANS = [
    (1, 2, "one-sided", "central"),
    (2, 4, "one-sided", "central"),
    (3, 2, "one-sided", "central"),
    (1, 6, "periodic", "central"),
    (2, 2, "reflect", "central"),
    (1, 4, "mirror", "central"),
    (3, 4, "nearest", "central"),
    (2, 2, "constant", "central"),
    (1, 3, "one-sided", "forward"),
    (2, 2, "nearest", "backward"),
    (1, 1, "periodic", "forward"),
]


def _plan(n, order, accuracy, boundary, scheme, spacing=0.5, dtype=jnp.float64):
    return scheme_stencil(spacing, dtype, n, order=order, accuracy=accuracy, boundary=boundary, scheme=scheme)


def _dense(stencil, n):
    values, idx = matrix_entries(stencil, n)
    out = np.zeros((n, n))
    np.add.at(out, (idx[:, 0], idx[:, 1]), np.asarray(values, np.float64))
    return out


def _spacing(kind, n):
    if kind == "step":
        return 0.5
    return jnp.asarray(uneven_coordinates(np.random.default_rng(n), n))


@pytest.mark.parametrize("kind, n", [("step", 31), ("step", 64), ("coordinates", 31)])
@pytest.mark.parametrize("plan", PLANS, ids=lambda p: "-".join(map(str, p)))
def test_transposed_plan_is_the_matrix_transpose(x64, n, plan, kind):
    spacing = _spacing(kind, n)
    if plan[2] == "periodic" and kind == "coordinates":
        stencil = scheme_stencil(spacing, jnp.float64, n, order=plan[0], accuracy=plan[1], boundary="periodic",
                                 scheme=plan[3], period=float(spacing[-1] - spacing[0]) + 1.0)
    else:
        stencil = _plan(n, *plan, spacing=spacing)
    adjoint = transposed(stencil, n, np.float64)
    assert adjoint is not None and adjoint.scale is None
    A = _dense(stencil._replace(scale=None), n)
    np.testing.assert_allclose(_dense(adjoint, n), A.T, rtol=0, atol=1e-12 * np.abs(A).max())


def test_transposed_normal_stencil_is_itself(x64):
    stencil = normal_stencil(2, 1.0, np.float64)
    adjoint = transposed(stencil, 40, np.float64)
    np.testing.assert_allclose(_dense(adjoint, 40), _dense(stencil._replace(scale=None), 40), atol=1e-12)


def test_no_transposed_plan_where_the_plan_is_affine_or_the_axis_short(x64):
    biased = scheme_stencil(0.5, jnp.float64, 40, order=1, accuracy=2, boundary="constant", cval=2.0)
    assert biased.left_bias is not None and transposed(biased, 40, np.float64) is None
    assert transposed(_plan(9, 3, 6, "one-sided", "central"), 9, np.float64) is None


# The plans themselves are all checked above; here the plumbing: edge rows, folded ghosts, a
# periodic plan, a scheme, complex values, and coordinates (per-row weights, traced).
# Two of the step cases run on a 3-D array (a middle axis: edge rows by a contraction between two
# axes); the others on 2-D ones, whose two axes take the plan's major-axis and last-axis forms.
CASES = [(PLANS[i], np.float32, "step") for i in (0, 3, 4, 9)] + [
    (PLANS[1], np.complex64, "step"), (PLANS[6], np.complex64, "step"),
    (PLANS[4], np.float32, "coordinates"),
]
THREE_D = {CASES[0], CASES[5]}


@pytest.mark.parametrize("plan, dtype, kind", CASES, ids=lambda p: "-".join(map(str, p)) if isinstance(p, tuple) else str(p))
def test_vjp_and_jvp_equal_jax_own_transpose(plan, dtype, kind):
    # Random cotangents along every axis of the array, and the derivative with respect to the
    # step (a traced scale) or the coordinates (traced per-row weights).
    rng = np.random.default_rng(3)
    shape = (17, 18, 19) if (plan, dtype, kind) in THREE_D else (17, 19)  # each axis adds to the compilation
    parts = [rng.standard_normal(shape) for _ in range(4)]
    f = jnp.asarray(parts[0] + 1j * parts[1] if dtype == np.complex64 else parts[0], dtype)
    c = jnp.asarray(parts[2] + 1j * parts[3] if dtype == np.complex64 else parts[2], dtype)
    if kind == "step":
        spacings = [jnp.float32(0.7)] * len(shape)
    else:
        spacings = [jnp.asarray(uneven_coordinates(rng, n), jnp.float32) for n in shape]
    directions = [jnp.asarray(0.3 * rng.standard_normal(jnp.shape(h)), jnp.float32) for h in spacings]

    def derivatives(apply, f, c, spacings):
        out = []
        for axis, (n, h, dh) in enumerate(zip(shape, spacings, directions)):
            op = lambda f, h, a=axis, n=n: apply(f, a, _plan(n, *plan, spacing=h, dtype=jnp.float32))
            y, vjp = jax.vjp(op, f, h)
            out += [y, *vjp(c), jax.jvp(op, (f, h), (c, dh))[1]]
        return out

    # Both in one program: what they share (building the plans: coordinate weights) compiles once.
    got, want = jax.jit(lambda *args: (derivatives(apply_stencil, *args), derivatives(_applied, *args)))(f, c, spacings)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=2e-5, atol=2e-5 * float(jnp.max(jnp.abs(w))))


@pytest.mark.parametrize("plan", [PLANS[i] for i in (1, 3, 4, 9)], ids=lambda p: "-".join(map(str, p)))
def test_both_reverse_formulations_agree(x64, plan):
    # The tangent is transposed by the plan on XLA:CPU and by JAX's rules on other backends (a
    # platform switch); the tests run the CPU branch, so the other is checked here directly.
    rng = np.random.default_rng(4)
    f, c = (jnp.asarray(rng.standard_normal((15, 12, 11))) for _ in range(2))

    @jax.jit
    def both(f, c):
        out = []
        for axis in (0, 2):
            stencil = _plan(f.shape[axis], *plan)
            out.append([jax.vjp(lambda d, t=t, a=axis, s=stencil: stencil_tangent(d, a, s, transposed_plan=t), f)[1](c)[0]
                        for t in (True, False)])
            out.append([stencil_tangent(f, axis, stencil, transposed_plan=True), _applied(f, axis, stencil)])
        return out

    for got, want in both(f, c):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def _loss(f):
    g = jaxgrad.gradient(f, 0.5, edge_order=2)
    return jnp.sum(jaxgrad.laplacian(f, 0.5, 0.3, accuracy=4) ** 2) + sum(jnp.sum(gi**3) for gi in g)


def _uses_adjoint(fun, *args):
    return str(jax.make_jaxpr(fun)(*args)).count("name=linear")


def test_check_grads_second_order(x64):
    rng = np.random.default_rng(0)
    f = jnp.asarray(rng.standard_normal((16, 17)))
    x = jnp.asarray(uneven_coordinates(rng, 17))
    periodic = jax.jit(lambda f: jaxgrad.derivative(f, 0.3, axis=1, accuracy=6, boundary="periodic"))
    coords = jax.jit(lambda f, x: jaxgrad.derivative(f[:4], x, axis=1, accuracy=4, boundary="mirror"))
    reflect = jax.jit(lambda h: jaxgrad.derivative(f, h, axis=0, order=2, accuracy=4, boundary="reflect"))
    # one per axis (an accuracy-4 Laplacian's edges are too wide for apply_sum's single pass)
    assert _uses_adjoint(_loss, f) == 4 and _uses_adjoint(periodic, f) == 1 and _uses_adjoint(reflect, 0.3) == 1
    assert _uses_adjoint(coords, f, x) == 1
    check_grads(jax.jit(_loss), (f,), order=2, modes=("rev",))  # forward mode: the Hessian test
    check_grads(periodic, (f,), order=2)
    check_grads(reflect, (0.3,), order=2)
    check_grads_compiled(coords, (f, x), order=1, modes=("rev",))  # one program per VJP, not two


def test_hessian_jacfwd_over_grad_vmap_and_jit_agree(x64):
    f = jnp.asarray(np.random.default_rng(1).standard_normal((14, 15)))
    batch = jnp.stack([f, 2 * f, -f])
    # one program: what the four share compiles once (the loop, lax.map, runs the unbatched gradient)
    h_fwd, h_rev, grads, loop = jax.jit(lambda f, batch: (
        jax.jacfwd(jax.grad(_loss))(f), jax.jacrev(jax.grad(_loss))(f), jax.vmap(jax.grad(_loss))(batch),
        jax.lax.map(jax.grad(_loss), batch)))(f, batch)
    np.testing.assert_allclose(h_fwd, h_rev, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(h_fwd, np.transpose(h_fwd, (2, 3, 0, 1)), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(grads, loop, rtol=1e-12, atol=1e-9)
