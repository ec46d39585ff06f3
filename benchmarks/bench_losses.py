"""Loss functions built on jaxgrad, against the same losses written by hand in jax.numpy, torch
autograd and roofline kernels: the forward loss ``jax.jit(loss)(f)`` and its gradient
``jax.jit(jax.grad(loss))(f)``, on a 2-D 4096^2 and a 3-D 256^3 float32 field.

Workloads (per shape):

* gradient energy ``sum(jnp.sum(g**2) for g in gradient(f))``, all axes and the last axis only,
  against the same with ``jax.numpy.gradient``;
* ``total_variation(f, eps=1e-3)``, isotropic and anisotropic, and ``smoothness(f, order=1 | 2)``,
  against hand-written ``jnp.diff`` losses with jaxgrad's boundary scheme (forward differences
  padded with zeros at the end of each axis, mean over all points): checked equal to jaxgrad's,
  value and gradient, at startup;
* a physics residual ``mean((laplacian(u, h, ..) - s)**2)``, differentiated with respect to ``u``,
  against a hand-written 5-point (2-D) / 7-point (3-D) Laplacian from slices that covers the
  INTERIOR ONLY (``u[1:-1, 1:-1]``, residual against ``s[1:-1, 1:-1]``), whereas jaxgrad also
  computes the one-sided second-order edge rows: the hand-written loss does less work;
* ``sum(derivative(f, h, axis=a, accuracy=4)**2)`` along the first and the last axis, against a
  hand-written 5-point stencil from slices, interior only (jaxgrad adds one-sided edge rows);
* a fusion probe: ``sum(d**2)`` of a sliced difference ``d`` in one program, against the same with
  ``d`` materialized first (an extra output of the program, or a separate program);
* rooflines, per shape: read-once ``jnp.sum(f * f)`` (what a forward loss must read) and
  read-write ``f * 2`` (a gradient reads ``f`` and writes one array), both jitted; for the
  two-input residual ``jnp.sum(u * s)`` and ``u * 2 - s``.

Torch rows (autograd; ``torch.set_num_threads(2)``) where the loss is expressible: torch.gradient,
torch.diff, and slices for the Laplacian and the 5-point stencil; forward rows run without autograd,
grad rows run the forward and the backward pass. On a GPU, JAX runs on its default backend, torch
on CUDA (synchronized before each timer stops), and the cache flush is a device-side 256 MiB write.

Per table: min and median time per call, minor page faults per call, ratio to jaxgrad; each
table's implementations interleaved in a shuffled order per round, caches flushed before every
timed call (see ``_timing.py``). Also the kernels XLA compiled for each JAX row (top-level ops of
the optimized program) and the first call's time (compile included). A summary at the end gives
jaxgrad / reference, jaxgrad / roofline and torch / jaxgrad per workload and mode. Not a test:
nothing here fails, except the startup check that the hand-written losses are jaxgrad's.

Run:  python benchmarks/bench_losses.py [--quick] [--rounds N] [--only PATTERN] [--json PATH] [--sizes N2 N3]
"""

from __future__ import annotations

import argparse
import collections
import functools
import json
import os
import re
import subprocess
import time

import jax
import jax.numpy as jnp
import numpy as np

import jaxgrad
from _timing import environment, measure, report

try:
    import torch
except ImportError:  # optional: its rows are left out
    torch = None

EPS = 1e-3  # total variation's smoothing
H = 0.01  # grid step of the Laplacian and derivative workloads
TORCH = "torch autograd (2 threads)"
READ_ONCE, READ_WRITE = "roofline: read once, jnp.sum(f * f)", "roofline: read + write, f * 2"
READ_ONCE_2, READ_WRITE_2 = "roofline: read u, s once, jnp.sum(u * s)", "roofline: read u, s + write, u * 2 - s"


# ---------------------------------------------------------------------------------------------
# Hand-written losses in jax.numpy (and torch), with jaxgrad's boundary scheme


def _pad_end(d, axis: int, n: int):
    """``d`` padded with ``n`` zeros at the end of ``axis``."""
    widths = [(0, 0)] * d.ndim
    widths[axis] = (0, n)
    return jnp.pad(d, widths)


def _as_list(grads):
    return list(grads) if isinstance(grads, (tuple, list)) else [grads]


