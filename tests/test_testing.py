"""srcad.testing.check_grads: it passes on right derivatives and catches wrong custom rules,
saying which argument, which element, what was expected and what srcad gave."""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import srcad
from srcad import d
from srcad.testing import check_grads


def softplus_wrong_adjoint(x):
    return np.log1p(np.exp(x))


@srcad.register_adjoint(softplus_wrong_adjoint)
def _wrong_adjoint(y, x):
    d[x] += d[y] * np.exp(x)                  # right: d[y] / (1 + exp(-x))


def softplus_wrong_tangent(x):
    return np.log1p(np.exp(x))


@srcad.register_tangent(softplus_wrong_tangent)
def _wrong_tangent(y, x):
    d[y] = d[x] * 0.5


def logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


def softplus_by_rule(x):
    return np.log1p(np.exp(x))


@srcad.register_adjoint(softplus_by_rule)
def _softplus_by_rule(y, x):
    d[x] += d[y] * logistic(x)               # right, and logistic is differentiated again


def logistic_wrong_tangent(x):
    return 1.0 / (1.0 + np.exp(-x))


@srcad.register_tangent(logistic_wrong_tangent)
def _logistic_wrong_tangent(y, x):
    d[y] = d[x] * y                          # right: d[x] * y * (1 - y)


def softplus_second_wrong(x):
    return np.log1p(np.exp(x))


@srcad.register_adjoint(softplus_second_wrong)
def _softplus_second_wrong(y, x):
    d[x] += d[y] * logistic_wrong_tangent(x)  # first derivative right, second wrong


def model(x, W, b):
    return np.sum(W * np.log1p(np.exp(x)) + b) + np.sum(x * W)


def model_with(rule):
    def f(x, W, b):
        return np.sum(W * rule(x) + b) + np.sum(x * W)
    return f


def arguments(n=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(n), rng.standard_normal(n), rng.standard_normal(n)


@given(n=st.integers(1, 6), seed=st.integers(0, 2 ** 16))
def test_right_derivatives_pass(n, seed):
    report = check_grads(model, arguments(n, seed))
    assert report.max_error < 1e-6
    names = " ".join(what for what, _, _ in report.checks)
    assert all(f"argument `{p}`" in names for p in ("x", "W", "b"))
    assert "forward mode" in names and "<J^T u, v>" in names
    report = check_grads(model, arguments(n, seed), order=2, wrt="x")
    assert report.max_error < 1e-4 and len(report.checks) == 3


def test_a_wrong_adjoint_is_caught_naming_argument_and_index():
    f = model_with(softplus_wrong_adjoint)
    x, W, b = arguments()
    with pytest.raises(AssertionError) as caught:
        check_grads(f, (x, W, b), modes="rev")
    message = str(caught.value)
    assert "gradient of argument `x` at index (" in message
    got, expected = map(float, re.findall(r"gives (\S+), expected (\S+) ", message)[0])
    index = int(re.search(r"index \((\d+),\)", message).group(1))
    # both are u * W[i] * (rule + 1) for the check's random cotangent u: their ratio is not
    assert np.isclose(got / expected, (np.exp(x[index]) + 1) / (logistic(x[index]) + 1),
                      rtol=1e-5)
    check_grads(f, (x, W, b), wrt=("W", "b"))          # the other arguments are right
    check_grads(f, (x, W, b), modes="fwd")              # forward mode does not use the rule


def test_a_wrong_tangent_is_caught():
    f = model_with(softplus_wrong_tangent)
    with pytest.raises(AssertionError, match=r"forward mode \(jvp\).*srcad gives .* expected"):
        check_grads(f, arguments(), modes="fwd")
    check_grads(f, arguments(), modes="rev")


def test_order_two_catches_a_wrong_second_derivative():
    right, wrong = model_with(softplus_by_rule), model_with(softplus_second_wrong)
    args = arguments()
    check_grads(right, args, order=2, modes="fwd", wrt="x")
    check_grads(wrong, args, wrt="x")                   # first derivatives are right
    with pytest.raises(AssertionError, match=r"Hessian-vector product.*argument `x`.*index"):
        check_grads(wrong, args, order=2, modes="fwd", wrt="x")


def test_order_two_reverse_over_reverse():
    def f(x, W):
        return np.sum(np.tanh(W @ x) ** 2)
    rng = np.random.default_rng(1)
    report = check_grads(f, (rng.standard_normal(3), rng.standard_normal((2, 3))), order=2)
    assert any("reverse over reverse" in what for what, _, _ in report.checks)


def test_options_are_checked():
    with pytest.raises(ValueError, match="order=3"):
        check_grads(model, arguments(), order=3)
    with pytest.raises(ValueError, match="'fwd' or 'rev'"):
        check_grads(model, arguments(), modes=("sideways",))
