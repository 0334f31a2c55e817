"""numpy.linalg forms the wide tester found (issue 12, family `linalg`), each right in grad,
jvp, vjp and hvp or a SrcadError at the user's line; and the points where a decomposition has
no derivative, where srcad gives inf or NaN (never a finite wrong number) and the wide oracle
counts the call as "no derivative here" (tests/support/wide_degenerate.py).

Right numbers are checked against central differences and autograd (on an equivalent formula
where autograd lacks the function) or an analytic derivative.
"""

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

import srcad
from tests.support import wide_degenerate
from tests.support.wide_check import check_scenario
from tests.support.wide_strategy import Scenario

RNG = np.random.default_rng(5)
X34 = RNG.uniform(-1.5, 1.5, (3, 4))
V34 = RNG.standard_normal((3, 4))
X3 = np.array([0.3, -0.7, 1.1])
V3 = np.array([0.2, 0.5, -0.4])


def _fd(f, x, v, h=1e-6):
    return (f(x + h * v) - f(x - h * v)) / (2 * h)


def _all_modes(f, x, v):
    """(grad . v, jvp, vjp(1) . v, hvp) of `f` at `x` along `v`."""
    return (np.sum(srcad.grad(f)(x) * v), srcad.jvp(f)(x, v)[1],
            np.sum(srcad.vjp(f)(x)[1](1.0) * v), srcad.hvp(f)(x, v))


# ---- errors at the user's line, from inside hvp and from a rule's temporaries ---------------


def qr_of_a_wide_matrix(x):
    return np.sum(np.sin(np.linalg.qr(x)[1]))


def full_svd_of_a_wide_matrix(x):
    return np.sum(np.sin(np.linalg.svd(x, full_matrices=True)[1]))


def decomposed(a, *, full):
    return np.linalg.svd(a, full_matrices=full)[1]


def full_svd_through_a_helper(x):
    return np.sum(np.sin(decomposed(a=x, full=True)))


@pytest.mark.parametrize("f, line", [
    (qr_of_a_wide_matrix, qr_of_a_wide_matrix.__code__.co_firstlineno + 1),
    (full_svd_of_a_wide_matrix, full_svd_of_a_wide_matrix.__code__.co_firstlineno + 1),
    (full_svd_through_a_helper, decomposed.__code__.co_firstlineno + 1),
])
@pytest.mark.parametrize("mode", ["grad", "jvp", "vjp", "hvp"])
def test_a_rule_failing_in_any_mode_names_the_users_line(f, line, mode):
    x = X34[:2] if f is qr_of_a_wide_matrix else X34
    v = np.ones_like(x)
    call = {"grad": lambda: srcad.grad(f)(x), "jvp": lambda: srcad.jvp(f)(x, v),
            "vjp": lambda: srcad.vjp(f)(x)[1](1.0), "hvp": lambda: srcad.hvp(f)(x, v)}[mode]
    with pytest.raises(srcad.RuleFailedError) as error:
        call()
    assert error.value.location.filename == __file__
    assert error.value.location.lineno == line


# ---- lists of matrices given to pinv and matrix_power ---------------------------------------


def pinv_of_a_list(x):
    return np.sum(np.sin(np.linalg.pinv([x, 2.0 * x[::-1]])))


def pinv_of_a_list_autograd(x):           # full row rank: pinv(a) = a^T (a a^T)^-1
    a = anp.stack([x, 2.0 * x[::-1]])
    at = anp.swapaxes(a, -1, -2)
    return anp.sum(anp.sin(at @ anp.linalg.inv(a @ at)))


def power_of_a_list(x):
    return np.sum(np.sin(np.linalg.matrix_power([x[:, :3], x[:, 1:]], 2)))


def power_of_a_list_autograd(x):
    a = anp.stack([x[:, :3], x[:, 1:]])
    return anp.sum(anp.sin(a @ a))


@pytest.mark.parametrize("f, reference", [(pinv_of_a_list, pinv_of_a_list_autograd),
                                          (power_of_a_list, power_of_a_list_autograd)])
