"""A Python list or tuple given where NumPy takes an array (issue 12, issue 13 part 6).

Normal form converts it with an explicit `numpy.asarray` (srcad/array_arguments.py), so every
rule sees an array. Each function below passes lists or tuples of differentiated arrays or
scalars to a NumPy function; grad, jvp, vjp and hvp are checked against central differences
and against autograd (where the list is made an array explicitly, as autograd needs).
"""

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import srcad
from srcad.array_arguments import takes_array

W = np.array([0.5, -1.0, 2.0])


def sort_of_a_list(x):
    return np.sum(np.sin(np.sort([x, 2.0 * x - 0.3], axis=0)) * W)


def sort_of_a_list_ag(x):             # (sorting two rows: their minimum, then their maximum)
    low, high = anp.minimum(x, 2.0 * x - 0.3), anp.maximum(x, 2.0 * x - 0.3)
    return anp.sum(anp.sin(anp.array([low, high])) * W)


def max_of_scalars(x):
    return np.max([x[0] * x[1], np.sin(x[2]), 0.25]) + np.mean((np.sum(x * x), x[0]))


def max_of_scalars_ag(x):
    return anp.max(anp.array([x[0] * x[1], anp.sin(x[2]), 0.25])) + anp.mean(
        anp.array([anp.sum(x * x), x[0]]))


def ufunc_of_a_nested_list(x):
    return np.sum(np.tanh([[x[0], x[1] * x[2]], [x[2], 1.5]]) * np.array([[1.0, 2.0], [3.0, 4.0]]))


def ufunc_of_a_nested_list_ag(x):
    return anp.sum(anp.tanh(anp.array([[x[0], x[1] * x[2]], [x[2], 1.5]]))
                   * np.array([[1.0, 2.0], [3.0, 4.0]]))


def products_of_tuples(x):
    return np.dot((x[0], x[1] * 2.0), x[1:]) + np.sum(np.cumsum((x, np.cos(x)), axis=1) ** 2)


def products_of_tuples_ag(x):
    return anp.dot(anp.array([x[0], x[1] * 2.0]), x[1:]) + anp.sum(
        anp.cumsum(anp.array([x, anp.cos(x)]), axis=1) ** 2)


def where_and_prod_of_lists(x):
    return np.sum(np.where(x > 0.0, [x[1], x[2], x[0]], x * x)) + np.prod([x[0], x[1], 1.5])


def where_and_prod_of_lists_ag(x):
    return anp.sum(anp.where(x > 0.0, anp.array([x[1], x[2], x[0]]), x * x)) + anp.prod(
        anp.array([x[0], x[1], 1.5]))


def lists_by_name(x):
    rows = [x, 2.0 * x - 0.3]
    items = []
    for i in range(2):
        items.append(x * (i + 1.0))
    pair = (x[0], x[1] * x[2])
    return (np.sum(np.sin(np.sort(rows, axis=0)) * W) + np.sum(np.unwrap(items, axis=0) ** 2)
            + np.sum(np.sinc(pair)))


def lists_by_name_ag(x):
    low, high = anp.minimum(x, 2.0 * x - 0.3), anp.maximum(x, 2.0 * x - 0.3)
    shifted = anp.array([x, 2.0 * x])    # (unwrap keeps the steps x, below pi, as they are)
    pair = anp.array([x[0], x[1] * x[2]])
    return (anp.sum(anp.sin(anp.array([low, high])) * W) + anp.sum(shifted ** 2)
            + anp.sum(anp.sin(np.pi * pair) / (np.pi * pair)))


CASES = [(lists_by_name, lists_by_name_ag), (sort_of_a_list, sort_of_a_list_ag),
         (max_of_scalars, max_of_scalars_ag),
         (ufunc_of_a_nested_list, ufunc_of_a_nested_list_ag),
         (products_of_tuples, products_of_tuples_ag),
         (where_and_prod_of_lists, where_and_prod_of_lists_ag)]


def _away_from_kinks(x):
    """True where every function above is differentiable, with room for central differences
    (no tie in a sort or a max, no entry at the sign change of `where`)."""
    return (np.min(np.abs(x)) > 0.05 and np.min(np.abs(x - 0.3)) > 0.05
            and np.min(np.abs(np.subtract.outer(x, x)) + np.eye(3)) > 0.05
            and abs(x[0] * x[1] - np.sin(x[2])) > 0.05
            and abs(max(x[0] * x[1], np.sin(x[2])) - 0.25) > 0.05)


POINTS = hnp.arrays(np.float64, 3, elements=st.floats(-1.5, 1.5)).filter(_away_from_kinks)


def numeric(f, x, eps=1e-6):
    return np.array([(f(x + eps * e) - f(x - eps * e)) / (2 * eps) for e in np.eye(x.size)])


@pytest.mark.parametrize("f, reference", CASES, ids=[c[0].__name__ for c in CASES])
@settings(max_examples=8, deadline=None)
@given(x=POINTS, v=hnp.arrays(np.float64, 3, elements=st.floats(-1.0, 1.0)))
def test_lists_given_to_numpy_in_every_mode(f, reference, x, v):
    expected = numeric(f, x)
    np.testing.assert_allclose(autograd.grad(reference)(x), expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(srcad.grad(f)(x), autograd.grad(reference)(x), rtol=1e-9,
                               atol=1e-12)
    value, tangent = srcad.jvp(f)(x, v)
    assert value == pytest.approx(f(x)) and tangent == pytest.approx(expected @ v, abs=1e-7)
    value, pullback = srcad.vjp(f)(x)
    np.testing.assert_allclose(pullback(2.0), 2.0 * expected, rtol=1e-5, atol=1e-7)
    hvp = autograd.hessian_vector_product(reference)(x, v)
    np.testing.assert_allclose(numeric(lambda y: autograd.grad(reference)(y) @ v, x), hvp,
                               rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(srcad.hvp(f)(x, v), hvp, rtol=1e-8, atol=1e-10)


def test_the_conversion_is_explicit_in_the_generated_code():
    text = srcad.source(srcad.grad(sort_of_a_list), np.array([0.3, -0.7, 1.1]))
    assert "np.asarray([x, " in text and "np.sort(" in text
    text = srcad.source(srcad.grad(lists_by_name), np.array([0.3, -0.7, 1.1]))
    assert "np.asarray(rows)" in text and "np.asarray(pair)" in text


@pytest.mark.parametrize("func, position, keyword, expected", [
    (np.sort, 0, None, True), (np.sum, 0, None, True), (np.where, 1, None, True),
    (np.trapezoid, None, "x", True), (np.add, 1, None, True), (np.dot, 0, None, True),
    (np.concatenate, 0, None, False), (np.stack, 0, None, False),
    (np.einsum, 1, None, False), (np.reshape, 1, None, False), (np.add, None, "out", False),
    (np.asarray, 0, None, False), (np.array, 0, None, False), (np.sum, None, "axis", False),
    (sort_of_a_list, 0, None, False), (np.ones(3).sum, 0, None, False)])
def test_which_arguments_numpy_takes_as_arrays(func, position, keyword, expected):
    assert takes_array(func, position, keyword) is expected
