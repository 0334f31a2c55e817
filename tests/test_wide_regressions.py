"""Regressions found by the wide-grammar tester (tests/support/wide_*.py) after the first round
of fixes: each the right number in both modes, checked against central differences."""

import ast

import numpy as np
import pytest

import srcad
from srcad import rules

act = np.tanh


def uses_act(x):
    return np.sum(act(x) * x)


def numeric(f, x, eps=1e-6):
    return np.array([(f(x + eps * e) - f(x - eps * e)) / (2 * eps) for e in np.eye(x.size)])


X = np.array([0.3, -0.7, 1.1])


def test_second_derivatives_follow_a_rebound_global():
    global act
    hvp, hessian, v = srcad.hvp(uses_act), srcad.hessian(uses_act), np.array([1.0, 2.0, -1.0])
    try:
        for new in (np.tanh, np.cos, np.sin, np.tanh):
            act = new
            for _ in range(2):
                numeric_hessian = np.array([numeric(lambda y, j=j: numeric(uses_act, y)[j], X,
                                                    1e-4) for j in range(3)])
                np.testing.assert_allclose(hessian(X), numeric_hessian, rtol=1e-4, atol=1e-6)
                np.testing.assert_allclose(hvp(X, v), numeric_hessian @ v, rtol=1e-4,
                                           atol=1e-6)
    finally:
        act = np.tanh


def clip_crossing(x):
    return np.sum(np.sin(np.clip(x, x[::-1], 0.5)))


def clip_keywords(x):
    return np.sum(np.sin(np.clip(x, min=-0.5, max=x[::-1] * 0.3)))


def clip_method(x):
    return np.sum(np.sin(x.clip(x[::-1] - 0.2, x[::-1] * 0.5)))


def clip_array_bounds(x):
    return np.sum(np.cos(np.clip(x * 2.0, x - 0.1, 0.4 * x[::-1])))


@pytest.mark.parametrize("f", [clip_crossing, clip_keywords, clip_method, clip_array_bounds])
@pytest.mark.parametrize("x", [X, np.array([0.9, 0.1, -0.4]), np.array([-1.2, 0.6, 0.05])])
def test_clip_sends_the_derivative_where_numpy_takes_the_value_from(f, x):
    expected = numeric(f, x)
    np.testing.assert_allclose(srcad.grad(f)(x), expected, rtol=1e-6, atol=1e-8)
    for e in np.eye(3):
        assert srcad.jvp(f)(x, e)[1] == pytest.approx(expected @ e, rel=1e-6, abs=1e-8)


def _derivatives_in(node):
    return [n for n in ast.walk(node) if isinstance(n, ast.Subscript)
            and isinstance(n.value, ast.Name) and n.value.id == "d"]


def test_no_template_passes_two_derivatives_to_one_call():
    """A call in a template is taken to be linear in its derivative argument, so a zero one
    makes it zero (`template.fold_zeros`): a call given two derivatives (`numpy.append(d[a],
    d[b])`) would silently lose the other's part when one is zero."""
    offending = []
    for mode in (rules.ADJOINT, rules.TANGENT):
        for key, template in rules.registered(mode).items():
            if not template.func.__module__.startswith("srcad.templates"):
                continue                    # (rules that tests register, malformed ones too)
            for node in ast.walk(ast.Module(body=template.body, type_ignores=[])):
                if isinstance(node, ast.Call) and sum(
                        bool(_derivatives_in(a)) for a in node.args
                        + [k.value for k in node.keywords]) > 1:
                    offending.append((rules.key_name(key), mode))
    assert offending == []


def appended(x, y):
    return np.sum(np.sin(np.append(x, 2.0 * y)) * np.append(y, x))


def test_append_in_both_modes_when_one_operand_is_constant():
    x, y = np.array([0.3, -0.2]), np.array([[0.5, 0.1], [0.7, -0.4]])
    for wrt in (0, 1, (0, 1)):
        grads = srcad.grad(appended, wrt=wrt)(x, y)
        grads = grads if isinstance(wrt, tuple) else (grads,)
        for g, i in zip(grads, wrt if isinstance(wrt, tuple) else (wrt,)):
            args = [x, y]

            def along(v, i=i, args=args):
                moved = list(args)
                moved[i] = v.reshape(args[i].shape)
                return appended(*moved)
            expected = numeric(along, args[i].ravel()).reshape(args[i].shape)
            np.testing.assert_allclose(g, expected, rtol=1e-6, atol=1e-9)
            tangent = np.ones_like(args[i])
            jvp = srcad.jvp(appended, wrt=i)(x, y, tangent)[1]
            assert jvp == pytest.approx(np.sum(expected * tangent), rel=1e-6)


def svd_of(x):
    u, s, vt = np.linalg.svd(x)
    return np.sum(u) + np.sum(s)


def mismatched(x):
    return np.sum(x @ np.ones((5, 2)))


def test_a_rule_that_fails_at_run_time_is_an_error_at_the_users_line():
    x = np.random.default_rng(8).standard_normal((3, 4))   # SVD's full U of a wide matrix
    line = svd_of.__code__.co_firstlineno + 1
    calls = [lambda: srcad.grad(svd_of)(x), lambda: srcad.vjp(svd_of)(x)[1](1.0),
             lambda: srcad.jvp(svd_of)(x, np.ones_like(x))]
    for call in calls:
        with pytest.raises(srcad.RuleFailedError, match="derivative of this line failed") as error:
            call()
        assert error.value.location.lineno == line
        assert "np.linalg.svd(x)" in str(error.value)


def test_the_users_own_error_stays_as_it_is():
    for derivative in (srcad.grad(mismatched), srcad.jvp(mismatched)):
        with pytest.raises(ValueError, match="matmul") as error:
            derivative(np.ones((3, 4))) if derivative.kind == "grad" else derivative(
                np.ones((3, 4)), np.ones((3, 4)))
        assert not isinstance(error.value, srcad.SrcadError)


def rotated(x, k):
    return np.sum(np.sin(np.rot90(x, k)) * np.arange(12.0).reshape(np.rot90(x, k).shape))


@pytest.mark.parametrize("k", [1, 2, 3, -1, 5, 0.5, 2.5, 1.0])
def test_rot90_undoes_the_turns_numpy_makes_for_any_k(k):
    x = np.random.default_rng(9).standard_normal((3, 4))
    expected = numeric(lambda v: rotated(v.reshape(3, 4), k), x.ravel()).reshape(3, 4)
    np.testing.assert_allclose(srcad.grad(rotated)(x, k), expected, rtol=1e-6, atol=1e-8)
    tangent = srcad.jvp(rotated)(x, k, np.ones_like(x))[1]
    assert tangent == pytest.approx(expected.sum(), rel=1e-6)
