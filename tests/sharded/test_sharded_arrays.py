"""Sharded arrays on 8 virtual CPU devices (run by tests/test_sharding.py in its own process).

Every public function on arrays sharded over 1-D and 2-D meshes, automatic and explicit axes,
along sharded and unsharded axes: same values as on one device, and the input's sharding kept.
Then the halo-exchange path: only neighbour transfers of halo bytes in the compiled program,
periodic wrap-around across the first and last shard, inside a user's jit, under grad and vmap,
NaN locality, and the fallback for shards too short for a stencil. Each check is its own test.
"""

import contextlib
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import AxisType, NamedSharding
from jax.sharding import PartitionSpec as P

import jaxgrad
from conftest import SHARDED_DEVICES
from hlo_util import collectives
from jaxgrad import _halo

if len(jax.devices()) != SHARDED_DEVICES:
    raise RuntimeError(
        f"tests/sharded needs {SHARDED_DEVICES} virtual devices, found {len(jax.devices())}: "
        f"run it as `JAXGRAD_SHARDED=1 python -m pytest tests/sharded`"
    )

_rng = np.random.default_rng(0)
F = _rng.standard_normal((32, 24)).astype(np.float32)
FIELD = _rng.standard_normal((2, 32, 24)).astype(np.float32)
X = np.cumsum(_rng.uniform(0.5, 1.5, 32)).astype(np.float32)

FUNCTIONS = {
    "gradient": lambda f: jaxgrad.gradient(f, X, 0.5, edge_order=2),
    "derivative axis 0, accuracy 8": lambda f: jaxgrad.derivative(f, X, axis=0, accuracy=8),
    "derivative axis 1, order 2": lambda f: jaxgrad.derivative(f, 0.5, axis=1, order=2, accuracy=4),
    "derivative periodic": lambda f: jaxgrad.derivative(f, 0.1, axis=0, accuracy=6, boundary="periodic"),
    "laplacian": lambda f: jaxgrad.laplacian(f, X, 0.5, accuracy=4),
    "hessian": lambda f: jaxgrad.hessian(f, X, 0.5),
    "total_variation none": lambda f: jaxgrad.total_variation(f, reduction="none"),
    "smoothness mean": lambda f: jaxgrad.smoothness(f, X, 0.5),
    "grad of smoothness": jax.grad(lambda f: jaxgrad.smoothness(f, X, 0.5)),
    # Uniform steps: reverse mode through the transposed stencils on the unsplit axes.
    "grad of residual": jax.grad(lambda f: jnp.sum(jaxgrad.laplacian(f, 0.5, 0.3, accuracy=4) ** 2)),
    "jit(gradient)": jax.jit(lambda f: jaxgrad.gradient(f, axis=0)),
    "gradient reflect, constant": lambda f: jaxgrad.gradient(f, X, 0.5, boundary=("reflect", "constant"), cval=1.5),
}
FIELDS = {
    "divergence": lambda F: jaxgrad.divergence(F, X, 0.5),
    "curl": lambda F: jaxgrad.curl(F, X, 0.5),
    "jacobian": lambda F: jaxgrad.jacobian(F, X, 0.5),
}
# On the other layouts, a few functions suffice: the full set runs on P("i", None). (The accuracy-8
# derivative would run along the unsplit axis on P(None, "i"), as "derivative axis 1, order 2" does
# on P("i", None), and on the partitioner's path on P("i", "j"), as on P("i", None) and in
# test_shards_shorter_than_the_edge_window_fall_back_to_the_partitioner: its 9-point edges do not fit in 8 rows.)
FEW = ("gradient", "laplacian", "divergence")
# Explicit axes differ from automatic ones in how the sharding is known and the outputs are laid
# out (auto_axes), not in what a function computes: there, the functions whose outputs or traces
# differ in kind run (tuples, 4-D and scalar outputs, vector fields, grad and jit, which see the
# sharding and take the halo path, and the partitioner's fallback); the full set runs on automatic axes.
EXPLICIT = ("gradient", "derivative periodic", "hessian", "smoothness mean", "grad of smoothness", "jit(gradient)",
            "divergence", "jacobian")
