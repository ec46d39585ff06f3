"""Collectives in a compiled XLA program: how many of each kind, and the bytes each device sends.

A test helper: the sharded tests (``tests/sharded/``) use it to show that the halo path moves
halos only, and ``benchmarks/bench_sharding.py`` imports it from here for its tables.
"""

from __future__ import annotations

import re
from typing import Any

import jax
import numpy as np

KINDS = ("all-gather", "all-to-all", "all-reduce", "collective-permute", "reduce-scatter")
_BYTES = {"f16": 2, "bf16": 2, "f32": 4, "f64": 8, "s32": 4, "u32": 4, "s64": 8, "pred": 1, "c64": 8, "c128": 16}
_OP = re.compile(r"=\s*(?P<shape>.+?)\s+(?P<kind>" + "|".join(KINDS) + r")(?:-start)?\(")
_ARRAY = re.compile(r"\b(" + "|".join(_BYTES) + r")\[([0-9,]*)\]")


def collectives(fn: Any, *args: Any) -> dict[str, tuple[int, int]]:
    """``{kind: (count, bytes)}`` of the collectives in ``jax.jit(fn)`` compiled for ``args``;
    bytes are those of the per-device result shapes (for a permute: what each device sends)."""
    text = jax.jit(lambda *a: fn(*a)).lower(*args).compile().as_text()  # a fresh trace every time
    found: dict[str, tuple[int, int]] = {}
    for line in text.splitlines():
        match = _OP.search(line)
        if match is None or "-done(" in line:
            continue
        size = sum(_BYTES[t] * int(np.prod([int(d) for d in dims.split(",") if d])) for t, dims in _ARRAY.findall(match["shape"]))
        count, total = found.get(match["kind"], (0, 0))
        found[match["kind"]] = (count + 1, total + size)
    return found
