"""srcad transforms only the user's own code: a call into a library function without a rule is
an error at the user's line naming the function, and `srcad.transform_library` opts in to
transforming a library's Python code."""

import colorsys

import numpy as np
import pytest

import srcad
from srcad import libraries
from srcad.testing import check_grads


def yiq_mix(r, g):
    y, i, q = colorsys.rgb_to_yiq(r, g, 0.5)
    return y * i + q


def yiq_gradient(r, g):
    """y, i, q are linear in (r, g, b): their gradients are their values at unit colours."""
    y, i, q = colorsys.rgb_to_yiq(r, g, 0.5)
    grads = np.array([colorsys.rgb_to_yiq(1.0, 0.0, 0.0), colorsys.rgb_to_yiq(0.0, 1.0, 0.0)])
    dy, di, dq = grads.T
    return i * dy + y * di + dq


@pytest.fixture
def transformed(monkeypatch):
    monkeypatch.setattr(libraries, "_TRANSFORMED", set())
    yield
    srcad.rules.changed()              # code generated with the opt-in is made again


@pytest.mark.parametrize("mode", ["grad", "jvp"])
def test_a_library_function_without_a_rule_is_reported_at_the_call(mode, transformed):
    derivative = srcad.grad(yiq_mix) if mode == "grad" else srcad.jvp(yiq_mix, wrt=0)
    args = (0.3, 0.2) if mode == "grad" else (0.3, 0.2, 1.0)
    with pytest.raises(srcad.MissingRuleError) as info:
        derivative(*args)
    message = str(info.value)
    register = "register_adjoint" if mode == "grad" else "register_tangent"
    assert message.startswith("no rule for colorsys.rgb_to_yiq, called here")
    assert f"@srcad.{register}(colorsys.rgb_to_yiq)" in message
    assert "srcad.transform_library('colorsys')" in message
    assert info.value.location.filename == __file__
    assert info.value.location.text.strip() == "y, i, q = colorsys.rgb_to_yiq(r, g, 0.5)"


def test_transform_library_opts_in(transformed):
    srcad.transform_library("colorsys")
    np.testing.assert_allclose(srcad.grad(yiq_mix, wrt=(0, 1))(0.3, 0.2),
                               yiq_gradient(0.3, 0.2), rtol=1e-12)
    check_grads(yiq_mix, (0.3, 0.2), rtol=1e-6)


def test_transform_library_takes_top_level_names():
    with pytest.raises(TypeError, match="top-level"):
        srcad.transform_library("scipy.special")


def test_what_is_library_code():
    assert libraries.is_library_function(colorsys.rgb_to_yiq)      # the standard library
    assert libraries.is_library_function(pytest.raises)             # site-packages
    assert not libraries.is_library_function(yiq_mix)               # the user's file
    assert not libraries.is_library_function(srcad.nn.Linear.forward)   # srcad's own models
