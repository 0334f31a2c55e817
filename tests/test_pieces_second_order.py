"""Second derivatives through the rules of templates/pieces.py and templates/solvers.py (insert,
block, meshgrid, broadcast_arrays, choose; lstsq, multi_dot, vector_norm, matrix_norm, cond,
tensorinv, tensorsolve): forward over reverse and reverse over reverse against central
differences of srcad's gradient, and hvp against the Hessian. Then what these rules refuse,
and the conventions they keep (integers, zero vectors), each at the user's line."""

import numpy as np
import pytest

import srcad
from srcad.testing import check_grads

RNG = np.random.default_rng(5)
SPREAD = np.diag([1.0, 2.5, 4.0])
CHOICE = np.array([[0, 2, 1], [1, 0, 2], [2, 2, 0]])
EYE = 3.0 * np.eye(6).reshape(2, 3, 2, 3)


def pieces(x):
    m = np.block([[x, x[:, :1] * 2.0], [x[:1] ** 2, 1.5]])
    p, q = np.meshgrid(x[0], x[1] ** 2)
    s, t = np.broadcast_arrays(x[:, :1], x[2])
    i = np.insert(x, [0, 2], np.sin(x[:, 1:2]), axis=1)
    c = np.choose(CHOICE, [x, x * x, np.cos(x)], mode="clip")
    g = np.meshgrid(x[0], x[1], x[2], indexing="ij", sparse=True)
    return (np.sum(np.sin(m)) + np.sum(p * q * q) + np.sum(s * t * t) + np.sum(i ** 3)
            + np.sum(c * c) + np.sum(np.tanh(g[0] * g[1] + g[2])))


def solvers(x):
    a = x + SPREAD
    tall = np.vstack([a, x[:1] + 0.5])
    rhs = np.concatenate([x[:, 0], x[1, :1]]) + 1.0
    solution, residuals, rank, singular = np.linalg.lstsq(tall, rhs)
    wide = np.linalg.lstsq(a[:2], x[2, :2], rcond=None)[0]
    return (np.sum(np.sin(solution)) + np.sum(residuals) + np.sum(singular ** 2)
            + np.sum(wide ** 2) + np.sum(np.linalg.multi_dot([x[0], a, x, x[:, 1]]) ** 2)
            + np.sum(np.linalg.vector_norm(x, axis=0, ord=3) ** 2) + np.linalg.vector_norm(x)
            + np.sum(np.linalg.matrix_norm(a, ord="nuc")) + np.linalg.matrix_norm(x) ** 3
            + np.linalg.cond(a) + np.linalg.cond(a, "fro"))


def tensors(x):
    a = EYE + np.reshape(np.outer(np.ravel(x)[:6], np.sin(np.ravel(x)[3:])), (2, 3, 2, 3))
    b = np.reshape(np.ravel(x)[:6], (2, 3))
    return np.sum(np.sin(np.linalg.tensorinv(a))) + np.sum(np.linalg.tensorsolve(a, b) ** 2)