def energy(gradient_fn, axis=None):
    """``sum_a sum(g_a**2)`` for the gradient's components."""
    return lambda f: sum(jnp.sum(g**2) for g in _as_list(gradient_fn(f, axis=axis)))


def tv_hand(f, eps: float = EPS, isotropic: bool = True):
    d = [_pad_end(jnp.diff(f, axis=a), a, 1) for a in range(f.ndim)]
    if isotropic:
        return jnp.mean(jnp.sqrt(sum(x * x for x in d) + eps**2))
    return jnp.mean(sum(jnp.sqrt(x * x + eps**2) for x in d))


def smoothness_hand(f, order: int):
    return jnp.mean(sum(_pad_end(jnp.diff(f, n=order, axis=a), a, order) ** 2 for a in range(f.ndim)))


def smoothness_unpadded(f, order: int):
    """The same value without the padding: sum of squares over the differences, divided by the
    number of points (what a user who knows the zeros contribute nothing would write)."""
    return sum(jnp.sum(jnp.diff(f, n=order, axis=a) ** 2) for a in range(f.ndim)) / f.size


def _shifted(ndim: int, axis: int, shift: int, width: int = 1):
    """Index of the interior (``width`` points off each end) moved by ``shift`` along ``axis``."""
    return tuple(slice(width + shift * (a == axis), -width + shift * (a == axis) or None) for a in range(ndim))


def laplacian_hand(u, h: float = H):
    """The 5-point (2-D) / 7-point (3-D) Laplacian on the interior only."""
    inner = _shifted(u.ndim, 0, 0)
    return (sum(u[_shifted(u.ndim, a, 1)] + u[_shifted(u.ndim, a, -1)] for a in range(u.ndim))
            - 2 * u.ndim * u[inner]) / h**2


def residual_hand(u, s):
    return jnp.mean((laplacian_hand(u) - s[_shifted(u.ndim, 0, 0)]) ** 2)


def residual_jaxgrad(u, s):
    return jnp.mean((jaxgrad.laplacian(u, *[H] * u.ndim) - s) ** 2)


def residual_per_axis(u, s):
    """The same residual with the Laplacian as ``derivative(order=2)`` summed over the axes (one
    pass per axis: how ``laplacian`` ran before its one-pass form)."""
    lap = sum(jaxgrad.derivative(u, H, axis=a, order=2) for a in range(u.ndim))
    return jnp.mean((lap - s) ** 2)


def derivative4_hand(f, axis: int, h: float = H):
    """Fourth-order central first derivative, interior points only (2 off each end of ``axis``)."""
    n, axis = f.shape[axis], axis % f.ndim
    at = lambda k: tuple(slice(k, n - 4 + k) if a == axis else slice(None) for a in range(f.ndim))
    return (f[at(0)] - 8 * f[at(1)] + 8 * f[at(3)] - f[at(4)]) / (12 * h)


def torch_losses():
    """The torch analogues (same formulas), or {} without torch."""
    if torch is None:
        return {}
    F = torch.nn.functional

    def pad_end(d, axis, n):
        return F.pad(d, [0, 0] * (d.ndim - 1 - axis) + [0, n])

    def energy_t(f, axis=None):
        grads = torch.gradient(f) if axis is None else torch.gradient(f, dim=axis)
        return sum(torch.sum(g**2) for g in grads)

    def tv_t(f, isotropic):
        d = [pad_end(torch.diff(f, dim=a), a, 1) for a in range(f.ndim)]
        if isotropic:
            return torch.mean(torch.sqrt(sum(x * x for x in d) + EPS**2))
        return torch.mean(sum(torch.sqrt(x * x + EPS**2) for x in d))

    def smooth_t(f, order):
        return torch.mean(sum(pad_end(torch.diff(f, n=order, dim=a), a, order) ** 2 for a in range(f.ndim)))

    def residual_t(u, s):
        lap = (sum(u[_shifted(u.ndim, a, 1)] + u[_shifted(u.ndim, a, -1)] for a in range(u.ndim))
               - 2 * u.ndim * u[_shifted(u.ndim, 0, 0)]) / H**2
        return torch.mean((lap - s[_shifted(u.ndim, 0, 0)]) ** 2)

    def deriv_t(f, axis):
        n, axis = f.shape[axis], axis % f.ndim
        at = lambda k: tuple(slice(k, n - 4 + k) if a == axis else slice(None) for a in range(f.ndim))
        return torch.sum(((f[at(0)] - 8 * f[at(1)] + 8 * f[at(3)] - f[at(4)]) / (12 * H)) ** 2)

    return {"energy": energy_t, "tv": tv_t, "smooth": smooth_t, "residual": residual_t, "deriv": deriv_t}


