"""Non-differentiable primitives give no derivative and no error, in both modes."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import srcad
from srcad.testing import check_grads

# away from 0, and from the integers and half-integers where floor and round jump
smooth = st.floats(-2, 2).filter(lambda v: abs(v) > 0.1 and abs(2 * v - round(2 * v)) > 0.05)
vectors = hnp.arrays(np.float64, (5,), elements=smooth, unique=True)


def relu_sum(x):
    return np.sum(x * (x > 0))


def picks(x):
    return x[np.argmax(x)] * 2.0 + x[np.argsort(x)[0]]


def constructors(x):
    return np.sum(np.zeros_like(x) + x * np.ones(5) + np.arange(5.0) * x) + np.sum(
        np.full_like(x, 2.0) * np.eye(5)[0] * x)


def rounding(x):
    return np.sum(x * np.sign(x) + np.floor(x) * x + np.round(x) + np.abs(x) * np.isfinite(x))


def shapes(x):
    n = np.size(x) + len(x) + np.ndim(x)
    return np.sum(x) * n


@pytest.mark.parametrize("func, analytic", [
    (relu_sum, lambda x: (x > 0) * 1.0),
    (picks, lambda x: np.eye(5)[np.argmax(x)] * 2.0 + np.eye(5)[np.argmin(x)]),
    (constructors, lambda x: 1.0 + np.arange(5.0) + 2.0 * np.eye(5)[0]),
    (rounding, lambda x: np.sign(x) + np.floor(x) + np.sign(x)),
    (shapes, lambda x: np.full(5, 11.0)),
], ids=lambda v: getattr(v, "__name__", ""))
@given(x=vectors)
def test_constant_parts_have_no_derivative(func, analytic, x):
    np.testing.assert_allclose(srcad.grad(func)(x), analytic(x), rtol=1e-12, atol=1e-12)
    _, tangent = srcad.jvp(func)(x, np.ones(5))
    assert tangent == pytest.approx(np.sum(analytic(x)), rel=1e-12, abs=1e-12)
    check_grads(func, (x,))


def random_noise(x):
    rng = np.random.default_rng(0)
    return np.sum(x * rng.normal(size=5))


def test_random_draws_are_constants_and_kept_in_order():
    g = srcad.grad(random_noise)(np.ones(5))
    np.testing.assert_allclose(g, np.random.default_rng(0).normal(size=5))


def integer_cast(x):
    counts = (x * 3.0).astype(int)
    return np.sum(x * counts) + np.sum(x.astype(np.float32) * 1.0)


def test_integer_cast_is_constant_and_float_cast_is_not():
    x = np.array([0.4, 1.2, -0.7])
    np.testing.assert_allclose(srcad.grad(integer_cast)(x), (x * 3.0).astype(int) + 1.0,
                               rtol=1e-6)
