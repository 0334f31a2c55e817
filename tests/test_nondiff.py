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
BINS = np.array([-1.0, 0.0, 1.0])
RNG = np.random.default_rng(0)
STATE = np.random.RandomState(0)


def relu_sum(x):
    return np.sum(x * (x > 0))


def comparisons(x):
    inside = np.logical_and(np.greater(x, -1.0), np.less_equal(x, 1.0))
    outside = np.logical_or(np.less(x, -1.0), np.greater_equal(x, 1.0))
    same = np.equal(x, x) * np.logical_not(np.not_equal(x, x))
    return np.sum(x * inside + 2.0 * x * outside + x * same * np.logical_xor(x > 0, x > 5))


def picks(x):
    return x[np.argmax(x)] * 2.0 + x[np.argsort(x)[0]]


def positions(x):
    first = x[x.argmin()] + x[x.argmax()] * 3.0 + x[x.argsort()[-1]] + x[np.argmin(x)]
    ranks = np.searchsorted(np.unique(x), x) + np.digitize(x, BINS)
    positive = x[np.nonzero(x > 0)] * np.count_nonzero(x > 0)
    return first + np.sum(x * ranks) + np.sum(positive) + np.sum(x[np.flatnonzero(x < 0)])


def constructors(x):
    return np.sum(np.zeros_like(x) + x * np.ones(5) + np.arange(5.0) * x) + np.sum(
        np.full_like(x, 2.0) * np.eye(5)[0] * x)


def more_constructors(x):
    n = len(x)
    grid = np.linspace(0.0, 1.0, n) + np.ones_like(x) + np.full(np.shape(x), 3.0)
    ones = np.identity(n) @ np.ones(n) + np.zeros(n) + np.empty_like(x).size
    return np.sum(x * grid * ones)


def rounding(x):
    return np.sum(x * np.sign(x) + np.floor(x) * x + np.round(x) + np.abs(x) * np.isfinite(x))


def more_rounding(x):
    steps = np.ceil(x) + np.trunc(x) + np.rint(x) + np.around(x) + x.round() + np.fix(x)
    checks = 1.0 * np.isnan(x) + np.isinf(x) + np.any(x) + x.all() + x.any() + np.all(x)
    return np.sum(x * steps) + np.sum(x * checks)


def shapes(x):
    n = np.size(x) + len(x) + np.ndim(x)
    return np.sum(x) * n


@pytest.mark.parametrize("func, analytic", [
    (relu_sum, lambda x: (x > 0) * 1.0),
    (comparisons, lambda x: (np.abs(x) <= 1) + 2.0 * (np.abs(x) >= 1) + (x > 0)),
    (picks, lambda x: np.eye(5)[np.argmax(x)] * 2.0 + np.eye(5)[np.argmin(x)]),
    (positions, lambda x: (2 * np.eye(5)[np.argmin(x)] + 4 * np.eye(5)[np.argmax(x)]
                           + np.argsort(np.argsort(x)) + np.digitize(x, BINS)
                           + (x > 0) * np.sum(x > 0) + (x < 0))),
    (constructors, lambda x: 1.0 + np.arange(5.0) + 2.0 * np.eye(5)[0]),
    (more_constructors, lambda x: (np.linspace(0.0, 1.0, 5) + 4.0) * 6.0),
    (rounding, lambda x: np.sign(x) + np.floor(x) + np.sign(x)),
    (more_rounding, lambda x: np.ceil(x) + 2 * np.trunc(x) + 3 * np.rint(x)
     + 4.0),
    (shapes, lambda x: np.full(5, 11.0)),
], ids=lambda v: getattr(v, "__name__", ""))
@given(x=vectors)
def test_constant_parts_have_no_derivative(func, analytic, x):
    np.testing.assert_allclose(srcad.grad(func)(x), analytic(x), rtol=1e-12, atol=1e-12)
    _, tangent = srcad.jvp(func)(x, np.ones(5))
    assert tangent == pytest.approx(np.sum(analytic(x)), rel=1e-12, abs=1e-12)
    check_grads(func, (x,))


# ---- random draws ----------------------------------------------------------------------------


def random_noise(x):
    rng = np.random.default_rng(0)
    return np.sum(x * rng.normal(size=5))


def test_random_draws_are_constants_and_kept_in_order():
    g = srcad.grad(random_noise)(np.ones(5))
    np.testing.assert_allclose(g, np.random.default_rng(0).normal(size=5))


def draw_with_differentiated_loc(x):
    np.random.seed(0)
    return np.sum(x * np.random.normal(x, 1.0)) + np.sum(x * np.random.uniform(x - 1.0, x))


@pytest.mark.parametrize("transform", [srcad.grad, lambda f: lambda x: srcad.jvp(f)(x, x)])
def test_a_draw_whose_parameters_are_differentiated_is_an_error(transform):
    # its value moves with loc: "no derivative" would be false (issue 12, deny by default)
    x = np.linspace(-1.0, 1.0, 5)
    with pytest.raises(srcad.SrcadError, match="numpy.random.RandomState.normal") as info:
        transform(draw_with_differentiated_loc)(x)
    assert "np.random.normal(x, 1.0)" in str(info.value)


def sample_action(x):
    p = np.exp(x) / np.sum(np.exp(x))
    action = RNG.choice(5, p=p)
    coin = STATE.binomial(1, 0.5, size=5) + STATE.randn(5) * 0 + RNG.integers(0, 1, size=5)
    return x[action] * 3.0 + np.sum(x * coin * 0.0) + np.sum(RNG.random(5) * 0.0 * x)


def test_generator_and_random_state_methods_are_constants():
    x = np.linspace(-1.0, 1.0, 5)
    g = srcad.grad(sample_action)(x)
    assert sorted(g) == [0.0, 0.0, 0.0, 0.0, 3.0]             # one-hot: the sampled action
    _, tangent = srcad.jvp(sample_action)(x, np.ones(5))
    assert tangent == pytest.approx(3.0)


def permuted(x):
    rng = np.random.default_rng(0)
    return np.sum(rng.permutation(x) * np.arange(5.0))


def test_a_permutation_of_differentiated_values_is_not_a_constant():
    with pytest.raises(srcad.MissingRuleError, match="permutation"):
        srcad.grad(permuted)(np.ones(5))