# ---------------------------------------------------------------------------------------------
# Workloads


def workload_list(ndim: int):
    """``(name, jaxgrad loss, reference name, reference loss, extra rows, torch loss, inputs)``;
    ``inputs`` is 1 (the field f) or 2 (u and s, differentiated with respect to u)."""
    tl = torch_losses()
    t = lambda key, **kw: (lambda *x: tl[key](*x, **kw)) if tl else None
    last = ndim - 1
    return [
        ("gradient energy, all axes", energy(jaxgrad.gradient), "jax.numpy.gradient", energy(jnp.gradient), {},
         t("energy"), 1),
        ("gradient energy, last axis", energy(jaxgrad.gradient, -1), "jax.numpy.gradient", energy(jnp.gradient, -1),
         {}, t("energy", axis=-1), 1),
        ("total variation, isotropic", lambda f: jaxgrad.total_variation(f, eps=EPS), "hand-written jnp.diff",
         lambda f: tv_hand(f, EPS, True), {}, t("tv", isotropic=True), 1),
        ("total variation, anisotropic", lambda f: jaxgrad.total_variation(f, eps=EPS, isotropic=False),
         "hand-written jnp.diff", lambda f: tv_hand(f, EPS, False), {}, t("tv", isotropic=False), 1),
        ("smoothness, order 1", lambda f: jaxgrad.smoothness(f, order=1), "hand-written jnp.diff",
         lambda f: smoothness_hand(f, 1), {"hand-written jnp.diff, unpadded (sum / size)": lambda f: smoothness_unpadded(f, 1)},
         t("smooth", order=1), 1),
        ("smoothness, order 2", lambda f: jaxgrad.smoothness(f, order=2), "hand-written jnp.diff",
         lambda f: smoothness_hand(f, 2), {"hand-written jnp.diff, unpadded (sum / size)": lambda f: smoothness_unpadded(f, 2)},
         t("smooth", order=2), 1),
        ("laplacian residual", residual_jaxgrad, f"hand-written {2 * ndim + 1}-point, interior only", residual_hand,
         {"jaxgrad.derivative(order=2) summed over the axes": residual_per_axis},
         t("residual"), 2),
        ("derivative accuracy 4, axis 0", lambda f: jnp.sum(jaxgrad.derivative(f, H, axis=0, accuracy=4) ** 2),
         "hand-written 5-point, interior only", lambda f: jnp.sum(derivative4_hand(f, 0) ** 2), {}, t("deriv", axis=0), 1),
        (f"derivative accuracy 4, axis {last}",
         lambda f: jnp.sum(jaxgrad.derivative(f, H, axis=last, accuracy=4) ** 2),
         "hand-written 5-point, interior only", lambda f: jnp.sum(derivative4_hand(f, last) ** 2), {},
         t("deriv", axis=last), 1),
    ]


def smooth_field(shape, seed: int) -> np.ndarray:
    """A sum of sines of random wave vectors and phases, plus a little noise; float32. Built by one
    jitted program on JAX's default device (seconds for a 16384^2 field on a GPU or 2 CPU cores)."""
    rng = np.random.default_rng(seed)
    k = rng.uniform(1.0, 12.0, (4, len(shape))) * 2 * np.pi
    amplitude, phase = rng.uniform(0.5, 1.0, 4), rng.uniform(0, 2 * np.pi, 4)
    return np.array(_field(tuple(shape), k, amplitude, phase, jax.random.key(seed)))  # a writable copy


@functools.partial(jax.jit, static_argnums=0)
def _field(shape, k, amplitude, phase, key):
    grids = [jnp.reshape(jnp.linspace(0.0, 1.0, n, dtype=jnp.float32), [-1 if b == a else 1 for b in range(len(shape))])
             for a, n in enumerate(shape)]
    out = 0.01 * jax.random.normal(key, shape, jnp.float32)
    for t in range(4):
        out = out + amplitude[t] * jnp.sin(sum(k[t, a] * grids[a] for a in range(len(shape))) + phase[t])
    return out.astype(jnp.float32)