LAYOUTS = [((8,), ("i",), ("i", None)), ((8,), ("i",), (None, "i")), ((4, 2), ("i", "j"), ("i", "j"))]
CASES = [
    (kind, shape, names, spec, name)
    for kind in ("Auto", "Explicit")
    for shape, names, spec in LAYOUTS
    for name in [*FUNCTIONS, *FIELDS]
    if (spec == ("i", None) or name in FEW) and (kind == "Auto" or name in EXPLICIT)
]


def leaves(out):
    return out if isinstance(out, tuple) else (out,)


@functools.cache
def mesh_of(kind, shape, names):
    return jax.make_mesh(shape, names, axis_types=(getattr(AxisType, kind),) * len(names))


@functools.cache
def one_device():
    """The one-device values of every function, computed once, in one program (one compilation
    instead of one per function)."""
    everything = lambda f, field: {**{n: fn(f) for n, fn in FUNCTIONS.items()}, **{n: fn(field) for n, fn in FIELDS.items()}}
    return {name: leaves(out) for name, out in jax.jit(everything)(F, FIELD).items()}


@pytest.mark.parametrize("kind, shape, names, spec, name", CASES, ids=[f"{k}-{s}-{n}" for k, _, _, s, n in CASES])
def test_matches_one_device_and_keeps_the_sharding(kind, shape, names, spec, name):
    mesh = mesh_of(kind, shape, names)
    field = name in FIELDS
    fn, data = (FIELDS[name], FIELD) if field else (FUNCTIONS[name], F)
    want = one_device()[name]
    sharding = NamedSharding(mesh, P(None, *spec) if field else P(*spec))
    # Explicit sharding is used inside a mesh context, as JAX asks for it.
    with jax.set_mesh(mesh) if kind == "Explicit" else contextlib.nullcontext():
        got = leaves(fn(jax.device_put(data, sharding)))
    for g, w in zip(got, want):
        err = float(np.max(np.abs(np.asarray(g) - np.asarray(w)))) if w.size else 0.0
        scale = 1.0 + float(np.max(np.abs(np.asarray(w)))) if w.size else 1.0
        assert err <= 1e-5 * scale, f"max difference {err} against one device"
        out_spec = tuple(g.sharding.spec) + (None,) * (g.ndim - len(g.sharding.spec))
        expected = (None,) * (g.ndim - len(spec)) + spec if g.ndim >= len(spec) else ()
        assert g.ndim == 0 or out_spec == expected, f"output sharding {out_spec}, expected {expected}"


# --- the halo-exchange path ----------------------------------------------------------------------


@contextlib.contextmanager
def halo_calls():
    """Whether each stencil traced meanwhile took the halo exchange (a list, filled as they trace)."""
    taken = []
    original = _halo._exchanged

    def spy(*a):
        out = original(*a)
        taken.append(out is not None)
        return out

    _halo._exchanged = spy
    try:
        yield taken
    finally:
        _halo._exchanged = original


def uses_halo_path(fn, *args):
    """Whether calling ``fn`` traces a halo exchange, and its output. The caches are cleared
    first, so that it traces."""
    jax.clear_caches()
    with halo_calls() as taken:
        out = fn(*args)
    return any(taken), out


def close(got, want, tol=1e-5):
    got, want = np.asarray(got), np.asarray(want)
    err = float(np.max(np.abs(got - want)))
    assert err <= tol * (1.0 + float(np.max(np.abs(want)))), f"max difference {err}"


@pytest.fixture(scope="module")
def grid():
    """A (64, 48) field on a 4 x 2 mesh of automatic axes: shards of (16, 24)."""
    rng = np.random.default_rng(1)
    mesh = jax.make_mesh((4, 2), ("i", "j"), axis_types=(AxisType.Auto,) * 2)
    sharding = NamedSharding(mesh, P("i", "j"))
    f = rng.standard_normal((64, 48)).astype(np.float32)
    x = np.cumsum(rng.uniform(0.5, 1.5, 64)).astype(np.float32)
    return mesh, sharding, f, jax.device_put(f, sharding), x


