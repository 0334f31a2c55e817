"""The conventions of the rules for statistics and sampled data (templates/statistics.py,
sampled.py, construction.py) where the functions are not differentiable or their arguments are
constants, and second derivatives through every one of them.

Ties share an order statistic's derivative equally (as max and min do); NaN entries get 0 in
the NaN forms, and a plain median of a slice holding a NaN has a NaN derivative; interp at a
node takes the slope of the interval NumPy reads there. Arguments the rules take as constants
(`q`, `weights`, spacings, `period`) are errors at the user's line when differentiated.
Second derivatives: forward over reverse and reverse over reverse against central differences
of srcad's gradient (`check_grads(order=2)`), and hvp against the Hessian.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import srcad
from srcad import runtime_sampled, runtime_statistics
from srcad.testing import check_grads
from tests.support.cases.reductions import distinct_arrays

# ---- order statistics: ties, NaNs, every method and axis --------------------------------------


def median_of(x):
    return np.median(x)


def quantile_rows(x):
    return np.sum(np.quantile(x, [0.25, 0.5], axis=1) * np.array([[1.0], [3.0]]))


def test_tied_entries_share_the_derivative_in_both_modes():
    x = np.array([1.0, 1.0, 3.0])
    np.testing.assert_allclose(srcad.grad(median_of)(x), [0.5, 0.5, 0.0])
    _, along_first = srcad.jvp(median_of)(x, np.array([1.0, 0.0, 0.0]))
    assert along_first == pytest.approx(0.5)
    rows = np.array([[2.0, 2.0, 2.0, 5.0], [0.0, 1.0, 2.0, 3.0]])
    grad = srcad.grad(quantile_rows)(rows)
    # row 0: both quantiles read the tied 2.0s (sorted positions 0.75 and 1.5), shared by three
    np.testing.assert_allclose(grad[0], [4.0 / 3, 4.0 / 3, 4.0 / 3, 0.0])
    np.testing.assert_allclose(grad[1], [0.25, 0.75 + 1.5, 1.5, 0.0])
    _, tangent = srcad.jvp(quantile_rows)(rows, np.ones_like(rows))
    assert tangent == pytest.approx(8.0)          # moving every entry by 1 moves each quantile


def nan_median_rows(x):
    return np.sum(np.nanmedian(x, axis=1) ** 2)


def test_nan_entries_get_zero_and_a_nan_slice_a_nan():
    x = np.array([[1.0, np.nan, 3.0, 0.5], [np.nan, np.nan, np.nan, np.nan]])
    with pytest.warns(RuntimeWarning):                          # NumPy's, on the all-NaN row
        grad = srcad.grad(nan_median_rows)(x)
    np.testing.assert_array_equal(grad, [[2.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    assert np.isnan(srcad.grad(median_of)(np.array([1.0, np.nan, 2.0]))).all()


def quantile_of(x, q):
    return np.quantile(x, q)


def weighted_quantile(x, w):
    return np.quantile(x, 0.5, method="inverted_cdf", weights=w)


def test_constant_arguments_given_a_derivative_are_errors():
    x = np.array([0.3, 1.2, -0.4])
    with pytest.raises(srcad.MissingRuleError, match=r"numpy.quantile.*`q`"):
        srcad.grad(quantile_of, wrt=(0, 1))(x, 0.3)
    with pytest.raises(srcad.MissingRuleError, match=r"numpy.quantile.*`weights`"):
        srcad.grad(weighted_quantile, wrt=(0, 1))(x, np.ones(3))
    assert srcad.grad(weighted_quantile)(x, np.ones(3)) == pytest.approx([1.0, 0.0, 0.0])


METHODS = ["linear", "lower", "higher", "nearest", "midpoint", "inverted_cdf",
           "averaged_inverted_cdf", "closest_observation", "interpolated_inverted_cdf",
           "hazen", "weibull", "median_unbiased", "normal_unbiased"]
FUNCTIONS = [np.quantile, np.nanquantile]


@given(x=distinct_arrays(min_dims=1, max_dims=3), data=st.data())
def test_every_method_axis_and_keepdims(x, data):
    method = data.draw(st.sampled_from(METHODS))
    axis = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1))
    keepdims = data.draw(st.booleans())
    q = data.draw(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=3))
    reducer = data.draw(st.sampled_from(FUNCTIONS))

    def f(x):
        return reducer(x, q, axis=axis, method=method, keepdims=keepdims)
    check_grads(f, (x,))


# ---- interp's kinks, cov's weights, gradient's spacings ---------------------------------------

XP = np.array([0.0, 1.0, 3.0])
FP = np.array([0.0, 2.0, 3.0])


def interp_at(x, fp):
    return np.sum(np.interp(x, XP, fp))


def test_interp_at_a_node_takes_numpys_interval():
    x = np.array([1.0, 3.0, 0.0])               # an inner node, the last node, the first node
    gx, gfp = srcad.grad(interp_at, wrt=(0, 1))(x, FP)
    np.testing.assert_allclose(gx, [0.5, 0.0, 2.0])      # the interval that starts there
    np.testing.assert_allclose(gfp, [1.0, 1.0, 1.0])     # each reads its node's value
    _, tangent = srcad.jvp(interp_at, wrt=0)(x, FP, np.array([1.0, 1.0, 1.0]))
    assert tangent == pytest.approx(2.5)


def interp_period(x, p):
    return np.sum(np.interp(x, XP, FP, period=p))


def gradient_coordinates(f, c):
    return np.sum(np.gradient(f, c) ** 2)


def test_period_and_coordinates_given_a_derivative_are_errors():
    with pytest.raises(srcad.MissingRuleError, match=r"numpy.interp.*`period`"):
        srcad.grad(interp_period, wrt=(0, 1))(np.array([0.5, 2.0]), 4.0)
    with pytest.raises(srcad.MissingRuleError, match=r"numpy.gradient.*`varargs`"):
        srcad.grad(gradient_coordinates, wrt=(0, 1))(np.ones(4), np.arange(4.0))


def weighted_cov(m, fw, aw):
    return np.sum(np.cov(m, fweights=fw, aweights=aw))


def test_float_fweights_that_numpy_scaled_in_place_are_an_error():
    m = np.arange(12.0).reshape(3, 4) ** 1.5
    aw = np.array([0.5, 1.0, 2.0, 1.0])
    grad = srcad.grad(weighted_cov)(m, np.array([1, 2, 1, 1]), aw)
    assert np.all(np.isfinite(grad))
    with pytest.raises(srcad.RuleFailedError, match="fweights"):
        srcad.grad(weighted_cov)(m, np.array([1.0, 2.0, 1.0, 1.0]), aw)
    with pytest.raises(srcad.MissingRuleError, match=r"numpy.cov.*`aweights`"):
        srcad.grad(weighted_cov, wrt=(0, 2))(m, np.array([1, 2, 1, 1]), aw)


# ---- second derivatives through every rule ----------------------------------------------------

RNG = np.random.default_rng(5)
ROWS = np.array([[0.3, -1.2, 2.0, 0.7, 1.6], [1.1, 0.2, -0.4, -2.2, 0.9],
                 [0.9, 1.5, -0.6, 0.1, -1.3]])
NODES = np.array([-1.0, -0.2, 0.5, 1.3, 2.0])
COORDS = np.array([0.0, 0.4, 1.1, 1.5, 2.6])


def order_statistics(x):
    y = np.where(np.abs(x) > 1.9, np.nan, x)
    return (np.sum(np.median(x, axis=1) ** 3) + np.sum(np.sin(np.quantile(x, [0.2, 0.7], 0)))
            + np.sum(np.percentile(x * x, 40, axis=1, method="midpoint") ** 2)
            + np.nanmedian(y) ** 2 + np.sum(np.nanquantile(y, 0.3, axis=1) * x[:, 0]))


def sampled(x):
    flat = x.ravel()
    return (np.sum(np.interp(flat, NODES, np.sin(flat[:5])) ** 2)
            + np.sum(np.convolve(flat[:6], flat[6:9], "same") ** 2)
            + np.sum(np.correlate(flat, flat[:4] ** 2) ** 2)
            + np.sum(np.gradient(x * x, 0.5, COORDS, edge_order=2)[1] ** 2))


def covariance(x):
    return (np.sum(np.cov(x, x[:1] ** 2) ** 2) + np.sum(np.sin(np.corrcoef(x, rowvar=False)))
            + np.sum(np.cov(x, aweights=np.arange(1.0, 6.0), ddof=2) ** 2))


def polynomials(x):
    return (np.sum(np.polyval(x[0], x[1]) ** 2) + np.sum(np.polyval(x[2, :3], 0.7) ** 3)
            + np.sum(np.tanh(np.vander(x[1], 4))) + np.sum(np.vander(x[2], increasing=True)))


@pytest.mark.parametrize("f", [order_statistics, sampled, covariance, polynomials])
def test_second_order(f):
    x = ROWS + 0.01 * RNG.standard_normal(ROWS.shape)
    check_grads(f, (x,), order=2)
    v = RNG.standard_normal(x.shape)
    H = srcad.hessian(f)(x).reshape(x.size, x.size)
    np.testing.assert_allclose(srcad.hvp(f)(x, v).ravel(), H @ v.ravel(), rtol=1e-8,
                               atol=1e-10)
    np.testing.assert_allclose(H, H.T, rtol=1e-7, atol=1e-9)


def interp_all(x, xp, fp):
    return np.sum(np.interp(x, xp, fp) ** 2 * x)


def test_second_order_of_interp_in_every_argument():
    x = np.array([-1.5, -0.7, 0.1, 0.6, 1.9, 2.5])
    check_grads(interp_all, (x, NODES, np.cos(NODES)), order=2)
    check_grads(interp_all, (x, NODES, np.cos(NODES)), order=2, wrt=(1, 2))


def polyval_of_rows(p, x):
    return np.sum(np.polyval(p, x))


def test_polyval_of_a_2d_p_is_an_error_not_a_derivative_along_the_wrong_axis():
    p, x = np.ones((3, 2)), np.array([0.5, 2.0])
    with pytest.raises(srcad.RuleFailedError, match="1-D p"):
        srcad.jvp(polyval_of_rows, wrt=1)(p, x, np.ones(2))


def convolve_scalar(a, v):
    return np.sum(np.convolve(a, v) ** 2) + np.sum(np.correlate(v, a * v, "full") ** 3)


def test_convolve_with_a_scalar_gives_a_scalar_adjoint():
    v = np.array([1.0, 2.0, -1.0])
    ga, gv = srcad.grad(convolve_scalar, wrt=(0, 1))(0.7, v)
    assert np.shape(ga) == () and gv.shape == (3,)
    check_grads(convolve_scalar, (0.7, v), order=2)


def test_interp_at_a_nan_point_has_nan_derivatives():
    x = np.array([0.5, np.nan])
    gx, gfp = srcad.grad(interp_at, wrt=(0, 1))(x, FP)
    assert gx[0] == pytest.approx(2.0) and np.isnan(gx[1]) and np.isnan(gfp).all()


# ---- helpers' arguments taken as constants: a derivative reaching one is an error ------------

A = np.array([[0.3, -1.2, 2.0, 0.7], [1.1, 0.2, -0.4, -2.2]])


def quantile_helper(g, q):
    return np.sum(runtime_statistics.quantile_adjoint(g, A, 1, False, np.quantile, q) ** 2)


def gradient_helper(t, h):
    return np.sum(runtime_sampled.gradient_of(t, (h,), None, 1) ** 2)


def interp_helper(x, p):
    return np.sum(runtime_sampled.interp_slope(x, XP, FP, p) ** 2)


@pytest.mark.parametrize("f, args", [
    (quantile_helper, (np.array([0.5, -1.0]), 0.3)),
    (gradient_helper, (np.array([0.5, -1.0, 2.0]), 0.7)),
    (interp_helper, (np.array([0.5, 2.2]), 4.0))])
def test_a_derivative_reaching_a_helpers_constant_is_an_error(f, args):
    check_grads(f, args, wrt=0)                       # the constant left constant: fine
    with pytest.raises(srcad.RuleFailedError, match="srcad has no derivative in"):
        srcad.grad(f, wrt=1)(*args)
    with pytest.raises(srcad.RuleFailedError, match="srcad has no derivative in"):
        srcad.jvp(f, wrt=1)(*args, 1.0)