def torch_device():
    return "cuda" if torch is not None and torch.cuda.is_available() else "cpu"


def torch_impl(loss, arrays, grad: bool):
    """A callable running ``loss`` in torch: forward without autograd, or forward + backward."""
    dev = torch_device()
    xs = [torch.from_numpy(a).to(dev) for a in arrays]
    if not grad:
        def forward():
            with torch.no_grad():
                return loss(*xs)
        return forward

    def backward():
        x0 = xs[0].detach().requires_grad_(True)
        return torch.autograd.grad(loss(x0, *xs[1:]), x0)[0]
    return backward


_INSTRUCTION = re.compile(r"\s*(?:ROOT )?%([\w\-]+?)(?:\.\d+)? = .*?\b([\w\-]+)\(")
_TRIVIAL = ("parameter", "constant", "tuple", "get-tuple-element", "bitcast")


def kernels(jitted, *args) -> str:
    """The top-level operations of XLA's optimized program, by kind, each with the number of HLO
    operations it evaluates per element (a fused computation's non-trivial instructions): each is
    a kernel launch (a fusion, a copy, a library call) reading and writing memory.
    "wrapped_slice" are materialized slices, "ynn_fusion" XLA:CPU's YNNPACK library fusions
    (reductions among them), other "*_fusion" XLA's own loop fusions."""
    text = jitted.lower(*args).compile().as_text()
    sizes, name, count = {}, None, 0
    for line in text.splitlines():  # the size of every computation
        if line.startswith(("%", "ENTRY")):
            name, count = line.split()[1 if line.startswith("ENTRY") else 0].lstrip("%"), 0
        elif line.startswith("}") and name is not None:
            sizes[name], name = count, None
        elif name is not None:
            match = _INSTRUCTION.match(line)
            count += match is not None and match.group(2) not in _TRIVIAL
    entry = text[text.index("\nENTRY"):].split("\n}")[0].splitlines()[1:]
    found = collections.defaultdict(list)
    for line in entry:
        match = _INSTRUCTION.match(line)
        if match is None or match.group(2) in _TRIVIAL:
            continue
        kernel, op = match.groups()
        called = re.search(r"calls=%([\w.\-]+)", line)
        found[kernel if op in ("fusion", "custom-call") else op].append(sizes.get(called.group(1), 0) if called else 1)
    return ", ".join(f"{k}{f' x{len(ops)}' if len(ops) > 1 else ''} ({'+'.join(map(str, ops))} ops)"
                     for k, ops in sorted(found.items()))


def loss_tables(quick: bool, sizes: tuple[int, int] | None = None):
    """``(title, impls, base name, roofline name, reference name, kernels)`` per shape, workload, mode."""
    n2, n3 = sizes or ((512, 64) if quick else (4096, 256))
    shapes = ((n2, n2), (n3, n3, n3))
    for ndim, shape in zip((2, 3), shapes):
        label = f"{ndim}-D {shape[0]}^{ndim}"
        f = smooth_field(shape, 0)
        s = smooth_field(shape, 1)
        fj, sj = jnp.asarray(f), jnp.asarray(s)
        roof = {
            READ_ONCE: jax.jit(lambda f: jnp.sum(f * f)), READ_WRITE: jax.jit(lambda f: f * 2),
            READ_ONCE_2: jax.jit(lambda u, s: jnp.sum(u * s)), READ_WRITE_2: jax.jit(lambda u, s: u * 2 - s),
        }
        for name, ours, ref_name, ref, extra, torch_loss, n_in in workload_list(ndim):
            args, arrays = ((fj,), (f,)) if n_in == 1 else ((fj, sj), (f, s))
            for mode in ("forward", "grad"):
                wrap = (lambda fn: jax.jit(fn)) if mode == "forward" else (lambda fn: jax.jit(jax.grad(fn)))
                jitted = {"jaxgrad": wrap(ours), ref_name: wrap(ref), **{k: wrap(v) for k, v in extra.items()}}
                roof_name = (READ_ONCE if mode == "forward" else READ_WRITE) if n_in == 1 else (
                    READ_ONCE_2 if mode == "forward" else READ_WRITE_2)
                jitted[roof_name] = roof[roof_name]
                impls = {k: functools.partial(fn, *args) for k, fn in jitted.items()}
                if torch_loss is not None:
                    impls[TORCH] = torch_impl(torch_loss, arrays, mode == "grad")
                title = f"{label} | {name} | {mode}"
                yield title, impls, "jaxgrad", roof_name, ref_name, lambda j=jitted, a=args: {
                    k: kernels(fn, *a) for k, fn in j.items()}
        yield from fusion_tables(label, f, fj, ndim)


