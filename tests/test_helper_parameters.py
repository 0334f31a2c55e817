"""Deny by default inside rules, srcad's own run-time helpers included (issue 12): a
differentiated value given for a parameter that no rule of the primitive covers is an error at
the user's line, unless the parameter is declared to carry no derivative on purpose
(`rules.without_derivative`, next to the helper's rules: shapes, settings, masks).

Checked: every registered helper's parameters are covered or declared, and every declaration
names a real parameter; a test-only helper whose rule leaves a value parameter uncovered is an
error in both modes, the same helper with that parameter declared (only its shape is read) is
differentiated right; the value parameters that had no rule (`power_slope`'s `scale`,
`std_divisor`'s `count`) now have one, checked against central differences and the analytic
derivative.
"""

import inspect

import numpy as np
import pytest

import srcad
from srcad import rules
from srcad.primitive import _covered
from srcad.runtime_exact import power_slope, std_divisor

X = np.array([0.7, -1.2, 1.9])


def _templates():
    """(mode, key, template) of every registered rule."""
    for mode in (rules.ADJOINT, rules.TANGENT):
        for key, template in rules.registered(mode).items():
            yield mode, key, template


def test_every_helper_parameter_is_covered_by_its_rule_or_declared():
    """Over srcad's bundled rules of its own helpers (this module's test-only `scaled` is the
    one registered helper that fails it)."""
    missing = []
    for mode, key, template in _templates():
        if not ((getattr(key, "__module__", None) or "").startswith("srcad.")
                and template.func.__module__.startswith("srcad.templates")):
            continue
        declared = rules.parameters_without_derivative(key)
        for param in list(template.signature.parameters)[1:]:
            if param not in _covered(template) and param not in declared:
                missing.append(f"{mode} {rules.key_name(key)}: {param}")
    assert not missing, missing


def test_every_declaration_names_a_parameter_of_the_rules():
    rules.load()
    assert len(rules._WITHOUT) > 40
    for key, params in rules._WITHOUT.items():
        templates = [t for _, k, t in _templates() if k is key]
        assert templates, rules.key_name(key)
        for template in templates:
            names = set(list(template.signature.parameters)[1:])
            assert params <= names, (rules.key_name(key), params - names)
            assert not params & _covered(template), (rules.key_name(key), template.mode)


# ---- a test-only helper, made to look like srcad's own ------------------------------------


def scaled(g, w):
    """g * w: linear in both; its rules below cover `g` only."""
    return g * w


def reshaped_like(g, w):
    """`g` in the shape of `w`: only `w`'s shape is read."""
    return np.reshape(g, np.shape(w))


for _helper in (scaled, reshaped_like):
    _helper.__module__ = "srcad.runtime"


@srcad.register_adjoint(scaled)
def _scaled_adjoint(out, g, w):
    srcad.d[g] += srcad.d[out] * w


@srcad.register_tangent(scaled)
def _scaled_tangent(out, g, w):
    srcad.d[out] = srcad.d[g] * w


@srcad.register_adjoint(reshaped_like)
def _reshaped_adjoint(out, g, w):
    srcad.d[g] += np.reshape(srcad.d[out], np.shape(g))


@srcad.register_tangent(reshaped_like)
def _reshaped_tangent(out, g, w):
    srcad.d[out] = np.reshape(srcad.d[g], np.shape(w))


rules.without_derivative(reshaped_like, "w")


def uses_scaled(x):
    return np.sum(np.sin(scaled(x, x * x)))  # <- denied


def uses_scaled_with_a_constant(x):
    return np.sum(np.sin(scaled(x, X)))


def uses_reshaped(x):
    return np.sum(np.sin(reshaped_like(x, x[::-1]) * x))


def _line(f, mark="# <- denied"):
    lines, start = inspect.getsourcelines(f)
    return start + next(i for i, text in enumerate(lines) if mark in text)


def _fd(f, x, h=1e-6):
    return np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(x.size)])


@pytest.mark.parametrize("mode", ["grad", "jvp", "vjp"])
def test_a_derivative_reaching_an_undeclared_helper_parameter_is_an_error(mode):
    make = {"grad": srcad.grad, "jvp": srcad.jvp, "vjp": srcad.vjp}[mode]
    args = (X, np.ones(3)) if mode == "jvp" else (X,)
    with pytest.raises(srcad.MissingRuleError, match="argument `w`") as info:
        make(uses_scaled)(*args)
    assert info.value.location.filename == __file__
    assert info.value.location.lineno == _line(uses_scaled)


def test_the_helper_with_a_constant_there_is_differentiated():
    expected = np.cos(X * X) * X
    got = srcad.grad(uses_scaled_with_a_constant)(X)
    np.testing.assert_allclose(got, expected, rtol=1e-10)
    np.testing.assert_allclose(got, _fd(uses_scaled_with_a_constant, X), rtol=1e-6)


def test_a_declared_shape_parameter_carries_no_derivative_and_the_result_is_right():
    u = X * X
    expected = np.cos(u) * 2 * X                    # d/dx sin(x * x), w read for its shape
    for got in (srcad.grad(uses_reshaped)(X),
                np.array([srcad.jvp(uses_reshaped)(X, e)[1] for e in np.eye(3)])):
        np.testing.assert_allclose(got, expected, rtol=1e-10)
        np.testing.assert_allclose(got, _fd(uses_reshaped, X), rtol=1e-6)


# ---- value parameters of srcad's helpers that now have rules -------------------------------


def slope_in_scale(s):
    return np.sum(np.sin(power_slope(X + 2.0, 3.0, s)))


def divisor_in_count(c):
    return np.sum(np.sin(std_divisor(X + 2.0, np.ones((2, 3)), c)))


def divisor_of_one_element(c):
    return np.sum(np.sin(std_divisor(X + 2.0, np.ones(3), c)))


@pytest.mark.parametrize("f, analytic", [
    (slope_in_scale, lambda s: np.sum(np.cos(s * 3.0 * (X + 2) ** 2) * 3.0 * (X + 2) ** 2)),
    (divisor_in_count, lambda c: np.sum(np.cos((X + 2) * c) * (X + 2))),
    (divisor_of_one_element, lambda c: 0.0),
])
def test_helper_value_parameters_are_differentiated(f, analytic):
    c = 0.8
    fd = (f(c + 1e-6) - f(c - 1e-6)) / 2e-6
    for got in (srcad.grad(f)(c), srcad.jvp(f)(c, 1.0)[1], srcad.vjp(f)(c)[1](1.0)):
        assert got == pytest.approx(analytic(c), rel=1e-10, abs=1e-12)
        assert got == pytest.approx(fd, rel=1e-6, abs=1e-8)
