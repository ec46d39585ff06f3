"""Stencils on arrays sharded along the differentiated axis: exchange halos, nothing more.

Left to itself, XLA's partitioner turns the slices and concatenations of a stencil along a sharded
axis into general collectives. Here each device keeps its block, receives the few boundary slices
its stencil reaches into from its two neighbours (``ppermute`` inside ``shard_map``), and applies
the stencil locally; the first and last shards also compute the one-sided edge rows, and periodic
axes pass halos around the ring.

The layout is an explicit, static argument of the jitted kernels and of :func:`apply_along`, so a
kernel traced for one layout is never reused for another.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from jaxgrad._apply import apply_stencil, edge_terms, join, weighted_sum
from jaxgrad._stencils import Stencil, constant_weights

Array = jax.Array


class Layout(NamedTuple):
    """How the arrays a kernel differentiates are laid out: ``spec`` gives the mesh axes of their
    trailing ``len(spec)`` (spatial) dimensions."""

    mesh: Any
    spec: tuple[Any, ...]

    def names(self, axis: int, ndim: int) -> tuple[str, ...]:
        """The mesh axes that array dimension ``axis`` of an ``ndim``-array is split over."""
        k = axis - ndim + len(self.spec)
        entry = self.spec[k] if 0 <= k < len(self.spec) else None
        return () if entry is None else (entry,) if isinstance(entry, str) else tuple(entry)

    def partition(self, ndim: int) -> P:
        return P(*((None,) * (ndim - len(self.spec)) + self.spec))


# A user's choice for the halo path: True (use it where the sharding is visible), False (leave
# everything to XLA's partitioner), or the NamedSharding of a field traced inside a user's jit.
Halo = bool | NamedSharding


def normalize_halo(halo: Any) -> Halo:
    if not isinstance(halo, (bool, NamedSharding)):
        raise TypeError(f"halo must be True, False or a jax.sharding.NamedSharding, got {halo!r}")
    return halo


def layout_of(f: Any, halo: Halo, sharding: Any, spatial_ndim: int | None) -> Layout | None:
    """The layout for the halo path, from ``f``'s visible ``sharding`` (or the user's ``halo``
    hint), or None when the path is off or no spatial dimension is split over several devices."""
    if halo is False:
        return None
    if sharding is None and isinstance(f, jax.Array) and not isinstance(f, jax.core.Tracer):
        sharding = f.sharding
    if sharding is None and isinstance(halo, NamedSharding):
        sharding = halo
    if not isinstance(sharding, NamedSharding) or sharding.mesh.size == 1:
        return None
    spec = spatial_spec(sharding, jnp.ndim(f), spatial_ndim)
    split = lambda entry: entry is not None and math.prod(sharding.mesh.shape[n] for n in ((entry,) if isinstance(entry, str) else entry)) > 1
    return Layout(sharding.mesh, spec) if any(map(split, spec)) else None


def spatial_spec(sharding: NamedSharding, ndim: int, spatial_ndim: int | None) -> tuple[Any, ...]:
    """The partition spec entries of the trailing ``spatial_ndim`` (default: all) dimensions."""
    spec = (tuple(sharding.spec) + (None,) * ndim)[:ndim]
    return spec[ndim - (ndim if spatial_ndim is None else spatial_ndim) :]


def apply_along(f: Array, axis: int, stencil: Stencil, layout: Layout | None) -> Array:
    """:func:`apply_stencil`, through a halo exchange when ``axis`` is split over devices."""
    names = layout.names(axis, f.ndim) if layout is not None else ()
    if layout is not None and names:
        out = _exchanged(f, axis, stencil, layout, names)
        if out is not None:
            return out
    return apply_stencil(f, axis, stencil)


def _mesh(layout: Layout) -> Any:
    # Inside auto_axes (explicit meshes) shard_map must use the context's abstract mesh.
    context = jax.sharding.get_abstract_mesh()
    if not context.empty and context.axis_names == layout.mesh.axis_names and context.axis_sizes == layout.mesh.axis_sizes:
        return context
    return layout.mesh


def _exchanged(f: Array, axis: int, stencil: Stencil, layout: Layout, names: tuple[str, ...]) -> Array | None:
    """The stencil applied shard by shard with halos from the neighbours, or None where the
    shards are uneven or too short for it."""
    shards = math.prod(layout.mesh.shape[n] for n in names)
    n = f.shape[axis]
    m = n // shards
    below, above = max(0, -min(stencil.offsets)), max(0, max(stencil.offsets))
    # Rows [0, top) and [m - bottom, m) of a shard read halos or are edge rows; the rest read
    # the shard's own block only.
    top, bottom = max(below, 0 if stencil.periodic else stencil.left), max(above, 0 if stencil.periodic else stencil.right)
    windows = () if stencil.periodic else (len(stencil.left_weights), len(stencil.right_weights))
    if n % shards or m < max((top + above, bottom + below, top + bottom, *windows)):
        return None
    if stencil.periodic:
        ring = [(i, (i + 1) % shards) for i in range(shards)]
    else:
        ring = [(i, i + 1) for i in range(shards - 1)]
    back = [(j, i) for i, j in ring]

    # Array weights travel as replicated arguments: each device computes the (1-D, cheap) weights
    # of the whole axis from the coordinates and slices out its own, so they cost no transfer.
    # Interior weights are padded to the axis length (edge rows get zeros, replaced below).
    pad = (0, 0) if stencil.periodic else (stencil.left, stencil.right)
    interior = [w if np.ndim(w) == 0 else jnp.pad(w, pad) for w in stencil.weights]
    leaves, tree = jax.tree.flatten(
        (interior, stencil.left_weights, stencil.right_weights, stencil.scale, stencil.left_bias, stencil.right_bias)
    )
    is_array = [not isinstance(v, (int, float)) for v in leaves]
    arrays = [v for v, a in zip(leaves, is_array) if a]

    def local(b: Array, *values: Array) -> Array:
        it = iter(values)
        w_in, w_left, w_right, scale, b_left, b_right = jax.tree.unflatten(
            tree, [next(it) if a else v for v, a in zip(leaves, is_array)]
        )
        shard = lax.axis_index(names)
        w_in = [w if np.ndim(w) == 0 else lax.dynamic_slice_in_dim(w, shard * m, m) for w in w_in]
        # Only the rows next to the shard's ends are computed from (small) arrays joined with
        # the halos; the bulk reads the block itself, so no full-size copy is made.
        halo_lo = [lax.ppermute(lax.slice_in_dim(b, m - below, m, axis=axis), names, ring)] if below else []
        halo_hi = [lax.ppermute(lax.slice_in_dim(b, 0, above, axis=axis), names, back)] if above else []
        head = lax.concatenate([*halo_lo, lax.slice_in_dim(b, 0, top + above, axis=axis)], axis)
        tail = lax.concatenate([lax.slice_in_dim(b, m - bottom - below, m, axis=axis), *halo_hi], axis)

        def rows(source: Array, origin: int, start: int, count: int) -> Array:
            """The interior formula for rows start..start+count of the shard, reading ``source``,
            whose row 0 is the shard's row ``origin``."""
            shape = b.shape[:axis] + (count,) + b.shape[axis + 1 :]
            at = start - origin
            terms = [
                (w if np.ndim(w) == 0 else lax.slice_in_dim(w, start, start + count), lax.slice_in_dim(source, at + k, at + k + count, axis=axis))
                for k, w in zip(stencil.offsets, w_in)
            ]
            return weighted_sum(terms, axis, shape, b.dtype, scale)

        # The first and last shards put their one-sided edge rows in place of the interior formula.
        local_stencil = stencil._replace(left_weights=w_left, right_weights=w_right, left_bias=b_left, right_bias=b_right)
        blocks = []
        for source, origin, start, count, side, owner in (
            (head, -below, 0, top, "left", 0),
            (b, 0, top, m - top - bottom, None, None),
            (tail, m - bottom - below, m - bottom, bottom, "right", shards - 1),
        ):
            if count == 0:
                continue
            block = rows(source, origin, start, count)
            edge_rows = 0 if stencil.periodic or side is None else stencil.left if side == "left" else stencil.right
            if edge_rows and side is not None:
                shape = b.shape[:axis] + (edge_rows,) + b.shape[axis + 1 :]
                edge = weighted_sum(edge_terms(b, axis, local_stencil, side), axis, shape, b.dtype, scale)
                rest = [lax.slice_in_dim(block, edge_rows, count, axis=axis)] if side == "left" else [lax.slice_in_dim(block, 0, count - edge_rows, axis=axis)]
                edge = lax.concatenate([edge, *rest] if side == "left" else [*rest, edge], axis) if count > edge_rows else edge
                block = jnp.where(shard == owner, edge, block)
            blocks.append(block)
        return join(blocks, axis, pad=constant_weights(stencil))

    spec = layout.partition(f.ndim)
    mapped = jax.shard_map(local, mesh=_mesh(layout), in_specs=(spec, *[P()] * len(arrays)), out_specs=spec)
    return mapped(f, *arrays)