def fusion_tables(label: str, f: np.ndarray, fj, ndim: int):
    """Does XLA fuse a reduction into its sliced producers? ``sum(d**2)`` of a difference ``d`` in
    one program, against ``d`` materialized first: as a second output of the same program, or by a
    separate program whose result the reduction reads. For jnp.diff, jaxgrad.gradient and
    jax.numpy.gradient, along the first and the last axis."""
    sum_sq = jax.jit(lambda g: jnp.sum(g * g))
    for axis in (0, ndim - 1):
        producers = {
            "jnp.diff": lambda f, a=axis: jnp.diff(f, axis=a),
            "jaxgrad.gradient": lambda f, a=axis: jaxgrad.gradient(f, axis=a),
            "jax.numpy.gradient": lambda f, a=axis: jnp.gradient(f, axis=a),
        }
        jitted = {}
        for pname, produce in producers.items():
            jitted[f"sum({pname}**2), one program"] = jax.jit(lambda f, p=produce: jnp.sum(p(f) ** 2))
            jitted[f"sum({pname}**2), d also returned"] = jax.jit(lambda f, p=produce: (jnp.sum(p(f) ** 2), p(f)))
            jitted[f"{pname} alone (d materialized)"] = jax.jit(produce)
        jitted[READ_ONCE] = jax.jit(lambda f: jnp.sum(f * f))
        jitted[READ_WRITE] = jax.jit(lambda f: f * 2)
        impls = {k: functools.partial(fn, fj) for k, fn in jitted.items()}
        for pname in producers:
            alone = jitted[f"{pname} alone (d materialized)"]
            impls[f"sum({pname}**2), two programs"] = lambda alone=alone: sum_sq(alone(fj))
        title = f"{label} | fusion probe, axis {axis} | forward"
        yield title, impls, "sum(jnp.diff**2), one program", READ_ONCE, None, lambda j=jitted: {
            k: kernels(fn, fj) for k, fn in j.items()}


# ---------------------------------------------------------------------------------------------
# Startup check: the hand-written losses are jaxgrad's