def test_halo_path_is_chosen_for_concrete_sharded_arrays_and_switched_off(grid):
    _, _, f, fs, x = grid
    assert uses_halo_path(lambda f: jaxgrad.gradient(f, x, 0.5), fs)[0]
    assert not uses_halo_path(lambda f: jaxgrad.gradient(f, x, 0.5, halo=False), fs)[0]
    close(jaxgrad.gradient(fs, x, 0.5, halo=False)[0], np.gradient(f, x, 0.5)[0])


@pytest.mark.parametrize(
    "name, fn, want",
    [
        # One row or column per neighbour and direction for gradient (local blocks are (16, 24)).
        ("gradient", lambda f, x, s: jaxgrad.gradient(f, x, 0.5, edge_order=2, halo=s), {"collective-permute": (4, 2 * (24 + 16) * 4)}),
        # Three rows for accuracy 6 along axis 0.
        ("derivative", lambda f, x, s: jaxgrad.derivative(f, 0.5, axis=0, accuracy=6, halo=s), {"collective-permute": (2, 2 * 3 * 24 * 4)}),
        # Accuracy 4: three rows (coordinates: 7-point stencils) and two columns (uniform: 5 points).
        ("laplacian", lambda f, x, s: jaxgrad.laplacian(f, x, 0.5, accuracy=4, halo=s), {"collective-permute": (4, 2 * (3 * 24 + 2 * 16) * 4)}),
    ],
)
def test_halo_path_compiles_to_neighbour_permutes_of_halo_bytes_only(grid, name, fn, want):
    _, sharding, _, fs, x = grid
    assert collectives(lambda f: fn(f, x, sharding), fs) == want


def test_the_partitioner_path_moves_more_for_contrast(grid):
    _, _, _, fs, x = grid
    found = collectives(lambda f: jaxgrad.gradient(f, x, 0.5, edge_order=2, halo=False), fs)
    assert "all-to-all" in found, found


THETA = np.sort(np.random.default_rng(2).uniform(0.0, 2 * np.pi, 64)).astype(np.float32)


@pytest.mark.parametrize(
    "fn",
    [
        lambda f: jaxgrad.derivative(f, 0.1, axis=0, order=2, accuracy=4, boundary="periodic"),
        lambda f: jaxgrad.derivative(f, THETA, axis=0, boundary="periodic", period=2 * np.pi),
        lambda f: jaxgrad.laplacian(f, 0.1, 0.2, boundary=("one-sided", "periodic")),
    ],
    ids=["uniform", "coordinates", "axis 1"],
)
def test_periodic_axes_wrap_across_the_first_and_last_shard(grid, fn):
    _, _, f, fs, _ = grid
    assert uses_halo_path(fn, fs)[0]
    close(fn(fs), fn(f))


def test_inside_jit_under_grad(grid):
    # Automatic axes inside a user's jit: the sharding is given with halo=.
    _, sharding, f, fs, x = grid
    loss = lambda f, x, halo=sharding: jnp.sum(jnp.sin(jaxgrad.gradient(f, x, 0.5, edge_order=2, halo=halo)[0]))
    step = jax.jit(jax.grad(loss, argnums=(0, 1)))
    assert uses_halo_path(step, fs, x)[0]
    got = step(fs, x)
    assert got[0].sharding.spec == P("i", "j"), got[0].sharding
    want = jax.jit(jax.grad(functools.partial(loss, halo=True), argnums=(0, 1)))(f, x)  # one compilation, not one per op
    close(got[0], want[0])
    close(got[1], want[1], tol=1e-4)