@pytest.mark.parametrize("f", [pieces, solvers, tensors])
def test_second_order(f):
    x = RNG.uniform(-0.5, 0.5, (3, 3))
    check_grads(f, (x,), order=2)
    v = RNG.standard_normal((3, 3))
    H = srcad.hessian(f)(x).reshape(9, 9)
    np.testing.assert_allclose(H, H.T, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(srcad.hvp(f)(x, v).ravel(), H @ v.ravel(), rtol=1e-8,
                               atol=1e-10)


# ---- what the rules refuse, and their conventions -----------------------------------------


def least_squares(a, b):
    return np.sum(np.linalg.lstsq(a, b)[0])


@pytest.mark.parametrize("mode", ["grad", "jvp"])
def test_lstsq_of_a_rank_deficient_matrix_is_an_error_at_the_users_line(mode):
    a, b = np.ones((4, 2)), np.arange(4.0)
    derivative = srcad.grad(least_squares) if mode == "grad" else (
        lambda a, b: srcad.jvp(least_squares)(a, b, np.ones((4, 2))))
    with pytest.raises(srcad.RuleFailedError, match=r"lstsq .*full rank.* rank 1") as error:
        derivative(a, b)
    assert error.value.location.lineno == least_squares.__code__.co_firstlineno + 1


def chain_of(a):
    return np.sum(np.linalg.multi_dot([a] * 60))


def test_multi_dot_of_too_many_arrays_is_an_error():
    with pytest.raises(srcad.RuleFailedError, match="multi_dot of at most 51 arrays"):
        srcad.grad(chain_of)(np.eye(2))


def insert_into_integers(v):
    return np.sum(np.insert(np.arange(4), [1, 3], v * 2.0) * 1.0)


def insert_into_floats(v):
    return np.sum(np.insert(np.arange(4.0), [1, 3], v * 2.0) * 1.0)


def test_insert_rounds_into_an_integer_array_so_its_derivative_is_zero():
    assert srcad.grad(insert_into_integers)(0.7) == 0.0
    assert srcad.jvp(insert_into_integers)(0.7, 1.0)[1] == 0.0
    assert srcad.grad(insert_into_floats)(0.7) == 4.0
    assert srcad.jvp(insert_into_floats)(0.7, 1.0)[1] == 4.0


def norms_at_zero(x):
    return (np.linalg.vector_norm(x) + np.linalg.vector_norm(x, ord=3)
            + np.sum(np.linalg.matrix_norm(np.reshape(x, (2, 2)))))


def norm_at_zero(x):
    return np.linalg.norm(x) + np.linalg.norm(x, ord=3) + np.linalg.norm(np.reshape(x, (2, 2)))


def test_norms_at_a_zero_vector_follow_linalg_norm():
    zero = np.zeros(4)
    np.testing.assert_array_equal(srcad.grad(norms_at_zero)(zero), srcad.grad(norm_at_zero)(zero))
    assert np.all(srcad.grad(norms_at_zero)(zero) == 0.0)


def grids(a, b):
    return np.meshgrid(a, b, copy=False)


def broadcast(a, b):
    return np.broadcast_arrays(a, b)


def test_tuples_of_grids_come_back_as_tuples_with_their_tangents():
    a, b = np.array([1.0, 2.0]), np.array([3.0, 4.0, 5.0])
    (x, y), (dx, dy) = srcad.jvp(grids, wrt=(0, 1))(a, b, np.ones(2), np.zeros(3))
    np.testing.assert_array_equal(x, np.meshgrid(a, b)[0])
    np.testing.assert_array_equal(dx, np.ones((3, 2)))
    np.testing.assert_array_equal(dy, np.zeros((3, 2)))
    _, pullback = srcad.vjp(broadcast, wrt=(0, 1))(a[:, None], b)
    ga, gb = pullback((np.ones((2, 3)), 2.0 * np.ones((2, 3))))
    np.testing.assert_array_equal(ga, 3.0 * np.ones((2, 1)))
    np.testing.assert_array_equal(gb, 4.0 * np.ones(3))


def linspace_of_a_list(s, t):
    return np.sum(np.linspace([s, t], 3.0, 4) ** 2)


def least_squares_of_a_list(s, t):
    return np.sum(np.linalg.lstsq(SPREAD, [s, t * s, 1.0])[0] ** 2)


@pytest.mark.parametrize("f", [linspace_of_a_list, least_squares_of_a_list])
def test_tangents_of_a_list_written_in_the_call_are_its_items(f):
    check_grads(f, (0.5, 0.7), wrt=(0, 1), order=2)


def least_squares_of_rows(s, t):
    x = np.linalg.lstsq([[1.0, s], [t, 2.0], [0.5, s * t]], [1.0, 2.0, 3.0])[0]
    return np.sum(x ** 2)


def test_lstsq_of_a_matrix_written_as_rows():
    check_grads(least_squares_of_rows, (0.3, 0.8), wrt=(0, 1))