def check_equivalence() -> list[str]:
    """Hand-written losses against jaxgrad's (value and gradient), hand-written stencils against
    jaxgrad's interior, torch against the hand-written jax.numpy losses, on small arrays."""
    done = []
    tl = torch_losses()
    for shape in ((13, 17), (7, 9, 11)):
        f = jnp.asarray(smooth_field(shape, 2))
        pairs = {
            "total variation, isotropic": (lambda f: jaxgrad.total_variation(f, eps=EPS), lambda f: tv_hand(f, EPS, True)),
            "total variation, anisotropic": (lambda f: jaxgrad.total_variation(f, eps=EPS, isotropic=False),
                                             lambda f: tv_hand(f, EPS, False)),
            "smoothness, order 1": (lambda f: jaxgrad.smoothness(f, order=1), lambda f: smoothness_hand(f, 1)),
            "smoothness, order 2": (lambda f: jaxgrad.smoothness(f, order=2), lambda f: smoothness_hand(f, 2)),
            "smoothness, order 1, unpadded": (lambda f: jaxgrad.smoothness(f, order=1), lambda f: smoothness_unpadded(f, 1)),
            "smoothness, order 2, unpadded": (lambda f: jaxgrad.smoothness(f, order=2), lambda f: smoothness_unpadded(f, 2)),
            "gradient energy": (energy(jaxgrad.gradient), energy(jnp.gradient)),
        }
        for name, (ours, hand) in pairs.items():
            np.testing.assert_allclose(ours(f), hand(f), rtol=2e-5, err_msg=f"{name}, {shape}: value")
            np.testing.assert_allclose(jax.grad(ours)(f), jax.grad(hand)(f), rtol=2e-4, atol=1e-6,
                                       err_msg=f"{name}, {shape}: gradient")
        s = jnp.asarray(smooth_field(shape, 3))
        np.testing.assert_allclose(residual_per_axis(f, s), residual_jaxgrad(f, s), rtol=1e-5,
                                   err_msg=f"laplacian residual per axis, {shape}")
        inner = _shifted(f.ndim, 0, 0)
        np.testing.assert_allclose(jaxgrad.laplacian(f, *[H] * f.ndim)[inner], laplacian_hand(f), rtol=1e-4, atol=1.0,
                                   err_msg=f"laplacian interior, {shape}")
        for axis in (0, f.ndim - 1):
            d = jaxgrad.derivative(f, H, axis=axis, accuracy=4)
            interior = tuple(slice(2, -2) if a == axis else slice(None) for a in range(f.ndim))
            np.testing.assert_allclose(d[interior], derivative4_hand(f, axis), rtol=1e-4, atol=1e-2,
                                       err_msg=f"derivative accuracy 4 interior, axis {axis}, {shape}")
        if tl:
            fn = np.array(f)
            s = smooth_field(shape, 3)
            torch_pairs = {
                "energy": (tl["energy"], energy(jnp.gradient), (fn,)),
                "tv iso": (lambda x: tl["tv"](x, True), lambda x: tv_hand(x, EPS, True), (fn,)),
                "tv aniso": (lambda x: tl["tv"](x, False), lambda x: tv_hand(x, EPS, False), (fn,)),
                "smooth 1": (lambda x: tl["smooth"](x, 1), lambda x: smoothness_hand(x, 1), (fn,)),
                "smooth 2": (lambda x: tl["smooth"](x, 2), lambda x: smoothness_hand(x, 2), (fn,)),
                "residual": (tl["residual"], residual_hand, (fn, s)),
                "deriv": (lambda x: tl["deriv"](x, 0), lambda x: jnp.sum(derivative4_hand(x, 0) ** 2), (fn,)),
            }
            for name, (theirs, hand, arrays) in torch_pairs.items():
                grad = torch_impl(theirs, arrays, True)().cpu().numpy()
                with torch.no_grad():
                    value = float(theirs(*[torch.from_numpy(a) for a in arrays]))
                np.testing.assert_allclose(value, hand(*arrays), rtol=1e-4, err_msg=f"torch {name}, {shape}: value")
                ref = jax.grad(hand)(*arrays)
                np.testing.assert_allclose(grad, ref, rtol=1e-3, atol=1e-4 * float(jnp.max(jnp.abs(ref))),
                                           err_msg=f"torch {name}, {shape}: gradient")
        done.append(f"{len(shape)}-D {shape}")
    return done


# ---------------------------------------------------------------------------------------------


