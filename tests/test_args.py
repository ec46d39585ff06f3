"""jaxgrad/_args.py: argument normalization before anything is traced."""

import gc

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgrad import _args
from jaxgrad._args import (
    as_field,
    coordinate_facts,
    normalize_accuracy,
    normalize_axes,
    normalize_boundaries,
    normalize_int,
    normalize_period,
    normalize_spacing,
    per_axis,
    rank,
    reduce_uniform,
    shift_origin,
    spacing_entry,
    spread_spacing,
)


@pytest.mark.parametrize(
    "axis, ndim, want",
    [(None, 3, (0, 1, 2)), (None, 0, ()), (1, 3, (1,)), (-1, 3, (2,)), ((2, -3), 3, (2, 0)), ([0, 1], 2, (0, 1)),
     ((), 2, ()), (np.int64(1), 2, (1,)), (jnp.array(0), 1, (0,))],
)
def test_normalize_axes(axis, ndim, want):
    assert normalize_axes(axis, ndim) == want


@pytest.mark.parametrize(
    "axis, ndim, exc, match",
    [(3, 3, np.exceptions.AxisError, "axis 3 is out of bounds"), (-4, 3, np.exceptions.AxisError, "out of bounds"),
     (0, 0, np.exceptions.AxisError, "out of bounds"), ((0, -2), 2, ValueError, "repeated axis"),
     (True, 2, TypeError, "axis must be an int"), (1.0, 2, TypeError, "axis must be an int"),
     ("0", 2, TypeError, "axis must be an int"), (((0, 1),), 2, TypeError, "axis must be an int")],
)
def test_normalize_axes_errors(axis, ndim, exc, match):
    with pytest.raises(exc, match=match):
        normalize_axes(axis, ndim)


def test_integers_accuracy_and_boundaries():
    assert normalize_int(np.int32(3), "order", 1) == 3 and type(normalize_int(np.int32(3), "order", 1)) is int
    with pytest.raises(ValueError, match="order must be >= 1, got 0"):
        normalize_int(0, "order", 1)
    for bad in (True, 2.0, "2", None):
        with pytest.raises(TypeError, match="order must be an int"):
            normalize_int(bad, "order", 1)
    assert normalize_accuracy(4) == 4
    with pytest.raises(ValueError, match="positive even integer"):
        normalize_accuracy(3)
    assert per_axis("x", 3, "boundary") == ("x", "x", "x") and per_axis(["a", "b"], 2, "boundary") == ("a", "b")
    with pytest.raises(ValueError, match="boundary has 1 entries, but 2 axes"):
        per_axis(("a",), 2, "boundary")
    assert normalize_boundaries("periodic", 2) == ("periodic", "periodic")
    assert normalize_boundaries(("one-sided", "wrap"), 2) == ("one-sided", "periodic")
    with pytest.raises(ValueError, match="boundary must be one of 'one-sided', 'periodic', 'wrap'"):
        normalize_boundaries(("one-sided", None), 2)


def test_rank_names_ragged_arguments():
    assert rank(3.0, "eps") == 0 and rank([[1.0, 2.0]], "eps") == 2 and rank(jnp.ones(3), "eps") == 1
    with pytest.raises(ValueError, match="eps must be a scalar or a rectangular array"):
        rank([[1.0, 2.0], [3.0]], "eps")


def test_spread_spacing():
    x = np.arange(4.0)
    assert spread_spacing((), 2) == [1.0, 1.0]
    assert spread_spacing((0.5,), 3) == [0.5, 0.5, 0.5]
    assert spread_spacing((np.float32(2),), 2) == [np.float32(2)] * 2
    got = spread_spacing((x,), 1)
    assert len(got) == 1 and got[0] is x
    assert spread_spacing((0.5, x), 2)[1] is x
    with pytest.raises(TypeError, match="invalid number of spacing arguments: got 1 for 2"):
        spread_spacing((x,), 2)  # one array, two axes: numpy's TypeError too
    with pytest.raises(TypeError, match="invalid number of spacing arguments: got 3 for 2"):
        spread_spacing((1.0, 2.0, 3.0), 2)
    with pytest.raises(ValueError, match="spacing argument 1 must be a scalar or a rectangular array"):
        spread_spacing((1.0, [[1.0], [2.0, 3.0]]), 2)


def test_normalize_spacing_and_entries():
    f_shape = (4, 3)
    out = normalize_spacing((2, np.array([0, 1, 5], np.uint8)), f_shape, (0, 1))
    assert out[0] == 2.0 and type(out[0]) is float
    np.testing.assert_array_equal(out[1], [0.0, 1.0, 5.0])
    assert out[1].dtype == np.float64  # integers become floats before any subtraction
    with pytest.raises(ValueError, match="has length 3, but f.shape\\[0\\] is 4"):
        spacing_entry(np.arange(3.0), 4, 0)
    with pytest.raises(ValueError, match="strictly increasing or strictly decreasing"):
        spacing_entry(np.array([0.0, 2.0, 1.0]), 3, 0, monotone=True)
    np.testing.assert_array_equal(spacing_entry(np.array([0.0, 2.0, 1.0]), 3, 0), [0.0, 2.0, 1.0])  # gradient's rule: distinct
    with pytest.raises(TypeError, match="spacing for axis 1 must be a real number"):
        spacing_entry(np.complex64(1), 3, 1)