def test_a_list_of_matrices_is_differentiated_in_every_mode(f, reference):
    grad, jvp, vjp, hvp = _all_modes(f, X34, V34)
    expected = np.sum(autograd.grad(reference)(X34) * V34)
    assert _fd(f, X34, V34) == pytest.approx(expected, rel=1e-6)
    for got in (grad, jvp, vjp):
        assert got == pytest.approx(expected, rel=1e-9)
    np.testing.assert_allclose(hvp, autograd.hessian_vector_product(reference)(X34, V34),
                               rtol=1e-8, atol=1e-10)


# ---- points without a derivative: inf or NaN, never a finite wrong number -------------------


def eigenvectors_at_a_repeated_eigenvalue(x):
    return np.sum(np.sin(np.linalg.eigh(np.outer(x, x) + 3.0 * np.eye(3))[1]))


def singular_vectors_at_a_repeated_value(x):
    return np.sum(np.sin(np.linalg.svd(np.outer(x, x) + 3.0 * np.eye(3))[0]))


def singular_vectors_of_a_rank_one_matrix(x):
    return np.sum(np.sin(np.linalg.svd(np.outer(x, x))[2]))


@pytest.mark.parametrize("f", [eigenvectors_at_a_repeated_eigenvalue,
                               singular_vectors_at_a_repeated_value,
                               singular_vectors_of_a_rank_one_matrix])
def test_vectors_where_they_have_no_derivative_are_not_finite(f):
    with np.errstate(all="ignore"):
        results = _all_modes(f, X3, V3)
    for got in results:
        assert not np.all(np.isfinite(got)), got
    with wide_degenerate.watching() as reasons:
        f(X3)
    assert reasons


def eigenvalues_at_a_repeated_one(x):
    return np.sum(np.sin(np.linalg.eigh(np.outer(x, x) + 3.0 * np.eye(3))[0]))


def singular_values_at_a_repeated_one(x):
    return np.sum(np.sin(np.linalg.svd(np.outer(x, x) + 3.0 * np.eye(3))[1]))


@pytest.mark.parametrize("f", [eigenvalues_at_a_repeated_one, singular_values_at_a_repeated_one])
def test_a_symmetric_function_of_repeated_values_keeps_its_derivative(f):
    """The spectrum is 3, 3, 3 + |x|^2: the sum of sines is 2 sin 3 + sin(3 + |x|^2)."""
    analytic = np.cos(3.0 + X3 @ X3) * 2.0 * X3 @ V3
    with np.errstate(all="ignore"):
        grad, jvp, vjp, _ = _all_modes(f, X3, V3)
    assert _fd(f, X3, V3) == pytest.approx(analytic, rel=1e-6)
    for got in (grad, jvp, vjp):
        assert got == pytest.approx(analytic, rel=1e-9)


def test_distinct_values_are_not_flagged():
    with wide_degenerate.watching() as reasons:
        np.linalg.eigh(np.outer(X3, X3) + np.diag([3.0, 4.0, 5.0]))
        np.linalg.svd(X34)
        np.linalg.qr(X34.T)
        np.linalg.norm(X34, "nuc")
    assert reasons == []


# ---- the oracle: no derivative here is not a disagreement -----------------------------------

_PROGRAM = ("import numpy as np\n\n\ndef f(x0):\n"
            "    return np.sum(np.sin(np.linalg.eigh(np.outer(x0, x0) + {diagonal})[1]))\n")


@pytest.mark.parametrize("diagonal, degenerate", [("3.0 * np.eye(3)", True),
                                                  ("np.diag([3.0, 4.0, 5.0])", False)])
def test_the_oracle_counts_points_without_a_derivative(diagonal, degenerate):
    scenario = Scenario([_PROGRAM.format(diagonal=diagonal)], [("call", 0)], [((3,),)],
                        "function", [])
    report = check_scenario(scenario, 0)
    assert not report.failures, report.failures
    assert (report.degenerate, report.agreed > 0) == ((1, False) if degenerate else (0, True))