def jaxgrad_source() -> str:
    """Where jaxgrad was imported from, and its git commit when that is a checkout."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(jaxgrad.__file__)))
    try:
        commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--", "jaxgrad"], capture_output=True,
                               text=True, check=True).stdout.strip()
        commit = f"commit {commit}" + (" with uncommitted changes in jaxgrad/" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        commit = "not a git checkout"
    return f"jaxgrad from {os.path.dirname(jaxgrad.__file__)} ({commit})"


def summarize(tables: dict, meta: dict) -> list[dict]:
    rows = []
    for title, res in tables.items():
        base_name, roof_name, ref_name = meta[title]
        if ref_name is None:
            continue
        shape, workload, mode = title.split(" | ")
        ours = res["jaxgrad"][0]
        rows.append({
            "shape": shape, "workload": workload, "mode": mode, "jaxgrad_ms": ours * 1e3, "reference": ref_name,
            "reference_ms": res[ref_name][0] * 1e3, "roofline": roof_name, "roofline_ms": res[roof_name][0] * 1e3,
            "torch_ms": res[TORCH][0] * 1e3 if TORCH in res else None,
            "jaxgrad_over_reference": ours / res[ref_name][0], "jaxgrad_over_roofline": ours / res[roof_name][0],
            "torch_over_jaxgrad": res[TORCH][0] / ours if TORCH in res else None,
        })
    return rows


def print_summary(rows: list[dict]) -> None:
    print("## Summary (min times; ratios of min times)")
    print("jaxgrad / reference: the reference is jax.numpy.gradient (gradient energy) or the hand-written "
          "jax.numpy loss (the Laplacian and accuracy-4 rows: interior only, so they do less work than jaxgrad). "
          "jaxgrad / roofline: forward against read-once, grad against read + write (two-input variants for the "
          "residual).\n")
    print("| shape | workload | mode | jaxgrad ms | reference ms | jaxgrad / reference | roofline ms | "
          "jaxgrad / roofline | torch ms | torch / jaxgrad |\n|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        torch_cols = (f"{r['torch_ms']:.1f} | {r['torch_over_jaxgrad']:.2f}" if r["torch_ms"] is not None else "– | –")
        print(f"| {r['shape']} | {r['workload']} | {r['mode']} | {r['jaxgrad_ms']:.1f} | {r['reference_ms']:.1f} | "
              f"{r['jaxgrad_over_reference']:.2f} | {r['roofline_ms']:.1f} | {r['jaxgrad_over_roofline']:.2f} | "
              f"{torch_cols} |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small fields (512^2, 64^3), 3 rounds: a smoke run")
    parser.add_argument("--rounds", type=int, default=None, help="timed calls per implementation (default 15)")
    parser.add_argument("--only", help="run the tables whose title matches this regular expression "
                                       "(titles: 'SHAPE | WORKLOAD | MODE', e.g. '3-D.*total variation')")
    parser.add_argument("--json", help="also write every table, the kernels and the summary here")
    parser.add_argument("--sizes", type=int, nargs=2, metavar=("N2", "N3"),
                        help="the 2-D field N2^2 and the 3-D field N3^3 (default 4096 256; on a GPU larger "
                             "fields, e.g. 16384 512, keep per-call dispatch out of the times)")
    args = parser.parse_args()
    if args.sizes is not None and min(args.sizes) < 16:
        parser.error(f"--sizes must be at least 16 points per axis, got {args.sizes}")
    rounds = args.rounds or (3 if args.quick else 15)
    only = re.compile(args.only, re.IGNORECASE) if args.only else None
    if torch is not None:
        torch.set_num_threads(2)
    print("\n".join(environment(torch=torch)))
    print(jaxgrad_source())
    print(f"XLA_FLAGS={os.environ.get('XLA_FLAGS', '(none)')}; JAX backend {jax.default_backend()}"
          + (f"; torch on {torch_device()}, {torch.get_num_threads()} threads" if torch is not None else ""))
    load_start = os.getloadavg()
    print(f"load average at start: {load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f}")
    checked = check_equivalence()
    print(f"checked at startup (value and gradient, allclose): hand-written TV, smoothness and gradient energy equal "
          f"jaxgrad's; the hand-written Laplacian and accuracy-4 stencils equal jaxgrad's interior"
          f"{'; torch equals the hand-written jax.numpy losses' if torch is not None else ''}: {', '.join(checked)}")
    print(f"{rounds} rounds, float32; ratio = min time / jaxgrad's min time. The hand-written Laplacian and "
          "accuracy-4 losses cover the interior only; jaxgrad also computes second-order one-sided edge rows.\n")
    tables, meta, compiled, first_calls = {}, {}, {}, {}
    started = time.perf_counter()
    for title, impls, base_name, roof_name, ref_name, kernel_fn in loss_tables(args.quick, args.sizes):
        if only is not None and not only.search(title):
            continue
        first_calls[title] = {}
        tables[title] = measure(impls, rounds, first_call=first_calls[title])
        meta[title] = (base_name, roof_name, ref_name)
        compiled[title] = kernel_fn()
        report(title, tables[title], base_name)
        print("kernels XLA compiled (top-level ops of the optimized program):")
        for name, kinds in compiled[title].items():
            print(f"- {name}: {kinds}")
        print("first call (compile included), s: "
              + ", ".join(f"{name} {t:.2f}" for name, t in first_calls[title].items()) + "\n")
    rows = summarize(tables, meta)
    print_summary(rows)
    load_end = os.getloadavg()
    elapsed = time.perf_counter() - started
    print(f"load average at end: {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f}; {elapsed:.0f} s")
    if args.json:
        with open(args.json, "w") as out:
            json.dump({
                "environment": environment(torch=torch) + [jaxgrad_source()],
                "allocator": os.environ.get("GLIBC_TUNABLES", "default"),
                "xla_flags": os.environ.get("XLA_FLAGS", ""), "backend": jax.default_backend(),
                "rounds": rounds, "load_average": {"start": load_start, "end": load_end}, "seconds": elapsed,
                "checked": checked, "tables": tables, "kernels": compiled, "first_call_s": first_calls,
                "summary": rows,
            }, out, indent=1)


if __name__ == "__main__":
    main()
