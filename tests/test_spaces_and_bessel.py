"""numpy.logspace, numpy.geomspace, numpy.i0, numpy.nancumprod, ndarray.compress and numpy.ix_
beyond the one-rule cases of tests/support/cases (issue 13).

Checked: srcad's I1 helper against SciPy's over the reals (relative 1e-13 where SciPy's is
finite; odd; 0, NaN and infinities); second derivatives (both modes' Hessians against central
differences of the gradient, and i0's against I0'' = I0 - I1 / x from SciPy); the errors: a
differentiated logspace base, an array of bases, a differentiated sequence given to ix_; ix_ of
constants differentiates the indexing it builds; the coverage report counts ix_ as constant and
lists none of the six as missing.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

import srcad
from srcad import coverage
from srcad.runtime_bessel import i1
from srcad.testing import check_grads
from tests.support.compare import central_gradient

MASK = np.array([False, True, False, False, True])


@given(st.floats(-709.0, 709.0, allow_nan=False))
@settings(max_examples=300, deadline=None)
def test_i1_matches_scipy(x):
    want = special.i1(x)
    np.testing.assert_allclose(i1(x), want, rtol=1e-13, atol=1e-300)
    assert i1(-x) == -i1(x)


def test_i1_near_overflow_against_the_scaled_function():
    """SciPy's i1 overflows from |x| = 709.8 (its exp(x)); I1 itself does near 713.98."""
    x = np.linspace(-713.9, 713.9, 200)
    scaled = i1(x) / np.exp(np.abs(x) - 700.0)
    np.testing.assert_allclose(scaled, special.i1e(x) * np.exp(700.0), rtol=1e-12)
    assert np.isinf(i1(714.0))


def test_i1_on_arrays_and_special_values():
    x = np.concatenate([np.linspace(-700.0, 700.0, 4001), np.geomspace(1e-300, 1.0, 301)])
    np.testing.assert_allclose(i1(x), special.i1(x), rtol=1e-13, atol=0.0)
    assert i1(0.0) == 0.0 and np.isnan(i1(np.nan))
    assert i1(np.inf) == np.inf and i1(-np.inf) == -np.inf
    assert i1(np.zeros((2, 0))).shape == (2, 0) and isinstance(i1(1.0), np.float64)


def bessel_sum(x):
    return np.sum(np.i0(x) * x)


def test_i0_to_second_order():
    x = np.array([-3.0, -0.4, 0.0, 1e-8, 0.7, 12.0])
    check_grads(bessel_sum, (x,), order=2)
    hess = srcad.hessian(i0_sum)(x)
    safe = np.where(x == 0, 1.0, x)
    second = np.where(x == 0, 0.5, special.i0(x) - special.i1(x) / safe)
    np.testing.assert_allclose(np.diag(hess), second, rtol=1e-12)


def i0_sum(x):
    return np.sum(np.i0(x))


def spaces(a, b):
    return (np.sum(np.logspace(a, b, 5, base=2.0) ** 2) + np.sum(np.geomspace(a, b, 4) * b)
            + np.sum(np.logspace(a * 0.5, b, 3, endpoint=False)))


def negative_spaces(a, b):
    return np.sum(np.geomspace(a, b, 6) ** 2) + np.sum(np.geomspace(-2.0, b, 3, endpoint=False))


def test_logspace_geomspace_to_second_order():
    check_grads(spaces, (0.3, 1.7), order=2)
    check_grads(negative_spaces, (-0.4, -1.9), order=2)
    grad = srcad.grad(spaces, wrt=(0, 1))(0.3, 1.7)
    want = central_gradient(lambda v: spaces(v[0], v[1]), np.array([0.3, 1.7]))
    np.testing.assert_allclose(grad, want, rtol=1e-7)


def nan_products(x):
    z = np.where(MASK, np.nan, x)
    return np.sum(np.nancumprod(z) ** 2) + np.sum(np.nancumprod(np.where(MASK, np.nan, x * x[0])))


def test_nancumprod_to_second_order_and_through_zeros():
    check_grads(nan_products, (np.array([0.8, -1.3, 0.5, 1.1, 0.9]),), order=2)
    check_grads(nan_products, (np.array([0.8, -1.3, 0.0, 1.1, 0.9]),), order=2)


def compressed(x):
    return np.sum(x.compress([True, False, True], axis=0) ** 3)


def test_compress_method_to_second_order():
    check_grads(compressed, (np.arange(1.0, 13.0).reshape(3, 4) / 7.0,), order=2)


def differentiated_base(a, b):
    return np.sum(np.logspace(a, 1.0, 4, base=b))


def array_of_bases(a):
    return np.sum(np.logspace(a, 1.0, 4, base=np.array([2.0, 3.0])))


def test_a_differentiated_base_is_an_error_at_the_users_line():
    for mode in (srcad.grad, srcad.jvp):
        with pytest.raises(srcad.MissingRuleError) as info:
            derivative = mode(differentiated_base, wrt=(0, 1))
            derivative(0.3, 1.7) if mode is srcad.grad else derivative(0.3, 1.7, 1.0, 1.0)
        assert "base" in str(info.value) and "numpy.logspace" in str(info.value)
        assert "np.logspace(a, 1.0, 4, base=b)" in str(info.value)


def test_an_array_of_bases_is_an_error():
    with pytest.raises(srcad.SrcadError, match="one base"):
        srcad.grad(array_of_bases)(0.3)


def picked(x):
    return np.sum(x[np.ix_([0, 2], [1, 3])] ** 2)


def ix_of_the_variable(x):
    return np.sum(np.ix_(x)[0])


def test_ix_of_constants_differentiates_and_of_a_variable_is_an_error():
    x = np.arange(16.0).reshape(4, 4)
    want = np.zeros((4, 4))
    want[np.ix_([0, 2], [1, 3])] = 2.0 * x[np.ix_([0, 2], [1, 3])]
    np.testing.assert_allclose(srcad.grad(picked)(x), want)
    with pytest.raises(srcad.MissingRuleError, match="numpy.ix_") as info:
        srcad.grad(ix_of_the_variable)(np.arange(3.0))
    assert "np.ix_(x)" in str(info.value)


def test_coverage_counts_the_six():
    data = coverage.report()
    assert "ix_" in data["other numpy functions"]["constant"]
    for family, name in [("other numpy functions", "logspace"),
                         ("other numpy functions", "geomspace"), ("other numpy functions", "i0"),
                         ("other numpy functions", "nancumprod"),
                         ("ndarray methods", "ndarray.compress")]:
        assert name in data[family]["differentiated"], name