def test_as_field():
    big = np.array([0, 2**40 + 1, 2**53], dtype=np.int64)
    out = as_field(big)  # without x64: converted in numpy, so nothing wraps to int32
    assert isinstance(out, np.ndarray) and out.dtype == np.float64
    np.testing.assert_array_equal(out, [0.0, 2.0**40 + 1, 2.0**53])
    assert as_field(np.array([True, False])).dtype == np.float64
    assert as_field(jnp.arange(3)).dtype == jnp.result_type(float)
    assert as_field([1.5, 2.5]).dtype == np.float64
    for f in (np.ones(2, np.float16), jnp.ones(2, jnp.bfloat16), np.ones(2, np.complex64)):
        assert as_field(f) is f
    with pytest.raises(TypeError, match="f must be an array of numbers, got str"):
        as_field("abc")
    with pytest.raises(TypeError, match="F\\[1\\] must be an array of numbers, got NoneType"):
        as_field(None, "F[1]")
    with pytest.raises(ValueError, match="f must be a rectangular array"):
        as_field([[1.0], [1.0, 2.0]])
    with pytest.raises(TypeError, match="must hold numbers"):
        as_field(np.array(["2024-01-01"], dtype="datetime64[D]"))


def test_coordinate_facts():
    x = np.array([0.0, 1.0, 3.0, 4.0])
    assert coordinate_facts(x)[:4] == (True, True, True, False)
    assert coordinate_facts(np.array([3.0, 2.0, 1.0]))[:4] == (True, True, True, True)
    assert coordinate_facts(np.array([0.0, 2.0, 1.0]))[:3] == (True, True, False)
    assert coordinate_facts(np.array([0.0, 1.0, 1.0]))[:2] == (True, False)
    assert coordinate_facts(np.array([0.0, np.nan, 1.0]))[0] is False
    assert coordinate_facts(np.array([0.0]))[:4] == (True, True, True, False)


def test_coordinate_facts_of_jax_arrays_are_cached_by_identity():
    x = jnp.array([0.0, 0.5, 1.0, 1.5])
    key = id(x)
    facts = coordinate_facts(x)
    assert facts[:4] == (True, True, True, True) and float(facts[4]) == 0.5
    assert _args._FACTS[key][0]() is x
    _args._FACTS[key] = (_args._FACTS[key][0], ("cached",) * 5)  # a second call reads the cache
    assert coordinate_facts(x) == ("cached",) * 5
    equal = jnp.array([0.0, 0.5, 1.0, 1.5])  # equal values, another array: its own entry
    assert coordinate_facts(equal)[:4] == (True, True, True, True)
    del x
    gc.collect()
    assert key not in _args._FACTS  # forgotten with the array
    assert not any(ref() is None for ref, _ in _args._FACTS.values())


def test_reduce_uniform():
    even = np.array([1.0, 1.5, 2.0, 2.5])
    assert reduce_uniform(even, None) == 0.5
    uneven = np.array([0.0, 1.0, 3.0])
    assert reduce_uniform(uneven, None) is uneven
    assert reduce_uniform(0.25, None) == 0.25
    assert reduce_uniform(even, 2.0) == 0.5  # the wrap-around step x[0] + 2 - x[-1] is 0.5 too
    assert reduce_uniform(even, 3.0) is even  # a longer wrap-around step: coordinates stay
    traced = jax.jit(lambda x: jnp.ndim(reduce_uniform(x, None)))(jnp.asarray(even))
    assert traced == 1  # traced coordinates cannot be inspected: kept as they are
    assert reduce_uniform(jnp.asarray(even), None) == 0.5


def test_shift_origin():
    x = np.array([1e8, 1e8 + 0.5, 1e8 + 2.0])
    np.testing.assert_array_equal(shift_origin(x), [0.0, 0.5, 2.0])  # steps kept exactly, then float32-safe
    y = jnp.array([3.0, 4.0])
    assert shift_origin(y) is y and shift_origin(0.5) == 0.5
    empty = np.zeros(0)
    assert shift_origin(empty) is empty


def test_normalize_period():
    x = np.arange(4.0)
    assert normalize_period(None, 0.5, True, 0) is None and normalize_period(None, x, False, 0) is None
    assert normalize_period(np.float32(5.0), x, True, 0) == 5.0
    with pytest.raises(ValueError, match="pass period=L"):
        normalize_period(None, x, True, 0)
    with pytest.raises(ValueError, match="boundary is not 'periodic'"):
        normalize_period(5.0, x, False, 0)
    with pytest.raises(ValueError, match="pass period only with coordinate arrays"):
        normalize_period(5.0, 0.5, True, 0)
    with pytest.raises(ValueError, match="does not fit its coordinates"):
        normalize_period(3.0, x, True, 0)
    with pytest.raises(TypeError, match="period for axis 2 must be a real scalar"):
        normalize_period([5.0], x, True, 2)
    with pytest.raises(ValueError, match="period for axis 0 must be a scalar or a rectangular array"):
        normalize_period([[1.0], []], x, True, 0)
    with pytest.raises(ValueError, match="period for axis 0 must be finite and nonzero"):
        normalize_period(np.inf, x, True, 0)
