"""Time ratios of jaxgrad against jax.numpy.gradient, numpy.gradient, torch.gradient, findiff and
roofline kernels that move the same bytes.

Everything is measured in one process: per round the implementations run in a shuffled order,
and before every timed call a 64 MiB buffer is rewritten so that no input sits in the CPU caches.
Each table gives min and median time per call, the minor page faults per call (first touches of
fresh memory: with glibc's default malloc every output of 32 MiB or more is a fresh mmap), and each
row's ratio to the table's reference row (min over min). Not a test: nothing here fails.

Run:  python benchmarks/bench_gradient.py [--quick] [--rounds N] [--only PATTERN] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import re
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
try:
    import findiff
except ImportError:  # optional: its rows are left out
    findiff = None

def rooflines(f: np.ndarray, n_out: int) -> dict:
    """Kernels that read ``f`` once and write ``n_out`` arrays of its size: the bytes any gradient
    must move. Fresh outputs (as every jitted call returns), donated outputs (XLA writes into the
    previous call's buffers), and numpy writing into preallocated arrays."""
    fj = jnp.asarray(f)
    fresh = jax.jit(lambda f: tuple(f * (i + 1.0) for i in range(n_out)))
    donating = jax.jit(lambda f, *old: tuple(f * (i + 1.0) for i in range(n_out)),
                       donate_argnums=tuple(range(1, n_out + 1)), keep_unused=True)
    state = list(fresh(fj))
    outs = [np.empty_like(f) for _ in range(n_out)]

    def donated():
        state[:] = donating(fj, *state)
        return state

    def numpy_into():
        for i, o in enumerate(outs):
            np.multiply(f, i + 1.0, out=o)

    return {"roofline: jit, fresh outputs": lambda: fresh(fj), "roofline: jit, donated outputs": donated,
            "roofline: numpy into preallocated": numpy_into}


def gradient_table(title: str, f: np.ndarray, varargs=(), axis=None, **kwargs):
    fj = jnp.asarray(f)
    vj = tuple(jnp.asarray(v) for v in varargs)
    n_out = f.ndim if axis is None else 1
    impls = {
        "jaxgrad": lambda: jaxgrad.gradient(fj, *vj, axis=axis, **kwargs),
        "numpy.gradient": lambda: np.gradient(f, *varargs, axis=axis, **kwargs),
        **rooflines(f, n_out),
    }
    if "edge_order" not in kwargs:  # jax.numpy.gradient has no edge_order
        impls["jax.numpy.gradient"] = lambda: jnp.gradient(fj, *vj, axis=axis)
    if n_out == f.ndim:
        donating = jax.jit(lambda f, *old: jaxgrad.gradient(f, *vj, **kwargs),
                           donate_argnums=tuple(range(1, n_out + 1)), keep_unused=True)
        state = list(jaxgrad.gradient(fj, *vj, **kwargs)) if n_out > 1 else [jaxgrad.gradient(fj, *vj, **kwargs)]

        def donated():
            out = donating(fj, *state)
            state[:] = out if isinstance(out, tuple) else [out]
            return state

        impls["jaxgrad in jit, donated outputs"] = donated
    if torch is not None:
        ft = torch.from_numpy(f)
        dims = {} if axis is None else {"dim": axis}
        spacing = {"spacing": [torch.from_numpy(v) for v in varargs]} if varargs else {}
        for threads in (1, 2):
            impls[f"torch.gradient ({threads} thread{'s' * (threads > 1)})"] = (
                lambda n: lambda: (torch.set_num_threads(n), torch.gradient(ft, **spacing, **dims, **kwargs))[1]
            )(threads)
    if findiff is not None and axis is not None and not varargs and not kwargs:
        diff = findiff.Diff(axis, 1.0)  # second-order, like numpy; one-sided edges of its own
        impls["findiff.Diff"] = lambda: diff(f)
    return title, impls, "jaxgrad"


def workloads(quick: bool):
    s1, s2, s3 = (1_000_000, 1024, 64) if quick else (10_000_000, 4096, 256)
    rng = np.random.default_rng(0)
    f1 = rng.standard_normal(s1, dtype=np.float32)
    f2 = rng.standard_normal((s2, s2), dtype=np.float32)
    f3 = rng.standard_normal((s3, s3, s3), dtype=np.float32)
    x2 = np.cumsum(rng.uniform(0.5, 1.5, s2)).astype(np.float32)
    x3 = np.cumsum(rng.uniform(0.5, 1.5, s3)).astype(np.float32)
    yield gradient_table(f"1-D {s1:,}", f1, axis=0)
    yield gradient_table(f"2-D {s2}^2, axis 0", f2, axis=0)
    yield gradient_table(f"2-D {s2}^2, axis 1", f2, axis=1)
    yield gradient_table(f"2-D {s2}^2, all axes", f2)
    yield gradient_table(f"2-D {s2}^2, all axes, float64", f2.astype(np.float64))
    yield gradient_table(f"2-D {s2}^2, coordinates on both axes", f2, (x2, x2))
    yield gradient_table(f"3-D {s3}^3, axis 1", f3, axis=1)
    yield gradient_table(f"3-D {s3}^3, all axes", f3)
    yield gradient_table(f"3-D {s3}^3, all axes, edge_order=2", f3, edge_order=2)
    yield gradient_table(f"3-D {s3}^3, coordinates on every axis", f3, (x3, x3, x3))
    yield derivative_table(f3, s3)
    yield from extra_tables(quick, rng)


def derivative_table(f3: np.ndarray, s3: int):
    """derivative at accuracy 2, 4 and 8 against gradient(edge_order=2), along each axis of a 3-D array."""
    fj = jnp.asarray(f3)
    impls = {"jaxgrad.gradient(edge_order=2), 3 axes": lambda: jaxgrad.gradient(fj, edge_order=2)}
    for acc in (2, 4, 8):
        impls[f"jaxgrad.derivative(accuracy={acc}), 3 axes"] = (
            lambda accuracy: lambda: tuple(jaxgrad.derivative(fj, axis=a, accuracy=accuracy) for a in range(3))
        )(acc)
    if findiff is not None:
        diffs = [findiff.Diff(a, 1.0, acc=4) for a in range(3)]
        impls["findiff.Diff(acc=4), 3 axes"] = lambda: [d(f3) for d in diffs]
    impls.update(rooflines(f3, 3))
    return f"3-D {s3}^3, derivative accuracy 2/4/8", impls, "jaxgrad.gradient(edge_order=2), 3 axes"


def extra_tables(quick: bool, rng):
    """Reverse mode, batches under vmap, and per-call dispatch on a small array."""
    s2 = 1024 if quick else 4096
    f2 = rng.standard_normal((s2, s2), dtype=np.float32)
    f2j = jnp.asarray(f2)
    energy = lambda grad_fn: jax.jit(jax.grad(lambda f: jnp.sum(grad_fn(f) ** 2)))
    yield f"reverse mode: grad of sum(gradient(f, axis=0)**2), 2-D {s2}^2", {
        "jaxgrad": (lambda g: lambda: g(f2j))(energy(lambda f: jaxgrad.gradient(f, axis=0))),
        "jax.numpy.gradient": (lambda g: lambda: g(f2j))(energy(lambda f: jnp.gradient(f, axis=0))),
        **rooflines(f2, 1),
    }, "jaxgrad"

    batch, length = (128, 4096) if quick else (1024, 4096)
    xs = np.cumsum(rng.uniform(0.5, 1.5, (batch, length)), axis=1).astype(np.float32)
    fs = np.sin(xs)
    xj, fj = jnp.asarray(xs), jnp.asarray(fs)
    yield f"vmap over {batch} signals of {length}, each with its own coordinates", {
        "jaxgrad": (lambda g: lambda: g(fj, xj))(jax.jit(jax.vmap(lambda f, x: jaxgrad.gradient(f, x)))),
        "jax.numpy.gradient": (lambda g: lambda: g(fj, xj))(jax.jit(jax.vmap(lambda f, x: jnp.gradient(f, x)))),
        "numpy.gradient (loop)": lambda: [np.gradient(fs[i], xs[i]) for i in range(batch)],
    }, "jaxgrad"

    small = rng.standard_normal(1000, dtype=np.float32)
    small_j = jnp.asarray(small)
    yield "dispatch: 1-D 1,000 points, one call", {
        "jaxgrad": lambda: jaxgrad.gradient(small_j),
        "jaxgrad, step 0.1": lambda: jaxgrad.gradient(small_j, 0.1),
        "jaxgrad.derivative(accuracy=4)": lambda: jaxgrad.derivative(small_j, 0.1, accuracy=4),
        "jax.numpy.gradient": lambda: jnp.gradient(small_j),
        "numpy.gradient": lambda: np.gradient(small),
        **({"torch.gradient": (lambda t: lambda: torch.gradient(t))(torch.from_numpy(small))} if torch else {}),
    }, "jaxgrad"


def compile_times(quick: bool) -> dict[str, float]:
    """Seconds to trace and compile the gradient of a 3-D array, all axes (cold caches: a shape
    no other row compiled), for jaxgrad at both edge orders and for jax.numpy.gradient."""
    s3 = 64 if quick else 256
    f = jax.ShapeDtypeStruct((s3, s3, s3 + 1), jnp.float32)
    compilers = {  # through the public API (the internals are free to change)
        "jaxgrad, edge_order=2": lambda: jax.jit(lambda f: jaxgrad.gradient(f, edge_order=2)).lower(f).compile(),
        "jaxgrad, edge_order=1": lambda: jax.jit(lambda f: jaxgrad.gradient(f, edge_order=1)).lower(f).compile(),
        "jax.numpy.gradient": lambda: jax.jit(lambda f: jnp.gradient(f)).lower(f).compile(),
    }
    times = {}
    for name, compile_now in compilers.items():
        t0 = time.perf_counter()
        compile_now()
        times[name] = time.perf_counter() - t0
    return times


def _pattern(text: str) -> re.Pattern:
    try:
        return re.compile(text)
    except re.error as error:
        raise argparse.ArgumentTypeError(f"not a regular expression: {text!r} ({error})") from None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small arrays, few rounds (a smoke run)")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--json", help="also write the tables here (docs/make_figures.py plots them)")
    parser.add_argument("--only", type=_pattern, metavar="PATTERN",
                        help="run the tables whose title matches this regular expression (and no compile times)")
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.quick else 10)
    print("\n".join(environment(torch=torch, findiff=findiff)))
    print(f"{rounds} rounds, float32 unless noted; ratio = min time / the min time of the table's reference row\n")
    tables = {}
    for title, impls, base_name in workloads(args.quick):
        if args.only and not args.only.search(title):
            continue
        dispatch = title.startswith("dispatch")
        tables[title] = measure(impls, 1000 if dispatch else rounds, flush=not dispatch)
        report(title, tables[title], base_name)
    if not tables:
        parser.error(f"--only {args.only.pattern!r} matches no table title")
    compile_ms = {} if args.only else {name: t * 1e3 for name, t in compile_times(args.quick).items()}
    if compile_ms:
        print("compile time, gradient of a 3-D array, all axes: " + ", ".join(f"{k} {v:.0f} ms" for k, v in compile_ms.items()))
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"allocator": os.environ.get("GLIBC_TUNABLES", "default"), "compile_ms": compile_ms, "tables": tables}, out, indent=1)


if __name__ == "__main__":
    main()
