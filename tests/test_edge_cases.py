"""Numerical edge cases: singular points, ties, overflow, dtypes, 0-d and empty arrays.

At a singular point srcad must give what the derivative written by hand gives there (the
same inf, nan or number, evaluated with NumPy) and never crash; at a tie, a value inside
the subgradient, the same in both modes. float32 in gives float32 out in both modes;
integer and bool arguments carry no derivative, and asking for one is a clear error.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import srcad
from srcad.testing import check_grads


def quietly(fn, *args):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(*args)


def both_modes(f, x):
    """(reverse-mode gradient, forward-mode derivative along ones) of a scalar `f` at `x`,
    computed with floating-point warnings silenced (they are expected here)."""
    g = quietly(srcad.grad(f), x)
    _, dy = quietly(srcad.jvp(f), x, np.ones_like(x))
    return g, dy


# ---- singular points: the same inf/nan as the derivative written by hand -------------------
def log_sum(x):
    return np.sum(np.log(x))


def sqrt_sum(x):
    return np.sum(np.sqrt(x))


def reciprocal_sum(x):
    return np.sum(1.0 / x)


def divide_by(x):
    return np.sum(2.0 / x + x / x[::-1])


def exp_sum(x):
    return np.sum(np.exp(x))


def power_half(x):
    return np.sum(x ** 0.5)


SINGULAR = [
    (log_sum, [0.0, 1.0, 2.0], lambda x: 1.0 / x),
    (sqrt_sum, [0.0, 1.0, 4.0], lambda x: 0.5 / np.sqrt(x)),
    (reciprocal_sum, [0.0, -0.0, 2.0], lambda x: -1.0 / (x * x)),
    (divide_by, [0.0, 1.0, 3.0],
     lambda x: -2.0 / (x * x) + 1.0 / x[::-1] - (x / (x[::-1] ** 2))[::-1]),
    (exp_sum, [1000.0, 0.0, -1000.0], np.exp),
    (power_half, [0.0, 1.0, 9.0], lambda x: 0.5 * x ** -0.5),
]


@pytest.mark.parametrize("f, point, by_hand", SINGULAR, ids=[s[0].__name__ for s in SINGULAR])
def test_singular_points_give_what_the_hand_written_derivative_gives(f, point, by_hand):
    x = np.array(point)
    expected = quietly(by_hand, x)
    g, dy = both_modes(f, x)
    np.testing.assert_array_equal(g, expected)              # inf, -inf, nan in the same places
    np.testing.assert_array_equal(dy, quietly(np.sum, expected))


# ---- ties: a value in the subgradient, the same in both modes ------------------------------
def abs_sum(x):
    return np.sum(np.abs(x))


def maximum_of_itself(x):
    return np.sum(np.maximum(x, x))


def maximum_tie(x):
    return np.sum(np.maximum(x, 1.0) + np.minimum(x, 1.0) * 2.0)


def max_with_ties(x):
    return np.max(x) + np.sum(np.max(x.reshape(2, 2), axis=1))


def test_abs_at_zero_has_derivative_zero():
    g, dy = both_modes(abs_sum, np.array([0.0, -0.0, 2.0, -3.0]))
    np.testing.assert_array_equal(g, [0.0, 0.0, 1.0, -1.0])
    assert dy == 0.0


def test_maximum_of_a_value_with_itself_has_derivative_one():
    x = np.array([0.5, -1.0])
    g, dy = both_modes(maximum_of_itself, x)
    np.testing.assert_allclose(g, [1.0, 1.0])
    assert dy == pytest.approx(2.0)


def test_maximum_and_minimum_at_a_tie_split_within_the_subgradient():
    x = np.array([1.0, 0.0])                # a tie at x[0]: derivative from the left 2, right 1
    g, dy = both_modes(maximum_tie, x)
    assert 1.0 <= g[0] <= 2.0 and g[1] == 2.0
    assert dy == pytest.approx(np.sum(g))


def relu_sum(x):
    return np.sum(np.maximum(x, 0.0) + 2.0 * np.maximum(0, x))


def clamp_sum(x):
    return np.sum(np.minimum(x, 1.0) + 3.0 * np.minimum(1.0, x))


def maximum_plus_minimum(x):
    return np.sum(np.maximum(x, 0.0) + np.minimum(x, 0.0))


def test_against_a_number_a_tie_takes_the_derivative_from_below():
    """The stated convention: maximum(x, c) has derivative 0 at x == c (PyTorch's relu),
    minimum(x, c) has 1 (PyTorch's clamp(max=c)), whichever side the number is written on; so
    maximum(x, c) + minimum(x, c), which is x + c, keeps its derivative 1 there."""
    x = np.array([0.0, -0.0, 2.0, -3.0])
    g, dy = both_modes(relu_sum, x)
    np.testing.assert_array_equal(g, [0.0, 0.0, 3.0, 0.0])
    assert dy == 3.0
    g, dy = both_modes(clamp_sum, np.array([1.0, 0.5, 2.0]))
    np.testing.assert_array_equal(g, [4.0, 4.0, 0.0])
    assert dy == 8.0
    g, dy = both_modes(maximum_plus_minimum, np.array([0.0, 1.0, -1.0]))
    np.testing.assert_array_equal(g, [1.0, 1.0, 1.0])
    assert dy == 3.0


def test_max_reduction_with_ties_shares_the_derivative():
    x = np.array([3.0, 3.0, 1.0, 1.0])
    g, dy = both_modes(max_with_ties, x)
    np.testing.assert_allclose(g, [1.0, 1.0, 0.5, 0.5])   # shared equally among the ties
    assert dy == pytest.approx(np.sum(g))


# ---- dtypes ---------------------------------------------------------------------------------
def network(x, W):
    return np.sum(np.tanh(W @ x) ** 2) * 0.5


@given(st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**16))
def test_float32_in_float32_out_in_both_modes(n, m, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n).astype(np.float32)
    W = rng.standard_normal((m, n)).astype(np.float32)
    gx, gW = srcad.grad(network, wrt=(0, 1))(x, W)
    assert gx.dtype == np.float32 and gW.dtype == np.float32
    y, dy = srcad.jvp(network, wrt=(0, 1))(x, W, np.ones_like(x), np.ones_like(W))
    assert np.asarray(y).dtype == np.float32 and np.asarray(dy).dtype == np.float32
    g64 = srcad.grad(network, wrt=(0, 1))(x.astype(float), W.astype(float))
    np.testing.assert_allclose(gx, g64[0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(gW, g64[1], rtol=1e-4, atol=1e-5)


def scaled(x, n):
    return np.sum(x * n)


@pytest.mark.parametrize("bad", [3, True, np.arange(3), np.array([True, False, True]),
                                 np.int32(2)])
@pytest.mark.parametrize("kind", ["grad", "value_and_grad", "vjp", "jvp"])
def test_integer_and_bool_arguments_have_no_gradient(bad, kind):
    tangent = (np.zeros(np.shape(bad)),) if kind == "jvp" else ()
    with pytest.raises(srcad.WrtError, match="`n`.*float"):
        getattr(srcad, kind)(scaled, wrt="n")(np.ones(3), bad, *tangent)


def test_integer_arguments_outside_wrt_are_constants():
    for n in (2, True, np.arange(3), np.int64(2)):
        g = srcad.grad(scaled)(np.ones(3), n)
        np.testing.assert_array_equal(g, np.ones(3) * n)
        _, dy = srcad.jvp(scaled)(np.ones(3), n, np.ones(3))
        assert dy == pytest.approx(np.sum(np.ones(3) * n))


# ---- 0-d arrays, empty arrays, Python scalars ----------------------------------------------
def cubic(x):
    return np.sum(x * x * x - 2.0 * x)


@given(st.floats(-3.0, 3.0))
def test_zero_d_arrays_and_python_scalars(value):
    for x in (value, np.array(value), np.float64(value)):
        g = srcad.grad(cubic)(x)
        assert np.shape(g) == () and g == pytest.approx(3 * value ** 2 - 2.0)
        _, dy = srcad.jvp(cubic)(x, 1.0)
        assert dy == pytest.approx(3 * value ** 2 - 2.0)
    assert type(srcad.grad(cubic)(value)) is float
    assert isinstance(srcad.grad(cubic)(np.array(value)), np.ndarray)


def matrix_form(x, W):
    return np.sum(np.tanh(W @ x)) + np.sum(x * x)


@given(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3).filter(
    lambda shape: 0 in shape))
def test_empty_arrays_give_empty_gradients(shape):
    x = np.zeros(shape)
    g = srcad.grad(cubic)(x)
    assert g.shape == shape and g.dtype == x.dtype
    y, dy = srcad.jvp(cubic)(x, np.ones(shape))
    assert y == 0.0 and dy == 0.0
    W = np.ones((2, 0))
    gx, gW = srcad.grad(matrix_form, wrt=(0, 1))(np.zeros(0), W)
    assert gx.shape == (0,) and gW.shape == (2, 0)


def test_check_grads_on_a_zero_d_array():
    check_grads(cubic, (np.array(0.7),))
