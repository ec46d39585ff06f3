"""jaxgrad's formulation choices, each timed both ways on the backend at hand, inside the loss
workloads of ``bench_losses.py`` (forward and ``jax.grad``): the evidence for which formulation
each backend gets.

Choices (each switched off by replacing one internal function while the loss is traced; the
values are the same either way):

* ``reverse formulation``: reverse mode of a stencil by its transposed plan (XLA:CPU's choice) or
  by JAX's own transpose of the slices (other backends'; ``_apply.stencil_tangent``); off: the
  other one.
* ``edge contraction``: a major axis's one-sided edge rows from one small contraction of the
  edge window (``_apply.edge_terms``); off: the window's columns weighted one by one.
* ``major-axis concatenation``: a major axis's edge and interior blocks joined by concatenation
  (``_apply.join``); off: padded to full length and added, as the last axis's are on GPUs.
* ``one-pass sums``: ``laplacian``'s axes, and smoothness's gradient on uniform grids, summed in
  one pass (``_apply.apply_sum``); off: one stencil per axis, summed.
* ``penalty gradient``: ``total_variation`` / ``smoothness`` differentiated by their one-pass
  gradient (``_penalties._with_gradient``); off: JAX's autodiff of the loss.

Each table: the loss as jaxgrad runs it now, with each choice off (rows identical to "as is" in
the compiled program are left out), with the two edge choices off together, with all off, and the reference of ``bench_losses.py``.
Not a test: nothing here fails.

Run:  python benchmarks/bench_choices.py [--rounds N] [--sizes N2 N3] [--only PATTERN]
"""

from __future__ import annotations

import argparse
import contextlib
import re
import time

import bench_losses
import jax
import jax.numpy as jnp
from jax import lax

from _timing import environment, measure, report
from jaxgrad import _apply, _core, _penalties


def _edge_terms_sliced(f, axis, stencil, side):
    """``edge_terms`` with every axis's window columns weighted one by one (no contraction)."""
    if axis == f.ndim - 1:
        return _ORIGINAL["edge"](f, axis, stencil, side)
    weights = stencil.left_weights if side == "left" else stencil.right_weights
    rows = stencil.left if side == "left" else stencil.right
    bias = stencil.left_bias if side == "left" else stencil.right_bias
    ones = [(bias, jnp.ones((1,) * axis + (rows,) + (1,) * (f.ndim - axis - 1), f.dtype))] if bias is not None else []
    start = 0 if side == "left" else f.shape[axis] - len(weights)
    return [(w, lax.slice_in_dim(f, start + j, start + j + 1, axis=axis)) for j, w in enumerate(weights)] + ones


def _join_padded(blocks, axis, *, pad):
    """``join`` with a major axis's blocks padded and added too (where the last axis's may be)."""
    if pad and len(blocks) > 1 and blocks[0].ndim > 1 and axis != blocks[0].ndim - 1:
        return _apply._pad_add(blocks, axis)
    return _ORIGINAL["join"](blocks, axis, pad=pad)


_ORIGINAL = {"edge": _apply.edge_terms, "join": _apply.join, "tangent": _apply.stencil_tangent}
CHOICES = {  # name: (module, attribute, replacement)
    "reverse formulation": (_apply, "stencil_tangent", lambda d, axis, stencil, *, transposed_plan: _ORIGINAL["tangent"](
        d, axis, stencil, transposed_plan=not transposed_plan)),
    "edge contraction": (_apply, "edge_terms", _edge_terms_sliced),
    "major-axis concatenation": (_apply, "join", _join_padded),
    "one-pass sums": (_core, "apply_sum", lambda f, stencils: None),
    "penalty gradient": (_penalties, "_with_gradient", lambda value, gradient, g, *args: value(g, *args)),
}


COMBINED = ("major-axis concatenation", "edge contraction")


@contextlib.contextmanager
def switched_off(names):
    saved = [(mod, attr, getattr(mod, attr)) for mod, attr, _ in (CHOICES[n] for n in names)]
    try:
        for n in names:
            mod, attr, replacement = CHOICES[n]
            setattr(mod, attr, replacement)
        yield
    finally:
        for mod, attr, value in saved:
            setattr(mod, attr, value)


def compiled(fn, args, off=()):
    """``fn`` compiled for ``args`` with the choices ``off`` switched off while it is traced."""
    jax.clear_caches()
    with switched_off(off):
        lowered = jax.jit(fn).lower(*args)
    return lowered.as_text(), lowered.compile()


def tables(sizes, only):
    n2, n3 = sizes
    for ndim, n in ((2, n2), (3, n3)):
        shape = (n,) * ndim
        f, s = jnp.asarray(bench_losses.smooth_field(shape, 0)), jnp.asarray(bench_losses.smooth_field(shape, 1))
        for name, ours, ref_name, ref, _extra, _torch, n_in in bench_losses.workload_list(ndim):
            args = (f,) if n_in == 1 else (f, s)
            for mode in ("forward", "grad"):
                title = f"{ndim}-D {n}^{ndim} | {name} | {mode}"
                if only is not None and not only.search(title):
                    continue
                wrap = (lambda fn: fn) if mode == "forward" else jax.grad
                text, base = compiled(wrap(ours), args)
                impls = {"as is": base}
                for off in [(c,) for c in CHOICES] + [COMBINED, tuple(CHOICES)]:
                    other_text, other = compiled(wrap(ours), args, off)
                    if other_text != text:
                        label = "all off" if off == tuple(CHOICES) else " + ".join(off) + " off"
                        impls[label] = other
                impls[ref_name] = compiled(wrap(ref), args)[1]
                yield title, {k: (lambda c=c, a=args: c(*a)) for k, c in impls.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--sizes", type=int, nargs=2, default=(4096, 256), metavar=("N2", "N3"))
    parser.add_argument("--only", help="tables whose title matches this regular expression")
    args = parser.parse_args()
    if min(args.sizes) < 16:
        parser.error(f"--sizes must be at least 16 points per axis, got {args.sizes}")
    print("\n".join(environment()))
    print(bench_losses.jaxgrad_source())
    print(f"JAX backend {jax.default_backend()}; {args.rounds} rounds, float32; ratio = min time / min time as is\n")
    started, summary = time.perf_counter(), []
    for title, impls in tables(args.sizes, re.compile(args.only, re.IGNORECASE) if args.only else None):
        res = measure(impls, args.rounds)
        report(title, res, "as is")
        base = res["as is"][0]
        summary.append((title, base, {k: v[0] / base for k, v in res.items() if k != "as is"}))
    print("## Summary: min ms as is; each other row's min time / as is")
    for title, base, ratios in summary:
        print(f"- {title}: {base * 1e3:.2f} ms; " + ", ".join(f"{k} {r:.2f}" for k, r in ratios.items()))
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