def test_inside_jit_under_jvp_and_vmap(grid):
    mesh, sharding, f, fs, x = grid
    tangent = np.random.default_rng(3).standard_normal(f.shape).astype(np.float32)
    jvp = jax.jit(lambda f, t: jax.jvp(lambda f: jaxgrad.derivative(f, x, axis=0, accuracy=4, halo=sharding), (f,), (t,)))
    close(jvp(fs, tangent)[1], jaxgrad.derivative(tangent, x, axis=0, accuracy=4))
    batch = jax.device_put(np.stack([f, 2 * f]), NamedSharding(mesh, P(None, "i", "j")))
    fn = jax.vmap(lambda f: jaxgrad.derivative(f, 0.5, axis=0, accuracy=4, halo=NamedSharding(mesh, P("i", "j"))))
    close(jax.jit(fn)(batch), np.stack([jaxgrad.derivative(g, 0.5, axis=0, accuracy=4) for g in (f, 2 * f)]))


def test_nan_stays_local_across_shard_boundaries(grid):
    # Row 16 starts the second shard along axis 0.
    _, sharding, f, _, _ = grid
    g = f.copy()
    g[16, 5] = np.nan
    out = np.asarray(jaxgrad.derivative(jax.device_put(g, sharding), 0.5, axis=0, accuracy=4))
    bad = {tuple(b) for b in np.argwhere(np.isnan(out))}
    # Rows 14..18 of column 5, but not 16 itself: the central weight of a first derivative is 0.
    assert bad == {(14, 5), (15, 5), (17, 5), (18, 5)}, bad


# Every kind of stencil through the halo path: orders, accuracies, steps and coordinates, one-sided
# and periodic, along both mesh axes (shards of 24 rows and 24 columns); 12 of the 72, fixed seed.
_KINDS = [(a, o, acc, uniform, b) for a in (0, 1) for o in (1, 2, 3) for acc in (2, 4, 6)
          for uniform in (True, False) for b in ("one-sided", "periodic")]
PICKED = [_KINDS[i] for i in np.random.default_rng(4).choice(len(_KINDS), 12, replace=False)]
_MODES = [(a, m, u, sch) for a in (0, 1) for m in ("reflect", "mirror", "nearest", "constant") for u in (True, False)
          for sch in ("central", "backward")]
PICKED_MODES = [_MODES[i] for i in np.random.default_rng(6).choice(len(_MODES), 6, replace=False)]


@pytest.fixture(scope="module")
def big(grid):
    rng = np.random.default_rng(5)
    big = rng.standard_normal((96, 48)).astype(np.float32)
    coords = {0: np.cumsum(rng.uniform(0.5, 1.5, 96)), 1: np.cumsum(rng.uniform(0.5, 1.5, 48))}
    return big, jax.device_put(big, grid[1]), coords


@pytest.fixture(scope="module")
def through_the_halo_path(grid, big):
    """Every case of the two tests below, all in one program on the sharded field (given with
    halo=, as inside a user's jit: the same exchange as for a concrete sharded array) and all in
    another on one device: two compilations instead of two per case. Steps, periods and cval are
    traced arguments, as in a call outside jit; coordinates are constants that XLA folds into their
    weights (the stencils see traced weights either way). {case: (took the halo path, values,
    one-device values)}."""
    f, fs, coords = big
    cases = {}  # case: (options, traced options)
    for axis, order, accuracy, uniform, boundary in PICKED:
        options = {"axis": axis, "order": order, "accuracy": accuracy, "boundary": boundary}
        if uniform:
            cases["kind", axis, order, accuracy, uniform, boundary] = (options, {"spacing": 0.7})
        else:
            period = {"period": float(coords[axis][-1] + 1.0)} if boundary == "periodic" else {}
            cases["kind", axis, order, accuracy, uniform, boundary] = (
                {**options, "spacing": coords[axis].astype(np.float32)}, period)
    for axis, mode, uniform, scheme in PICKED_MODES:
        options = {"axis": axis, "order": 2, "accuracy": 3 if scheme != "central" else 4, "boundary": mode, "scheme": scheme}
        cval = {"cval": -2.5 if mode == "constant" else 0.0}
        cases["mode", axis, mode, uniform, scheme] = (
            (options, {"spacing": 0.7, **cval}) if uniform else ({**options, "spacing": coords[axis].astype(np.float32)}, cval))
    keys, taken = list(cases), {}

    def run(f, traced, halo):
        outs = []
        for key, values in zip(keys, traced):
            with halo_calls() as calls:
                outs.append(jaxgrad.derivative(f, **cases[key][0], **values, halo=halo))
            taken[key] = any(calls)
        return outs

    traced = [cases[key][1] for key in keys]
    want = jax.jit(functools.partial(run, halo=True))(f, traced)
    taken.clear()  # the sharded program's, traced next
    got = jax.jit(functools.partial(run, halo=grid[1]))(fs, traced)
    return {key: (taken[key], np.asarray(g), np.asarray(w)) for key, g, w in zip(keys, got, want)}


