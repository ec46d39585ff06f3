"""Timing machinery shared by the benchmark scripts (``bench_gradient.py``, ``bench_losses.py``,
``bench_sharding.py``).

* :func:`measure`: implementations interleaved in a shuffled order per round, caches flushed
  before every timed call, min / median time and median minor page faults per call.
* :func:`flush_caches`: on CPU a 64 MiB numpy buffer is rewritten (larger than any last-level
  cache here); on an accelerator a 256 MiB device buffer is rewritten by a jitted kernel (larger
  than an H100's or H200's 50 MiB L2), so that the next call reads its inputs from memory.
* :func:`block`: waits for JAX arrays and for CUDA work queued by torch.
* :func:`environment`: the header lines every script prints.
* :func:`report`: one Markdown table per workload.
"""

from __future__ import annotations

import os
import platform
import random
import resource
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

_flush_state: dict = {}


def flush_caches() -> None:
    """Evict the inputs of the next call from the caches: see the module's docstring."""
    if not _flush_state:
        if jax.default_backend() == "cpu":
            _flush_state["host"] = np.zeros(16 * 1024 * 1024, np.float32)  # 64 MiB
        else:
            _flush_state["step"] = jax.jit(lambda b: b + 1.0, donate_argnums=0)
            _flush_state["device"] = jnp.zeros(64 * 1024 * 1024, jnp.float32)  # 256 MiB
    if "host" in _flush_state:
        np.add(_flush_state["host"], 1.0, out=_flush_state["host"])
    else:
        _flush_state["device"] = _flush_state["step"](_flush_state["device"])
        _flush_state["device"].block_until_ready()


def block(out):
    """Wait until ``out`` (a JAX array, a torch tensor, numpy, or a tuple / list of them) is computed."""
    if isinstance(out, (tuple, list)):
        for item in out:
            block(item)
    elif isinstance(out, jax.Array):
        out.block_until_ready()
    elif getattr(out, "is_cuda", False):  # a torch tensor on a GPU: its kernels run asynchronously
        sys.modules["torch"].cuda.synchronize(out.device)
    return out


def faults() -> int:
    """Minor page faults of this process so far (first touches of fresh memory)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def measure(impls, rounds: int, flush: bool = True, first_call: dict | None = None):
    """``{name: (min s, median s, median page faults)}`` per call, interleaved, and cache-cold
    unless ``flush`` is off (for per-call overheads, where a warm cache is the realistic case).

    Every implementation is called once before timing (compilation, warm-up); with ``first_call``
    given, the seconds of that call (compile time included) are stored there by name."""
    times = {name: [] for name in impls}
    fault_counts = {name: [] for name in impls}
    for name, fn in impls.items():
        t0 = time.perf_counter()
        block(fn())  # compile and warm up
        if first_call is not None:
            first_call[name] = time.perf_counter() - t0
    for _ in range(rounds):
        order = list(impls)
        random.shuffle(order)
        for name in order:
            if flush:
                flush_caches()
            f0, t0 = faults(), time.perf_counter()
            block(impls[name]())
            times[name].append(time.perf_counter() - t0)
            fault_counts[name].append(faults() - f0)
    return {name: (min(t), float(np.median(t)), float(np.median(fault_counts[name]))) for name, t in times.items()}


def environment(**optional) -> list[str]:
    """Header lines: machine, library versions (``optional``: name -> module or None when not
    installed, e.g. ``torch=torch``), allocator."""
    versions = "".join(f", {name} {mod.__version__}" if mod is not None else f", {name} not installed"
                       for name, mod in optional.items())
    return [
        f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        f"jax {jax.__version__} on {jax.devices()[0].platform}, numpy {np.__version__}{versions}",
        f"GLIBC_TUNABLES={os.environ.get('GLIBC_TUNABLES', '(default allocator)')}",
    ]


def report(title: str, res: dict, base_name: str) -> None:
    """A Markdown table of ``res`` (from :func:`measure`), fastest first, ratios to ``base_name``."""
    base = res[base_name][0]
    print(f"## {title}")
    print(f"| implementation | min ms | median ms | page faults / call | ratio to {base_name} |\n|---|---|---|---|---|")
    for name, (tmin, tmed, nfaults) in sorted(res.items(), key=lambda kv: kv[1][0]):
        digits = 1 if tmin > 1e-3 else 4
        print(f"| {name} | {tmin * 1e3:.{digits}f} | {tmed * 1e3:.{digits}f} | {nfaults:.0f} | {tmin / base:.2f} |")
    print()
