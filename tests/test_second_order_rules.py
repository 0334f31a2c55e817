"""Second derivatives through the rules of Python's math and builtins, numpy.sort and
numpy.linalg: generated gradients call helpers (solve_columns, tril_halved, sort_adjoint, ...)
whose own rules let srcad differentiate them again.

Each check compares forward over reverse (`hvp`, `hessian`) and reverse over reverse with
central differences of srcad's gradient (`check_grads(order=2)`); the log-determinant also has
an analytic Hessian.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import srcad
from srcad.testing import check_grads

values = st.floats(-1.0, 1.0, allow_nan=False, width=64)


def logdet_rank_one(x, A):
    sign, logdet = np.linalg.slogdet(A + np.outer(x, x))
    return logdet


def logdet_rank_one_hessian(x, A):
    """Hessian of log det(A + x x^T) for symmetric A: 2 ((1 - x.w) M^-1 - w w^T), w = M^-1 x."""
    inverse = np.linalg.inv(A + np.outer(x, x))
    w = inverse @ x
    return 2.0 * ((1.0 - x @ w) * inverse - np.outer(w, w))


@given(hnp.arrays(np.float64, (3,), elements=values), st.integers(0, 1000))
def test_hessian_of_logdet_of_a_rank_one_update(x, seed):
    B = np.random.default_rng(seed).standard_normal((3, 3))
    A = B @ B.T / 3 + np.eye(3)
    H = srcad.hessian(logdet_rank_one)(x, A)
    np.testing.assert_allclose(H, logdet_rank_one_hessian(x, A), rtol=1e-9, atol=1e-12)
    v = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(srcad.hvp(logdet_rank_one)(x, A, v), H @ v, rtol=1e-9,
                               atol=1e-12)
    grad = srcad.grad(logdet_rank_one)
    eps = 1e-6
    numeric = np.stack([(grad(x + eps * e, A) - grad(x - eps * e, A)) / (2 * eps)
                        for e in np.eye(3)], axis=1)
    np.testing.assert_allclose(H, numeric, rtol=1e-5, atol=1e-7)


# ---- second derivatives through each family of new rules -----------------------------------

RNG = np.random.default_rng(3)
SPD = (lambda b: b @ b.T / 3 + np.eye(3))(RNG.standard_normal((3, 3)))
STACK = RNG.standard_normal((2, 3, 3)) / 6 + 2 * np.eye(3)
W = RNG.standard_normal((3, 3))


def det_and_inverse(A):
    return np.linalg.det(A) * np.sum(W * np.linalg.inv(A))


def det_of_stack(A):
    return np.sum(np.linalg.det(A) ** 2)


def solve_vector(A, b):
    return np.sum(np.tanh(np.linalg.solve(A, b)))


def solve_stack_of_vectors(A, b):
    x = np.linalg.solve(A, b)                 # A is a stack, b one vector: x is (2, 3)
    return np.sum(x * x * x)


def solve_matrices(A, b):
    return np.sum(np.sin(np.linalg.solve(A, b)))


def cholesky_of(A):
    L = np.linalg.cholesky(A)
    return np.sum(W * L * L)


def cholesky_of_a_product(B):
    return np.sum(np.tanh(np.linalg.cholesky(B @ B.T + np.eye(3))))


def sort_square(x):
    return np.sum(np.sort(x, axis=0) * W[:, :2] * np.sort(x, axis=None).reshape(3, 2))


def sum_of_a_list(x, y):
    return np.sum(sum([x * y, np.sin(x)], y * y))


def math_functions(x):
    return (math.exp(x) * math.sin(x) + math.erf(x) + math.pow(math.cosh(x), 1.5)
            + math.atan2(x, 2.0) + math.log1p(x * x) + max(x, 0.25) * min(x * x, 2.0))


def item_of(x):
    return x.item() ** 3 + np.sum(x) * x.item()


CHECKS = [
    (det_and_inverse, (STACK[0],)),
    (det_of_stack, (STACK,)),
    (logdet_rank_one, (np.array([0.3, -0.2, 0.5]), SPD)),
    (solve_vector, (STACK[1], np.array([1.0, -0.5, 0.25]))),
    (solve_stack_of_vectors, (STACK, np.array([1.0, -0.5, 0.25]))),
    (solve_matrices, (STACK, RNG.standard_normal((2, 3, 2)))),
    (cholesky_of, (SPD,)),
    (cholesky_of_a_product, (RNG.standard_normal((3, 3)),)),
    (sort_square, (np.array([[0.3, -1.2], [2.0, 0.7], [-0.4, 1.1]]),)),
    (sum_of_a_list, (np.array([0.3, -1.2, 0.8]), np.array([0.5, 1.5, -0.7]))),
    (math_functions, (0.6,)),
    (item_of, (np.array([[0.7]]),)),
]


@pytest.mark.parametrize("f, args", CHECKS, ids=[f.__name__ for f, _ in CHECKS])
def test_second_derivatives(f, args):
    wrt = tuple(range(len(args))) if f is not logdet_rank_one else 0
    check_grads(f, args, order=2, wrt=wrt)


def test_math_gradients_of_floats_are_floats():
    x = 0.6
    assert type(srcad.grad(math_functions)(x)) is float
    assert type(srcad.grad(srcad.grad(math_functions))(x)) is float
    assert srcad.grad(math_functions)(x) == pytest.approx(
        (math_functions(x + 1e-6) - math_functions(x - 1e-6)) / 2e-6, rel=1e-6)


def sum_of_rows(x):
    return np.sum(sum(x))


def test_sum_of_an_array_is_a_clear_error():
    with pytest.raises(srcad.RuleFailedError, match=r"numpy.sum\(x, axis=0\)") as error:
        srcad.grad(sum_of_rows)(np.ones((2, 3)))
    assert error.value.location.lineno == sum_of_rows.__code__.co_firstlineno + 1


def rectified(x, y):
    """maximum and minimum against numbers (the mask form `x > 0`) and of two arrays, under
    smooth functions, so the second derivative is not zero away from the kinks."""
    relu = np.maximum(x, 0.0)
    capped = np.minimum(0.5, np.tanh(x))
    return np.sum(relu * relu * np.sin(y) + capped ** 3 + np.maximum(x * y, y) ** 2) + \
        max(float(x[0]), 0.0) ** 3


@given(hnp.arrays(np.float64, (4,), elements=st.sampled_from([-1.3, -0.7, -0.2, 0.3, 0.9, 1.6])),
       hnp.arrays(np.float64, (4,), elements=st.sampled_from([-1.1, -0.4, 0.6, 1.2])))
def test_second_derivatives_through_relu_masks_away_from_the_kinks(x, y):
    """hvp and hessian through `d * (x > 0)` against autograd's Hessian and central
    differences of srcad's gradient; the points stay away from ties (x == 0, tanh(x) == 0.5,
    x * y == y)."""
    import autograd
    import autograd.numpy as anp

    def by_autograd(x, y):
        relu = anp.maximum(x, 0.0)
        capped = anp.minimum(0.5, anp.tanh(x))
        return anp.sum(relu * relu * anp.sin(y) + capped ** 3 + anp.maximum(x * y, y) ** 2) + \
            anp.maximum(x[0], 0.0) ** 3

    expected = autograd.hessian(by_autograd)(x, y)
    np.testing.assert_allclose(srcad.hessian(rectified)(x, y), expected, rtol=1e-9, atol=1e-12)
    v = np.linspace(-1.0, 1.0, 4)
    np.testing.assert_allclose(srcad.hvp(rectified)(x, y, v), expected @ v, rtol=1e-9,
                               atol=1e-12)
    check_grads(rectified, (x, y), order=2, wrt=(0, 1))