@pytest.mark.parametrize("axis, order, accuracy, uniform, boundary", PICKED,
                         ids=[f"axis{a}-order{o}-acc{p}-{'step' if u else 'coords'}-{b}" for a, o, p, u, b in PICKED])
def test_every_stencil_kind_through_the_halo_path(through_the_halo_path, axis, order, accuracy, uniform, boundary):
    taken, got, want = through_the_halo_path["kind", axis, order, accuracy, uniform, boundary]
    assert taken
    assert np.max(np.abs(got - want)) / (1.0 + np.max(np.abs(want))) < 2e-5


@pytest.mark.parametrize("axis, mode, uniform, scheme", PICKED_MODES,
                         ids=[f"axis{a}-{m}-{'step' if u else 'coords'}-{s}" for a, m, u, s in PICKED_MODES])
def test_padding_modes_and_schemes_through_the_halo_path(through_the_halo_path, axis, mode, uniform, scheme):
    # The ghost samples live in the first and last shards' edge rows; cval is a traced argument.
    taken, got, want = through_the_halo_path["mode", axis, mode, uniform, scheme]
    assert taken
    assert np.max(np.abs(got - want)) / (1.0 + np.max(np.abs(want))) < 2e-5


def test_shards_shorter_than_the_edge_window_fall_back_to_the_partitioner(grid):
    # 8 rows per shard, 9-point one-sided edges. A uniform step: the windows decide, not the weights
    # (coordinates compile 2.5x slower here; they take this path in test_matches_one_device_and_keeps_the_sharding).
    _, _, f, _, _ = grid
    fine = jax.device_put(f, NamedSharding(jax.make_mesh((8,), ("k",), axis_types=(AxisType.Auto,)), P("k")))
    fn = lambda f: jaxgrad.derivative(f, 0.5, axis=0, accuracy=8)
    assert not uses_halo_path(fn, fine)[0]
    close(fn(fine), fn(f))


def test_a_hint_that_cannot_apply_is_ignored():
    # 30 rows over 8 devices: not an error, the partitioner's path.
    odd = np.random.default_rng(6).standard_normal((30, 5)).astype(np.float32)
    hint = NamedSharding(jax.make_mesh((8,), ("k",), axis_types=(AxisType.Auto,)), P("k"))
    taken, out = uses_halo_path(jax.jit(lambda f: jaxgrad.gradient(f, axis=0, halo=hint)), odd)
    assert not taken
    close(out, np.gradient(odd, axis=0))


def test_layout_of_split_arrays():
    mesh = jax.make_mesh((4, 2), ("i", "j"), axis_types=(AxisType.Auto,) * 2)
    f = jax.device_put(np.ones((8, 6), np.float32), NamedSharding(mesh, P("i", None)))
    layout = _halo.layout_of(f, True, None, None)
    assert layout == _halo.Layout(mesh, ("i", None)) and layout.names(0, 2) == ("i",) and layout.names(1, 2) == ()
    assert _halo.layout_of(f, False, None, None) is None
    # A vector field split only along its component axis: no spatial axis is split.
    field = jax.device_put(np.ones((4, 8, 6), np.float32), NamedSharding(mesh, P("i", None, None)))
    assert _halo.layout_of(field, True, None, 2) is None
    # Traced inside a user's jit the sharding is invisible: the hint gives it.
    hint = NamedSharding(mesh, P(None, "j"))
    found = []
    jax.jit(lambda g: found.append(_halo.layout_of(g, hint, None, None)) or g)(f)
    assert found == [_halo.Layout(mesh, (None, "j"))]
